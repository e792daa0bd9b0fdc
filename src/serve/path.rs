//! From a request-target to a file system path that cannot leave the web root.
//!
//! Two layers, both needed:
//! 1. Syntax ([`decode`]): the path is URL-decoded first, then split on `/`. After decoding,
//!    a NUL byte, a backslash or a `..` segment rejects the request (so `%2e%2e`, `..%2f` and
//!    `%5c` are refused like their plain forms); empty and `.` segments are dropped.
//! 2. File system ([`confine`]): the joined path is canonicalized (symlinks resolved) and
//!    must stay under the canonicalized root, so a symlink inside the root that points
//!    outside it is refused as if the file did not exist. Where the file system can have
//!    the OS open a path only if it has no link in it ([`Fs::open_beneath`]: `openat2` on
//!    Linux), [`confine_open`] does that first: the path is then its own canonical form,
//!    and is served from the file opened to prove it; paths with links are canonicalized.
//!
//! Web roots ([`select`]) follow Mongoose's `root_dir` syntax: a comma-separated list of
//! `dir` (served at `/`) and `/prefix=dir` entries.

use crate::fs::{Beneath, File, Fs, Stat};
use crate::prelude::*;
use alloc::borrow::Cow;

/// The request-target's path could not be turned into a safe relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPath;

/// A decoded, normalized request path, kept in one buffer: its segments joined by single
/// `/`s, with no leading or trailing `/` (empty for `/`). Borrowed from the request-target
/// when that is already in this form (no `%`, no empty or `.` segment), as most are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UriPath<'a> {
    /// Non-empty segments, none of them `.` or `..`, none containing `\` or NUL, separated
    /// by one `/`.
    pub path: Cow<'a, [u8]>,
    /// The decoded path ended with `/` (always true for `/`).
    pub trailing_slash: bool,
}

impl UriPath<'_> {
    /// The segments, in order (none for `/`).
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> {
        segments(&self.path)
    }
}

/// The segments of a normalized path (`a/b`; empty: none).
fn segments(p: &[u8]) -> impl Iterator<Item = &[u8]> {
    p.split(|&c| c == b'/').filter(|s| !s.is_empty())
}

/// `p` (decoded, starting with `/`) without its first and its last `/`.
fn inner(p: &[u8]) -> &[u8] {
    let p = p.strip_prefix(b"/").unwrap_or(p);
    p.strip_suffix(b"/").unwrap_or(p)
}

/// Check a path starting with `/`, in one pass: a NUL, a backslash or a `..` segment is
/// [`BadPath`]. `Ok(true)`: [`inner`] of the path is already normalized (no empty or `.`
/// segment in between, no `%`), the usual case. `Ok(false)`: it must be decoded and
/// [`compact`]ed; with `percent_plain` (a decoded path) a `%` is a byte like another,
/// otherwise the first `%` ends the pass (what comes after it is checked once decoded).
fn check(p: &[u8], percent_plain: bool) -> Result<bool, BadPath> {
    // The bytes that need a look, as bits of a mask (all are below 0x60).
    const SPECIAL: u128 = 1 << b'/' | 1 << b'%' | 1 << 0 | 1 << b'\\';
    let rest = inner(p);
    let mut normal = true;
    let mut start = 0;
    for (i, &c) in rest.iter().enumerate() {
        if c > b'\\' || SPECIAL & (1 << c) == 0 {
            continue;
        }
        match c {
            b'/' => {
                segment(rest.get(start..i).unwrap_or_default(), &mut normal)?;
                start = i + 1;
            }
            b'%' if percent_plain => {}
            b'%' => return Ok(false),
            _ => return Err(BadPath), // NUL, backslash
        }
    }
    if !rest.is_empty() {
        segment(rest.get(start..).unwrap_or_default(), &mut normal)?;
    }
    Ok(normal)
}

