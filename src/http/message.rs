//! Helpers over parsed messages that the C layer maps onto Mongoose's `mg_http_*` calls:
//! status reason phrases, header lookup, URL decoding, query/form variables, credentials,
//! multipart form parts and the chunk encoder.
//!
//! All functions are pure and panic-free for any input.

use super::common::{is_ows, is_token_byte, trim_ows, Header, Span};
use super::Vec;
use crate::util::packed::{words_sizes, Packed, Words, MAX_TEXT};
use crate::util::str::EqCi;

/// Reason phrases (RFC 9110 names) by status code, ascending, as written; only the packed
/// form below ([`CODES`], [`PHRASES`]) is in the program (a `match`
/// over the codes was 700 bytes of code beside the strings).
const REASONS: &[(u16, &str)] = &[
    (100, "Continue"),
    (101, "Switching Protocols"),
    (102, "Processing"),
    (103, "Early Hints"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (203, "Non-Authoritative Information"),
    (204, "No Content"),
    (205, "Reset Content"),
    (206, "Partial Content"),
    (207, "Multi-Status"),
    (208, "Already Reported"),
    (226, "IM Used"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (305, "Use Proxy"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Content Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Range Not Satisfiable"),
    (417, "Expectation Failed"),
    (418, "I'm a teapot"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Content"),
    (423, "Locked"),
    (424, "Failed Dependency"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (451, "Unavailable For Legal Reasons"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Timeout"),
    (505, "HTTP Version Not Supported"),
    (506, "Variant Also Negotiates"),
    (507, "Insufficient Storage"),
    (508, "Loop Detected"),
    (510, "Not Extended"),
    (511, "Network Authentication Required"),
];

const NR: usize = REASONS.len();

/// Bytes of all reason phrases together.
const fn reason_bytes() -> usize {
    let (mut n, mut i) = (0, 0);
    while i < NR {
        n += REASONS[i].1.len();
        i += 1;
    }
    n
}

const NRB: usize = reason_bytes();

/// The codes of [`REASONS`] (checked ascending).
const fn codes() -> [u16; NR] {
    let mut codes = [0u16; NR];
    let mut i = 0;
    while i < NR {
        assert!(i == 0 || REASONS[i - 1].0 < REASONS[i].0, "codes ascending");
        codes[i] = REASONS[i].0;
        i += 1;
    }
    codes
}

/// The phrases of [`REASONS`], in the same order.
const fn phrases() -> Packed<NR, NRB> {
    let mut p = Packed::empty();
    let mut i = 0;
    while i < NR {
        p = p.with(REASONS[i].1.as_bytes());
        i += 1;
    }
    p
}

/// The status codes with a phrase, ascending.
static CODES: [u16; NR] = codes();
/// The phrase of each of [`CODES`].
static PHRASES: Packed<NR, NRB> = phrases();

const REASON_SIZES: (usize, usize) = words_sizes(REASONS);
/// The phrase of each of [`CODES`] as word numbers, for the status lines the crate writes
/// ([`status_reason_into`]): 790 bytes where [`PHRASES`] takes 1,080 (its 944 bytes of
/// text are 130 uses of 94 words). [`PHRASES`] serves the public `&'static` lookups.
static REASON_WORDS: Words<{ REASON_SIZES.0 }, { REASON_SIZES.1 }> = Words::new(REASONS, 0);

/// The first of [`REASONS`] whose code is 256 or more.
const HIGH: usize = {
    let mut i = 0;
    while REASONS[i].0 < 256 {
        i += 1;
    }
    i
};
/// The low byte of each of [`CODES`]: no two are the same, so with the high bit, which is
/// whether the index is [`HIGH`] or more (all codes are below 512), it makes the code. Half
/// the bytes of [`CODES`], for [`status_reason_into`].
static CODES_LOW: [u8; NR] = {
    let mut t = [0u8; NR];
    let mut i = 0;
    while i < NR {
        let code = REASONS[i].0;
        assert!(code < 512 && (i >= HIGH) == (code >= 256));
        t[i] = code as u8;
        let mut k = 0;
        while k < i {
            assert!(t[k] != t[i], "low bytes differ");
            k += 1;
        }
        i += 1;
    }
    t
};

/// [`status_reason`] written into `buf`, as the crate writes its status lines (`""` for an
/// unknown code).
pub(crate) fn status_reason_into(status: u16, buf: &mut [u8; MAX_TEXT]) -> &[u8] {
    let i = match CODES_LOW.iter().position(|&c| c == status as u8) {
        Some(i) if status < 512 && (i >= HIGH) == (status >= 256) => i,
        _ => usize::MAX,
    };
    REASON_WORDS.get(i, buf)
}

/// [`status_reason`] as bytes, as the status lines are written (no UTF-8 check).
pub fn status_reason_bytes(status: u16) -> &'static [u8] {
    match CODES.binary_search(&status) {
        Ok(i) => PHRASES.get(i),
        Err(_) => b"",
    }
}

/// The status line of the replies most made (`/hello`'s, every static file's), whole:
/// one copy instead of formatting the code and decoding the reason (about 100 instructions
/// a request). Only that one: a table of the nine commonest lines was 450 bytes of code and
/// text for a few dozen instructions on the others.
const LINE_200: &[u8] = b"HTTP/1.1 200 OK\r\n";

/// `HTTP/1.1 <status> <reason>\r\n`: `mg_http_reply`'s status line and the static
/// server's, one function ([`status_line_len`] bytes). Inlined, so that `200`'s line is one
/// copy in its callers (an out-of-line call cost `/hello` about 20 instructions).
#[inline(always)]
pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16) {
    if status == 200 {
        out.extend_from_slice(LINE_200);
    } else {
        write_other_status_line(out, status);
    }
}

/// [`write_status_line`] for the statuses other than `200`.
#[inline(never)]
fn write_other_status_line(out: &mut Vec<u8>, status: u16) {
    // `util::str::digits`, which the rest of the crate links anyway, not `itoa` (its code
    // and its 200-byte pair table were linked for this line alone).
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(crate::util::str::digits(status.into(), 10, &mut [0; 20]).as_bytes());
    crate::util::push_byte(out, b' ');
    out.extend_from_slice(status_reason_into(status, &mut [0; crate::util::packed::MAX_TEXT]));
    out.extend_from_slice(b"\r\n");
}

/// The length of what [`write_status_line`] writes for `status`, without writing it.
pub(crate) fn status_line_len(status: u16) -> usize {
    if status == 200 {
        return LINE_200.len();
    }
    let reason = status_reason_into(status, &mut [0; crate::util::packed::MAX_TEXT]).len();
    let digits = crate::util::str::digits(status.into(), 10, &mut [0; 20])
        .as_bytes()
        .len();
    "HTTP/1.1 ".len() + digits + 1 + reason + 2
}

/// The reason phrase for a status code (RFC 9110 names), or `""` for an unknown code
/// (an empty reason phrase is valid in a status line, RFC 9112 §4).
pub fn status_reason(status: u16) -> &'static str {
    core::str::from_utf8(status_reason_bytes(status)).unwrap_or_default()
}

/// The value span of the first field in `headers` whose name equals `name` ASCII
/// case-insensitively (`mg_http_get_header`). `buf` is the slice the spans refer to.
pub fn get_header(buf: &[u8], headers: &[Header], name: &[u8]) -> Option<Span> {
    headers.iter().find(|h| h.name.get(buf).eq_ci(name)).map(|h| h.value)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Why URL decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The output buffer is too small.
    TooSmall,
}

fn url_decode_inner(src: &[u8], out: &mut [u8], form: bool) -> Result<usize, DecodeError> {
    let mut i = 0;
    let mut n = 0;
    while i < src.len() {
        let b = match src[i] {
            b'%' => {
                let hi = src.get(i + 1).copied().and_then(hex_val);
                let lo = src.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        i += 3;
                        (h << 4) | l
                    }
                    _ => return Err(DecodeError::BadEscape),
                }
            }
            b'+' if form => {
                i += 1;
                b' '
            }
            c => {
                i += 1;
                c
            }
        };
        *out.get_mut(n).ok_or(DecodeError::TooSmall)? = b;
        n += 1;
    }
    Ok(n)
}

/// URL-decodes `src` into `out` (`mg_url_decode`): `%XX` (either case) becomes one byte,
/// `+` becomes a space when `form` is set. Returns the decoded length, or `None` if a `%`
/// escape is malformed or `out` is too small. No NUL terminator is written
/// (`util::url::url_decode`, behind `mg_url_decode`, adds it).
pub fn url_decode(src: &[u8], out: &mut [u8], form: bool) -> Option<usize> {
    url_decode_inner(src, out, form).ok()
}

/// [`url_decode`] into a new vector (never longer than `src`).
pub fn url_decode_vec(src: &[u8], form: bool) -> Option<Vec<u8>> {
    let mut v = alloc::vec![0u8; src.len()];
    let n = url_decode_inner(src, &mut v, form).ok()?;
    v.truncate(n);
    Some(v)
}

/// The raw (still URL-encoded) value of variable `name` in a query string or an
/// `application/x-www-form-urlencoded` body such as `a=1&b=2` (`mg_http_var`). The name is
/// compared ASCII case-insensitively, as Mongoose does; the first match wins. A variable
/// without `=` does not match.
pub fn find_var(buf: &[u8], name: &[u8]) -> Option<Span> {
    if name.is_empty() {
        return None;
    }
    let mut start = 0usize;
    for part in buf.split(|&b| b == b'&') {
        let part_start = start;
        start += part.len() + 1;
        if part.len() > name.len() && part[name.len()] == b'=' && part[..name.len()].eq_ci(name) {
            let v = part_start + name.len() + 1;
            return Some(Span::new(v, part_start + part.len()));
        }
    }
    None
}

/// Why [`get_var_into`] found no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarError {
    /// No such variable.
    NotFound,
    /// The value has a malformed `%` escape.
    BadEncoding,
    /// The output buffer is too small for the decoded value.
    TooSmall,
}

