//! Drivers for the fuzz targets (`fuzz/fuzz_targets/http_request.rs`, `http_response.rs`)
//! and the property tests: they feed a byte stream to a framer the way a connection does
//! (append to a receive buffer, parse until `NeedMore`, drop what was consumed), record
//! the events with offsets made absolute, and check the framer's invariants.
//!
//! These functions `panic!` when an invariant breaks: that is the point of a fuzz target.
//! They are not meant for production code.

use super::common::{Body, Eof, Limits, Span, Step};
use super::request::RequestParser;
use super::response::ResponseParser;
use super::Vec;

/// One recorded event, with every offset relative to the start of the whole stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// A head: its spans in a fixed order, body framing, keep-alive, status (0 for requests).
    Head(Vec<Span>, Body, bool, u16),
    /// Body data (consecutive pieces merged).
    Data(Vec<u8>),
    /// End of a message, with its keep-alive flag.
    End(bool),
    /// The framer failed with this status.
    Err(u16),
    /// What `finish_on_eof` said after the last byte (`Err` holds the status).
    Eof(Result<Eof, u16>),
}

fn push(events: &mut Vec<Ev>, ev: Ev) {
    if let (Some(Ev::Data(prev)), Ev::Data(d)) = (events.last_mut(), &ev) {
        prev.extend_from_slice(d);
        return;
    }
    events.push(ev);
}

/// Splits `stream` into pieces of the given sizes (zero sizes allowed); whatever the sizes
/// do not cover goes in a last piece.
fn pieces<'a>(stream: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for &s in sizes {
        let end = pos.saturating_add(s).min(stream.len());
        out.push(&stream[pos..end]);
        pos = end;
    }
    if pos < stream.len() {
        out.push(&stream[pos..]);
    }
    out
}

/// The generic parser interface the driver needs.
trait Framer {
    type Head;
    fn parse(&mut self, buf: &[u8]) -> Result<Step<Self::Head>, super::HttpError>;
    fn finish(&mut self, unconsumed: usize) -> Result<Eof, super::HttpError>;
    /// Spans, framing, keep-alive, status; checks the spans lie in `0..consumed`.
    fn summary(head: &Self::Head, base: usize, consumed: usize) -> Ev;
}

fn check_span(s: Span, consumed: usize) -> Span {
    assert!(
        s.start <= s.end && s.end <= consumed,
        "span {s:?} outside 0..{consumed}"
    );
    s
}

impl Framer for RequestParser {
    type Head = super::RequestHead;
    fn parse(&mut self, buf: &[u8]) -> Result<Step<Self::Head>, super::HttpError> {
        RequestParser::parse(self, buf)
    }
    fn finish(&mut self, unconsumed: usize) -> Result<Eof, super::HttpError> {
        self.finish_on_eof(unconsumed)
    }
    fn summary(h: &Self::Head, base: usize, consumed: usize) -> Ev {
        let no_query = Span::new(usize::MAX, usize::MAX);
        let mut spans = Vec::from([h.head, h.method, h.uri, h.query.unwrap_or(no_query), h.proto]);
        for f in &h.headers {
            spans.push(f.name);
            spans.push(f.value);
        }
        let spans = spans
            .into_iter()
            .map(|s| {
                if s.start == usize::MAX {
                    s
                } else {
                    check_span(s, consumed).shift(base)
                }
            })
            .collect();
        assert!(h.head.end == consumed, "head does not end where consumption does");
        let st = if h.expect_continue { 100 } else { 0 };
        Ev::Head(spans, h.body, h.keep_alive, st)
    }
}

impl Framer for ResponseParser {
    type Head = super::ResponseHead;
    fn parse(&mut self, buf: &[u8]) -> Result<Step<Self::Head>, super::HttpError> {
        ResponseParser::parse(self, buf)
    }
    fn finish(&mut self, unconsumed: usize) -> Result<Eof, super::HttpError> {
        self.finish_on_eof(unconsumed)
    }
    fn summary(h: &Self::Head, base: usize, consumed: usize) -> Ev {
        let mut spans = Vec::from([h.head, h.proto, h.code, h.reason]);
        for f in &h.headers {
            spans.push(f.name);
            spans.push(f.value);
        }
        let spans = spans.into_iter().map(|s| check_span(s, consumed).shift(base)).collect();
        assert!(h.head.end == consumed, "head does not end where consumption does");
        assert!((200..1000).contains(&h.status) || h.status == 101);
        Ev::Head(spans, h.body, h.keep_alive, h.status)
    }
}

