//! Types and checks shared by the request and the response framers.
//!
//! Everything here is sans-IO: functions look at byte slices handed in by the caller and
//! answer with [`Span`]s (offsets into those slices), facts and errors.

use crate::util::str::EqCi;
use core::fmt;

use super::Vec;
use crate::util::packed::{words_sizes, Packed, Words, MAX_TEXT};

/// A byte range `start..end` inside the buffer that was passed to the call that produced it.
///
/// Spans are plain offsets, so the FFI layer can point a C `struct mg_str` straight into its
/// receive buffer without copying. A span is only meaningful together with the slice it was
/// computed for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte (`end >= start`).
    pub end: usize,
}

impl Span {
    /// A span covering `start..end`.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// An empty span positioned at `at`.
    pub const fn empty_at(at: usize) -> Span {
        Span { start: at, end: at }
    }

    /// Number of bytes covered.
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no byte.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of `buf` that this span covers; an empty slice if the span does not fit
    /// `buf` (never panics).
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// The same span moved `by` bytes to the right (saturating).
    pub const fn shift(self, by: usize) -> Span {
        Span {
            start: self.start.saturating_add(by),
            end: self.end.saturating_add(by),
        }
    }
}

/// One header (or trailer) field: the name and the value, as spans into the parsed buffer.
///
/// The value has optional whitespace (SP / HTAB) trimmed on both sides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Header {
    /// The field name, exactly as received (case preserved).
    pub name: Span,
    /// The field value without leading or trailing whitespace.
    pub value: Span,
}

/// The HTTP version of a message. Only 1.0 and 1.1 are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `HTTP/1.0`
    Http10,
    /// `HTTP/1.1`
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the body of a message is framed (RFC 9112 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// No body at all (no framing header on a request; HEAD/1xx/204/304 responses; ...).
    None,
    /// Exactly this many bytes follow the head (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`; the parser hands out decoded data.
    Chunked,
    /// Responses only: the body runs until the server closes the connection.
    UntilClose,
}

/// Caps applied while parsing (guarantee G5: bounded memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Most header fields accepted in one head (and trailer fields after a chunked body).
    /// One more is a `431`, never a silent drop. Default 64.
    pub max_headers: usize,
    /// Most bytes a head may take, counting skipped leading empty lines, the request/status
    /// line, the fields and the final empty line. Skipped interim (1xx) responses count
    /// towards the final response's budget. Also caps a chunked body's trailer section.
    /// Default 8192. Over it: `431`.
    pub max_head_bytes: usize,
    /// Longest request-target (path plus `?query`). Default 2048. Over it: `414`.
    pub max_uri_bytes: usize,
    /// Largest body accepted, in the streaming and in the buffered mode alike: a larger
    /// `Content-Length` is a `413` as soon as the head is read; a chunked or read-until-close
    /// body is a `413` as soon as its running size would pass the cap. Use `u64::MAX` to
    /// stream bodies of any size. Default 1 MiB.
    pub max_body: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_headers: 64,
            max_head_bytes: 8192,
            max_uri_bytes: 2048,
            max_body: 1024 * 1024,
        }
    }
}

/// Why a message was rejected.
///
/// `status` is the HTTP status a server should answer with before closing the connection
/// (400, 413, 414, 431, 501 or 505). `reason` is a short English diagnostic for logs; it is
/// not the reason phrase of the status line (use [`crate::http::status_reason`] for that).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HttpError {
    /// HTTP status code to answer with.
    pub status: u16,
    /// Diagnostic text (static, ASCII).
    pub reason: &'static str,
}

impl HttpError {
    /// A new error with this status and diagnostic.
    pub const fn new(status: u16, reason: &'static str) -> HttpError {
        HttpError { status, reason }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl From<Bad> for HttpError {
    /// The public form of a framer's error: its status and text.
    fn from(b: Bad) -> HttpError {
        HttpError::new(b.status(), b.text())
    }
}

/// The framers' errors ([`HttpError`]'s status and text) by variant: `(variant, status,
/// text)`, the statuses ascending. Inside the crate an error is one byte (a [`Bad`]), which
/// every parsing function returns and every caller passes on in a register; the table of
/// texts ([`BAD_TEXTS`]) and statuses ([`BAD_STATUS`]) makes it an [`HttpError`] where the
/// public API returns one, and gives the server's error replies their bytes.
macro_rules! bad_codes {
    ($($v:ident = $status:literal, $text:literal;)*) => {
        /// An error of the framers as one byte: see [`bad_codes`] (and [`HttpError`], whose
        /// status and text it stands for).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub(crate) enum Bad {
            $(
                #[doc = $text]
                $v,
            )*
        }
        const BAD_LIST: &[(u16, &str)] = &[$(($status, $text),)*];
    };
}

bad_codes! {
    ClNotNumber = 400, "Content-Length is not a number";
    ClOverflows = 400, "Content-Length overflows";
    TeInHttp10Request = 400, "Transfer-Encoding in an HTTP/1.0 request";
    TeInHttp10Response = 400, "Transfer-Encoding in an HTTP/1.0 response";
    BareCrChunkLine = 400, "bare CR in chunk size line";
    BareCrHead = 400, "bare CR in head";
    BareCrTrailers = 400, "bare CR in trailer section";
    BareLfBeforeLine = 400, "bare LF before request line";
    BareLfChunkLine = 400, "bare LF in chunk size line";
    BareLfHead = 400, "bare LF in head";
    ClAndTe = 400, "both Content-Length and Transfer-Encoding";
    ChunkNotHex = 400, "chunk size is not hex";
    ChunkLineTooLong = 400, "chunk size line too long";
    ChunkOverflows = 400, "chunk size overflows";
    ChunkedTwice = 400, "chunked applied twice";
    ChunkedNotLast = 400, "chunked is not the last transfer coding";
    ChunkedParams = 400, "chunked takes no parameters";
    ClosedInRequestBody = 400, "connection closed inside a request body";
    ClosedInRequestHead = 400, "connection closed inside a request head";
    ClosedInResponseBody = 400, "connection closed inside a response body";
    ClosedInResponseHead = 400, "connection closed inside a response head";
    ChunkExtControl = 400, "control character in chunk extension";
    EmptyCl = 400, "empty Content-Length";
    EmptyTe = 400, "empty Transfer-Encoding";
    EmptyLineBeforeStatus = 400, "empty line before status line";
    InvalidVersion = 400, "invalid HTTP version";
    InvalidHeaderName = 400, "invalid header name";
    InvalidHeaderValue = 400, "invalid header value";
    InvalidLineEnding = 400, "invalid line ending";
    InvalidStatusCode = 400, "invalid status code";
    InvalidStatusLine = 400, "invalid status line";
    InvalidToken = 400, "invalid token";
    JunkAfterChunkSize = 400, "junk after chunk size";
    MalformedTe = 400, "malformed Transfer-Encoding";
    MalformedRequestHead = 400, "malformed request head";
    MalformedRequestLine = 400, "malformed request line";
    MalformedResponseHead = 400, "malformed response head";
    MalformedTrailers = 400, "malformed trailer section";
    MissingChunkCrlf = 400, "missing CRLF after chunk data";
    MissingHost = 400, "missing Host";
    ManyCl = 400, "more than one Content-Length";
    ManyHosts = 400, "more than one Host";
    ObsFold = 400, "obs-fold or whitespace at start of line";
    NotHttpResponse = 400, "response does not start with HTTP/";
    WhitespaceBeforeLine = 400, "whitespace before the request line";
    HeadTimedOut = 408, "request head timed out";
    BodyTimedOut = 408, "request body timed out";
    BodyTooLarge = 413, "body too large";
    BodyOverMaxBody = 413, "body larger than http_max_body";
    UriTooLong = 414, "URI too long";
    TooManyHeaders = 431, "too many header fields";
    RequestHeadTooLarge = 431, "request head too large";
    ResponseHeadTooLarge = 431, "response head too large";
    TrailersTooLarge = 431, "trailer section too large";
    UnsupportedCoding = 501, "unsupported transfer coding";
    VersionNotSupported = 505, "HTTP version not supported";
}

const NBAD: usize = BAD_LIST.len();
const NBAD_BYTES: usize = {
    let (mut n, mut i) = (0, 0);
    while i < NBAD {
        n += BAD_LIST[i].1.len();
        i += 1;
    }
    n
};
/// Each [`Bad`]'s status, less 400 (all are 400..=505).
static BAD_STATUS: [u8; NBAD] = {
    let mut t = [0u8; NBAD];
    let mut i = 0;
    while i < NBAD {
        assert!(BAD_LIST[i].0 >= 400 && BAD_LIST[i].0 < 400 + 256);
        t[i] = (BAD_LIST[i].0 - 400) as u8;
        i += 1;
    }
    t
};
/// Each [`Bad`]'s text, for [`HttpError`]'s `&'static str` (the public framers' errors).
static BAD_TEXTS: Packed<NBAD, NBAD_BYTES> = {
    let mut p = Packed::empty();
    let mut i = 0;
    while i < NBAD {
        let text = BAD_LIST[i].1.as_bytes();
        let mut k = 0;
        while k < text.len() {
            // Logged as they are (`log::Escaped` passes these bytes through unchanged).
            assert!(text[k] >= 0x20 && text[k] <= 0x7e && !matches!(text[k], b'\\' | b'\'' | b'"'));
            k += 1;
        }
        p = p.with(text);
        i += 1;
    }
    p
};

const BAD_WORD_SIZES: (usize, usize) = words_sizes(BAD_LIST);
/// Each [`Bad`]'s text as word numbers: what the server's error replies and log lines
/// write (691 bytes where [`BAD_TEXTS`] takes 1,560; its 1,437 bytes of text are 228 uses
/// of 84 words).
static BAD_WORDS: Words<{ BAD_WORD_SIZES.0 }, { BAD_WORD_SIZES.1 }> = Words::new(BAD_LIST, 0);

impl Bad {
    /// The HTTP status to answer with.
    pub(crate) fn status(self) -> u16 {
        400 + u16::from(BAD_STATUS[self as usize])
    }

