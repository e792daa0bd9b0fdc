//! Mongoose 7.22 helpers that firmware calls and that needed no new core machinery:
//! base64url, CRC-16, `mg_memeq`, `mg_timegm`, `mg_delayms`, JSON Web Tokens (`mg_jwt_*`),
//! HTTP head parsing outside a connection (`mg_http_parse`, `mg_http_get_request_len`,
//! `mg_http_get_header_var`), and `mg_call` / `mg_error` on a connection handle.

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_uchar, c_uint, c_void};

use base64::Engine;

use super::callback::CHandler;
use super::cast;
use super::guard;
use super::registry;
use super::types::*;
use crate::util::{codec, jwt};

extern crate alloc;

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `mg_base64url_encode(p, n, buf, len)`: base64url (RFC 4648 §5, no padding) of `n` bytes
/// into `buf`, NUL-terminated. Returns the text length, or 0 if `buf` cannot hold it and its
/// NUL (`buf` is then an empty string when `len > 0`). As Mongoose. Any thread.
#[no_mangle]
pub extern "C" fn mg_base64url_encode(p: *const c_uchar, n: usize, buf: *mut c_char, len: usize) -> usize {
    guard(|| {
        let Ok(out) = cast::slice_mut(buf.cast(), len) else {
            return 0;
        };
        if let Some(first) = out.first_mut() {
            *first = 0;
        }
        let Ok(input) = cast::slice(p.cast(), n) else {
            return 0;
        };
        let need = (n / 3) * 4 + [0, 2, 3][n % 3];
        if len <= need {
            return 0;
        }
        let k = B64URL.encode_slice(input, &mut out[..need]).unwrap_or(0);
        out[k] = 0;
        k
    })
}

/// `mg_base64url_decode(src, n, dst, len)`: decode base64url text (padding optional, decoding
/// stops at the first `=`) into `dst`, NUL-terminated. Returns the decoded length, or 0 on a
/// bad character, a bad length, or too small a `dst` (`dst` is then an empty string). As
/// Mongoose. Any thread.
#[no_mangle]
pub extern "C" fn mg_base64url_decode(src: *const c_char, n: usize, dst: *mut c_char, len: usize) -> usize {
    guard(|| {
        super::hash::decode_to_c(&B64URL, src, n, dst, len, |t| {
            &t[..t.iter().position(|&b| b == b'=').unwrap_or(t.len())]
        })
    })
}

/// `mg_crc16(crc, buf, len)`: CRC-16/IBM-SDLC (X.25) of `len` bytes continued from `crc` (0 to
/// start), as Mongoose. Any thread.
#[no_mangle]
pub extern "C" fn mg_crc16(crc: u16, buf: *const c_char, len: usize) -> u16 {
    guard(|| cast::slice(buf.cast(), len).map_or(crc, |d| codec::crc16(crc, d)))
}

/// `mg_memeq(a, b, n)`: whether `n` bytes are equal, in time that depends only on `n` (for
/// comparing secrets). False if a pointer is NULL and `n > 0`. Any thread.
#[no_mangle]
pub extern "C" fn mg_memeq(a: *const c_void, b: *const c_void, n: usize) -> bool {
    guard(|| {
        let (Ok(a), Ok(b)) = (cast::slice(a, n), cast::slice(b, n)) else {
            return false;
        };
        let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        core::hint::black_box(diff) == 0
    })
}

/// `mg_timegm(year, month, day, hour, min, sec)`: seconds since the Unix epoch of a UTC date,
/// `month` 1-12. 0 for a year before 1970 or a month outside 1-12. Any thread.
#[no_mangle]
pub extern "C" fn mg_timegm(year: c_uint, month: c_uint, day: c_uint, hour: c_uint, min: c_uint, sec: c_uint) -> u64 {
    guard(|| codec::timegm(year, month, day, hour, min, sec))
}

/// `mg_delayms(ms)`: block the calling thread for at least `ms` milliseconds. Difference from
/// Mongoose: the thread sleeps instead of busy-waiting on `mg_millis()`. Not in an event
/// handler. Any thread.
#[no_mangle]
pub extern "C" fn mg_delayms(ms: c_uint) {
    guard(|| {
        #[cfg(feature = "std")]
        std::thread::sleep(core::time::Duration::from_millis(u64::from(ms)));
        // Without an OS to sleep on: wait on the clock, as Mongoose does.
        #[cfg(not(feature = "std"))]
        {
            let end = crate::util::clock::millis().saturating_add(u64::from(ms));
            while crate::util::clock::millis() < end {
                core::hint::spin_loop();
            }
        }
    })
}

