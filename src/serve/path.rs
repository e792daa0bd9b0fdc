//! From a request-target to a file system path that cannot leave the web root.
//!
//! Two layers, both needed:
//! 1. Syntax ([`decode`]): the path is URL-decoded first, then split on `/`. After decoding,
//!    a NUL byte, a backslash or a `..` segment rejects the request (so `%2e%2e`, `..%2f` and
//!    `%5c` are refused like their plain forms); empty and `.` segments are dropped.
//! 2. File system ([`confine`]): the joined path is canonicalized (symlinks resolved) and
//!    must stay under the canonicalized root, so a symlink inside the root that points
//!    outside it is refused as if the file did not exist.
//!
//! Web roots ([`parse_roots`]) follow Mongoose's `root_dir` syntax: a comma-separated list of
//! `dir` (served at `/`) and `/prefix=dir` entries.

use crate::fs::{Fs, Stat};
use crate::prelude::*;
use alloc::borrow::Cow;

/// The request-target's path could not be turned into a safe relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPath;

/// A decoded, normalized request path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UriPath {
    /// Non-empty segments, none of them `.` or `..`, none containing `/`, `\` or NUL.
    pub segments: Vec<Vec<u8>>,
    /// The decoded path ended with `/` (always true for `/`).
    pub trailing_slash: bool,
}

/// Decode and normalize the path of a request-target (origin-form `/a/b`, or absolute-form
/// `http://host/a/b`, whose authority is skipped). See the module docs for what is refused.
pub fn decode(raw: &[u8]) -> Result<UriPath, BadPath> {
    let path = if raw.first() == Some(&b'/') {
        raw
    } else {
        // absolute-form: scheme "://" authority path
        let i = crate::util::str::find(raw, b"://").ok_or(BadPath)?;
        let rest = &raw[i + 3..];
        match rest.iter().position(|&c| c == b'/') {
            Some(j) => &rest[j..],
            None => b"/",
        }
    };
    // Without a `%` the path decodes to itself: no copy.
    let decoded: Cow<'_, [u8]> = if memchr::memchr(b'%', path).is_none() {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(crate::http::url_decode_vec(path, false).ok_or(BadPath)?)
    };
    if decoded.iter().any(|&c| c == 0 || c == b'\\') {
        return Err(BadPath);
    }
    let mut segments = Vec::with_capacity(decoded.iter().filter(|&&c| c == b'/').count());
    for seg in decoded.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => return Err(BadPath),
            s => segments.push(s.to_vec()),
        }
    }
    Ok(UriPath {
        segments,
        trailing_slash: decoded.ends_with(b"/"),
    })
}

/// One entry of `root_dir`: URI prefix (as segments; empty for `/`) and directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub prefix: Vec<Vec<u8>>,
    pub dir: Vec<u8>,
}

/// Parse Mongoose's `root_dir`: comma-separated `dir` or `/prefix=dir` entries. Entries with
/// an empty directory, or a prefix that does not start with `/` or contains a `..` or `.`
/// segment, are skipped. Prefixes are compared literally (not URL-decoded).
pub fn parse_roots(spec: &[u8]) -> Vec<Mount> {
    let mut out = Vec::new();
    for entry in spec.split(|&c| c == b',') {
        let (prefix, dir) = match entry.iter().position(|&c| c == b'=') {
            Some(eq) => (&entry[..eq], &entry[eq + 1..]),
            None => (&b"/"[..], entry),
        };
        if dir.is_empty() || prefix.first() != Some(&b'/') {
            continue;
        }
        let segs: Vec<&[u8]> = prefix.split(|&c| c == b'/').filter(|s| !s.is_empty()).collect();
        if segs.iter().any(|s| *s == b"." || *s == b"..") {
            continue;
        }
        out.push(Mount {
            prefix: segs.into_iter().map(<[u8]>::to_vec).collect(),
            dir: dir.to_vec(),
        });
    }
    out
}