    /// The diagnostic (ASCII), written into `buf`.
    pub(crate) fn text_into(self, buf: &mut [u8; MAX_TEXT]) -> &[u8] {
        BAD_WORDS.get(self as usize, buf)
    }

    /// The diagnostic (ASCII).
    pub(crate) fn text(self) -> &'static str {
        core::str::from_utf8(BAD_TEXTS.get(self as usize)).unwrap_or("")
    }
}

/// One result of feeding bytes to a framer.
///
/// The caller passes the bytes it has not yet consumed; each step says how many of them the
/// parser consumed (`consumed`, never more than were passed). Spans are relative to the slice
/// passed to that very call. `NeedMore` consumes nothing: call again with the same bytes plus
/// whatever arrives next.
///
/// A message is always `Head`, then zero or more `Body`, then `End`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<H> {
    /// Nothing can be produced from these bytes; nothing was consumed.
    NeedMore,
    /// A complete head was read (`consumed` covers skipped leading empty lines or interim
    /// responses too).
    Head {
        /// Bytes consumed from the start of the slice.
        consumed: usize,
        /// The parsed head; its spans point into the slice passed to this call.
        head: H,
    },
    /// A piece of body data (decoded if chunked), never empty. `data` lies within
    /// `0..consumed`; for chunked bodies `consumed` also covers the chunk framing before it.
    Body {
        /// Bytes consumed from the start of the slice.
        consumed: usize,
        /// The data, as a span of the slice passed to this call.
        data: Span,
    },
    /// The message is complete (trailer fields, if any, were checked and discarded).
    End {
        /// Bytes consumed from the start of the slice (may be 0).
        consumed: usize,
        /// Whether the connection stays open for another message. When `false` the parser
        /// is closed: it reads nothing more, and the caller must close the connection once
        /// the response is flushed (guarantee G4).
        keep_alive: bool,
    },
}

impl<H> Step<H> {
    /// Bytes consumed by this step (0 for `NeedMore`).
    pub fn consumed(&self) -> usize {
        match self {
            Step::NeedMore => 0,
            Step::Head { consumed, .. } | Step::Body { consumed, .. } | Step::End { consumed, .. } => *consumed,
        }
    }
}

/// What the end of the connection meant for the message in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Eof {
    /// No message was in progress: a clean close.
    Clean,
    /// The close completed a read-until-close response body: dispatch it as complete.
    Complete,
}

// ---------------------------------------------------------------------------------------
// Byte helpers

pub(crate) const fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Allowed in a field value (RFC 9110 §5.5): HTAB, visible ASCII, SP and obs-text.
const fn is_field_vchar(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

macro_rules! byte_table {
    ($f:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $f(i as u8);
            i += 1;
        }
        t
    }};
}
/// [`is_tchar`] and [`is_field_vchar`] as lookup tables: one load per byte in the loops
/// that look at every byte of every field.
static TCHAR: [bool; 256] = byte_table!(is_tchar);
static FIELD_VCHAR: [bool; 256] = byte_table!(is_field_vchar);

/// Whether `b` is a `tchar` (table look-up), for other modules that check tokens.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `b` may appear in a field value (table look-up), for other modules that check
/// header text.
pub(crate) fn is_field_vchar_byte(b: u8) -> bool {
    FIELD_VCHAR[usize::from(b)]
}

/// Whether every byte of `s` is a `tchar`.
pub(crate) fn all_tchar(s: &[u8]) -> bool {
    s.iter().all(|&b| TCHAR[usize::from(b)])
}

/// Whether every byte of `s` may appear in a field value. Eight bytes per step: values are
/// most of a head's bytes.
pub(crate) fn all_field_vchar(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    // Bit 7 of each byte of the result is set iff that byte of `x` is zero. Exact: the
    // addition works on 7-bit lanes and cannot carry into the next byte.
    const fn zero_bytes(x: u64) -> u64 {
        !(((x & LOW7) + LOW7) | x) & HIGH
    }
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_ne_bytes(b);
        // Bit 7 set iff the byte is >= 0x20 (a 7-bit lane plus 0x60 reaches bit 7 exactly
        // from 0x20 up; obs-text has bit 7 already).
        let printable = (((x & LOW7) + 0x60 * ONES) | x) & HIGH;
        let tab = zero_bytes(x ^ (u64::from(b'\t') * ONES));
        let del = zero_bytes(x ^ (0x7f * ONES));
        if (!(printable | tab) & HIGH) | del != 0 {
            return false;
        }
    }
    words.remainder().iter().all(|&b| FIELD_VCHAR[usize::from(b)])
}

/// The first occurrence of `needle` in `hay`. `memchr` skips to the candidates for the
/// needle's first byte; the needles used here (`\r\n`, `\r\n\r\n`) are short, so the rest
/// is compared in place.
#[inline]
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut from = 0;
    while from <= last_start {
        let p = from + crate::util::memchr(first, &hay[from..=last_start])?;
        if hay[p + 1..p + needle.len()] == *rest {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ows(b)).map_or(start, |p| p + 1);
    &s[start..end.max(start)]
}

