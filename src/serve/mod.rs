//! Static files: the logic behind `mg_http_serve_dir` and `mg_http_serve_file`.
//!
//! Everything here is independent of connections: a [`Request`] (method, target, header
//! fields) and [`Options`] go in, a [`Reply`] comes out: a complete response head, plus
//! either a small in-memory body or an open file segment that the manager sends with
//! `sendfile(2)` (files are never read into memory). The caller queues it on the
//! connection; the manager drops bodies of responses to HEAD and adds `Connection: close`
//! when the request asked for it.
//!
//! Behaviour (each point is tested):
//! - Methods: GET and HEAD; anything else is `405` with `Allow: GET, HEAD`.
//! - Paths ([`path`]): URL-decoded, then `..` segments, NUL and backslashes are refused with
//!   `400`; the result is canonicalized and must stay under the canonicalized web root: a
//!   symlink that leads out of the root is `404`, as is a missing file. A file opened and
//!   found not to be a regular file (FIFO, device) is `404`; an OS permission error is `403`.
//! - Directories: a directory URI without a trailing slash gets `301` to the slash form
//!   (query kept). With the slash, `index.html` then `index.htm` are served; with neither,
//!   `403` (directory listings are not implemented).
//! - `404` serves `page404` (with status 404 and the page's type) when set and readable,
//!   else a short text body.
//! - Headers of a file response: `Content-Type` ([`mime`]), `Content-Length`,
//!   `Accept-Ranges: bytes`, a strong `ETag` ([`cond::etag`]), `Last-Modified`, then the
//!   application's `extra_headers`. No `Date` (many devices have no trustworthy clock;
//!   `mg_http_reply` sends none either).
//! - Conditional requests ([`cond`]): If-Match / If-Unmodified-Since → `412`;
//!   If-None-Match (weak comparison, takes precedence) / If-Modified-Since → `304`.
//! - Ranges ([`range`]), GET only: one range → `206` with `Content-Range`; unsatisfiable →
//!   `416` with `Content-Range: bytes */len`; several ranges or bad syntax → whole file `200`.
//!   `If-Range` with a non-matching validator → whole file `200`.
//! - Precompressed files: when `file.gz` exists next to `file` (and inside the root), every
//!   response for `file` carries `Vary: Accept-Encoding`; when the request's Accept-Encoding
//!   admits gzip, `file.gz` is sent with `Content-Encoding: gzip`, `file`'s Content-Type and
//!   its own ETag (ranges then apply to the gzip bytes).
//! - `extra_headers` appear in every response, error responses included.
//! - SSI is not supported: `.shtml` files are sent as they are.
#![forbid(unsafe_code)]

use crate::prelude::*;
pub mod cond;
pub mod date;
pub mod mime;
pub mod path;
pub mod range;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use path::Miss;

/// The parts of a request that static serving looks at.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a [u8],
    /// The request-target's path as received (URL-encoded).
    pub uri: &'a [u8],
    /// The query string (after `?`), as received; kept in redirects.
    pub query: &'a [u8],
    /// Header fields in order, (name, value).
    pub headers: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Request<'a> {
    /// The first field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| *v)
    }

    /// All fields named `name`, combined into one list value (RFC 9110 §5.3).
    pub fn header_list(&self, name: &str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (_, v) in self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            let o = out.get_or_insert_with(Vec::new);
            if !o.is_empty() {
                o.extend_from_slice(b", ");
            }
            o.extend_from_slice(v);
        }
        out
    }
}

/// `struct mg_http_serve_opts`, checked.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// Complete `Name: value\r\n` lines (see [`extra_headers`]), added to every response.
    pub extra_headers: Vec<u8>,
    /// `ext=type,...` (see [`mime::lookup`]).
    pub mime_types: &'a [u8],
    /// File served with status 404 when a path is not found.
    pub page404: Option<PathBuf>,
}

/// Check and normalize the application's `extra_headers` with
/// [`crate::http::check_header_lines`] (the rule `mg_http_reply`'s headers follow too): zero
/// or more `Name: value` lines, each ended by CRLF (a missing final CRLF is added). `None`
/// when the text would break the response head.
pub fn extra_headers(raw: &[u8]) -> Option<Vec<u8>> {
    let add_crlf = crate::http::check_header_lines(raw)?;
    let mut out = Vec::with_capacity(raw.len() + 2);
    out.extend_from_slice(raw);
    if add_crlf {
        out.extend_from_slice(b"\r\n");
    }
    Some(out)
}

/// The body of a [`Reply`].
#[derive(Debug)]
pub enum Body {
    /// Bytes sent right after the head.
    Bytes(Vec<u8>),
    /// `len` bytes of `file` from `offset`.
    File { file: File, offset: u64, len: u64 },
}

