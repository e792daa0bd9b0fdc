//! JSON getters for C, with Mongoose 7.22's names, return conventions and JSONPath subset
//! (`$`, `$.key`, `$[n]`, `$.a[2].b`). The scanning is `util::json`.
//!
//! All of them are pure functions: callable from any thread, nothing retained. `json` is only
//! read during the call; a `(NULL, n > 0)` `json` or a NULL `path` finds nothing. Strings
//! and byte arrays they return are allocated with `malloc`: the caller frees them with
//! `free()` or `mg_free()`.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_long};

use super::cast;
use super::guard;
use super::types::mg_str;
use crate::util::json::{self, Error};

/// `mg_json_get`: nesting deeper than `MG_JSON_MAX_DEPTH` containers on the part scanned.
pub const MG_JSON_TOO_DEEP: c_int = -1;
/// `mg_json_get`: the part of the document scanned is not JSON, or the path is malformed.
pub const MG_JSON_INVALID: c_int = -2;
/// `mg_json_get`: nothing at that path.
pub const MG_JSON_NOT_FOUND: c_int = -3;
/// The deepest nesting of objects and arrays `mg_json_get` follows (fixed at build time).
pub const MG_JSON_MAX_DEPTH: c_int = 30;
const _: () = assert!(MG_JSON_MAX_DEPTH as usize == json::MAX_DEPTH);

fn code(e: Error) -> c_int {
    match e {
        Error::TooDeep => MG_JSON_TOO_DEEP,
        Error::Invalid => MG_JSON_INVALID,
        Error::NotFound => MG_JSON_NOT_FOUND,
    }
}

/// The document and path bytes, or the C code for unusable arguments.
fn args<'a>(json: mg_str, path: *const c_char) -> Result<(&'a [u8], &'a [u8]), c_int> {
    let j = cast::mg_str_bytes(json).map_err(|_| MG_JSON_INVALID)?;
    let p = cast::cstr_bytes(path).map_err(|_| MG_JSON_INVALID)?;
    Ok((j, p))
}

/// The token at `path`, if any.
fn tok<'a>(json: mg_str, path: *const c_char) -> Option<&'a [u8]> {
    let (j, p) = args(json, path).ok()?;
    json::get_tok(j, p).ok()
}

/// `mg_json_get(json, path, &toklen)`: find the token at `path` in the JSON text `json`.
///
/// Returns its byte offset in `json.buf` (>= 0) and sets `*toklen` to its length (a string
/// token includes its quotes), or returns `MG_JSON_NOT_FOUND`, `MG_JSON_INVALID` (malformed
/// JSON before the token is found or inside it, a path not starting with `$`, a malformed
/// path, a NULL `path`, a `(NULL, n > 0)` `json`) or `MG_JSON_TOO_DEEP`. As in Mongoose,
/// `*toklen` is set to 0 first, so it is 0 on failure; `toklen` may be NULL.
///
/// Note: these codes are Mongoose's, not `MG_ERR_*` (`MG_JSON_TOO_DEEP` is -1 like
/// `MG_ERR_INVALID`). Text after the token is not looked at (see `docs/porting.md` for where
/// meerkat is stricter than Mongoose: RFC 8259 numbers, UTF-8 strings). A token beyond
/// `INT_MAX` bytes is `MG_JSON_INVALID`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get(json: mg_str, path: *const c_char, toklen: *mut c_int) -> c_int {
    guard(|| {
        cast::write_opt(toklen, 0);
        let (j, p) = match args(json, path) {
            Ok(a) => a,
            Err(e) => return e,
        };
        match json::get(j, p) {
            Ok(r) => match (c_int::try_from(r.start), c_int::try_from(r.len())) {
                (Ok(ofs), Ok(len)) => {
                    cast::write_opt(toklen, len);
                    ofs
                }
                _ => MG_JSON_INVALID,
            },
            Err(e) => code(e),
        }
    })
}

/// `mg_json_get_tok(json, path)`: the token at `path`, as a view into `json` (not copied, not
/// NUL-terminated, valid as long as `json` is; strings keep their quotes and escapes).
/// `{NULL, 0}` when there is none or the JSON is invalid. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_tok(json: mg_str, path: *const c_char) -> mg_str {
    guard(|| tok(json, path).map_or(mg_str::EMPTY, mg_str::from_bytes))
}

/// `mg_json_get_num(json, path, &v)`: true if the token at `path` is a number, and then
/// `*v` is its value (correctly rounded; beyond the range of double, +/-infinity).
/// `v` may be NULL to test only. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_num(json: mg_str, path: *const c_char, v: *mut f64) -> bool {
    guard(|| match tok(json, path).and_then(json::num) {
        Some(d) => {
            cast::write_opt(v, d);
            true
        }
        None => false,
    })
}