/// The span of `sub` inside `base`, if `sub` really is a sub-slice of `base`.
pub(crate) fn span_of(base: &[u8], sub: &[u8]) -> Option<Span> {
    let start = (sub.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
    let end = start.checked_add(sub.len())?;
    if start <= base.len() && end <= base.len() {
        Some(Span::new(start, end))
    } else {
        None
    }
}

/// Trim OWS inside a span of `buf`.
pub(crate) fn trim_span(buf: &[u8], s: Span) -> Span {
    let bytes = s.get(buf);
    let lead = bytes.iter().position(|&b| !is_ows(b)).unwrap_or(bytes.len());
    let trail = bytes[lead..].iter().rev().position(|&b| !is_ows(b)).unwrap_or(0);
    Span::new(s.start + lead, s.end - trail)
}

// ---------------------------------------------------------------------------------------
// Incremental search hint

/// Remembers how far [`scan_head`] got in a head starting at `start` without finding its end
/// or an error, so a byte-at-a-time peer does not make the parser rescan its whole buffer on
/// every call. It is only a shortcut: it is reset whenever the parser consumes bytes, and a
/// scan that starts elsewhere ignores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Hint {
    start: usize,
    /// The start of the line the scan stopped in.
    line: usize,
    /// Where the scan stopped: `line..scanned` holds no CR or LF, and the line's first
    /// byte was checked if `scanned > line`.
    scanned: usize,
}

impl Hint {
    /// Where to resume a scan of the head at `start` in `hay`: the line start and the
    /// offset to search from. `None` when there is nothing to resume.
    fn resume(&self, start: usize, hay: &[u8]) -> Option<(usize, usize)> {
        (self.start == start
            && self.scanned > start
            && start <= self.line
            && self.line <= self.scanned
            && self.scanned <= hay.len())
        .then_some((self.line, self.scanned))
    }
}

// ---------------------------------------------------------------------------------------
// Head checks

/// One field more than [`Limits::max_headers`].
pub(crate) const TOO_MANY_HEADERS: Bad = Bad::TooManyHeaders;

const OBS_FOLD: Bad = Bad::ObsFold;
const BARE_CR: Bad = Bad::BareCrHead;
const BARE_LF: Bad = Bad::BareLfHead;

/// Finds the end of a head (or trailer section) that starts at `start`, checking its raw
/// lines on the way: every line ends with CRLF, no bare CR, no bare LF, no line starts with
/// SP or HTAB (obs-fold, RFC 9112 §5.2). The head ends at its first empty line after the
/// first line. Only `buf[..limit_end]` is looked at.
///
/// `Ok(Some(end))`: `end` is one past the CRLF of the empty line that ends the head.
/// `Ok(None)` while neither the end nor a fault is within reach. A fault is reported as
/// soon as its bytes are there, complete head or not: a line that ends in a bare LF (a
/// client that ends its head with `\n\n` or `\r\n\n`) would otherwise never be seen to
/// end, and the client would wait for a timeout. The verdict depends only on the bytes, not
/// on how they were split into calls: the scan stops at the first fault or end, in order.
///
/// One pass over the head in the usual case (the whole head arrived in one read); after a
/// `NeedMore` the scan resumes where it stopped (see [`Hint`]).
pub(crate) fn scan_head(buf: &[u8], start: usize, limit_end: usize, hint: &mut Hint) -> Result<Option<usize>, Bad> {
    let hay = &buf[..limit_end.min(buf.len())];
    if start >= hay.len() {
        return Ok(None);
    }
    // Invariants: `pos` starts a line; no fault and no end lies before `pos`; `pos..from`
    // holds no CR or LF, and if `from > pos` the first byte of the line was checked.
    let (mut pos, mut from) = hint.resume(start, hay).unwrap_or((start, start));
    loop {
        if from == pos {
            match hay.get(pos) {
                Some(&b) if is_ows(b) => return Err(OBS_FOLD),
                Some(_) => {}
                None => {
                    *hint = Hint {
                        start,
                        line: pos,
                        scanned: pos,
                    };
                    return Ok(None);
                }
            }
        }
        let Some(off) = crate::util::memchr2(b'\r', b'\n', &hay[from..]) else {
            *hint = Hint {
                start,
                line: pos,
                scanned: hay.len(),
            };
            return Ok(None);
        };
        let p = from + off;
        // An LF found here is bare: the LF of a CRLF is stepped over below.
        if hay[p] == b'\n' {
            return Err(BARE_LF);
        }
        match hay.get(p + 1) {
            Some(b'\n') => {}
            Some(_) => return Err(BARE_CR),
            None => {
                *hint = Hint {
                    start,
                    line: pos,
                    scanned: p,
                };
                return Ok(None);
            }
        }
        if p == pos && pos > start {
            // The empty line, after the first line.
            return Ok(Some(p + 2));
        }
        pos = p + 2;
        from = pos;
    }
}

/// Where a head's syntax walk ([`walk_fields`], the request line's walk) stopped short. The
/// kinds are those httparse (the crate these walks replaced, kept as the tests' and fuzz
/// target's oracle: `drive::oracle`) reports, so a refused head gets the same reason text on
/// the wire as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The bytes end before the head does.
    More,
    /// A method or request-target byte out of place (httparse's `Token`).
    Token,
    /// Not `HTTP/1.0` or `HTTP/1.1` (httparse's `Version`).
    Version,
    /// The request line does not end with CRLF after the version (`NewLine`).
    NewLine,
    /// A status line without three digits, or a control character in its reason (`Status`).
    Status,
    /// A field line that does not start with a `tchar` name and a colon (`HeaderName`).
    HeaderName,
    /// A control character in a field value (`HeaderValue`).
    HeaderValue,
    /// One field more than [`Limits::max_headers`] (`TooManyHeaders`).
    TooMany,
    /// A complete request or status line whose protocol is a well-formed `HTTP/x.y` other
    /// than 1.0 and 1.1 (a `Version` that is a 505).
    Unsupported,
    /// A complete request line that httparse refused as a `Version` for a stray SP (a
    /// malformed request line, 400).
    Line,
}

impl Fault {
    /// The error for this fault; `more` is the one for a block that ends too early (which a
    /// block [`scan_head`] found complete never does).
    pub(crate) fn error(self, more: Bad) -> Bad {
        match self {
            Fault::More => more,
            Fault::TooMany => TOO_MANY_HEADERS,
            Fault::HeaderName => Bad::InvalidHeaderName,
            Fault::HeaderValue => Bad::InvalidHeaderValue,
            Fault::NewLine => Bad::InvalidLineEnding,
            Fault::Status => Bad::InvalidStatusLine,
            Fault::Token => Bad::InvalidToken,
            Fault::Version => Bad::InvalidVersion,
            Fault::Unsupported => Bad::VersionNotSupported,
            Fault::Line => Bad::MalformedRequestLine,
        }
    }
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_le_bytes([1; 8]);
/// `0x80` in every byte of a word.
const HIGH: u64 = ONES << 7;

/// The 8 bytes of `buf` from `i` on as a little-endian word; `None` when fewer are left.
#[inline(always)]
pub(crate) fn word_at(buf: &[u8], i: usize) -> Option<u64> {
    let w: [u8; 8] = buf.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(w))
}

