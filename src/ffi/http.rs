//! HTTP: listeners and clients, replies, and the helpers firmware uses on
//! `struct mg_http_message`. Connection calls are owner-thread; the pure helpers on messages
//! and strings may be called from any thread.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_void};

use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::http::{Header, Span};
use crate::mgr::http::ProtoKind;

/// Listen for HTTP/1.1 on `url` (`http://0.0.0.0:8000`, `http://[::1]:0`...). Accepted
/// connections get `MG_EV_HTTP_HDRS` and `MG_EV_HTTP_MSG` for each request, one request at a
/// time: the next pipelined request is read only after the response to the current one is
/// complete (however and whenever it is sent). Framing errors are answered by meerkat with
/// 400/413/414/431/501/505 (after earlier responses), then the connection closes.
/// Returns the listener or `{0}` with `mg_last_error()` as for `mg_listen`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_listen(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| {
        super::conn::open(
            mgr,
            url,
            f,
            fn_data,
            |m, url, h, _| m.http_listen_with(url, h),
            ProtoKind::Http,
        )
    })
}

/// Connect to an HTTP server at `url`; send the request with `mg_printf` in
/// `MG_EV_CONNECT`. Responses arrive as `MG_EV_HTTP_HDRS` and `MG_EV_HTTP_MSG` (in the
/// message, `method` is the protocol, `uri` the status code, `proto` the reason). Bodies with
/// Content-Length, chunked, or until the server closes. Returns the handle or `{0}` with
/// `mg_last_error()` as for `mg_connect`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_connect(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| super::conn::open(mgr, url, f, fn_data, crate::mgr::Mgr::connect_with, ProtoKind::Http))
}

/// Send a complete response with `len` body bytes at `body` (the non-variadic core of
/// `mg_http_reply`). `headers` may be NULL or `""`, else zero or more `Name: value\r\n`
/// lines, each ending in CRLF, the last one included: a missing final CRLF, an empty line,
/// a bare CR or LF, a name that is not a token (`"A : b"`), a line starting with
/// whitespace or a control character fails with `MG_ERR_INVALID` and nothing is sent
/// (an error is logged, since Mongoose's `mg_http_reply` returns nothing to check).
/// All or nothing, like `mg_send`. Returns 0, `MG_ERR_INVALID` (status outside 100..=999,
/// (NULL, len > 0), bad `headers`), `MG_ERR_FULL`, `MG_ERR_CLOSING`, `MG_ERR_STALE`.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_reply_n(
    c: mg_conn,
    status: c_int,
    headers: *const c_char,
    body: *const c_char,
    len: usize,
) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        if !matches!(status, 100..=999) {
            return Err(MG_ERR_INVALID);
        }
        let headers = cast::cstr_bytes_or_empty(headers);
        let body = cast::slice(body as *const c_void, len)?;
        m.http_reply(h, status as u16, headers, body)?;
        Ok(MG_OK)
    })
}

/// Send one chunk of a `Transfer-Encoding: chunked` response (`len` 0 ends the body).
/// All or nothing. Returns 0 or a negative error as `mg_send`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_write_chunk(c: mg_conn, buf: *const c_void, len: usize) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let data = cast::slice(buf, len)?;
        let mut out = Vec::with_capacity(len + 16);
        crate::http::write_chunk(&mut out, data);
        m.send(h, &out)?;
        Ok(MG_OK)
    })
}

/// The value of the first header named `name` (case-insensitive), as a pointer into `hm`'s
/// header array (valid as long as `hm` is); NULL if absent or on NULL arguments. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_get_header(hm: *mut mg_http_message, name: *const c_char) -> *mut mg_str {
    guard(|| {
        let (Ok(m), Ok(name)) = (cast::as_ref(hm as *const mg_http_message), cast::cstr_bytes(name)) else {
            return core::ptr::null_mut();
        };
        cast::http_headers(m)
            .find(|h| cast::mg_str_lenient(h.name).eq_ignore_ascii_case(name))
            .map_or(core::ptr::null_mut(), |h| core::ptr::addr_of!(h.value).cast_mut())
    })
}