/// Finds variable `name` (see [`find_var`]) and form-decodes its value into `out`
/// (`mg_http_get_var`); returns the decoded length. No NUL terminator is written.
pub fn get_var_into(buf: &[u8], name: &[u8], out: &mut [u8]) -> Result<usize, VarError> {
    let s = find_var(buf, name).ok_or(VarError::NotFound)?;
    url_decode_inner(s.get(buf), out, true).map_err(|e| match e {
        DecodeError::BadEscape => VarError::BadEncoding,
        DecodeError::TooSmall => VarError::TooSmall,
    })
}

/// Finds variable `name` and returns its form-decoded value; `None` if it is missing or
/// badly encoded.
pub fn get_var(buf: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    let s = find_var(buf, name)?;
    url_decode_vec(s.get(buf), true)
}

/// The value of `name` in a header value of the form `a=1; b="two"; c`
/// (`mg_http_get_header_var`, used for `Cookie` and `Content-Disposition`). Parameters are
/// separated by `;` or `,`; names compare ASCII case-insensitively; surrounding double quotes
/// are removed (a quoted value ends at the next `"`). The span is relative to `value`.
pub fn get_header_var(value: &[u8], name: &[u8]) -> Option<Span> {
    if name.is_empty() {
        return None;
    }
    let mut i = 0usize;
    while i < value.len() {
        // Skip separators and whitespace.
        while i < value.len() && (is_ows(value[i]) || value[i] == b';' || value[i] == b',') {
            i += 1;
        }
        let key_start = i;
        while i < value.len() && !matches!(value[i], b'=' | b';' | b',') {
            i += 1;
        }
        let key = trim_ows(&value[key_start..i]);
        if i >= value.len() || value[i] != b'=' {
            continue; // a bare token, no value
        }
        i += 1; // '='
        while i < value.len() && is_ows(value[i]) {
            i += 1;
        }
        let (vs, ve);
        if value.get(i) == Some(&b'"') {
            vs = i + 1;
            let close = value[vs..].iter().position(|&b| b == b'"');
            ve = close.map_or(value.len(), |c| vs + c);
            i = close.map_or(value.len(), |c| vs + c + 1);
            // Skip anything up to the next separator.
            while i < value.len() && value[i] != b';' && value[i] != b',' {
                i += 1;
            }
        } else {
            vs = i;
            while i < value.len() && value[i] != b';' && value[i] != b',' {
                i += 1;
            }
            let raw = &value[vs..i];
            let trailing = raw.iter().rev().take_while(|&&b| is_ows(b)).count();
            ve = i - trailing;
        }
        if key.eq_ci(name) {
            return Some(Span::new(vs, ve));
        }
    }
    None
}