fn run<F: Framer>(mut p: F, stream: &[u8], sizes: &[usize]) -> Vec<Ev> {
    let mut events = Vec::new();
    let mut recv: Vec<u8> = Vec::new();
    let mut base = 0usize; // absolute offset of recv[0]
    for piece in pieces(stream, sizes) {
        recv.extend_from_slice(piece);
        let mut pos = 0usize;
        let mut idle_steps = 0;
        loop {
            let avail = &recv[pos..];
            match p.parse(avail) {
                Err(e) => {
                    assert!(matches!(e.status, 400 | 413 | 414 | 431 | 501 | 505), "{e:?}");
                    // A failed parser stays failed.
                    assert_eq!(p.parse(avail).err(), Some(e));
                    push(&mut events, Ev::Err(e.status));
                    return events;
                }
                Ok(Step::NeedMore) => break,
                Ok(step) => {
                    let consumed = step.consumed();
                    assert!(consumed <= avail.len(), "consumed {consumed} > {}", avail.len());
                    match &step {
                        Step::Head { head, .. } => {
                            assert!(consumed > 0);
                            push(&mut events, F::summary(head, base + pos, consumed));
                        }
                        Step::Body { data, .. } => {
                            let d = check_span(*data, consumed);
                            assert!(!d.is_empty(), "empty body step");
                            push(&mut events, Ev::Data(d.get(avail).to_vec()));
                        }
                        Step::End { keep_alive, .. } => push(&mut events, Ev::End(*keep_alive)),
                        Step::NeedMore => {}
                    }
                    if consumed == 0 {
                        idle_steps += 1;
                        assert!(idle_steps <= 2, "parser makes no progress");
                    } else {
                        idle_steps = 0;
                    }
                    pos += consumed;
                }
            }
        }
        recv.drain(..pos);
        base += pos;
    }
    let eof = p.finish(recv.len()).map_err(|e| e.status);
    push(&mut events, Ev::Eof(eof));
    events
}

/// Feeds `stream` to a [`RequestParser`] in pieces of the given sizes; returns the events.
pub(crate) fn request_events(stream: &[u8], sizes: &[usize], limits: Limits) -> Vec<Ev> {
    run(RequestParser::new(limits), stream, sizes)
}

/// Feeds `stream` to a [`ResponseParser`] (answering `method`) in pieces; returns events.
pub(crate) fn response_events(stream: &[u8], sizes: &[usize], limits: Limits, method: &[u8]) -> Vec<Ev> {
    let mut p = ResponseParser::new(limits);
    p.set_request_method(method);
    run(p, stream, sizes)
}

/// Tiny deterministic generator for split sizes.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// Derives limits and split sizes from the first 3 bytes; returns them and the stream.
fn fuzz_setup(data: &[u8]) -> Option<(Limits, Vec<usize>, &[u8], u8)> {
    let (&[a, b, c], stream) = data.split_first_chunk::<3>()?;
    let limits = if a & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_headers: 4,
            max_head_bytes: 128,
            max_uri_bytes: 24,
            max_body: 64,
        }
    };
    let mut rng = XorShift(u32::from_le_bytes([b, c, a, 0x5a]) | 1);
    let max_piece = match (a >> 1) & 3 {
        0 => 1,
        1 => 4,
        2 => 32,
        _ => 512,
    };
    let mut sizes = Vec::new();
    let mut covered = 0usize;
    while covered < stream.len() {
        let s = (rng.next() as usize) % (max_piece + 1); // zero-sized reads too
        sizes.push(s);
        covered += s.max(1);
        if sizes.len() > 4 * stream.len() + 8 {
            break;
        }
    }
    Some((limits, sizes, stream, a))
}

