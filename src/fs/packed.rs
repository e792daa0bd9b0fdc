//! A read-only file system over files compiled into the program (Mongoose's `mg_fs_packed`):
//! a table of (path, bytes, modification time), as `scripts/pack.py` generates it from a web
//! root. Directories are implied by the paths: `/web/css/a.css` makes `/web` and `/web/css`
//! directories.
//!
//! Gzip: the pack tool can store `name.gz` (gzip-compressed) instead of `name`; the table then
//! has the `.gz` path, and [`Packed::stat`] and [`Packed::open`] see only that path. A server
//! that honours `Accept-Encoding: gzip` looks up `path.gz` when `path` is missing, as
//! Mongoose's does, and sends it with `Content-Encoding: gzip`.

use super::{File, Fs, Stat, FS_WRITE};
use crate::prelude::*;
use crate::Error;

/// One packed file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its absolute path, such as `/web_root/index.html`.
    pub path: &'static [u8],
    /// Its contents.
    pub data: &'static [u8],
    /// Modification time, seconds since the Unix epoch (0 when unknown).
    pub mtime: u64,
}

/// Where the entries come from: a Rust slice, or (in `ffi`) the C table `mg_mem_files`.
pub trait Table {
    /// The `i`-th entry, or `None` past the last.
    fn entry(&self, i: usize) -> Option<Entry>;
}

impl Table for [Entry] {
    fn entry(&self, i: usize) -> Option<Entry> {
        self.get(i).copied()
    }
}

impl Table for &'static [Entry] {
    fn entry(&self, i: usize) -> Option<Entry> {
        self.get(i).copied()
    }
}

/// The packed file system over a [`Table`].
pub struct Packed<T: Table> {
    table: T,
}

/// Whether `dir` is a directory prefix of `path`: `path` continues after `dir` with `/` (or
/// `dir` is empty or ends with `/`), and is longer.
fn under<'a>(dir: &[u8], path: &'a [u8]) -> Option<&'a [u8]> {
    let rest = path.strip_prefix(dir)?;
    if dir.is_empty() || dir.ends_with(b"/") {
        return (!rest.is_empty()).then_some(rest);
    }
    let rest = rest.strip_prefix(b"/")?;
    (!rest.is_empty()).then_some(rest)
}

impl<T: Table> Packed<T> {
    /// The file system over `table`.
    pub const fn new(table: T) -> Self {
        Packed { table }
    }

    fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        (0..).map_while(|i| self.table.entry(i))
    }

    /// The contents of the file at `path` (Mongoose's `mg_unpacked`).
    pub fn find(&self, path: &[u8]) -> Option<Entry> {
        self.entries().find(|e| e.path == path)
    }
}

impl<T: Table> Fs for Packed<T> {
    fn stat(&self, path: &[u8]) -> Option<Stat> {
        if let Some(e) = self.find(path) {
            return Some(Stat {
                size: e.data.len() as u64,
                mtime: i64::try_from(e.mtime).unwrap_or(i64::MAX),
                dir: false,
                regular: true,
                ..Stat::default()
            });
        }
        self.entries().any(|e| under(path, e.path).is_some()).then_some(Stat {
            dir: true,
            ..Stat::default()
        })
    }

    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8])) {
        // Each name once, whatever the order of the table.
        let mut seen: Vec<&'static [u8]> = Vec::new();
        for e in self.entries() {
            let Some(rest) = under(dir, e.path) else {
                continue;
            };
            let name = rest.split(|&b| b == b'/').next().unwrap_or(rest);
            if !name.is_empty() && !seen.contains(&name) {
                seen.push(name);
                f(name);
            }
        }
    }

    fn open(&self, path: &[u8], flags: u32) -> Result<Box<dyn File>, Error> {
        if flags & FS_WRITE != 0 {
            return Err(Error::Unsupported);
        }
        let e = self.find(path).ok_or(Error::Invalid)?;
        Ok(Box::new(super::Memory::new(e.data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILES: [Entry; 3] = [
        Entry {
            path: b"/web/index.html",
            data: b"<h1>hi</h1>",
            mtime: 1_700_000_000,
        },
        Entry {
            path: b"/web/css/a.css",
            data: b"a{}",
            mtime: 0,
        },
        Entry {
            path: b"/web/css/b.css.gz",
            data: b"\x1f\x8b",
            mtime: 0,
        },
    ];

    fn fs() -> Packed<&'static [Entry]> {
        Packed::new(&FILES[..])
    }

    #[test]
    fn stat_files_and_implied_directories() {
        let fs = fs();
        assert_eq!(
            fs.stat(b"/web/index.html"),
            Some(Stat {
                size: 11,
                mtime: 1_700_000_000,
                regular: true,
                ..Stat::default()
            })
        );
        assert!(fs.stat(b"/web").unwrap().dir);
        assert!(fs.stat(b"/web/css").unwrap().dir);
        assert!(fs.stat(b"/web/").unwrap().dir);
        assert_eq!(fs.stat(b"/we"), None);
        assert_eq!(fs.stat(b"/web/css/b.css"), None);
        assert!(fs.stat(b"/web/css/b.css.gz").is_some());
    }

    #[test]
    fn list_names_once() {
        let mut names = Vec::new();
        fs().list(b"/web", &mut |n| names.push(n.to_vec()));
        assert_eq!(names, [b"index.html".to_vec(), b"css".to_vec()]);
        names.clear();
        fs().list(b"/web/css", &mut |n| names.push(n.to_vec()));
        assert_eq!(names, [b"a.css".to_vec(), b"b.css.gz".to_vec()]);
    }

    #[test]
    fn read_seek_and_no_writes() {
        let fs = fs();
        let mut f = fs.open(b"/web/index.html", super::super::FS_READ).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(f.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"<h1>");
        f.seek(9).unwrap();
        assert_eq!(f.read(&mut buf).unwrap(), 2);
        assert_eq!(f.read(&mut buf).unwrap(), 0);
        f.seek(100).unwrap();
        assert_eq!(f.read(&mut buf).unwrap(), 0);
        assert!(fs.open(b"/web/index.html", FS_WRITE).is_err());
        assert!(fs.open(b"/web/nope", super::super::FS_READ).is_err());
    }
}
