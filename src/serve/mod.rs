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
//!   symlink that leads out of the root is `404`, as is a missing file (the same for index
//!   files and `.gz` siblings; a path without links is proven canonical by the kernel where
//!   it can, [`path::confine_open`], and sent from the file opened to prove it). A file opened and
//!   found not to be a regular file (FIFO, device) is `404`; an OS permission error is `403`.
//! - Directories: a directory URI without a trailing slash gets `301` to the slash form
//!   (query kept). With the slash, `index.html`, `index.htm` then `index.shtml` are served
//!   (or `index.html` from `index.html.gz` alone, see below); with none of them, the
//!   directory listing (`crate::fs::listing`) with `200`; without the `dirlist` feature (on
//!   by default) `403`, as Mongoose built without `MG_ENABLE_DIRLIST` answers.
//! - `404` serves `page404` (with status 404 and the page's type) when set and readable,
//!   else a short text body.
//! - Headers of a file response: `Content-Type` ([`mime`]), `Content-Length`,
//!   `Accept-Ranges: bytes`, a strong `ETag` ([`cond::etag`]), `Last-Modified`, then the
//!   application's `extra_headers`. No `Date` (many devices have no trustworthy clock;
//!   `mg_http_reply` sends none either).
//! - Conditional requests ([`cond`]): If-Match / If-Unmodified-Since → `412`;
//!   If-None-Match (weak comparison, takes precedence) / If-Modified-Since → `304`.
//!   Without the `http-dates` feature (on by default; Mongoose has no dates at all): no
//!   `Last-Modified`, If-Unmodified-Since and If-Modified-Since are ignored, an `If-Range`
//!   date never matches (`date` is left out).
//! - Ranges ([`range`]), GET only: one range → `206` with `Content-Range`; unsatisfiable →
//!   `416` with `Content-Range: bytes */len`; several ranges or bad syntax → whole file `200`.
//!   `If-Range` with a non-matching validator → whole file `200`.
//! - Precompressed files: when `file.gz` exists next to `file` (and inside the root), every
//!   response for `file` carries `Vary: Accept-Encoding`; when the request's Accept-Encoding
//!   admits gzip, `file.gz` is sent with `Content-Encoding: gzip`, `file`'s Content-Type and
//!   its own ETag (ranges then apply to the gzip bytes). `file.gz` alone (a web root packed
//!   with `pack.py -z`) serves `file` to clients that admit gzip, and is `404` to others, as
//!   in Mongoose.
//! - Server-side includes: a file whose path (root joined with the request path) matches
//!   `ssi_pattern` (Mongoose's glob, [`crate::util::str::match_glob`]) is sent as
//!   `text/html` after [`crate::util::ssi::expand`], its includes read from the same file
//!   system and confined to the root like requests. Without the `ssi` feature (on by
//!   default) such a file gets `501` instead.
//! - `extra_headers` appear in every response, error responses included.
#![forbid(unsafe_code)]

use crate::prelude::*;
use crate::util::str::EqCi;
pub mod cond;
#[cfg(feature = "http-dates")]
pub mod date;
pub mod mime;
pub mod path;
pub mod range;

use crate::fs::{File, Fs, Stat, FS_NOFOLLOW, FS_READ};

use path::Miss;

/// The names and texts of 4 and 8 bytes that a plain server sends or looks up, sliced out of
/// one literal at compile time (`util::str::cut`): alone, each would be pooled with every
/// other 4- or 8-byte constant of the library in a `.rodata.cst4`/`.cst8` kept whole.
const TEXTS: &str = "if-matchif-rangebytes */LocationETag";
const IF_MATCH: &str = crate::util::str::cut(TEXTS, 0, 8);
const IF_RANGE: &str = crate::util::str::cut(TEXTS, 8, 16);
const BYTES_STAR: &str = crate::util::str::cut(TEXTS, 16, 24);
const LOCATION: &str = crate::util::str::cut(TEXTS, 24, 32);
const ETAG: &str = crate::util::str::cut(TEXTS, 32, 36);

