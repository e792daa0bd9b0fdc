//! `mg_str` helpers for C: construction, comparison, duplication, glob matching, splitting,
//! number parsing and URL encoding. All of them are pure functions: callable from any
//! thread, no state, no manager needed.

use core::ffi::{c_char, c_int, c_void};

use super::cast;
use super::guard;
use super::types::mg_str;
use crate::util::str as ustr;
use crate::util::url as uurl;

/// `mg_str(s)`: an `mg_str` viewing the NUL-terminated string `s` (length by `strlen`).
///
/// Ownership: no copy is made; the result points at `s` and is valid as long as `s` is.
/// NULL gives `{NULL, 0}`. Thread: any thread.
///
/// C++ note: Mongoose's header hides this function behind `#define mg_str(s) mg_str_s(s)` so
/// that it does not shadow the struct in C++; `mg_str_s` is exported too for that purpose.
#[no_mangle]
pub extern "C" fn mg_str(s: *const c_char) -> mg_str {
    guard(|| match cast::cstr_bytes(s) {
        Ok(b) => mg_str {
            buf: s as *mut c_char,
            len: b.len(),
        },
        Err(_) => mg_str::EMPTY,
    })
}

/// `mg_str_s(s)`: the same as `mg_str(s)`, under the name Mongoose's `mg_str()` macro
/// expands to. Ownership: no copy; valid as long as `s` is. NULL gives `{NULL, 0}`.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_str_s(s: *const c_char) -> mg_str {
    mg_str(s)
}

/// `mg_str_n(s, n)`: an `mg_str` viewing `n` bytes at `s` (need not be NUL-terminated).
///
/// Ownership: no copy; nothing is read. The result is valid as long as `s` is. NULL `s`
/// gives `{NULL, 0}` whatever `n` is, so the result is never a (NULL, n > 0) pair.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_str_n(s: *const c_char, n: usize) -> mg_str {
    guard(|| {
        if s.is_null() {
            mg_str::EMPTY
        } else {
            mg_str {
                buf: s as *mut c_char,
                len: n,
            }
        }
    })
}

/// `mg_strcmp(a, b)`: compare byte by byte (as unsigned), the shorter string first when
/// one is a prefix of the other. Returns -1, 0 or 1.
///
/// A `(NULL, n)` argument is compared as the empty string. Neither argument is retained.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_strcmp(a: mg_str, b: mg_str) -> c_int {
    guard(|| ustr::strcmp(cast::mg_str_lenient(a), cast::mg_str_lenient(b)))
}

/// `mg_strcasecmp(a, b)`: like `mg_strcmp`, ASCII letters compared case-insensitively.
/// Returns -1, 0 or 1. A `(NULL, n)` argument is compared as the empty string.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_strcasecmp(a: mg_str, b: mg_str) -> c_int {
    guard(|| ustr::strcasecmp(cast::mg_str_lenient(a), cast::mg_str_lenient(b)))
}

/// `mg_strdup(s)`: a heap copy of `s`, NUL-terminated (the NUL is not counted in `len`).
///
/// Ownership: the caller owns `result.buf` and releases it with `free()`. Returns
/// `{NULL, 0}` (nothing to free) when `s` is empty, when `s.buf` is NULL, or when memory
/// runs out. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_strdup(s: mg_str) -> mg_str {
    guard(|| {
        let Ok(src) = cast::mg_str_bytes(s) else {
            return mg_str::EMPTY;
        };
        if src.is_empty() {
            return mg_str::EMPTY;
        }
        let Some(size) = src.len().checked_add(1) else {
            return mg_str::EMPTY;
        };
        let p = cast::c_malloc(size);
        let Ok(out) = cast::slice_mut(p, size) else {
            return mg_str::EMPTY;
        };
        out[..src.len()].copy_from_slice(src);
        out[src.len()] = 0;
        mg_str {
            buf: p.cast(),
            len: src.len(),
        }
    })
}

