//! Static files: `mg_http_serve_dir` and `mg_http_serve_file` with `struct
//! mg_http_serve_opts`. The logic lives in [`crate::serve`]; this file only reads the C
//! arguments and queues the reply on the connection.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_void};

use super::registry;
use super::types::*;
use super::{cast, guard_code};
use crate::ffi::error::*;
use crate::ffi::fs::{mg_fs, CFs};
use crate::fs::Fs;
use crate::handle::Handle;
use crate::mgr::Mgr;
use crate::serve;

/// Options of `mg_http_serve_dir` and `mg_http_serve_file`, laid out as in Mongoose 7.x.
/// Every string is NUL-terminated, may be NULL unless noted, and is only read during the
/// call (nothing is kept).
///
/// - `root_dir`: the web root (`mg_http_serve_dir` only; required there). Also a
///   comma-separated list of `dir` (served at `/`) and `/prefix=dir` entries, e.g.
///   `"/var/www,/static=/opt/static"`; the longest prefix matching whole path segments
///   wins (Mongoose takes the last matching entry). Relative directories are relative to
///   the process's working directory.
/// - `ssi_pattern`: a Mongoose glob (`mg_match`: `*` within a path segment, `#` across
///   segments, `?` one byte) matched against the file's path (web root + request path), e.g.
///   `"#.shtml"`. `mg_http_serve_dir` sends a matching file as `text/html` after expanding
///   its server-side includes as `mg_http_serve_ssi` does, reading included files from the
///   same file system, confined to the web root, at most 1 MiB of files per page. NULL or
///   empty: no SSI.
/// - `extra_headers`: `Name: value\r\n` lines added to every response (the final CRLF may
///   be omitted). Text with an empty line, a bare CR or LF, a line without a colon, a name
///   that is not a token (`"A : b"`), a line starting with whitespace or a control character
///   makes the call fail with `MG_ERR_INVALID` (the rule `mg_http_reply`'s headers follow).
/// - `mime_types`: extra content types, `"ext1=type1,ext2=type2"`, consulted before the
///   built-in table (`html`, `css`, `js`, `json`, `svg`, `png`, `wasm`, `woff2`, ...;
///   unknown extensions are `application/octet-stream`).
/// - `page404`: a file sent (with status 404) when the path is not found. If it cannot be
///   opened, a short text 404 is sent instead. Not confined to the web root.
/// - `fs`: Mongoose's `struct mg_fs *`, the file system every path is looked up in
///   (`root_dir`, `page404`, the path of `mg_http_serve_file`). NULL or `&mg_fs_posix` (or
///   a copy of it): the operating system's files, with symbolic links resolved and confined
///   to the web root and files sent with `sendfile(2)`. `&mg_fs_packed` (or a copy): the web
///   root packed into the program by `scripts/pack.py` (`mg_mem_files`), e.g.
///   `root_dir = "/web_root"`. Any other: the
///   program's own `struct mg_fs` (LittleFS, FatFS, ...), whose table is read at each call.
///   A `struct mg_fs` cannot say that it has symbolic links: its paths are confined to the
///   web root lexically (no `..` segment), so a file system with links must not let them
///   lead out. Its `st` tells directories from files only (anything not a directory is
///   served as a file), it gives no ETag nanoseconds, and its functions run on the
///   manager's thread, also while a file is being sent from `mg_mgr_poll`: they must not
///   call meerkat's functions.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_http_serve_opts {
    pub root_dir: *const c_char,
    pub ssi_pattern: *const c_char,
    pub extra_headers: *const c_char,
    pub mime_types: *const c_char,
    pub page404: *const c_char,
    pub fs: *mut c_void,
}

/// The file system a `struct mg_fs *` names, each as [`ReadOnly`]: meerkat's own POSIX one
/// for `mg_fs_posix` (it resolves symbolic links, so paths can be confined to a root, and
/// sends with `sendfile`), otherwise the C table: `mg_fs_packed` too, whose functions are
/// the core's [`crate::fs::packed::Packed`] over `mg_mem_files` (not a variant of its own:
/// recognising it named that code in every program that serves files, 1 KB of
/// http-hello's text, where only the programs that pass `&mg_fs_packed` need it).
pub(crate) enum FsChoice {
    Posix(ReadOnly<crate::sys::PosixFs>),
    C(ReadOnly<CFs>),
}