/// One segment for [`check`]: `..` is refused, an empty or `.` one makes the path not
/// normal.
fn segment(seg: &[u8], normal: &mut bool) -> Result<(), BadPath> {
    match seg {
        b".." => Err(BadPath),
        b"" | b"." => {
            *normal = false;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Normalize a [`check`]ed path in place: empty and `.` segments dropped, segments joined by
/// one `/`, no leading or trailing `/`.
fn compact(v: &mut Vec<u8>) {
    let n = v.len();
    let (mut r, mut w) = (0, 0);
    // Invariant: w <= r, and w < r once a segment was kept (a separator was read for it and
    // not written), so the `/` written at `w` never overwrites bytes not yet read.
    while r < n {
        let end = v
            .get(r..)
            .and_then(|s| s.iter().position(|&c| c == b'/'))
            .map_or(n, |j| r + j);
        let seg = end - r;
        if !(seg == 0 || (seg == 1 && v.get(r) == Some(&b'.'))) {
            if w > 0 {
                if let Some(c) = v.get_mut(w) {
                    *c = b'/';
                }
                w += 1;
            }
            v.copy_within(r..end, w);
            w += seg;
        }
        r = end + 1;
    }
    v.truncate(w);
}

/// Decode and normalize the path of a request-target (origin-form `/a/b`, or absolute-form
/// `http://host/a/b`, whose authority is skipped). See the module docs for what is refused.
/// One allocation at most, none for a path that needs no decoding or normalizing.
pub fn decode(raw: &[u8]) -> Result<UriPath<'_>, BadPath> {
    let path = if raw.first() == Some(&b'/') {
        raw
    } else {
        // absolute-form: scheme "://" authority path
        let i = crate::util::str::find(raw, b"://").ok_or(BadPath)?;
        let rest = raw.get(i + 3..).unwrap_or_default();
        match rest.iter().position(|&c| c == b'/') {
            Some(j) => rest.get(j..).unwrap_or(b"/"),
            None => b"/",
        }
    };
    // Without a `%` the path decodes to itself: no copy unless it needs normalizing.
    let trailing_slash = path.ends_with(b"/");
    if check(path, false)? {
        return Ok(UriPath {
            path: Cow::Borrowed(inner(path)),
            trailing_slash,
        });
    }
    // Decoded (a path without `%` decodes to a copy of itself), checked again, compacted.
    let mut v = crate::http::url_decode_vec(path, false).ok_or(BadPath)?;
    check(&v, true)?;
    let trailing_slash = v.ends_with(b"/");
    compact(&mut v);
    Ok(UriPath {
        path: Cow::Owned(v),
        trailing_slash,
    })
}

/// The entry of `root_dir` (Mongoose's syntax: comma-separated `dir` or `/prefix=dir`
/// entries; `dir` alone is served at `/`) that serves `p`: its directory and the rest of
/// `p` below its prefix. The entry whose prefix is the longest start of `p` (whole
/// segments) wins; among equal prefixes the last one listed (as Mongoose). Entries with an
/// empty directory or a prefix that does not start with `/` are skipped. Prefixes are
/// compared literally (not URL-decoded), segment by segment with empty segments ignored
/// (`//a//b/` is `a/b`); one with a `.` or `..` segment never matches, as `p` has none.
/// The text is walked on each request, not parsed into a table of its own (the root cache
/// is keyed by the directory, [`crate::serve::RootCache`]), unless it is known to be one
/// directory alone (`whole`: no `,`, no `=`), which serves every path as it is.
/// Inlined where it can be (its one caller is `serve_dir`): out of line, the release
/// build paid a call for the `whole` answer on every request.
#[inline]
pub fn select<'s, 'p>(spec: &'s [u8], p: &'p UriPath<'_>, whole: bool) -> Option<(&'s [u8], &'p [u8])> {
    if whole {
        return Some((spec, &p.path));
    }
    let mut best: Option<(&[u8], &[u8])> = None;
    for entry in spec.split(|&c| c == b',') {
        let (prefix, dir) = match entry.iter().position(|&c| c == b'=') {
            Some(eq) => (&entry[..eq], &entry[eq + 1..]),
            None => (&b"/"[..], entry),
        };
        if dir.is_empty() || prefix.first() != Some(&b'/') {
            continue;
        }
        if let Some(rest) = below(&p.path, prefix) {
            // A longer prefix leaves a shorter rest.
            if best.is_none_or(|(_, r)| rest.len() <= r.len()) {
                best = Some((dir, rest));
            }
        }
    }
    best
}

/// The rest of `path` (normalized) below `prefix` (as written in `root_dir`), when the
/// non-empty segments of `prefix` are whole segments at its start.
fn below<'p>(path: &'p [u8], prefix: &[u8]) -> Option<&'p [u8]> {
    let mut rest = path;
    for seg in segments(prefix) {
        let r = rest.strip_prefix(seg)?;
        rest = match r.split_first() {
            None => r,
            Some((b'/', r)) => r,
            Some(_) => return None,
        };
    }
    Some(rest)
}