/// A complete response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Status line and header fields, ending with the empty line.
    pub head: Vec<u8>,
    pub body: Body,
}

/// Response head builder.
struct Head(Vec<u8>);

impl Head {
    fn new(status: u16) -> Head {
        // Room for a file response's fields, so the head is allocated once.
        let mut v = Vec::with_capacity(256);
        v.extend_from_slice(b"HTTP/1.1 ");
        push_num(&mut v, u64::from(status));
        v.push(b' ');
        v.extend_from_slice(crate::http::status_reason(status).as_bytes());
        v.extend_from_slice(b"\r\n");
        Head(v)
    }
    fn field_num(&mut self, name: &str, n: u64) -> &mut Head {
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b": ");
        push_num(&mut self.0, n);
        self.0.extend_from_slice(b"\r\n");
        self
    }
    fn field(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Head {
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b": ");
        self.0.extend_from_slice(value.as_ref());
        self.0.extend_from_slice(b"\r\n");
        self
    }
    fn end(mut self, opts: &Options<'_>) -> Vec<u8> {
        self.0.extend_from_slice(&opts.extra_headers);
        self.0.extend_from_slice(b"\r\n");
        self.0
    }
}

/// A response with a short text body.
/// `n` in decimal, appended to `out` (no `String` in between).
fn push_num(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn text(status: u16, fields: &[(&str, &[u8])], body: &str, opts: &Options<'_>) -> Reply {
    let mut h = Head::new(status);
    h.field("Content-Type", "text/plain; charset=utf-8");
    h.field_num("Content-Length", body.len() as u64);
    for (n, v) in fields {
        h.field(n, v);
    }
    Reply {
        status,
        head: h.end(opts),
        body: Body::Bytes(body.as_bytes().to_vec()),
    }
}

fn method_allowed(req: &Request<'_>, opts: &Options<'_>) -> Option<Reply> {
    if req.method == b"GET" || req.method == b"HEAD" {
        return None;
    }
    Some(text(405, &[("Allow", b"GET, HEAD")], "Method not allowed\n", opts))
}

/// An open regular file with its size and modification time.
struct Opened {
    file: File,
    size: u64,
    mtime_secs: i64,
    mtime_nanos: u32,
}

/// Open `p` for reading without blocking (a FIFO swapped in would otherwise hang the event
/// loop) and, when `nofollow`, without following a final symlink (`p` is canonical, so one
/// appearing there was put in after the check). Size and time come from the open file, so a
/// file that vanishes after resolution is simply not found.
fn open_regular(p: &Path, nofollow: bool) -> Result<Opened, Miss> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK;
        if nofollow {
            flags |= libc::O_NOFOLLOW;
        }
        o.custom_flags(flags);
    }
    #[cfg(not(unix))]
    let _ = nofollow;
    let file = o.open(p).map_err(|e| path::miss_of(&e))?;
    let md = file.metadata().map_err(|e| path::miss_of(&e))?;
    if !md.is_file() {
        return Err(Miss::NotFound);
    }
    let (mtime_secs, mtime_nanos) = match md.modified().map(|t| t.duration_since(UNIX_EPOCH)) {
        Ok(Ok(d)) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
        Ok(Err(before)) => {
            // Before 1970: floor to whole seconds, nanoseconds counted forward from there.
            let d = before.duration();
            let s = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (s, 0),
                n => (s - 1, 1_000_000_000 - n),
            }
        }
        Err(_) => (0, 0),
    };
    Ok(Opened {
        size: md.len(),
        file,
        mtime_secs,
        mtime_nanos,
    })
}

/// 404: the application's page when it has one, else text.
fn not_found(opts: &Options<'_>) -> Reply {
    if let Some(p) = &opts.page404 {
        if let Ok(f) = open_regular(p, false) {
            let mut h = Head::new(404);
            h.field(
                "Content-Type",
                mime::lookup(p.as_os_str().as_encoded_bytes(), opts.mime_types),
            );
            h.field_num("Content-Length", f.size);
            return Reply {
                status: 404,
                head: h.end(opts),
                body: Body::File {
                    file: f.file,
                    offset: 0,
                    len: f.size,
                },
            };
        }
    }
    text(404, &[], "Not found\n", opts)
}

fn miss(m: Miss, opts: &Options<'_>) -> Reply {
    match m {
        Miss::NotFound => not_found(opts),
        Miss::Forbidden => text(403, &[], "Forbidden\n", opts),
    }
}

/// A file to serve.
struct Target<'p> {
    /// The path as requested (before symlinks are resolved): its name gives the
    /// Content-Type, and `.gz` is looked for next to it.
    requested: &'p Path,
    /// The path to open (canonical for `serve_dir`).
    resolved: &'p Path,
    /// For `serve_dir`: the canonical root that everything must stay in.
    root: Option<&'p Path>,
}