/// Mongoose's `struct mg_jwt_opts`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_jwt_opts {
    /// The JSON payload.
    pub claims: mg_str,
    /// Extra protected-header members, without braces; `alg` and `typ` are set.
    pub header: mg_str,
    /// Key ID (`kid`) for the protected header, or empty.
    pub kid: mg_str,
    /// HS256 secret.
    pub secret: mg_str,
    /// ES256 private key: 32 bytes, big-endian.
    pub private_key: *const u8,
    /// ES256 public key: 64 bytes, `x || y`.
    pub public_key: *const u8,
}

fn jwt_claims(o: &mg_jwt_opts) -> Option<jwt::Claims<'static>> {
    Some(jwt::Claims {
        claims: cast::mg_str_bytes(o.claims).ok()?,
        header: cast::mg_str_bytes(o.header).ok()?,
        kid: cast::mg_str_bytes(o.kid).ok()?,
    })
}

/// Copy `data` into `buf` with a NUL; its length, or 0 (and an empty `buf`) if it does not fit.
fn out_with_nul(data: &[u8], buf: *mut c_char, len: usize) -> usize {
    let Ok(out) = cast::slice_mut(buf.cast(), len) else {
        return 0;
    };
    if data.len() >= len {
        if let Some(first) = out.first_mut() {
            *first = 0;
        }
        return 0;
    }
    out[..data.len()].copy_from_slice(data);
    out[data.len()] = 0;
    data.len()
}

fn jwt_out(token: Option<Vec<u8>>, buf: *mut c_char, len: usize) -> usize {
    match token {
        Some(t) => out_with_nul(&t, buf, len),
        None => {
            let _ = out_with_nul(b"", buf, len);
            0
        }
    }
}

// One function per algorithm and direction, so that a program calling only the HS256 ones
// links without P-256 (most of the JWT code).

fn jwt_sign_hs256(opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    let Ok(o) = cast::as_ref(opts) else {
        return 0;
    };
    let (Some(c), Ok(secret)) = (jwt_claims(o), cast::mg_str_bytes(o.secret)) else {
        return 0;
    };
    jwt_out(Some(jwt::sign_hs256(&c, secret)), buf, len)
}

fn jwt_sign_es256(opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    let Ok(o) = cast::as_ref(opts) else {
        return 0;
    };
    let (Some(c), Ok(key)) = (jwt_claims(o), cast::slice(o.private_key.cast(), 32)) else {
        return 0;
    };
    jwt_out(jwt::sign_es256(&c, key), buf, len)
}

fn jwt_verify_hs256(token: mg_str, opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    let (Ok(o), Ok(t)) = (cast::as_ref(opts), cast::mg_str_bytes(token)) else {
        return 0;
    };
    let Ok(secret) = cast::mg_str_bytes(o.secret) else {
        return 0;
    };
    jwt_out(jwt::verify_hs256(t, secret).ok(), buf, len)
}

fn jwt_verify_es256(token: mg_str, opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    let (Ok(o), Ok(t)) = (cast::as_ref(opts), cast::mg_str_bytes(token)) else {
        return 0;
    };
    let Ok(key) = cast::slice(o.public_key.cast(), 64) else {
        return 0;
    };
    jwt_out(jwt::verify_es256(t, key).ok(), buf, len)
}

/// `mg_jwt_sign_hs256(opts, buf, len)`: a compact JWT of `opts->claims` signed with HMAC-SHA-256
/// and `opts->secret`, NUL-terminated in `buf`. Its length, or 0 if it does not fit. The header
/// is `{"alg":"HS256","typ":"JWT"}` plus `kid` and `opts->header` when given. Any thread.
#[no_mangle]
pub extern "C" fn mg_jwt_sign_hs256(opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    guard(|| jwt_sign_hs256(opts, buf, len))
}

/// `mg_jwt_verify_hs256(jwt, opts, buf, len)`: check an HS256 token against `opts->secret`
/// (and that its header says HS256); on success the decoded claims, NUL-terminated, in `buf`
/// and their length. 0 on any failure. Any thread.
#[no_mangle]
pub extern "C" fn mg_jwt_verify_hs256(jwt: mg_str, opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    guard(|| jwt_verify_hs256(jwt, opts, buf, len))
}