/// `T` with the reading half of [`Fs`] only, as the server uses it: the `dyn Fs` table the
/// server is handed then names none of `T`'s writing methods (rename, remove, mkdir), which
/// a program that only serves files would otherwise link (1.1 KB for POSIX and C file
/// systems).
pub(crate) struct ReadOnly<T>(T);

impl<T: Fs> Fs for ReadOnly<T> {
    fn stat(&self, path: &[u8]) -> Option<crate::fs::Stat> {
        self.0.stat(path)
    }
    /// Only the directory listing lists: without the `dirlist` feature the server's view
    /// names none of `T`'s listing code.
    #[cfg(feature = "dirlist")]
    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8])) {
        self.0.list(dir, f)
    }
    #[cfg(not(feature = "dirlist"))]
    fn list(&self, _dir: &[u8], _f: &mut dyn FnMut(&[u8])) {}
    fn open(&self, path: &[u8], flags: u32) -> Result<Box<dyn crate::fs::File>, crate::Error> {
        self.0.open(path, flags)
    }
    fn canonical(&self, path: &[u8]) -> Option<Vec<u8>> {
        self.0.canonical(path)
    }
    fn has_links(&self) -> bool {
        self.0.has_links()
    }
    fn open_beneath(&self, root: &[u8], rel: &[u8]) -> crate::fs::Beneath {
        self.0.open_beneath(root, rel)
    }
}

impl FsChoice {
    pub(crate) fn of(fs: *mut c_void) -> Result<FsChoice, c_int> {
        let fs = fs.cast_const().cast::<mg_fs>();
        if fs.is_null() || CFs::is_posix(fs) {
            Ok(FsChoice::Posix(ReadOnly(crate::sys::PosixFs)))
        } else {
            CFs::from_ptr(fs)
                .map(|c| FsChoice::C(ReadOnly(c)))
                .ok_or(MG_ERR_INVALID)
        }
    }

    pub(crate) fn get(&self) -> &dyn Fs {
        match self {
            FsChoice::Posix(p) => p,
            FsChoice::C(c) => c,
        }
    }
}

/// The checked options (the file system they name is [`FsChoice::of`] `o.fs`, asked for
/// first; apart, so that neither is moved out of a tuple in a `Result`).
fn options(o: &mg_http_serve_opts) -> Result<serve::Options<'_>, c_int> {
    let extra = serve::extra_headers(cast::cstr_bytes_or_empty(o.extra_headers)).ok_or(MG_ERR_INVALID)?;
    let page404 = match cast::cstr_bytes_or_empty(o.page404) {
        [] => None,
        p => Some(p),
    };
    Ok(serve::Options {
        extra_headers: extra,
        mime_types: cast::cstr_bytes_or_empty(o.mime_types),
        page404,
        ssi_pattern: cast::cstr_bytes_or_empty(o.ssi_pattern),
    })
}

/// A header field: (name, value).
type Field<'a> = (&'a [u8], &'a [u8]);

/// How many header fields [`Fields`] keeps on the stack (512 bytes) before it moves them
/// to the heap.
const STACK_FIELDS: usize = 16;

/// The header fields of a request as `serve::Request` borrows them: on the stack when
/// there are few (the usual case: no allocation per request), else in a vector.
struct Fields<'a> {
    /// Filled as far as there are fields (nothing written up front, unlike an array).
    stack: heapless::Vec<Field<'a>, STACK_FIELDS>,
    heap: Vec<Field<'a>>,
}

impl<'a> Fields<'a> {
    /// No fields yet.
    fn new() -> Fields<'a> {
        Fields {
            stack: heapless::Vec::new(),
            heap: Vec::new(),
        }
    }

    /// Adds the fields of `m` (see [`cast::http_headers`]). Filled where the caller keeps
    /// it, not returned: the 512-byte vector is not copied out of a `Result`.
    fn fill(&mut self, m: &'a mg_http_message) -> Result<(), c_int> {
        for h in cast::http_headers(m) {
            let field = (cast::mg_str_bytes(h.name)?, cast::mg_str_bytes(h.value)?);
            if self.heap.is_empty() && self.stack.push(field).is_ok() {
                continue;
            }
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack);
            }
            self.heap.push(field);
        }
        Ok(())
    }

    fn all(&self) -> &[Field<'a>] {
        if self.heap.is_empty() {
            &self.stack
        } else {
            &self.heap
        }
    }
}

