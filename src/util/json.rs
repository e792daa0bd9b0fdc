//! JSON lookup with Mongoose's JSONPath subset (`$`, `$.a`, `$.a[2].b`, `$[0]`), over a
//! scanner that follows RFC 8259's grammar. Sans-IO, no allocation, no recursion: nesting is
//! tracked in a 32-bit stack of container kinds, capped at [`MAX_DEPTH`] as in Mongoose.
//!
//! What is scanned is what the lookup needs: the path is followed from the root, values that
//! are not on it are skipped (and checked while skipped), and the scan stops at the end of the
//! token found. So, as in Mongoose, bytes after the token (even after the root value) are not
//! looked at; [`validate`] checks a whole document. Differences from Mongoose 7.22, all in
//! the direction of RFC 8259: numbers must follow the JSON grammar (`01`, `1.`, `+1`, `-` are
//! invalid), strings must be UTF-8 without raw control characters, and an unknown escape is
//! invalid.
#![forbid(unsafe_code)]

use core::ops::Range;

/// Deepest nesting of objects and arrays (Mongoose's `MG_JSON_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 30;

/// Why a lookup failed; the C codes are `MG_JSON_TOO_DEEP`, `MG_JSON_INVALID`,
/// `MG_JSON_NOT_FOUND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// More than [`MAX_DEPTH`] containers are open at once on the scanned part.
    TooDeep,
    /// The scanned part is not JSON, or the path is malformed.
    Invalid,
    /// The document is fine but has nothing at that path.
    NotFound,
}

fn ws(json: &[u8], mut i: usize) -> usize {
    while i < json.len() && matches!(json[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        v = v * 16 + char::from(c).to_digit(16)?;
    }
    Some(v)
}

/// End of the string token starting with the `"` at `i`.
fn skip_string(json: &[u8], i: usize) -> Result<usize, Error> {
    let start = i + 1;
    let mut j = start;
    while j < json.len() {
        match json[j] {
            b'"' => {
                core::str::from_utf8(&json[start..j]).map_err(|_| Error::Invalid)?;
                return Ok(j + 1);
            }
            b'\\' => match json.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u') if hex4(&json[j + 2..]).is_some() => j += 6,
                _ => return Err(Error::Invalid),
            },
            0..=0x1f => return Err(Error::Invalid),
            _ => j += 1,
        }
    }
    Err(Error::Invalid)
}