/// Decodes standard base64 (`A-Z a-z 0-9 + /`, `=` padding optional). `None` on any other
/// character or an impossible length.
pub fn base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let body = {
        let pad = src.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        if pad > 0 && src.len() & 3 != 0 {
            return None;
        }
        &src[..src.len() - pad]
    };
    if body.len() & 3 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    for group in body.chunks(4) {
        let mut acc: u32 = 0;
        for &c in group {
            acc = (acc << 6) | val(c)?;
        }
        match group.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

/// Encodes `src` as standard padded base64 (for `mg_http_bauth`).
pub fn base64_encode(src: &[u8], out: &mut Vec<u8>) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for g in src.chunks(3) {
        let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63]);
        out.push(T[(n >> 12) as usize & 63]);
        out.push(if g.len() > 1 { T[(n >> 6) as usize & 63] } else { b'=' });
        out.push(if g.len() > 2 { T[n as usize & 63] } else { b'=' });
    }
}

/// Credentials found in a request (`mg_http_creds`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// User name (Basic auth only), else empty.
    pub user: Vec<u8>,
    /// Password, bearer token or access token, else empty.
    pub pass: Vec<u8>,
}

/// Extracts credentials the way `mg_http_creds` does, in this order:
/// 1. `Authorization: Basic base64(user:pass)` gives user and pass (split at the first
///    `:`; invalid base64 or no `:` gives nothing);
///    `Authorization: Bearer TOKEN` gives pass = TOKEN. The scheme is case-insensitive.
/// 2. else the `access_token` variable of the `Cookie` header gives pass;
/// 3. else the `access_token` query variable (form-decoded) gives pass.
///
/// Nothing found: both empty. `buf` is the slice `headers` and `query` refer to.
pub fn creds(buf: &[u8], headers: &[Header], query: Option<Span>) -> Credentials {
    let mut c = Credentials::default();
    if let Some(v) = get_header(buf, headers, b"authorization") {
        let v = v.get(buf);
        let scheme_len = v.iter().position(|&b| b == b' ').unwrap_or(v.len());
        let (scheme, rest) = v.split_at(scheme_len);
        let rest = trim_ows(rest);
        if scheme.eq_ci(b"Basic") {
            if let Some(dec) = base64_decode(rest) {
                if let Some(colon) = dec.iter().position(|&b| b == b':') {
                    c.user = dec[..colon].to_vec();
                    c.pass = dec[colon + 1..].to_vec();
                }
            }
            return c;
        }
        if scheme.eq_ci(b"Bearer") {
            c.pass = rest.to_vec();
            return c;
        }
    }
    if let Some(cookie) = get_header(buf, headers, b"cookie") {
        let cookie = cookie.get(buf);
        if let Some(t) = get_header_var(cookie, b"access_token") {
            if !t.is_empty() {
                c.pass = t.get(cookie).to_vec();
                return c;
            }
        }
    }
    if let Some(q) = query {
        if let Some(t) = get_var(q.get(buf), b"access_token") {
            c.pass = t;
        }
    }
    c
}