/// The status code of a response message (`atoi(hm->uri)`), or 0. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_status(hm: *const mg_http_message) -> c_int {
    guard(|| {
        let Ok(m) = cast::as_ref(hm) else { return 0 };
        // Nine digits at most: the value always fits in a c_int.
        cast::mg_str_lenient(m.uri)
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .take(9)
            .fold(0, |n, &d| n * 10 + c_int::from(d - b'0'))
    })
}

/// The raw (still URL-encoded) value of variable `name` in `buf` (`a=1&b=2`), or `{NULL, 0}`.
/// Points into `buf`. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_var(buf: mg_str, name: mg_str) -> mg_str {
    guard(|| {
        let (Ok(b), Ok(n)) = (cast::mg_str_bytes(buf), cast::mg_str_bytes(name)) else {
            return mg_str::EMPTY;
        };
        match crate::http::find_var(b, n) {
            Some(sp) => mg_str::from_bytes(sp.get(b)),
            None => mg_str::EMPTY,
        }
    })
}

/// Decode variable `name` of `buf` (a query string or form body) into `dst` (NUL-terminated).
/// Returns the decoded length, or: -1 `buf`/`name` NULL or empty, -2 `dst` NULL or `dst_len`
/// 0, -3 bad encoding or `dst` too small, -4 no such variable (Mongoose's codes); `dst` is
/// an empty string on every error. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_get_var(buf: *const mg_str, name: *const c_char, dst: *mut c_char, dst_len: usize) -> c_int {
    guard(|| {
        // The value is never longer than `buf`: `dst_len` bounds at most that many bytes + 1.
        let need = cast::as_ref(buf)
            .ok()
            .and_then(|b| cast::mg_str_bytes(*b).ok())
            .map_or(1, |b| b.len().saturating_add(1));
        let Ok(out) = cast::out_buf(dst as *mut c_void, dst_len, need) else {
            return -2;
        };
        if out.is_empty() {
            return -2;
        }
        out[0] = 0;
        let (Ok(b), Ok(n)) = (cast::as_ref(buf), cast::cstr_bytes(name)) else {
            return -1;
        };
        let Ok(b) = cast::mg_str_bytes(*b) else { return -1 };
        if b.is_empty() {
            return -1;
        }
        let room = out.len() - 1;
        match crate::http::get_var_into(b, n, &mut out[..room]) {
            Ok(len) => {
                out[len] = 0;
                len as c_int
            }
            Err(crate::http::VarError::NotFound) => -4,
            Err(_) => {
                out[0] = 0;
                -3
            }
        }
    })
}

/// Credentials of a request (Mongoose's `mg_http_creds`): `Authorization: Basic` gives user
/// and password; `Authorization: Bearer`, the `access_token` cookie or query variable give the
/// password (token) only. Both outputs are NUL-terminated strings, empty when absent or when
/// they do not fit. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_creds(
    hm: *mut mg_http_message,
    user: *mut c_char,
    ulen: usize,
    pass: *mut c_char,
    plen: usize,
) {
    guard(|| {
        let Ok(m) = cast::as_ref(hm as *const mg_http_message) else {
            return;
        };
        // Lay the fields out in one buffer so the span-based helper can read them.
        let mut buf = Vec::new();
        let mut hdrs = Vec::new();
        for h in cast::http_headers(m) {
            let (n, v) = (cast::mg_str_lenient(h.name), cast::mg_str_lenient(h.value));
            let ns = buf.len();
            buf.extend_from_slice(n);
            let vs = buf.len();
            buf.extend_from_slice(v);
            hdrs.push(Header {
                name: Span::new(ns, vs),
                value: Span::new(vs, buf.len()),
            });
        }
        let q = cast::mg_str_lenient(m.query);
        let qs = buf.len();
        buf.extend_from_slice(q);
        let query = (!q.is_empty()).then(|| Span::new(qs, buf.len()));
        let creds = crate::http::creds(&buf, &hdrs, query);
        for (src, dst, cap) in [(&creds.user, user, ulen), (&creds.pass, pass, plen)] {
            let v: &[u8] = if src.len() < cap { src } else { &[] };
            // Nothing is written for cap 0 or a NULL dst (the Err is that case).
            let _ = cast::copy_to_cbuf(v, dst, cap);
        }
    })
}

