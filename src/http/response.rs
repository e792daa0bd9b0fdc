//! Client side: frames HTTP/1.x responses out of a connection's receive buffer.
//!
//! [`ResponseParser`] has the same streaming shape as the request framer: one
//! [`Step`] per call, `Head`, `Body`*, `End`. The body length follows RFC 9112 §6.3: a
//! response to HEAD, any 1xx, 204 and 304 have no body; a 2xx to CONNECT opens a tunnel;
//! then `Transfer-Encoding: chunked`; then `Content-Length`; otherwise the body runs until
//! the server closes ([`Body::UntilClose`], completed by
//! [`ResponseParser::finish_on_eof`]). Interim responses (100, 102, 103, ...) are skipped.

use super::common::{
    analyze_fields, scan_head, skip_text, version_error, walk_fields_outlined, word_at, Bad, Body, Eof, Fault, Framed,
    FramerCore, Header, Hint, HttpError, Limits, Span, Step, Version,
};
use super::Vec;

/// The head of a response. All spans point into the slice passed to the
/// [`ResponseParser::parse`] call that returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// From the status line to the final empty line inclusive (skipped interim responses
    /// are not part of it).
    pub head: Span,
    /// The protocol token, `HTTP/1.0` or `HTTP/1.1`.
    pub proto: Span,
    /// The three status digits.
    pub code: Span,
    /// The status code.
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: Span,
    /// Every header field, in order.
    pub headers: Vec<Header>,
    /// The HTTP version.
    pub version: Version,
    /// Whether the connection can carry another request/response after this one
    /// (RFC 9112 §9.3). Always `false` for read-until-close bodies, `101 Switching
    /// Protocols` and a tunnel opened by CONNECT.
    pub keep_alive: bool,
    /// How the body is framed.
    pub body: Body,
}

impl ResponseHead {
    /// The value of the first header named `name` (ASCII case-insensitive), as bytes of `buf`
    /// (the slice the head was parsed from).
    pub fn header<'a>(&self, buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
        super::message::get_header(buf, &self.headers, name).map(|s| s.get(buf))
    }
}

/// A step of the response framer.
pub type ResponseStep = Step<ResponseHead>;

/// The kind of request a response answers, as far as framing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Answering {
    Other,
    Head,
    Connect,
}

impl Framed for ResponseHead {
    fn framing(&self) -> (Body, bool) {
        (self.body, self.keep_alive)
    }
}

/// An interim response (1xx other than `101 Switching Protocols`): skipped, the final
/// response follows.
fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// Streaming HTTP/1.x response framer. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct ResponseParser {
    core: FramerCore,
    answering: Answering,
}

impl ResponseParser {
    /// A parser waiting for a response to a GET-like request, enforcing `limits`.
    pub fn new(limits: Limits) -> ResponseParser {
        ResponseParser {
            core: FramerCore::new(limits),
            answering: Answering::Other,
        }
    }

    /// Tells the parser which method the next response answers (`HEAD` responses have no
    /// body; a 2xx answer to `CONNECT` is a tunnel). Stays in force until changed; call it
    /// before the response's head is parsed.
    pub fn set_request_method(&mut self, method: &[u8]) {
        self.answering = if method == b"HEAD" {
            Answering::Head
        } else if method == b"CONNECT" {
            Answering::Connect
        } else {
            Answering::Other
        };
    }

    /// Feeds the not-yet-consumed bytes of the connection; returns one step. Same contract
    /// as [`RequestParser::parse`](super::RequestParser::parse).
    pub fn parse(&mut self, buf: &[u8]) -> Result<ResponseStep, HttpError> {
        self.step(buf).map_err(HttpError::from)
    }

    /// [`parse`](Self::parse) with the error as the crate keeps it (one byte): the server's
    /// response tracker only needs to know that there is one.
    pub(crate) fn step(&mut self, buf: &[u8]) -> Result<ResponseStep, Bad> {
        let answering = self.answering;
        self.core.parse(buf, |buf, limits, hint| {
            let mut start = 0usize;
            loop {
                let Some((end, head)) = parse_head(buf, start, limits, hint, answering)? else {
                    return Ok(None);
                };
                if !is_interim(head.status) {
                    return Ok(Some((end, head)));
                }
                start = end;
            }
        })
    }