/// `dir` joined with `rest` (a normalized path: plain names separated by `/`, no `.` or
/// `..`) by `/`.
pub fn join(dir: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(dir.len() + rest.len() + 1 + 12);
    v.extend_from_slice(dir);
    if !rest.is_empty() {
        if v.last().is_some_and(|&c| c != b'/') {
            crate::util::push_byte(&mut v, b'/');
        }
        v.extend_from_slice(rest);
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
        // Already a copy of its own: kept, not compared with `p` to lend `p` instead.
        Ok(Cow::Owned(c))
    } else {
        crate::mlog!(crate::log::LL_DEBUG; "serve: ", crate::log::Escaped(p), " resolves outside the web root");
        Err(Miss::NotFound)
    }
}

/// [`confine`] plus what the path is.
pub fn confine_stat<'p>(fs: &dyn Fs, p: &'p [u8], root: &[u8]) -> Result<(Cow<'p, [u8]>, Stat), Miss> {
    let c = confine(fs, p, root)?;
    let st = fs.stat(&c).ok_or(Miss::NotFound)?;
    Ok((c, st))
}

/// A path [`confine_open`] kept inside the root.
pub struct Found<'p> {
    /// The path to open (canonical on a file system with links).
    pub path: Cow<'p, [u8]>,
    /// What it is.
    pub stat: Stat,
    /// The path, already open for reading, when the file system opened it to confine it.
    pub file: Option<Box<dyn File>>,
}

/// [`confine_stat`], in one step where the file system can open a path and prove it
/// canonical at once ([`Fs::open_beneath`]: `openat2` on Linux); then the path is served
/// from that open file. `p` is `root` joined with a normalized path ([`join`]); `root` is
/// canonical. Otherwise, and whenever the file system cannot decide (a symbolic link on the
/// way, an old kernel, ...), [`confine_stat`]: the same paths are served or refused either
/// way.
pub fn confine_open<'p>(fs: &dyn Fs, p: &'p [u8], root: &[u8]) -> Result<Found<'p>, Miss> {
    if let Some(rel) = rel_below(p, root) {
        match fs.open_beneath(root, rel) {
            Beneath::Opened(file, stat) => {
                return Ok(Found {
                    path: Cow::Borrowed(p),
                    stat,
                    file: Some(file),
                })
            }
            Beneath::Absent => return Err(Miss::NotFound),
            Beneath::Unknown => {}
        }
    }
    let (path, stat) = confine_stat(fs, p, root)?;
    Ok(Found { path, stat, file: None })
}