/// The parts of a request that static serving looks at.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a [u8],
    /// The request-target's path as received (URL-encoded).
    pub uri: &'a [u8],
    /// The query string (after `?`), as received; kept in redirects.
    pub query: &'a [u8],
    /// Header fields in order, (name, value).
    pub headers: &'a [(&'a [u8], &'a [u8])],
}

impl<'a> Request<'a> {
    /// The first field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ci(name.as_bytes()))
            .map(|(_, v)| *v)
    }

    /// All fields named `name`, combined into one list value (RFC 9110 §5.3).
    pub fn header_list(&self, name: &str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (_, v) in self.headers.iter().filter(|(n, _)| n.eq_ci(name.as_bytes())) {
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
    /// `Name: value` lines (see [`extra_headers`]), added to every response.
    pub extra_headers: Extra<'a>,
    /// `ext=type,...` (see [`mime::lookup`]).
    pub mime_types: &'a [u8],
    /// File served with status 404 when a path is not found.
    pub page404: Option<&'a [u8]>,
    /// Mongoose's glob of the paths expanded as server-side includes (`serve_dir` only);
    /// empty: none.
    pub ssi_pattern: &'a [u8],
}

/// The application's `extra_headers`, checked ([`extra_headers`]); none by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra<'a> {
    /// The lines as given.
    lines: &'a [u8],
    /// The last line has no CRLF: one is written after it.
    add_crlf: bool,
    /// One of the lines is named `Connection`, `Content-Length` or `Transfer-Encoding`:
    /// replies are then not [`Reply::plain`].
    frames: bool,
}

/// Check the application's `extra_headers` with [`crate::http::check_header_lines`] (the
/// rule `mg_http_reply`'s headers follow too): zero or more `Name: value` lines, each ended
/// by CRLF (a missing final CRLF is added when they are written). `None` when the text
/// would break the response head. Borrowed, not copied: whether the final CRLF is missing
/// and whether a line speaks of framing or of the connection are found in the same pass
/// (not by a walk of their own per reply).
pub fn extra_headers(raw: &[u8]) -> Option<Extra<'_>> {
    let (add_crlf, plain) = crate::http::message::header_lines(raw, usize::MAX)?;
    Some(Extra {
        lines: raw,
        add_crlf,
        frames: !plain,
    })
}

/// The body of a [`Reply`]: `len` bytes of `file` from `offset`, or nothing (a `304`). A
/// body in memory (an error text, a listing, an SSI page) is a [`crate::fs::Memory`] file, so
/// every body is sent one way, as the socket takes it, and the reply's body is what
/// `Mgr::send_file_with` takes (no conversion where it is queued).
pub type Body = Option<(Box<dyn File>, u64, u64)>;

/// All of `data` (a text or a page built in memory) as a [`Body`].
fn memory<B: AsRef<[u8]> + 'static>(data: B) -> Body {
    let len = data.as_ref().len() as u64;
    Some((Box::new(crate::fs::Memory::new(data)), 0, len))
}

/// A complete response.
pub struct Reply {
    pub status: u16,
    /// Status line and header fields, ending with the empty line.
    pub head: Vec<u8>,
    pub body: Body,
    /// The head frames the body by exactly one `Content-Length` equal to its length and has
    /// no `Connection` or `Transfer-Encoding` field (the application's `extra_headers`
    /// included), so the connection may write it without parsing it back
    /// (`Mgr::send_file_with`). Only file bodies say so.
    pub plain: bool,
}

impl core::fmt::Debug for Reply {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("head", &self.head.len())
            .field("body", &self.body.as_ref().map(|(_, offset, len)| (offset, len)))
            .field("plain", &self.plain)
            .finish()
    }
}

/// Response head builder.
struct Head(Vec<u8>);