    /// Whether a head was returned and its message has not ended yet.
    pub fn in_body(&self) -> bool {
        self.core.in_body()
    }

    /// Whether the parser stopped reading (non-keep-alive message done, EOF, or error).
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// The error the parser failed with, if it did.
    pub fn error(&self) -> Option<HttpError> {
        self.core.error().map(HttpError::from)
    }

    /// Tells the parser the server closed the connection; `unconsumed` is how many received
    /// bytes were never consumed (call [`parse`](Self::parse) until `NeedMore` first).
    ///
    /// `Ok(Eof::Complete)`: a read-until-close body ended here, the response is complete.
    /// `Ok(Eof::Clean)`: no response was in progress. An error (status 400) if a head, a
    /// Content-Length body or a chunked body was cut short. The parser is closed afterwards.
    pub fn finish_on_eof(&mut self, unconsumed: usize) -> Result<Eof, HttpError> {
        self.core
            .finish_on_eof(unconsumed, Bad::ClosedInResponseHead, Bad::ClosedInResponseBody)
            .map_err(HttpError::from)
    }
}

/// Parses a response head starting at `start`. `Ok(None)`: incomplete.
fn parse_head(
    buf: &[u8],
    start: usize,
    limits: &Limits,
    hint: &mut Hint,
    answering: Answering,
) -> Result<Option<(usize, ResponseHead)>, Bad> {
    match &buf[start..] {
        [] => return Ok(None),
        [b'\r' | b'\n', ..] => return Err(Bad::EmptyLineBeforeStatus),
        // Bytes that cannot grow into a status line are refused now, not once a head's end
        // arrives that may never come (a body written after an interim status, a peer that
        // does not speak HTTP): the caller learns at once that the bytes do not frame.
        rest if !b"HTTP/".starts_with(&rest[..rest.len().min(5)]) => return Err(Bad::NotHttpResponse),
        _ => {}
    }
    let end = match scan_head(buf, start, limits.max_head_bytes, hint)? {
        Some(end) => end,
        None if buf.len() >= limits.max_head_bytes => return Err(Bad::ResponseHeadTooLarge),
        None => return Ok(None),
    };
    // The status line and the fields, checked.
    let (version, status, reason, headers) = line_and_fields(buf, start, end, limits)?;
    let proto = Span::new(start, start + 8);
    let code = Span::new(start + 9, start + 12);

    let (body, keep_alive) = if is_interim(status) {
        // Interim responses are skipped whole; their fields do not frame anything.
        (Body::None, true)
    } else {
        let f = analyze_fields(buf, &headers)?;
        if version == Version::Http10 && f.chunked {
            return Err(Bad::TeInHttp10Response);
        }
        let persistent = match version {
            Version::Http11 => !f.close,
            Version::Http10 => f.keep_alive && !f.close,
        };
        if status == 101 || (answering == Answering::Connect && (200..300).contains(&status)) {
            // The connection now speaks another protocol (or is a tunnel).
            (Body::None, false)
        } else if answering == Answering::Head || status == 204 || status == 304 {
            (Body::None, persistent)
        } else if f.chunked {
            (Body::Chunked, persistent)
        } else if let Some(n) = f.content_length {
            if n > limits.max_body {
                return Err(Bad::BodyTooLarge);
            }
            (Body::Length(n), persistent)
        } else {
            (Body::UntilClose, false)
        }
    };
    let head = ResponseHead {
        head: Span::new(start, end),
        proto,
        code,
        status,
        reason,
        headers,
        version,
        keep_alive,
        body,
    };
    Ok(Some((end, head)))
}

/// What a response head's status line and fields are ([`status_line_and_fields`]), or the
/// error for them, as the framer reports it.
#[allow(clippy::type_complexity)]
pub(crate) fn line_and_fields(
    buf: &[u8],
    start: usize,
    end: usize,
    limits: &Limits,
) -> Result<(Version, u16, Span, Vec<Header>), Bad> {
    match status_line_and_fields(buf, start, end, limits) {
        Ok(h) if h.1 < 100 => Err(Bad::InvalidStatusCode),
        Ok(h) => Ok(h),
        Err(f) => Err(f.error(Bad::MalformedResponseHead)),
    }
}