/// Send an `Authorization: Basic` header line for `user:pass` (a client writes its request
/// head, calls this, then ends the head). Returns 0 or a negative error as `mg_send`.
#[no_mangle]
pub extern "C" fn mg_http_bauth(c: mg_conn, user: *const c_char, pass: *const c_char) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let mut up = cast::cstr_bytes(user)?.to_vec();
        up.push(b':');
        up.extend_from_slice(cast::cstr_bytes(pass)?);
        let mut line = b"Authorization: Basic ".to_vec();
        crate::http::base64_encode(&up, &mut line);
        line.extend_from_slice(b"\r\n");
        m.send(h, &line)?;
        Ok(MG_OK)
    })
}

/// Whether the request's URI matches `glob` (see `mg_match`). Older Mongoose API. Any thread.
#[no_mangle]
pub extern "C" fn mg_http_match_uri(hm: *const mg_http_message, glob: *const c_char) -> bool {
    guard(|| {
        let (Ok(m), Ok(g)) = (cast::as_ref(hm), cast::cstr_bytes(glob)) else {
            return false;
        };
        crate::util::str::match_glob(cast::mg_str_lenient(m.uri), g, None)
    })
}

/// One part of a `multipart/form-data` body.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_http_part {
    pub name: mg_str,
    pub filename: mg_str,
    pub body: mg_str,
}

/// Parse the multipart part at `offset` of `body` (start with 0). Fills `*part` (may be NULL)
/// with views into `body` and returns the offset of the next part, or 0 when there is none
/// (end, malformed or incomplete). Any thread.
#[no_mangle]
pub extern "C" fn mg_http_next_multipart(body: mg_str, offset: usize, part: *mut mg_http_part) -> usize {
    guard(|| {
        let Ok(b) = cast::mg_str_bytes(body) else { return 0 };
        match crate::http::next_multipart(b, offset) {
            Some((next, p)) => {
                cast::write_opt(
                    part,
                    mg_http_part {
                        name: mg_str::from_bytes(p.name.get(b)),
                        filename: mg_str::from_bytes(p.filename.get(b)),
                        body: mg_str::from_bytes(p.body.get(b)),
                    },
                );
                next
            }
            None => 0,
        }
    })
}