impl Head {
    fn new(status: u16) -> Head {
        // Room for a file response's fields, so the head is allocated once.
        let mut v = Vec::with_capacity(256);
        // `mg_http_reply`'s writer.
        crate::http::message::write_status_line(&mut v, status);
        Head(v)
    }
    fn field_num(&mut self, name: &str, n: u64) -> &mut Head {
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b": ");
        push_num(&mut self.0, n);
        self.0.extend_from_slice(b"\r\n");
        self
    }
    /// `Content-Type` of file `name` ([`mime::push`]).
    fn content_type(&mut self, name: &[u8], opts: &Options<'_>) -> &mut Head {
        self.0.extend_from_slice(b"Content-Type: ");
        mime::push(name, opts.mime_types, &mut self.0);
        self.0.extend_from_slice(b"\r\n");
        self
    }
    fn field(&mut self, name: &str, value: &[u8]) -> &mut Head {
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b": ");
        self.0.extend_from_slice(value);
        self.0.extend_from_slice(b"\r\n");
        self
    }
    /// A whole `Name: value\r\n` line known in advance.
    fn line(&mut self, line: &[u8]) -> &mut Head {
        self.0.extend_from_slice(line);
        self
    }
    fn end(mut self, opts: &Options<'_>) -> Vec<u8> {
        let e = &opts.extra_headers;
        self.0.extend_from_slice(e.lines);
        if e.add_crlf {
            self.0.extend_from_slice(b"\r\n");
        }
        self.0.extend_from_slice(b"\r\n");
        self.0
    }
}

/// `n` in decimal, appended to `out` (the listing's writer: one copy of the code).
fn push_num(out: &mut Vec<u8>, n: u64) {
    crate::fs::push_num(out, n, 1);
}

/// A response with a short text body (a static text, sent from where it is) and at most one
/// field of its own (`Allow`, `Location`, `Content-Range`): an `Option`, not a slice walked
/// by a loop (-96 B).
fn text(status: u16, field: Option<(&str, &[u8])>, body: &'static [u8], opts: &Options<'_>) -> Reply {
    let mut h = Head::new(status);
    h.line(b"Content-Type: text/plain; charset=utf-8\r\n");
    h.field_num("Content-Length", body.len() as u64);
    if let Some((n, v)) = field {
        h.field(n, v);
    }
    Reply {
        status,
        head: h.end(opts),
        body: memory(body),
        plain: false,
    }
}

/// Whether static serving answers `req`'s method (GET and HEAD); else [`not_allowed`].
fn method_allowed(req: &Request<'_>) -> bool {
    req.method == b"GET" || req.method == b"HEAD"
}

/// `405` for a method other than GET and HEAD. (The check is a test at the call, the reply
/// built here: not an `Option<Reply>` copied out on every request.)
fn not_allowed(opts: &Options<'_>) -> Reply {
    text(405, Some(("Allow", b"GET, HEAD")), b"Method not allowed\n", opts)
}

/// An open regular file with its size and modification time.
struct Opened {
    file: Box<dyn File>,
    size: u64,
    mtime_secs: i64,
    mtime_nanos: u32,
}

fn miss_of(e: crate::Error) -> Miss {
    if e == crate::Error::Unsupported {
        Miss::Forbidden
    } else {
        Miss::NotFound
    }
}

/// Open `p` for reading (the POSIX file system opens without blocking: a FIFO swapped in
/// would otherwise hang the event loop) and, when `nofollow`, without following a final
/// symlink (`p` is canonical, so one appearing there was put in after the check). Size and
/// time come from the open file where the file system can say, so a file that vanishes or
/// changes kind after resolution is simply not found.
fn open_regular(fs: &dyn Fs, p: &[u8], nofollow: bool) -> Result<Opened, Miss> {
    let flags = if nofollow { FS_READ | FS_NOFOLLOW } else { FS_READ };
    let file = fs.open(p, flags).map_err(miss_of)?;
    let st: Stat = file.stat().or_else(|| fs.stat(p)).ok_or(Miss::NotFound)?;
    regular(file, st)
}

