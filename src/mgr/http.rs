//! HTTP/1.1 on a connection: the glue between the sans-IO framers in [`crate::http`] and the
//! manager (guarantee G4).
//!
//! Server side, one request at a time per connection: the next pipelined request is not
//! parsed until the response to the current one is complete. That keeps responses in order
//! even when they come later from another thread (through `mg_wakeup`), makes
//! `Connection: close` exact (nothing after that request is ever parsed) and lets a malformed
//! request be answered with its 4xx only after the earlier responses went out.
//!
//! "Complete" is judged on the bytes the application actually sends: every byte sent on a
//! server connection passes through [`OutTracker`], which frames the outgoing response with
//! the same response parser a client would use (Content-Length, chunked, 1xx interim,
//! 101 switch, read-until-close). So `mg_http_reply`, chunked replies and hand-written
//! `mg_printf` responses are all tracked alike. The tracker also adds `Connection: close`
//! when the request asked for it (or HTTP/1.0 without keep-alive) and the application did
//! not say so, adds `Connection: keep-alive` for HTTP/1.0 keep-alive, and drops the body of a
//! response to `HEAD`.

use crate::util::str::EqCi;
use alloc::vec::Vec;

use crate::http::{
    Bad, Body, Limits as HttpLimits, RequestHead, RequestParser, ResponseHead, ResponseParser, Step, Version,
};

extern crate alloc;

/// What the response being written answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReqCtx {
    pub head_method: bool,
    pub keep_alive: bool,
    pub http10: bool,
}

/// What happened to the tracked response during one `feed`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutEvents {
    /// The response to the armed request is complete.
    pub complete: bool,
    /// The connection must close once this response is flushed.
    pub close_after: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutMode {
    /// No request to answer: bytes pass through untouched.
    Idle,
    /// Collecting the head of the response.
    Head,
    /// Inside the body; `discard` for responses to HEAD.
    Body { discard: bool },
    /// After `101 Switching Protocols` or an unparseable response: untracked for good.
    Raw,
}

/// Frames outgoing response bytes (see the module docs).
#[derive(Debug)]
pub struct OutTracker {
    parser: ResponseParser,
    /// A request was armed since `parser` last framed a byte: it is made new before it
    /// frames one (`arm` itself does not, since a reply through [`reply`](Self::reply) or
    /// [`head_known`](Self::head_known), the usual way, never asks it).
    fresh: bool,
    /// What the response being framed answers: meaningful while `mode` is `Head` or
    /// `Body` (set by `arm`, the only way into them).
    ctx: ReqCtx,
    mode: OutMode,
    pending: Vec<u8>,
    /// Some byte of the current response was passed on.
    pub started: bool,
}

/// Limits for framing our own responses. The header cap sizes the array the framer fills
/// on every response (the benchmark showed 1024 entries costing 38% of a hello request), so
/// it matches `MG_MAX_HTTP_HEADERS`; a response head beyond it is passed through untracked
/// and the connection closes after it.
fn out_limits() -> HttpLimits {
    HttpLimits {
        max_headers: 100,
        max_head_bytes: 64 * 1024,
        max_uri_bytes: 64 * 1024,
        max_body: u64::MAX,
    }
}

/// The whole response `mg_http_reply` sends: `HTTP/1.1 <status> <reason>`, `headers` (zero or
/// more `Name: value\r\n` lines), `Content-Length`, the body. [`OutTracker::reply`] writes
/// the same bytes (plus the connection header the request calls for) without this copy.
pub fn reply_bytes(status: u16, headers: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(reply_len(status, headers, body.len()));
    write_reply_head(&mut out, status, headers, body.len(), b"");
    out.extend_from_slice(body);
    out
}

/// `mg_http_reply`'s `headers` once checked by [`reply_headers`]: complete
/// `Name: value\r\n` lines, and whether the reply fast path may write them as they are.
#[derive(Debug, Clone, Copy)]
pub struct ReplyHeaders<'a> {
    raw: &'a [u8],
    /// Fewer than [`PLAIN_LINES`] lines, none of them Content-Length, Transfer-Encoding or
    /// Connection: [`OutTracker::reply`] may write them without the response framer.
    plain: bool,
}

/// `mg_http_reply`'s headers are plain ([`ReplyHeaders`]) only with fewer lines than this.
const PLAIN_LINES: usize = 64;

impl<'a> ReplyHeaders<'a> {
    /// The checked text.
    pub fn bytes(&self) -> &'a [u8] {
        self.raw
    }
}

/// The last header text [`reply_headers`] accepted (up to 64 bytes) and its verdict. A
/// program passes the same few literal header strings on every reply; the same bytes get
/// the same verdict, so they are compared instead of checked again.
#[derive(Debug, Default)]
pub struct ReplyHeadersMemo {
    text: heapless::Vec<u8, 64>,
    plain: bool,
}

impl ReplyHeadersMemo {
    /// The verdict on `raw` if it is the text remembered.
    pub fn lookup<'a>(&self, raw: &'a [u8]) -> Option<ReplyHeaders<'a>> {
        (!self.text.is_empty() && self.text.as_slice() == raw).then_some(ReplyHeaders { raw, plain: self.plain })
    }

    /// Remember an accepted text (one of up to 64 bytes) for [`lookup`](Self::lookup).
    pub fn remember(&mut self, checked: ReplyHeaders<'_>) {
        if let Ok(text) = heapless::Vec::from_slice(checked.raw) {
            self.text = text;
            self.plain = checked.plain;
        }
    }
}

