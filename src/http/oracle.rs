//! The request side's oracle: the head and trailer parsing the framers did with the
//! `httparse` crate before their own walks ([`super::request`]'s `walk_head`,
//! `common::walk_fields`) replaced it, kept so that the well-kept, fuzzed crate still checks
//! them. The property tests (`cargo test --lib http`) and the `http_request` fuzz target
//! (through [`compare_request`]) assert that both give the same verdict on any bytes: the
//! same head, spans and framing, or the same status *and* diagnostic text (it is in the
//! body of the error response on the wire).
//!
//! Not for production code: nothing in the library calls it, so no program links it.

use core::mem::MaybeUninit;

use super::common::{
    all_field_vchar, all_tchar, check_trailers, find, scan_head, skip_tchars, skip_text, span_of, trim_span,
    version_error, Header, Hint, HttpError, Limits, Span, Step, Version,
};

/// A 400 with this diagnostic (the framers' own errors are [`super::Bad`]s; the oracle
/// keeps the texts it had, so a changed text in the framers' table shows).
const fn bad(reason: &'static str) -> HttpError {
    HttpError::new(400, reason)
}

/// httparse's `TooManyHeaders`, as the framer reported it.
const TOO_MANY_HEADERS: HttpError = HttpError::new(431, "too many header fields");
use super::request::{head_from_parts, line_start, RequestHead, RequestParser};
use super::response::line_and_fields;
use super::Vec;

/// The error for a request line whose version httparse refused. httparse reads the method
/// and the target up to the first SP after each and then expects `HTTP/1.x`, so it says
/// "version" for any line with a stray SP (`GET /a b HTTP/1.1`) too. Only a well-formed line,
/// `token SP target SP HTTP/x.y` with a target of visible bytes, gets `505`; anything else
/// is a malformed request line, `400`. The oracle's rule ([`parse_head`]); the parser's
/// full path finds the same verdict in its walk (`request::version_fault`).
pub(crate) fn request_line_version_error(line: &[u8]) -> super::Bad {
    // `token SP target SP proto`: the method's tchars, then the target's visible bytes
    // (`skip_text`'s 0x21..=0x7e and obs-text), each followed by an SP; then a protocol
    // without one (the walk's own pieces: one copy fewer of a line split, cold code).
    let m = skip_tchars(line, 0);
    let t = skip_text(line, m + 1, 0x21, false);
    match (line.get(m), line.get(t), line.get(t + 1..)) {
        (Some(b' '), Some(b' '), Some(proto)) if m > 0 && t > m + 1 && proto.iter().all(|&c| c != b' ') => {
            version_error(proto)
        }
        _ => super::Bad::MalformedRequestLine,
    }
}

/// The offset of the CRLF that ends the first line of the head `buf[start..end]` (one
/// `scan_head` found: it has one).
fn first_line_end(buf: &[u8], start: usize, end: usize) -> usize {
    start + find(&buf[start..end], b"\r\n").unwrap_or(0)
}

/// The request head at the start of `buf` as the framer parsed it with httparse: its
/// length and the head, `Ok(None)` while incomplete, or the error.
pub(crate) fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(usize, RequestHead)>, HttpError> {
    let Some(i) = line_start(buf, limits)? else {
        return Ok(None);
    };
    let (end, line_end) = match scan_head(buf, i, limits.max_head_bytes, &mut Hint::default())? {
        Some(end) => (end, first_line_end(buf, i, end)),
        None if buf.len() >= limits.max_head_bytes => return Err(HttpError::new(431, "request head too large")),
        None => return Ok(None),
    };
    let mut headers = Vec::new();
    let block = &buf[i..end];
    let (method, target, version) = with_header_slots(limits.max_headers, block, MaybeUninit::uninit(), |slots| {
        let mut req = httparse::Request::new(&mut []);
        match req.parse_with_uninit_headers(block, slots) {
            Ok(httparse::Status::Complete(n)) if n == block.len() => {}
            Ok(_) => return Err(bad("malformed request head")),
            Err(httparse::Error::Version) => return Err(request_line_version_error(&buf[i..line_end]).into()),
            Err(e) => return Err(map_httparse(e)),
        }
        let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
            return Err(bad("malformed request line"));
        };
        let version = match minor {
            0 => Version::Http10,
            1 => Version::Http11,
            _ => return Err(HttpError::new(505, "HTTP version not supported")),
        };
        let method = span_of(buf, method.as_bytes()).ok_or(bad("method"))?;
        let target = span_of(buf, path.as_bytes()).ok_or(bad("request target"))?;
        if target.len() > limits.max_uri_bytes {
            return Err(HttpError::new(414, "URI too long"));
        }
        if target.is_empty() {
            return Err(bad("empty request target"));
        }
        convert_fields_into(buf, req.headers, &mut headers)?;
        Ok((method, target, version))
    })?;
    let line = &buf[i..line_end];
    let proto_start = line.iter().rposition(|&b| b == b' ').map_or(line_end, |p| i + p + 1);
    let proto = Span::new(proto_start, line_end);
    let head = head_from_parts(buf, i, end, method, target, proto, version, headers, None, limits)?;
    Ok(Some((end, head)))
}