/// An open file with what it is, if it is a regular file.
fn regular(file: Box<dyn File>, st: Stat) -> Result<Opened, Miss> {
    if !st.regular {
        return Err(Miss::NotFound);
    }
    Ok(Opened {
        size: st.size,
        file,
        mtime_secs: st.mtime,
        mtime_nanos: st.mtime_nanos,
    })
}

/// 404: the application's page when it has one, else text.
fn not_found(fs: &dyn Fs, opts: &Options<'_>) -> Reply {
    if let Some(p) = opts.page404 {
        if let Ok(f) = open_regular(fs, p, false) {
            let mut h = Head::new(404);
            h.content_type(p, opts);
            h.field_num("Content-Length", f.size);
            return Reply {
                status: 404,
                head: h.end(opts),
                body: Some((f.file, 0, f.size)),
                plain: !opts.extra_headers.frames,
            };
        }
    }
    text(404, None, b"Not found\n", opts)
}

fn miss(fs: &dyn Fs, m: Miss, opts: &Options<'_>) -> Reply {
    match m {
        Miss::NotFound => not_found(fs, opts),
        Miss::Forbidden => text(403, None, b"Forbidden\n", opts),
    }
}

/// A file to serve.
struct Target<'p> {
    /// The path as requested (before symlinks are resolved): its name gives the
    /// Content-Type, and `.gz` is looked for next to it.
    requested: &'p [u8],
    /// The path to open (canonical for `serve_dir`); `None` when only `requested.gz`
    /// may exist.
    resolved: Option<&'p [u8]>,
    /// For `serve_dir`: the canonical root that everything must stay in.
    root: Option<&'p [u8]>,
    /// `resolved`, already open, when confining it opened it ([`path::confine_open`]).
    opened: Option<(Box<dyn File>, Stat)>,
}

/// The precompressed sibling, if it is a regular file (inside the root, when there is one).
/// A plain `stat` first: the sibling is usually absent, and then nothing is resolved.
fn find_gz(fs: &dyn Fs, t: &Target<'_>) -> Option<Vec<u8>> {
    // The name is built on the stack when short (the sibling is usually absent: no heap
    // copy for a name only asked about).
    let n = t.requested.len() + 3;
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let gz: &mut [u8] = if n <= stack.len() {
        &mut stack[..n]
    } else {
        heap.resize(n, 0);
        &mut heap
    };
    gz[..n - 3].copy_from_slice(t.requested);
    gz[n - 3..].copy_from_slice(b".gz");
    let gz: &[u8] = gz;
    if !fs.stat(gz)?.regular {
        return None;
    }
    match t.root {
        // Confined as the file is; the sibling is opened again only when it is sent (most
        // requests only ask whether it exists, for `Vary`).
        Some(root) => {
            let f = path::confine_open(fs, gz, root).ok()?;
            f.stat.regular.then(|| f.path.into_owned())
        }
        None => Some(gz.to_vec()),
    }
}