/// The mount serving `p`: the one with the longest prefix (whole segments) that `p` starts
/// with; among equal prefixes the last one listed. Returns it and the remaining segments.
pub fn select<'m, 'p>(mounts: &'m [Mount], p: &'p UriPath) -> Option<(&'m Mount, &'p [Vec<u8>])> {
    let mut best: Option<&Mount> = None;
    for m in mounts {
        if p.segments.starts_with(&m.prefix) && best.is_none_or(|b| m.prefix.len() >= b.prefix.len()) {
            best = Some(m);
        }
    }
    best.map(|m| (m, &p.segments[m.prefix.len()..]))
}

/// `dir` joined with `rest` by `/` (the segments are plain names: no `/`, `.` or `..`).
pub fn join(dir: &[u8], rest: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(dir.len() + rest.iter().map(|s| s.len() + 1).sum::<usize>() + 12);
    v.extend_from_slice(dir);
    for s in rest {
        if v.last().is_some_and(|&c| c != b'/') {
            v.push(b'/');
        }
        v.extend_from_slice(s);
    }
    v
}

/// Why a path is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Absent, not a directory where one was needed, or outside the root: 404.
    NotFound,
    /// The OS refused access: 403.
    Forbidden,
}

/// Is `p` `root` or below it (whole components)?
pub fn under(p: &[u8], root: &[u8]) -> bool {
    p.starts_with(root) && (p.len() == root.len() || root.ends_with(b"/") || p[root.len()] == b'/')
}

/// The form of `p` to open, checked to lie under `root` (canonical): on a file system with
/// links, `p` with every link resolved (one [`Fs::canonical`]), which must stay under
/// `root`; a path that escapes (through a symlink) is [`Miss::NotFound`], like one that does
/// not exist. On a file system without links, `p` itself (the request path was already
/// checked lexically: no `..`).
pub fn confine<'p>(fs: &dyn Fs, p: &'p [u8], root: &[u8]) -> Result<Cow<'p, [u8]>, Miss> {
    if !fs.has_links() {
        return if under(p, root) {
            Ok(Cow::Borrowed(p))
        } else {
            Err(Miss::NotFound)
        };
    }
    let c = fs.canonical(p).ok_or(Miss::NotFound)?;
    if under(&c, root) {
        Ok(if c == p { Cow::Borrowed(p) } else { Cow::Owned(c) })
    } else {
        crate::log::emit(
            crate::log::LL_DEBUG,
            format_args!("serve: {} resolves outside the web root", p.escape_ascii()),
        );
        Err(Miss::NotFound)
    }
}

