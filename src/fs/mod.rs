//! File systems: the seam between the static-file server (and uploads, `mg_file_*`) and
//! wherever files live: the OS (`sys`'s POSIX implementation, Mongoose's `mg_fs_posix`), a
//! web root packed into flash (Mongoose's `mg_fs_packed`), or a file system the firmware
//! supplies (LittleFS, FatFS, ... through `struct mg_fs`, adapted in `ffi`).
//!
//! The trait is Mongoose's `struct mg_fs` in Rust terms: paths are bytes (no `std::path`),
//! a file closes when dropped, and errors are [`Error`] values instead of zero returns.
//! Implementations need not be thread-safe: a file system is used from the manager's thread.
#![forbid(unsafe_code)]

#[cfg(feature = "dirlist")]
pub mod listing;
pub mod packed;

use crate::prelude::*;
use crate::Error;

/// Mongoose's `MG_FS_READ`: open for reading.
pub const FS_READ: u32 = 1;
/// Mongoose's `MG_FS_WRITE`: open for writing (create or truncate).
pub const FS_WRITE: u32 = 2;
/// Mongoose's `MG_FS_DIR`: in a stat result, the path is a directory.
pub const FS_DIR: u32 = 4;
/// With [`FS_READ`]: do not follow a final symbolic link (the static server opens paths it
/// already resolved; a link appearing there was put in after the check). A hint: file
/// systems without links ignore it.
pub const FS_NOFOLLOW: u32 = 8;

/// What [`Fs::stat`] reports of a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Size in bytes (0 for a directory).
    pub size: u64,
    /// Modification time, seconds since the Unix epoch (negative before it; 0 when unknown).
    pub mtime: i64,
    /// The sub-second part of the modification time, in nanoseconds (0 when unknown). With
    /// `size` and `mtime` it makes the static server's ETag.
    pub mtime_nanos: u32,
    /// The path is a directory.
    pub dir: bool,
    /// The path is a regular file (not a directory, FIFO, device...): the only kind the
    /// static server sends.
    pub regular: bool,
    /// The file's identity where the file system has one (POSIX: device and inode), else 0:
    /// tells a directory replaced by another apart from the same one.
    pub id: u64,
}

/// An open file. Closing is dropping.
pub trait File {
    /// Reads up to `buf.len()` bytes; `Ok(0)` at end of file.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error>;
    /// Writes up to `buf.len()` bytes; returns how many were written.
    fn write(&mut self, _buf: &[u8]) -> Result<usize, Error> {
        Err(Error::Unsupported)
    }
    /// Moves the file position to `offset` bytes from the start.
    fn seek(&mut self, offset: u64) -> Result<(), Error>;
    /// The OS descriptor behind the file, where there is one: lets the server use
    /// `sendfile(2)` instead of copying through a buffer.
    fn raw_fd(&self) -> Option<i32> {
        None
    }
    /// What the open file is (`fstat`): the static server takes size and time from the file
    /// it opened, so a file replaced between a path check and the open cannot mislead it.
    /// `None` (the default): the server asks [`Fs::stat`] for the path instead.
    fn stat(&self) -> Option<Stat> {
        None
    }
}