fn digits(json: &[u8], mut i: usize) -> usize {
    while i < json.len() && json[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// End of the number token starting at `i`.
fn skip_number(json: &[u8], mut i: usize) -> Result<usize, Error> {
    if json.get(i) == Some(&b'-') {
        i += 1;
    }
    match json.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(json, i),
        _ => return Err(Error::Invalid),
    }
    if json.get(i) == Some(&b'.') {
        let end = digits(json, i + 1);
        if end == i + 1 {
            return Err(Error::Invalid);
        }
        i = end;
    }
    if matches!(json.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(json.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(json, i);
        if end == i {
            return Err(Error::Invalid);
        }
        i = end;
    }
    Ok(i)
}

/// After a key's opening quote at `i`: the key's span (with quotes) and where its value starts.
fn member_key(json: &[u8], i: usize) -> Result<(Range<usize>, usize), Error> {
    if json.get(i) != Some(&b'"') {
        return Err(Error::Invalid);
    }
    let end = skip_string(json, i)?;
    let colon = ws(json, end);
    if json.get(colon) != Some(&b':') {
        return Err(Error::Invalid);
    }
    Ok((i..end, ws(json, colon + 1)))
}

/// End of the value starting at `i` (no leading whitespace), inside `depth` open containers.
fn skip_value(json: &[u8], mut i: usize, depth: usize) -> Result<usize, Error> {
    // Bit k of `objects` says whether the k-th container opened here is an object.
    let mut objects: u32 = 0;
    let mut open = 0usize;
    loop {
        // A value starts at `i`.
        match json.get(i) {
            Some(&c @ (b'{' | b'[')) => {
                if depth + open >= MAX_DEPTH {
                    return Err(Error::TooDeep);
                }
                objects = (objects << 1) | u32::from(c == b'{');
                open += 1;
                i = ws(json, i + 1);
                let close = if c == b'{' { b'}' } else { b']' };
                if json.get(i) == Some(&close) {
                    objects >>= 1;
                    open -= 1;
                    i += 1;
                } else {
                    if c == b'{' {
                        i = member_key(json, i)?.1;
                    }
                    continue;
                }
            }
            Some(b'"') => i = skip_string(json, i)?,
            Some(b't') if json[i..].starts_with(b"true") => i += 4,
            Some(b'f') if json[i..].starts_with(b"false") => i += 5,
            Some(b'n') if json[i..].starts_with(b"null") => i += 4,
            Some(b'-' | b'0'..=b'9') => i = skip_number(json, i)?,
            _ => return Err(Error::Invalid),
        }
        // A value ended at `i`: close containers until one continues with a comma.
        loop {
            if open == 0 {
                return Ok(i);
            }
            i = ws(json, i);
            let in_object = objects & 1 == 1;
            match json.get(i) {
                Some(b',') => {
                    i = ws(json, i + 1);
                    if in_object {
                        i = member_key(json, i)?.1;
                    }
                    break;
                }
                Some(b'}') if in_object => {}
                Some(b']') if !in_object => {}
                _ => return Err(Error::Invalid),
            }
            objects >>= 1;
            open -= 1;
            i += 1;
        }
    }
}

/// The whole of `json` is one JSON value (with optional whitespace around it): its span.
pub fn validate(json: &[u8]) -> Result<Range<usize>, Error> {
    let start = ws(json, 0);
    if start == json.len() {
        return Err(Error::Invalid);
    }
    let end = skip_value(json, start, 0)?;
    if ws(json, end) != json.len() {
        return Err(Error::Invalid);
    }
    Ok(start..end)
}

/// One step of a path.
enum Step<'p> {
    Key(&'p [u8]),
    Index(usize),
}

/// The next step of `path` at `p`, and where the step after it starts.
fn step(path: &[u8], p: usize) -> Result<(Step<'_>, usize), Error> {
    match path[p] {
        b'.' => {
            let end = path[p + 1..]
                .iter()
                .position(|&c| c == b'.' || c == b'[')
                .map_or(path.len(), |k| p + 1 + k);
            Ok((Step::Key(&path[p + 1..end]), end))
        }
        b'[' => {
            let end = digits(path, p + 1);
            if end == p + 1 || path.get(end) != Some(&b']') {
                return Err(Error::Invalid);
            }
            // An index too large for memory is simply not there.
            let idx = path[p + 1..end]
                .iter()
                .try_fold(0usize, |v, &d| v.checked_mul(10)?.checked_add(usize::from(d - b'0')))
                .unwrap_or(usize::MAX);
            Ok((Step::Index(idx), end + 1))
        }
        _ => Err(Error::Invalid),
    }
}

/// Input ended where a value should start: an empty document has nothing (as in Mongoose),
/// a truncated one is invalid.
fn end_of_input(depth: usize) -> Error {
    if depth == 0 {
        Error::NotFound
    } else {
        Error::Invalid
    }
}

/// `mg_json_get`: the span of the token at `path` in `json`.
///
/// `path` starts with `$` (the root), then `.key` (a member whose raw key, between its quotes,
/// equals `key`; the first one if keys repeat) and `[n]` (the n-th element) steps. A key runs
/// to the next `.` or `[`. A string token's span includes its quotes.
pub fn get(json: &[u8], path: &[u8]) -> Result<Range<usize>, Error> {
    if path.first() != Some(&b'$') {
        return Err(Error::Invalid);
    }
    let mut p = 1;
    let mut i = ws(json, 0);
    let mut depth = 0usize;
    while p < path.len() {
        let (st, next) = step(path, p)?;
        p = next;
        let opener = match st {
            Step::Key(_) => b'{',
            Step::Index(_) => b'[',
        };
        match json.get(i) {
            None => return Err(end_of_input(depth)),
            Some(&c) if c == opener => {}
            Some(_) => {
                skip_value(json, i, depth)?;
                return Err(Error::NotFound);
            }
        }
        if depth >= MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        depth += 1;
        i = ws(json, i + 1);
        let close = if opener == b'{' { b'}' } else { b']' };
        if json.get(i) == Some(&close) {
            return Err(Error::NotFound);
        }
        let mut n = 0usize;
        loop {
            let value = match st {
                Step::Key(key) => {
                    let (k, v) = member_key(json, i)?;
                    if &json[k.start + 1..k.end - 1] == key {
                        i = v;
                        break;
                    }
                    v
                }
                Step::Index(idx) => {
                    if n == idx {
                        break;
                    }
                    n += 1;
                    i
                }
            };
            i = ws(json, skip_value(json, value, depth)?);
            match json.get(i) {
                Some(b',') => i = ws(json, i + 1),
                Some(&c) if c == close => return Err(Error::NotFound),
                _ => return Err(Error::Invalid),
            }
        }
    }
    if i >= json.len() {
        return Err(end_of_input(depth));
    }
    let end = skip_value(json, i, depth)?;
    Ok(i..end)
}

/// The token at `path`, as bytes of `json`.
pub fn get_tok<'a>(json: &'a [u8], path: &[u8]) -> Result<&'a [u8], Error> {
    get(json, path).map(|r| &json[r])
}

