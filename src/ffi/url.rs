//! Mongoose's URL helpers for C: `mg_url_port`, `mg_url_is_ssl`, `mg_url_host`,
//! `mg_url_user`, `mg_url_pass`, `mg_url_uri`. Pure functions: any thread, no state.
//!
//! URL form: `[scheme://][user[:pass]@]host[:port][/path]`, where `host` may be an IPv6
//! literal in brackets. None of these functions fails: a part that is absent (or a NULL
//! `url`) gives the documented empty value.

use core::ffi::{c_char, c_int};

use super::cast;
use super::guard;
use super::types::mg_str;
use crate::util::url as uurl;

/// `mg_url_port(url)`: the port in `url`, else the scheme's default (`http`/`ws` 80,
/// `https`/`wss` 443, `mqtt` 1883, `mqtts` 8883), else 0. A port that is not a number in
/// 0..=65535 gives 0. NULL `url` gives 0. Nothing is retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_port(url: *const c_char) -> u16 {
    guard(|| cast::cstr_bytes(url).map_or(0, uurl::url_port))
}

/// `mg_url_is_ssl(url)`: 1 if the scheme is `https`, `wss`, `mqtts`, `ssl`, `tls` or
/// `rtsps` (case-insensitive), else 0 (also for NULL `url`). Note: Mongoose's documentation
/// says the opposite, but its implementation, which applications rely on, returns non-zero
/// for encrypted schemes; meerkat does the same. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_is_ssl(url: *const c_char) -> c_int {
    guard(|| cast::cstr_bytes(url).map_or(0, |u| c_int::from(uurl::url_is_ssl(u))))
}

/// The part of `url` that `part` selects, as a view into `url`; `{NULL, 0}` for NULL `url`.
fn url_part(url: *const c_char, part: fn(&[u8]) -> &[u8]) -> mg_str {
    guard(|| match cast::cstr_bytes(url) {
        Ok(u) => mg_str::from_bytes(part(u)),
        Err(_) => mg_str::EMPTY,
    })
}

/// `mg_url_host(url)`: the host, as written: an IPv6 literal keeps its brackets
/// (`tcp://[::1]:80` gives `[::1]`), as in Mongoose.
///
/// Ownership: a view into `url` (not NUL-terminated), valid as long as `url` is. Empty when
/// absent; `{NULL, 0}` for NULL `url`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_host(url: *const c_char) -> mg_str {
    url_part(url, uurl::url_host)
}

/// `mg_url_user(url)`: the user name from `user[:pass]@`.
///
/// Ownership: a view into `url` (not NUL-terminated), valid as long as `url` is. Empty when
/// absent; `{NULL, 0}` for NULL `url`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_user(url: *const c_char) -> mg_str {
    url_part(url, uurl::url_user)
}

/// `mg_url_pass(url)`: the password from `user:pass@`.
///
/// Ownership: a view into `url` (not NUL-terminated), valid as long as `url` is. Empty when
/// absent; `{NULL, 0}` for NULL `url`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_pass(url: *const c_char) -> mg_str {
    url_part(url, uurl::url_pass)
}

/// `mg_url_uri(url)`: the path and what follows it, starting at the first `/` after the
/// host (`https://example.org/a/b?x` gives `/a/b?x`).
///
/// Ownership: a pointer into `url` (NUL-terminated because `url` is), valid as long as `url`
/// is; do not free it. When `url` has no path (including `http://host?query`), or `url` is
/// NULL, returns a pointer to a static `"/"`. Never NULL. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_uri(url: *const c_char) -> *const c_char {
    const ROOT: &core::ffi::CStr = c"/";
    let root = ROOT.as_ptr();
    let p = guard(|| match cast::cstr_bytes(url) {
        Ok(u) => match uurl::url_uri(u) {
            Some(off) => u[off..].as_ptr().cast::<c_char>(),
            None => root,
        },
        Err(_) => root,
    });
    // A panic (impossible here, but the guard's fallback is NULL) still yields "/".
    if p.is_null() {
        root
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null;

    fn text<'a>(s: mg_str) -> &'a [u8] {
        cast::mg_str_bytes(s).unwrap()
    }

    fn uri(url: &core::ffi::CStr) -> &[u8] {
        cast::cstr_bytes(mg_url_uri(url.as_ptr())).unwrap()
    }

    #[test]
    fn mongoose_doc_examples() {
        assert_eq!(mg_url_port(c"https://myhost.com".as_ptr()), 443);
        assert_eq!(mg_url_port(c"127.0.0.1:567".as_ptr()), 567);
        assert_eq!(mg_url_is_ssl(c"https://example.org".as_ptr()), 1);
        assert_eq!(mg_url_is_ssl(c"http://example.org".as_ptr()), 0);
        assert_eq!(
            text(mg_url_host(c"https://my.example.org:1234".as_ptr())),
            b"my.example.org"
        );
        assert_eq!(text(mg_url_host(c"tcp://[::1]".as_ptr())), b"[::1]");
        let u = c"https://user:password@my.example.org";
        assert_eq!(text(mg_url_user(u.as_ptr())), b"user");
        assert_eq!(text(mg_url_pass(u.as_ptr())), b"password");
        assert_eq!(uri(c"https://example.org/subdir/subsubdir"), b"/subdir/subsubdir");
        assert_eq!(uri(c"https://example.org"), b"/");
    }

    #[test]
    fn views_point_into_the_url() {
        let u = c"http://u:p@host:80/x?y";
        let h = mg_url_host(u.as_ptr());
        assert_eq!(h.buf as usize, u.as_ptr() as usize + 11);
        assert_eq!(mg_url_uri(u.as_ptr()) as usize, u.as_ptr() as usize + 18);
        let none = mg_url_user(c"http://host".as_ptr());
        assert_eq!(none.len, 0);
        assert!(!none.buf.is_null());
    }

    #[test]
    fn null_url() {
        assert_eq!(mg_url_port(null()), 0);
        assert_eq!(mg_url_is_ssl(null()), 0);
        for s in [mg_url_host(null()), mg_url_user(null()), mg_url_pass(null())] {
            assert!(s.buf.is_null() && s.len == 0);
        }
        assert_eq!(cast::cstr_bytes(mg_url_uri(null())).unwrap(), b"/");
        assert_eq!(mg_url_port(c"".as_ptr()), 0);
        assert_eq!(text(mg_url_host(c"".as_ptr())), b"");
        assert_eq!(uri(c""), b"/");
    }
}