/// One part of a `multipart/form-data` body (`struct mg_http_part`). Spans are relative to
/// the body given to [`next_multipart`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Part {
    /// The `name` parameter of `Content-Disposition` (empty if absent).
    pub name: Span,
    /// The `filename` parameter of `Content-Disposition` (empty if absent).
    pub filename: Span,
    /// The part's content.
    pub body: Span,
}

/// Parses the multipart part at `offset` of `body` (`mg_http_next_multipart`). Start with
/// offset 0; each call returns the offset of the next part and this part, or `None` when
/// there are no more parts (closing delimiter reached) or the body is malformed/incomplete.
///
/// The boundary is the first line of `body` (`--boundary`, as sent); the body must start
/// with it (no preamble). Each part has header lines, an empty line, then the content up to
/// `CRLF--boundary`.
pub fn next_multipart(body: &[u8], offset: usize) -> Option<(usize, Part)> {
    let first_end = super::common::find(body, b"\r\n")?;
    let delim = {
        let line = &body[..first_end];
        let trailing = line.iter().rev().take_while(|&&b| is_ows(b)).count();
        &line[..line.len() - trailing]
    };
    if delim.len() < 3 || !delim.starts_with(b"--") {
        return None;
    }
    let at = body.get(offset..)?;
    if !at.starts_with(delim) {
        return None;
    }
    let after = &at[delim.len()..];
    if after.starts_with(b"--") {
        return None; // close-delimiter
    }
    // Transport padding, then CRLF.
    let pad = after.iter().take_while(|&&b| is_ows(b)).count();
    if !after[pad..].starts_with(b"\r\n") {
        return None;
    }
    let mut pos = offset + delim.len() + pad + 2;
    let mut part = Part::default();
    // Header lines up to the empty line.
    loop {
        let rest = body.get(pos..)?;
        let eol = super::common::find(rest, b"\r\n")?;
        let line = &rest[..eol];
        let line_start = pos;
        pos += eol + 2;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        if line[..colon].eq_ci(b"content-disposition") {
            let vstart = line_start + colon + 1;
            let value = &body[vstart..line_start + eol];
            if let Some(s) = get_header_var(value, b"name") {
                part.name = s.shift(vstart);
            }
            if let Some(s) = get_header_var(value, b"filename") {
                part.filename = s.shift(vstart);
            }
        }
    }
    if part.name.is_empty() {
        part.name = Span::empty_at(pos);
    }
    if part.filename.is_empty() {
        part.filename = Span::empty_at(pos);
    }
    // Content up to CRLF + delimiter.
    let rest = &body[pos..];
    let mut search = 0usize;
    let end = loop {
        let p = search + super::common::find(&rest[search..], b"\r\n")?;
        if rest[p + 2..].starts_with(delim) {
            break p;
        }
        search = p + 2;
    };
    part.body = Span::new(pos, pos + end);
    Some((pos + end + 2, part))
}

/// Checks header lines an application hands in to be sent as they are (`mg_http_reply`'s
/// `headers`, `extra_headers` of `mg_http_serve_opts`): zero or more `name: value` lines,
/// each ended by CRLF, where the name is a token and the value holds HTAB, SP, visible ASCII
/// and obs-text only. The final CRLF may be missing. `None` when the text would corrupt or
/// smuggle into the response head: an empty line, a bare CR or LF, a name that is empty or
/// not a token (whitespace before the colon), a line starting with whitespace (obs-fold), a
/// control character. `Some(true)` when the final CRLF has to be added, `Some(false)` when
/// the text is complete as it is (the empty text included).
pub fn check_header_lines(raw: &[u8]) -> Option<bool> {
    header_lines(raw, 0).map(|(add_crlf, _)| add_crlf)
}