/// `mg_match(str, pattern, caps)`: does all of `str` match the glob `pattern`?
///
/// `?` matches any one byte, `*` zero or more bytes except `/`, `#` zero or more bytes
/// including `/`; other bytes match themselves (case-sensitive). Runs in O(len(str) ·
/// len(pattern)) time for any pattern.
///
/// Captures: `caps` may be NULL. Otherwise it must point to an array of at least
/// (number of `?`, `*` and `#` in `pattern`) + 1 elements — exactly as Mongoose documents;
/// meerkat cannot check the array size. On a match, `caps[i]` is set to the part of `str`
/// the `i`-th wildcard matched (a view into `str`, valid as long as `str` is), and the
/// element after the last wildcard's is set to `{NULL, 0}`. When several splits match, each
/// wildcard takes as little as it can, leftmost first. On no match `caps` is not written.
///
/// A `(NULL, n > 0)` `str` or `pattern` never matches. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_match(s: mg_str, pattern: mg_str, caps: *mut mg_str) -> bool {
    guard(|| {
        let (Ok(sb), Ok(pb)) = (cast::mg_str_bytes(s), cast::mg_str_bytes(pattern)) else {
            return false;
        };
        if caps.is_null() {
            return ustr::glob(sb, pb, &mut |_, _, _| {});
        }
        // Each capture straight into the caller's array, once the match is known.
        let mut n = 0;
        let matched = ustr::glob(sb, pb, &mut |i, off, len| {
            let got = sb.get(off..off + len).unwrap_or_default();
            cast::write_opt(caps.wrapping_add(i), mg_str::from_bytes(got));
            n = i + 1;
        });
        if matched {
            cast::write_opt(caps.wrapping_add(n), mg_str::EMPTY);
        }
        matched
    })
}

/// `mg_span(s, a, b, delim)`: split `s` at the first `delim`.
///
/// On success `*a` gets the part before `delim` and `*b` the part after it (without the
/// delimiter); without a delimiter `*a` is all of `s` and `*b` is empty (pointing at the end
/// of `s`). Both are views into `s`. `a` and `b` may be NULL; `b` may point to the `mg_str`
/// passed as `s` (the usual loop `while (mg_span(s, &k, &s, ','))`).
/// Returns false, writing nothing, when `s` is empty, NULL, or `(NULL, n > 0)`.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_span(s: mg_str, a: *mut mg_str, b: *mut mg_str, delim: c_char) -> bool {
    guard(|| {
        let Ok(sb) = cast::mg_str_bytes(s) else {
            return false;
        };
        match ustr::span(sb, u8::from_ne_bytes(delim.to_ne_bytes())) {
            Some((first, rest)) => {
                cast::write_opt(a, mg_str::from_bytes(first));
                cast::write_opt(b, mg_str::from_bytes(rest));
                true
            }
            None => false,
        }
    })
}

/// `mg_str_to_num(str, base, val, val_len)`: parse an unsigned integer into the
/// `val_len`-byte integer at `val` (`val_len` 1, 2, 4 or 8: `uint8_t` ... `uint64_t`, native
/// byte order).
///
/// `base` is 2, 10 or 16, or 0 to detect a `0x` (hex) or `0b` (binary) prefix, else decimal.
/// All of `str` must be digits; no sign or spaces. Returns false, leaving `*val` unchanged,
/// on bad input, overflow, an unsupported `base` or `val_len`, NULL `val`, or a
/// `(NULL, n > 0)` `str`. Nothing is retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_str_to_num(s: mg_str, base: c_int, val: *mut c_void, val_len: usize) -> bool {
    guard(|| {
        let Ok(sb) = cast::mg_str_bytes(s) else {
            return false;
        };
        // `val_len` is 1, 2, 4 or 8 once parsing succeeded, so a NULL `val` is refused here.
        let (Some(v), Ok(out)) = (ustr::str_to_num(sb, base, val_len), cast::slice_mut(val, val_len)) else {
            return false;
        };
        match val_len {
            1 => out.copy_from_slice(&(v as u8).to_ne_bytes()),
            2 => out.copy_from_slice(&(v as u16).to_ne_bytes()),
            4 => out.copy_from_slice(&(v as u32).to_ne_bytes()),
            _ => out.copy_from_slice(&v.to_ne_bytes()),
        }
        true
    })
}