/// From `i` on, the first byte of `buf` that is not in `lo..=0x7e` (`buf.len()` if none),
/// eight bytes at a time while eight are left. In a word, a byte below `lo` sets its top bit
/// in `below` (a borrow only travels up from such a byte; the bytes `0x80 + lo` and over
/// that `below` sets too are above `0x7e`) and a byte above `0x7e` in `above` (a carry only
/// travels up from `0xff`, itself above), so the lowest top bit set is the first such
/// byte. `lo` is at most `0x7e`.
#[inline(always)]
pub(crate) fn skip_range(buf: &[u8], mut i: usize, lo: u8) -> usize {
    while let Some(w) = word_at(buf, i) {
        let below = w.wrapping_sub(ONES * u64::from(lo)) & HIGH;
        let above = (w.wrapping_add(ONES) | w) & HIGH;
        let out = below | above;
        if out != 0 {
            return i + (out.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && (lo..=0x7e).contains(&buf[i]) {
        i += 1;
    }
    i
}

/// From `i` on, the first byte of `buf` that is neither in `lo..=0x7e` nor obs-text
/// (`0x80..`), nor HTAB when `tab`: the request-target's bytes (`lo = 0x21`) and a field
/// value's (`lo = 0x20`, `tab`). Word at a time over the ASCII run, a byte at a time past
/// the rare others. Out of line: the walks call it only past the usual ASCII run.
#[inline(never)]
pub(crate) fn skip_text(buf: &[u8], mut i: usize, lo: u8, tab: bool) -> usize {
    loop {
        i = skip_range(buf, i, lo);
        match buf.get(i) {
            Some(&b) if b >= 0x80 || (tab && b == b'\t') => i += 1,
            _ => return i,
        }
    }
}

/// From `i` on, the first byte of `buf` that is not a `tchar` (`buf.len()` if none).
#[inline(always)]
pub(crate) fn skip_tchars(buf: &[u8], i: usize) -> usize {
    let rest = buf.get(i..).unwrap_or(&[]);
    i + rest.iter().position(|&b| !TCHAR[usize::from(b)]).unwrap_or(rest.len())
}

/// The fault where `buf[i..]` should start with CRLF and does not: [`Fault::More`] if the
/// bytes end first (nothing, or a CR last), else `fault`.
#[cold]
pub(crate) fn crlf_fault(buf: &[u8], i: usize, fault: Fault) -> Fault {
    match buf.get(i..) {
        None | Some([] | [b'\r']) => Fault::More,
        Some(_) => fault,
    }
}

/// What [`walk_fields`] found: the end of the block (past the empty line's CRLF), the
/// number of `Host` fields, and whether no field but `Host` bears on the framing (names of
/// the lengths [`analyze_fields`] looks at clear it).
pub(crate) type WalkedFields = (usize, usize, bool);

/// The field lines of a head or trailer section from `i` (the start of a line) to the
/// empty line that ends them, each as `token ":" OWS value OWS CRLF` with a value of HTAB,
/// SP, visible ASCII and obs-text: names and trimmed values pushed into `headers` (cleared
/// first), at most `max_headers` of them. Refuses as httparse did, at the same byte and
/// with the same kind of fault (property-tested and fuzzed against it): an empty value
/// spans nothing at its line's CR, a field past `max_headers` is [`Fault::TooMany`] once
/// its line was read. On a block whose raw lines [`scan_head`] checked, a bare CR or LF
/// and whitespace first on a line (obs-fold) cannot occur; met elsewhere they are faults.
///
/// `FAST` (the request's first look, `/hello`'s path): a value's usual ASCII run is skipped
/// inline, eight bytes at a time, and [`skip_text`] called only past it; else (the copy out
/// of line, [`walk_fields_outlined`]) [`skip_text`] does it all, the same bytes skipped.
#[inline(always)]
pub(crate) fn walk_fields<const FAST: bool>(
    buf: &[u8],
    mut i: usize,
    max_headers: usize,
    headers: &mut Vec<Header>,
) -> Result<WalkedFields, Fault> {
    headers.clear();
    let mut hosts = 0;
    let mut plain = true;
    loop {
        match buf.get(i..i + 2) {
            Some(b"\r\n") => return Ok((i + 2, hosts, plain)),
            Some([b'\r', _]) => return Err(Fault::NewLine),
            Some(_) => {}
            None if buf.get(i).is_some_and(|&b| b != b'\r') => {}
            None => return Err(Fault::More),
        }
        let n0 = i;
        i = skip_tchars(buf, i);
        if i == n0 {
            return Err(Fault::HeaderName);
        }
        match buf.get(i) {
            Some(b':') => {}
            Some(_) => return Err(Fault::HeaderName),
            None => return Err(Fault::More),
        }
        let name = Span::new(n0, i);
        match name.get(buf) {
            // ASCII letters only: setting bit 5 folds the case, and no other byte folds
            // onto a letter.
            &[a, b, c, d] => {
                hosts += usize::from(u32::from_le_bytes([a, b, c, d]) | 0x2020_2020 == u32::from_le_bytes(*b"host"))
            }
            n => plain &= !matches!(n.len(), 6 | 10 | 14 | 17),
        }
        i += 1;
        while buf.get(i).is_some_and(|&b| is_ows(b)) {
            i += 1;
        }
        let vs = i;
        if FAST {
            i = skip_range(buf, i, 0x20);
        }
        if !FAST || buf.get(i) != Some(&b'\r') {
            // HTAB or obs-text in the value (or a fault): the rare way.
            i = skip_text(buf, i, 0x20, true);
        }
        if buf.get(i..i + 2) != Some(b"\r\n") {
            return Err(crlf_fault(buf, i, Fault::HeaderValue));
        }
        if headers.len() >= max_headers {
            return Err(Fault::TooMany);
        }
        let mut ve = i;
        while ve > vs && is_ows(buf[ve - 1]) {
            ve -= 1;
        }
        headers.push(Header {
            name,
            value: Span::new(vs, ve),
        });
        i += 2;
    }
}

/// [`walk_fields`] out of line, for the walks off the request path (response heads,
/// trailer sections): one copy of it for them all.
#[inline(never)]
pub(crate) fn walk_fields_outlined(
    buf: &[u8],
    i: usize,
    max_headers: usize,
    headers: &mut Vec<Header>,
) -> Result<WalkedFields, Fault> {
    walk_fields::<false>(buf, i, max_headers, headers)
}

/// Error for a protocol token that httparse refused as a version: a well-formed but
/// unsupported `HTTP/x.y` (RFC 9112 §2.3: `HTTP/` DIGIT `.` DIGIT) is 505, anything else is
/// 400.
pub(crate) fn version_error(proto: &[u8]) -> Bad {
    match proto {
        [b'H', b'T', b'T', b'P', b'/', x, b'.', y] if x.is_ascii_digit() && y.is_ascii_digit() => {
            Bad::VersionNotSupported
        }
        _ => Bad::InvalidVersion,
    }
}

/// Facts gathered from the framing-relevant fields of a head.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    /// The single Content-Length value, if one was present.
    pub content_length: Option<u64>,
    /// A Transfer-Encoding field was present (its codings end with a single `chunked`).
    pub chunked: bool,
    /// `Connection: close` seen.
    pub close: bool,
    /// `Connection: keep-alive` seen.
    pub keep_alive: bool,
    /// Number of Host fields.
    pub hosts: usize,
    /// `Expect: 100-continue` seen.
    pub expect_continue: bool,
}

fn parse_decimal_u64(s: &[u8]) -> Result<u64, Bad> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Err(Bad::ClNotNumber);
    }
    let mut v: u64 = 0;
    for &d in s {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(Bad::ClOverflows)?;
    }
    Ok(v)
}

/// Which of the field names the framers act on `name` is (ASCII case-insensitive): its
/// length (4 `Host`, 6 `Expect`, 10 `Connection`, 14 `Content-Length`, 17
/// `Transfer-Encoding`: they differ in length, so most names are passed over on it alone),
/// or 0. One text and one comparison for all five, for [`analyze_fields`] and
/// `message::header_lines`.
pub(crate) fn known_field(name: &[u8]) -> usize {
    static KNOWN: [u8; 51] = *b"hostexpectconnectioncontent-lengthtransfer-encoding";
    let at = match name.len() {
        4 => 0,
        6 => 4,
        10 => 10,
        14 => 20,
        17 => 34,
        _ => return 0,
    };
    match KNOWN.get(at..at + name.len()) {
        Some(known) if name.eq_ci(known) => name.len(),
        _ => 0,
    }
}