/// [`check_header_lines`], and whether the lines are plain: fewer than `max_lines` of them,
/// none named Content-Length, Transfer-Encoding or Connection (with 64, what
/// `mg_http_reply`'s fast path may write as it is; with `usize::MAX`, whether the static
/// server's `extra_headers` leave its framing alone).
pub(crate) fn header_lines(raw: &[u8], max_lines: usize) -> Option<(bool, bool)> {
    let mut rest = raw;
    let mut lines = 0usize;
    let mut plain = true;
    while !rest.is_empty() {
        let name = rest.iter().position(|&b| !is_token_byte(b)).unwrap_or(rest.len());
        if name == 0 || rest.get(name) != Some(&b':') {
            return None;
        }
        let n = &rest[..name];
        if matches!(super::common::known_field(n), 10 | 14 | 17) {
            plain = false;
        }
        lines += 1;
        let after = &rest[name + 1..];
        // The value's bytes (HTAB, SP, visible ASCII, obs-text), then the line's end: any
        // other byte (a bare CR or LF, a control character) stops it short of a CRLF.
        let value = super::common::skip_text(after, 0, 0x20, true);
        rest = match &after[value..] {
            [] => return Some((true, plain && lines < max_lines)),
            [b'\r', b'\n', next @ ..] => next,
            _ => return None,
        };
    }
    Some((false, plain && lines < max_lines))
}