/// `mg_http_reply`'s `headers`, checked with the rule of `serve`'s extra headers
/// ([`crate::http::check_header_lines`]) but strictly: every line must be a complete
/// `Name: value\r\n`, the last one included. `MG_ERR_INVALID`, nothing sent, when they are
/// not (a missing CRLF would glue the next header onto the last one, as in
/// `X-A: 1Content-Length: 4`); that is also logged as an error, since Mongoose's
/// `mg_http_reply` returns nothing and ported programs do not look at the result.
///
/// One pass, [`check_header_lines`](crate::http::check_header_lines)'s own (the two checks
/// were written twice), which also finds whether the lines may skip the response framer
/// (see [`ReplyHeaders`]), so the fast path does not look at them again.
#[inline(never)]
pub fn reply_headers(raw: &[u8]) -> Result<ReplyHeaders<'_>, crate::error::Error> {
    let fault = match crate::http::message::header_lines(raw, PLAIN_LINES) {
        Some((false, plain)) => return Ok(ReplyHeaders { raw, plain }),
        // Each with the line's next piece: alone, both are exactly 32 bytes, and LLVM pools
        // 32-byte literals into one `.rodata.cst32` that GNU ld keeps whole (864 B, other
        // protocols' constants included) when one piece is used (scripts/merge_pools.py).
        Some((true, _)) => "the last header line has no CRLF), nothing sent: \"",
        None => "not complete `Name: value` lines), nothing sent: \"",
    };
    crate::mlog!(
        crate::log::LL_ERROR;
        "mg_http_reply: malformed headers (",
        fault,
        crate::log::Escaped(raw), // escaped as Debug would, without its Unicode tables
        "\""
    );
    Err(crate::error::Error::Invalid)
}

/// Decimal digits of `n`.
fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// `reply_bytes(status, headers, body).len()`, without building it.
pub fn reply_len(status: u16, headers: &[u8], body_len: usize) -> usize {
    crate::http::message::status_line_len(status)
        + headers.len()
        + "Content-Length: ".len()
        + digits(body_len)
        + 4
        + body_len
}