/// The number of a number token.
pub fn num(tok: &[u8]) -> Option<f64> {
    if !matches!(tok.first(), Some(b'-' | b'0'..=b'9')) || skip_number(tok, 0).ok()? != tok.len() {
        return None;
    }
    // The JSON number grammar is a subset of Rust's float syntax; the result is correctly
    // rounded. Magnitudes beyond f64 become infinities.
    core::str::from_utf8(tok).ok()?.parse().ok()
}

/// `mg_json_get_num`: the number at `path`.
pub fn get_num(json: &[u8], path: &[u8]) -> Option<f64> {
    num(get_tok(json, path).ok()?)
}

/// `mg_json_get_long` without its default: the number at `path` as an integer. Integer tokens
/// that fit are exact; others go through `f64` and are truncated toward zero, saturating at
/// the `i64` range.
pub fn get_i64(json: &[u8], path: &[u8]) -> Option<i64> {
    let tok = get_tok(json, path).ok()?;
    let f = num(tok)?;
    if let Some(v) = core::str::from_utf8(tok).ok().and_then(|s| s.parse::<i64>().ok()) {
        return Some(v);
    }
    Some(f as i64)
}

/// `mg_json_get_bool`: the boolean at `path`.
pub fn get_bool(json: &[u8], path: &[u8]) -> Option<bool> {
    match get_tok(json, path).ok()? {
        b"true" => Some(true),
        b"false" => Some(false),
        _ => None,
    }
}

/// Decode a string token (with its quotes) into `out`, as UTF-8: the number of bytes written.
/// The result is never longer than `tok.len() - 2`. `None` if `tok` is not a string token, if
/// it holds a `\u` escape of a lone surrogate, or if `out` is too small.
pub fn unescape(tok: &[u8], out: &mut [u8]) -> Option<usize> {
    if tok.len() < 2 || tok[0] != b'"' || skip_string(tok, 0).ok()? != tok.len() {
        return None;
    }
    let s = &tok[1..tok.len() - 1];
    let mut n = 0usize;
    let mut put = |bytes: &[u8], n: &mut usize| -> Option<()> {
        out.get_mut(*n..*n + bytes.len())?.copy_from_slice(bytes);
        *n += bytes.len();
        Some(())
    };
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            let run = s[i..].iter().position(|&c| c == b'\\').unwrap_or(s.len() - i);
            put(&s[i..i + run], &mut n)?;
            i += run;
            continue;
        }
        let simple = match s[i + 1] {
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            c => Some(c), // '"', '\\', '/': skip_string allowed nothing else
        };
        if let Some(c) = simple {
            put(&[c], &mut n)?;
            i += 2;
            continue;
        }
        let hi = hex4(&s[i + 2..])?;
        i += 6;
        let cp = match hi {
            0xd800..=0xdbff => {
                let lo = if s[i..].starts_with(b"\\u") {
                    hex4(&s[i + 2..])?
                } else {
                    0
                };
                if !(0xdc00..=0xdfff).contains(&lo) {
                    return None;
                }
                i += 6;
                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
            }
            0xdc00..=0xdfff => return None,
            _ => hi,
        };
        let mut buf = [0u8; 4];
        put(char::from_u32(cp)?.encode_utf8(&mut buf).as_bytes(), &mut n)?;
    }
    Some(n)
}