/// `mg_json_get_bool(json, path, &v)`: true if the token at `path` is `true` or `false`,
/// and then `*v` is its value. `v` may be NULL to test only. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_bool(json: mg_str, path: *const c_char, v: *mut bool) -> bool {
    guard(|| match tok(json, path) {
        Some(b"true") => {
            cast::write_opt(v, true);
            true
        }
        Some(b"false") => {
            cast::write_opt(v, false);
            true
        }
        _ => false,
    })
}

/// `mg_json_get_long(json, path, dflt)`: the number at `path` as a `long`, or `dflt` when
/// there is none. Integers that fit are exact (Mongoose goes through `double`); fractions are
/// truncated toward zero; values beyond `long` saturate at `LONG_MIN`/`LONG_MAX`.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_long(json: mg_str, path: *const c_char, dflt: c_long) -> c_long {
    guard(|| {
        let Ok((j, p)) = args(json, path) else {
            return dflt;
        };
        json::get_i64(j, p).map_or(dflt, |v| {
            c_long::try_from(v).unwrap_or(if v < 0 { c_long::MIN } else { c_long::MAX })
        })
    })
}

/// A `malloc`'ed copy of `bytes` plus a NUL (so never NULL for an empty result unless memory
/// runs out).
fn malloc_copy(bytes: &[u8]) -> *mut c_char {
    let Some(size) = bytes.len().checked_add(1) else {
        return core::ptr::null_mut();
    };
    let p = cast::c_malloc(size);
    match cast::slice_mut(p, size) {
        Ok(out) => {
            out[..bytes.len()].copy_from_slice(bytes);
            out[bytes.len()] = 0;
            p.cast()
        }
        Err(_) => core::ptr::null_mut(),
    }
}

/// Unescape the string token `t` into a `malloc`'ed NUL-terminated buffer.
fn malloc_unescaped(t: &[u8]) -> Option<(*mut c_char, usize)> {
    // The unescaped text is never longer than the token without its quotes.
    let size = t.len().max(1);
    let p = cast::c_malloc(size);
    let out = cast::slice_mut(p, size).ok()?;
    match json::unescape(t, &mut out[..size - 1]) {
        Some(n) => {
            out[n] = 0;
            Some((p.cast(), n))
        }
        None => {
            cast::c_free(p);
            None
        }
    }
}

/// `mg_json_get_str(json, path)`: the string at `path`, unescaped (`\uXXXX` as UTF-8) into a
/// new NUL-terminated buffer.
///
/// Ownership: the caller frees the result with `free()` or `mg_free()`. NULL when the token
/// is missing or not a string, when it holds an unpaired surrogate escape, or when memory
/// runs out. An embedded `\u0000` ends the C string early. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_str(json: mg_str, path: *const c_char) -> *mut c_char {
    guard(|| {
        tok(json, path)
            .and_then(malloc_unescaped)
            .map_or(core::ptr::null_mut(), |(p, _)| p)
    })
}

/// The contents of a string token without unescaping (hex and base64 have no escapes).
fn string_body(t: &[u8]) -> Option<&[u8]> {
    (t.len() >= 2 && t[0] == b'"').then(|| &t[1..t.len() - 1])
}

/// Hand a decoded byte array to C: a `malloc`'ed copy plus a NUL, its length in `*len`.
fn give_bytes(bytes: &[u8], len: *mut c_int) -> *mut c_char {
    let Ok(n) = c_int::try_from(bytes.len()) else {
        return core::ptr::null_mut();
    };
    let p = malloc_copy(bytes);
    if !p.is_null() {
        cast::write_opt(len, n);
    }
    p
}

/// `mg_json_get_hex(json, path, &len)`: decode the hex string at `path` (`"0aFF"`, either
/// case) into a new buffer of `*len` bytes, followed by a NUL that `*len` does not count.
///
/// Ownership: the caller frees the result with `free()` or `mg_free()`. NULL (and `*len`
/// untouched) when the token is missing, not a string, of odd length or not hex (Mongoose
/// returns a partly decoded buffer there), or when memory runs out. `len` may be NULL.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_hex(json: mg_str, path: *const c_char, len: *mut c_int) -> *mut c_char {
    guard(|| {
        let Some(hex) = tok(json, path).and_then(string_body) else {
            return core::ptr::null_mut();
        };
        if hex.len() % 2 != 0 {
            return core::ptr::null_mut();
        }
        let decoded: Option<Vec<u8>> = hex
            .chunks_exact(2)
            .map(|p| {
                let hi = char::from(p[0]).to_digit(16)?;
                let lo = char::from(p[1]).to_digit(16)?;
                u8::try_from(hi * 16 + lo).ok()
            })
            .collect();
        decoded.map_or(core::ptr::null_mut(), |d| give_bytes(&d, len))
    })
}