/// `mg_jwt_sign_es256(opts, buf, len)`: as `mg_jwt_sign_hs256` with ECDSA P-256 and the
/// 32-byte `opts->private_key` (deterministic signatures, RFC 6979). Difference from Mongoose:
/// available whatever the TLS build (Mongoose: MG_TLS_BUILTIN only). Any thread.
#[no_mangle]
pub extern "C" fn mg_jwt_sign_es256(opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    guard(|| jwt_sign_es256(opts, buf, len))
}

/// `mg_jwt_verify_es256(jwt, opts, buf, len)`: as `mg_jwt_verify_hs256` with the 64-byte
/// (`x || y`) `opts->public_key`. Any thread.
#[no_mangle]
pub extern "C" fn mg_jwt_verify_es256(jwt: mg_str, opts: *const mg_jwt_opts, buf: *mut c_char, len: usize) -> usize {
    guard(|| jwt_verify_es256(jwt, opts, buf, len))
}

/// `mg_http_get_header_var(s, v)`: the value of `v` in a header value such as
/// `Content-Type: multipart/form-data; boundary=xyz` (`s` the header value, `v` "boundary"),
/// without quotes; `{NULL, 0}` if absent. Points into `s`. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_get_header_var(s: mg_str, v: mg_str) -> mg_str {
    guard(|| {
        let (Ok(sb), Ok(vb)) = (cast::mg_str_bytes(s), cast::mg_str_bytes(v)) else {
            return mg_str::EMPTY;
        };
        match crate::http::get_header_var(sb, vb) {
            Some(sp) => mg_str::from_bytes(sp.get(sb)),
            None => mg_str::EMPTY,
        }
    })
}

/// The length of an HTTP head (up to and including its empty line) at the start of `buf`; 0
/// if incomplete, -1 if a byte cannot be in an HTTP head (a control character other than
/// CR, LF and TAB).
fn request_len(buf: &[u8]) -> c_int {
    for (i, &b) in buf.iter().enumerate() {
        if b < 0x20 && b != b'\r' && b != b'\n' && b != b'\t' || b == 0x7f {
            return -1;
        }
        if b == b'\n' {
            let rest = &buf[i + 1..];
            let end = if rest.first() == Some(&b'\n') {
                Some(i + 2)
            } else if rest.starts_with(b"\r\n") {
                Some(i + 3)
            } else {
                None
            };
            if let Some(end) = end {
                return c_int::try_from(end).unwrap_or(-1);
            }
        }
    }
    0
}

/// `mg_http_get_request_len(buf, len)`: the length of the HTTP head at the start of `buf`
/// (where the body starts), 0 if the head is incomplete, -1 if `buf` cannot be HTTP. Any
/// thread.
#[no_mangle]
pub extern "C" fn mg_http_get_request_len(buf: *const c_uchar, buf_len: usize) -> c_int {
    guard(|| cast::slice(buf.cast(), buf_len).map_or(-1, request_len))
}