/// A trailer section (`block` ends with its empty line) as the framer checked it with
/// httparse.
pub(crate) fn trailers(block: &[u8], limits: &Limits) -> Result<(), HttpError> {
    with_header_slots(
        limits.max_headers,
        block,
        httparse::EMPTY_HEADER,
        |slots| match httparse::parse_headers(block, slots) {
            Ok(httparse::Status::Complete((n, parsed))) if n == block.len() => convert_fields(block, parsed).map(drop),
            Ok(_) => Err(bad("malformed trailer section")),
            Err(e) => Err(map_httparse(e)),
        },
    )
}

/// The status line and fields of the complete response head `buf[start..end]` (raw lines
/// checked), as the response framer parsed them with httparse, with its errors.
#[allow(clippy::type_complexity)]
pub(crate) fn response_line_and_fields(
    buf: &[u8],
    start: usize,
    end: usize,
    line_end: usize,
    limits: &Limits,
) -> Result<(Version, u16, Span, Vec<Header>), HttpError> {
    let block = &buf[start..end];
    let line = &buf[start..line_end];
    with_header_slots(limits.max_headers, block, MaybeUninit::uninit(), |slots| {
        let mut resp = httparse::Response::new(&mut []);
        let config = httparse::ParserConfig::default();
        match config.parse_response_with_uninit_headers(&mut resp, block, slots) {
            Ok(httparse::Status::Complete(n)) if n == block.len() => {}
            Ok(_) => return Err(bad("malformed response head")),
            Err(httparse::Error::Version) => {
                let proto = line.split(|&b| b == b' ').next().unwrap_or(&[]);
                return Err(version_error(proto).into());
            }
            Err(e) => return Err(map_httparse(e)),
        }
        let (Some(minor), Some(status)) = (resp.version, resp.code) else {
            return Err(bad("malformed status line"));
        };
        if status < 100 {
            return Err(bad("invalid status code"));
        }
        let version = match minor {
            0 => Version::Http10,
            1 => Version::Http11,
            _ => return Err(HttpError::new(505, "HTTP version not supported")),
        };
        if line.len() < 12 {
            return Err(bad("malformed status line"));
        }
        let reason = if line.len() > 12 {
            Span::new(start + 13, line_end)
        } else {
            Span::empty_at(line_end)
        };
        if !all_field_vchar(reason.get(buf)) {
            return Err(bad("control character in reason phrase"));
        }
        Ok((version, status, reason, convert_fields(buf, resp.headers)?))
    })
}

/// Panics unless the response framer's status line and field walk (`line_and_fields`) and the oracle agree on
/// the response head at the start of `buf` (when `scan_head` finds one complete there).
pub fn compare_response(buf: &[u8], limits: Limits) {
    if matches!(buf.first(), None | Some(b'\r' | b'\n')) {
        return;
    }
    let Ok(Some(end)) = scan_head(buf, 0, usize::MAX, &mut Hint::default()) else {
        return;
    };
    let line_end = first_line_end(buf, 0, end);
    let want = response_line_and_fields(buf, 0, end, line_end, &limits);
    let got = line_and_fields(buf, 0, end, &limits).map_err(HttpError::from);
    assert_eq!(got, want, "{:?}", super::alloc::string::String::from_utf8_lossy(buf));
}

/// The parser's first step on `buf`, as the oracle's verdict: `Ok(None)` for `NeedMore`.
fn first_head(p: &mut RequestParser, buf: &[u8]) -> Result<Option<(usize, RequestHead)>, HttpError> {
    match p.parse(buf)? {
        Step::Head { consumed, head } => Ok(Some((consumed, head))),
        Step::NeedMore => Ok(None),
        other => panic!("a first step that is neither a head nor NeedMore: {other:?}"),
    }
}