/// Serve one regular file (the common tail of both entry points).
fn serve_regular(req: &Request<'_>, fs: &dyn Fs, t: Target<'_>, opts: &Options<'_>) -> Reply {
    let gz = find_gz(fs, &t);
    let vary = gz.is_some();
    let want_gz = vary && cond::accepts_gzip(req.header_list("accept-encoding").as_deref());
    let nofollow = t.root.is_some();
    // The sibling when the client takes gzip and it opens, else the file itself (absent
    // when only the sibling exists: 404), as confining it opened it or opened now.
    let (f, gzip) = match gz.filter(|_| want_gz).and_then(|g| open_regular(fs, &g, nofollow).ok()) {
        Some(f) => (f, true),
        None => {
            let r = match (t.resolved, t.opened) {
                (None, _) => Err(Miss::NotFound),
                (Some(_), Some((file, st))) => regular(file, st),
                (Some(r), None) => open_regular(fs, r, nofollow),
            };
            match r {
                Ok(f) => (f, false),
                Err(m) => return miss(fs, m, opts),
            }
        }
    };
    let tag = cond::etag_buf(f.size, f.mtime_secs, f.mtime_nanos, gzip);

    let inm = req.header_list("if-none-match");
    let im = req.header_list(IF_MATCH);
    let conditions = cond::Conditions {
        if_match: im.as_deref(),
        #[cfg(feature = "http-dates")]
        if_unmodified_since: req.header("if-unmodified-since"),
        if_none_match: inm.as_deref(),
        #[cfg(feature = "http-dates")]
        if_modified_since: req.header("if-modified-since"),
    };
    // (status, offset, length) of what is sent: a `304` sends nothing but the validators.
    let (status, offset, len) = match cond::evaluate(&conditions, tag.as_ref(), f.mtime_secs) {
        cond::Outcome::Failed => return text(412, None, b"Precondition failed\n", opts),
        cond::Outcome::NotModified => (304, 0, 0),
        cond::Outcome::Proceed => {
            let mut ranged = range::Ranged::Whole;
            if req.method == b"GET" {
                if let Some(r) = req.header("range") {
                    let allowed = req
                        .header(IF_RANGE)
                        .is_none_or(|v| cond::if_range_allows(v, tag.as_ref(), f.mtime_secs));
                    if allowed {
                        ranged = range::evaluate(r, f.size);
                    }
                }
            }
            match ranged {
                range::Ranged::Whole => (200, 0, f.size),
                range::Ranged::Part { start, end } => (206, start, end - start + 1),
                range::Ranged::Unsatisfiable => {
                    let mut cr = BYTES_STAR.as_bytes().to_vec();
                    push_num(&mut cr, f.size);
                    return text(416, Some(("Content-Range", &cr)), b"Range not satisfiable\n", opts);
                }
            }
        }
    };
    let mut h = Head::new(status);
    let sent = status != 304;
    if sent {
        h.content_type(t.requested, opts);
        h.field_num("Content-Length", len);
        if status == 206 {
            // Written into the head: no value built apart.
            let v = &mut h.0;
            v.extend_from_slice(b"Content-Range: bytes ");
            push_num(v, offset);
            crate::util::push_byte(v, b'-');
            push_num(v, offset + len - 1);
            crate::util::push_byte(v, b'/');
            push_num(v, f.size);
            v.extend_from_slice(b"\r\n");
        }
        if gzip {
            h.line(b"Content-Encoding: gzip\r\n");
        }
    }
    // The validators.
    if vary {
        h.line(b"Vary: Accept-Encoding\r\n");
    }
    h.line(b"Accept-Ranges: bytes\r\n");
    h.field(ETAG, tag.as_ref());
    #[cfg(feature = "http-dates")]
    {
        h.0.extend_from_slice(b"Last-Modified: ");
        date::format_to(f.mtime_secs, &mut h.0);
        h.0.extend_from_slice(b"\r\n");
    }
    Reply {
        status,
        head: h.end(opts),
        body: if sent { Some((f.file, offset, len)) } else { None },
        plain: sent && !opts.extra_headers.frames,
    }
}