#[cfg(feature = "std")]
std::thread_local! {
    /// The header array of the last `mg_http_parse` on this thread (`hm->headers` points here).
    static PARSE_HEADERS: core::cell::RefCell<Vec<mg_http_header>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Run `f` on the header array `hm->headers` will point to: per thread with `std`, one for
/// the program without (firmware without threads).
#[cfg(feature = "std")]
fn with_parse_headers<R>(f: impl FnOnce(&mut Vec<mg_http_header>) -> R) -> R {
    PARSE_HEADERS.with(|cell| f(&mut cell.borrow_mut()))
}

#[cfg(not(feature = "std"))]
fn with_parse_headers<R>(f: impl FnOnce(&mut Vec<mg_http_header>) -> R) -> R {
    struct Headers(Vec<mg_http_header>);
    // SAFETY: the array holds pointers into callers' buffers that meerkat never reads
    // through; the lock only serialises replacing it.
    unsafe impl Send for Headers {}
    static HEADERS: spin::Mutex<Headers> = spin::Mutex::new(Headers(Vec::new()));
    f(&mut HEADERS.lock().0)
}

fn parse(s: &[u8], hm: &mut mg_http_message) -> c_int {
    let n = request_len(s);
    let Ok(head_len) = usize::try_from(n) else {
        return -1;
    };
    if head_len == 0 {
        return 0;
    }
    let head = &s[..head_len];
    let mut raw = [httparse::EMPTY_HEADER; MG_MAX_HTTP_HEADERS];
    let is_response = head.starts_with(b"HTTP/");
    let (line, headers): ([&[u8]; 4], &[httparse::Header<'_>]) = if is_response {
        let mut r = httparse::Response::new(&mut raw);
        match r.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return -1,
        }
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let mut fields = line.splitn(3, |&b| b == b' ');
        let proto = fields.next().unwrap_or_default();
        let code = fields.next().unwrap_or_default();
        let reason = fields.next().unwrap_or_default();
        let reason = reason.strip_suffix(b"\r").unwrap_or(reason);
        ([proto, code, b"", reason], r.headers)
    } else {
        let mut r = httparse::Request::new(&mut raw);
        match r.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return -1,
        }
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let mut fields = line.splitn(3, |&b| b == b' ');
        let method = fields.next().unwrap_or_default();
        let target = fields.next().unwrap_or_default();
        let proto = fields.next().unwrap_or_default();
        let proto = proto.strip_suffix(b"\r").unwrap_or(proto);
        let (uri, query) = match target.iter().position(|&b| b == b'?') {
            Some(q) => (&target[..q], &target[q + 1..]),
            None => (target, &target[target.len()..]),
        };
        ([method, uri, query, proto], r.headers)
    };
    let mut cl: Option<usize> = None;
    let mut chunked = false;
    for h in headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            cl = core::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse().ok());
            if cl.is_none() {
                return -1;
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
    }
    let rest = &s[head_len..];
    // As Mongoose: a declared Content-Length is the body's length even before all of it has
    // arrived (the caller compares hm->message.len with what it has); a response without one
    // runs to the end of what is there; a request without one has none.
    let body_len = match cl {
        Some(cl) if !chunked => cl,
        _ if is_response || chunked => rest.len(),
        _ => 0,
    };
    let body_ptr = s[head_len..].as_ptr();
    with_parse_headers(|v| {
        v.clear();
        v.extend(headers.iter().map(|h| mg_http_header {
            name: mg_str::from_bytes(h.name.as_bytes()),
            value: mg_str::from_bytes(h.value),
        }));
        v.push(mg_http_header {
            name: mg_str::EMPTY,
            value: mg_str::EMPTY,
        });
        hm.headers = v.as_mut_ptr();
        hm.num_headers = headers.len();
    });
    hm.method = mg_str::from_bytes(line[0]);
    hm.uri = mg_str::from_bytes(line[1]);
    hm.query = mg_str::from_bytes(line[2]);
    hm.proto = mg_str::from_bytes(line[3]);
    if is_response {
        // Mongoose's response layout: method = protocol, uri = status code, proto = reason.
        hm.method = mg_str::from_bytes(line[0]);
        hm.uri = mg_str::from_bytes(line[1]);
        hm.query = mg_str::EMPTY;
    }
    hm.head = mg_str::from_bytes(head);
    hm.body = mg_str {
        buf: body_ptr as *mut c_char,
        len: body_len,
    };
    hm.message = mg_str {
        buf: s.as_ptr() as *mut c_char,
        len: head_len.saturating_add(body_len),
    };
    n
}

/// `mg_http_parse(s, len, hm)`: parse the HTTP request or response head at the start of `s`
/// into `hm`. Returns the head's length, 0 if it is incomplete, -1 if it is not HTTP.
/// `hm`'s strings point into `s`. As in Mongoose, `hm->body.len` is the Content-Length even
/// when fewer bytes have arrived: check `hm->message.len <= len` before reading the body.
/// Difference from Mongoose: `hm->headers` points to a per-thread array that the next
/// `mg_http_parse` on the same thread reuses (Mongoose: an array inside `hm`). Any thread.
#[no_mangle]
pub extern "C" fn mg_http_parse(s: *const c_char, len: usize, hm: *mut mg_http_message) -> c_int {
    guard(|| {
        let (Ok(s), Ok(hm)) = (cast::slice(s.cast(), len), cast::as_mut(hm)) else {
            return -1;
        };
        parse(s, hm)
    })
}

