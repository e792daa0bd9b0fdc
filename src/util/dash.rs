//! The device dashboard's protocol (Mongoose 7.22's `mg_dash`), without the C structures:
//! which REST endpoint a request names, how a bound value is printed as JSON and parsed back
//! out of a request body (bounded by the size of the C variable), the session cookie and the
//! WebSocket change notification. `ffi/dash.rs` walks the firmware's field sets and calls
//! these.
//!
//! Endpoints (under the listener's root):
//!
//! | request | meaning |
//! |---|---|
//! | `/api/hi` | liveness, no authentication |
//! | `/api/login` | authenticate; `200` with the `access_token` cookie |
//! | `/api/logout` | `401` clearing the cookie |
//! | `/api/websocket` | upgrade; change notifications follow |
//! | `GET /api/get` | every readable set: scalar sets as objects, array sets as their size |
//! | `GET /api/get/SET` | one set (an array set: its size) |
//! | `GET /api/get/SET/FROM[/TO]` | elements `FROM..=TO` of an array set |
//! | `POST /api/get/SET/INDEX` | modify one element of an array set |
//! | `/api/set` | `{"SET":{"FIELD":value,...},...}`: write scalar fields |
//! | `/api/add/SET` | append an element to an array set |
//! | `/api/del/SET/FROM[/TO]` | delete elements |
//! | `/fs/SET/NAME` | file-array sets: `GET` a file, `POST`/`PUT` it, `DELETE` it |
//! | `/` | `/dashboard.html` of the packed file system |
#![forbid(unsafe_code)]

use crate::prelude::*;

use super::json;
use super::str::match_glob;

/// What a request asks of the dashboard. Byte slices borrow the request's URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Hi,
    Login,
    Logout,
    WebSocket,
    /// `GET /api/get`: every set.
    GetAll,
    /// `GET /api/get/SET[/FROM[/TO]]`.
    Get {
        set: &'a [u8],
        from: Option<&'a [u8]>,
        to: Option<&'a [u8]>,
    },
    /// `POST /api/get/SET/INDEX`.
    Modify {
        set: &'a [u8],
        index: &'a [u8],
    },
    Set,
    Add {
        set: &'a [u8],
    },
    Delete {
        set: &'a [u8],
        from: &'a [u8],
        to: Option<&'a [u8]>,
    },
    /// `/fs/SET/NAME` (the name still URL-encoded).
    File {
        set: &'a [u8],
        name: &'a [u8],
    },
    /// Any other `/api/...` URI: needs a session like the ones above.
    OtherApi,
    Root,
    /// Anything else: custom handlers, then `404`.
    Other,
}

impl Route<'_> {
    /// Whether the route is answered without a session (`/api/hi`, `/api/logout`), or
    /// checks the session itself (files, the root, custom handlers).
    pub fn open(&self) -> bool {
        matches!(
            self,
            Route::Hi | Route::Logout | Route::File { .. } | Route::Root | Route::Other
        )
    }
}

/// `uri` split at `pattern`'s `*` wildcards (at most 3; `match_glob` captures are
/// (start, length)), or `None`.
fn parts<'a>(uri: &'a [u8], pattern: &[u8]) -> Option<[&'a [u8]; 3]> {
    let mut caps = [(0usize, 0usize); 3];
    if !match_glob(uri, pattern, Some(&mut caps)) {
        return None;
    }
    Some(caps.map(|(s, n)| uri.get(s..s + n).unwrap_or(&[])))
}

