//! Server side: frames HTTP/1.1 requests out of a connection's receive buffer.
//!
//! [`RequestParser`] is a sans-IO state machine. The caller hands it the bytes it has not
//! consumed yet and gets back one [`Step`] per call: the head, pieces of body data (decoded
//! if chunked), the end of the message; then the next pipelined request. Bodies are never
//! buffered by the parser.
//!
//! Typical loop (the receive buffer keeps what was not consumed):
//!
//! ```
//! use meerkat::http::{RequestParser, Limits, Step};
//! let mut p = RequestParser::new(Limits::default());
//! let recv = b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
//! let mut pos = 0;
//! let mut uris = Vec::new();
//! loop {
//!     let step = p.parse(&recv[pos..]).expect("valid");
//!     if let Step::Head { head, .. } = &step {
//!         uris.push(head.uri.get(&recv[pos..]).to_vec());
//!     }
//!     if step == Step::NeedMore { break; }
//!     pos += step.consumed();
//! }
//! assert_eq!(uris, [b"/a".to_vec(), b"/b".to_vec()]);
//! assert_eq!(pos, recv.len());
//! ```

use super::common::{
    analyze_fields, crlf_fault, is_ows, scan_head, skip_range, skip_tchars, skip_text, version_error, walk_fields,
    walk_fields_outlined, word_at, Bad, Body, Eof, Fault, Fields, Framed, FramerCore, Header, Hint, HttpError, Limits,
    Span, Step, Version,
};
use super::Vec;

/// The head of a request. All spans point into the slice passed to the
/// [`RequestParser::parse`] call that returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// From the request line to the final empty line inclusive (leading empty lines, which
    /// were skipped, are not part of it).
    pub head: Span,
    /// The method token (any token is accepted; `GET`, `POST`, ...).
    pub method: Span,
    /// The request-target without its query: a path (`/a/b`), an absolute URI
    /// (`http://h/a`), an authority (`h:443`) or `*`.
    pub uri: Span,
    /// The query after `?`, without the `?`; `None` when the target has no `?`.
    pub query: Option<Span>,
    /// The protocol token, `HTTP/1.0` or `HTTP/1.1`.
    pub proto: Span,
    /// Every header field, in order (names case preserved, values OWS-trimmed).
    pub headers: Vec<Header>,
    /// The HTTP version.
    pub version: Version,
    /// Whether the connection stays open after this request (RFC 9112 §9.3): HTTP/1.1
    /// unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// How the body is framed: `None`, `Length` or `Chunked` (never `UntilClose`).
    pub body: Body,
    /// HTTP/1.1 request with `Expect: 100-continue`: the client waits for an interim
    /// `100 Continue` (or a final status) before it sends the body.
    pub expect_continue: bool,
}

impl RequestHead {
    /// The value of the first header named `name` (ASCII case-insensitive), as bytes of `buf`
    /// (the slice the head was parsed from).
    pub fn header<'a>(&self, buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
        super::message::get_header(buf, &self.headers, name).map(|s| s.get(buf))
    }
}

/// A step of the request framer.
pub type RequestStep = Step<RequestHead>;

impl Framed for RequestHead {
    fn framing(&self) -> (Body, bool) {
        (self.body, self.keep_alive)
    }
}

/// A head's framing (body, keep-alive): what [`RequestParser::parse_into`] returns in
/// `Step::Head` in place of the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Framing(pub(crate) Body, pub(crate) bool);

impl Framed for Framing {
    fn framing(&self) -> (Body, bool) {
        (self.0, self.1)
    }
}

/// Streaming, pipelining-aware HTTP/1.x request framer. See the [module docs](self).
///
/// After an error the parser stays failed and returns the same error on every call: the
/// caller answers with `err.status` (once earlier responses went out) and closes. After
/// a message whose `End` says `keep_alive: false`, the parser is closed and reads nothing.
#[derive(Clone, Debug)]
pub struct RequestParser {
    core: FramerCore,
    /// The header vector of a finished request, given back with [`recycle`](Self::recycle):
    /// the next head is parsed into it, so a keep-alive connection allocates none per head.
    spare: Vec<Header>,
}

/// A recycled header vector with more room than this is dropped rather than kept.
const SPARE_KEEP: usize = 64;

impl RequestParser {
    /// A parser waiting for the first request, enforcing `limits`.
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser {
            core: FramerCore::new(limits),
            spare: Vec::new(),
        }
    }

    /// Feeds the not-yet-consumed bytes of the connection; returns one step.
    ///
    /// Contract: after `NeedMore`, the next call passes the same bytes followed by new
    /// ones. After any other step, the next call starts `consumed` bytes further.
    pub fn parse(&mut self, buf: &[u8]) -> Result<RequestStep, HttpError> {
        let spare = &mut self.spare;
        self.core
            .parse(buf, |b, l, h| {
                let mut slot = None;
                // `parse_head` fills `slot` whenever it returns a head.
                Ok(parse_head(b, l, h, spare, &mut slot)?.and_then(|(consumed, ..)| Some((consumed, slot?))))
            })
            .map_err(HttpError::from)
    }

    /// [`parse`](Self::parse) with the head written into `slot` (replacing what it held)
    /// instead of returned: `Step::Head` then carries only the head's framing. A server
    /// connection keeps the head in its state; this saves the moves of the ~140-byte head
    /// out of the step and into that state (about 60 instructions a request).
    pub(crate) fn parse_into(&mut self, buf: &[u8], slot: &mut Option<RequestHead>) -> Result<Step<Framing>, Bad> {
        let spare = &mut self.spare;
        self.core.parse(buf, |b, l, h| {
            // The framing as two values, put together here: a `Framing` moved out of
            // `parse_head`'s result is copied with its padding (four loads and stores more
            // a request, under callgrind).
            Ok(parse_head(b, l, h, spare, slot)?
                .map(|(consumed, body, keep_alive)| (consumed, Framing(body, keep_alive))))
        })
    }

    /// Gives back the header vector of a request that is over (`head.headers`), for the
    /// next head to reuse.
    pub fn recycle(&mut self, mut headers: Vec<Header>) {
        self.recycle_into(&mut headers);
    }

    /// [`recycle`](Self::recycle) by a swap: `headers` is left holding what is to be dropped
    /// (the vector given, or the spare it replaced), for the caller to drop with the rest.
    pub(crate) fn recycle_into(&mut self, headers: &mut Vec<Header>) {
        if headers.capacity() <= SPARE_KEEP && headers.capacity() > self.spare.capacity() {
            core::mem::swap(&mut self.spare, headers);
        }
    }

    /// Changes [`Limits::max_body`] from the next call on: a connection that learns only
    /// after the head whether a body is buffered (capped) or streamed (not) sets the cap for
    /// that body here. A chunked body is refused (`413`) at the chunk-size line that would
    /// take it past the cap, before any of that chunk's data; a `Content-Length` is checked
    /// against the cap in force when the head is parsed.
    pub fn set_max_body(&mut self, max_body: u64) {
        self.core.set_max_body(max_body);
    }

    /// After a head whose message has no body left: what the next [`parse`](Self::parse)
    /// would do (return `Step::End { consumed: 0, keep_alive }`), without the call;
    /// `Some(keep_alive)`. `None`, and nothing changed, when it would return anything else.
    #[inline]
    pub(crate) fn end_complete(&mut self) -> Option<bool> {
        self.core.end_complete()
    }

    /// Whether a head was returned and its message has not ended yet. If the peer closes
    /// now, the request is incomplete and must not be dispatched as a whole message.
    pub fn in_body(&self) -> bool {
        self.core.in_body()
    }

    /// Whether the parser stopped reading: after a non-keep-alive message, after
    /// [`finish_on_eof`](Self::finish_on_eof), or after an error.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// The error the parser failed with, if it did.
    pub fn error(&self) -> Option<HttpError> {
        self.core.error().map(HttpError::from)
    }

    /// Tells the parser the peer closed the connection; `unconsumed` is how many received
    /// bytes were never consumed (call [`parse`](Self::parse) until `NeedMore` first).
    /// `Ok(Eof::Clean)` if no message was in progress; an error (status 400) if a head or
    /// body was cut short. The parser is closed afterwards.
    pub fn finish_on_eof(&mut self, unconsumed: usize) -> Result<Eof, HttpError> {
        self.core
            .finish_on_eof(unconsumed, Bad::ClosedInRequestHead, Bad::ClosedInRequestBody)
            .map_err(HttpError::from)
    }
}