/// `mg_json_get_b64(json, path, &len)`: decode the base64 string at `path` (standard
/// alphabet, `=` padding optional) into a new buffer of `*len` bytes plus a NUL that `*len`
/// does not count.
///
/// Ownership: the caller frees the result with `free()` or `mg_free()`. NULL (and `*len`
/// untouched) when the token is missing, not a string or not base64, or when memory runs
/// out. `len` may be NULL. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_get_b64(json: mg_str, path: *const c_char, len: *mut c_int) -> *mut c_char {
    guard(|| {
        let Some(text) = tok(json, path).and_then(string_body) else {
            return core::ptr::null_mut();
        };
        super::hash::base64_decode_vec(text).map_or(core::ptr::null_mut(), |d| give_bytes(&d, len))
    })
}

/// `mg_json_unescape(json, path, buf, len)` (Mongoose 7.22's form): unescape the string at
/// `path` into `buf` (`len` bytes) and NUL-terminate it.
///
/// Returns the number of bytes written without the NUL, or 0 when the token is missing or
/// not a string, when it does not fit with its NUL, or when it is empty (as Mongoose).
/// `\uXXXX` escapes become UTF-8 (Mongoose 7.22 writes only `\u00XX` as one raw byte).
/// On failure `buf[0]` is set to NUL when `len > 0`. `(NULL, len > 0)` writes nothing and
/// returns 0. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_unescape(json: mg_str, path: *const c_char, buf: *mut c_char, len: usize) -> usize {
    guard(|| {
        let Ok(out) = cast::slice_mut(buf.cast(), len) else {
            return 0;
        };
        let Some(room) = len.checked_sub(1) else {
            return 0;
        };
        match tok(json, path).and_then(|t| json::unescape(t, &mut out[..room])) {
            Some(n) => {
                out[n] = 0;
                n
            }
            None => {
                out[0] = 0;
                0
            }
        }
    })
}