/// `mg_url_decode(s, n, to, to_len, form)`: decode `%XX` escapes (and `+` as a space when
/// `form` is non-zero) from the `n` bytes at `s` into `to`, NUL-terminated.
///
/// Returns the decoded length (without the NUL), or -1 when a `%` is not followed by two hex
/// digits, when the result and its NUL do not fit in `to_len` bytes, or on a
/// `(NULL, n > 0)` input or output. On -1 the content of `to` is unspecified (but nothing
/// is written past `to_len` bytes). Nothing is retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_decode(s: *const c_char, n: usize, to: *mut c_char, to_len: usize, form: c_int) -> c_int {
    guard(|| {
        // The decoded text is never longer than the input: `to_len` bounds at most n + 1 bytes.
        let need = n.saturating_add(1);
        let (Ok(src), Ok(out)) = (cast::slice(s.cast(), n), cast::out_buf(to.cast(), to_len, need)) else {
            return -1;
        };
        uurl::url_decode(src, out, form != 0)
            .and_then(|len: usize| c_int::try_from(len).ok())
            .unwrap_or(-1)
    })
}

/// `mg_url_encode(s, n, buf, len)`: percent-encode the `n` bytes at `s` into `buf`,
/// NUL-terminated. Bytes other than `A-Z a-z 0-9 - . _ ~` become `%XX` (upper-case hex).
///
/// Returns the encoded length (without the NUL), or 0 when the result and its NUL do not fit
/// in `len` bytes, when the input is empty, or on a `(NULL, n > 0)` input or output. When the
/// input is empty and `len > 0`, `buf[0]` is set to NUL. Nothing is retained.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_url_encode(s: *const c_char, n: usize, buf: *mut c_char, len: usize) -> usize {
    guard(|| {
        // Each byte becomes at most three: `len` bounds at most 3n + 1 bytes.
        let need = n.saturating_mul(3).saturating_add(1);
        let (Ok(src), Ok(out)) = (cast::slice(s.cast(), n), cast::out_buf(buf.cast(), len, need)) else {
            return 0;
        };
        uurl::url_encode(src, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use core::ptr::{null, null_mut};

    fn bytes<'a>(s: mg_str) -> &'a [u8] {
        cast::mg_str_bytes(s).unwrap()
    }

    fn ms(s: &[u8]) -> mg_str {
        mg_str::from_bytes(s)
    }

    /// An mg_str whose pointer is NULL but whose length is not: must never be read.
    const BAD: mg_str = mg_str {
        buf: core::ptr::null_mut(),
        len: 5,
    };

    #[test]
    fn mg_str_constructors() {
        let s = mg_str(c"hello".as_ptr());
        assert_eq!(bytes(s), b"hello");
        let s = mg_str(null());
        assert!(s.buf.is_null() && s.len == 0);
        let s = mg_str_s(null());
        assert!(s.buf.is_null() && s.len == 0);
        let s = mg_str_s(c"".as_ptr());
        assert!(!s.buf.is_null() && s.len == 0);
        let s = mg_str_n(c"hello".as_ptr(), 3);
        assert_eq!(bytes(s), b"hel");
        let s = mg_str_n(null(), 7);
        assert!(s.buf.is_null() && s.len == 0);
    }

    #[test]
    fn compare() {
        assert_eq!(mg_strcmp(ms(b"a"), ms(b"b")), -1);
        assert_eq!(mg_strcmp(ms(b"ab"), ms(b"a")), 1);
        assert_eq!(mg_strcmp(ms(b"a"), ms(b"a")), 0);
        assert_eq!(mg_strcasecmp(ms(b"ABC"), ms(b"abc")), 0);
        assert_eq!(mg_strcmp(BAD, mg_str::EMPTY), 0);
        assert_eq!(mg_strcmp(BAD, ms(b"x")), -1);
        assert_eq!(mg_strcasecmp(ms(b"x"), BAD), 1);
        assert_eq!(mg_strcasecmp(BAD, BAD), 0);
    }

    #[test]
    fn strdup() {
        let d = mg_strdup(ms(b"hello"));
        assert_eq!(d.len, 5);
        let with_nul = cast::slice(d.buf.cast(), 6).unwrap();
        assert_eq!(with_nul, b"hello\0");
        // SAFETY: the C caller's side of the contract: free() the malloc'ed copy once.
        unsafe { libc::free(d.buf.cast()) };
        for s in [mg_str::EMPTY, BAD, ms(b"")] {
            let d = mg_strdup(s);
            assert!(d.buf.is_null() && d.len == 0);
        }
    }

    #[test]
    fn match_with_caps() {
        let uri = b"/api/foo/bar";
        let mut caps = [ms(b"junk"); 3];
        assert!(mg_match(ms(uri), ms(b"/api/*/*"), caps.as_mut_ptr()));
        assert_eq!(bytes(caps[0]), b"foo");
        assert_eq!(bytes(caps[1]), b"bar");
        assert!(caps[2].buf.is_null() && caps[2].len == 0);
        // Captures point into the matched string.
        assert_eq!(caps[0].buf as usize, uri.as_ptr() as usize + 5);

        let mut caps = [ms(b"junk"); 2];
        assert!(!mg_match(ms(uri), ms(b"/x/*"), caps.as_mut_ptr()));
        assert_eq!(bytes(caps[0]), b"junk", "untouched on no match");

        assert!(mg_match(ms(uri), ms(b"/api/#"), null_mut()));
        assert!(!mg_match(ms(uri), ms(b"/api/*"), null_mut()));
        assert!(mg_match(mg_str::EMPTY, mg_str::EMPTY, null_mut()));
        assert!(mg_match(mg_str::EMPTY, ms(b"#"), null_mut()));
        assert!(!mg_match(BAD, ms(b"#"), null_mut()));
        assert!(!mg_match(ms(b"x"), BAD, caps.as_mut_ptr()));
        assert!(!mg_match(BAD, BAD, null_mut()));

        // An empty capture still points into the string.
        let mut caps = [ms(b"junk"); 2];
        assert!(mg_match(ms(b"/a/"), ms(b"/a/*"), caps.as_mut_ptr()));
        assert_eq!(caps[0].len, 0);
        assert!(!caps[0].buf.is_null());
    }

    #[test]
    fn span() {
        let text = b"a=333,b=777,hello";
        let mut s = ms(text);
        let (mut entry, mut k, mut v) = (mg_str::EMPTY, mg_str::EMPTY, mg_str::EMPTY);
        let mut seen = Vec::new();
        let sp: *mut mg_str = &mut s;
        while mg_span(s, &mut entry, sp, b',' as c_char) {
            assert!(mg_span(entry, &mut k, &mut v, b'=' as c_char));
            seen.push((bytes(k).to_vec(), bytes(v).to_vec()));
        }
        assert_eq!(
            seen,
            vec![
                (b"a".to_vec(), b"333".to_vec()),
                (b"b".to_vec(), b"777".to_vec()),
                (b"hello".to_vec(), b"".to_vec())
            ]
        );
        assert!(mg_span(ms(b"x,y"), null_mut(), null_mut(), b',' as c_char));
        let mut a = ms(b"keep");
        assert!(!mg_span(mg_str::EMPTY, &mut a, null_mut(), b',' as c_char));
        assert!(!mg_span(BAD, &mut a, null_mut(), b',' as c_char));
        assert_eq!(bytes(a), b"keep");
    }

    #[test]
    fn str_to_num() {
        let mut v8: u8 = 0;
        assert!(mg_str_to_num(ms(b"255"), 10, (&mut v8 as *mut u8).cast(), 1));
        assert_eq!(v8, 255);
        assert!(!mg_str_to_num(ms(b"256"), 10, (&mut v8 as *mut u8).cast(), 1));
        assert_eq!(v8, 255);
        let mut v16: u16 = 0;
        assert!(mg_str_to_num(ms(b"0x1234"), 0, (&mut v16 as *mut u16).cast(), 2));
        assert_eq!(v16, 0x1234);
        let mut v32: u32 = 0;
        assert!(mg_str_to_num(ms(b"101"), 2, (&mut v32 as *mut u32).cast(), 4));
        assert_eq!(v32, 5);
        let mut v64: u64 = 0;
        assert!(mg_str_to_num(
            ms(b"ffffffffffffffff"),
            16,
            (&mut v64 as *mut u64).cast(),
            8
        ));
        assert_eq!(v64, u64::MAX);
        assert!(!mg_str_to_num(ms(b"1"), 10, null_mut(), 8));
        assert!(!mg_str_to_num(ms(b"1"), 10, (&mut v64 as *mut u64).cast(), 3));
        assert!(!mg_str_to_num(BAD, 10, (&mut v64 as *mut u64).cast(), 8));
        assert!(!mg_str_to_num(mg_str::EMPTY, 10, (&mut v64 as *mut u64).cast(), 8));
        assert_eq!(v64, u64::MAX);
    }

    #[test]
    fn url_encode_decode() {
        let src = b"example.org/test";
        let mut buf = [0x55 as c_char; 32];
        let n = mg_url_encode(src.as_ptr().cast(), src.len(), buf.as_mut_ptr(), buf.len());
        assert_eq!(n, 18);
        assert_eq!(cast::slice(buf.as_ptr().cast(), 19).unwrap(), b"example.org%2Ftest\0");
        let mut out = [0 as c_char; 32];
        let m = mg_url_decode(buf.as_ptr(), n, out.as_mut_ptr(), out.len(), 0);
        assert_eq!(m, 16);
        assert_eq!(cast::slice(out.as_ptr().cast(), 17).unwrap(), b"example.org/test\0");
        let plus = b"a+b";
        assert_eq!(
            mg_url_decode(plus.as_ptr().cast(), 3, out.as_mut_ptr(), out.len(), 1),
            3
        );
        assert_eq!(out[1], b' ' as c_char);
        assert_eq!(
            mg_url_decode(b"%zz".as_ptr().cast(), 3, out.as_mut_ptr(), out.len(), 0),
            -1
        );
        assert_eq!(
            mg_url_decode(src.as_ptr().cast(), src.len(), out.as_mut_ptr(), 16, 0),
            -1
        );

        // NULL inputs and outputs.
        assert_eq!(mg_url_encode(null(), 0, buf.as_mut_ptr(), buf.len()), 0);
        assert_eq!(buf[0], 0);
        assert_eq!(mg_url_encode(null(), 5, buf.as_mut_ptr(), buf.len()), 0);
        assert_eq!(mg_url_encode(src.as_ptr().cast(), 3, null_mut(), 10), 0);
        assert_eq!(mg_url_encode(src.as_ptr().cast(), 3, null_mut(), 0), 0);
        assert_eq!(mg_url_decode(null(), 0, out.as_mut_ptr(), out.len(), 0), 0);
        assert_eq!(mg_url_decode(null(), 5, out.as_mut_ptr(), out.len(), 0), -1);
        assert_eq!(mg_url_decode(src.as_ptr().cast(), 3, null_mut(), 10, 0), -1);
        assert_eq!(mg_url_decode(null(), 0, null_mut(), 0, 0), -1);

        // A destination size of SIZE_MAX ("big enough") is a bound, not an error.
        let mut out = [0x55 as c_char; 32];
        let enc = b"a%20b+c";
        assert_eq!(
            mg_url_decode(enc.as_ptr().cast(), enc.len(), out.as_mut_ptr(), usize::MAX, 1),
            5
        );
        assert_eq!(cast::slice(out.as_ptr().cast(), 7).unwrap(), b"a b c\0\x55");
        assert_eq!(
            mg_url_decode(enc.as_ptr().cast(), 0, out.as_mut_ptr(), usize::MAX, 0),
            0
        );
        assert_eq!(out[0], 0);
        let mut buf = [0x55 as c_char; 32];
        assert_eq!(
            mg_url_encode(b"a b".as_ptr().cast(), 3, buf.as_mut_ptr(), usize::MAX),
            5
        );
        assert_eq!(cast::slice(buf.as_ptr().cast(), 7).unwrap(), b"a%20b\0\x55");
    }
}