/// The URI token of a (possibly incomplete) request line.
fn uri_token_len(line: &[u8]) -> usize {
    match line.iter().position(|&b| b == b' ') {
        Some(sp) => {
            let rest = &line[sp + 1..];
            rest.iter().position(|&b| b == b' ').unwrap_or(rest.len())
        }
        None => 0,
    }
}

/// The fault for a refused protocol on a complete request line whose method, target and
/// their SPs [`walk_head`] took, `rest` the bytes after the second SP: the protocol runs to
/// the line's CR (the line has no bare CR); a 505 for a well-formed unsupported
/// `HTTP/x.y`, a malformed line if an SP comes first, else an invalid version. The verdict
/// of the oracle's [`request_line_version_error`](super::oracle::request_line_version_error)
/// on the line (property-tested).
fn version_fault(rest: &[u8]) -> Fault {
    let e = rest.iter().position(|&b| b == b'\r' || b == b' ').unwrap_or(rest.len());
    match (rest.get(e), version_error(&rest[..e])) {
        (Some(b' '), _) => Fault::Line,
        (_, Bad::VersionNotSupported) => Fault::Unsupported,
        _ => Fault::Version,
    }
}

/// What [`walk_head`] found: the head's end, its first line's end, method, target,
/// protocol, version, and the framing fields when no field but `Host` bears on them (`None`:
/// the fields must go through [`analyze_fields`]).
type WalkedHead = (usize, usize, Span, Span, Span, Version, Option<Fields>);

/// The request head that starts at `start`, in one pass: `token SP target SP HTTP/1.x CRLF`
/// (a target of visible ASCII and obs-text that is UTF-8), then the field lines
/// ([`walk_fields`], at most `max_headers`) and the empty line; headers into `headers`.
/// Stops at the first byte out of place with httparse's kind of fault (the crate this
/// replaced, kept as the oracle of the property tests and the fuzz target).
///
/// Two uses: first, on the bytes of a first look at a head, as they are (the usual head in
/// one pass; whatever it refuses, for lack of bytes or not, goes the other way); then, by
/// the full path, on a complete head whose raw lines [`scan_head`] checked and whose
/// first checks [`line_start`] made. What it accepts has clean raw lines and passes those
/// first checks, so both ways give one verdict (property-tested). The limits on the head's
/// and the target's length are the caller's.
///
/// `FAST`: the field lines walked by the inlined [`walk_fields`] (the first look, `/hello`'s
/// path); else by [`walk_fields_outlined`], the copy the response framer and the trailer
/// check call (the full path, off the usual request's way: one copy of the field walk
/// fewer in the server step).
#[inline(always)]
fn walk_head<const FAST: bool>(
    buf: &[u8],
    start: usize,
    max_headers: usize,
    headers: &mut Vec<Header>,
) -> Result<WalkedHead, Fault> {
    let mut i = skip_tchars(buf, start);
    match buf.get(i) {
        Some(b' ') if i > start => {}
        None => return Err(Fault::More),
        Some(_) => return Err(Fault::Token),
    }
    let method = Span::new(start, i);
    i += 1;
    let t0 = i;
    // As in `walk_fields`: the out-of-line `skip_text` alone when not `FAST`.
    if FAST {
        i = skip_range(buf, i, 0x21);
    }
    if !FAST || buf.get(i) != Some(&b' ') || i == t0 {
        // Obs-text in the target (or a fault): the rare way.
        i = skip_text(buf, i, 0x21, false);
        match buf.get(i) {
            Some(b' ') if i > t0 => {}
            None => return Err(Fault::More),
            Some(_) => return Err(Fault::Token),
        }
        if !crate::util::str::is_utf8(&buf[t0..i]) {
            return Err(Fault::Token);
        }
    }
    let target = Span::new(t0, i);
    let version = match word_at(buf, i + 1) {
        Some(w) if w == u64::from_le_bytes(*b"HTTP/1.1") => Version::Http11,
        Some(w) if w == u64::from_le_bytes(*b"HTTP/1.0") => Version::Http10,
        // Fewer than 8 bytes left, all of them the start of a version httparse takes.
        None if b"HTTP/1.".starts_with(buf.get(i + 1..).unwrap_or(&[])) => return Err(Fault::More),
        _ if FAST => return Err(Fault::Version),
        // The full path's complete line: which version error, from the walk's own pieces
        // (what `request_line_version_error` finds splitting the line again).
        _ => return Err(version_fault(buf.get(i + 1..).unwrap_or_default())),
    };
    let line_end = i + 9;
    if buf.get(line_end..line_end + 2) != Some(b"\r\n") {
        return Err(crlf_fault(buf, line_end, Fault::NewLine));
    }
    let proto = Span::new(i + 1, line_end);
    let (end, hosts, plain) = match FAST {
        true => walk_fields::<true>(buf, line_end + 2, max_headers, headers)?,
        false => walk_fields_outlined(buf, line_end + 2, max_headers, headers)?,
    };
    let fields = plain.then_some(Fields {
        hosts,
        ..Fields::default()
    });
    Ok((end, line_end, method, target, proto, version, fields))
}

/// Parses a request head at the start of `buf` into `slot` (replacing what it held) and
/// returns its length and framing (body, keep-alive). `Ok(None)`: incomplete (`slot`
/// untouched).
fn parse_head(
    buf: &[u8],
    limits: &Limits,
    hint: &mut Hint,
    spare: &mut Vec<Header>,
    slot: &mut Option<RequestHead>,
) -> Result<Option<(usize, Body, bool)>, Bad> {
    // The usual head in one pass, on the first look at it only (a head that arrives in
    // pieces is scanned incrementally by `scan_head`, never rescanned from its start).
    // What the walk accepts from byte 0 starts with a method token, so none of the full
    // path's first checks (leading empty lines, whitespace, 414 with the target's length
    // checked here) could have refused it: they run for the full path only.
    let fast = match *hint == Hint::default() {
        true => walk_head::<true>(buf, 0, limits.max_headers, spare).ok(),
        false => None,
    };
    let (i, (end, _, method, target, proto, version, fields)) = match fast {
        Some(h) if h.0 <= limits.max_head_bytes && h.3.len() <= limits.max_uri_bytes => (0, h),
        _ => {
            let Some(i) = line_start(buf, limits)? else {
                return Ok(None);
            };
            let end = match scan_head(buf, i, limits.max_head_bytes, hint)? {
                Some(end) => end,
                None if buf.len() >= limits.max_head_bytes => return Err(Bad::RequestHeadTooLarge),
                None => return Ok(None),
            };
            let h = match walk_head::<false>(&buf[..end], i, limits.max_headers, spare) {
                Ok(h) if h.0 == end => h,
                Ok(_) => return Err(Bad::MalformedRequestHead),
                Err(f) => return Err(f.error(Bad::MalformedRequestHead)),
            };
            if h.3.len() > limits.max_uri_bytes {
                return Err(Bad::UriTooLong);
            }
            (i, h)
        }
    };
    // One call of the always-inlined `head_from_parts` for both paths (two cost 700 B).
    let headers = core::mem::take(spare);
    let head = head_from_parts(buf, i, end, method, target, proto, version, headers, fields, limits)?;
    let (body, keep_alive) = (head.body, head.keep_alive);
    *slot = Some(head);
    Ok(Some((end, body, keep_alive)))
}

/// The full path's first checks, on any part of a head: skips the empty lines before the
/// request line (RFC 9112 §2.2) and refuses what is wrong before the line's end is there
/// (too many empty lines, a bare LF, whitespace first, a target over `max_uri_bytes`).
/// The request line's start; `Ok(None)` while nothing but empty lines came.
pub(crate) fn line_start(buf: &[u8], limits: &Limits) -> Result<Option<usize>, Bad> {
    // RFC 9112 §2.2: skip empty lines before the request line.
    let mut i = 0;
    while buf[i..].starts_with(b"\r\n") {
        i += 2;
    }
    if i >= limits.max_head_bytes && i > 0 {
        return Err(Bad::RequestHeadTooLarge);
    }
    match &buf[i..] {
        [] | [b'\r'] => return Ok(None),
        [b'\n', ..] => return Err(Bad::BareLfBeforeLine),
        _ => {}
    }

    // Faults in the head are reported as soon as their byte is there (see `scan_head`), so
    // the earliest decided byte wins whatever the reads were. The only fault that can come
    // before the byte that makes the target too long is whitespace at the start.
    if is_ows(buf[i]) {
        return Err(Bad::WhitespaceBeforeLine);
    }

    // 414 as early as the request-target is known to be too long, complete head or not.
    // Only the first `max_head_bytes` are looked at, so the verdict does not depend on how
    // the bytes were split into reads.
    let view = &buf[..buf.len().min(limits.max_head_bytes)];
    if view.len().saturating_sub(i) > limits.max_uri_bytes {
        let rest = &view[i..];
        let line_end = crate::util::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        if uri_token_len(&rest[..line_end]) > limits.max_uri_bytes {
            return Err(Bad::UriTooLong);
        }
    }

    Ok(Some(i))
}