/// The request fields static serving looks at, read from `m`, with its header `fields`.
/// Inlined into its callers: out of line, the `Request` was returned in a `Result` and
/// moved out of it again (-112 B; `options` so is +32, `FsChoice::of` +16).
#[inline(always)]
fn request<'a>(m: &'a mg_http_message, fields: &'a [Field<'a>]) -> Result<serve::Request<'a>, c_int> {
    Ok(serve::Request {
        method: cast::mg_str_bytes(m.method)?,
        uri: cast::mg_str_bytes(m.uri)?,
        query: cast::mg_str_bytes(m.query)?,
        headers: fields,
    })
}

/// Queue `r` on connection `h` of `m`.
fn queue(m: &Mgr, h: Handle, req: &serve::Request<'_>, r: serve::Reply) -> Result<c_int, c_int> {
    // The arguments are made only when the line is written. Bytes are shown escaped
    // (`log::Escaped`, as elsewhere in log lines), not through `String::from_utf8_lossy`,
    // which was 1 KB of a static server's text for log lines alone.
    if crate::log::enabled(crate::log::LL_DEBUG) {
        // " -> " out of a longer literal: alone it would be pooled (`util::str::cut`).
        const TEXTS: &str = "serve:  -> ";
        const SERVE: &str = crate::util::str::cut(TEXTS, 0, 7);
        const ARROW: &str = crate::util::str::cut(TEXTS, 7, 11);
        crate::mlog!(crate::log::LL_DEBUG; SERVE, crate::log::Escaped(req.method), " ", crate::log::Escaped(req.uri), ARROW, r.status);
    }
    // One call for every reply (`plain` only ever says so of a file body); a body in
    // memory is a file too, sent as the socket takes it.
    m.send_file_with(h, &r.head, r.body, r.plain)?;
    Ok(MG_OK)
}