/// `mg_call(c, ev, ev_data)`: call `c`'s event handler with `ev` and `ev_data` now, as
/// Mongoose does. Nothing happens for a stale handle or a connection whose handler is not a
/// C one. Owner thread.
// `ev_data` is never dereferenced here: it is handed to the application's handler as is.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn mg_call(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else {
            return;
        };
        let Ok(handler) = m.handler(h) else {
            return;
        };
        if let Some(f) = CHandler::fn_of(&*handler) {
            // SAFETY: `f` was registered by the application as an event handler with this
            // signature; `ev_data` is the caller's, passed through as Mongoose does. No
            // meerkat borrow is held across the call (the handler may call back in).
            unsafe { f(c, ev, ev_data) }
        }
    })
}

/// The end of `mg_error` (the C shim formats the message): log it at error level with the
/// connection's id, give the handler `MG_EV_ERROR` with the message, and close. Owner thread.
///
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mk_error(c: mg_conn, msg: *const c_char) {
    guard(|| {
        let text = cast::cstr_bytes_or_empty(msg);
        let id = super::conn::mg_conn_id(c);
        crate::mlog!(crate::log::LL_ERROR; id, " ", &*alloc::string::String::from_utf8_lossy(text));
        if registry::conn(c).is_err() {
            return;
        }
        mg_call(c, MG_EV_ERROR, msg as *mut c_void);
        let _ = super::conn::mg_close(c);
    })
}

/// Reply with `status` and a text body (the upload's outcome); errors go to the log only, as
/// Mongoose's `mg_http_reply` returns nothing.
fn reply(c: mg_conn, status: c_int, body: &[u8]) {
    let _ = super::http::mg_http_reply_n(c, status, c"".as_ptr(), body.as_ptr().cast(), body.len());
}

/// `mg_http_upload(c, hm, fs, dir, max_size)`: store one piece of an upload sent as
/// `POST /upload?file=NAME&offset=N` with the piece as the body (Mongoose's chunked upload
/// protocol): `dir/NAME` in `fs` is created at offset 0 (replacing an existing file) and
/// appended to at the offset where it ends. Replies 200 with the new size, or 400 with the
/// reason; returns the new size, or -1 no `file`, -2 a `file` that is not a sane path, -3 a
/// bad `offset`, -4 more than `max_size`, -5 an offset other than the file's size, -6 the file
/// cannot be opened (as Mongoose). Unlike Mongoose, a symbolic link at `dir/NAME` that leads
/// out of `dir` is not written through (-2). An empty body replies 200 with 0 and writes nothing.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_upload(
    c: mg_conn,
    hm: *mut mg_http_message,
    fs: *mut super::fs::mg_fs,
    dir: *const c_char,
    max_size: usize,
) -> core::ffi::c_long {
    use crate::fs::{Fs, FS_WRITE};
    guard(|| {
        let (Ok(m), Some(cfs), Ok(choice), Ok(dir)) = (
            cast::as_ref(hm.cast_const()),
            super::fs::CFs::from_ptr(fs),
            super::serve::FsChoice::of(fs.cast()),
            cast::cstr_bytes(dir),
        ) else {
            return -6;
        };
        // Written through the C table (MG_FS_WRITE appends); links are resolved by the
        // file system the table names (mg_fs_posix: meerkat's own, which has links).
        let links = choice.get();
        let query = cast::mg_str_lenient(m.query);
        let body = cast::mg_str_lenient(m.body);
        let file = crate::http::get_var(query, b"file").unwrap_or_default();
        let offset: Option<u64> = match crate::http::get_var(query, b"offset") {
            None => Some(0),
            Some(v) => core::str::from_utf8(&v).ok().and_then(|v| v.trim().parse().ok()),
        };
        let mut path = dir.to_vec();
        path.push(b'/');
        path.extend_from_slice(&file);
        let shown = alloc::string::String::from_utf8_lossy(&path).into_owned();
        if body.is_empty() {
            reply(c, 200, b"0");
            return 0;
        }
        if file.is_empty() {
            reply(c, 400, b"file required");
            return -1;
        }
        if !codec::path_is_sane(&file) || file.contains(&b'/') || file.contains(&b'\\') {
            reply(
                c,
                400,
                crate::log::string(&[&&*alloc::string::String::from_utf8_lossy(&file), &": invalid file"]).as_bytes(),
            );
            return -2;
        }
        let Some(offset) = offset else {
            reply(c, 400, b"offset required");
            return -3;
        };
        // A symbolic link already at `dir/NAME` that leads out of `dir` is not written
        // through (mg_fs_posix resolves links; other file systems have none).
        if links.has_links() && links.stat(&path).is_some() {
            let inside = links
                .canonical(dir)
                .is_some_and(|root| crate::serve::path::confine(links, &path, &root).is_ok());
            if !inside {
                reply(
                    c,
                    400,
                    crate::log::string(&[&&*alloc::string::String::from_utf8_lossy(&file), &": invalid file"])
                        .as_bytes(),
                );
                return -2;
            }
        }
        if offset.saturating_add(body.len() as u64) > max_size as u64 {
            reply(
                c,
                400,
                crate::log::string(&[&shown.as_str(), &": over max size of ", &max_size]).as_bytes(),
            );
            return -4;
        }
        if offset == 0 {
            let _ = cfs.remove(&path);
        }
        let current = cfs.stat(&path).map_or(0, |s| s.size);
        if offset > 0 && current != offset {
            reply(
                c,
                400,
                crate::log::string(&[&shown.as_str(), &": offset mismatch"]).as_bytes(),
            );
            return -5;
        }
        let Ok(mut f) = cfs.open(&path, FS_WRITE) else {
            reply(
                c,
                400,
                crate::log::string(&[&"open(", &shown.as_str(), &")"]).as_bytes(),
            );
            return -6;
        };
        let n = f.write_all(body);
        drop(f);
        let total = offset + n as u64;
        reply(c, 200, alloc::format!("{total}").as_bytes());
        core::ffi::c_long::try_from(total).unwrap_or(core::ffi::c_long::MAX)
    })
}