/// The rest of a request head once its line and fields are known (both paths). `fields`:
/// what [`analyze_fields`] would say of `headers`, when [`walk_head`] already knows it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn head_from_parts(
    buf: &[u8],
    i: usize,
    end: usize,
    method: Span,
    target: Span,
    proto: Span,
    version: Version,
    headers: Vec<Header>,
    fields: Option<Fields>,
    limits: &Limits,
) -> Result<RequestHead, Bad> {
    let t = target.get(buf);
    // The usual target is a short path: a plain loop beats memchr's setup there.
    let q = if t.len() <= 64 {
        t.iter().position(|&b| b == b'?')
    } else {
        crate::util::memchr(b'?', t)
    };
    let (uri, query) = match q {
        Some(q) => (
            Span::new(target.start, target.start + q),
            Some(Span::new(target.start + q + 1, target.end)),
        ),
        None => (target, None),
    };

    let f = match fields {
        Some(f) => f,
        None => analyze_fields(buf, &headers)?,
    };
    if version == Version::Http10 && f.chunked {
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
        return Err(Bad::TeInHttp10Request);
    }
    match (version, f.hosts) {
        (Version::Http11, 0) => return Err(Bad::MissingHost),
        (_, h) if h > 1 => return Err(Bad::ManyHosts),
        _ => {}
    }
    let body = if f.chunked {
        Body::Chunked
    } else if let Some(n) = f.content_length {
        if n > limits.max_body {
            return Err(Bad::BodyTooLarge);
        }
        Body::Length(n)
    } else {
        Body::None
    };
    let keep_alive = match version {
        Version::Http11 => !f.close,
        Version::Http10 => f.keep_alive && !f.close,
    };
    let head = RequestHead {
        head: Span::new(i, end),
        method,
        uri,
        query,
        proto,
        headers,
        version,
        keep_alive,
        body,
        expect_continue: version == Version::Http11 && f.expect_continue,
    };
    Ok(head)
}

#[cfg(test)]
mod recycle_tests {
    use super::*;

    #[test]
    fn a_recycled_header_vector_serves_the_next_head() {
        let mut p = RequestParser::new(Limits::default());
        let req = b"GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n";
        let Ok(Step::Head { consumed, head }) = p.parse(req) else {
            panic!("head")
        };
        assert_eq!(consumed, req.len());
        assert!(matches!(p.parse(&req[consumed..]), Ok(Step::End { .. })));
        let first = head.headers.clone();
        let ptr = head.headers.as_ptr();
        p.recycle(head.headers);
        let Ok(Step::Head { head, .. }) = p.parse(req) else {
            panic!("second head")
        };
        assert_eq!(head.headers, first);
        assert_eq!(head.headers.as_ptr(), ptr, "no new allocation");
    }