/// The head of `mg_http_reply`'s response, through the final CRLF, with `extra` (a
/// connection header line or nothing) after Content-Length, where the general path's
/// [`OutTracker`] inserts it.
fn write_reply_head(out: &mut Vec<u8>, status: u16, headers: &[u8], body_len: usize, extra: &[u8]) {
    out.reserve(96 + headers.len() + extra.len());
    crate::http::message::write_status_line(out, status);
    out.extend_from_slice(headers);
    // "Content-Length: <digits>\r\n" assembled right-aligned on the stack (digits from
    // the right, then the name before them): one copy into `out`.
    // A static, not a literal: a 16-byte literal would keep LLVM's `.rodata.cst16` pool
    // (see `crate::util::str::HEX_LOWER`); copied the same way (one 16-byte load).
    static NAME: [u8; 16] = *b"Content-Length: ";
    let mut line = [0u8; 16 + 20 + 2];
    let mut at = line.len() - 2;
    line[at..].copy_from_slice(b"\r\n");
    let mut n = body_len;
    loop {
        at -= 1;
        line[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at -= NAME.len();
    line[at..at + NAME.len()].copy_from_slice(&NAME);
    out.extend_from_slice(&line[at..]);
    out.extend_from_slice(extra);
    out.extend_from_slice(b"\r\n");
}

/// Whether `head` is a response head the framer would take as it is, framing a body of
/// `body_len` bytes by its Content-Length, with nothing it would add or act on: `HTTP/1.1`,
/// a status of 200..=999 other than 204 and 304, well-formed `Name: value` lines (at most
/// `out_limits()`'s count and size) among which exactly one `Content-Length` equal to
/// `body_len` and no `Connection` or `Transfer-Encoding`, the final empty line last. One
/// pass, as long as the framer's (the condition of [`OutTracker::head_known`], checked in
/// debug builds and tests; `serve` knows it of the heads it builds).
pub fn plain_head(head: &[u8], body_len: u64) -> bool {
    let limits = out_limits();
    if head.len() > limits.max_head_bytes || !head.ends_with(b"\r\n\r\n") {
        return false;
    }
    let status = match head {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'1', b' ', a, b, c, b' ', ..]
            if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return false,
    };
    if !(200..=999).contains(&status) || status == 204 || status == 304 {
        return false;
    }
    // The reason phrase, then the lines.
    let mut i = 13;
    while i < head.len() && crate::http::is_field_vchar_byte(head[i]) {
        i += 1;
    }
    if head.get(i..i + 2) != Some(b"\r\n") {
        return false;
    }
    i += 2;
    let mut digits = [0; 20];
    let want = crate::util::str::digits(body_len, 10, &mut digits).as_bytes();
    let (mut lines, mut lengths) = (0usize, 0usize);
    while i < head.len() - 2 {
        lines += 1;
        let n0 = i;
        while i < head.len() && crate::http::is_token_byte(head[i]) {
            i += 1;
        }
        if i == n0 || head.get(i) != Some(&b':') || lines > limits.max_headers {
            return false;
        }
        let name = &head[n0..i];
        i += 1;
        let v0 = i;
        while i < head.len() && crate::http::is_field_vchar_byte(head[i]) {
            i += 1;
        }
        if head.get(i..i + 2) != Some(b"\r\n") {
            return false;
        }
        let value = head[v0..i].trim_ascii();
        i += 2;
        if name.eq_ci(b"connection") || name.eq_ci(b"transfer-encoding") {
            return false;
        }
        if name.eq_ci(b"content-length") {
            lengths += 1;
            if value != want {
                return false;
            }
        }
    }
    i == head.len() - 2 && lengths == 1
}

/// Whether the comma list `value` has `token` (ASCII case-insensitive, whitespace around
/// items ignored), through the list splitter the static server uses too
/// ([`crate::util::str::piece`]).
fn has_token(value: Option<&[u8]>, token: &[u8]) -> bool {
    let Some(mut rest) = value else { return false };
    while let Some(t) = crate::util::str::piece(&mut rest, b',') {
        if t.eq_ci(token) {
            return true;
        }
    }
    false
}

impl Default for OutTracker {
    fn default() -> Self {
        OutTracker {
            parser: ResponseParser::new(out_limits()),
            fresh: false,
            ctx: ReqCtx {
                head_method: false,
                keep_alive: true,
                http10: false,
            },
            mode: OutMode::Idle,
            pending: Vec::new(),
            started: false,
        }
    }
}

impl OutTracker {
    /// Start tracking the response to a request.
    pub fn arm(&mut self, ctx: ReqCtx) {
        if self.mode == OutMode::Raw {
            return;
        }
        self.fresh = true;
        self.ctx = ctx;
        self.mode = OutMode::Head;
        self.started = false;
    }

    /// Pass `data` on to `out`, framing it. Bytes that cannot be framed yet (a partial head)
    /// are held back until the rest arrives.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> OutEvents {
        let mut ev = OutEvents::default();
        match self.mode {
            OutMode::Idle | OutMode::Raw => {
                out.extend_from_slice(data);
                return ev;
            }
            _ => {}
        }
        if core::mem::take(&mut self.fresh) {
            self.parser = ResponseParser::new(out_limits());
        }
        self.pending.extend_from_slice(data);
        let ctx = self.ctx;
        let mut pos = 0;
        loop {
            let buf = &self.pending[pos..];
            let discard = match self.mode {
                OutMode::Head => {
                    // (An empty body, below, still needs one more call to see its end.)
                    if buf.is_empty() {
                        break;
                    }
                    // Interim responses (100 Continue, 103) go out at once, untouched.
                    if buf.len() >= 12 && buf.starts_with(b"HTTP/1.") && buf[9] == b'1' && &buf[9..12] != b"101" {
                        // The head's end, out of a 5-byte literal: a 4-byte one would be pooled
                        // (`util::str::cut`).
                        const END: &[u8] = b"\r\n\r\n\r".split_at(4).0;
                        match crate::util::str::find(buf, END) {
                            Some(end) => {
                                out.extend_from_slice(&buf[..end + 4]);
                                self.started = true;
                                pos += end + 4;
                                continue;
                            }
                            None => break,
                        }
                    }
                    false
                }
                OutMode::Body { discard } => discard,
                OutMode::Idle | OutMode::Raw => {
                    // The response ended inside this call (or could not be framed): the
                    // rest is not part of any response we know of; pass it through.
                    out.extend_from_slice(buf);
                    pos = self.pending.len();
                    break;
                }
            };
            let (consumed, end) = match self.parser.step(buf) {
                Ok(Step::NeedMore) => break,
                Ok(Step::Head { consumed, head }) => {
                    self.write_head(&buf[..consumed], &head, ctx, out, &mut ev);
                    self.started = true;
                    pos += consumed;
                    if head.status == 101 {
                        self.mode = OutMode::Raw;
                        ev.complete = true;
                    } else if head.body == Body::None {
                        self.finish(&mut ev);
                    } else {
                        self.mode = OutMode::Body {
                            discard: ctx.head_method,
                        };
                    }
                    continue;
                }
                // A head comes first, then only body steps: the framer is new for each
                // response (`arm`). (Matched by kind, not bound whole: no drop of a step
                // that holds no head.)
                Ok(Step::Body { consumed, .. }) => (consumed, false),
                Ok(Step::End { consumed, .. }) => (consumed, true),
                Err(_) => {
                    // Not a response we can frame: hand everything through (the `Raw`
                    // arm above) and close after it, since where it ends is unknown.
                    self.mode = OutMode::Raw;
                    ev.complete = true;
                    ev.close_after = true;
                    continue;
                }
            };
            if !discard {
                out.extend_from_slice(&buf[..consumed]);
            }
            pos += consumed;
            if end {
                self.finish(&mut ev);
            }
        }
        self.pending.drain(..pos);
        if self.pending.is_empty() && self.pending.capacity() > 4096 {
            self.pending = Vec::new();
        }
        ev
    }

    /// `mg_http_reply`'s response to the armed request (`HTTP/1.1 <status> <reason>`, the
    /// application's `headers`, `Content-Length`, the body), written to `out` without
    /// building it first and parsing it back: the same bytes and events [`feed`](Self::feed)
    /// would give for it, at a fraction of the cost (the hello benchmark spent a third of its
    /// user time re-parsing its own responses). `None` when the general path must frame it:
    /// no request armed or part of a head already written, a status with its own framing
    /// rules (1xx, 204, 304), or `headers` that are not plain `Name: value\r\n` lines or that
    /// speak of framing or of the connection. Always inlined into its one caller
    /// ([`Mgr::http_reply`](crate::mgr::Mgr::http_reply)): a call's prologue, epilogue and
    /// argument copies were a fifth of its own instructions.
    #[inline(always)]
    pub fn reply(
        &mut self,
        status: u16,
        headers: ReplyHeaders<'_>,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<OutEvents> {
        if self.mode != OutMode::Head || !self.pending.is_empty() {
            return None;
        }
        let ctx = self.ctx;
        if !(200..=999).contains(&status) || status == 204 || status == 304 || !headers.plain {
            return None;
        }
        let headers = headers.raw;
        let extra: &[u8] = if !ctx.keep_alive {
            b"Connection: close\r\n"
        } else if ctx.http10 {
            b"Connection: keep-alive\r\n"
        } else {
            b""
        };
        write_reply_head(out, status, headers, body.len(), extra);
        if !ctx.head_method {
            out.extend_from_slice(body);
        }
        self.started = true;
        let mut ev = OutEvents {
            complete: false,
            close_after: !ctx.keep_alive,
        };
        self.finish(&mut ev);
        Some(ev)
    }

    /// [`feed_head_external_body`](Self::feed_head_external_body) for a head its maker
    /// knows to be plain ([`plain_head`] holds: `Content-Length: body_len`, nothing about the
    /// connection or the transfer coding), written without the response framer (static files
    /// build their head just before: parsing it back cost a quarter of a 1 KiB file request).
    /// The same bytes and events as the general path; `None` when that must frame it (no
    /// request armed, or part of a head already written).
    pub fn head_known(&mut self, head: &[u8], body_len: u64, out: &mut Vec<u8>) -> Option<(OutEvents, bool)> {
        debug_assert!(
            plain_head(head, body_len),
            "not a plain head: {:?}",
            head.escape_ascii()
        );
        if self.mode != OutMode::Head || !self.pending.is_empty() {
            return None;
        }
        let ctx = self.ctx;
        let extra: &[u8] = if !ctx.keep_alive {
            b"Connection: close\r\n"
        } else if ctx.http10 {
            b"Connection: keep-alive\r\n"
        } else {
            b""
        };
        splice_head(head, head.len() - 2, extra, out);
        self.started = true;
        let mut ev = OutEvents {
            complete: false,
            close_after: !ctx.keep_alive,
        };
        self.finish(&mut ev);
        Some((ev, body_len > 0 && !ctx.head_method))
    }

    /// A response whose body does not pass through here (a file sent with `sendfile`):
    /// frame and forward `head` alone, then count the response as complete. Returns the
    /// events and whether the body may be sent at all (not for HEAD, 1xx, 204, 304).
    pub fn feed_head_external_body(&mut self, head: &[u8], out: &mut Vec<u8>) -> (OutEvents, bool) {
        if self.mode != OutMode::Head {
            out.extend_from_slice(head);
            return (OutEvents::default(), true);
        }
        let head_method = self.ctx.head_method;
        let mut ev = self.feed(head, out);
        let send_body = matches!(self.mode, OutMode::Body { .. }) && !head_method;
        if matches!(self.mode, OutMode::Body { .. }) {
            // The framer is left inside the body: the next `arm` makes it new (`fresh`)
            // before it frames a byte, and nothing asks it before that.
            self.finish(&mut ev);
        }
        (ev, send_body)
    }

    /// After `101 Switching Protocols` (or bytes it could not frame) the connection no longer
    /// carries HTTP/1.1 responses.
    pub fn is_raw(&self) -> bool {
        self.mode == OutMode::Raw
    }

    fn finish(&mut self, ev: &mut OutEvents) {
        ev.complete = true;
        self.mode = OutMode::Idle;
    }

    fn write_head(&self, raw: &[u8], head: &ResponseHead, ctx: ReqCtx, out: &mut Vec<u8>, ev: &mut OutEvents) {
        let conn = head.header(raw, b"connection");
        let says_close = has_token(conn, b"close");
        let unframed = head.body == Body::UntilClose;
        let mut extra: &[u8] = b"";
        if (!ctx.keep_alive || unframed) && !says_close && head.status != 101 {
            extra = b"Connection: close\r\n";
        } else if ctx.keep_alive && ctx.http10 && !says_close && !has_token(conn, b"keep-alive") {
            extra = b"Connection: keep-alive\r\n";
        }
        if !ctx.keep_alive || unframed || says_close {
            ev.close_after = true;
        }
        let (split, extra) = if head.head.get(raw).len() < 2 {
            (0, &b""[..])
        } else {
            (head.head.end - 2, extra)
        };
        splice_head(raw, split, extra, out);
    }
}