/// Examines Content-Length, Transfer-Encoding, Connection, Host and Expect.
///
/// Rejects (in this order): a Content-Length that is not a plain decimal number or
/// overflows u64 (400); more than one Content-Length value, in several fields or a comma
/// list, even identical (400, RFC 9110 §8.6 lets a recipient reject those); a malformed
/// Transfer-Encoding list, `chunked` repeated or not last (400); both Content-Length and
/// Transfer-Encoding (400, RFC 9112 §6.3 rule 3, a request smuggling vector); a transfer
/// coding other than `chunked` (501).
pub(crate) fn analyze_fields(buf: &[u8], headers: &[Header]) -> Result<Fields, Bad> {
    let mut f = Fields::default();
    let mut cl_count = 0usize;
    let mut te_present = false;
    let mut te_codings = 0usize;
    let mut te_chunked_seen = false;
    let mut te_after_chunked = false;
    let mut te_unknown = false;

    for h in headers {
        let name = h.name.get(buf);
        if known_field(name) == 0 {
            continue;
        }
        let value = h.value.get(buf);
        match name.len() {
            4 => {
                f.hosts += 1;
                continue;
            }
            6 => {
                f.expect_continue |= value.eq_ci(b"100-continue");
                continue;
            }
            // An empty value is an empty list: not a number.
            14 if value.is_empty() => return Err(Bad::EmptyCl),
            17 => te_present = true,
            _ => {}
        }
        // The comma-separated items, OWS-trimmed: every one of a Content-Length list (an
        // empty one is not a number), the others' non-empty ones.
        let mut rest = Some(value);
        while let Some(r) = rest {
            let (item, next) = match crate::util::memchr(b',', r) {
                Some(p) => (&r[..p], Some(&r[p + 1..])),
                None => (r, None),
            };
            rest = next;
            let item = trim_ows(item);
            if name.len() == 14 {
                f.content_length = Some(parse_decimal_u64(item)?);
                cl_count += 1;
            } else if item.is_empty() {
                // Empty list elements are allowed and ignored (RFC 9110 §5.6.1).
                continue;
            } else if name.len() == 10 {
                f.close |= item.eq_ci(b"close");
                f.keep_alive |= item.eq_ci(b"keep-alive");
            } else {
                let coding = trim_ows(&item[..crate::util::memchr(b';', item).unwrap_or(item.len())]);
                if coding.is_empty() || !all_tchar(coding) {
                    return Err(Bad::MalformedTe);
                }
                te_codings += 1;
                te_after_chunked |= te_chunked_seen;
                if coding.eq_ci(b"chunked") {
                    if te_chunked_seen {
                        return Err(Bad::ChunkedTwice);
                    }
                    if item.len() != coding.len() {
                        return Err(Bad::ChunkedParams);
                    }
                    te_chunked_seen = true;
                } else {
                    te_unknown = true;
                }
            }
        }
    }
    if cl_count > 1 {
        return Err(Bad::ManyCl);
    }
    if te_present {
        if te_codings == 0 {
            return Err(Bad::EmptyTe);
        }
        if te_after_chunked {
            return Err(Bad::ChunkedNotLast);
        }
        if cl_count > 0 {
            return Err(Bad::ClAndTe);
        }
        if te_unknown {
            return Err(Bad::UnsupportedCoding);
        }
        // Only `chunked`, exactly once, last.
        f.chunked = true;
    }
    Ok(f)
}

// ---------------------------------------------------------------------------------------
// Body reader (Content-Length, chunked, until-close)

/// Longest chunk-size line accepted (size, extensions, without CRLF).
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkPhase {
    Size,
    Data(u64),
    DataCrlf,
    Trailers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyState {
    Length(u64),
    Chunk(ChunkPhase),
    UntilClose,
}

/// Outcome of one body step.
enum BodyEvent {
    NeedMore,
    Data { consumed: usize, data: Span },
    End { consumed: usize },
}

/// The body half of a message framer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BodyReader {
    state: BodyState,
    received: u64,
}

/// Parses a chunk-size line without its CRLF: `1*HEXDIG [ BWS ";" ext ]`.
fn parse_chunk_line(line: &[u8]) -> Result<u64, Bad> {
    // The hex digits and their value in one loop; too many significant digits overflow.
    let mut size: u64 = 0;
    let mut digits = 0;
    for &d in line {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            _ => match d | 0x20 {
                c @ b'a'..=b'f' => c - b'a' + 10,
                _ => break,
            },
        };
        if size >> 60 != 0 {
            return Err(Bad::ChunkOverflows);
        }
        size = size << 4 | u64::from(v);
        digits += 1;
    }
    if digits == 0 {
        return Err(Bad::ChunkNotHex);
    }
    let rest = &line[digits..];
    if !rest.is_empty() {
        // Chunk extensions: BWS ";" ... ; they are ignored, but may not hold control
        // characters (which also rules out bare CR / LF).
        let ext = &rest[rest.iter().position(|&b| !is_ows(b)).unwrap_or(rest.len())..];
        if ext.first() != Some(&b';') {
            return Err(Bad::JunkAfterChunkSize);
        }
        if skip_text(ext, 0, 0x20, true) != ext.len() {
            return Err(Bad::ChunkExtControl);
        }
    }
    Ok(size)
}

/// Validates the fields of a trailer section whose raw lines [`scan_head`] checked (`block`
/// ends with the final CRLF CRLF).
pub(crate) fn check_trailers(block: &[u8], limits: &Limits) -> Result<(), Bad> {
    // Trailers are rare: the walk's vector allocates only when there are some.
    match walk_fields_outlined(block, 0, limits.max_headers, &mut Vec::new()) {
        Ok((n, ..)) if n == block.len() => Ok(()),
        Ok(_) => Err(Bad::MalformedTrailers),
        Err(f) => Err(f.error(Bad::MalformedTrailers)),
    }
}

impl BodyReader {
    /// A reader for a body with this framing.
    fn new(body: Body) -> BodyReader {
        let state = match body {
            Body::None => BodyState::Length(0),
            Body::Length(n) => BodyState::Length(n),
            Body::Chunked => BodyState::Chunk(ChunkPhase::Size),
            Body::UntilClose => BodyState::UntilClose,
        };
        BodyReader { state, received: 0 }
    }

    /// Whether the body reads until the connection closes.
    fn until_close(&self) -> bool {
        matches!(self.state, BodyState::UntilClose)
    }

    /// Whether the body is already complete (only `End` is left to report).
    fn complete(&self) -> bool {
        matches!(self.state, BodyState::Length(0))
    }