/// `mg_json_next(obj, ofs, &key, &val)`: iterate over the object or array token `obj` (for
/// example from `mg_json_get_tok`). Start with `ofs` 0 and pass back what it returns; 0 means
/// there are no more entries (or `obj` is not an object or array, or is invalid there).
///
/// `*key` is set to the raw key token with its quotes for objects, to `{NULL, 0}` for arrays;
/// `*val` to the raw value token. Both are views into `obj`. `key` and `val` may be NULL.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_json_next(obj: mg_str, ofs: usize, key: *mut mg_str, val: *mut mg_str) -> usize {
    guard(|| {
        let Ok(o) = cast::mg_str_bytes(obj) else {
            return 0;
        };
        match json::next(o, ofs) {
            Some(e) => {
                cast::write_opt(key, e.key.map_or(mg_str::EMPTY, |k| mg_str::from_bytes(&o[k])));
                cast::write_opt(val, mg_str::from_bytes(&o[e.val]));
                e.next
            }
            None => 0,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::{null, null_mut};

    fn s(b: &[u8]) -> mg_str {
        mg_str::from_bytes(b)
    }

    fn take(p: *mut c_char) -> Option<Vec<u8>> {
        if p.is_null() {
            return None;
        }
        let v = unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes().to_vec();
        cast::c_free(p.cast());
        Some(v)
    }

    const DOC: &[u8] = br#"{"a":[1,{"b":"x\u00e9y"}],"n":-2.5,"t":true,"h":"0aFF","e":"aGVsbG8=","big":1e300}"#;

    #[test]
    fn getters_known_answers() {
        let mut len = -1;
        assert_eq!(mg_json_get(s(DOC), c"$.n".as_ptr(), &mut len), 30);
        assert_eq!(len, 4);
        assert_eq!(mg_json_get(s(DOC), c"$.zz".as_ptr(), &mut len), MG_JSON_NOT_FOUND);
        assert_eq!(len, 0);
        assert_eq!(mg_json_get(s(DOC), c"a".as_ptr(), null_mut()), MG_JSON_INVALID);
        assert_eq!(mg_json_get(s(b"[1,"), c"$".as_ptr(), null_mut()), MG_JSON_INVALID);
        assert_eq!(mg_json_get(s(DOC), null(), null_mut()), MG_JSON_INVALID);
        let bad = mg_str {
            buf: null_mut(),
            len: 5,
        };
        assert_eq!(mg_json_get(bad, c"$".as_ptr(), null_mut()), MG_JSON_INVALID);
        assert_eq!(mg_json_get(mg_str::EMPTY, c"$".as_ptr(), null_mut()), MG_JSON_NOT_FOUND);

        let t = mg_json_get_tok(s(DOC), c"$.a[1].b".as_ptr());
        assert_eq!(cast::mg_str_bytes(t).unwrap(), br#""x\u00e9y""#);
        assert!(mg_json_get_tok(s(DOC), c"$.a[2]".as_ptr()).buf.is_null());

        let mut d = 0.0;
        assert!(mg_json_get_num(s(DOC), c"$.n".as_ptr(), &mut d));
        assert_eq!(d, -2.5);
        assert!(!mg_json_get_num(s(DOC), c"$.t".as_ptr(), &mut d));
        assert!(mg_json_get_num(s(DOC), c"$.a[0]".as_ptr(), null_mut()));
        let mut b = false;
        assert!(mg_json_get_bool(s(DOC), c"$.t".as_ptr(), &mut b));
        assert!(b);
        assert!(!mg_json_get_bool(s(DOC), c"$.n".as_ptr(), &mut b));
        assert_eq!(mg_json_get_long(s(DOC), c"$.n".as_ptr(), 7), -2);
        assert_eq!(mg_json_get_long(s(DOC), c"$.t".as_ptr(), 7), 7);
        assert_eq!(mg_json_get_long(s(DOC), c"$.big".as_ptr(), 7), c_long::MAX);

        assert_eq!(
            take(mg_json_get_str(s(DOC), c"$.a[1].b".as_ptr())).unwrap(),
            "xéy".as_bytes()
        );
        assert_eq!(take(mg_json_get_str(s(br#"{"e":""}"#), c"$.e".as_ptr())).unwrap(), b"");
        assert_eq!(take(mg_json_get_str(s(DOC), c"$.n".as_ptr())), None);

        let mut n = -1;
        assert_eq!(
            take(mg_json_get_hex(s(DOC), c"$.h".as_ptr(), &mut n)).unwrap(),
            [0x0a, 0xff]
        );
        assert_eq!(n, 2);
        assert_eq!(
            take(mg_json_get_hex(s(br#"["abc","zz"]"#), c"$[0]".as_ptr(), &mut n)),
            None
        );
        assert_eq!(
            take(mg_json_get_hex(s(br#"["abc","zz"]"#), c"$[1]".as_ptr(), &mut n)),
            None
        );
        assert_eq!(
            take(mg_json_get_b64(s(DOC), c"$.e".as_ptr(), &mut n)).unwrap(),
            b"hello"
        );
        assert_eq!(n, 5);
        assert_eq!(take(mg_json_get_b64(s(br#""a*bc""#), c"$".as_ptr(), &mut n)), None);
    }

    #[test]
    fn unescape_into_caller_buffer() {
        let mut buf = [0x55 as c_char; 8];
        let j = s(br#"{"k":"a\nb","e":""}"#);
        assert_eq!(mg_json_unescape(j, c"$.k".as_ptr(), buf.as_mut_ptr(), 8), 3);
        assert_eq!(&buf[..4], &[b'a' as c_char, b'\n' as c_char, b'b' as c_char, 0]);
        // Needs room for the NUL.
        assert_eq!(mg_json_unescape(j, c"$.k".as_ptr(), buf.as_mut_ptr(), 3), 0);
        assert_eq!(buf[0], 0);
        assert_eq!(mg_json_unescape(j, c"$.k".as_ptr(), buf.as_mut_ptr(), 4), 3);
        assert_eq!(mg_json_unescape(j, c"$.e".as_ptr(), buf.as_mut_ptr(), 8), 0);
        assert_eq!(mg_json_unescape(j, c"$.k".as_ptr(), null_mut(), 8), 0);
        assert_eq!(mg_json_unescape(j, c"$.k".as_ptr(), null_mut(), 0), 0);
    }

    #[test]
    fn next_iterates_like_mongoose() {
        let o = br#"{"a": 1, "b": [true]}"#;
        let (mut k, mut v) = (mg_str::EMPTY, mg_str::EMPTY);
        let mut got = Vec::new();
        let mut ofs = 0;
        loop {
            ofs = mg_json_next(s(o), ofs, &mut k, &mut v);
            if ofs == 0 {
                break;
            }
            got.push((
                cast::mg_str_bytes(k).unwrap().to_vec(),
                cast::mg_str_bytes(v).unwrap().to_vec(),
            ));
        }
        assert_eq!(
            got,
            vec![
                (b"\"a\"".to_vec(), b"1".to_vec()),
                (b"\"b\"".to_vec(), b"[true]".to_vec())
            ]
        );
        assert_eq!(mg_json_next(s(b"[5]"), 0, &mut k, null_mut()), 2);
        assert!(k.buf.is_null() && k.len == 0);
        assert_eq!(
            mg_json_next(
                mg_str {
                    buf: null_mut(),
                    len: 3
                },
                0,
                null_mut(),
                null_mut()
            ),
            0
        );
    }
}