/// One entry of an object or array, from [`next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Offset to pass to the next call (never 0).
    pub next: usize,
    /// For objects, the raw key token with its quotes; `None` for arrays.
    pub key: Option<Range<usize>>,
    /// The value token.
    pub val: Range<usize>,
}

/// `mg_json_next`: the entry of the object or array token `obj` at offset `ofs` (0 for the
/// first). The offset returned is just past the value, its trailing whitespace and comma, as
/// in Mongoose. `None` at the end, when `obj` is not an object or array, or on invalid JSON.
pub fn next(obj: &[u8], ofs: usize) -> Option<Entry> {
    if ofs >= obj.len() || obj.len() < 2 || !matches!(obj[0], b'{' | b'[') {
        return None;
    }
    let i = ws(obj, ofs.max(1));
    let (key, start) = if obj[0] == b'{' {
        let (k, v) = member_key(obj, i).ok()?;
        (Some(k), v)
    } else {
        (None, i)
    };
    let end = skip_value(obj, start, 1).ok()?;
    let mut next = ws(obj, end);
    if obj.get(next) == Some(&b',') {
        next += 1;
    }
    Some(Entry {
        next,
        key,
        val: start..end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_OBJECT: &[u8] = br#"
      {
        "Image": {
            "Width":  800,
            "Height": 600,
            "Title":  "View from 15th Floor",
            "Thumbnail": {
                "Url":    "http://www.example.com/image/481989943",
                "Height": 125,
                "Width":  100
            },
            "Animated" : false,
            "IDs": [116, 943, 234, 38793]
          }
      }"#;

    const RFC_ARRAY: &[u8] = br#"
      [
        {
           "precision": "zip",
           "Latitude":  37.7668,
           "Longitude": -122.3959,
           "Address":   "",
           "City":      "SAN FRANCISCO",
           "State":     "CA",
           "Zip":       "94107",
           "Country":   "US"
        },
        {
           "precision": "zip",
           "Latitude":  37.371991,
           "Longitude": -122.026020,
           "Address":   "",
           "City":      "SUNNYVALE",
           "State":     "CA",
           "Zip":       "94085",
           "Country":   "US"
        }
      ]"#;

    fn tok<'a>(j: &'a [u8], p: &str) -> Result<&'a [u8], Error> {
        get_tok(j, p.as_bytes())
    }

    #[test]
    fn rfc8259_section_13_examples() {
        assert!(validate(RFC_OBJECT).is_ok());
        assert!(validate(RFC_ARRAY).is_ok());
        assert_eq!(get_num(RFC_OBJECT, b"$.Image.Width"), Some(800.0));
        assert_eq!(get_i64(RFC_OBJECT, b"$.Image.Thumbnail.Height"), Some(125));
        assert_eq!(tok(RFC_OBJECT, "$.Image.Title"), Ok(&br#""View from 15th Floor""#[..]));
        assert_eq!(get_bool(RFC_OBJECT, b"$.Image.Animated"), Some(false));
        assert_eq!(get_i64(RFC_OBJECT, b"$.Image.IDs[3]"), Some(38793));
        assert_eq!(tok(RFC_OBJECT, "$.Image.IDs[4]"), Err(Error::NotFound));
        assert_eq!(tok(RFC_OBJECT, "$.Image.IDs"), Ok(&b"[116, 943, 234, 38793]"[..]));
        assert_eq!(get_num(RFC_ARRAY, b"$[1].Longitude"), Some(-122.026020));
        assert_eq!(tok(RFC_ARRAY, "$[1].City"), Ok(&br#""SUNNYVALE""#[..]));
        assert_eq!(tok(RFC_ARRAY, "$[0].Address"), Ok(&br#""""#[..]));
        assert_eq!(tok(RFC_ARRAY, "$[2]"), Err(Error::NotFound));
        assert_eq!(tok(RFC_ARRAY, "$.City"), Err(Error::NotFound));
        // The RFC's scalar texts.
        assert_eq!(tok(b"\"Hello world!\"", "$"), Ok(&b"\"Hello world!\""[..]));
        assert_eq!(get_num(b"42", b"$"), Some(42.0));
        assert_eq!(get_bool(b" true ", b"$"), Some(true));
    }

    #[test]
    fn paths_and_offsets() {
        let j = br#"{"a":1,"b":[2,{"c":"x","d":null},[]],"a.b":3,"":4}"#;
        assert_eq!(get(j, b"$"), Ok(0..j.len()));
        assert_eq!(get(j, b"$.a"), Ok(5..6));
        assert_eq!(tok(j, "$.b[1].c"), Ok(&b"\"x\""[..]));
        assert_eq!(tok(j, "$.b[1].d"), Ok(&b"null"[..]));
        assert_eq!(tok(j, "$.b[2]"), Ok(&b"[]"[..]));
        assert_eq!(tok(j, "$.b[2][0]"), Err(Error::NotFound));
        assert_eq!(tok(j, "$.a.b"), Err(Error::NotFound)); // "a" is a number
        assert_eq!(tok(j, "$."), Ok(&b"4"[..]));
        assert_eq!(tok(j, "$.zz"), Err(Error::NotFound));
        assert_eq!(tok(j, "$[0]"), Err(Error::NotFound));
        assert_eq!(tok(j, "a"), Err(Error::Invalid));
        assert_eq!(tok(j, ""), Err(Error::Invalid));
        assert_eq!(tok(j, "$.b[x]"), Err(Error::Invalid));
        assert_eq!(tok(j, "$.b[1"), Err(Error::Invalid));
        assert_eq!(tok(j, "$[99999999999999999999999]"), Err(Error::NotFound));
        // The first of repeated keys; keys are compared raw.
        assert_eq!(tok(br#"{"k":1,"k":2}"#, "$.k"), Ok(&b"1"[..]));
        assert_eq!(tok(br#"{"\u0041":1}"#, "$.A"), Err(Error::NotFound));
        // Nothing after the token is looked at.
        assert_eq!(tok(b"[1,2] trailing", "$"), Ok(&b"[1,2]"[..]));
        assert_eq!(tok(b"[1, 2, !!!", "$[1]"), Ok(&b"2"[..]));
        assert_eq!(tok(b"[1, !!!, 3", "$[2]"), Err(Error::Invalid));
        assert_eq!(tok(b"", "$"), Err(Error::NotFound));
        assert_eq!(tok(b"  ", "$.a"), Err(Error::NotFound));
        assert_eq!(tok(b"{", "$"), Err(Error::Invalid));
        assert_eq!(tok(b"{\"a\":", "$.a"), Err(Error::Invalid));
        assert_eq!(tok(b"[1, ", "$[1]"), Err(Error::Invalid));
    }

    #[test]
    fn depth_limit_is_mongooses() {
        let ok = [&b"["[..]; MAX_DEPTH].concat();
        let ok = [ok, [&b"]"[..]; MAX_DEPTH].concat()].concat();
        assert!(validate(&ok).is_ok());
        let deep = [b"[".as_slice(), &ok, b"]"].concat();
        assert_eq!(validate(&deep), Err(Error::TooDeep));
        // Along a path too.
        let mut path = b"$".to_vec();
        for _ in 0..MAX_DEPTH {
            path.extend_from_slice(b"[0]");
        }
        assert_eq!(get(&deep, &path), Err(Error::TooDeep));
        path.truncate(path.len() - 3);
        assert_eq!(tok(&deep, std::str::from_utf8(&path).unwrap()), Err(Error::TooDeep));
        let mut ok_path = b"$".to_vec();
        for _ in 0..MAX_DEPTH - 1 {
            ok_path.extend_from_slice(b"[0]");
        }
        assert_eq!(get_tok(&ok, &ok_path), Ok(&b"[]"[..]));
    }

    #[test]
    fn numbers() {
        assert_eq!(get_num(b"-0.5e2", b"$"), Some(-50.0));
        assert_eq!(get_num(b"1E+2", b"$"), Some(100.0));
        assert_eq!(get_num(b"0.1", b"$"), Some(0.1));
        assert_eq!(get_num(b"\"1\"", b"$"), None);
        assert_eq!(get_i64(b"9007199254740993", b"$"), Some(9007199254740993));
        assert_eq!(get_i64(b"-7.9", b"$"), Some(-7));
        assert_eq!(get_i64(b"1e300", b"$"), Some(i64::MAX));
        assert_eq!(get_i64(b"true", b"$"), None);
        for bad in ["01", "1.", "+1", "-", ".5", "1e", "1e+", "0x10", "- 1"] {
            assert_eq!(validate(bad.as_bytes()), Err(Error::Invalid), "{bad}");
        }
    }

    #[test]
    fn strings_unescape() {
        let mut out = [0u8; 64];
        let t = br#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00""#;
        let n = unescape(t, &mut out).unwrap();
        assert_eq!(&out[..n], "a\"b\\c/d\u{8}\u{c}\n\r\tAé€😀".as_bytes());
        assert!(n <= t.len() - 2);
        assert_eq!(unescape(br#""""#, &mut out), Some(0));
        assert_eq!(unescape(br#""abc""#, &mut out[..2]), None);
        assert_eq!(unescape(br#""abc""#, &mut out[..3]), Some(3));
        assert_eq!(unescape(br#""\ud800""#, &mut out), None);
        assert_eq!(unescape(br#""\udc00x""#, &mut out), None);
        assert_eq!(unescape(br#""\ud800\u0041""#, &mut out), None);
        assert_eq!(unescape(b"123", &mut out), None);
        assert_eq!(unescape(b"\"", &mut out), None);
        assert_eq!(validate(b"\"\\x\""), Err(Error::Invalid));
        assert_eq!(validate(b"\"a\nb\""), Err(Error::Invalid));
        assert_eq!(validate(b"\"\xff\""), Err(Error::Invalid));
        assert_eq!(validate("\"é\"".as_bytes()), Ok(0..4));
    }

    #[test]
    fn iterate() {
        let o = br#"{ "a" : 1 , "b":[1,2],"c":{} }"#;
        let mut seen = Vec::new();
        let mut ofs = 0;
        while let Some(e) = next(o, ofs) {
            assert!(e.next > ofs);
            let k = e.key.clone().map(|k| &o[k]);
            seen.push((k.unwrap(), &o[e.val.clone()]));
            ofs = e.next;
        }
        let want: Vec<(&[u8], &[u8])> = vec![(b"\"a\"", b"1"), (b"\"b\"", b"[1,2]"), (b"\"c\"", b"{}")];
        assert_eq!(seen, want);
        let first = next(o, 0).unwrap();
        assert_eq!(first.next, 11); // past `1 ,`
        let a = b"[10, \"x\" ,[ ]]";
        let e1 = next(a, 0).unwrap();
        assert_eq!((e1.key, &a[e1.val.clone()], e1.next), (None, &b"10"[..], 4));
        let e2 = next(a, e1.next).unwrap();
        assert_eq!(&a[e2.val.clone()], b"\"x\"");
        let e3 = next(a, e2.next).unwrap();
        assert_eq!(&a[e3.val.clone()], b"[ ]");
        assert_eq!(next(a, e3.next), None);
        assert_eq!(next(b"[]", 0), None);
        assert_eq!(next(b"{}", 0), None);
        assert_eq!(next(b"12", 0), None);
        assert_eq!(next(b"[1,,2]", 2), None);
        assert_eq!(next(b"[1]", 99), None);
    }

    /// JSONTestSuite-style cases (nst/JSONTestSuite y_ and n_ names), written inline.
    #[test]
    fn test_suite_accepts_and_rejects() {
        let yes: &[&str] = &[
            "[[]   ]",
            "[\"\"]",
            "[]",
            "[\"a\"]",
            "[false]",
            "[null, 1, \"1\", {}]",
            "[1\n]",
            " [1]",
            "[1,null,null,null,2]",
            "[2] ",
            "[123e65]",
            "[0e+1]",
            "[0e1]",
            "[ 4]",
            "[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]\n",
            "[20e1]",
            "[-0]",
            "[-1]",
            "[-123]",
            "[1E22]",
            "[1E-2]",
            "[1E+2]",
            "[123e45]",
            "[123.456e78]",
            "[1e-2]",
            "[1e+2]",
            "[123]",
            "[123.456789]",
            "{\"asd\":\"sdf\"}",
            "{\"a\":\"b\",\"a\":\"c\"}",
            "{}",
            "{\"\":0}",
            "{\"foo\\u0000bar\": 42}",
            "{ \"min\": -1.0e+28, \"max\": 1.0e+28 }",
            "{\"x\":[{\"id\": \"xxx\"}], \"id\": \"xxx\"}",
            "[\"\\u0060\\u012a\\u12AB\"]",
            "[\"\\uD801\\udc37\"]",
            "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
            "[\"\\u0000\"]",
            "[\"a\u{7f}a\"]",
            "[\"€𝄞\"]",
            "[\"\\uDADA\"]",
            "\"asd\"",
            "42",
            "-0.1",
            "null",
            "true",
            "false",
            " [] ",
            "[\"\\u002c\"]",
        ];
        let no: &[&str] = &[
            "[1 true]",
            "[a]",
            "[\"\": 1]",
            "[\"\"],",
            "[,1]",
            "[1,,2]",
            "[\"x\",,]",
            "[\"x\"]]",
            "[\"\",]",
            "[\"x\"",
            "[x",
            "[3[4]]",
            "[1:2]",
            "[,]",
            "[-]",
            "[   ",
            "[\"a\",\n4\n,1,",
            "[1,]",
            "[1,,]",
            "[*]",
            "[\"\"",
            "[1,",
            "[-1.0.]",
            "[-2.]",
            "[0.1.2]",
            "[0.3e+]",
            "[0.3e]",
            "[0.e1]",
            "[0E+]",
            "[1.0e-]",
            "[1.0e+]",
            "[1e]",
            "[1eE2]",
            "[012]",
            "[.123]",
            "[+1]",
            "[Infinity]",
            "[NaN]",
            "[-NaN]",
            "[1.]",
            "[.2e-3]",
            "[0x1]",
            "[tru]",
            "[nul]",
            "[True]",
            "{\"a\" \"b\"}",
            "{\"a\" b}",
            "{:\"b\"}",
            "{\"a\" b}",
            "{key: 'value'}",
            "{\"a\":\"a\" 123}",
            "{1:1}",
            "{\"a\":1,}",
            "{\"a\":1,,\"b\":2}",
            "{\"a\"}",
            "{\"a\":}",
            "{,}",
            "{",
            "{[",
            "{\"a\":\"b\"}#",
            "['single quote']",
            "[\"\\x00\"]",
            "[\"\\\\\\\"]",
            "[\"\t\"]",
            "[\"new\nline\"]",
            "[\"\\uqqqq\"]",
            "[\"\\u00A\"]",
            "[\"\\a\"]",
            "\"",
            "[\"a\u{0}a\"]",
            "",
            " ",
            "{\"a\":true} x",
            "1 2",
            "[]]",
            "[1]x",
            "\u{feff}[]",
        ];
        for y in yes {
            assert!(validate(y.as_bytes()).is_ok(), "should accept {y:?}");
        }
        for n in no {
            assert!(validate(n.as_bytes()).is_err(), "should reject {n:?}");
        }
        // Invalid UTF-8 inside strings (n_string_invalid_utf8 and friends).
        for bad in [
            &b"[\"\xe9\"]"[..],
            b"[\"\xc0\xaf\"]",
            b"[\"\xed\xa0\x80\"]",
            b"[\"\xf4\xbf\xbf\xbf\"]",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}