/// The route of a request (`uri` without the query string), in Mongoose 7.22's order.
pub fn route<'a>(method: &[u8], uri: &'a [u8]) -> Route<'a> {
    let post = method.eq_ignore_ascii_case(b"POST");
    let nonempty = |s: &'a [u8]| (!s.is_empty()).then_some(s);
    match uri {
        b"/api/hi" => return Route::Hi,
        b"/api/login" => return Route::Login,
        b"/api/logout" => return Route::Logout,
        b"/api/websocket" => return Route::WebSocket,
        b"/api/get" => return Route::GetAll,
        b"/api/set" => return Route::Set,
        b"/" => return Route::Root,
        _ => {}
    }
    if let Some([set, name, _]) = parts(uri, b"/fs/*/*") {
        return Route::File { set, name };
    }
    if let Some([set, from, to]) = parts(uri, b"/api/del/*/*/*") {
        return Route::Delete {
            set,
            from,
            to: Some(to),
        };
    }
    if let Some([set, from, _]) = parts(uri, b"/api/del/*/*") {
        return Route::Delete { set, from, to: None };
    }
    if let Some([set, _, _]) = parts(uri, b"/api/add/*") {
        return Route::Add { set };
    }
    if let Some([set, index, _]) = parts(uri, b"/api/get/*/*") {
        if post {
            return Route::Modify { set, index };
        }
        return Route::Get {
            set,
            from: nonempty(index),
            to: None,
        };
    }
    if let Some([set, from, to]) = parts(uri, b"/api/get/*/*/*") {
        return Route::Get {
            set,
            from: nonempty(from),
            to: nonempty(to),
        };
    }
    if let Some([set, _, _]) = parts(uri, b"/api/get/*") {
        return Route::Get {
            set,
            from: None,
            to: None,
        };
    }
    if uri.starts_with(b"/api/") {
        return Route::OtherApi;
    }
    Route::Other
}

/// A decimal index from a URI part (`mg_str_to_num`): `None` unless it is an optional `-`
/// and digits that fit an `i32`.
pub fn index(s: &[u8]) -> Option<i32> {
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// The C type of a bound value (`enum mg_val_type`, same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    Int,
    U64,
    Bool,
    Dbl,
    Str,
    Raw,
}

impl ValType {
    /// From `enum mg_val_type`'s number; `None` for any other.
    pub fn from_raw(v: u32) -> Option<ValType> {
        Some(match v {
            0 => ValType::Int,
            1 => ValType::U64,
            2 => ValType::Bool,
            3 => ValType::Dbl,
            4 => ValType::Str,
            5 => ValType::Raw,
            _ => return None,
        })
    }
}

/// A value read from, or to be written to, a C variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Int(i32),
    U64(u64),
    Bool(bool),
    Dbl(f64),
    /// The string's bytes, without the terminating NUL.
    Str(&'a [u8]),
    /// Pre-formatted JSON, copied verbatim.
    Raw(&'a [u8]),
}

/// A parsed value that owns its text (strings are unescaped).
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Int(i32),
    U64(u64),
    Bool(bool),
    Dbl(f64),
    /// Bytes to store, then a NUL; at most `value_size - 1` of them.
    Str(Vec<u8>),
    /// The JSON text to store, then a NUL; at most `value_size - 1` bytes.
    Raw(Vec<u8>),
}

/// Why a present value could not be stored in its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// The JSON type does not fit the field, or a number is out of its range or not whole.
    Type,
    /// The string (with its NUL) is longer than the variable (`value_size`).
    TooLong,
    /// The field is read-only (`value_size` 0) or `value_size` is not the C type's size.
    ReadOnly,
}

/// Sizes of the C types on this target, to check `value_size` against (Mongoose:
/// `f->value_size == sizeof(int)`...).
#[derive(Debug, Clone, Copy)]
pub struct CSizes {
    pub int: usize,
    pub bool_: usize,
}

/// The value token of `key` in the JSON object `obj` (`None` if absent or `obj` is not an
/// object).
pub fn member<'a>(obj: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut ofs = 0;
    while let Some(e) = json::next(obj, ofs) {
        if let Some(k) = e.key.clone() {
            let k = &obj[k];
            if k.len() >= 2 && &k[1..k.len() - 1] == key {
                return Some(&obj[e.val]);
            }
        }
        ofs = e.next;
    }
    None
}

/// The members of the JSON object `obj` as (key without quotes, value token) pairs, or `None`
/// if `obj` is not one complete, valid JSON object.
pub fn members(obj: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let span = json::validate(obj).ok()?;
    let obj = &obj[span];
    if obj.first() != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut ofs = 0;
    while let Some(e) = json::next(obj, ofs) {
        let k = &obj[e.key?];
        out.push((&k[1..k.len() - 1], &obj[e.val]));
        ofs = e.next;
    }
    Some(out)
}