/// `raw` into `out` with `extra` (a `Connection` field, or nothing) at `split` (before the
/// head's final CRLF): one copy of the code for both ways a head is written.
fn splice_head(raw: &[u8], split: usize, extra: &[u8], out: &mut Vec<u8>) {
    let (a, b) = raw.split_at(split.min(raw.len()));
    out.reserve(raw.len() + extra.len());
    out.extend_from_slice(a);
    out.extend_from_slice(extra);
    out.extend_from_slice(b);
}

/// Where a server connection is in its request/response cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for (the first byte of) the next request.
    Idle,
    /// Reading a request's head or body.
    InMessage,
    /// The whole request was delivered; waiting for the application's response.
    Awaiting,
}

/// Per-connection state of an HTTP server connection.
#[derive(Debug)]
pub struct HttpServer {
    pub parser: RequestParser,
    pub phase: Phase,
    pub ctx: Option<ReqCtx>,
    /// The head and (buffered) body of the message being read; spans in `head` are
    /// relative to its start.
    pub msg: Vec<u8>,
    pub head: Option<RequestHead>,
    /// Body bytes are delivered as `Event::HttpChunk` instead of buffered.
    pub streaming: bool,
    /// Largest body buffered for `Event::HttpMessage` (streamed bodies have no cap).
    pub max_body: u64,
    /// The response to the current request is complete.
    pub answered: bool,
    /// The response said (or implied) that the connection closes after it.
    pub close_after: bool,
    /// Bytes of `msg` that are the head (the body follows).
    pub head_len: usize,
    pub out: OutTracker,
    /// Something happened that the step function should look at.
    pub dirty: bool,
    /// When the current phase began (for the timeouts); in a body, when the last body byte
    /// arrived (the body timeout measures inactivity).
    pub since: u64,
    /// A byte of some request arrived on this connection. Until then an idle connection is
    /// still in its first head phase (head timeout from accept), not keep-alive idle.
    pub seen_request: bool,
    /// Unparsed bytes the parser last asked more for: more of them than that is activity.
    pub unparsed: usize,
    /// The current request is lent to the handler (`Event::HttpHeaders`/`HttpMessage` is
    /// being delivered): the window in which `Mgr::ws_upgrade` may switch protocols.
    pub lent: bool,
}