    /// `parse_into` frames as `parse` does, in pieces and pipelined, fast path or full: the
    /// head lands in the slot (replacing the one there) only on `Step::Head`.
    #[test]
    fn parse_into_fills_the_slot_as_parse_returns_the_head() {
        let input: &[u8] =
            b"GET /a?q HTTP/1.1\r\nHost: x\r\n\r\n\r\nPOST /b HTTP/1.1\r\nHost: z\r\nContent-Length: 2\r\n\r\nhi\
            GET /c HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n";
        for split in 0..=input.len() {
            let (mut a, mut b) = (
                RequestParser::new(Limits::default()),
                RequestParser::new(Limits::default()),
            );
            let mut slot = None;
            let (mut pos, mut avail, mut heads) = (0, split, 0);
            loop {
                let want = a.parse(&input[pos..avail]).expect("valid");
                let before = slot.clone();
                let got = b.parse_into(&input[pos..avail], &mut slot).expect("valid");
                match (&want, &got) {
                    (Step::Head { consumed, head }, Step::Head { consumed: c, head: f }) => {
                        assert_eq!((consumed, Some(head)), (c, slot.as_ref()));
                        assert_eq!(*f, Framing(head.body, head.keep_alive));
                        heads += 1;
                    }
                    (Step::NeedMore, Step::NeedMore) if avail < input.len() => avail = input.len(),
                    (Step::NeedMore, Step::NeedMore) => break,
                    (Step::Body { consumed, data }, Step::Body { consumed: c, data: d }) => {
                        assert_eq!((consumed, data), (c, d))
                    }
                    (
                        Step::End { consumed, keep_alive },
                        Step::End {
                            consumed: c,
                            keep_alive: k,
                        },
                    ) => {
                        assert_eq!((consumed, keep_alive), (c, k))
                    }
                    _ => panic!("split {split}: {want:?} against {got:?}"),
                }
                if !matches!(got, Step::Head { .. }) {
                    assert_eq!(slot, before, "split {split}: the slot changed without a head");
                }
                pos += got.consumed();
            }
            assert_eq!((heads, pos), (3, input.len()), "split {split}");
        }
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

    /// `end_complete` after a head is the `End { consumed: 0 }` that `parse` would return
    /// next (same keep-alive, and the same steps for the bytes after it), and is `None`
    /// with nothing changed whenever `parse` would return anything else.
    #[test]
    fn end_complete_is_the_next_parse_when_that_is_an_empty_end() {
        let next = b"GET /n HTTP/1.1\r\nHost: x\r\n\r\n";
        let heads: [&[u8]; 7] = [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET / HTTP/1.0\r\n\r\n",
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ];
        for head in heads {
            let mut input = head.to_vec();
            input.extend_from_slice(next);
            let (mut a, mut b) = (RequestParser::new(lim()), RequestParser::new(lim()));
            let consumed = match (a.parse(&input).unwrap(), b.parse(&input).unwrap()) {
                (Step::Head { consumed, .. }, Step::Head { consumed: c2, .. }) if consumed == c2 => consumed,
                other => panic!("{other:?}"),
            };
            let rest = &input[consumed..];
            let by_parse = a.parse(rest).unwrap();
            let ended = b.end_complete();
            match (&by_parse, ended) {
                (
                    Step::End {
                        consumed: 0,
                        keep_alive,
                    },
                    Some(k),
                ) => assert_eq!(*keep_alive, k),
                (Step::End { consumed: 0, .. }, None) => panic!("{head:?}: End not taken"),
                (_, Some(_)) => panic!("{head:?}: ended where parse gave {by_parse:?}"),
                (_, None) => {
                    // Nothing changed: b's next parse is what a's was.
                    assert_eq!(
                        format!("{:?}", b.parse(rest)),
                        format!("{:?}", Ok::<_, HttpError>(by_parse))
                    );
                    continue;
                }
            }
            // The same from here on.
            assert_eq!(
                format!("{:?}", a.parse(&rest[0..])),
                format!("{:?}", b.parse(&rest[0..]))
            );
            assert_eq!((a.is_closed(), a.in_body()), (b.is_closed(), b.in_body()));
        }
    }

    /// Feeds the whole buffer, returns the head and the step list (head excluded).
    fn head_of(input: &[u8]) -> Result<RequestHead, HttpError> {
        let mut p = RequestParser::new(lim());
        match p.parse(input)? {
            Step::Head { head, .. } => Ok(head),
            other => panic!("expected head, got {other:?}"),
        }
    }

    fn status_of(input: &[u8]) -> u16 {
        status_with(input, lim())
    }

    /// Runs a whole buffer through the parser and returns the error status (0 if none).
    fn status_with(input: &[u8], limits: Limits) -> u16 {
        let mut p = RequestParser::new(limits);
        let mut pos = 0;
        for _ in 0..1000 {
            match p.parse(&input[pos..]) {
                Err(e) => return e.status,
                Ok(Step::NeedMore) => return 0,
                Ok(s) => pos += s.consumed(),
            }
        }
        panic!("no progress")
    }

    /// Body bytes of the first request, fed whole.
    fn body_of(input: &[u8]) -> Result<(Vec<u8>, usize), HttpError> {
        let mut p = RequestParser::new(lim());
        let mut pos = 0;
        let mut body = Vec::new();
        loop {
            match p.parse(&input[pos..])? {
                Step::NeedMore => panic!("incomplete"),
                Step::Head { consumed, .. } => pos += consumed,
                Step::Body { consumed, data } => {
                    body.extend_from_slice(data.get(&input[pos..]));
                    pos += consumed;
                }
                Step::End { consumed, .. } => return Ok((body, pos + consumed)),
            }
        }
    }

    #[test]
    fn simple_get_ranges() {
        let b = b"GET /path/x?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nX-Y:  z z \r\n\r\n";
        let mut p = RequestParser::new(lim());
        let Step::Head { consumed, head } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(consumed, b.len());
        assert_eq!(head.head, Span::new(0, b.len()));
        assert_eq!(head.method, Span::new(0, 3));
        assert_eq!(head.uri, Span::new(4, 11));
        assert_eq!(head.uri.get(b), b"/path/x");
        assert_eq!(head.query, Some(Span::new(12, 19)));
        assert_eq!(head.query.unwrap().get(b), b"a=1&b=2");
        assert_eq!(head.proto.get(b), b"HTTP/1.1");
        assert_eq!(head.proto, Span::new(20, 28));
        assert_eq!(head.headers.len(), 2);
        assert_eq!(head.headers[0].name.get(b), b"Host");
        assert_eq!(head.headers[0].value.get(b), b"example.com");
        assert_eq!(head.headers[1].name.get(b), b"X-Y");
        assert_eq!(head.headers[1].value.get(b), b"z z");
        assert_eq!(head.header(b, b"x-y"), Some(&b"z z"[..]));
        assert_eq!(head.version, Version::Http11);
        assert!(head.keep_alive);
        assert_eq!(head.body, Body::None);
        assert!(!head.expect_continue);
        assert!(p.in_body());
        assert_eq!(
            p.parse(&b[consumed..]),
            Ok(Step::End {
                consumed: 0,
                keep_alive: true
            })
        );
        assert!(!p.in_body());
        assert_eq!(p.parse(&b[consumed..]), Ok(Step::NeedMore));
    }

    #[test]
    fn query_absent_and_empty() {
        let b = b"GET /p HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(head_of(b).unwrap().query, None);
        let b = b"GET /p? HTTP/1.1\r\nHost: h\r\n\r\n";
        let h = head_of(b).unwrap();
        assert_eq!(h.query, Some(Span::new(7, 7)));
        assert_eq!(h.uri.get(b), b"/p");
    }

    #[test]
    fn absolute_form_and_unknown_method_accepted() {
        let b = b"PURGE http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n";
        let h = head_of(b).unwrap();
        assert_eq!(h.method.get(b), b"PURGE");
        assert_eq!(h.uri.get(b), b"http://example.com/a");
        assert_eq!(h.query.unwrap().get(b), b"b");
        let b = b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(head_of(b).unwrap().uri.get(b), b"*");
    }

    #[test]
    fn need_more_consumes_nothing() {
        let b = b"GET / HTTP/1.1\r\nHost: h\r\n\r";
        let mut p = RequestParser::new(lim());
        for k in 0..=b.len() {
            assert_eq!(p.parse(&b[..k]), Ok(Step::NeedMore), "prefix {k}");
        }
        assert!(!p.in_body());
        assert_eq!(p.finish_on_eof(b.len()).unwrap_err().status, 400);
    }

    #[test]
    fn leading_empty_lines_skipped() {
        let b = b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut p = RequestParser::new(lim());
        let Step::Head { consumed, head } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(consumed, b.len());
        assert_eq!(head.head, Span::new(4, b.len()));
        assert_eq!(head.method, Span::new(4, 7));
        // A lone CR at the start waits for more.
        let mut p = RequestParser::new(lim());
        assert_eq!(p.parse(b"\r\n\r"), Ok(Step::NeedMore));
        // A bare LF is not an empty line.
        assert_eq!(status_of(b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |s: &[u8]| head_of(s).unwrap().keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: x\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
        assert_eq!(head_of(b"GET / HTTP/1.0\r\n\r\n").unwrap().version, Version::Http10);
    }

    #[test]
    fn connection_close_stops_reading() {
        // G4: the first request is answered; the malformed one after it is never parsed.
        let b = b"GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nBOGUS\r\n\r\n";
        let mut p = RequestParser::new(lim());
        let Step::Head { consumed, .. } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(
            p.parse(&b[consumed..]),
            Ok(Step::End {
                consumed: 0,
                keep_alive: false
            })
        );
        assert!(p.is_closed());
        assert_eq!(p.parse(&b[consumed..]), Ok(Step::NeedMore));
        assert_eq!(p.finish_on_eof(9), Ok(Eof::Clean));
    }

    #[test]
    fn pipelined_error_comes_after_earlier_requests() {
        let b = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nBAD\r\n\r\n";
        let mut p = RequestParser::new(lim());
        let mut pos = 0;
        let mut heads = 0;
        let err = loop {
            match p.parse(&b[pos..]) {
                Ok(Step::Head { consumed, .. }) => {
                    heads += 1;
                    pos += consumed
                }
                Ok(s) => pos += s.consumed(),
                Err(e) => break e,
            }
        };
        assert_eq!(heads, 2);
        assert_eq!(err.status, 400);
        assert_eq!(p.error(), Some(err));
        // Failed stays failed.
        assert_eq!(p.parse(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Err(err));
    }

    #[test]
    fn content_length_body() {
        let b = b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
        let (body, used) = body_of(b).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(used, b.len() - 3);
        assert_eq!(head_of(b).unwrap().body, Body::Length(5));
        // Zero length.
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(body_of(b).unwrap(), (vec![], b.len()));
        // Leading zeros and OWS are fine.
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  007 \r\n\r\n1234567";
        assert_eq!(body_of(b).unwrap().0, b"1234567");
    }

    #[test]
    fn body_streams_in_pieces() {
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n";
        let mut p = RequestParser::new(lim());
        let Step::Head { consumed, .. } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(consumed, b.len());
        assert_eq!(p.parse(b""), Ok(Step::NeedMore));
        assert_eq!(
            p.parse(b"abc"),
            Ok(Step::Body {
                consumed: 3,
                data: Span::new(0, 3)
            })
        );
        assert!(p.in_body());
        // Peer closes mid-body: incomplete, never dispatched as complete.
        let mut q = p.clone();
        assert_eq!(q.finish_on_eof(0).unwrap_err().status, 400);
        assert_eq!(
            p.parse(b"defghijXYZ"),
            Ok(Step::Body {
                consumed: 7,
                data: Span::new(0, 7)
            })
        );
        assert_eq!(
            p.parse(b"XYZ"),
            Ok(Step::End {
                consumed: 0,
                keep_alive: true
            })
        );
        assert!(!p.in_body());
    }

    #[test]
    fn chunked_body() {
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5\r\nhello\r\n6;ext=1;q=\"a b\"\r\n world\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT";
        assert_eq!(head_of(b).unwrap().body, Body::Chunked);
        let (body, used) = body_of(b).unwrap();
        assert_eq!(body, b"hello world0123456789");
        assert_eq!(used, b.len() - 4);
    }

    #[test]
    fn chunked_data_ranges_are_decoded() {
        let head = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut p = RequestParser::new(lim());
        let Step::Head { .. } = p.parse(head).unwrap() else {
            panic!()
        };
        let b = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            p.parse(b),
            Ok(Step::Body {
                consumed: 6,
                data: Span::new(3, 6)
            })
        );
        assert_eq!(
            p.parse(&b[6..]),
            Ok(Step::Body {
                consumed: 7,
                data: Span::new(5, 7)
            })
        );
        assert_eq!(
            p.parse(&b[13..]),
            Ok(Step::End {
                consumed: 7,
                keep_alive: true
            })
        );
    }

    #[test]
    fn chunked_trailers_and_case() {
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n\
                  4\r\nwiki\r\n0;last\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
        let (body, used) = body_of(b).unwrap();
        assert_eq!(body, b"wiki");
        assert_eq!(used, b.len());
        // Malformed trailer.
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
                  0\r\nX : 1\r\n\r\n";
        assert_eq!(status_of(b), 400);
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
                  0\r\nX: 1\r\n folded\r\n\r\n";
        assert_eq!(status_of(b), 400);
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX";
        assert_eq!(status_of(b), 400);
        // Trailer section too large.
        let mut b = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for _ in 0..1000 {
            b.extend_from_slice(b"X-A: aaaaaaaaaaaa\r\n");
        }
        assert_eq!(status_of(&b), 431);
    }

    #[test]
    fn chunk_errors() {
        let pre = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        let st = |tail: &[u8]| {
            let mut v = pre.to_vec();
            v.extend_from_slice(tail);
            status_of(&v)
        };
        assert_eq!(st(b"5\r\nhello\r\n0\r\n\r\n"), 0);
        assert_eq!(st(b"g\r\nhello\r\n0\r\n\r\n"), 400); // not hex
        assert_eq!(st(b"\r\nhello\r\n0\r\n\r\n"), 400); // empty size
        assert_eq!(st(b"-1\r\nhello\r\n0\r\n\r\n"), 400);
        assert_eq!(st(b"0x5\r\nhello\r\n0\r\n\r\n"), 400);
        assert_eq!(st(b"5 \r\nhello\r\n0\r\n\r\n"), 400);
        assert_eq!(st(b"10000000000000000\r\n"), 400); // overflows u64
        assert_eq!(st(b"ffffffffffffffff\r\n"), 413); // u64::MAX is a size: too large
        assert_eq!(st(b"5\r\nhelloXY0\r\n\r\n"), 400); // missing CRLF after data
        assert_eq!(st(b"5\r\nhello\rX"), 400);
        assert_eq!(st(b"5\r\nhello\n\r\n"), 400);
        assert_eq!(st(b"5\nhello\r\n0\r\n\r\n"), 400); // bare LF after size
        assert_eq!(st(b"5\rhello\r\n0\r\n\r\n"), 400); // bare CR after size
        let mut long = vec![b'0'; MAX_CHUNK_LINE_FOR_TEST + 10];
        long.extend_from_slice(b"\r\n");
        assert_eq!(st(&long), 400); // size line too long
                                    // Incomplete is not an error.
        assert_eq!(st(b"5\r\nhel"), 0);
        assert_eq!(st(b"5\r\nhello\r"), 0);
        assert_eq!(st(b"5;ext"), 0);
    }

    const MAX_CHUNK_LINE_FOR_TEST: usize = super::super::common::MAX_CHUNK_LINE;

    #[test]
    fn chunked_body_cap() {
        let limits = Limits { max_body: 8, ..lim() };
        let pre = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut v = pre.to_vec();
        v.extend_from_slice(b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
        assert_eq!(status_with(&v, limits), 0);
        let mut v = pre.to_vec();
        v.extend_from_slice(b"5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n");
        assert_eq!(status_with(&v, limits), 413);
    }

    #[test]
    fn smuggling_cl_te() {
        assert_eq!(
            status_of(
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\
                  Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            400
        );
        assert_eq!(
            status_of(
                b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\
                  Content-Length: 5\r\n\r\n0\r\n\r\n"
            ),
            400
        );
        // CL + an unsupported TE is still the smuggling 400, not 501.
        assert_eq!(
            status_of(
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\
                  Transfer-Encoding: gzip\r\n\r\nhello"
            ),
            400
        );
    }

    #[test]
    fn content_length_rules() {
        let st = |cl: &[u8]| {
            let mut v = b"POST / HTTP/1.1\r\nHost: h\r\n".to_vec();
            v.extend_from_slice(cl);
            v.extend_from_slice(b"\r\n\r\nhello");
            status_of(&v)
        };
        assert_eq!(st(b"Content-Length: 5"), 0);
        assert_eq!(st(b"Content-Length: 5\r\nContent-Length: 6"), 400); // differ
        assert_eq!(st(b"Content-Length: 5, 6"), 400); // differing list
                                                      // Identical duplicates are rejected too (RFC 9110 §8.6 allows either).
        assert_eq!(st(b"Content-Length: 5\r\nContent-Length: 5"), 400);
        assert_eq!(st(b"Content-Length: 5, 5"), 400);
        assert_eq!(st(b"Content-Length: +5"), 400);
        assert_eq!(st(b"Content-Length: -5"), 400);
        assert_eq!(st(b"Content-Length: 5 5"), 400);
        assert_eq!(st(b"Content-Length: 0x5"), 400);
        assert_eq!(st(b"Content-Length: 5.0"), 400);
        assert_eq!(st(b"Content-Length:"), 400);
        assert_eq!(st(b"Content-Length: ,5"), 400);
        assert_eq!(st(b"Content-Length: 18446744073709551616"), 400); // overflow
        assert_eq!(st(b"Content-Length: 99999999999999999999999"), 400);
        // u64::MAX is a real size: over max_body, never "no body".
        assert_eq!(st(b"Content-Length: 18446744073709551615"), 413);
        assert_eq!(st(b"Content-Length: 1048577"), 413);
        assert_eq!(st(b"Content-Length: 1048576"), 0);
        let unlimited = Limits {
            max_body: u64::MAX,
            ..lim()
        };
        let b = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n";
        let mut p = RequestParser::new(unlimited);
        let Step::Head { head, .. } = p.parse(b).unwrap() else {
            panic!()
        };
        assert_eq!(head.body, Body::Length(u64::MAX));
    }

    #[test]
    fn transfer_encoding_rules() {
        let st = |te: &[u8]| {
            let mut v = b"POST / HTTP/1.1\r\nHost: h\r\n".to_vec();
            v.extend_from_slice(te);
            v.extend_from_slice(b"\r\n\r\n0\r\n\r\n");
            status_of(&v)
        };
        assert_eq!(st(b"Transfer-Encoding: chunked"), 0);
        assert_eq!(st(b"Transfer-Encoding: , chunked ,"), 0);
        assert_eq!(st(b"Transfer-Encoding: gzip"), 501);
        assert_eq!(st(b"Transfer-Encoding: gzip, chunked"), 501);
        assert_eq!(st(b"Transfer-Encoding: identity"), 501);
        assert_eq!(st(b"Transfer-Encoding: chunked, gzip"), 400); // chunked not last
        assert_eq!(st(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip"), 400);
        assert_eq!(st(b"Transfer-Encoding: chunked, chunked"), 400); // repeated
        assert_eq!(st(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"), 400);
        assert_eq!(st(b"Transfer-Encoding: chunked;a=b"), 400);
        assert_eq!(st(b"Transfer-Encoding:"), 400);
        assert_eq!(st(b"Transfer-Encoding: \"chunked\""), 400);
        assert_eq!(st(b"Transfer-Encoding: xchunked"), 501);
        // HTTP/1.0 with Transfer-Encoding: faulty framing.
        assert_eq!(
            status_of(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            400
        );
    }

    #[test]
    fn bare_lf_line_ends_are_refused_at_once() {
        // Heads ending in a bare LF: 400 with nothing more to come (no NeedMore, which
        // would leave the client waiting for the head timeout).
        for head in [
            &b"GET /a HTTP/1.1\r\nHost: x\r\n\n"[..],
            b"GET /a HTTP/1.1\r\nHost: x\n\n",
            b"GET /a HTTP/1.1\nHost: x\n\n",
            b"GET /a HTTP/1.1\n\n",
            b"GET /a HTTP/1.0\n",
            b"GET /a HTTP/1.1\r\nHost: x\n",
            b"GET /a HTTP/1.1\r\nHost: x\rY",
            b"GET /a HTTP/1.1\r\n Host: x",
            b"\r\nGET /a HTTP/1.1\r\nHost: x\r\n\n",
            b"\r\rGET",
        ] {
            assert_eq!(status_of(head), 400, "{:?}", std::string::String::from_utf8_lossy(head));
        }
        // Chunk-size lines, chunk data ends and trailer sections: the same.
        let chunked = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        for rest in [
            &b"5\n"[..],
            b"5;ext\n",
            b"5\rhello",
            b"5\r\nhello\n",
            b"0\n",
            b"0\n\n",
            b"0\r\n\n",
            b"0\r\nT: v\n",
            b"0\r\nT: v\r\n\n",
            b"0\r\nT: v\r\n x",
            b"5\r\nhello\r\n0\r\n\n",
        ] {
            let mut v = chunked.to_vec();
            v.extend_from_slice(rest);
            assert_eq!(status_of(&v), 400, "{:?}", std::string::String::from_utf8_lossy(rest));
        }
        // What is still incomplete is waited for.
        for rest in [&b"5\r"[..], b"5;e", b"0\r\n", b"0\r\nT: v\r", b"0\r\nT: v\r\n\r"] {
            let mut v = chunked.to_vec();
            v.extend_from_slice(rest);
            assert_eq!(status_of(&v), 0, "{:?}", std::string::String::from_utf8_lossy(rest));
        }
        // The longest chunk-size line is still accepted, one byte more is not.
        let line = |n: usize| {
            let mut v = chunked.to_vec();
            v.push(b'1');
            v.push(b';');
            v.extend(std::iter::repeat_n(b'e', n - 2));
            v.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
            v
        };
        assert_eq!(status_of(&line(super::super::common::MAX_CHUNK_LINE)), 0);
        assert_eq!(status_of(&line(super::super::common::MAX_CHUNK_LINE + 1)), 400);
    }

    #[test]
    fn an_early_fault_wins_over_a_later_414_in_any_split() {
        // (Found by the fuzz proptest: fed whole, the 414 pre-check came first.)
        let limits = Limits {
            max_uri_bytes: 10,
            ..lim()
        };
        let stream = b" GET /aaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
        let whole = crate::http::drive::request_events(stream, &[stream.len()], limits);
        assert_eq!(whole, [crate::http::drive::Ev::Err(400)]);
        let ones = vec![1; stream.len()];
        assert_eq!(crate::http::drive::request_events(stream, &ones, limits), whole);
        // The target passes the cap before the fault: 414 either way.
        let stream = b"GET /aaaaaaaaaaaaaaaaaaaa\n HTTP/1.1\r\n\r\n";
        let whole = crate::http::drive::request_events(stream, &[stream.len()], limits);
        assert_eq!(whole, [crate::http::drive::Ev::Err(414)]);
        assert_eq!(crate::http::drive::request_events(stream, &ones, limits), whole);
    }

    #[test]
    fn header_syntax_rules() {
        // obs-fold.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
        // Whitespace between name and colon.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
        assert_eq!(
            status_of(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 0\r\n\r\n"),
            400
        );
        // Bare CR anywhere in the head.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\rHost: h\r\n\r\n"), 400);
        // Bare LF.
        assert_eq!(status_of(b"GET / HTTP/1.1\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"), 400);
        // Control characters in values.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x1bb\r\n\r\n"), 400);
        // HTAB and obs-text are allowed.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\xe9\r\n\r\n"), 0);
        // Missing colon / empty name.
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400);
        // Request line shape.
        assert_eq!(status_of(b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET /\r\n\r\n"), 400);
        assert_eq!(status_of(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"), 400);
    }

    #[test]
    fn empty_value_allowed() {
        let b = b"GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Sp:   \r\n\r\n";
        let h = head_of(b).unwrap();
        assert_eq!(h.headers[1].value.get(b), b"");
        assert_eq!(h.headers[2].value.get(b), b"");
        assert!(h.headers[1].value.start >= h.headers[1].name.end);
    }

    #[test]
    fn host_rules() {
        assert_eq!(status_of(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.0\r\n\r\n"), 0);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0); // empty Host is allowed
    }

    #[test]
    fn version_rules() {
        assert_eq!(status_of(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/0.9\r\n\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/3\r\n\r\n"), 400); // not HTTP/x.y
        assert_eq!(status_of(b"GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / FOO\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status_of(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
        // A malformed request line is 400, though httparse calls it a version error.
        for line in [
            &b"GET /a b HTTP/1.1"[..],
            b"GET /a b HTTP/2.0",
            b"GET /a HTTP/1.1 x",
            b"GET /a HTTP/1.1 ",
            b"GET /a  HTTP/1.1",
            b"GET  /a HTTP/2.0",
            b"GET /a\tb HTTP/1.1",
            b"GET /a\x7fb HTTP/1.1",
            b"GET HTTP/1.1",
            b"GET /a",
            b"GET /a HTTP/1.1x",
            b"GET /a HTTP/1.10",
        ] {
            let mut req = line.to_vec();
            req.extend_from_slice(b"\r\nHost: h\r\n\r\n");
            assert_eq!(status_of(&req), 400, "{:?}", std::string::String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn expect_continue() {
        let h = head_of(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert!(h.expect_continue);
        // HTTP/1.0 expectations are ignored (RFC 9110 §10.1.1).
        let h = head_of(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert!(!h.expect_continue);
    }

    #[test]
    fn limits_uri_414() {
        let limits = Limits {
            max_uri_bytes: 10,
            ..lim()
        };
        assert_eq!(status_with(b"GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n", limits), 0);
        assert_eq!(status_with(b"GET /1234567890 HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
        assert_eq!(status_with(b"GET /12345?7890 HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
        // Detected before the head is complete.
        assert_eq!(status_with(b"GET /1234567890", limits), 414);
        // A URI longer than the whole head budget is still a 414, not a 431.
        let mut v = b"GET /".to_vec();
        v.extend(std::iter::repeat_n(b'a', 10_000));
        assert_eq!(status_of(&v), 414);
    }

    #[test]
    fn limits_head_431() {
        let limits = Limits {
            max_head_bytes: 64,
            ..lim()
        };
        let ok = b"GET / HTTP/1.1\r\nHost: h\r\nX: 01234567890123456789012345678901\r\n\r\n";
        assert_eq!(ok.len(), 64);
        assert_eq!(status_with(ok, limits), 0);
        let big = b"GET / HTTP/1.1\r\nHost: h\r\nX: 012345678901234567890123456789012\r\n\r\n";
        assert_eq!(status_with(big, limits), 431);
        assert_eq!(status_with(&big[..64], limits), 431);
        assert_eq!(status_with(&big[..63], limits), 0);
        // Endless empty lines count too.
        assert_eq!(status_with(&[b'\r', b'\n'].repeat(40), limits), 431);
    }

    #[test]
    fn limits_header_count_431() {
        let limits = Limits {
            max_headers: 3,
            ..lim()
        };
        let ok = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(status_with(ok, limits), 0);
        let over = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(status_with(over, limits), 431);
        let mut v = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for _ in 0..64 {
            v.extend_from_slice(b"A: 1\r\n");
        }
        v.extend_from_slice(b"\r\n");
        assert_eq!(status_of(&v), 431); // 65 fields > default 64
    }

    /// A GET with `n` fields (Host and `n - 1` others); field `bad`, if any, has a space in
    /// its name.
    fn head_with_fields(n: usize, bad: Option<usize>) -> Vec<u8> {
        let mut v = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 2..=n {
            let name = if Some(i) == bad { "X Bad" } else { "X-F" };
            v.extend_from_slice(std::format!("{name}{i}: v\r\n").as_bytes());
        }
        v.extend_from_slice(b"\r\n");
        v
    }

    #[test]
    fn header_count_boundaries() {
        // Around the stack slots (32) and around caps below, at and above them.
        for cap in [0, 1, 3, 31, 32, 33, 40, 64, 100] {
            let limits = Limits {
                max_headers: cap,
                max_head_bytes: 1 << 16,
                ..lim()
            };
            let mut ns = std::vec![1, 2, 31, 32, 33, 34, 63, 64, 65, 99, 100, 101];
            ns.extend([cap.saturating_sub(1), cap, cap + 1]);
            for n in ns.into_iter().filter(|&n| n >= 1) {
                let v = head_with_fields(n, None);
                let mut p = RequestParser::new(limits);
                match p.parse(&v) {
                    Ok(Step::Head { head, consumed }) => {
                        assert!(n <= cap, "cap {cap}, {n} fields accepted");
                        assert_eq!(consumed, v.len());
                        assert_eq!(head.headers.len(), n);
                        let last = head.headers[n - 1];
                        let want = if n == 1 { "Host".into() } else { std::format!("X-F{n}") };
                        assert_eq!(last.name.get(&v), want.as_bytes());
                    }
                    Err(e) => {
                        assert!(n > cap, "cap {cap}, {n} fields refused: {e}");
                        assert_eq!(e.status, 431);
                    }
                    Ok(other) => panic!("cap {cap}, {n} fields: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn header_count_against_other_errors() {
        let with_cap = |cap| Limits {
            max_headers: cap,
            max_head_bytes: 1 << 16,
            ..lim()
        };
        // A bad field past the stack slots but within the cap: its own 400, not a 431.
        assert_eq!(status_with(&head_with_fields(40, Some(35)), with_cap(64)), 400);
        assert_eq!(status_with(&head_with_fields(70, Some(35)), with_cap(64)), 400);
        assert_eq!(status_with(&head_with_fields(40, Some(35)), lim()), 400);
        // Past the cap first: 431, whatever comes later.
        assert_eq!(status_with(&head_with_fields(40, Some(35)), with_cap(32)), 431);
        assert_eq!(status_with(&head_with_fields(70, Some(66)), with_cap(64)), 431);
        assert_eq!(status_with(&head_with_fields(40, Some(35)), with_cap(33)), 431);
        // httparse counts a field once it has parsed it: a bad field right after the cap is
        // its own error.
        assert_eq!(status_with(&head_with_fields(40, Some(34)), with_cap(33)), 400);
        assert_eq!(status_with(&head_with_fields(40, Some(33)), with_cap(32)), 400);
        // A huge cap is fine: the slots are bounded by the head's size.
        assert_eq!(status_with(&head_with_fields(50, None), with_cap(usize::MAX)), 0);
    }

    #[test]
    fn trailer_count_boundaries() {
        let chunked = |trailers: usize| {
            let mut v = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n".to_vec();
            for i in 0..trailers {
                v.extend_from_slice(std::format!("T{i}: v\r\n").as_bytes());
            }
            v.extend_from_slice(b"\r\n");
            v
        };
        for cap in [3, 32, 40, 64, 100] {
            let limits = Limits {
                max_headers: cap,
                max_head_bytes: 1 << 16,
                ..lim()
            };
            for n in [1, 31, 32, 33, cap - 1, cap, cap + 1] {
                let want = if n <= cap { 0 } else { 431 };
                assert_eq!(status_with(&chunked(n), limits), want, "cap {cap}, {n} trailer fields");
            }
        }
    }

    #[test]
    fn three_pipelined_requests_every_split() {
        let stream: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n\
            POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody\
            \r\nPUT /c?x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
            2\r\nab\r\n3;e\r\ncde\r\n0\r\nT: v\r\n\r\n";
        let whole = crate::http::drive::request_events(stream, &[stream.len()], lim());
        let n_heads = whole
            .iter()
            .filter(|e| matches!(e, crate::http::drive::Ev::Head(..)))
            .count();
        assert_eq!(n_heads, 3);
        assert!(!whole.iter().any(|e| matches!(e, crate::http::drive::Ev::Err(_))));
        for k in 0..=stream.len() {
            let split = crate::http::drive::request_events(stream, &[k, stream.len() - k], lim());
            assert_eq!(split, whole, "split at {k}");
        }
        let ones = vec![1; stream.len()];
        assert_eq!(crate::http::drive::request_events(stream, &ones, lim()), whole);
    }

    /// The line ends the byte search finds give the same events however the bytes come:
    /// a chunk-size line of exactly `MAX_CHUNK_LINE` bytes (accepted) and one byte longer
    /// (400), split at every point around the limit (the line and its CR there, its LF not
    /// yet), and heads and chunk lines with a bare CR, a bare LF or a CRLF whose two bytes
    /// come in two reads, split everywhere and fed a byte at a time.
    #[test]
    fn line_ends_are_found_the_same_in_any_split() {
        use crate::http::drive::{request_events, Ev};
        let max = super::super::common::MAX_CHUNK_LINE;
        let pre = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        let line = |n: usize| {
            let mut v = pre.to_vec();
            v.extend_from_slice(b"1;");
            v.extend(std::iter::repeat_n(b'e', n - 2));
            v.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
            v
        };
        for (n, ok) in [(max, true), (max + 1, false)] {
            let stream = line(n);
            let whole = request_events(&stream, &[stream.len()], lim());
            assert_eq!(!whole.iter().any(|e| matches!(e, Ev::Err(_))), ok, "{n}: {whole:?}");
            if ok {
                assert!(whole.contains(&Ev::Data(b"x".to_vec())), "{whole:?}");
            } else {
                assert_eq!(whole.last(), Some(&Ev::Err(400)));
            }
            // Split points from just before the line's end to just after its CRLF.
            let end = pre.len() + n;
            for k in end - 3..=end + 3 {
                let got = request_events(&stream, &[k, stream.len() - k], lim());
                assert_eq!(got, whole, "line {n}, split at {k}");
                let got = request_events(&stream, &[k, 1, 1, 1, stream.len()], lim());
                assert_eq!(got, whole, "line {n}, bytes one at a time from {k}");
            }
        }
        let streams: [&[u8]; 8] = [
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\rHost: h\r\n\r\n",
            b"GET / HTTP/1.1\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n",
        ];
        let want_err = [false, true, true, true, true, true, false, false];
        for (stream, bad) in streams.into_iter().zip(want_err) {
            let whole = request_events(stream, &[stream.len()], lim());
            let failed = whole.iter().any(|e| matches!(e, Ev::Err(_)));
            assert_eq!(
                failed,
                bad,
                "{:?}: {whole:?}",
                std::string::String::from_utf8_lossy(stream)
            );
            for k in 0..=stream.len() {
                assert_eq!(
                    request_events(stream, &[k, stream.len() - k], lim()),
                    whole,
                    "split at {k}"
                );
            }
            let ones = vec![1; stream.len()];
            assert_eq!(request_events(stream, &ones, lim()), whole);
        }
        // Chunk-size lines with a bare LF, a bare CR, and the CR and LF apart.
        for (tail, bad) in [
            (&b"3\nabc\r\n0\r\n\r\n"[..], true),
            (b"3\rabc\r\n0\r\n\r\n", true),
            (b"3;x\r\nabc\r\n0\r\n\r\n", false),
        ] {
            let mut stream = pre.to_vec();
            stream.extend_from_slice(tail);
            let whole = request_events(&stream, &[stream.len()], lim());
            assert_eq!(whole.last() == Some(&Ev::Err(400)), bad, "{whole:?}");
            for k in pre.len()..=stream.len() {
                assert_eq!(
                    request_events(&stream, &[k, stream.len() - k], lim()),
                    whole,
                    "split at {k}"
                );
            }
        }
    }
}

#[cfg(test)]
mod version_error_tests {
    use super::super::oracle::request_line_version_error;
    use super::*;
    use proptest::prelude::*;

    /// What `request_line_version_error` was: the line split at every SP.
    fn by_split(line: &[u8]) -> Bad {
        let mut parts = line.split(|&b| b == b' ');
        let (Some(method), Some(target), Some(proto), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Bad::MalformedRequestLine;
        };
        let token = !method.is_empty() && method.iter().all(|&b| crate::http::is_token_byte(b));
        let target_ok = !target.is_empty() && target.iter().all(|&b| b > b' ' && b != 0x7f);
        if !token || !target_ok {
            return Bad::MalformedRequestLine;
        }
        version_error(proto)
    }

    #[test]
    fn request_line_version_errors() {
        for line in [
            &b"GET / HTTP/2.0"[..],
            b"GET /a b HTTP/1.1",
            b"GET  / HTTP/2.0",
            b"GET / HTTP/2.0 ",
            b" GET / HTTP/2.0",
            b"G@T / HTTP/2.0",
            b"GET /\x7f HTTP/2.0",
            b"GET /\xff HTTP/2.0",
            b"GET /\t HTTP/2.0",
            b"GET / HTTP/2",
            b"GET /",
            b"GET ",
            b"",
        ] {
            assert_eq!(request_line_version_error(line), by_split(line), "{line:?}");
        }
        assert_eq!(request_line_version_error(b"GET / HTTP/2.0"), Bad::VersionNotSupported);
        assert_eq!(
            request_line_version_error(b"GET /a b HTTP/1.1"),
            Bad::MalformedRequestLine
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn request_line_version_error_is_the_split_rule(
            parts in proptest::collection::vec(prop_oneof![
                4 => Just(&b" "[..]),
                3 => Just(&b"GET"[..]),
                3 => Just(&b"/a"[..]),
                3 => Just(&b"HTTP/2.0"[..]),
                1 => Just(&b"HTTP/1.1"[..]),
                1 => Just(&b"\x7f"[..]),
                1 => Just(&b"\xc3\xa9"[..]),
                1 => Just(&b"\t"[..]),
                1 => Just(&b"@"[..]),
                1 => Just(&b"\x00"[..]),
            ], 0..8)
        ) {
            let line = parts.concat();
            prop_assert_eq!(request_line_version_error(&line), by_split(&line));
            // The parser's verdict on the line in a head, fast path (whole) and full path
            // (split: the walk's own version verdict, `version_fault`), is the oracle's,
            // which takes this function's for httparse's `Version`.
            let mut buf = line.clone();
            buf.extend_from_slice(b"\r\nHost: x\r\n\r\n");
            for split in [0, 1, line.len()] {
                super::super::oracle::compare_request(&buf, Limits::default(), split);
            }
        }
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;
    use proptest::prelude::*;

    /// Whatever the one-pass walk accepts from byte 0, the full path (`line_start`,
    /// `scan_head`, the walk on the complete head) accepts with the same result, and so
    /// does the oracle (httparse); on everything else the parser and the oracle give the
    /// same verdict too (`oracle::compare_request`).
    fn agrees(buf: &[u8], limits: &Limits) {
        for split in [0, 1, buf.len() / 2] {
            super::super::oracle::compare_request(buf, *limits, split);
        }
        let mut fast_hdrs = Vec::new();
        let Ok((end, line_end, method, target, proto, version, fields)) =
            walk_head::<true>(buf, 0, limits.max_headers, &mut fast_hdrs)
        else {
            return;
        };
        if end > limits.max_head_bytes || target.len() > limits.max_uri_bytes {
            return;
        }
        let b_end = scan_head(buf, 0, limits.max_head_bytes, &mut Hint::default())
            .expect("full path refused what the fast path took")
            .expect("full path found no end");
        // The request line ends at the head's first CRLF.
        let b_line_end = buf.windows(2).position(|w| w == b"\r\n").expect("a CRLF");
        assert_eq!(
            (b_end, b_line_end),
            (end, line_end),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
        let mut full_hdrs = Vec::new();
        let full = walk_head::<false>(&buf[..b_end], 0, limits.max_headers, &mut full_hdrs);
        assert_eq!(
            full,
            Ok((end, line_end, method, target, proto, version, fields)),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
        // The full path's protocol: after the request line's last SP.
        let line = &buf[..b_line_end];
        let proto_start = memchr::memrchr(b' ', line).map_or(b_line_end, |p| p + 1);
        assert_eq!(
            proto,
            Span::new(proto_start, b_line_end),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
        assert_eq!(full_hdrs, fast_hdrs, "{:?}", String::from_utf8_lossy(buf));
        // `parse_head` runs the full path's first checks only when the fast path refused:
        // they pass on what it takes.
        assert_eq!(
            line_start(buf, limits),
            Ok(Some(0)),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
        // The framing facts it kept, when it kept them, are those of the fields' analysis.
        if let Some(f) = fields {
            assert_eq!(
                Ok(f),
                analyze_fields(buf, &full_hdrs),
                "{:?}",
                String::from_utf8_lossy(buf)
            );
        }
    }

    /// Whether the one-pass walk takes `h` whole under `l`.
    fn fast(h: &[u8], l: &Limits) -> bool {
        let mut v = Vec::new();
        walk_head::<true>(h, 0, l.max_headers, &mut v)
            .is_ok_and(|w| w.0 <= l.max_head_bytes && w.3.len() <= l.max_uri_bytes)
    }

    #[test]
    fn the_usual_heads_take_the_fast_path_and_agree() {
        let l = Limits::default();
        for h in [
            &b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"[..],
            b"POST /a?b=c HTTP/1.0\r\nContent-Length: 3\r\nX:  a b \t\r\n\r\nabc",
            b"GET * HTTP/1.1\r\nHost: h\r\nA:\tq\r\n\r\n",
            // What the full path alone took before: empty values, obs-text, a UTF-8 target.
            b"GET /hello HTTP/1.1\r\nHost:\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\r\nA: \t \r\nB: caf\xe9\r\n\r\n",
            b"GET /h\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert!(fast(h, &l), "{:?}", String::from_utf8_lossy(h));
            agrees(h, &l);
        }
        for h in [
            &b"GET /hello HTTP/1.1\r\nHost: x\r\n"[..],
            b"GET /hello HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET /hello HTTP/1.1\r\n Host: x\r\n\r\n",
            b"GET /hello HTTP/1.1\nHost: x\r\n\r\n",
            b"GET /h\xe9 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /hello HTTP/1.2\r\nHost: x\r\n\r\n",
            b"\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\x7f\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\ry\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\r\n\n",
            b"GET /hello HTTP/1.1 \r\nHost: x\r\n\r\n",
        ] {
            assert!(!fast(h, &l), "{:?}", String::from_utf8_lossy(h));
            agrees(h, &l);
        }
        // Limits: one header too many, a target or a head one byte too long.
        let h = b"GET /abc HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        let lim = |max_headers, max_uri_bytes, max_head_bytes| Limits {
            max_headers,
            max_uri_bytes,
            max_head_bytes,
            ..Limits::default()
        };
        assert!(fast(h, &lim(2, 4, h.len())));
        assert!(!fast(h, &lim(1, 4, h.len())));
        assert!(!fast(h, &lim(2, 3, h.len())));
        assert!(!fast(h, &lim(2, 4, h.len() - 1)));
        for l in [
            lim(2, 4, h.len()),
            lim(1, 4, h.len()),
            lim(2, 3, h.len()),
            lim(2, 4, h.len() - 1),
            lim(0, 4, 99),
        ] {
            agrees(h, &l);
        }
    }

    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"GET".to_vec()),
            Just(b" ".to_vec()),
            Just(b"/a?b".to_vec()),
            Just(b"HTTP/1.1".to_vec()),
            Just(b"HTTP/1.0".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"Host: x".to_vec()),
            Just(b"Content-Length: 1".to_vec()),
            Just(b"hOsT: y".to_vec()),
            Just(b"Connection: close".to_vec()),
            Just(b"Transfer-Encoding: chunked".to_vec()),
            Just(b"Expect: 100-continue".to_vec()),
            Just(b"Accept: */*".to_vec()),
            Just(b"Hosts: z".to_vec()),
            Just(b"0123456789abcdef".to_vec()),
            Just(b"A:".to_vec()),
            Just(b"\t".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b":".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..3),
        ]
    }

    proptest! {
        /// The word-at-a-time scan stops where a byte-by-byte one does.
        #[test]
        fn skip_range_stops_at_the_first_byte_out_of_range(
            buf in proptest::collection::vec(prop_oneof![8 => 0x20u8..0x7f, 1 => any::<u8>(), 1 => Just(0xffu8), 1 => Just(0x7fu8), 1 => Just(b'\t')], 0..40),
            from in 0usize..40,
            lo in prop_oneof![Just(0x20u8), Just(0x21u8)],
        ) {
            let from = from.min(buf.len());
            let naive = from + buf[from..].iter().position(|b| !(lo..=0x7e).contains(b)).unwrap_or(buf.len() - from);
            prop_assert_eq!(skip_range(&buf, from, lo), naive);
        }

        #[test]
        fn fast_path_agrees_with_the_full_path(
            pieces in proptest::collection::vec(piece(), 0..24),
            max_headers in 1usize..6,
            max_uri_bytes in 1usize..16,
        ) {
            let mut buf = b"GET /x HTTP/1.1\r\n".to_vec();
            for p in &pieces {
                buf.extend_from_slice(p);
            }
            buf.extend_from_slice(b"\r\n\r\n");
            let l = Limits { max_headers, max_uri_bytes, ..Limits::default() };
            agrees(&buf, &l);
            agrees(&buf[17..], &l);
            // A whole request through the parser: the same step as with the full path only.
            let mut p = RequestParser::new(l);
            let fast = p.parse(&buf);
            let mut q = RequestParser::new(l);
            // Byte 0 first: the head is then parsed by the full path (resumed scan).
            let _ = q.parse(&buf[..1]);
            let full = q.parse(&buf);
            prop_assert_eq!(format!("{fast:?}"), format!("{full:?}"));
        }

        /// Any bytes, with the pieces of a head and the bytes that decide faults (CTLs,
        /// DEL, obs-text, bare CR and LF, SP, HTAB, NUL) frequent: the parser gives the
        /// oracle's verdict (httparse), head or exact error, whole and split.
        #[test]
        fn the_parser_agrees_with_the_httparse_oracle(
            pieces in proptest::collection::vec(prop_oneof![
                4 => piece(),
                1 => proptest::collection::vec(prop_oneof![Just(0u8), Just(0x7f), Just(0x80), Just(0xc3), Just(0xa9),
                    Just(0xff), Just(b'\r'), Just(b'\n'), Just(b' '), Just(b'\t'), Just(0x01), Just(b'"')], 1..3),
            ], 0..24),
            lead in 0usize..3,
            max_headers in 0usize..5,
            max_uri_bytes in 1usize..16,
            max_head_bytes in 8usize..200,
            split in 0usize..200,
        ) {
            let mut buf = b"\r\n".repeat(lead);
            buf.extend_from_slice(b"GET /x HTTP/1.1\r\n");
            let at = buf.len();
            for p in &pieces {
                buf.extend_from_slice(p);
            }
            let l = Limits { max_headers, max_uri_bytes, max_head_bytes, ..Limits::default() };
            super::super::oracle::compare_request(&buf, l, split);
            super::super::oracle::compare_request(&buf[at..], l, split);
            buf.extend_from_slice(b"\r\n\r\n");
            super::super::oracle::compare_request(&buf, l, split);
            super::super::oracle::compare_request(&buf[at..], l, split);
        }
    }
}