/// Appends one chunk of a chunked body to `out`: `{hex len}\r\n{data}\r\n`; empty `data`
/// writes the last chunk `0\r\n\r\n` (`mg_http_write_chunk`). Hex digits are lowercase.
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    let mut digits = [0u8; 16];
    let mut n = data.len() as u64;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = crate::util::str::HEX_LOWER[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.reserve(digits.len() - i + data.len() + 4);
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_lines_an_application_sends() {
        for (raw, want) in [
            (&b""[..], Some(false)),
            (b"Content-Type: text/plain\r\n", Some(false)),
            (b"A: 1\r\nB:\r\nC: \tx y\xe9\r\n", Some(false)),
            (b"X-A: 1", Some(true)),
            (b"A: 1\r\nB: 2", Some(true)),
            (b"A:", Some(true)),
            (b"A: 1\r", None),
            (b"A: 1\n", None),
            (b"A: 1\nB: 2\r\n", None),
            (b"A: 1\rB: 2\r\n", None),
            (b"A: 1\r\n\r\n", None),
            (b"A: 1\r\n\r\nbody", None),
            (b"\r\n", None),
            (b"A: 1\r\n B: 2\r\n", None),
            (b"A: 1\r\n\tB: 2\r\n", None),
            (b" A: 1\r\n", None),
            (b"A : 1\r\n", None),
            (b"Bad Name: 1\r\n", None),
            (b": 1\r\n", None),
            (b"NoColon\r\n", None),
            (b"A: a\0b\r\n", None),
            (b"A: a\x01b\r\n", None),
            (b"A: a\x7fb\r\n", None),
            (b"A(: 1\r\n", None),
        ] {
            assert_eq!(
                check_header_lines(raw),
                want,
                "{:?}",
                std::string::String::from_utf8_lossy(raw)
            );
        }
    }

    use super::*;
    extern crate std;
    use crate::http::{Limits, RequestParser, Step};
    use proptest::prelude::*;
    use std::vec;

    /// What `header_lines` was: each value up to the first CR or LF, checked whole.
    fn header_lines_by_memchr(raw: &[u8]) -> Option<(bool, bool)> {
        let mut rest = raw;
        let mut lines = 0usize;
        let mut plain = true;
        while !rest.is_empty() {
            let name = rest.iter().position(|&b| !is_token_byte(b)).unwrap_or(rest.len());
            if name == 0 || rest.get(name) != Some(&b':') {
                return None;
            }
            let n = &rest[..name];
            if n.eq_ignore_ascii_case(b"connection")
                || n.eq_ignore_ascii_case(b"content-length")
                || n.eq_ignore_ascii_case(b"transfer-encoding")
            {
                plain = false;
            }
            lines += 1;
            let after = &rest[name + 1..];
            let value = memchr::memchr2(b'\r', b'\n', after).unwrap_or(after.len());
            if !crate::http::common::all_field_vchar(&after[..value]) {
                return None;
            }
            rest = match &after[value..] {
                [] => return Some((true, plain && lines < 64)),
                [b'\r', b'\n', next @ ..] => next,
                _ => return None,
            };
        }
        Some((false, plain && lines < 64))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn header_lines_are_the_memchr_rule(
            parts in proptest::collection::vec(prop_oneof![
                4 => Just(&b"X-A"[..]),
                2 => Just(&b"Connection"[..]),
                4 => Just(&b": "[..]),
                4 => Just(&b"v a"[..]),
                4 => Just(&b"\r\n"[..]),
                1 => Just(&b"\r"[..]),
                1 => Just(&b"\n"[..]),
                1 => Just(&b"\t"[..]),
                1 => Just(&b"\xe9\x80"[..]),
                1 => Just(&b"\x00"[..]),
                1 => Just(&b"\x7f"[..]),
                1 => Just(&b"0123456789abcdef"[..]),
            ], 0..12)
        ) {
            let raw = parts.concat();
            prop_assert_eq!(header_lines(&raw, 64), header_lines_by_memchr(&raw));
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(status_reason(200), "OK");
        assert_eq!(status_reason(404), "Not Found");
        assert_eq!(status_reason(413), "Content Too Large");
        assert_eq!(status_reason(431), "Request Header Fields Too Large");
        assert_eq!(status_reason(505), "HTTP Version Not Supported");
        assert_eq!(status_reason(299), "");
        for s in [
            100, 101, 200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 408, 409, 411, 413, 414,
            415, 416, 429, 431, 500, 501, 502, 503, 504, 505,
        ] {
            assert!(!status_reason(s).is_empty(), "{s}");
        }
        // The packed table answers as the written one, and nothing for other codes.
        for s in 0..=u16::MAX {
            let want = REASONS.iter().find(|(c, _)| *c == s).map_or("", |(_, t)| *t);
            assert_eq!(status_reason(s), want, "{s}");
            assert_eq!(status_reason_bytes(s), want.as_bytes());
            assert_eq!(status_reason_into(s, &mut [0; MAX_TEXT]), want.as_bytes());
        }
    }

    /// `200`'s whole line is the one the general path formats, and `status_line_len` counts
    /// what `write_status_line` writes, for every status a reply may have.
    #[test]
    fn status_lines_and_their_lengths() {
        let mut general = b"HTTP/1.1 200 ".to_vec();
        general.extend_from_slice(status_reason_into(200, &mut [0; MAX_TEXT]));
        general.extend_from_slice(b"\r\n");
        assert_eq!(LINE_200, &general[..]);
        for status in 100u16..=999 {
            let mut out = Vec::new();
            write_status_line(&mut out, status);
            assert_eq!(status_line_len(status), out.len(), "{status}");
            assert!(out.starts_with(b"HTTP/1.1 ") && out.ends_with(b"\r\n"), "{status}");
        }
    }

    #[test]
    fn header_lookup() {
        let b = b"GET / HTTP/1.1\r\nHost: h\r\nCoNtEnT-TyPe: text/x\r\nX: 1\r\nX: 2\r\n\r\n";
        let mut p = RequestParser::new(Limits::default());
        let Ok(Step::Head { head, .. }) = p.parse(b) else {
            panic!()
        };
        assert_eq!(get_header(b, &head.headers, b"content-type").unwrap().get(b), b"text/x");
        assert_eq!(get_header(b, &head.headers, b"X").unwrap().get(b), b"1");
        assert_eq!(get_header(b, &head.headers, b"missing"), None);
    }

    #[test]
    fn url_decoding() {
        let mut out = [0u8; 32];
        assert_eq!(url_decode(b"a%20b%2Fc%2fd", &mut out, false), Some(7));
        assert_eq!(&out[..7], b"a b/c/d");
        assert_eq!(url_decode(b"a+b", &mut out, false), Some(3));
        assert_eq!(&out[..3], b"a+b");
        assert_eq!(url_decode(b"a+b", &mut out, true), Some(3));
        assert_eq!(&out[..3], b"a b");
        assert_eq!(url_decode(b"%00", &mut out, true), Some(1));
        assert_eq!(out[0], 0);
        assert_eq!(url_decode(b"", &mut out, true), Some(0));
        assert_eq!(url_decode(b"%", &mut out, true), None);
        assert_eq!(url_decode(b"%4", &mut out, true), None);
        assert_eq!(url_decode(b"%zz", &mut out, true), None);
        assert_eq!(url_decode(b"ab%g1", &mut out, true), None);
        assert_eq!(url_decode(b"abc", &mut out[..2], true), None);
        assert_eq!(url_decode(b"abc", &mut out[..3], true), Some(3));
        assert_eq!(url_decode_vec(b"x%41y", false), Some(b"xAy".to_vec()));
        assert_eq!(url_decode_vec(b"x%4", false), None);
    }

    #[test]
    fn vars() {
        let q = b"a=1&bb=x%20y+z&c=&d&A=2&e=%zz";
        assert_eq!(find_var(q, b"a"), Some(Span::new(2, 3)));
        assert_eq!(get_var(q, b"a"), Some(b"1".to_vec()));
        assert_eq!(get_var(q, b"bb"), Some(b"x y z".to_vec()));
        assert_eq!(get_var(q, b"b"), None);
        assert_eq!(get_var(q, b"c"), Some(vec![]));
        assert_eq!(get_var(q, b"d"), None);
        assert_eq!(get_var(q, b"e"), None);
        assert_eq!(get_var(q, b"BB"), Some(b"x y z".to_vec())); // case-insensitive
        assert_eq!(get_var(q, b""), None);
        let mut out = [0u8; 4];
        assert_eq!(get_var_into(q, b"bb", &mut out), Err(VarError::TooSmall));
        assert_eq!(get_var_into(q, b"zz", &mut out), Err(VarError::NotFound));
        assert_eq!(get_var_into(q, b"e", &mut out), Err(VarError::BadEncoding));
        assert_eq!(get_var_into(q, b"a", &mut out), Ok(1));
        assert_eq!(out[0], b'1');
        assert_eq!(get_var(b"", b"a"), None);
        assert_eq!(get_var(b"&&a=5&", b"a"), Some(b"5".to_vec()));
    }

    #[test]
    fn header_vars() {
        let c = b"session=abc; access_token=\"t0k\"; x=1";
        assert_eq!(get_header_var(c, b"access_token").unwrap().get(c), b"t0k");
        assert_eq!(get_header_var(c, b"session").unwrap().get(c), b"abc");
        assert_eq!(get_header_var(c, b"X").unwrap().get(c), b"1");
        assert_eq!(get_header_var(c, b"nope"), None);
        let d = b"form-data; name=\"file\"; filename=\"a b.txt\"";
        assert_eq!(get_header_var(d, b"name").unwrap().get(d), b"file");
        assert_eq!(get_header_var(d, b"filename").unwrap().get(d), b"a b.txt");
        let d = b"form-data; filename=\"f\"; name=n";
        assert_eq!(get_header_var(d, b"name").unwrap().get(d), b"n");
        assert_eq!(
            get_header_var(b"a=\"unterminated", b"a")
                .unwrap()
                .get(b"a=\"unterminated"),
            b"unterminated"
        );
        assert_eq!(get_header_var(b"a = 1 ;b", b"a").unwrap().get(b"a = 1 ;b"), b"1");
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"dXNlcjpwYXNz"), Some(b"user:pass".to_vec()));
        assert_eq!(base64_decode(b"YQ=="), Some(b"a".to_vec()));
        assert_eq!(base64_decode(b"YQ"), Some(b"a".to_vec()));
        assert_eq!(base64_decode(b"YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode(b""), Some(vec![]));
        assert_eq!(base64_decode(b"Y"), None);
        assert_eq!(base64_decode(b"YQ==="), None);
        assert_eq!(base64_decode(b"Y!=="), None);
        assert_eq!(base64_decode(b"YQ=x"), None);
        let mut e = Vec::new();
        base64_encode(b"user:pass", &mut e);
        assert_eq!(e, b"dXNlcjpwYXNz");
    }

    fn creds_of(req: &[u8]) -> Credentials {
        let mut p = RequestParser::new(Limits::default());
        let Ok(Step::Head { head, .. }) = p.parse(req) else {
            panic!()
        };
        creds(req, &head.headers, head.query)
    }

    #[test]
    fn credentials() {
        let c = creds_of(b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dXNlcjpwYTpzcw==\r\n\r\n");
        assert_eq!((c.user.as_slice(), c.pass.as_slice()), (&b"user"[..], &b"pa:ss"[..]));
        let c = creds_of(b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: bearer abc.def\r\n\r\n");
        assert_eq!((c.user.as_slice(), c.pass.as_slice()), (&b""[..], &b"abc.def"[..]));
        let c = creds_of(b"GET /?access_token=q%21 HTTP/1.1\r\nHost: h\r\nCookie: a=b; access_token=ck\r\n\r\n");
        assert_eq!(c.pass, b"ck");
        let c = creds_of(b"GET /?x=1&access_token=q%21 HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(c.pass, b"q!");
        assert!(c.user.is_empty());
        let c = creds_of(b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic !!!\r\n\r\n");
        assert_eq!(c, Credentials::default());
        let c = creds_of(b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dXNlcg==\r\n\r\n");
        assert_eq!(c, Credentials::default()); // no colon
        let c = creds_of(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(c, Credentials::default());
    }

    const FORM: &[u8] = b"--XyZ\r\n\
        Content-Disposition: form-data; name=\"field\"\r\n\
        \r\n\
        value\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        line1\r\n--Xy\r\nline2\r\n\
        --XyZ--\r\n";

    #[test]
    fn multipart() {
        let (off, p) = next_multipart(FORM, 0).unwrap();
        assert_eq!(p.name.get(FORM), b"field");
        assert_eq!(p.filename.get(FORM), b"");
        assert_eq!(p.body.get(FORM), b"value");
        assert!(FORM[off..].starts_with(b"--XyZ\r\n"));
        let (off2, p) = next_multipart(FORM, off).unwrap();
        assert_eq!(p.name.get(FORM), b"file");
        assert_eq!(p.filename.get(FORM), b"a.txt");
        assert_eq!(p.body.get(FORM), b"line1\r\n--Xy\r\nline2");
        assert_eq!(&FORM[off2..], b"--XyZ--\r\n");
        assert_eq!(next_multipart(FORM, off2), None);
        // Incomplete bodies and junk.
        assert_eq!(next_multipart(&FORM[..60], 0), None);
        assert_eq!(next_multipart(b"", 0), None);
        assert_eq!(next_multipart(b"hello\r\n", 0), None);
        assert_eq!(next_multipart(FORM, 3), None);
        assert_eq!(next_multipart(FORM, 10_000), None);
        // Empty part content.
        let f = b"--b\r\n\r\n\r\n--b--\r\n";
        let (o, p) = next_multipart(f, 0).unwrap();
        assert_eq!(p.body, Span::new(7, 7));
        assert_eq!(next_multipart(f, o), None);
    }

    #[test]
    fn chunk_encoding() {
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello");
        assert_eq!(out, b"5\r\nhello\r\n");
        out.clear();
        write_chunk(&mut out, &[b'x'; 26]);
        assert!(out.starts_with(b"1a\r\nxxxx"));
        out.clear();
        write_chunk(&mut out, b"");
        assert_eq!(out, b"0\r\n\r\n");
    }

    fn decode_chunked(encoded: &[u8], splits: &[usize]) -> Vec<u8> {
        let mut stream = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        stream.extend_from_slice(encoded);
        let events = crate::http::drive::request_events(
            &stream,
            splits,
            Limits {
                max_body: u64::MAX,
                ..Limits::default()
            },
        );
        let mut body = Vec::new();
        let mut ended = false;
        for e in events {
            match e {
                crate::http::drive::Ev::Data(d) => body.extend_from_slice(&d),
                crate::http::drive::Ev::End(_) => ended = true,
                crate::http::drive::Ev::Err(s) => panic!("error {s}"),
                _ => {}
            }
        }
        assert!(ended);
        body
    }

    proptest! {
        #[test]
        fn chunked_roundtrip(chunks in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300), 0..8),
            splits in proptest::collection::vec(1usize..64, 0..40)) {
            let mut encoded = Vec::new();
            let mut expect = Vec::new();
            for c in &chunks {
                if c.is_empty() { continue; }
                write_chunk(&mut encoded, c);
                expect.extend_from_slice(c);
            }
            write_chunk(&mut encoded, b"");
            prop_assert_eq!(decode_chunked(&encoded, &splits), expect);
        }

        #[test]
        fn url_decode_total(src in proptest::collection::vec(any::<u8>(), 0..64), form: bool) {
            let mut out = [0u8; 64];
            if let Some(n) = url_decode(&src, &mut out, form) {
                prop_assert!(n <= src.len());
            }
        }

        #[test]
        fn helpers_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..200),
                               name in proptest::collection::vec(any::<u8>(), 0..6),
                               off in 0usize..250) {
            let _ = get_var(&buf, &name);
            if let Some(s) = get_header_var(&buf, &name) {
                prop_assert!(s.end <= buf.len() && s.start <= s.end);
            }
            if let Some((next, p)) = next_multipart(&buf, off) {
                prop_assert!(next > off && next <= buf.len());
                for s in [p.name, p.filename, p.body] {
                    prop_assert!(s.start <= s.end && s.end <= buf.len());
                }
            }
            let _ = base64_decode(&buf);
        }

        #[test]
        fn base64_roundtrip(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut e = Vec::new();
            base64_encode(&data, &mut e);
            prop_assert_eq!(base64_decode(&e), Some(data));
        }

        #[test]
        fn multipart_roundtrip(parts in proptest::collection::vec(
                ("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 0..50)), 1..5)) {
            let delim = b"--0123456789boundary";
            let mut body = Vec::new();
            for (name, content) in &parts {
                body.extend_from_slice(delim);
                body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
                body.extend_from_slice(name.as_bytes());
                body.extend_from_slice(b"\"\r\n\r\n");
                body.extend_from_slice(content);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(delim);
            body.extend_from_slice(b"--\r\n");
            let mut off = 0;
            let mut got = Vec::new();
            while let Some((next, p)) = next_multipart(&body, off) {
                got.push((p.name.get(&body).to_vec(), p.body.get(&body).to_vec()));
                off = next;
            }
            // Content holding CRLF + delimiter would be ambiguous; random bytes never do.
            let want: Vec<_> = parts.iter().map(|(n, c)| (n.as_bytes().to_vec(), c.clone())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