impl HttpServer {
    pub fn new(limits: HttpLimits, now: u64) -> HttpServer {
        // Heads are framed without a body cap: a handler may stream a body of any size. The
        // cap for a buffered body is set on the framer once the handler has decided (see
        // `http_server_step`) and checked against Content-Length after Event::HttpHeaders.
        let framer = HttpLimits {
            max_body: u64::MAX,
            ..limits
        };
        HttpServer {
            parser: RequestParser::new(framer),
            max_body: limits.max_body,
            phase: Phase::Idle,
            ctx: None,
            msg: Vec::new(),
            head: None,
            streaming: false,
            answered: false,
            close_after: false,
            head_len: 0,
            out: OutTracker::default(),
            dirty: false,
            since: now,
            seen_request: false,
            unparsed: 0,
            lent: false,
        }
    }

    /// Take in what the tracker saw of the application's bytes. True when the response just
    /// completed and the connection was not flagged for a step yet: the caller puts it on
    /// `Core::dirty` (the next pipelined request can now be read). Not while the request is
    /// lent to a handler (`lent`: its step is running and makes another round when the
    /// handler returns, which takes the answer; the only exception, a body refused with
    /// `413`, ends the connection): no flag and no list entry, which the next loop of
    /// `http_steps` would only find done (~30 instructions a request).
    pub fn note_out(&mut self, ev: OutEvents) -> bool {
        self.close_after |= ev.close_after;
        if !ev.complete {
            return false;
        }
        self.answered = true;
        !self.lent && !core::mem::replace(&mut self.dirty, true)
    }

    /// The connection must stay open though the peer finished sending: a response is owed.
    pub fn holds_open(&self) -> bool {
        self.phase == Phase::Awaiting && !self.answered
    }
}

/// The context of a response to `head`.
pub fn ctx_of(head: &RequestHead, msg: &[u8]) -> ReqCtx {
    ReqCtx {
        head_method: head.method.get(msg) == b"HEAD",
        keep_alive: head.keep_alive,
        http10: head.version == Version::Http10,
    }
}

/// Appends to `out` the error response the server sends on its own, then closes:
/// `HTTP/1.1 <status> <reason>`, `Content-Type: text/plain`, `Content-Length`,
/// `Connection: close`, and the body `<status> <reason>: <diagnostic>\n` (the head written
/// by [`write_reply_head`], as `mg_http_reply`'s).
pub(crate) fn write_error_response(out: &mut Vec<u8>, e: Bad) {
    let status = e.status();
    let mut buf = [0; crate::util::packed::MAX_TEXT];
    // The body starts with the status line's `<status> <reason>` (three digits, every
    // `Bad`'s status being in 400..=505): copied from the line once it is written, so
    // neither is written a second time here (the reason is decoded here only to measure it).
    let line = 4 + crate::http::message::status_reason_into(status, &mut buf).len();
    let text = e.text_into(&mut buf);
    let at = out.len() + b"HTTP/1.1 ".len();
    write_reply_head(
        out,
        status,
        b"Content-Type: text/plain\r\n",
        line + 2 + text.len() + 1,
        b"Connection: close\r\n",
    );
    out.extend_from_within(at..at + line);
    out.extend_from_slice(b": ");
    out.extend_from_slice(text);
    crate::util::push_byte(out, b'\n');
}

/// A protocol's step function (`Mgr::http_steps` calls it for a connection with new bytes).
/// The machines other than the HTTP server are reached only through the pointer their
/// constructor stores, never named by the loop: a program that never creates an HTTP client
/// or a WebSocket links none of their code (the footprint build's http-hello).
pub type StepFn = fn(&super::Mgr, crate::handle::Handle, u64);

/// Per-connection state of an HTTP client connection.
#[derive(Debug)]
pub struct HttpClient {
    /// `Mgr::http_client_step`.
    pub step: StepFn,
    pub parser: ResponseParser,
    pub msg: Vec<u8>,
    pub head: Option<ResponseHead>,
    pub head_len: usize,
    pub dirty: bool,
    /// A response is being read: some of it arrived, not all.
    pub active: bool,
    /// When the last byte of the response being read arrived (the body timeout).
    pub since: u64,
    /// Unparsed bytes the parser last asked more for.
    pub unparsed: usize,
}

impl HttpClient {
    pub fn new(limits: HttpLimits, step: StepFn) -> HttpClient {
        HttpClient {
            step,
            parser: ResponseParser::new(limits),
            msg: Vec::new(),
            head: None,
            head_len: 0,
            dirty: false,
            active: false,
            since: 0,
            unparsed: 0,
        }
    }
}

/// What a connection speaks above TCP.
#[derive(Debug, Default)]
pub enum Proto {
    #[default]
    Raw,
    HttpServer(alloc::boxed::Box<HttpServer>),
    HttpClient(alloc::boxed::Box<HttpClient>),
    /// A WebSocket, after the opening handshake (server: `Mgr::ws_upgrade`; client: the
    /// server's `101` was validated).
    Ws(alloc::boxed::Box<super::ws::WsState>),
    /// A WebSocket client waiting for the server's `101` (`Mgr::ws_connect`).
    WsClient(alloc::boxed::Box<super::ws::WsClientHs>),
    /// MQTT (`Mgr::mqtt_connect`, or accepted by `Mgr::mqtt_listen`).
    Mqtt(alloc::boxed::Box<super::mqtt::MqttState>),
}