/// `p` with `.gz` appended to its last component.
fn gz_sibling(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(".gz");
    PathBuf::from(s)
}

/// The precompressed sibling, if it is a regular file (inside the root, when there is one).
fn find_gz(t: &Target<'_>) -> Option<PathBuf> {
    let gz = gz_sibling(t.requested);
    match t.root {
        Some(root) => {
            // The parent of `requested` was just walked when it came back unchanged.
            let clean = if t.requested.as_os_str() == t.resolved.as_os_str() {
                t.requested
                    .as_os_str()
                    .as_encoded_bytes()
                    .iter()
                    .rposition(|&b| b == b'/')
                    .map_or(0, |k| k + 1)
            } else {
                0
            };
            let (c, md) = path::confine_stat_after(&gz, root, clean).ok()?;
            md.is_file().then(|| c.into_owned())
        }
        None => fs::metadata(&gz).ok().filter(fs::Metadata::is_file).map(|_| gz),
    }
}

/// Serve one regular file (the common tail of both entry points).
fn serve_regular(req: &Request<'_>, t: &Target<'_>, opts: &Options<'_>) -> Reply {
    let ctype = mime::lookup(t.requested.as_os_str().as_encoded_bytes(), opts.mime_types);
    let gz = find_gz(t);
    let vary = gz.is_some();
    let want_gz = vary && cond::accepts_gzip(req.header_list("accept-encoding").as_deref());
    let nofollow = t.root.is_some();
    let (f, gzip) = match gz.filter(|_| want_gz).and_then(|g| open_regular(&g, nofollow).ok()) {
        Some(f) => (f, true),
        None => match open_regular(t.resolved, nofollow) {
            Ok(f) => (f, false),
            Err(m) => return miss(m, opts),
        },
    };
    let tag = cond::etag_buf(f.size, f.mtime_secs, f.mtime_nanos, gzip);

    let validators = |h: &mut Head| {
        if vary {
            h.field("Vary", "Accept-Encoding");
        }
        h.field("Accept-Ranges", "bytes");
        h.field("ETag", &tag);
        h.0.extend_from_slice(b"Last-Modified: ");
        date::format_to(f.mtime_secs, &mut h.0);
        h.0.extend_from_slice(b"\r\n");
    };

    let inm = req.header_list("if-none-match");
    let im = req.header_list("if-match");
    let conditions = cond::Conditions {
        if_match: im.as_deref(),
        if_unmodified_since: req.header("if-unmodified-since"),
        if_none_match: inm.as_deref(),
        if_modified_since: req.header("if-modified-since"),
    };
    match cond::evaluate(&conditions, &tag, f.mtime_secs) {
        cond::Outcome::Proceed => {}
        cond::Outcome::NotModified => {
            let mut h = Head::new(304);
            validators(&mut h);
            return Reply {
                status: 304,
                head: h.end(opts),
                body: Body::Bytes(Vec::new()),
            };
        }
        cond::Outcome::Failed => return text(412, &[], "Precondition failed\n", opts),
    }

    let mut ranged = range::Ranged::Whole;
    if req.method == b"GET" {
        if let Some(r) = req.header("range") {
            let allowed = req
                .header("if-range")
                .is_none_or(|v| cond::if_range_allows(v, &tag, f.mtime_secs));
            if allowed {
                ranged = range::evaluate(r, f.size);
            }
        }
    }
    let (status, offset, len) = match ranged {
        range::Ranged::Whole => (200, 0, f.size),
        range::Ranged::Part { start, end } => (206, start, end - start + 1),
        range::Ranged::Unsatisfiable => {
            let cr = format!("bytes */{}", f.size);
            return text(
                416,
                &[("Content-Range", cr.as_bytes())],
                "Range not satisfiable\n",
                opts,
            );
        }
    };
    let mut h = Head::new(status);
    h.field("Content-Type", ctype);
    h.field_num("Content-Length", len);
    if status == 206 {
        h.field(
            "Content-Range",
            format!("bytes {}-{}/{}", offset, offset + len - 1, f.size),
        );
    }
    if gzip {
        h.field("Content-Encoding", "gzip");
    }
    validators(&mut h);
    Reply {
        status,
        head: h.end(opts),
        body: Body::File {
            file: f.file,
            offset,
            len,
        },
    }
}

/// The `Location` of the slash redirect: the target as received, `/`, the query. Bytes that
/// cannot appear in a header value are percent-encoded (the parser should not let them in).
fn slash_location(req: &Request<'_>) -> Vec<u8> {
    let mut loc = Vec::with_capacity(req.uri.len() + req.query.len() + 2);
    let mut push = |s: &[u8]| {
        for &c in s {
            if (0x21..0x7f).contains(&c) {
                loc.push(c);
            } else {
                loc.extend_from_slice(format!("%{c:02X}").as_bytes());
            }
        }
    };
    push(req.uri);
    push(b"/");
    if !req.query.is_empty() {
        push(b"?");
        push(req.query);
    }
    loc
}