/// The loops over [`File::read`] and [`File::write`]: on `dyn File`, not in the trait, so
/// that they are one function each rather than a copy per kind of file in every file's
/// vtable (seven copies, 700 bytes of a static server's code).
impl dyn File + '_ {
    /// Reads until `buf` is full, the file ends or a read fails: how many bytes were read.
    pub fn read_full(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match self.read(&mut buf[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        n
    }
    /// Writes `buf` until all of it is written, the file takes no more or a write fails: how
    /// many bytes were written.
    pub fn write_all(&mut self, buf: &[u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match self.write(&buf[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        n
    }
}

/// `v` in decimal, with leading zeros to at least `width` digits (at most 20), appended to
/// `out` ([`crate::util::str::digits`]): the static server's numbers (lengths, ranges) and
/// the listing's. No `format!`: core's formatting machinery for a padded number was ~600
/// bytes of a static server's code over the listing's nine calls.
pub(crate) fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [0; 20];
    let d = crate::util::str::digits(v, 10, &mut buf);
    out.resize(out.len() + width.min(20).saturating_sub(d.len()), b'0');
    out.extend_from_slice(d.as_bytes());
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (negative: before):
/// (year, month 1..=12, day 1..=31); years are counted from March inside (leap day last).
/// One copy for the two calendars a static server shows: HTTP dates (`serve::date`, whose
/// `days_from_civil` is the inverse) and the directory listing's.
#[cfg(any(feature = "dirlist", feature = "http-dates"))]
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A file system (Mongoose's `struct mg_fs`).
pub trait Fs {
    /// Size, modification time and kind of `path`; `None` if it does not exist.
    fn stat(&self, path: &[u8]) -> Option<Stat>;
    /// Calls `f` with the name (not the path) of each entry of directory `dir`, without
    /// `.` and `..`, in no particular order.
    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8]));
    /// Opens `path` with [`FS_READ`] or [`FS_WRITE`]. A file the platform refuses to open
    /// for lack of permission is `Err(Error::Unsupported)` (the static server answers 403);
    /// any other failure `Err(Error::Io)` or another error (404).
    fn open(&self, path: &[u8], flags: u32) -> Result<Box<dyn File>, Error>;
    /// Renames `from` to `to`.
    fn rename(&self, _from: &[u8], _to: &[u8]) -> Result<(), Error> {
        Err(Error::Unsupported)
    }
    /// Deletes the file `path`.
    fn remove(&self, _path: &[u8]) -> Result<(), Error> {
        Err(Error::Unsupported)
    }
    /// Creates directory `path`.
    fn mkdir(&self, _path: &[u8]) -> Result<(), Error> {
        Err(Error::Unsupported)
    }
    /// The canonical form of `path` with every symbolic link resolved, for file systems that
    /// have links (POSIX `realpath`): the server uses it to keep a request inside its root.
    /// `None` (the default) means the file system has no links, so the lexical check of the
    /// request path (no `..` segment) already keeps it inside.
    fn canonical(&self, _path: &[u8]) -> Option<Vec<u8>> {
        None
    }
    /// Does this file system have symbolic links (so paths must go through
    /// [`Fs::canonical`], whose `None` then means "does not resolve")? Default: no.
    fn has_links(&self) -> bool {
        false
    }
    /// Opens `root/rel` for reading in one step that also confines it, where the platform
    /// can have that proven by the OS: `root` is a canonical directory path (no link in it,
    /// no `.` or `..`), `rel` a normalized relative path below it (plain names joined by
    /// single `/`s; empty for `root` itself). [`Beneath::Opened`] only when no component of
    /// `root` or `rel` is a symbolic link, so that `root/rel` is the path's canonical form
    /// (what [`Fs::canonical`] would return) and lies under `root`. The default, for file
    /// systems that cannot tell: [`Beneath::Unknown`] (the caller confines with
    /// [`Fs::canonical`]).
    fn open_beneath(&self, _root: &[u8], _rel: &[u8]) -> Beneath {
        Beneath::Unknown
    }
}

/// What [`Fs::open_beneath`] found.
pub enum Beneath {
    /// `root/rel` is open, with what it is (a directory opens too; the file system opened it
    /// as [`Fs::open`] does with [`FS_READ`]). It is its own canonical path, so it lies under
    /// `root`.
    Opened(Box<dyn File>, Stat),
    /// `root/rel` does not exist: a component is missing, or is not a directory where one is
    /// needed, and no link came before it (so [`Fs::canonical`] would not resolve it either).
    Absent,
    /// Not decided here: the file system cannot open this way, a component is a symbolic
    /// link, access was refused, or any other error. The caller confines with
    /// [`Fs::canonical`] as if this had not been asked.
    Unknown,
}

/// A file in memory: a cursor over bytes, owned (`Vec<u8>`: a directory listing or an SSI
/// page built for one reply, handed to code that sends files so that a body larger than a
/// connection's send buffer goes out as the socket takes it) or static (a packed file).
pub struct Memory<B: AsRef<[u8]> = Vec<u8>> {
    data: B,
    pos: usize,
}

impl<B: AsRef<[u8]>> Memory<B> {
    pub fn new(data: B) -> Memory<B> {
        Memory { data, pos: 0 }
    }
}

impl<B: AsRef<[u8]>> File for Memory<B> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        Ok(read_at(self.data.as_ref(), &mut self.pos, buf))
    }

    fn seek(&mut self, offset: u64) -> Result<(), Error> {
        self.pos = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.as_ref().len());
        Ok(())
    }
}

/// [`Memory::read`] for every `B`: one copy of the code, not one per kind of buffer.
#[inline(never)]
fn read_at(data: &[u8], pos: &mut usize, buf: &mut [u8]) -> usize {
    let rest = data.get(*pos..).unwrap_or_default();
    let n = rest.len().min(buf.len());
    if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
        d.copy_from_slice(s);
    }
    *pos += n;
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_in_pieces_and_seeks() {
        let data = b"0123456789";
        let files: [Box<dyn File>; 2] = [Box::new(Memory::new(data.to_vec())), Box::new(Memory::new(&data[..]))];
        for mut f in files {
            let mut buf = [0u8; 4];
            assert_eq!(f.read(&mut buf), Ok(4));
            assert_eq!(&buf, b"0123");
            assert_eq!(f.read(&mut buf), Ok(4));
            assert_eq!(&buf, b"4567");
            assert_eq!(f.read(&mut buf), Ok(2));
            assert_eq!(&buf[..2], b"89");
            assert_eq!(f.read(&mut buf), Ok(0), "end of file");
            f.seek(7).unwrap();
            let mut all = [0u8; 16];
            assert_eq!(f.read_full(&mut all), 3);
            assert_eq!(&all[..3], b"789");
            f.seek(u64::MAX).unwrap();
            assert_eq!(f.read(&mut buf), Ok(0), "past the end");
            f.seek(0).unwrap();
            assert_eq!(f.read(&mut []), Ok(0));
            assert_eq!(f.read_full(&mut all), 10);
            assert_eq!(&all[..10], data);
        }
    }
}