/// [`confine`] plus what the path is.
pub fn confine_stat<'p>(fs: &dyn Fs, p: &'p [u8], root: &[u8]) -> Result<(Cow<'p, [u8]>, Stat), Miss> {
    let c = confine(fs, p, root)?;
    let st = fs.stat(&c).ok_or(Miss::NotFound)?;
    Ok((c, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &UriPath) -> Vec<&str> {
        p.segments.iter().map(|s| core::str::from_utf8(s).unwrap()).collect()
    }

    #[test]
    fn decodes_and_normalizes() {
        let p = decode(b"/a/b%20c//./d.txt").unwrap();
        assert_eq!(segs(&p), ["a", "b c", "d.txt"]);
        assert!(!p.trailing_slash);
        let p = decode(b"/").unwrap();
        assert!(p.segments.is_empty() && p.trailing_slash);
        let p = decode(b"/dir/").unwrap();
        assert_eq!(segs(&p), ["dir"]);
        assert!(p.trailing_slash);
        // '+' is a plain character in a path.
        assert_eq!(segs(&decode(b"/a+b").unwrap()), ["a+b"]);
        // Double encoding stays literal.
        assert_eq!(segs(&decode(b"/%252e%252e/x").unwrap()), ["%2e%2e", "x"]);
        let p = decode(b"http://example.com/x/y").unwrap();
        assert_eq!(segs(&p), ["x", "y"]);
        assert_eq!(decode(b"http://example.com").unwrap(), decode(b"/").unwrap());
    }

    #[test]
    fn refuses_traversal_and_bad_bytes() {
        for raw in [
            &b"/../secret"[..],
            b"/%2e%2e/secret",
            b"/%2E%2E/secret",
            b"/..%2fsecret",
            b"/..%2Fsecret",
            b"/a/../../secret",
            b"/a/..",
            b"/.%2e/x",
            b"/%00",
            b"/a%00.html",
            b"/..\\secret",
            b"/a%5c..%5csecret",
            b"/%zz",
            b"/%2",
            b"*",
            b"",
            b"secret",
        ] {
            assert_eq!(decode(raw), Err(BadPath), "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn roots_and_selection() {
        let m = parse_roots(b"/srv/www,/static/=/srv/static,/api=/srv/api,bogus=/x,/empty=,/a/../b=/y");
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].prefix, Vec::<Vec<u8>>::new());
        assert_eq!(m[0].dir, b"/srv/www");
        assert_eq!(m[1].prefix, vec![b"static".to_vec()]);
        assert_eq!(m[1].dir, b"/srv/static");

        let p = decode(b"/static/css/x.css").unwrap();
        let (mnt, rest) = select(&m, &p).unwrap();
        assert_eq!(mnt.dir, b"/srv/static");
        assert_eq!(rest, &[b"css".to_vec(), b"x.css".to_vec()]);

        // Prefixes match whole segments only.
        let p = decode(b"/staticky/x").unwrap();
        assert_eq!(select(&m, &p).unwrap().0.dir, b"/srv/www");
        // The prefix itself maps to the mounted directory.
        let p = decode(b"/api").unwrap();
        let (mnt, rest) = select(&m, &p).unwrap();
        assert_eq!((mnt.dir.as_slice(), rest.len()), (&b"/srv/api"[..], 0));

        // Without a "/" entry, unmatched paths have no mount.
        let only = parse_roots(b"/x=/srv/x");
        assert!(select(&only, &decode(b"/y").unwrap()).is_none());
        // Equal prefixes: the last one wins.
        let dup = parse_roots(b"/a,/b");
        assert_eq!(select(&dup, &decode(b"/f").unwrap()).unwrap().0.dir, b"/b");
    }

    #[test]
    fn confine_refuses_symlinks_out_of_root() {
        use std::fs;
        let fs_ = crate::sys::PosixFs;
        let base = std::env::temp_dir().join(format!("meerkat-serve-path-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(base.join("root/sub")).unwrap();
        fs::write(base.join("root/sub/f.txt"), b"in").unwrap();
        fs::write(base.join("secret"), b"out").unwrap();
        let b = |p: std::path::PathBuf| p.into_os_string().into_encoded_bytes();
        let root = b(fs::canonicalize(base.join("root")).unwrap());
        let at = |rel: &str| {
            let mut v = root.clone();
            v.push(b'/');
            v.extend_from_slice(rel.as_bytes());
            v
        };
        assert!(confine(&fs_, &at("sub/f.txt"), &root).is_ok());
        assert_eq!(confine(&fs_, &at("nope"), &root), Err(Miss::NotFound));
        std::os::unix::fs::symlink(base.join("secret"), base.join("root/out")).unwrap();
        std::os::unix::fs::symlink(base.join("root/sub/f.txt"), base.join("root/in")).unwrap();
        assert_eq!(confine(&fs_, &at("out"), &root), Err(Miss::NotFound));
        assert_eq!(confine_stat(&fs_, &at("out"), &root).err(), Some(Miss::NotFound));
        assert_eq!(
            &*confine_stat(&fs_, &at("in"), &root).unwrap().0,
            &at("sub/f.txt")[..],
            "symlinks within the root are followed"
        );
        assert!(confine_stat(&fs_, &at("sub/f.txt"), &root).unwrap().1.regular);
        assert_eq!(confine_stat(&fs_, &at("sub/nope"), &root).err(), Some(Miss::NotFound));
        assert_eq!(
            confine_stat(&fs_, &at("sub/f.txt/x"), &root).err(),
            Some(Miss::NotFound)
        );
        // A sibling directory whose name starts with the root's is not under it.
        assert!(!under(b"/srv/www2/x", b"/srv/www"));
        assert!(under(b"/srv/www/x", b"/srv/www"));
        assert!(under(b"/x", b"/"));
        let _ = fs::remove_dir_all(&base);
    }
}