    /// Advances over `buf`. Framing-only progress (chunk-size lines, CRLFs) is committed only
    /// together with data or the end, so `NeedMore` never consumes anything.
    fn step(&mut self, buf: &[u8], limits: &Limits, hint: &mut Hint) -> Result<BodyEvent, Bad> {
        let mut st = self.state;
        let received = self.received;
        let mut pos = 0usize;
        loop {
            let avail = &buf[pos..];
            match st {
                BodyState::Length(0) => {
                    self.state = st;
                    return Ok(BodyEvent::End { consumed: pos });
                }
                BodyState::Length(n) => {
                    if avail.is_empty() {
                        return Ok(BodyEvent::NeedMore);
                    }
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(avail.len());
                    self.state = BodyState::Length(n - take as u64);
                    self.received = received.saturating_add(take as u64);
                    return Ok(BodyEvent::Data {
                        consumed: pos + take,
                        data: Span::new(pos, pos + take),
                    });
                }
                BodyState::UntilClose => {
                    if avail.is_empty() {
                        return Ok(BodyEvent::NeedMore);
                    }
                    // Hand out data up to the cap, then fail: the same events whatever the
                    // read sizes were.
                    let allowance = limits.max_body.saturating_sub(received);
                    let take = usize::try_from(allowance).unwrap_or(usize::MAX).min(avail.len());
                    if take == 0 {
                        return Err(Bad::BodyTooLarge);
                    }
                    self.received = received.saturating_add(take as u64);
                    return Ok(BodyEvent::Data {
                        consumed: pos + take,
                        data: Span::new(pos, pos + take),
                    });
                }
                BodyState::Chunk(ChunkPhase::Size) => {
                    // The line ends at the first CR or LF: a bare one is refused as soon as
                    // it is seen (a client that ends the line with LF alone would
                    // otherwise wait for a timeout).
                    let lim = avail.len().min(MAX_CHUNK_LINE + 2);
                    let crlf = match crate::util::memchr2(b'\r', b'\n', &avail[..lim]) {
                        Some(e) if avail[e] == b'\n' => return Err(Bad::BareLfChunkLine),
                        Some(e) => match avail.get(e + 1) {
                            Some(b'\n') if e <= MAX_CHUNK_LINE => Some(e),
                            Some(b'\n') => return Err(Bad::ChunkLineTooLong),
                            Some(_) => return Err(Bad::BareCrChunkLine),
                            None => None,
                        },
                        None => None,
                    };
                    match crlf {
                        None => {
                            if avail.len() >= MAX_CHUNK_LINE + 2 {
                                return Err(Bad::ChunkLineTooLong);
                            }
                            return Ok(BodyEvent::NeedMore);
                        }
                        Some(e) => {
                            let size = parse_chunk_line(&avail[..e])?;
                            pos += e + 2;
                            if size == 0 {
                                st = BodyState::Chunk(ChunkPhase::Trailers);
                            } else {
                                if received.checked_add(size).is_none_or(|t| t > limits.max_body) {
                                    return Err(Bad::BodyTooLarge);
                                }
                                st = BodyState::Chunk(ChunkPhase::Data(size));
                            }
                        }
                    }
                }
                BodyState::Chunk(ChunkPhase::Data(n)) => {
                    if avail.is_empty() {
                        return Ok(BodyEvent::NeedMore);
                    }
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(avail.len());
                    let left = n - take as u64;
                    self.state = BodyState::Chunk(if left == 0 {
                        ChunkPhase::DataCrlf
                    } else {
                        ChunkPhase::Data(left)
                    });
                    self.received = received.saturating_add(take as u64);
                    return Ok(BodyEvent::Data {
                        consumed: pos + take,
                        data: Span::new(pos, pos + take),
                    });
                }
                BodyState::Chunk(ChunkPhase::DataCrlf) => {
                    match avail {
                        [] | [b'\r'] => return Ok(BodyEvent::NeedMore),
                        [b'\r', b'\n', ..] => {}
                        _ => return Err(Bad::MissingChunkCrlf),
                    }
                    pos += 2;
                    st = BodyState::Chunk(ChunkPhase::Size);
                }
                BodyState::Chunk(ChunkPhase::Trailers) => {
                    let end = match avail {
                        [] | [b'\r'] => return Ok(BodyEvent::NeedMore),
                        [b'\r', b'\n', ..] => pos + 2,
                        [b'\r', ..] => return Err(Bad::BareCrTrailers),
                        _ => {
                            let limit = pos.saturating_add(limits.max_head_bytes);
                            // A fault (a bare LF, say) is refused at once, as in a head.
                            match scan_head(buf, pos, limit, hint)? {
                                Some(end) => {
                                    check_trailers(&buf[pos..end], limits)?;
                                    end
                                }
                                None if buf.len() >= limit => return Err(Bad::TrailersTooLarge),
                                None => return Ok(BodyEvent::NeedMore),
                            }
                        }
                    };
                    self.state = BodyState::Length(0);
                    self.received = received;
                    return Ok(BodyEvent::End { consumed: end });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Framer core (shared by the request and the response framer)

/// What the framer core needs from a parsed head: its body framing, and whether the
/// connection carries another message after this one.
pub(crate) trait Framed {
    fn framing(&self) -> (Body, bool);
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Head,
    Body { reader: BodyReader, keep_alive: bool },
    Closed,
    Failed(Bad),
}

/// The state machine both framers run: a head (parsed by the framer's own function), its
/// body ([`BodyReader`]), `End`; then the next head if the message kept the connection
/// alive, else nothing more. An error sticks: every later call returns it.
#[derive(Clone, Debug)]
pub(crate) struct FramerCore {
    limits: Limits,
    phase: Phase,
    hint: Hint,
}

impl FramerCore {
    pub(crate) fn new(limits: Limits) -> FramerCore {
        FramerCore {
            limits,
            phase: Phase::Head,
            hint: Hint::default(),
        }
    }

    /// One step over `buf` (the contract of [`Step`]). When a head is due, `parse_head`
    /// parses it from the start of `buf`: `Ok(None)` while it is incomplete, else the bytes
    /// it took and the head.
    ///
    /// `parse` and `step` are always inlined, so that the head is built in place as it was
    /// when each framer had its own copy of this code (without: about 70 more instructions
    /// a message, under callgrind).
    #[inline(always)]
    pub(crate) fn parse<H: Framed>(
        &mut self,
        buf: &[u8],
        parse_head: impl FnOnce(&[u8], &Limits, &mut Hint) -> Result<Option<(usize, H)>, Bad>,
    ) -> Result<Step<H>, Bad> {
        let r = self.step(buf, parse_head);
        if let Err(e) = r {
            self.phase = Phase::Failed(e);
        }
        r
    }

    #[inline(always)]
    fn step<H: Framed>(
        &mut self,
        buf: &[u8],
        parse_head: impl FnOnce(&[u8], &Limits, &mut Hint) -> Result<Option<(usize, H)>, Bad>,
    ) -> Result<Step<H>, Bad> {
        match &mut self.phase {
            Phase::Failed(e) => Err(*e),
            Phase::Closed => Ok(Step::NeedMore),
            Phase::Head => match parse_head(buf, &self.limits, &mut self.hint)? {
                None => Ok(Step::NeedMore),
                Some((consumed, head)) => {
                    let (body, keep_alive) = head.framing();
                    self.hint = Hint::default();
                    self.phase = Phase::Body {
                        reader: BodyReader::new(body),
                        keep_alive,
                    };
                    Ok(Step::Head { consumed, head })
                }
            },
            Phase::Body { .. } => Ok(match self.body_step(buf)? {
                Step::NeedMore => Step::NeedMore,
                Step::Body { consumed, data } => Step::Body { consumed, data },
                Step::End { consumed, keep_alive } => Step::End { consumed, keep_alive },
                Step::Head { head, .. } => match head {},
            }),
        }
    }

    /// The body phase of [`step`](Self::step), the same for every kind of head: out of
    /// line, one copy for both framers (the usual request has no body: its end comes
    /// through [`end_complete`](Self::end_complete)).
    #[inline(never)]
    fn body_step(&mut self, buf: &[u8]) -> Result<Step<core::convert::Infallible>, Bad> {
        let Phase::Body { reader, keep_alive } = &mut self.phase else {
            return Ok(Step::NeedMore);
        };
        let keep_alive = *keep_alive;
        // A message without a body ends here, without the call.
        let ev = if reader.complete() {
            BodyEvent::End { consumed: 0 }
        } else {
            reader.step(buf, &self.limits, &mut self.hint)?
        };
        match ev {
            BodyEvent::NeedMore => Ok(Step::NeedMore),
            BodyEvent::Data { consumed, data } => {
                self.hint = Hint::default();
                Ok(Step::Body { consumed, data })
            }
            BodyEvent::End { consumed } => {
                self.hint = Hint::default();
                self.phase = if keep_alive { Phase::Head } else { Phase::Closed };
                Ok(Step::End { consumed, keep_alive })
            }
        }
    }

    /// The end of a message whose body is already complete (after the head of a message
    /// without one, only `End { consumed: 0, .. }` is left to report): the state the next
    /// step would leave, without the step. `Some(keep_alive)` as that `End` would say, or
    /// `None` with nothing changed when the next step would report something else.
    #[inline]
    pub(crate) fn end_complete(&mut self) -> Option<bool> {
        let Phase::Body { reader, keep_alive } = &self.phase else {
            return None;
        };
        if !reader.complete() {
            return None;
        }
        let keep_alive = *keep_alive;
        self.hint = Hint::default();
        self.phase = if keep_alive { Phase::Head } else { Phase::Closed };
        Some(keep_alive)
    }

    /// Changes the body cap ([`Limits::max_body`]) from the next step on.
    pub(crate) fn set_max_body(&mut self, max_body: u64) {
        self.limits.max_body = max_body;
    }

    /// Whether a head was returned and its message has not ended yet.
    pub(crate) fn in_body(&self) -> bool {
        matches!(self.phase, Phase::Body { .. })
    }

    /// Whether the framer stopped reading: after a non-keep-alive message, after
    /// [`finish_on_eof`](Self::finish_on_eof), or after an error.
    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed | Phase::Failed(_))
    }

    /// The error the framer failed with, if it did.
    pub(crate) fn error(&self) -> Option<Bad> {
        match self.phase {
            Phase::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The peer closed the connection with `unconsumed` bytes never consumed. `Clean` when
    /// no message was in progress, `Complete` when the close ends a read-until-close body
    /// (or a body already complete); else the message was cut short: `cut_head` or
    /// `cut_body`. The framer is closed (or failed) afterwards.
    pub(crate) fn finish_on_eof(&mut self, unconsumed: usize, cut_head: Bad, cut_body: Bad) -> Result<Eof, Bad> {
        let r = match &self.phase {
            Phase::Failed(e) => Err(*e),
            Phase::Closed => Ok(Eof::Clean),
            Phase::Head if unconsumed == 0 => Ok(Eof::Clean),
            Phase::Head => Err(cut_head),
            Phase::Body { reader, .. } if reader.until_close() || reader.complete() => Ok(Eof::Complete),
            Phase::Body { .. } => Err(cut_body),
        };
        self.phase = match r {
            Err(e) => Phase::Failed(e),
            Ok(_) => Phase::Closed,
        };
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_get_never_panics() {
        let b = b"hello";
        assert_eq!(Span::new(1, 3).get(b), b"el");
        assert_eq!(Span::new(4, 9).get(b), b"");
        assert_eq!(Span::new(3, 1).get(b), b"");
        assert_eq!(Span::new(3, 1).len(), 0);
        assert_eq!(Span::new(1, 2).shift(usize::MAX), Span::new(usize::MAX, usize::MAX));
    }

    /// The texts written by the error replies and log lines (word-coded) and the ones
    /// `HttpError` returns are the listed ones.
    #[test]
    fn bad_texts_are_the_listed_ones() {
        let mut buf = [0; MAX_TEXT];
        for (i, (_, text)) in BAD_LIST.iter().enumerate() {
            assert_eq!(BAD_WORDS.get(i, &mut buf), text.as_bytes());
            assert_eq!(BAD_TEXTS.get(i), text.as_bytes());
        }
        assert_eq!(
            Bad::VersionNotSupported.text_into(&mut buf),
            b"HTTP version not supported"
        );
        assert_eq!(Bad::VersionNotSupported.text(), "HTTP version not supported");
    }

    #[test]
    fn trim_and_find() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(find(b"abc\r\n\r\n", b"\r\n\r\n"), Some(3));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(trim_span(b"x:  v  ", Span::new(2, 7)), Span::new(4, 5));
        assert_eq!(trim_span(b"x:   ", Span::new(2, 5)), Span::new(5, 5));
    }

    #[test]
    fn chunk_lines() {
        assert_eq!(parse_chunk_line(b"5"), Ok(5));
        assert_eq!(parse_chunk_line(b"fF"), Ok(255));
        assert_eq!(parse_chunk_line(b"0000000000000000000000001"), Ok(1));
        assert_eq!(parse_chunk_line(b"5;ext=1"), Ok(5));
        assert_eq!(parse_chunk_line(b"5 ; ext=\"q\""), Ok(5));
        assert_eq!(parse_chunk_line(b"ffffffffffffffff"), Ok(u64::MAX));
        assert_eq!(parse_chunk_line(b"10000000000000000").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"x").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"5x").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"5 ").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"-5").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"0x5").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"5;a\rb").unwrap_err().status(), 400);
        assert_eq!(parse_chunk_line(b"5;a\0").unwrap_err().status(), 400);
    }

    /// `scan_head` on a whole buffer from 0: `Ok(Some(end))`, `Ok(None)` or the error.
    fn scan(b: &[u8]) -> Result<Option<usize>, Bad> {
        scan_head(b, 0, usize::MAX, &mut Hint::default())
    }

    #[test]
    fn raw_lines() {
        assert_eq!(scan(b"GET / HTTP/1.1\r\nA: b\r\n\r\n"), Ok(Some(24)));
        assert_eq!(scan(b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), Err(BARE_CR));
        assert_eq!(scan(b"GET / HTTP/1.1\nA: b\r\n\r\n"), Err(BARE_LF));
        assert_eq!(scan(b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), Err(OBS_FOLD));
        assert_eq!(scan(b"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"), Err(OBS_FOLD));
    }

    #[test]
    fn faults_are_seen_before_the_head_is_complete() {
        // Heads that end in a bare LF: refused at once, not waited on.
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\r\n\n"), Err(BARE_LF));
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\n\n"), Err(BARE_LF));
        assert_eq!(scan(b"GET /a HTTP/1.1\nHost: x\n\n"), Err(BARE_LF));
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\n\r\n"), Err(BARE_LF));
        // Any fault, with nothing after it.
        assert_eq!(scan(b"GET /a HTTP/1.1\n"), Err(BARE_LF));
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\rY"), Err(BARE_CR));
        assert_eq!(scan(b"GET /a HTTP/1.1\r\n X"), Err(OBS_FOLD));
        // A CR at the very end may still be a CRLF.
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\r"), Ok(None));
        assert_eq!(scan(b"GET /a HTTP/1.1\r\nHost: x\r\n\r"), Ok(None));
        // Byte by byte, resuming: the same verdicts.
        for b in [
            &b"GET /a HTTP/1.1\r\nHost: x\r\n\n"[..],
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /a HTTP/1.1\r\nHost: x\r\n\t",
        ] {
            // Nothing until the last byte, which decides.
            let mut hint = Hint::default();
            for k in 0..b.len() {
                let r = scan_head(&b[..k], 0, usize::MAX, &mut hint);
                assert_eq!(r, Ok(None), "prefix {k} of {b:?}");
            }
            let last = scan_head(b, 0, usize::MAX, &mut hint);
            assert_eq!(last, scan(b));
            assert_ne!(last, Ok(None));
        }
    }

    #[test]
    fn field_vchar_words_match_the_byte_rule() {
        // Every byte value in every lane of a word, the rest of the word a plain letter.
        for lane in 0..8 {
            for b in 0..=255u8 {
                let mut w = [b'a'; 8];
                w[lane] = b;
                assert_eq!(all_field_vchar(&w), is_field_vchar(b), "byte {b:#x} in lane {lane}");
                // The same in the tail handled byte by byte.
                assert_eq!(all_field_vchar(&w[..lane + 1]), is_field_vchar(b));
            }
        }
        // Neighbours that would carry or borrow in a naive word trick.
        assert!(!all_field_vchar(b"\x00\x7f\x1f\x80\xff\t ~"));
        assert!(all_field_vchar(b"\x80\xff\t ~\x20\x7e\xa0"));
        assert!(!all_field_vchar(b"\xff\xff\xff\xff\xff\xff\xff\x7f"));
        assert!(!all_field_vchar(b"\x7f\xff\xff\xff\xff\xff\xff\xff"));
    }

    /// The implementations these functions replaced: byte loops, kept as oracles.
    mod oracle {
        use super::super::*;

        pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
            if needle.is_empty() {
                return Some(0);
            }
            if hay.len() < needle.len() {
                return None;
            }
            hay.windows(needle.len()).position(|w| w == needle)
        }

        pub fn check_raw_lines(block: &[u8]) -> Result<(), Bad> {
            let mut line_start = true;
            for (i, &b) in block.iter().enumerate() {
                if line_start && is_ows(b) {
                    return Err(Bad::ObsFold);
                }
                line_start = false;
                match b {
                    b'\r' if block.get(i + 1) != Some(&b'\n') => {
                        return Err(Bad::BareCrHead);
                    }
                    b'\n' => {
                        if i == 0 || block[i - 1] != b'\r' {
                            return Err(Bad::BareLfHead);
                        }
                        line_start = true;
                    }
                    _ => {}
                }
            }
            Ok(())
        }

        /// What the framers did before faults were reported early: search the end
        /// (`\r\n\r\n`), check the complete block, find the first CRLF. A head that this
        /// finds complete gets the same verdict from `scan_head`.
        pub fn scan_complete_head(buf: &[u8], start: usize, limit_end: usize) -> Result<Option<usize>, Bad> {
            let end = limit_end.min(buf.len());
            if start >= end {
                return Ok(None);
            }
            let Some(p) = find(&buf[start..end], b"\r\n\r\n") else {
                return Ok(None);
            };
            let end = start + p + 4;
            let block = &buf[start..end];
            check_raw_lines(block)?;
            Ok(Some(end))
        }

        /// `parse_chunk_line` as it was: the hex digits counted, then folded with
        /// `checked_mul`.
        pub fn parse_chunk_line(line: &[u8]) -> Result<u64, Bad> {
            let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if digits == 0 {
                return Err(Bad::ChunkNotHex);
            }
            let mut size: u64 = 0;
            for &d in &line[..digits] {
                let v = (d as char).to_digit(16).unwrap_or(0);
                size = size
                    .checked_mul(16)
                    .map(|s| s | u64::from(v))
                    .ok_or(Bad::ChunkOverflows)?;
            }
            let rest = &line[digits..];
            if !rest.is_empty() {
                let ext = &rest[rest.iter().position(|&b| !is_ows(b)).unwrap_or(rest.len())..];
                if ext.first() != Some(&b';') {
                    return Err(Bad::JunkAfterChunkSize);
                }
                if !ext.iter().all(|&b| is_field_vchar(b)) {
                    return Err(Bad::ChunkExtControl);
                }
            }
            Ok(size)
        }

        /// `scan_head` as a byte loop: the first fault or the first empty line after the
        /// first line, whichever comes first; `None` if neither is within reach.
        pub fn scan_head(buf: &[u8], start: usize, limit_end: usize) -> Result<Option<usize>, Bad> {
            let hay = &buf[..limit_end.min(buf.len())];
            let mut line_start = start;
            let mut i = start;
            while i < hay.len() {
                let b = hay[i];
                if i == line_start && is_ows(b) {
                    return Err(Bad::ObsFold);
                }
                match b {
                    b'\n' => return Err(Bad::BareLfHead),
                    b'\r' => match hay.get(i + 1) {
                        None => return Ok(None),
                        Some(b'\n') => {
                            if i == line_start && i > start {
                                return Ok(Some(i + 2));
                            }
                            i += 2;
                            line_start = i;
                            continue;
                        }
                        Some(_) => return Err(Bad::BareCrHead),
                    },
                    _ => {}
                }
                i += 1;
            }
            Ok(None)
        }
    }

    mod props {
        use super::super::*;
        use super::oracle;
        use proptest::prelude::*;
        extern crate std;
        use std::vec::Vec as StdVec;

        /// Mostly CRLF-terminated lines, with the bytes that matter to line scanning mixed in.
        fn head_bytes(max: usize) -> impl Strategy<Value = StdVec<u8>> {
            proptest::collection::vec(
                prop_oneof![
                    6 => Just(&b"\r\n"[..]),
                    1 => Just(&b"\r\n\r\n"[..]),
                    1 => Just(&b"\r"[..]),
                    1 => Just(&b"\n"[..]),
                    2 => Just(&b" "[..]),
                    1 => Just(&b"\t"[..]),
                    8 => Just(&b"a"[..]),
                    1 => Just(&b":"[..]),
                ],
                0..max,
            )
            .prop_map(|parts| parts.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn find_matches_oracle(hay in head_bytes(20), needle in head_bytes(3)) {
                prop_assert_eq!(find(&hay, &needle), oracle::find(&hay, &needle));
            }

            /// Fresh, resumed after a `None` on a prefix (the hint path), and resumed again
            /// on a longer prefix: always the byte loop's answer for the bytes present.
            #[test]
            fn scan_head_matches_oracle(buf in head_bytes(36), start in 0usize..8, limit in 0usize..80,
                                        cut in 0usize..80, cut2 in 0usize..80) {
                let start = start.min(buf.len());
                let mut hint = Hint::default();
                prop_assert_eq!(scan_head(&buf, start, limit, &mut hint), oracle::scan_head(&buf, start, limit));
                let cut = cut.clamp(start, buf.len());
                let cut2 = cut2.clamp(cut, buf.len());
                let mut hint = Hint::default();
                for end in [cut, cut2, buf.len()] {
                    let r = scan_head(&buf[..end], start, limit, &mut hint);
                    prop_assert_eq!(r, oracle::scan_head(&buf[..end], start, limit));
                    if r != Ok(None) {
                        break;
                    }
                }
            }

            /// A head complete by the old rule (a `\r\n\r\n` within reach) gets the old
            /// verdict; otherwise the only change is a fault reported early. A verdict on a
            /// prefix is the verdict on the whole.
            #[test]
            fn scan_head_refines_the_complete_head_rule(buf in head_bytes(36), start in 0usize..8,
                                                         limit in 0usize..80, cut in 0usize..80) {
                let start = start.min(buf.len());
                let new = scan_head(&buf, start, limit, &mut Hint::default());
                match oracle::scan_complete_head(&buf, start, limit) {
                    Ok(None) => prop_assert!(matches!(new, Ok(None) | Err(_)), "{:?}", new),
                    old => prop_assert_eq!(new, old),
                }
                let cut = cut.min(buf.len());
                let early = scan_head(&buf[..cut], start, limit, &mut Hint::default());
                if early != Ok(None) {
                    prop_assert_eq!(early, new);
                }
            }

            #[test]
            fn chunk_lines_match_oracle(line in proptest::collection::vec(prop_oneof![
                6 => proptest::sample::select(&b"0123456789abcdefABCDEFgG"[..]),
                1 => proptest::sample::select(&b" \t;=x\r\n\x00\x7f\x80\xff@`"[..]),
            ], 0..24)) {
                prop_assert_eq!(parse_chunk_line(&line), oracle::parse_chunk_line(&line));
            }

            #[test]
            fn field_vchar_matches_byte_rule(v in proptest::collection::vec(any::<u8>(), 0..40)) {
                prop_assert_eq!(all_field_vchar(&v), v.iter().all(|&b| is_field_vchar(b)));
                prop_assert_eq!(all_tchar(&v), v.iter().all(|&b| is_tchar(b)));
            }
        }
    }

    #[test]
    fn version_errors() {
        assert_eq!(version_error(b"HTTP/2.0").status(), 505);
        assert_eq!(version_error(b"HTTP/1.2").status(), 505);
        assert_eq!(version_error(b"HTTP/0.9").status(), 505);
        assert_eq!(version_error(b"HTTP/2").status(), 400);
        assert_eq!(version_error(b"HTTP/1.10").status(), 400);
        assert_eq!(version_error(b"HTTP/10.0").status(), 400);
        assert_eq!(version_error(b"HTTP/1.1 ").status(), 400);
        assert_eq!(version_error(b"HTTP/1.").status(), 400);
        assert_eq!(version_error(b"http/1.1").status(), 400);
        assert_eq!(version_error(b"HTTX/1.1").status(), 400);
        assert_eq!(version_error(b"").status(), 400);
    }
}