/// Panics unless the request parser and the oracle agree on `buf` with these limits: the
/// first head (whole, spans, framing) or the exact error, fed at once (the one-pass walk)
/// and after a first look at `buf[..split]` (the full path: `scan_head`, then the walk on
/// the complete head); and, where `buf` starts with a complete, raw-clean block, the
/// trailer check.
pub fn compare_request(buf: &[u8], limits: Limits, split: usize) {
    let want = parse_head(buf, &limits);
    let got = first_head(&mut RequestParser::new(limits), buf);
    assert_eq!(
        got,
        want,
        "fed whole: {:?}",
        super::alloc::string::String::from_utf8_lossy(buf)
    );
    let mut p = RequestParser::new(limits);
    let split = split.min(buf.len());
    if let Ok(None) = first_head(&mut p, &buf[..split]) {
        let got = first_head(&mut p, buf);
        assert_eq!(
            got,
            want,
            "split at {split}: {:?}",
            super::alloc::string::String::from_utf8_lossy(buf)
        );
    }
    if let Ok(Some(end)) = scan_head(buf, 0, usize::MAX, &mut Hint::default()) {
        let block = &buf[..end];
        assert_eq!(
            check_trailers(block, &limits).map_err(HttpError::from),
            trailers(block, &limits),
            "trailers {block:?}"
        );
    }
}

// The framers' glue to httparse, as it was.

/// Header slots kept on the stack while httparse parses a head: more than real clients and
/// servers send (browsers: 10 to 20 fields). A head with more fields, when
/// [`Limits::max_headers`] allows more, is parsed a second time with slots on the heap.
const STACK_HEADERS: usize = 32;

/// Runs `parse` (httparse on a complete head or trailer block, then our checks) with header
/// slots filled with `empty`: [`STACK_HEADERS`] of them on the stack (fewer if `max_headers`
/// is lower); only when those run out (`parse` fails with the error [`map_httparse`] gives
/// for `TooManyHeaders`) and `max_headers` allows more, once more with slots on the heap.
/// The verdict is the one a single parse with `max_headers` slots would give, since
/// httparse stops at the first field that has no slot.
///
/// The heap holds `max_headers` slots, but never more than the block has bytes (a field
/// line takes at least four), so a huge configured cap allocates nothing huge.
///
/// Always inlined: then `empty = MaybeUninit::uninit()` fills nothing; called, it writes
/// the whole stack array on every head (about 130 instructions a head, under callgrind).
#[inline(always)]
pub(crate) fn with_header_slots<T: Copy, R>(
    max_headers: usize,
    block: &[u8],
    empty: T,
    mut parse: impl FnMut(&mut [T]) -> Result<R, HttpError>,
) -> Result<R, HttpError> {
    let mut stack = [empty; STACK_HEADERS];
    match parse(&mut stack[..max_headers.min(STACK_HEADERS)]) {
        Err(TOO_MANY_HEADERS) if max_headers > STACK_HEADERS => {
            let mut heap = Vec::new();
            heap.resize(max_headers.min(block.len()), empty);
            parse(&mut heap)
        }
        r => r,
    }
}

/// Converts httparse's fields into spans of `buf`, trimming OWS off values and checking
/// that no value holds a control character.
///
/// httparse already enforces both character sets (names of `tchar`, values without CTLs)
/// and trims the values; the checks are kept so that this framer's strictness does not
/// depend on a dependency's internals, and cost a table load per byte.
pub(crate) fn convert_fields(buf: &[u8], fields: &[httparse::Header<'_>]) -> Result<Vec<Header>, HttpError> {
    let mut out = Vec::with_capacity(fields.len());
    convert_fields_into(buf, fields, &mut out)?;
    Ok(out)
}

/// [`convert_fields`] into `out` (cleared first), so that a caller that keeps the vector
/// (the request parser, between requests) allocates nothing per head.
pub(crate) fn convert_fields_into(
    buf: &[u8],
    fields: &[httparse::Header<'_>],
    out: &mut Vec<Header>,
) -> Result<(), HttpError> {
    out.clear();
    out.reserve(fields.len());
    for f in fields {
        let name = span_of(buf, f.name.as_bytes()).ok_or(bad("header name"))?;
        if name.is_empty() || !all_tchar(f.name.as_bytes()) {
            return Err(bad("invalid header name"));
        }
        let value = match span_of(buf, f.value) {
            Some(v) => v,
            None if f.value.is_empty() => Span::empty_at(name.end),
            None => return Err(bad("header value")),
        };
        let value = trim_span(buf, value);
        if !all_field_vchar(value.get(buf)) {
            return Err(bad("control character in header value"));
        }
        out.push(Header { name, value });
    }
    Ok(())
}

/// Maps an httparse error to our error; `TooManyHeaders` is 431.
pub(crate) fn map_httparse(e: httparse::Error) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => TOO_MANY_HEADERS,
        httparse::Error::HeaderName => bad("invalid header name"),
        httparse::Error::HeaderValue => bad("invalid header value"),
        httparse::Error::NewLine => bad("invalid line ending"),
        httparse::Error::Status => bad("invalid status line"),
        httparse::Error::Token => bad("invalid token"),
        httparse::Error::Version => bad("invalid HTTP version"),
    }
}