/// Parse the value token `tok` for a field of type `ty` whose variable is `size` bytes.
pub fn parse_value(tok: &[u8], ty: ValType, size: usize, c: CSizes) -> Result<Parsed, FieldError> {
    match ty {
        ValType::Bool => {
            if size != c.bool_ {
                return Err(FieldError::ReadOnly);
            }
            match tok {
                b"true" => Ok(Parsed::Bool(true)),
                b"false" => Ok(Parsed::Bool(false)),
                _ => Err(FieldError::Type),
            }
        }
        ValType::Int => {
            if size != c.int {
                return Err(FieldError::ReadOnly);
            }
            let d = json::num(tok).ok_or(FieldError::Type)?;
            let (lo, hi) = if c.int >= 4 {
                (i32::MIN as f64, i32::MAX as f64)
            } else {
                (i16::MIN as f64, i16::MAX as f64)
            };
            // In range and whole (`f64::fract` needs std; the cast truncates).
            if !((lo..=hi).contains(&d) && (d as i32) as f64 == d) {
                return Err(FieldError::Type);
            }
            Ok(Parsed::Int(d as i32))
        }
        ValType::U64 => {
            if size != 8 {
                return Err(FieldError::ReadOnly);
            }
            // Digits are exact (all of u64); other number forms go through f64.
            if let Some(v) = core::str::from_utf8(tok).ok().and_then(|s| s.parse::<u64>().ok()) {
                return Ok(Parsed::U64(v));
            }
            let d = json::num(tok).ok_or(FieldError::Type)?;
            if !((0.0..=18_446_744_073_709_549_568.0).contains(&d) && (d as u64) as f64 == d) {
                return Err(FieldError::Type);
            }
            Ok(Parsed::U64(d as u64))
        }
        ValType::Dbl => {
            if size != 8 {
                return Err(FieldError::ReadOnly);
            }
            let d = json::num(tok).ok_or(FieldError::Type)?;
            if !d.is_finite() {
                return Err(FieldError::Type);
            }
            Ok(Parsed::Dbl(d))
        }
        ValType::Str => {
            if size == 0 {
                return Err(FieldError::ReadOnly);
            }
            if tok.first() != Some(&b'"') {
                return Err(FieldError::Type);
            }
            // The unescaped text is never longer than the token.
            let mut buf = vec![0u8; tok.len()];
            let n = json::unescape(tok, &mut buf).ok_or(FieldError::Type)?;
            buf.truncate(n);
            if buf.contains(&0) {
                return Err(FieldError::Type); // a C string cannot hold it
            }
            if n + 1 > size {
                return Err(FieldError::TooLong);
            }
            Ok(Parsed::Str(buf))
        }
        ValType::Raw => {
            if size == 0 {
                return Err(FieldError::ReadOnly);
            }
            if tok.len() + 1 > size {
                return Err(FieldError::TooLong);
            }
            Ok(Parsed::Raw(tok.to_vec()))
        }
    }
}

/// Append `s` as a JSON string (quotes included), escaped as Mongoose's `%m`/`MG_ESC` does.
pub fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    crate::util::rpc::quote(out, s);
}

/// Append a value as JSON: integers in decimal, doubles with 2 decimals (`%.2f`; a
/// non-finite double is `null`), strings escaped, raw text verbatim (`null` if empty).
pub fn json_value(out: &mut Vec<u8>, v: &Value<'_>) {
    match *v {
        Value::Int(i) => out.extend_from_slice(format!("{i}").as_bytes()),
        Value::U64(u) => out.extend_from_slice(format!("{u}").as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::Dbl(d) if d.is_finite() => out.extend_from_slice(format!("{d:.2}").as_bytes()),
        Value::Dbl(_) => out.extend_from_slice(b"null"),
        Value::Str(s) => json_str(out, s),
        Value::Raw([]) => out.extend_from_slice(b"null"),
        Value::Raw(r) => out.extend_from_slice(r),
    }
}

/// A session token: 20 characters of `[A-Za-z0-9_-]` from 15 random bytes (120 bits).
pub fn token(random: &[u8; 15]) -> [u8; 20] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = [0u8; 20];
    for (i, chunk) in random.chunks(3).enumerate() {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for j in 0..4 {
            out[i * 4 + j] = ALPHABET[((n >> (18 - 6 * j)) & 63) as usize];
        }
    }
    out
}