/// `p` relative to `root` (empty for `root` itself) when it lies under it.
fn rel_below<'p>(p: &'p [u8], root: &[u8]) -> Option<&'p [u8]> {
    if !under(p, root) {
        return None;
    }
    let rest = p.get(root.len()..).unwrap_or_default();
    Some(rest.strip_prefix(b"/").unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs<'a>(p: &'a UriPath<'_>) -> Vec<&'a str> {
        p.segments().map(|s| core::str::from_utf8(s).unwrap()).collect()
    }

    /// The decoder before paths were kept in one buffer (a vector per segment): the model
    /// the one-buffer decoder must agree with.
    fn model(raw: &[u8]) -> Result<(Vec<Vec<u8>>, bool), BadPath> {
        let path = if raw.first() == Some(&b'/') {
            raw
        } else {
            let i = crate::util::str::find(raw, b"://").ok_or(BadPath)?;
            let rest = &raw[i + 3..];
            match rest.iter().position(|&c| c == b'/') {
                Some(j) => &rest[j..],
                None => b"/",
            }
        };
        let decoded = crate::http::url_decode_vec(path, false).ok_or(BadPath)?;
        if decoded.iter().any(|&c| c == 0 || c == b'\\') {
            return Err(BadPath);
        }
        let mut segments = Vec::new();
        for seg in decoded.split(|&c| c == b'/') {
            match seg {
                b"" | b"." => {}
                b".." => return Err(BadPath),
                s => segments.push(s.to_vec()),
            }
        }
        Ok((segments, decoded.ends_with(b"/")))
    }

    fn agrees(raw: &[u8]) {
        let new = decode(raw).map(|p| (p.segments().map(<[u8]>::to_vec).collect::<Vec<_>>(), p.trailing_slash));
        assert_eq!(new, model(raw), "{:?}", raw.escape_ascii().to_string());
        if let Ok(p) = decode(raw) {
            // One buffer, normalized: no leading, trailing or doubled separator.
            assert!(!p.path.starts_with(b"/") && !p.path.ends_with(b"/"));
            assert!(!p.path.windows(2).any(|w| w == b"//"));
        }
    }

    #[test]
    fn decodes_and_normalizes() {
        let p = decode(b"/a/b%20c//./d.txt").unwrap();
        assert_eq!(segs(&p), ["a", "b c", "d.txt"]);
        assert!(!p.trailing_slash);
        let p = decode(b"/").unwrap();
        assert!(p.segments().next().is_none() && p.path.is_empty() && p.trailing_slash);
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
        // A path already in normal form is not copied.
        assert!(matches!(
            decode(b"/static/1k.bin").unwrap().path,
            Cow::Borrowed(b"static/1k.bin")
        ));
        assert!(matches!(decode(b"/dir/").unwrap().path, Cow::Borrowed(b"dir")));
        assert_eq!(&*decode(b"//a/./b//").unwrap().path, b"a/b");
    }

    #[test]
    fn one_buffer_decoding_agrees_with_per_segment_decoding() {
        let long_dots = "/./".repeat(3000);
        let long_name = format!("/{}/x", "a".repeat(9000));
        let long_enc = format!("/{}", "%2f%61".repeat(2000));
        let long_up = format!("{}/../x", "/a".repeat(2000));
        for raw in [
            &b"/"[..],
            b"//",
            b"///",
            b"/.",
            b"/./",
            b"/a",
            b"/a/",
            b"/a//b",
            b"/a/./b/.",
            b"/a/.b/..c/...",
            // Encoded slashes separate segments after decoding, and count as a trailing one.
            b"/a%2fb",
            b"/a%2Fb%2F",
            b"/%2f%2f",
            b"/a%2f%2e%2fb",
            b"/a%2f%2e%2e%2fb",
            b"/%2e",
            b"/%2e%2f",
            // `..` in every spelling.
            b"/..",
            b"/../",
            b"/a/..",
            b"/a/../b",
            b"/%2e%2e",
            b"/%2e.",
            b"/.%2E/",
            // NUL and backslash, plain and encoded.
            b"/%00",
            b"/a%00",
            b"/%00/..",
            b"/a\\b",
            b"/a%5cb",
            b"/a%5C",
            b"/%",
            b"/%4",
            b"/%g0",
            b"http://h",
            b"http://h/",
            b"http://h/a//./b/",
            b"http://h/%2e%2e/x",
            b"x",
            b"",
            long_dots.as_bytes(),
            long_name.as_bytes(),
            long_enc.as_bytes(),
            long_up.as_bytes(),
        ] {
            agrees(raw);
        }
        assert_eq!(
            &*decode(long_enc.as_bytes()).unwrap().path,
            "a/".repeat(2000).trim_end_matches('/').as_bytes()
        );
        assert_eq!(decode(long_up.as_bytes()), Err(BadPath));
        assert_eq!(decode(long_dots.as_bytes()).unwrap(), decode(b"/").unwrap());
    }

    proptest::proptest! {
        #[test]
        fn decoding_agrees_with_the_model(raw in "(/|%2[eEfF]|%5[cC]|%00|%41|\\.|a|%|:)*", junk in proptest::collection::vec(proptest::num::u8::ANY, 0..24)) {
            agrees(raw.as_bytes());
            agrees(&junk);
            let mut slash = b"/".to_vec();
            slash.extend_from_slice(&junk);
            agrees(&slash);
        }
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
        let m: &[u8] = b"/srv/www,/static/=/srv/static,/api=/srv/api,bogus=/x,/empty=,/a/../b=/y";
        let sel = |spec: &'static [u8], uri: &'static [u8]| {
            let p = decode(uri).unwrap();
            select(spec, &p, false).map(|(dir, rest)| (dir, rest.to_vec()))
        };
        assert_eq!(
            sel(m, b"/static/css/x.css"),
            Some((&b"/srv/static"[..], b"css/x.css".to_vec()))
        );
        assert_eq!(sel(m, b"/x.txt"), Some((&b"/srv/www"[..], b"x.txt".to_vec())));
        // Prefixes match whole segments only.
        assert_eq!(sel(m, b"/staticky/x").unwrap().0, b"/srv/www");
        // The prefix itself maps to the mounted directory.
        assert_eq!(sel(m, b"/api"), Some((&b"/srv/api"[..], Vec::new())));
        // Skipped: a prefix without `/`, an empty directory, a `..` segment.
        assert_eq!(sel(m, b"/empty/f").unwrap().0, b"/srv/www");
        assert_eq!(sel(m, b"/b/f").unwrap().0, b"/srv/www");
        assert_eq!(sel(m, b"/bogus/f").unwrap().0, b"/srv/www");
        // Prefixes are normalized like paths.
        let deep: &[u8] = b"/srv/www,//a//b/=/srv/ab,/a/./b=/srv/dot";
        assert_eq!(sel(deep, b"/a/b/c"), Some((&b"/srv/ab"[..], b"c".to_vec())));
        assert_eq!(sel(deep, b"/a/bc"), Some((&b"/srv/www"[..], b"a/bc".to_vec())));
        assert_eq!(sel(deep, b"/a/b"), Some((&b"/srv/ab"[..], Vec::new())));
        // Without a "/" entry, unmatched paths have no mount.
        assert!(sel(b"/x=/srv/x", b"/y").is_none());
        assert!(sel(b"/x=/srv/x", b"/").is_none());
        assert_eq!(sel(b"/x=/srv/x", b"/x/"), Some((&b"/srv/x"[..], Vec::new())));
        // Equal prefixes: the last one wins; a longer one wins wherever it is listed.
        assert_eq!(sel(b"/a,/b", b"/f").unwrap().0, b"/b");
        assert_eq!(sel(b"/p=/long,/srv", b"/p/f").unwrap().0, b"/long");
        assert_eq!(sel(b"/p=/one,/p/=/two", b"/p/f").unwrap().0, b"/two");
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
            crate::util::push_byte(&mut v, b'/');
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