/// `mg_http_serve_dir`: serve the file the request's path names under `root_spec`
/// (Mongoose's `root_dir`, see [`path::parse_roots`]).
pub fn serve_dir(req: &Request<'_>, root_spec: &[u8], opts: &Options<'_>) -> Reply {
    if let Some(r) = method_allowed(req, opts) {
        return r;
    }
    let Ok(p) = path::decode(req.uri) else {
        return text(400, &[], "Bad request\n", opts);
    };
    let roots = roots_of(root_spec);
    let Some((i, rest)) = select_index(&roots.mounts, &p) else {
        return not_found(opts);
    };
    let fresh;
    let root: &Path = match &roots.canon[i] {
        Some(r) => r,
        None => match path::bytes_to_path(&roots.mounts[i].dir).map(fs::canonicalize) {
            Some(Ok(r)) => {
                fresh = r;
                &fresh
            }
            _ => {
                crate::log::emit(
                    crate::log::LL_ERROR,
                    format_args!(
                        "serve: web root {} is not usable",
                        String::from_utf8_lossy(&roots.mounts[i].dir)
                    ),
                );
                return not_found(opts);
            }
        },
    };
    let Some(joined) = path::join(root, rest) else {
        return text(400, &[], "Bad request\n", opts);
    };
    let (canon, md) = match path::confine_stat(&joined, root) {
        Ok(c) => c,
        Err(m) => return miss(m, opts),
    };
    if md.is_dir() {
        if !p.trailing_slash {
            let loc = slash_location(req);
            return text(301, &[("Location", &loc)], "", opts);
        }
        for index in ["index.html", "index.htm"] {
            let requested = canon.join(index);
            let Ok((resolved, md)) = path::confine_stat(&requested, root) else {
                continue;
            };
            if md.is_file() {
                let t = Target {
                    requested: &requested,
                    resolved: &resolved,
                    root: Some(root),
                };
                return serve_regular(req, &t, opts);
            }
        }
        return text(403, &[], "Forbidden\n", opts);
    }
    if p.trailing_slash {
        return not_found(opts); // "/file.txt/"
    }
    let t = Target {
        requested: &joined,
        resolved: &canon,
        root: Some(root),
    };
    serve_regular(req, &t, opts)
}

/// A `root_dir` parsed, with each mount's directory canonicalized (`None`: it was not
/// usable then, and is tried again on each request).
struct Roots {
    spec: Vec<u8>,
    mounts: Vec<path::Mount>,
    canon: Vec<Option<PathBuf>>,
}

/// How many distinct `root_dir` strings a thread keeps parsed.
const ROOTS_KEEP: usize = 8;

std::thread_local! {
    static ROOTS: core::cell::RefCell<Vec<alloc::rc::Rc<Roots>>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// `root_spec` parsed and its directories canonicalized, cached per thread by the spec's
/// bytes: the root is resolved once, not on every request (`canonicalize` costs a
/// `readlink` per component). Paths below it are still confined on every request.
fn roots_of(root_spec: &[u8]) -> alloc::rc::Rc<Roots> {
    ROOTS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(r) = cache.iter().find(|r| r.spec == root_spec) {
            return r.clone();
        }
        let mounts = path::parse_roots(root_spec);
        let canon = mounts
            .iter()
            .map(|m| path::bytes_to_path(&m.dir).and_then(|d| fs::canonicalize(d).ok()))
            .collect();
        let r = alloc::rc::Rc::new(Roots {
            spec: root_spec.to_vec(),
            mounts,
            canon,
        });
        if cache.len() >= ROOTS_KEEP {
            cache.remove(0);
        }
        cache.push(r.clone());
        r
    })
}

/// [`path::select`], as an index into `mounts`.
fn select_index<'p>(mounts: &[path::Mount], p: &'p path::UriPath) -> Option<(usize, &'p [Vec<u8>])> {
    let (m, rest) = path::select(mounts, p)?;
    let i = mounts.iter().position(|x| core::ptr::eq(x, m))?;
    Some((i, rest))
}

/// `mg_http_serve_file`: serve the file at `path` (chosen by the application; not confined
/// to any root), with the same headers, conditionals, ranges and `.gz` handling.
pub fn serve_file(req: &Request<'_>, path: &Path, opts: &Options<'_>) -> Reply {
    if let Some(r) = method_allowed(req, opts) {
        return r;
    }
    let t = Target {
        requested: path,
        resolved: path,
        root: None,
    };
    serve_regular(req, &t, opts)
}

#[cfg(test)]
mod tests;