/// Whether two tokens are equal, in time that depends on their lengths only.
pub fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Headers of a JSON response.
pub const JSON_HEADERS: &[u8] = b"Content-Type: application/json\r\nCache-Control: no-cache\r\n";

/// Headers of the login response: the session cookie (a day, as Mongoose) and JSON.
pub fn login_headers(token: &[u8], tls: bool) -> Vec<u8> {
    let mut h = b"Set-Cookie: access_token=".to_vec();
    h.extend_from_slice(token);
    h.extend_from_slice(b"; Path=/; ");
    if tls {
        h.extend_from_slice(b"Secure; ");
    }
    h.extend_from_slice(b"HttpOnly; SameSite=Lax; Max-Age=86400\r\n");
    h.extend_from_slice(JSON_HEADERS);
    h
}

/// The login response's body: `{"user":NAME,"level":N}` and a newline.
pub fn login_body(user: &[u8], level: i32) -> Vec<u8> {
    let mut b = b"{\"user\":".to_vec();
    json_str(&mut b, user);
    b.extend_from_slice(b",\"level\":");
    b.extend_from_slice(crate::log::string(&[&level]).as_bytes());
    b.extend_from_slice(b"}\n");
    b
}

/// Headers of the logout response: the cookie, expired.
pub fn logout_headers(tls: bool) -> Vec<u8> {
    let mut h = b"Set-Cookie: access_token=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 UTC; ".to_vec();
    if tls {
        h.extend_from_slice(b"Secure; ");
    }
    h.extend_from_slice(b"HttpOnly; Max-Age=0; \r\n");
    h
}

/// A WebSocket change notification: `{"method":"change","params":{KEY:VALUE}}`, where
/// `value` is JSON text already.
pub fn change_message(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut m = b"{\"method\":\"change\",\"params\":{".to_vec();
    json_str(&mut m, key);
    m.push(b':');
    m.extend_from_slice(value);
    m.extend_from_slice(b"}}");
    m
}