/// Fuzz target body for `http_request`: the stream parsed whole and parsed in arbitrary
/// splits must give the same events, every invariant must hold, and the first head gets
/// the verdict of the httparse oracle ([`super::oracle::compare_request`]).
pub fn fuzz_request(data: &[u8]) {
    let Some((limits, sizes, stream, _)) = fuzz_setup(data) else {
        return;
    };
    let whole = request_events(stream, &[stream.len()], limits);
    let split = request_events(stream, &sizes, limits);
    assert_eq!(whole, split, "split feeding changed the events");
    // The first head's verdict, head or exact error, is httparse's (the oracle).
    super::oracle::compare_request(stream, limits, sizes.first().copied().unwrap_or(0));
}

/// Fuzz target body for `http_response`: same as [`fuzz_request`] for responses; the
/// request method (GET, HEAD or CONNECT) is picked from the input.
pub fn fuzz_response(data: &[u8]) {
    let Some((limits, sizes, stream, a)) = fuzz_setup(data) else {
        return;
    };
    let method: &[u8] = match (a >> 3) & 3 {
        0 | 1 => b"GET",
        2 => b"HEAD",
        _ => b"CONNECT",
    };
    let whole = response_events(stream, &[stream.len()], limits, method);
    let split = response_events(stream, &sizes, limits, method);
    assert_eq!(whole, split, "split feeding changed the events");
    // The first head's status line and fields get the verdict of the httparse oracle.
    super::oracle::compare_response(stream, limits);
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::http::message::write_chunk;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec as StdVec;

    /// A request built from parts, valid or deliberately broken.
    fn request_strategy() -> impl Strategy<Value = StdVec<u8>> {
        let method = prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("X-Y")];
        let path = "/[a-z0-9/%?=&]{0,12}";
        let version = prop_oneof![4 => Just("HTTP/1.1"), 1 => Just("HTTP/1.0"), 1 => Just("HTTP/2.0")];
        let extra = proptest::collection::vec(
            prop_oneof![
                Just("Connection: close"),
                Just("Connection: keep-alive"),
                Just("Expect: 100-continue"),
                Just("X-A:  b "),
                Just("Content-Length: 3"),
                Just("Transfer-Encoding: chunked"),
                Just("Transfer-Encoding: gzip"),
                Just("Host: other"),
                Just("X-Fold: a\r\n b"),
                Just("Bad : x"),
            ],
            0..3,
        );
        let body = prop_oneof![Just(Body::None), (0u64..40).prop_map(Body::Length), Just(Body::Chunked)];
        let data = proptest::collection::vec(any::<u8>(), 0..40);
        let lead = prop_oneof![4 => Just(""), 1 => Just("\r\n")];
        (lead, method, path, version, extra, body, data).prop_map(|(lead, m, p, v, extra, body, data)| {
            let mut s = String::new();
            s.push_str(lead);
            s.push_str(m);
            s.push(' ');
            s.push_str(&p);
            s.push(' ');
            s.push_str(v);
            s.push_str("\r\nHost: h\r\n");
            for e in extra {
                s.push_str(e);
                s.push_str("\r\n");
            }
            let mut out = StdVec::new();
            match body {
                Body::Length(n) => {
                    s.push_str(&std::format!("Content-Length: {n}\r\n\r\n"));
                    out.extend_from_slice(s.as_bytes());
                    out.extend((0..n as usize).map(|i| data.get(i).copied().unwrap_or(b'z')));
                }
                Body::Chunked => {
                    s.push_str("Transfer-Encoding: chunked\r\n\r\n");
                    out.extend_from_slice(s.as_bytes());
                    for c in data.chunks(7) {
                        write_chunk(&mut out, c);
                    }
                    write_chunk(&mut out, b"");
                }
                _ => {
                    s.push_str("\r\n");
                    out.extend_from_slice(s.as_bytes());
                }
            }
            out
        })
    }

    fn response_strategy() -> impl Strategy<Value = StdVec<u8>> {
        let status = prop_oneof![
            Just(200u16),
            Just(204),
            Just(304),
            Just(404),
            Just(100),
            Just(103),
            Just(101)
        ];
        let framing = prop_oneof![Just(0u8), Just(1), Just(2)];
        let data = proptest::collection::vec(any::<u8>(), 0..40);
        let close = any::<bool>();
        (status, framing, data, close).prop_map(|(status, framing, data, close)| {
            let mut out = std::format!("HTTP/1.1 {status} X\r\n").into_bytes();
            if close {
                out.extend_from_slice(b"Connection: close\r\n");
            }
            match framing {
                0 => {
                    out.extend_from_slice(std::format!("Content-Length: {}\r\n\r\n", data.len()).as_bytes());
                    out.extend_from_slice(&data);
                }
                1 => {
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    for c in data.chunks(5) {
                        write_chunk(&mut out, c);
                    }
                    write_chunk(&mut out, b"");
                }
                _ => {
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(&data);
                }
            }
            out
        })
    }

    fn splits() -> impl Strategy<Value = StdVec<usize>> {
        proptest::collection::vec(0usize..48, 0..64)
    }

    fn small_limits() -> Limits {
        Limits {
            max_headers: 4,
            max_head_bytes: 96,
            max_uri_bytes: 10,
            max_body: 30,
        }
    }

    proptest! {
        /// Pipelined requests: any split gives the same events as feeding the stream whole.
        #[test]
        fn request_split_invariance(reqs in proptest::collection::vec(request_strategy(), 1..4),
                                    sizes in splits(), small: bool) {
            let stream: StdVec<u8> = reqs.concat();
            let limits = if small { small_limits() } else { Limits::default() };
            let whole = request_events(&stream, &[stream.len()], limits);
            let split = request_events(&stream, &sizes, limits);
            prop_assert_eq!(&whole, &split);
            let ones = vec![1; stream.len()];
            prop_assert_eq!(&whole, &request_events(&stream, &ones, limits));
        }

        #[test]
        fn response_split_invariance(resps in proptest::collection::vec(response_strategy(), 1..4),
                                     sizes in splits(), head: bool) {
            let stream: StdVec<u8> = resps.concat();
            let m: &[u8] = if head { b"HEAD" } else { b"GET" };
            let whole = response_events(&stream, &[stream.len()], Limits::default(), m);
            let split = response_events(&stream, &sizes, Limits::default(), m);
            prop_assert_eq!(whole, split);
        }

        /// Arbitrary bytes never panic, consumption stays within the input, splits agree
        /// (these are the fuzz targets' bodies).
        #[test]
        fn fuzz_request_as_proptest(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            fuzz_request(&data);
        }

        #[test]
        fn fuzz_response_as_proptest(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            fuzz_response(&data);
        }

        /// Mutated valid messages reach deeper states than random bytes.
        #[test]
        fn fuzz_request_mutated(reqs in proptest::collection::vec(request_strategy(), 1..3),
                                flips in flips(), cfg in any::<[u8; 3]>()) {
            fuzz_request(&mutated(cfg, &reqs, &flips));
        }

        #[test]
        fn fuzz_response_mutated(resps in proptest::collection::vec(response_strategy(), 1..3),
                                 flips in flips(), cfg in any::<[u8; 3]>()) {
            fuzz_response(&mutated(cfg, &resps, &flips));
        }
    }

    fn flips() -> impl Strategy<Value = StdVec<(usize, u8)>> {
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4)
    }

    /// A fuzz input: the 3 setup bytes, then `msgs` with some bytes overwritten.
    fn mutated(cfg: [u8; 3], msgs: &[StdVec<u8>], flips: &[(usize, u8)]) -> StdVec<u8> {
        let mut data = cfg.to_vec();
        data.extend(msgs.concat());
        let n = data.len() - 3;
        for &(at, b) in flips {
            data[3 + at % n] = b;
        }
        data
    }

    #[test]
    fn pieces_cover_stream() {
        let s = b"abcdef";
        assert_eq!(pieces(s, &[2, 0, 10]), vec![&b"ab"[..], b"", b"cdef"]);
        assert_eq!(pieces(s, &[1]), vec![&b"a"[..], b"bcdef"]);
        assert_eq!(pieces(b"", &[]), StdVec::<&[u8]>::new());
    }

    #[test]
    fn eof_events() {
        let ev = request_events(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET", &[], Limits::default());
        assert_eq!(ev.last(), Some(&Ev::Eof(Err(400))));
        let ev = response_events(b"HTTP/1.0 200 OK\r\n\r\nabc", &[5], Limits::default(), b"GET");
        assert_eq!(ev[1..], [Ev::Data(b"abc".to_vec()), Ev::Eof(Ok(Eof::Complete))]);
    }
}