/// Answer the request `hm` on `c` with the file its path names under `opts->root_dir`, as
/// Mongoose's `mg_http_serve_dir` (see `struct mg_http_serve_opts`). Call it from the
/// `MG_EV_HTTP_MSG` handler (or later, while the request is still unanswered).
///
/// - GET and HEAD only; other methods get `405` with `Allow: GET, HEAD`.
/// - The path is URL-decoded; `..` segments (also as `%2e%2e` or `..%2f`), NUL bytes and
///   backslashes get `400`. The resolved file must lie under the web root after symlinks
///   are resolved; one that does not (a symlink leading out) gets `404`, as does a missing
///   file or one that vanishes before it is opened. OS permission errors get `403`.
/// - A directory without a trailing slash gets `301` to the slash form. With the slash,
///   `index.html`, `index.htm` or `index.shtml` is served, else (when there is no
///   `index.html.gz` either) the directory listing: `200`, `text/html; charset=utf-8`, a
///   table of the entries (directories first, then files, by name; modification time in
///   UTC and size), names HTML-escaped and links percent-encoded, a `..` row except at `/`.
///   Entries that are symbolic links leading out of the web root are left out. A small
///   script of meerkat's own sorts the rows when a column head is clicked, as Mongoose's
///   listing does. Built without the `dirlist` feature (on by default): `403 Forbidden`
///   instead of the listing, as Mongoose without `MG_ENABLE_DIRLIST`.
/// - Responses carry `Content-Type`, `Content-Length`, `Accept-Ranges: bytes`, a strong
///   `ETag` (`"<mtime s>.<mtime ns>-<size>"` in hex) and `Last-Modified`, then
///   `extra_headers`; no `Date`. `If-None-Match` (takes precedence) and
///   `If-Modified-Since` give `304`; `If-Match` / `If-Unmodified-Since` give `412`. Built
///   without the `http-dates` feature (on by default; Mongoose has no dates): no
///   `Last-Modified`, the two date fields ignored, an `If-Range` date never matching.
/// - GET with one `Range: bytes=a-b`, `a-` or `-n` gives `206` with `Content-Range`, or
///   `416` with a `Content-Range` naming the file size (`bytes *` + `/` + size) when out of range. Several ranges (no
///   multipart/byteranges) or a malformed header: the whole file with `200`. `If-Range`
///   is honoured.
/// - If `file.gz` exists next to `file`, responses carry `Vary: Accept-Encoding`; when the
///   request's `Accept-Encoding` admits gzip, `file.gz` is sent with
///   `Content-Encoding: gzip` and `file`'s Content-Type. When only `file.gz` exists (a web
///   root packed with `pack.py -z`), clients that admit gzip get it so, others `404`, as in
///   Mongoose.
/// - File bodies are sent from the file with `sendfile(2)` (other file systems: read in
///   chunks as the socket takes them), never read into memory whole; for HEAD only the
///   head is sent. `Connection: close` is added when the request asked for it.
///
/// Returns 0 when a response was queued (whatever its status), or: `MG_ERR_INVALID` (NULL
/// `hm`, `opts` or `root_dir`, empty `root_dir`, bad `extra_headers`), `MG_ERR_STALE`,
/// `MG_ERR_WRONG_THREAD`, `MG_ERR_CLOSING`, `MG_ERR_FULL` (the head does not fit in the
/// send buffer); then nothing was sent. A listing or SSI page larger than the send buffer
/// is sent from memory as the socket takes it. Mongoose
/// returned void. Owner thread. `hm` and every string in `opts` are only read during the
/// call; an open file being sent belongs to meerkat until it is sent or the connection
/// closes.
#[no_mangle]
pub extern "C" fn mg_http_serve_dir(c: mg_conn, hm: *mut mg_http_message, opts: *const mg_http_serve_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let o = cast::as_ref(opts)?;
        let root = cast::cstr_bytes(o.root_dir)?;
        if root.is_empty() {
            return Err(MG_ERR_INVALID);
        }
        let fs = FsChoice::of(o.fs)?;
        let options = options(o)?;
        let hm = cast::as_ref(hm as *const mg_http_message)?;
        let mut fields = Fields::new();
        fields.fill(hm)?;
        let req = request(hm, fields.all())?;
        let reply = serve::serve_dir(&req, fs.get(), &mut m.serve_roots(), root, &options);
        queue(m, h, &req, reply)
    })
}

/// Answer the request `hm` on `c` with the file at `path`, as Mongoose's
/// `mg_http_serve_file`. `path` is chosen by the application and is not confined to any
/// root (never build it from the request without checking it). Methods, headers,
/// conditional requests, ranges, `.gz` siblings and sending work as for
/// `mg_http_serve_dir`; a path that is missing or not a regular file gets `404` (or
/// `opts->page404`). `opts` may be NULL (no extra headers or types); its `root_dir` is not
/// used.
///
/// Returns 0 when a response was queued, or: `MG_ERR_INVALID` (NULL `hm` or `path`, empty
/// `path`, bad `extra_headers`), `MG_ERR_STALE`, `MG_ERR_WRONG_THREAD`, `MG_ERR_CLOSING`, `MG_ERR_FULL`; then nothing was
/// sent. Owner thread. Arguments are only read during the call.
#[no_mangle]
pub extern "C" fn mg_http_serve_file(
    c: mg_conn,
    hm: *mut mg_http_message,
    path: *const c_char,
    opts: *const mg_http_serve_opts,
) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        // NULL `opts`: the defaults, on the OS's files.
        let o = cast::as_ref(opts).ok();
        let fs = o.map_or(Ok(FsChoice::Posix(ReadOnly(crate::sys::PosixFs))), |o| {
            FsChoice::of(o.fs)
        })?;
        let options = o.map_or(Ok(serve::Options::default()), options)?;
        let path = cast::cstr_bytes(path)?;
        if path.is_empty() {
            return Err(MG_ERR_INVALID);
        }
        let hm = cast::as_ref(hm as *const mg_http_message)?;
        let mut fields = Fields::new();
        fields.fill(hm)?;
        let req = request(hm, fields.all())?;
        let reply = serve::serve_file(&req, fs.get(), path, &options);
        queue(m, h, &req, reply)
    })
}