/// What a listener gives the connections it accepts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ProtoKind {
    #[default]
    Raw,
    Http,
    Mqtt,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(ctx: ReqCtx, pieces: &[&[u8]]) -> (Vec<u8>, OutEvents) {
        let mut t = OutTracker::default();
        t.arm(ctx);
        let mut out = Vec::new();
        let mut all = OutEvents::default();
        for p in pieces {
            let ev = t.feed(p, &mut out);
            all.complete |= ev.complete;
            all.close_after |= ev.close_after;
        }
        (out, all)
    }

    const KA: ReqCtx = ReqCtx {
        head_method: false,
        keep_alive: true,
        http10: false,
    };

    #[test]
    fn content_length_response_completes_across_pieces() {
        let (out, ev) = track(KA, &[b"HTTP/1.1 200 OK\r\nContent-Len", b"gth: 5\r\n\r\nhel", b"lo"]);
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert!(ev.complete && !ev.close_after);
    }

    #[test]
    fn incomplete_body_is_not_complete() {
        let (_, ev) = track(KA, &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"]);
        assert!(!ev.complete);
    }

    #[test]
    fn close_request_gets_connection_close() {
        let ctx = ReqCtx {
            keep_alive: false,
            ..KA
        };
        let (out, ev) = track(ctx, &[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        assert!(ev.complete && ev.close_after);
    }

    #[test]
    fn http10_keep_alive_is_announced() {
        let ctx = ReqCtx { http10: true, ..KA };
        let (out, _) = track(ctx, &[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn head_response_body_is_dropped() {
        let ctx = ReqCtx {
            head_method: true,
            ..KA
        };
        let (out, ev) = track(ctx, &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"]);
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert!(ev.complete);
    }

    /// Every armed request gets a response framer of its own, though `arm` leaves making
    /// it to the first fed byte: a framer the last response left closed (`Connection:
    /// close`), in a body or failed frames the next response from scratch.
    #[test]
    fn each_armed_request_is_framed_from_scratch() {
        for first in [
            &b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ] {
            let mut t = OutTracker::default();
            t.arm(KA);
            let mut out = Vec::new();
            t.feed(first, &mut out);
            // The next request is answered by `reply` (no framer) and then by fed bytes.
            for via_reply in [false, true] {
                t.arm(KA);
                if via_reply {
                    let h = reply_headers(b"").unwrap();
                    assert!(t.reply(200, h, b"ok", &mut Vec::new()).is_some());
                    t.arm(KA);
                }
                let mut out = Vec::new();
                let ev = t.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", &mut out);
                if t.is_raw() {
                    // A framing error made the connection raw for good: that one may not recover.
                    break;
                }
                assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", "{first:?}");
                assert_eq!(
                    ev,
                    OutEvents {
                        complete: true,
                        close_after: false
                    }
                );
            }
        }
    }

    #[test]
    fn chunked_completes_on_last_chunk_and_interim_passes_at_once() {
        let mut t = OutTracker::default();
        t.arm(KA);
        let mut out = Vec::new();
        assert!(!t.feed(b"HTTP/1.1 100 Continue\r\n\r\n", &mut out).complete);
        assert_eq!(out, b"HTTP/1.1 100 Continue\r\n\r\n");
        assert!(
            !t.feed(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                &mut out
            )
            .complete
        );
        assert!(t.feed(b"0\r\n\r\n", &mut out).complete);
        assert!(out.ends_with(b"3\r\nabc\r\n0\r\n\r\n"));
    }

    #[test]
    fn unframed_response_closes_after() {
        let (out, ev) = track(KA, &[b"HTTP/1.1 200 OK\r\n\r\nstream..."]);
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstream"));
        assert!(ev.close_after && !ev.complete);
    }

    /// `OutTracker::reply` on unchecked header text: `None` where `reply_headers` refuses it.
    fn reply_raw(t: &mut OutTracker, status: u16, headers: &[u8], body: &[u8], out: &mut Vec<u8>) -> Option<OutEvents> {
        let headers = reply_headers(headers).ok()?;
        t.reply(status, headers, body, out)
    }

    /// `reply_headers` agrees with `check_header_lines` on what it accepts.
    #[test]
    fn reply_headers_accepts_what_check_header_lines_calls_complete() {
        for raw in [
            &b""[..],
            b"Content-Type: text/plain\r\n",
            b"A: 1\r\nB:\r\nC: \tx y\xe9\r\n",
            b"X-A: 1",
            b"A: 1\r\nB: 2",
            b"A:",
            b"A: 1\r",
            b"A: 1\n",
            b"A: 1\nB: 2\r\n",
            b"A: 1\rB: 2\r\n",
            b"A: 1\r\n\r\n",
            b"\r\n",
            b"A: 1\r\n B: 2\r\n",
            b"A : 1\r\n",
            b"A: \x7f\r\n",
            b"Connection: close\r\n",
        ] {
            assert_eq!(
                reply_headers(raw).is_ok(),
                crate::http::check_header_lines(raw) == Some(false),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    /// The server's own error reply, byte for byte (as `error_response` formatted it before
    /// `write_reply_head` wrote it): status line, type, length, close, the body.
    #[test]
    fn error_response_bytes() {
        let mut out = b"earlier".to_vec();
        write_error_response(&mut out, Bad::HeadTimedOut);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "earlierHTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n\
             Connection: close\r\n\r\n408 Request Timeout: request head timed out\n"
        );
        let mut out = Vec::new();
        write_error_response(&mut out, Bad::MissingHost);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\
             Connection: close\r\n\r\n400 Bad Request: missing Host\n"
        );
        // Every status a `Bad` has: the body starts with the status line's code and reason
        // (copied from the line), and Content-Length counts the body.
        for e in [
            Bad::ClAndTe,
            Bad::BodyTimedOut,
            Bad::BodyOverMaxBody,
            Bad::UriTooLong,
            Bad::TooManyHeaders,
            Bad::UnsupportedCoding,
            Bad::VersionNotSupported,
        ] {
            let mut out = b"before".to_vec();
            write_error_response(&mut out, e);
            let text = String::from_utf8(out).unwrap();
            let text = text.strip_prefix("before").unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let line = head.split("\r\n").next().unwrap();
            let code_reason = line.strip_prefix("HTTP/1.1 ").unwrap();
            assert!(code_reason.starts_with(&format!("{} ", e.status())), "{line}");
            assert!(code_reason.len() > 4, "{line}");
            assert_eq!(body, format!("{code_reason}: {}\n", e.text()));
            assert!(
                head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
                "{head}"
            );
        }
    }

    /// `reply_len` counts what `reply_bytes` writes, for every status (the common lines'
    /// lengths are taken whole, the others counted part by part).
    #[test]
    fn reply_len_is_the_length_of_reply_bytes() {
        for status in 100u16..=999 {
            for body_len in [0usize, 9, 10, 12345] {
                let body = vec![b'x'; body_len];
                let headers = b"Content-Type: text/plain\r\n";
                assert_eq!(
                    reply_len(status, headers, body_len),
                    reply_bytes(status, headers, &body).len(),
                    "{status} {body_len}"
                );
            }
        }
    }

    /// 63 header lines may take the fast path; 64 go through the framer (still accepted).
    #[test]
    fn reply_headers_are_plain_below_64_lines() {
        for (n, plain) in [(0, true), (63, true), (64, false), (65, false)] {
            let raw = "X-A: 1\r\n".repeat(n);
            let h = reply_headers(raw.as_bytes()).unwrap();
            assert_eq!(h.plain, plain, "{n} lines");
        }
    }

    /// The memo gives every text the verdict `reply_headers` gives it, whatever came before.
    #[test]
    fn reply_headers_memo_gives_the_same_verdicts() {
        let texts: [&[u8]; 6] = [
            b"Content-Type: text/plain\r\n",
            b"Content-Type: text/plain\r\n",
            b"Connection: close\r\n",
            b"Content-Type: text/plain",
            b"",
            b"Content-Type: text/plain\r\n",
        ];
        let mut memo = ReplyHeadersMemo::default();
        for _ in 0..2 {
            for t in texts {
                let want = reply_headers(t).map(|h| h.plain);
                let got = match memo.lookup(t) {
                    Some(h) => Ok(h),
                    None => reply_headers(t).inspect(|&h| memo.remember(h)),
                };
                assert_eq!(got.map(|h| h.plain), want, "{:?}", String::from_utf8_lossy(t));
            }
        }
    }

    /// The reply fast path writes exactly what the general path makes of `reply_bytes`.
    fn fast_equals_general(status: u16, headers: &[u8], body: &[u8], ctx: ReqCtx) -> bool {
        let mut fast = OutTracker::default();
        fast.arm(ctx);
        let mut fast_out = b"earlier".to_vec();
        let Some(fast_ev) = reply_raw(&mut fast, status, headers, body, &mut fast_out) else {
            return false;
        };
        let mut gen = OutTracker::default();
        gen.arm(ctx);
        let mut gen_out = b"earlier".to_vec();
        let gen_ev = gen.feed(&reply_bytes(status, headers, body), &mut gen_out);
        assert_eq!(
            String::from_utf8_lossy(&fast_out),
            String::from_utf8_lossy(&gen_out),
            "status {status} headers {:?} ctx {ctx:?}",
            String::from_utf8_lossy(headers)
        );
        assert_eq!(fast_ev, gen_ev);
        assert_eq!(
            reply_len(status, headers, body.len()),
            reply_bytes(status, headers, body).len()
        );
        assert_eq!((fast.mode, fast.ctx, fast.started), (gen.mode, gen.ctx, gen.started));
        true
    }

    #[test]
    fn reply_fast_path_matches_general_path() {
        for ctx in CTXS {
            for status in [200u16, 201, 302, 400, 404, 418, 500, 599, 999] {
                for headers in [&b""[..], b"Content-Type: text/plain\r\n", b"A: 1\r\nB:\r\nC: \tx y\r\n"] {
                    for body in [&b""[..], b"hello\n", &[0u8; 3000][..]] {
                        assert!(fast_equals_general(status, headers, body, ctx));
                    }
                }
            }
        }
    }

    #[test]
    fn reply_fast_path_declines_what_it_cannot_frame() {
        let decline = |status: u16, headers: &[u8]| {
            let mut t = OutTracker::default();
            t.arm(KA);
            let mut out = Vec::new();
            reply_raw(&mut t, status, headers, b"x", &mut out).is_none() && out.is_empty()
        };
        for status in [100, 101, 103, 199, 204, 304] {
            assert!(decline(status, b""), "{status}");
        }
        for h in [
            &b"Connection: close\r\n"[..],
            b"content-length: 1\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"X: 1\n",
            b"X: 1",
            b"X: a\rb\r\n",
            b"X: a\0\r\n",
            b"Bad Name: 1\r\n",
            b": 1\r\n",
            b" X: 1\r\n",
            b"NoColon\r\n",
        ] {
            assert!(decline(200, h), "{:?}", String::from_utf8_lossy(h));
        }
        // Not armed, or a head already begun by mg_printf: the general path frames it.
        let mut t = OutTracker::default();
        assert!(reply_raw(&mut t, 200, b"", b"", &mut Vec::new()).is_none());
        t.arm(KA);
        t.feed(b"HTTP/1.1 200 OK\r\n", &mut Vec::new());
        assert!(reply_raw(&mut t, 200, b"", b"", &mut Vec::new()).is_none());
    }

    proptest::proptest! {
        #[test]
        fn reply_fast_path_equals_general_path_on_any_input(
            status in 100u16..=999,
            headers in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Content-Type: text/plain\r\n", "X-A: b\r\n", "connection: keep-alive\r\n",
                    "Content-Length: 3\r\n", "X:\r\n", "Y: a\n", "\r\n", "Z: \x01\r\n", "Cache-Control: no-cache\r\n",
                ]),
                0..4,
            ),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            head_method: bool, keep_alive: bool, http10: bool,
        ) {
            let headers: String = headers.concat();
            let ctx = ReqCtx { head_method, keep_alive, http10 };
            proptest::prop_assert_eq!(
                reply_headers(headers.as_bytes()).is_ok(),
                crate::http::check_header_lines(headers.as_bytes()) == Some(false)
            );
            // Declining is always allowed; accepting must give the general path's bytes.
            fast_equals_general(status, headers.as_bytes(), &body, ctx);
        }
    }

    /// `head_known` on `head` gives what the framer makes of it (bytes, events, state), or
    /// declines without writing; true when it took the fast path.
    fn known_equals_general(head: &[u8], len: u64, ctx: ReqCtx) -> bool {
        if !plain_head(head, len) {
            return false;
        }
        let mut fast = OutTracker::default();
        fast.arm(ctx);
        let mut fast_out = b"earlier".to_vec();
        let Some(fast_ev) = fast.head_known(head, len, &mut fast_out) else {
            assert_eq!(fast_out, b"earlier");
            return false;
        };
        let mut gen = OutTracker::default();
        gen.arm(ctx);
        let mut gen_out = b"earlier".to_vec();
        let gen_ev = gen.feed_head_external_body(head, &mut gen_out);
        assert_eq!(
            String::from_utf8_lossy(&fast_out),
            String::from_utf8_lossy(&gen_out),
            "head {:?} ctx {ctx:?}",
            String::from_utf8_lossy(head)
        );
        assert_eq!(fast_ev, gen_ev, "head {:?} ctx {ctx:?}", String::from_utf8_lossy(head));
        assert_eq!((fast.mode, fast.ctx, fast.started), (gen.mode, gen.ctx, gen.started));
        true
    }

    /// The request contexts a response is framed for: keep-alive or not, HTTP/1.0, HEAD.
    const CTXS: [ReqCtx; 7] = [
        KA,
        ReqCtx {
            keep_alive: false,
            ..KA
        },
        ReqCtx { http10: true, ..KA },
        ReqCtx {
            http10: true,
            keep_alive: false,
            ..KA
        },
        ReqCtx {
            head_method: true,
            ..KA
        },
        ReqCtx {
            head_method: true,
            keep_alive: false,
            ..KA
        },
        ReqCtx {
            head_method: true,
            keep_alive: false,
            http10: true,
        },
    ];

    #[test]
    fn known_head_fast_path_matches_general_path() {
        let file = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\nAccept-Ranges: bytes\r\nETag: \"1.2-400\"\r\nX-A: \t1 \r\n\r\n";
        let part = b"HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/20\r\n\r\n";
        let empty = b"HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n";
        for ctx in CTXS {
            assert!(known_equals_general(file, 1024, ctx));
            assert!(known_equals_general(part, 10, ctx));
            assert!(known_equals_general(empty, 0, ctx));
        }
        // Declined: not what the framer would take as it is, or not framed by this length.
        for (head, len) in [
            (&file[..], 1000),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", 1),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                1,
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 01\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\n\r\n", 0),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 0),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n", 0),
            (b"HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\n\r\n", 0),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\nX: 1\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX : 1\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\rb\r\n\r\n", 1),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\r\n", 1),
            (b"HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\n", 1),
        ] {
            for ctx in CTXS {
                assert!(
                    !known_equals_general(head, len, ctx),
                    "{:?}",
                    String::from_utf8_lossy(head)
                );
            }
        }
        // Not armed, or a head already begun: declined.
        let mut t = OutTracker::default();
        assert!(t.head_known(part, 10, &mut Vec::new()).is_none());
        t.arm(KA);
        t.feed(b"HTTP/1.1 200 OK\r\n", &mut Vec::new());
        assert!(t.head_known(part, 10, &mut Vec::new()).is_none());
    }

    proptest::proptest! {
        #[test]
        fn known_head_fast_path_equals_general_path_on_any_input(
            status in 100u16..=999,
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Content-Type: text/plain\r\n", "Content-Length: 3\r\n", "content-length:3 \r\n",
                    "Content-Length: 4\r\n", "Connection: keep-alive\r\n", "X:\r\n", "Y: a\n", "\r\n",
                    "Z: \x01\r\n", "ETag: \"a\"\r\n", "Transfer-Encoding: chunked\r\n", "W: \u{e9}\r\n",
                ]),
                0..5,
            ),
            len in 0u64..5,
            head_method: bool, keep_alive: bool, http10: bool,
        ) {
            let head = alloc::format!("HTTP/1.1 {status} X\r\n{}\r\n", lines.concat());
            let ctx = ReqCtx { head_method, keep_alive, http10 };
            // Declining is always allowed; accepting must give the general path's bytes.
            known_equals_general(head.as_bytes(), len, ctx);
        }
    }

    #[test]
    fn garbage_passes_through_and_closes() {
        let (out, ev) = track(KA, &[b"hello there\r\n\r\n"]);
        assert_eq!(out, b"hello there\r\n\r\n");
        assert!(ev.complete && ev.close_after);
    }
}