/// The `Location` of the slash redirect: the target as received, `/`, the query. Bytes that
/// cannot appear in a header value are percent-encoded (the parser should not let them in).
fn slash_location(req: &Request<'_>) -> Vec<u8> {
    use crate::util::str::HEX_UPPER as HEX;
    let mut loc = Vec::with_capacity(req.uri.len() + req.query.len() + 2);
    let mut push = |s: &[u8]| {
        for &c in s {
            if (0x21..0x7f).contains(&c) {
                crate::util::push_byte(&mut loc, c);
            } else {
                loc.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
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
/// (Mongoose's `root_dir`, see [`path::select`]) from `fs`. `roots` keeps the
/// canonical roots between requests (one per manager). Not inlined into its one caller
/// (`mg_http_serve_dir`): there, LLVM moved the [`Reply`] of each of its exits on to the
/// queueing code (272 bytes more of a static server's code).
#[inline(never)]
pub fn serve_dir(req: &Request<'_>, fs: &dyn Fs, roots: &mut RootCache, root_spec: &[u8], opts: &Options<'_>) -> Reply {
    if !method_allowed(req) {
        return not_allowed(opts);
    }
    let Ok(p) = path::decode(req.uri) else {
        return text(400, None, b"Bad request\n", opts);
    };
    // A `root_dir` of one directory alone, served before, is that directory: no walk of it.
    let whole = roots.whole(root_spec, fs.has_links());
    let Some((dir, rest)) = path::select(root_spec, &p, whole.is_some()) else {
        return not_found(fs, opts);
    };
    let Some(root) = roots.root(fs, dir, root_spec, whole) else {
        // The first piece printable ASCII, so `Escaped` writes it as it is: a static, because a
        // 16-byte literal would keep LLVM's `.rodata.cst16` pool (see
        // `crate::util::str::HEX_LOWER`).
        static WEB_ROOT: [u8; 16] = *b"serve: web root ";
        crate::mlog!(crate::log::LL_ERROR; crate::log::Escaped(&WEB_ROOT), crate::log::Escaped(dir), " is not usable");
        return not_found(fs, opts);
    };
    let joined = path::join(root, rest);
    let path::Found {
        path: canon,
        stat: st,
        file,
    } = match path::confine_open(fs, &joined, root) {
        Ok(f) => f,
        // Only `file.gz` may exist (a web root packed with `pack.py -z`).
        Err(Miss::NotFound) if !p.trailing_slash => {
            let t = Target {
                requested: &joined,
                resolved: None,
                root: Some(root),
                opened: None,
            };
            return serve_regular(req, fs, t, opts);
        }
        Err(m) => return miss(fs, m, opts),
    };
    if st.dir {
        drop(file);
        if !p.trailing_slash {
            let loc = slash_location(req);
            return text(301, Some((LOCATION, &loc)), b"", opts);
        }
        // A slice iterator over a static: smaller than an array's by-value iterator
        // (-64 B).
        static INDEXES: [&[u8]; 3] = [b"index.html", b"index.htm", b"index.shtml"];
        for index in &INDEXES {
            let requested = path::join(&canon, index);
            let Ok(found) = path::confine_open(fs, &requested, root) else {
                continue;
            };
            if found.stat.regular {
                let t = Target {
                    requested: &requested,
                    resolved: Some(&found.path),
                    root: Some(root),
                    opened: found.file.map(|f| (f, found.stat)),
                };
                return serve_path(req, fs, t, opts);
            }
        }
        let index = path::join(&canon, b"index.html");
        let t = Target {
            requested: &index,
            resolved: None,
            root: Some(root),
            opened: None,
        };
        if find_gz(fs, &t).is_some() {
            return serve_regular(req, fs, t, opts);
        }
        return listing(fs, &canon, root, &p, opts);
    }
    if p.trailing_slash {
        return not_found(fs, opts); // "/file.txt/"
    }
    let t = Target {
        requested: &joined,
        resolved: Some(&canon),
        root: Some(root),
        opened: file.map(|f| (f, st)),
    };
    serve_path(req, fs, t, opts)
}

/// A regular file found by `serve_dir`: expanded as SSI when its path matches
/// `ssi_pattern`, else sent as it is.
fn serve_path(req: &Request<'_>, fs: &dyn Fs, t: Target<'_>, opts: &Options<'_>) -> Reply {
    if !opts.ssi_pattern.is_empty() && crate::util::str::match_glob(t.requested, opts.ssi_pattern, None) {
        return ssi(fs, &t, opts);
    }
    serve_regular(req, fs, t, opts)
}

/// Most bytes of files read for one SSI page (its includes together): a page is built in
/// memory, so a file system holding a huge file must not make it grow without bound.
/// Includes past the budget are dropped; a page whose own file exceeds it is `404`.
#[cfg(feature = "ssi")]
pub const SSI_MAX_BYTES: u64 = 1 << 20;

/// All of the regular file `p` of `fs` (canonical: a final link put there since is not
/// followed), if it fits in `budget` (which it is taken from).
#[cfg(feature = "ssi")]
fn read_all(fs: &dyn Fs, p: &[u8], budget: &mut u64) -> Option<Vec<u8>> {
    let mut f = open_regular(fs, p, true).ok()?;
    if f.size > *budget {
        return None;
    }
    let mut out = vec![0u8; usize::try_from(f.size).ok()?];
    let n = f.file.read_full(&mut out);
    out.truncate(n);
    *budget -= n as u64;
    Some(out)
}

/// The SSI expansion of `t` ([`crate::util::ssi`]) as a `200 text/html` page; included
/// files are read from `fs` and confined to the root like request paths.
#[cfg(feature = "ssi")]
fn ssi(fs: &dyn Fs, t: &Target<'_>, opts: &Options<'_>) -> Reply {
    let root = t.root.unwrap_or_default();
    let mut budget = SSI_MAX_BYTES;
    let mut read = |p: &[u8]| -> Option<Vec<u8>> {
        let c = path::confine(fs, p, root).ok()?;
        read_all(fs, &c, &mut budget)
    };
    let Some(body) = crate::util::ssi::expand(t.resolved.unwrap_or(t.requested), root, &mut read) else {
        return not_found(fs, opts);
    };
    html_page(body, opts)
}

/// Without the `ssi` feature: `501`, as Mongoose built without `MG_ENABLE_SSI` answers.
#[cfg(not(feature = "ssi"))]
fn ssi(_fs: &dyn Fs, _t: &Target<'_>, opts: &Options<'_>) -> Reply {
    // A static: a 16-byte literal would keep LLVM's `.rodata.cst16` pool (see
    // `crate::util::str::HEX_LOWER`).
    static SSI_OFF: [u8; 16] = *b"SSI not enabled\n";
    text(501, None, &SSI_OFF, opts)
}

/// The listing page of directory `dir` (canonical, under `root`), requested as `p`.
#[cfg(feature = "dirlist")]
fn listing(fs: &dyn Fs, dir: &[u8], root: &[u8], p: &path::UriPath, opts: &Options<'_>) -> Reply {
    let mut uri = Vec::with_capacity(p.path.len() + 2);
    crate::util::push_byte(&mut uri, b'/');
    if !p.path.is_empty() {
        uri.extend_from_slice(&p.path);
        crate::util::push_byte(&mut uri, b'/');
    }
    // Entries that lead out of `root` (through a symbolic link) are left out, so the page
    // does not show what the server would refuse.
    let keep = |p: &[u8]| !fs.has_links() || path::confine(fs, p, root).is_ok();
    let body = crate::fs::listing::html(fs, dir, &uri, &keep);
    html_page(body, opts)
}

/// Without the `dirlist` feature: `403`, as Mongoose built without `MG_ENABLE_DIRLIST`
/// answers for a directory without an index file.
#[cfg(not(feature = "dirlist"))]
fn listing(fs: &dyn Fs, _dir: &[u8], _root: &[u8], _p: &path::UriPath, opts: &Options<'_>) -> Reply {
    miss(fs, Miss::Forbidden, opts)
}

/// A generated page (SSI expansion, directory listing): `200 text/html` from memory.
#[cfg(any(feature = "ssi", feature = "dirlist"))]
fn html_page(body: Vec<u8>, opts: &Options<'_>) -> Reply {
    let mut h = Head::new(200);
    h.line(b"Content-Type: text/html; charset=utf-8\r\n");
    h.field_num("Content-Length", body.len() as u64);
    Reply {
        status: 200,
        head: h.end(opts),
        body: memory(body),
        plain: false,
    }
}

/// A web root directory as `root_dir` names it, with its canonical form.
struct Root {
    dir: Vec<u8>,
    /// Whether it was resolved on a file system with links: the same directory served
    /// from another kind of file system is another entry.
    links: bool,
    /// `dir` canonicalized when it was last usable (empty before).
    canon: Vec<u8>,
    /// The `stat` of `dir` when `canon` was resolved; `None` until then. Apart from
    /// `canon`, not a pair in an `Option`: one assignment each when it is resolved again.
    stat: Option<Stat>,
    /// `dir` was all of a `root_dir` (one directory alone: no `,`, no `=`), so that text
    /// names this directory alone ([`RootCache::whole`]).
    whole: bool,
}

/// How many web root directories a [`RootCache`] keeps resolved.
const ROOTS_KEEP: usize = 8;

/// The web root directories a manager served from recently (each mount's directory of the
/// `root_dir` strings, [`path::select`]), canonicalized, keyed by the directory as written:
/// a root is resolved once (`realpath` costs a `readlink` per component), not on every
/// request, and resolved again when its `stat` changes. Paths below it are confined on
/// every request.
#[derive(Default)]
pub struct RootCache {
    entries: Vec<Root>,
    /// How many entries were added: once [`ROOTS_KEEP`] are kept, entry `added % ROOTS_KEEP`
    /// is the oldest, replaced by the next one (first in, first out, nothing moved).
    added: usize,
}

impl core::fmt::Debug for RootCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RootCache")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl RootCache {
    /// The entry of `spec` (a `root_dir`) when it is one directory alone, served before:
    /// then it serves every path as it is (one comparison, not a walk of the text per
    /// request), and [`RootCache::root`] is handed the entry (not looked up again).
    fn whole(&self, spec: &[u8], links: bool) -> Option<usize> {
        self.entries
            .iter()
            .position(|r| r.whole && r.links == links && r.dir == spec)
    }

    /// The canonical form of the web root `dir`, a part of the `root_dir` text `spec`. It
    /// is resolved again when a `stat` of `dir` (following links) no longer matches the one
    /// taken when it was resolved: a root replaced, moved, or re-pointed by a symlink is
    /// noticed on the next request.
    /// `known`: its entry, when [`RootCache::whole`] found it.
    fn root(&mut self, fs: &dyn Fs, dir: &[u8], spec: &[u8], known: Option<usize>) -> Option<&[u8]> {
        let links = fs.has_links();
        let known = known.or_else(|| self.entries.iter().position(|r| r.dir == dir && r.links == links));
        let i = match known {
            Some(i) => i,
            None => {
                let root = Root {
                    dir: dir.to_vec(),
                    links,
                    canon: Vec::new(),
                    stat: None,
                    whole: false,
                };
                let i = self.added % ROOTS_KEEP;
                self.added = self.added.wrapping_add(1);
                match self.entries.get_mut(i) {
                    Some(old) => *old = root,
                    None => self.entries.push(root),
                }
                i.min(self.entries.len() - 1)
            }
        };
        let m = self.entries.get_mut(i)?;
        // A part of `spec` as long as `spec` is all of it.
        m.whole |= dir.len() == spec.len();
        let now = fs.stat(dir);
        if now.is_none() || m.stat != now {
            now.filter(|s| s.dir)?;
            m.canon = if links { fs.canonical(dir)? } else { dir.to_vec() };
            m.stat = now;
        }
        Some(&m.canon)
    }
}

/// `mg_http_serve_file`: serve the file at `path` of `fs` (chosen by the application; not
/// confined to any root), with the same headers, conditionals, ranges and `.gz` handling.
pub fn serve_file(req: &Request<'_>, fs: &dyn Fs, path: &[u8], opts: &Options<'_>) -> Reply {
    if !method_allowed(req) {
        return not_allowed(opts);
    }
    let t = Target {
        requested: path,
        resolved: Some(path),
        root: None,
        opened: None,
    };
    serve_regular(req, fs, t, opts)
}

#[cfg(test)]
mod tests;