/// Whether a file name from `/fs/SET/NAME` (URL-decoded) may be used in the set's directory:
/// not empty, no `/` or `\`, not `.` or `..`, no NUL.
pub fn file_name_ok(name: &[u8]) -> bool {
    !name.is_empty() && name != b"." && name != b".." && !name.iter().any(|&b| matches!(b, b'/' | b'\\' | 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: CSizes = CSizes { int: 4, bool_: 1 };

    proptest::proptest! {
        /// Whatever a client sends, a string or raw value fits its variable with the NUL, a
        /// string holds no NUL, and nothing panics.
        #[test]
        fn values_always_fit(tok in proptest::collection::vec(proptest::sample::select(b"\"\\u0a1{}[]:,.e-x ".to_vec()), 0..40),
                             ty in 0u32..7, size in 0usize..24) {
            let Some(ty) = ValType::from_raw(ty) else { return Ok(()) };
            match parse_value(&tok, ty, size, C) {
                Ok(Parsed::Str(v)) => proptest::prop_assert!(v.len() < size && !v.contains(&0)),
                Ok(Parsed::Raw(v)) => proptest::prop_assert!(v.len() < size),
                _ => {}
            }
            let _ = members(&tok);
            let _ = member(&tok, b"a");
            let _ = route(b"POST", &tok);
        }
    }

    #[test]
    fn routes_in_mongoose_order() {
        assert_eq!(route(b"GET", b"/api/hi"), Route::Hi);
        assert_eq!(route(b"GET", b"/api/get"), Route::GetAll);
        assert_eq!(
            route(b"GET", b"/api/get/settings"),
            Route::Get {
                set: b"settings",
                from: None,
                to: None
            }
        );
        assert_eq!(
            route(b"GET", b"/api/get/users/1"),
            Route::Get {
                set: b"users",
                from: Some(b"1"),
                to: None
            }
        );
        assert_eq!(
            route(b"GET", b"/api/get/users/1/3"),
            Route::Get {
                set: b"users",
                from: Some(b"1"),
                to: Some(b"3")
            }
        );
        assert_eq!(
            route(b"POST", b"/api/get/users/2"),
            Route::Modify {
                set: b"users",
                index: b"2"
            }
        );
        assert_eq!(route(b"POST", b"/api/add/users"), Route::Add { set: b"users" });
        assert_eq!(
            route(b"GET", b"/api/del/users/0/4"),
            Route::Delete {
                set: b"users",
                from: b"0",
                to: Some(b"4")
            }
        );
        assert_eq!(
            route(b"DELETE", b"/fs/files/a%20b"),
            Route::File {
                set: b"files",
                name: b"a%20b"
            }
        );
        assert_eq!(route(b"GET", b"/api/ota"), Route::OtherApi);
        assert_eq!(route(b"GET", b"/"), Route::Root);
        assert_eq!(route(b"GET", b"/custom/x"), Route::Other);
        assert!(route(b"GET", b"/api/logout").open());
        assert!(!route(b"GET", b"/api/get").open());
    }

    #[test]
    fn values_are_checked_against_the_variable() {
        assert_eq!(parse_value(b"42", ValType::Int, 4, C), Ok(Parsed::Int(42)));
        assert_eq!(parse_value(b"4.5", ValType::Int, 4, C), Err(FieldError::Type));
        assert_eq!(parse_value(b"3e10", ValType::Int, 4, C), Err(FieldError::Type));
        assert_eq!(parse_value(b"1", ValType::Int, 8, C), Err(FieldError::ReadOnly));
        assert_eq!(parse_value(b"1", ValType::Int, 0, C), Err(FieldError::ReadOnly));
        assert_eq!(
            parse_value(b"18446744073709551615", ValType::U64, 8, C),
            Ok(Parsed::U64(u64::MAX))
        );
        assert_eq!(parse_value(b"-1", ValType::U64, 8, C), Err(FieldError::Type));
        assert_eq!(parse_value(b"true", ValType::Bool, 1, C), Ok(Parsed::Bool(true)));
        assert_eq!(parse_value(b"1", ValType::Bool, 1, C), Err(FieldError::Type));
        assert_eq!(parse_value(b"2.25", ValType::Dbl, 8, C), Ok(Parsed::Dbl(2.25)));
        assert_eq!(
            parse_value(b"\"a\\nb\"", ValType::Str, 4, C),
            Ok(Parsed::Str(b"a\nb".to_vec()))
        );
        assert_eq!(parse_value(b"\"abcd\"", ValType::Str, 4, C), Err(FieldError::TooLong));
        assert_eq!(parse_value(b"\"a\\u0000\"", ValType::Str, 8, C), Err(FieldError::Type));
        assert_eq!(parse_value(b"5", ValType::Str, 8, C), Err(FieldError::Type));
        assert_eq!(
            parse_value(b"[1,2]", ValType::Raw, 6, C),
            Ok(Parsed::Raw(b"[1,2]".to_vec()))
        );
        assert_eq!(parse_value(b"[1,2]", ValType::Raw, 5, C), Err(FieldError::TooLong));
    }

    #[test]
    fn objects_and_printing() {
        assert_eq!(member(b"{\"a\":1,\"b\":\"x\"}", b"b"), Some(&b"\"x\""[..]));
        assert_eq!(member(b"{\"a\":1}", b"c"), None);
        assert_eq!(
            members(b" {\"s\":{\"a\":1}} ").unwrap(),
            vec![(&b"s"[..], &b"{\"a\":1}"[..])]
        );
        assert!(members(b"{\"s\":").is_none());
        assert!(members(b"[1]").is_none());
        let mut out = Vec::new();
        json_value(&mut out, &Value::Dbl(1.005));
        out.push(b' ');
        json_value(&mut out, &Value::Str(b"q\"\x01"));
        out.push(b' ');
        json_value(&mut out, &Value::Dbl(f64::NAN));
        assert_eq!(out, b"1.00 \"q\\\"\\u0001\" null");
        assert_eq!(
            change_message(b"users/2", b"{\"n\":1}"),
            b"{\"method\":\"change\",\"params\":{\"users/2\":{\"n\":1}}}"
        );
        let t = token(&[0xff; 15]);
        assert_eq!(&t, b"____________________");
        assert!(file_name_ok(b"a.txt") && !file_name_ok(b"..") && !file_name_ok(b"a/b"));
        assert_eq!(index(b"-1"), Some(-1));
        assert_eq!(index(b"x"), None);
    }
}