/// The fault for a status line that does not start with `HTTP/1.0 ` or `HTTP/1.1 `: its
/// protocol is the line up to the first SP, a 505 when that is a well-formed `HTTP/x.y`
/// (8 bytes, then SP or the line's CR), else an invalid version.
fn status_version_fault(buf: &[u8], start: usize) -> Fault {
    let proto = match buf.get(start + 8) {
        Some(b' ' | b'\r') => &buf[start..start + 8],
        _ => &[],
    };
    match version_error(proto) {
        Bad::VersionNotSupported => Fault::Unsupported,
        _ => Fault::Version,
    }
}

/// The status line and fields of the complete response head `buf[start..end]`, whose raw
/// lines [`scan_head`] checked: `HTTP/1.x SP 3DIGIT`, then SP and a reason phrase (HTAB, SP,
/// visible ASCII, obs-text) or the line's end, then the fields ([`walk_fields`]). Refuses as
/// httparse did (the crate this replaced, the oracle of the tests: `oracle::response_line_and_fields`),
/// with its kind of fault.
fn status_line_and_fields(
    buf: &[u8],
    start: usize,
    end: usize,
    limits: &Limits,
) -> Result<(Version, u16, Span, Vec<Header>), Fault> {
    let buf = &buf[..end];
    let version = match word_at(buf, start) {
        Some(w) if w == u64::from_le_bytes(*b"HTTP/1.1") => Version::Http11,
        Some(w) if w == u64::from_le_bytes(*b"HTTP/1.0") => Version::Http10,
        _ => return Err(status_version_fault(buf, start)),
    };
    if buf.get(start + 8) != Some(&b' ') {
        return Err(status_version_fault(buf, start));
    }
    let mut status = 0u16;
    for i in start + 9..start + 12 {
        match buf.get(i) {
            Some(&d) if d.is_ascii_digit() => status = status * 10 + u16::from(d - b'0'),
            _ => return Err(Fault::Status),
        }
    }
    let mut i = start + 12;
    let mut reason = Span::empty_at(i);
    if buf.get(i) == Some(&b' ') {
        i = skip_text(buf, i + 1, 0x20, true);
        reason = Span::new(start + 13, i);
    }
    if buf.get(i..i + 2) != Some(b"\r\n") {
        return Err(Fault::Status);
    }
    let mut headers = Vec::new();
    let (n, ..) = walk_fields_outlined(buf, i + 2, limits.max_headers, &mut headers)?;
    match n == end {
        true => Ok((version, status, reason, headers)),
        false => Err(Fault::More),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec;

    fn lim() -> Limits {
        Limits::default()
    }

    struct Out {
        heads: Vec<ResponseHead>,
        body: Vec<u8>,
        ends: Vec<bool>,
        err: Option<u16>,
        used: usize,
    }

    fn run(p: &mut ResponseParser, b: &[u8]) -> Out {
        let mut o = Out {
            heads: vec![],
            body: vec![],
            ends: vec![],
            err: None,
            used: 0,
        };
        loop {
            match p.parse(&b[o.used..]) {
                Err(e) => {
                    o.err = Some(e.status);
                    return o;
                }
                Ok(Step::NeedMore) => return o,
                Ok(Step::Head { consumed, head }) => {
                    o.heads.push(head.clone());
                    o.used += consumed;
                }
                Ok(Step::Body { consumed, data }) => {
                    o.body.extend_from_slice(data.get(&b[o.used..]));
                    o.used += consumed;
                }
                Ok(Step::End { consumed, keep_alive }) => {
                    o.ends.push(keep_alive);
                    o.used += consumed;
                }
            }
        }
    }

    fn run_new(b: &[u8]) -> Out {
        run(&mut ResponseParser::new(lim()), b)
    }

    #[test]
    fn bare_lf_line_ends_are_refused_at_once() {
        for b in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n"[..],
            b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
            b"HTTP/1.1 200 OK\n",
            b"HTTP/1.1 100 Continue\r\n\nHTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n\n",
        ] {
            assert_eq!(
                run_new(b).err,
                Some(400),
                "{:?}",
                std::string::String::from_utf8_lossy(b)
            );
        }
    }

    /// Bytes that cannot begin a status line are refused as soon as they arrive (a body
    /// written after an interim status was held back waiting for a head's end), while a
    /// true prefix of one waits for more.
    #[test]
    fn bytes_that_cannot_begin_a_status_line_are_refused_at_once() {
        for b in [
            &b"x"[..],
            b"HTTQ",
            b"http/1.1 200 OK",
            b"HTTP/1.1 102 Processing\r\n\r\nx",
        ] {
            assert_eq!(
                run_new(b).err,
                Some(400),
                "{:?}",
                std::string::String::from_utf8_lossy(b)
            );
        }
        for b in [
            &b"H"[..],
            b"HTTP",
            b"HTTP/",
            b"HTTP/1.1 200",
            b"HTTP/1.1 100 Continue\r\n\r\nHT",
        ] {
            let o = run_new(b);
            assert_eq!(
                (o.err, o.heads.len()),
                (None, 0),
                "{:?}",
                std::string::String::from_utf8_lossy(b)
            );
        }
    }

    #[test]
    fn declared_chunk_over_the_cap_is_refused_at_its_size_line() {
        let limits = Limits {
            max_body: 1000,
            ..lim()
        };
        let mut p = ResponseParser::new(limits);
        let o = run(&mut p, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n");
        assert_eq!((o.heads.len(), o.err), (1, Some(413)));
        let mut p = ResponseParser::new(limits);
        let o = run(&mut p, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n");
        assert_eq!((o.heads.len(), o.err), (1, None));
    }

    #[test]
    fn content_length_response_ranges() {
        let b = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
        let mut p = ResponseParser::new(lim());
        let Step::Head { consumed, head } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(consumed, b.len() - 5);
        assert_eq!(head.head, Span::new(0, b.len() - 5));
        assert_eq!(head.proto.get(b), b"HTTP/1.1");
        assert_eq!(head.code.get(b), b"200");
        assert_eq!(head.status, 200);
        assert_eq!(head.reason.get(b), b"OK");
        assert_eq!(head.headers.len(), 2);
        assert_eq!(head.header(b, b"x"), Some(&b"y"[..]));
        assert_eq!(head.body, Body::Length(5));
        assert!(head.keep_alive);
        let o = run(&mut p, &b[consumed..]);
        assert_eq!(o.body, b"hello");
        assert_eq!(o.ends, [true]);
    }

    #[test]
    fn reason_phrases() {
        let b = b"HTTP/1.1 404 Not  Found\r\nContent-Length: 0\r\n\r\n";
        let o = run_new(b);
        assert_eq!(o.heads[0].reason.get(b), b"Not  Found");
        let b = b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n";
        let o = run_new(b);
        assert_eq!(o.heads[0].reason.get(b), b"");
        let b = b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
        let o = run_new(b);
        assert_eq!(o.heads[0].reason, Span::empty_at(12));
        assert_eq!(o.err, None);
        assert_eq!(run_new(b"HTTP/1.1 200 O\x01K\r\n\r\n").err, Some(400));
    }

    #[test]
    fn interim_responses_skipped() {
        let b = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                  HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let o = run_new(b);
        assert_eq!(o.heads.len(), 1);
        assert_eq!(o.heads[0].status, 200);
        assert_eq!(o.heads[0].head.start, 65);
        assert_eq!(o.body, b"ok");
        assert_eq!(o.used, b.len());
        // An interim alone is not a response yet.
        let mut p = ResponseParser::new(lim());
        assert_eq!(p.parse(b"HTTP/1.1 100 Continue\r\n\r\n"), Ok(Step::NeedMore));
    }

    #[test]
    fn no_body_statuses() {
        for s in [&b"204 No Content"[..], b"304 Not Modified"] {
            let mut v = b"HTTP/1.1 ".to_vec();
            v.extend_from_slice(s);
            v.extend_from_slice(b"\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            let o = run_new(&v);
            assert_eq!(o.heads.len(), 2, "{s:?}");
            assert_eq!(o.heads[0].body, Body::None);
            assert_eq!(o.ends, [true, true]);
        }
    }

    #[test]
    fn head_request_has_no_body() {
        let b = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n";
        let mut p = ResponseParser::new(lim());
        p.set_request_method(b"HEAD");
        let o = run(&mut p, b);
        assert_eq!(o.heads.len(), 2);
        assert_eq!(o.heads[0].body, Body::None);
        assert_eq!(o.used, b.len());
        // Without HEAD the same bytes are a 100-byte body.
        let o = run_new(b);
        assert_eq!(o.heads[0].body, Body::Length(100));
    }

    #[test]
    fn connect_tunnel_and_switching_protocols() {
        let b = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
        let mut p = ResponseParser::new(lim());
        p.set_request_method(b"CONNECT");
        let o = run(&mut p, b);
        assert_eq!(o.heads[0].body, Body::None);
        assert_eq!(o.ends, [false]);
        assert_eq!(o.used, b.len() - 3); // tunnel bytes left for the caller
        assert!(p.is_closed());
        let b = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
        let mut p = ResponseParser::new(lim());
        let o = run(&mut p, b);
        assert_eq!(o.heads[0].status, 101);
        assert_eq!(o.ends, [false]);
        assert_eq!(o.used, b.len() - 2);
    }

    #[test]
    fn chunked_response() {
        let b = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let o = run_new(b);
        assert_eq!(o.body, b"abc");
        assert_eq!(o.ends, [true]);
        assert_eq!(o.used, b.len());
    }

    #[test]
    fn until_close_response() {
        let b = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome data";
        let mut p = ResponseParser::new(lim());
        let o = run(&mut p, b);
        assert_eq!(o.heads[0].body, Body::UntilClose);
        assert!(!o.heads[0].keep_alive);
        assert_eq!(o.body, b"some data");
        assert!(o.ends.is_empty());
        assert!(p.in_body());
        assert_eq!(p.finish_on_eof(0), Ok(Eof::Complete));
        assert!(p.is_closed());
        // Until-close bodies are capped too.
        let mut p = ResponseParser::new(Limits { max_body: 4, ..lim() });
        assert_eq!(run(&mut p, b).err, Some(413));
    }

    #[test]
    fn truncated_responses() {
        let mut p = ResponseParser::new(lim());
        let o = run(&mut p, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        assert_eq!(o.body, b"abc");
        assert_eq!(p.finish_on_eof(0).unwrap_err().status, 400);
        let mut p = ResponseParser::new(lim());
        run(&mut p, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
        assert_eq!(p.finish_on_eof(0).unwrap_err().status, 400);
        let mut p = ResponseParser::new(lim());
        assert_eq!(p.finish_on_eof(0), Ok(Eof::Clean));
        let mut p = ResponseParser::new(lim());
        assert_eq!(p.parse(b"HTTP/1.1 2"), Ok(Step::NeedMore));
        assert_eq!(p.finish_on_eof(10).unwrap_err().status, 400);
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |b: &[u8]| run_new(b).heads[0].keep_alive;
        assert!(ka(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!ka(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(ka(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        ));
    }

    #[test]
    fn smuggling_checks_apply() {
        let st = |b: &[u8]| run_new(b).err;
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            Some(400)
        );
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n"), Some(400));
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Some(400)
        );
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), Some(501));
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), Some(400));
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n"),
            Some(400)
        );
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            st(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n"),
            Some(413)
        );
    }

    #[test]
    fn status_line_errors() {
        let st = |b: &[u8]| run_new(b).err;
        assert_eq!(st(b"HTTP/2.0 200 OK\r\n\r\n"), Some(505));
        assert_eq!(st(b"HTTP/1.1 20 OK\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1 2000 OK\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1  200 OK\r\n\r\n"), Some(400));
        assert_eq!(st(b"ICY 200 OK\r\n\r\n"), Some(400));
        assert_eq!(st(b"\r\nHTTP/1.1 200 OK\r\n\r\n"), Some(400));
        assert_eq!(st(b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), Some(400));
    }

    #[test]
    fn limits() {
        let small = Limits {
            max_head_bytes: 40,
            max_headers: 1,
            ..lim()
        };
        let mut p = ResponseParser::new(small);
        assert_eq!(run(&mut p, b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n").err, Some(431));
        let mut p = ResponseParser::new(small);
        assert_eq!(
            run(&mut p, b"HTTP/1.1 200 OK\r\nA: 0123456789012345678901234\r\n\r\n").err,
            Some(431)
        );
        // Interim responses count towards the final head's budget.
        let mut p = ResponseParser::new(small);
        let mut v = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(2);
        v.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(run(&mut p, &v).err, Some(431));
    }

    #[test]
    fn header_count_boundaries() {
        let resp = |n: usize| {
            let mut v = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n".to_vec();
            for i in 2..=n {
                v.extend_from_slice(std::format!("X-F{i}: v\r\n").as_bytes());
            }
            v.extend_from_slice(b"\r\n");
            v
        };
        for cap in [1, 3, 31, 32, 33, 40, 64, 100] {
            let limits = Limits {
                max_headers: cap,
                max_head_bytes: 1 << 16,
                ..lim()
            };
            for n in [1, 2, 31, 32, 33, 34, 64, 65, 100, 101, cap - 1, cap, cap + 1] {
                let o = run(&mut ResponseParser::new(limits), &resp(n));
                if n <= cap && n > 0 {
                    assert_eq!(o.err, None, "cap {cap}, {n} fields");
                    assert_eq!(o.heads[0].headers.len(), n);
                } else if n > 0 {
                    assert_eq!(o.err, Some(431), "cap {cap}, {n} fields");
                }
            }
        }
        // A bad field past the stack slots but within the cap is its own 400.
        let mut v = resp(40);
        v.splice(v.len() - 2..v.len() - 2, b"Bad Name: x\r\n".iter().copied());
        assert_eq!(run_new(&v).err, Some(400));
        let cap32 = Limits {
            max_headers: 32,
            ..lim()
        };
        assert_eq!(run(&mut ResponseParser::new(cap32), &v).err, Some(431));
    }

    #[test]
    fn pipelined_responses() {
        let b = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n\
                  Transfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\nHTTP/1.1 204 N\r\n\r\n";
        let o = run_new(b);
        assert_eq!(o.heads.len(), 3);
        assert_eq!(o.body, b"ab");
        assert_eq!(o.ends, [true, true, true]);
        assert_eq!(o.used, b.len());
    }
}

#[cfg(test)]
mod oracle_tests {
    use super::*;
    use proptest::prelude::*;
    extern crate std;
    use std::vec::Vec as StdVec;

    fn piece() -> impl Strategy<Value = StdVec<u8>> {
        prop_oneof![
            Just(b"HTTP/1.1".to_vec()),
            Just(b"HTTP/1.0".to_vec()),
            Just(b"HTTP/2.0".to_vec()),
            Just(b" ".to_vec()),
            Just(b"200".to_vec()),
            Just(b"099".to_vec()),
            Just(b"1x".to_vec()),
            Just(b"OK".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"Content-Length: 1".to_vec()),
            Just(b"A:".to_vec()),
            Just(b"X-Y: a b".to_vec()),
            Just(b":".to_vec()),
            Just(b"\t".to_vec()),
            proptest::collection::vec(
                prop_oneof![
                    Just(0u8),
                    Just(0x7f),
                    Just(0x80),
                    Just(0xff),
                    Just(b'\r'),
                    Just(b'\n'),
                    Just(0x01)
                ],
                1..3
            ),
        ]
    }

    /// Status line and fields as the httparse oracle has them, head or exact error.
    fn agrees(buf: &[u8], max_headers: usize) {
        let l = Limits {
            max_headers,
            ..Limits::default()
        };
        crate::http::oracle::compare_response(buf, l);
    }

    #[test]
    fn status_lines_agree_with_the_oracle() {
        for h in [
            &b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n"[..],
            b"HTTP/1.1 200\r\n\r\n",
            b"HTTP/1.1 200 \r\n\r\n",
            b"HTTP/1.0 404 Not  Found\t\xe9\r\nB:\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            b"HTTP/1.1 200OK\r\n\r\n",
            b"HTTP/1.2 200 OK\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"HTTP/1.1 099 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA : 1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n",
            b"HTTX\r\n\r\n",
        ] {
            for m in [0, 1, 4] {
                agrees(h, m);
            }
        }
    }

    proptest! {
        #[test]
        fn status_line_and_fields_agree_with_the_oracle(
            pieces in proptest::collection::vec(piece(), 0..20),
            max_headers in 0usize..4,
        ) {
            let mut buf = pieces.concat();
            agrees(&buf, max_headers);
            buf.extend_from_slice(b"\r\n\r\n");
            agrees(&buf, max_headers);
            let mut full = b"HTTP/1.1 200 OK\r\n".to_vec();
            full.extend_from_slice(&buf);
            agrees(&full, max_headers);
        }
    }
}