/// All of the file at `path` in `fs`, or `None`.
#[cfg(feature = "ssi")]
fn read_all(fs: &dyn crate::fs::Fs, path: &[u8]) -> Option<Vec<u8>> {
    let st = fs.stat(path).filter(|s| !s.dir)?;
    let mut f = fs.open(path, crate::fs::FS_READ).ok()?;
    let mut out = alloc::vec![0u8; usize::try_from(st.size).ok()?];
    let n = f.read_full(&mut out);
    out.truncate(n);
    Some(out)
}

/// `mg_http_serve_ssi(c, root, fullpath)`: reply 200 with the HTML file `fullpath` after
/// expanding its server-side includes (`<!--#include file="..." -->` relative to the file,
/// `<!--#include virtual="..." -->` relative to `root`, 5 levels deep; see
/// `meerkat::util::ssi`), read through `mg_fs_posix`; an included file whose path leads out
/// of `root` through a symbolic link is left out, as `mg_http_serve_dir` refuses it.
/// Differences from Mongoose: a missing `fullpath` gets 404 (Mongoose failed the connection
/// with "OOM"); Mongoose follows links out of the root. Built without the `ssi` feature (on
/// by default): replies `501 SSI not enabled`, as Mongoose does without `MG_ENABLE_SSI`.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_serve_ssi(c: mg_conn, root: *const c_char, fullpath: *const c_char) {
    #[cfg(not(feature = "ssi"))]
    guard(|| {
        let _ = (root, fullpath);
        reply(c, 501, b"SSI not enabled\n");
    });
    #[cfg(feature = "ssi")]
    guard(|| {
        let root = cast::cstr_bytes_or_empty(root);
        let Ok(path) = cast::cstr_bytes(fullpath) else {
            reply(c, 404, b"Not found\n");
            return;
        };
        use crate::fs::Fs;
        let fs = &crate::sys::PosixFs;
        // Included files must stay under the root with links resolved, as for
        // mg_http_serve_dir (the include names were already checked for `..`). Without a
        // root, the page's own directory.
        let top_dir = &path[..path.iter().rposition(|&b| b == b'/').unwrap_or(0)];
        let base = fs.canonical(if root.is_empty() { top_dir } else { root });
        let mut read = |p: &[u8]| -> Option<Vec<u8>> {
            if p == path {
                return read_all(fs, p);
            }
            let c = crate::serve::path::confine(fs, p, base.as_deref()?).ok()?;
            read_all(fs, &c)
        };
        match crate::util::ssi::expand(path, root, &mut read) {
            Some(body) => {
                let _ = super::http::mg_http_reply_n(
                    c,
                    200,
                    c"Content-Type: text/html; charset=utf-8\r\n".as_ptr(),
                    body.as_ptr().cast(),
                    body.len(),
                );
            }
            None => reply(c, 404, b"Not found\n"),
        }
    })
}