/// Call in `MG_EV_HTTP_HDRS`: deliver this request's body in pieces as `MG_EV_HTTP_CHUNK`
/// (`ev_data`: `struct mg_str *`, valid until the handler returns) instead of buffering it;
/// `MG_EV_HTTP_MSG` follows with an empty body. `http_max_body` does not apply to a
/// streamed body, so uploads of any size pass in bounded memory; use `mg_recv_pause` to push
/// back. Returns 0, `MG_ERR_UNSUPPORTED` (not an HTTP server connection reading a request
/// body), `MG_ERR_STALE`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_http_stream(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.http_stream(h)?;
        Ok(MG_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::{null, null_mut};

    fn ms(s: &[u8]) -> mg_str {
        mg_str::from_bytes(s)
    }

    fn hdr(name: &[u8], value: &[u8]) -> mg_http_header {
        mg_http_header {
            name: ms(name),
            value: ms(value),
        }
    }

    fn message(headers: &mut [mg_http_header], num_headers: usize) -> mg_http_message {
        mg_http_message {
            method: ms(b"GET"),
            uri: ms(b"/"),
            query: mg_str::EMPTY,
            proto: ms(b"HTTP/1.1"),
            headers: headers.as_mut_ptr(),
            num_headers,
            body: mg_str::EMPTY,
            head: mg_str::EMPTY,
            message: mg_str::EMPTY,
        }
    }

    #[test]
    fn get_header_finds_the_entry_in_place() {
        let mut hs = [
            hdr(b"Host", b"x"),
            hdr(b"Content-Type", b"text/plain"),
            hdr(b"content-type", b"second"),
            hdr(b"", b""),
        ];
        let mut m = message(&mut hs, 3);
        let v = mg_http_get_header(&mut m, c"CONTENT-TYPE".as_ptr());
        assert_eq!(
            v as usize,
            core::ptr::addr_of!(hs[1].value) as usize,
            "points into the array"
        );
        assert!(mg_http_get_header(&mut m, c"Accept".as_ptr()).is_null());
        assert!(mg_http_get_header(null_mut(), c"Host".as_ptr()).is_null());
        assert!(mg_http_get_header(&mut m, null()).is_null());

        // The first empty name ends the list, whatever num_headers says (Mongoose loops).
        let mut hs = [hdr(b"A", b"1"), hdr(b"", b""), hdr(b"B", b"2")];
        let mut m = message(&mut hs, 3);
        assert!(mg_http_get_header(&mut m, c"B".as_ptr()).is_null());
        // So does a (NULL, n) name; a NULL array has no headers.
        hs[1].name = mg_str {
            buf: null_mut(),
            len: 4,
        };
        let mut m = message(&mut hs, 3);
        assert!(mg_http_get_header(&mut m, c"B".as_ptr()).is_null());
        assert!(!mg_http_get_header(&mut m, c"a".as_ptr()).is_null());
        m.headers = null_mut();
        assert!(mg_http_get_header(&mut m, c"A".as_ptr()).is_null());
    }

    #[test]
    fn status_reads_the_leading_digits() {
        let mut hs = [hdr(b"", b"")];
        let mut m = message(&mut hs, 0);
        for (uri, want) in [
            (&b"200"[..], 200),
            (b"404 x", 404),
            (b"", 0),
            (b"abc", 0),
            (b"12345678901", 123_456_789),
        ] {
            m.uri = ms(uri);
            assert_eq!(mg_http_status(&m), want, "{uri:?}");
        }
        m.uri = mg_str {
            buf: null_mut(),
            len: 3,
        };
        assert_eq!(mg_http_status(&m), 0);
        assert_eq!(mg_http_status(null()), 0);
    }

    fn creds(m: &mut mg_http_message, ulen: usize, plen: usize) -> (Vec<u8>, Vec<u8>) {
        let (mut user, mut pass) = (vec![0x55 as c_char; ulen], vec![0x55 as c_char; plen]);
        mg_http_creds(m, user.as_mut_ptr(), ulen, pass.as_mut_ptr(), plen);
        let text = |b: &[c_char]| -> Vec<u8> { b.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect() };
        (text(&user), text(&pass))
    }

    #[test]
    fn creds_from_basic_bearer_and_query() {
        // "user:pa ss" in base64.
        let mut hs = [hdr(b"Authorization", b"Basic dXNlcjpwYSBzcw=="), hdr(b"", b"")];
        let mut m = message(&mut hs, 1);
        assert_eq!(creds(&mut m, 16, 16), (b"user".to_vec(), b"pa ss".to_vec()));
        assert_eq!(creds(&mut m, 16, 5), (b"user".to_vec(), Vec::new()), "too small: empty");

        let mut hs = [hdr(b"authorization", b"Bearer tok"), hdr(b"", b"")];
        let mut m = message(&mut hs, 1);
        assert_eq!(creds(&mut m, 8, 8), (Vec::new(), b"tok".to_vec()));

        let mut hs = [hdr(b"", b"")];
        let mut m = message(&mut hs, 0);
        m.query = ms(b"x=1&access_token=qt");
        assert_eq!(creds(&mut m, 8, 8), (Vec::new(), b"qt".to_vec()));

        // NULL message or outputs: nothing happens.
        mg_http_creds(null_mut(), null_mut(), 4, null_mut(), 4);
        mg_http_creds(&mut m, null_mut(), 4, null_mut(), 0);
    }
}
