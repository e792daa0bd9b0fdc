//! The manager's HTTP steps: run the framers over received bytes, deliver `Event::HttpHeaders`
//! and `Event::HttpMessage`, answer framing errors, enforce the HTTP timeouts. See `http.rs`.

use crate::prelude::*;
use alloc::rc::Rc;
use alloc::vec::Vec;

use super::http::{ctx_of, write_error_response, HttpServer, Phase, Proto};
use super::{Conn, Event, Handler, HttpMessage, Limits, Mgr};
use crate::handle::Handle;
use crate::http::{Bad, Eof, Limits as HttpLimits, Step};

extern crate alloc;

/// Largest request buffer a server connection keeps for the next request (bigger ones, from
/// large buffered bodies, are freed once the request is over). Enough for a browser's request
/// head; small because every idle keep-alive connection holds it (G5: the echo benchmark's
/// whole idle connection is under 600 bytes).
const MSG_KEEP: usize = 2 * 1024;

/// The HTTP work of the loop (the server's request machine, the server and client
/// timeouts, the response framer that [`Mgr::send`] feeds, a server connection's state at
/// accept), reached through the function pointers that only [`Mgr::http_listen_with`] and
/// [`Mgr::connect_with`] install for [`ProtoKind::Http`] (as `mg_http_listen` and
/// `mg_http_connect` do): the loop names none of it, so a program without HTTP (tcp-echo)
/// does not link the HTTP framers (`--gc-sections` drops them).
///
/// [`ProtoKind::Http`]: super::http::ProtoKind::Http
#[derive(Clone, Copy, Debug)]
pub struct HttpHooks {
    pub(super) accepted: fn(HttpLimits, u64) -> Proto,
    pub(super) step: fn(&Mgr, Handle, u64),
    pub(super) timeouts: fn(&Mgr, u64),
    /// Bytes [`Mgr::send`] queues on a server connection, through its response framer;
    /// true when the connection must be stepped again.
    pub(super) feed: fn(&mut HttpServer, &[u8], &mut Vec<u8>) -> bool,
}

pub(super) const HTTP_HOOKS: HttpHooks = HttpHooks {
    accepted: |limits, now| Proto::HttpServer(alloc::boxed::Box::new(HttpServer::new(limits, now))),
    step: |m, h, now| m.http_server_step(h, now),
    timeouts: |m, now| m.http_timeouts_impl(now),
    feed: |hs, data, out| {
        let ev = hs.out.feed(data, out);
        hs.note_out(ev)
    },
};

impl crate::log::Put for Bad {
    /// `"<status> <reason>"`, as the [`HttpError`](crate::http::HttpError) it stands for.
    fn put(&self, out: &mut dyn crate::log::Out) {
        self.status().put(out);
        out.text(" ");
        // The bytes as they are (the texts are printable ASCII without quotes or
        // backslashes, checked where the table is built): no UTF-8 check linked for it.
        crate::log::Escaped(self.text_into(&mut [0; crate::util::packed::MAX_TEXT])).put(out);
    }
}

enum Act {
    Again,
    /// Deliver the request: `Event::HttpHeaders` after a head (`done` false), with `end`
    /// the step's time when the head has no body at all (`HttpMessage` may then follow in
    /// the same delivery, see `dispatch_request`); `Event::HttpMessage` once it is whole
    /// (`done`). `body_checks` when the head declares a body length or expects `100
    /// Continue` (only then is there anything to check after it).
    Deliver {
        done: bool,
        end: Option<u64>,
        body_checks: bool,
    },
    Chunk(Vec<u8>),
    Error(Bad),
}

/// Whether the server step stops on `c` (closing, closing started, draining a refused
/// body, or paused by the application): the step's own test, and `dispatch_request`'s
/// before it does the step's next round in its place. `|`, not `||`: four loads and one
/// branch (this runs about four times a request).
#[inline(always)]
fn step_stops(c: &Conn) -> bool {
    c.closing | c.close_started | c.draining | c.paused
}

impl Mgr {
    /// Run the HTTP machine of every connection that has something new (the handles on
    /// `Core::dirty`), until none has. Steps can flag connections again (a response that
    /// completes lets the next pipelined request be parsed); after 8 rounds whatever is
    /// still flagged waits for the next poll.
    pub(super) fn http_steps(&self, now: u64) {
        // Read once: hooks are never removed, and an HTTP server connection exists only once
        // they are installed (by the listen that made its listener).
        let server_step = self.core.borrow().http_hooks.map(|k| k.step);
        for _ in 0..8 {
            let dirty = {
                let mut core = self.core.borrow_mut();
                let mut spare = core::mem::take(&mut core.handle_scratch);
                spare.clear();
                core::mem::replace(&mut core.dirty, spare)
            };
            // An empty list ends the rounds, after the one `recycle` below.
            let done = dirty.is_empty();
            for &h in dirty.iter() {
                // Other machines through their stored step (see `http::StepFn`).
                let step = match self.core.borrow().conns.get(h).map(|c| &c.proto) {
                    // Flagged, then stepped since (the step clears the flag and runs until
                    // nothing is left to do, and only a set flag is ever put on the list): a
                    // response queued by a handler during the step flags it again, and the
                    // step's next round already took it.
                    Some(Proto::HttpServer(hs)) if !hs.dirty => continue,
                    Some(Proto::HttpServer(_)) => None,
                    Some(Proto::HttpClient(hc)) => Some(hc.step),
                    Some(Proto::Ws(ws)) => Some(ws.step),
                    Some(Proto::WsClient(wc)) => Some(wc.step),
                    Some(Proto::Mqtt(m)) => Some(m.step),
                    _ => continue,
                };
                // An HTTP server connection exists only once `HTTP_HOOKS` are installed.
                if let Some(step) = step.or(server_step) {
                    step(self, h, now);
                }
            }
            self.recycle(dirty);
            if done {
                return;
            }
        }
    }

    fn http_server_step(&self, h: Handle, now: u64) {
        loop {
            let act = {
                let mut core = self.core.borrow_mut();
                let Some(c) = core.conns.get_mut(h) else { return };
                if step_stops(c) {
                    if let Proto::HttpServer(hs) = &mut c.proto {
                        hs.dirty = false;
                    }
                    return;
                }
                let Conn {
                    proto: Proto::HttpServer(hs),
                    recv,
                    recv_off,
                    eof,
                    draining,
                    ..
                } = c
                else {
                    return;
                };
                hs.dirty = false;
                if hs.phase == Phase::Awaiting {
                    if !hs.answered {
                        return;
                    }
                    let keep = hs.ctx.is_some_and(|x| x.keep_alive) && !hs.close_after;
                    hs.phase = Phase::Idle;
                    hs.ctx = None;
                    hs.since = now;
                    if !keep {
                        *draining = true;
                        return;
                    }
                }
                // Only a body buffered for Event::HttpMessage has a cap, and whether it is
                // buffered is known once the handler saw Event::HttpHeaders (`head` is kept
                // until the message is dispatched). With the cap in the framer, a chunk that
                // would pass it is refused at its size line, not after its data came.
                let cap = if hs.head.is_some() && !hs.streaming {
                    hs.max_body
                } else {
                    u64::MAX
                };
                hs.parser.set_max_body(cap);
                let data = &recv[*recv_off..];
                if data.is_empty() && hs.phase == Phase::Idle && !*eof {
                    // Between requests with nothing received: the framer could only say
                    // NeedMore (this is the step after each response completes).
                    hs.unparsed = 0;
                    return;
                }
                // The head goes straight into `hs.head` (no move of it through the step).
                match hs.parser.parse_into(data, &mut hs.head) {
                    Ok(Step::NeedMore) => {
                        if *eof {
                            // The peer finished sending: a partial request is never delivered;
                            // whatever was already answered still goes out before the close.
                            *draining = true;
                            return;
                        } else {
                            if !data.is_empty() && hs.phase == Phase::Idle {
                                hs.phase = Phase::InMessage;
                                hs.since = now;
                                hs.seen_request = true;
                            }
                            // In a body, any new byte (even part of a chunk-size line) is
                            // activity for the body timeout.
                            if hs.head.is_some() && data.len() > hs.unparsed {
                                hs.since = now;
                            }
                            hs.unparsed = data.len();
                            return;
                        }
                    }
                    Ok(Step::Head { consumed, .. }) => {
                        let Some(head) = hs.head.as_ref() else { return };
                        hs.msg.clear();
                        hs.msg.extend_from_slice(&data[..consumed]);
                        hs.head_len = consumed;
                        *recv_off += consumed;
                        let ctx = ctx_of(head, &hs.msg);
                        hs.ctx = Some(ctx);
                        hs.answered = false;
                        hs.close_after = false;
                        hs.streaming = false;
                        hs.out.arm(ctx);
                        let body_checks = matches!(head.body, crate::http::Body::Length(_)) || head.expect_continue;
                        let bodyless = matches!(head.body, crate::http::Body::None) && !head.expect_continue;
                        hs.phase = Phase::InMessage;
                        hs.since = now;
                        hs.seen_request = true;
                        hs.unparsed = 0;
                        Act::Deliver {
                            done: false,
                            end: bodyless.then_some(now),
                            body_checks,
                        }
                    }
                    Ok(Step::Body { consumed, data: span }) => {
                        let piece = span.get(data);
                        *recv_off += consumed;
                        hs.since = now;
                        hs.unparsed = 0;
                        if hs.streaming {
                            Act::Chunk(piece.to_vec())
                        } else if (hs.msg.len() - hs.head_len + piece.len()) as u64 > hs.max_body {
                            Act::Error(Bad::BodyOverMaxBody)
                        } else {
                            hs.msg.extend_from_slice(piece);
                            Act::Again
                        }
                    }
                    Ok(Step::End { consumed, .. }) => {
                        *recv_off += consumed;
                        hs.phase = Phase::Awaiting;
                        hs.since = now;
                        hs.unparsed = 0;
                        Act::Deliver {
                            done: true,
                            end: None,
                            body_checks: false,
                        }
                    }
                    Err(e) => Act::Error(e),
                }
            };
            let e = match act {
                Act::Again => continue,
                Act::Deliver { done, end, body_checks } => {
                    self.dispatch_request(h, done, end);
                    if !body_checks {
                        continue;
                    }
                    let Some(e) = self.after_head(h) else { continue };
                    e
                }
                Act::Chunk(piece) => {
                    self.dispatch(h, Event::HttpChunk(&piece));
                    continue;
                }
                Act::Error(e) => e,
            };
            self.http_error(h, e);
            return;
        }
    }

    /// Answer a framing error (unless a response already started) and close after it.
    #[inline(never)]
    fn http_error(&self, h: Handle, e: Bad) {
        crate::mlog!(crate::log::LL_DEBUG; "conn ", h.serial(), ": bad request: ", e);
        let mut core = self.core.borrow_mut();
        if let Some(c) = core.conns.get_mut(h) {
            // The request being read already got (or is getting) its response from the
            // handler: a second one would be taken as the answer to the next request.
            let responded = matches!(&c.proto, Proto::HttpServer(hs) if hs.ctx.is_some() && hs.out.started);
            if !responded && !c.closing {
                write_error_response(c.out_buf(), e);
            }
            c.draining = true;
            c.recv_off = c.recv.len(); // nothing after a bad request is read
        }
    }

    /// After `Event::HttpHeaders` of a head that declares a body length or expects `100
    /// Continue`, in one look at the connection: a declared body over the cap is refused at
    /// once (`Some`, for `http_error`) unless the handler chose to stream it (or already
    /// answered); else, for `Expect: 100-continue` when the handler did not answer, the
    /// client is told to send the body.
    fn after_head(&self, h: Handle) -> Option<Bad> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h)?;
        let Proto::HttpServer(hs) = &c.proto else { return None };
        let head = hs.head.as_ref()?;
        if let crate::http::Body::Length(n) = head.body {
            if !hs.streaming && !hs.out.started && n > hs.max_body {
                return Some(Bad::BodyOverMaxBody);
            }
        }
        if head.expect_continue && !hs.out.started && !hs.answered && !c.closing {
            c.out_buf().extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        None
    }

    /// Deliver the current request (`HttpHeaders`, or `HttpMessage` when `done`). The
    /// message and the head's header vector are lent to the handler: moved out of the
    /// connection for the call (no borrow of the state may be held across it, and nothing
    /// else reads them meanwhile) and put back afterwards, so their allocations serve the
    /// next request too. The rest of the head is a few spans, copied; the head itself stays
    /// (a move of the whole `RequestHead` there and back cost about 100 instructions a
    /// request). For `HttpMessage` the request is over: the head is dropped in the look after
    /// the call (no one reads it while the request is lent; dropped before the call, the
    /// head's spans were kept across a drop call, 150 B more code), and only the emptied
    /// buffers go back.
    ///
    /// `end` (the step's time), for the head of a request without a body: the handler gets
    /// `HttpHeaders` and then, in the same call ([`Handler::handle_http`]: the C adapter
    /// builds its view once for both), `HttpMessage` with the same lent buffers, when the
    /// look between (`bodyless_next`) finds the connection as the step's next round
    /// would find it able to go on, and does that round's work (one take and put-back, one
    /// round of the step fewer). Otherwise the buffers go back as for `HttpHeaders` alone
    /// and the step's next round decides.
    fn dispatch_request(&self, h: Handle, done: bool, end: Option<u64>) {
        // One look at the connection before the event and one after (this runs twice per
        // request): take the message out and mark it lent; then put it back, or see that
        // the handler switched the connection to a WebSocket.
        // The handler is cloned out in the first look too (as `dispatch` would, in a look
        // of its own): `None` once the connection is closing (`Conn::takes_events`).
        let (msg, headers, span, parts, head_len, f) = {
            let mut core = self.core.borrow_mut();
            let Some(c) = core.conns.get_mut(h) else { return };
            let f = c.takes_events().then(|| c.handler.clone());
            let Proto::HttpServer(hs) = &mut c.proto else { return };
            let Some(head) = hs.head.as_mut() else { return };
            let headers = core::mem::take(&mut head.headers);
            let span = head.head;
            let parts = [Some(head.method), Some(head.uri), head.query, Some(head.proto)];
            hs.lent = true;
            (core::mem::take(&mut hs.msg), headers, span, parts, hs.head_len, f)
        };
        let hm = HttpMessage::new(&msg, span, head_len, parts, &headers);
        let mut done = done;
        if let Some(f) = &f {
            // `HttpHeaders` of a head without a body: then (decided by `bodyless_next`, the
            // look between) its `HttpMessage`, in the same call of the handler.
            debug_assert!(self.is_busy(), "delivered outside a poll");
            f.handle_http(self, h, &hm, done, &mut || {
                end.is_some_and(|now| self.bodyless_next(h, now, f, &mut done))
            });
        }
        // Let go of the handler here, once (not on each way out below).
        drop(f);
        let ws_open = {
            let mut core = self.core.borrow_mut();
            let Some(c) = core.conns.get_mut(h) else { return };
            match &mut c.proto {
                Proto::HttpServer(hs) => {
                    hs.lent = false;
                    // Swapped back into place: what the locals hold then (the empty vectors
                    // taken for the call, a buffer too big to keep) is dropped in one place.
                    let (mut msg, mut headers) = (msg, headers);
                    if done {
                        // The request is over (nothing reads its head while it is lent).
                        hs.head = None;
                        hs.parser.recycle_into(&mut headers);
                        msg.clear();
                        if msg.capacity() > MSG_KEEP {
                            msg = Vec::new();
                        }
                    } else if let Some(head) = hs.head.as_mut() {
                        core::mem::swap(&mut head.headers, &mut headers);
                    }
                    core::mem::swap(&mut hs.msg, &mut msg);
                    return;
                }
                // `Mgr::ws_upgrade` switched the connection during that event.
                Proto::Ws(ws) => core::mem::replace(&mut ws.open_pending, false),
                _ => false,
            }
        };
        if ws_open {
            // The upgrade request is the WebSocket's opening event, then the bytes that
            // came after it.
            self.dispatch(h, Event::WsOpen(&hm));
            self.core.borrow_mut().mark_dirty(h);
        }
    }

    /// The look between a bodyless request's `HttpHeaders` (delivered to `f`) and its
    /// `HttpMessage` (see [`Handler::handle_http`]). When the handler left the connection
    /// as the step's next round would find it able to go on (open, not paused, not
    /// draining, still HTTP, still with `f` as its handler), that round's work is done
    /// here: the framer's `End { consumed: 0 }` (`end_complete` is what its `parse_into`
    /// would do; a message without a body ends without looking at the bytes or at the
    /// body cap set before a parse), the request is over (`*done`), and `HttpMessage` goes
    /// to `f` (`true`). Otherwise `false`, and the step's next round decides (with a new
    /// handler, that round delivers `HttpMessage` to it).
    fn bodyless_next(&self, h: Handle, now: u64, f: &Rc<dyn Handler>, done: &mut bool) -> bool {
        let mut core = self.core.borrow_mut();
        let Some(c) = core.conns.get_mut(h) else { return false };
        if step_stops(c) {
            return false;
        }
        let Conn {
            proto: Proto::HttpServer(hs),
            handler,
            ..
        } = c
        else {
            return false;
        };
        if !Rc::ptr_eq(handler, f) {
            return false;
        }
        hs.dirty = false;
        if hs.parser.end_complete().is_none() {
            return false;
        }
        hs.phase = Phase::Awaiting;
        hs.since = now;
        hs.unparsed = 0;
        // (The head is dropped by `dispatch_request` when the buffers come back: `done`.)
        *done = true;
        true
    }

    pub(super) fn http_client_step(&self, h: Handle, now: u64) {
        loop {
            enum C {
                Hdrs,
                Msg,
                Again,
                Fail(String),
            }
            let act = {
                let mut core = self.core.borrow_mut();
                let Some(c) = core.conns.get_mut(h) else { return };
                let closing = c.closing || c.close_started;
                let Conn {
                    proto: Proto::HttpClient(hc),
                    recv,
                    recv_off,
                    eof,
                    ..
                } = c
                else {
                    return;
                };
                hc.dirty = false;
                if closing {
                    return;
                }
                let data = &recv[*recv_off..];
                match hc.parser.parse(data) {
                    Ok(Step::NeedMore) => {
                        if !*eof {
                            // New bytes of a response: it is being read (body timeout).
                            if data.len() > hc.unparsed {
                                hc.active = true;
                                hc.since = now;
                            }
                            hc.unparsed = data.len();
                            return;
                        }
                        match hc.parser.finish_on_eof(data.len()) {
                            Ok(Eof::Complete) => {
                                hc.active = false;
                                C::Msg
                            }
                            Ok(Eof::Clean) => return,
                            Err(e) => C::Fail(format!("HTTP response cut short: {}", e.reason)),
                        }
                    }
                    Ok(Step::Head { consumed, head }) => {
                        hc.msg.clear();
                        hc.msg.extend_from_slice(&data[..consumed]);
                        hc.head_len = consumed;
                        hc.head = Some(head);
                        *recv_off += consumed;
                        hc.active = true;
                        hc.since = now;
                        hc.unparsed = 0;
                        C::Hdrs
                    }
                    Ok(Step::Body { consumed, data: span }) => {
                        hc.msg.extend_from_slice(span.get(data));
                        *recv_off += consumed;
                        hc.since = now;
                        hc.unparsed = 0;
                        C::Again
                    }
                    Ok(Step::End { consumed, .. }) => {
                        *recv_off += consumed;
                        hc.active = false;
                        hc.unparsed = 0;
                        C::Msg
                    }
                    Err(e) => C::Fail(format!("malformed HTTP response: {} {}", e.status, e.reason)),
                }
            };
            match act {
                C::Again => {}
                C::Fail(msg) => {
                    self.fail(h, &msg);
                    return;
                }
                C::Hdrs | C::Msg => {
                    let take = matches!(act, C::Msg);
                    let got = {
                        let mut core = self.core.borrow_mut();
                        let Some(Conn {
                            proto: Proto::HttpClient(hc),
                            ..
                        }) = core.conns.get_mut(h)
                        else {
                            return;
                        };
                        let head = if take { hc.head.take() } else { hc.head.clone() };
                        let msg = if take {
                            core::mem::take(&mut hc.msg)
                        } else {
                            hc.msg[..hc.head_len].to_vec()
                        };
                        head.map(|hd| (msg, hd, hc.head_len))
                    };
                    let Some((msg, head, head_len)) = got else { return };
                    let hm = HttpMessage::new(
                        &msg,
                        head.head,
                        head_len,
                        [Some(head.proto), Some(head.code), None, Some(head.reason)],
                        &head.headers,
                    );
                    self.dispatch(
                        h,
                        if take {
                            Event::HttpMessage(&hm)
                        } else {
                            Event::HttpHeaders(&hm)
                        },
                    );
                    let eof = self.core.borrow().conns.get(h).is_none_or(|c| c.eof);
                    if take && eof {
                        return;
                    }
                }
            }
        }
    }

    /// Slowloris protection (the deadlines are those of [`http_due`]): a request head that
    /// takes too long gets 408, a connection that sends nothing at all after accept is closed,
    /// as is an idle keep-alive connection; a request body that stops gets 408, a response
    /// that stops fails the client connection (`Event::Error`). While reading is paused on
    /// our side the clocks do not run: they restart when reading resumes. Through
    /// `HttpHooks::timeouts` ([`Mgr::check_deadlines`], once per millisecond).
    ///
    /// The scan of every connection, skipped while `Core::http_quiet_until` says that it
    /// would find nothing to do (see there); each scan that finds no connection paused on
    /// our side sets it again.
    fn http_timeouts_impl(&self, now: u64) {
        let mut stalled = Vec::new();
        {
            let mut core = self.core.borrow_mut();
            let core = &mut *core;
            if now < core.http_quiet_until {
                return;
            }
            // Borrowed, not copied (the 160-byte `Limits` copy cost code and stack).
            let l = &core.limits;
            // A deadline set after this scan is `since + timeout` with `since >= now`.
            let shortest = l
                .http_head_timeout_ms
                .min(l.http_idle_timeout_ms)
                .min(l.http_body_timeout_ms);
            let mut quiet_until = now.saturating_add(shortest).saturating_add(1);
            for (h, c) in core.conns.iter_mut() {
                if matches!(c.proto, Proto::Raw | Proto::Ws(_) | Proto::WsClient(_) | Proto::Mqtt(_))
                    || c.closing
                    || c.draining
                {
                    continue;
                }
                if reading_paused(c, l) {
                    // Its clocks restart from each scan: scan every millisecond meanwhile.
                    quiet_until = 0;
                    match &mut c.proto {
                        Proto::HttpServer(hs) => hs.since = now,
                        Proto::HttpClient(hc) => hc.since = now,
                        // WebSockets are under no HTTP timeout (their keep-alive is their own).
                        Proto::Raw | Proto::Ws(_) | Proto::WsClient(_) | Proto::Mqtt(_) => {}
                    }
                    continue;
                }
                let Some((at, due)) = http_due(c, l) else { continue };
                if now <= at {
                    quiet_until = quiet_until.min(at.saturating_add(1));
                    continue;
                }
                match due {
                    Due::Fresh | Due::Idle => c.closing = true,
                    Due::Head => {
                        write_error_response(c.out_buf(), Bad::HeadTimedOut);
                        c.draining = true;
                    }
                    Due::Body => {
                        // The earlier (pipelined) responses are queued before the 408 and go
                        // out first; if the handler already began answering this request,
                        // a 408 would be taken for the next response: just end after it.
                        let responded = c.http_server().is_some_and(|hs| hs.out.started);
                        if !responded {
                            write_error_response(c.out_buf(), Bad::BodyTimedOut);
                        }
                        c.draining = true;
                        c.recv_off = c.recv.len();
                    }
                    Due::Response => stalled.push(h),
                }
            }
            core.http_quiet_until = quiet_until;
        }
        if !stalled.is_empty() {
            let ms = self.core.borrow().limits.http_body_timeout_ms;
            for h in stalled {
                self.fail_with(h, &[&"HTTP response timed out: no data for ", &ms, &" ms"]);
            }
        }
    }
}

/// Which HTTP read timeout a connection is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// Accepted, not one byte received yet: the head timeout, from accept.
    Fresh,
    /// Keep-alive, between requests: the idle timeout.
    Idle,
    /// Inside a request head: the head timeout, from its first byte.
    Head,
    /// Inside a request body: the body timeout, from the last byte received.
    Body,
    /// Client, inside a response: the body timeout, from the last byte received.
    Response,
}

/// Reading is paused on our side (`mg_recv_pause`, or `max_recv` unconsumed bytes): the
/// peer is not the one keeping us waiting.
fn reading_paused(c: &Conn, l: &Limits) -> bool {
    c.paused || c.recv_pending().len() >= l.max_recv
}

/// The HTTP read timeout `c` is under: it fires once the clock passes the returned time.
/// `None` while nothing is awaited from the peer (a response is owed by the application,
/// the connection is closing or paused on our side, bytes wait to be parsed).
pub(super) fn http_due(c: &Conn, l: &Limits) -> Option<(u64, Due)> {
    // Asked for every connection on every poll: most are not HTTP ones waiting for bytes.
    if !matches!(&c.proto, Proto::HttpServer(_) | Proto::HttpClient(_))
        || c.closing
        || c.draining
        || c.close_started
        || reading_paused(c, l)
    {
        return None;
    }
    let (since, timeout, due) = match &c.proto {
        Proto::HttpServer(hs) => {
            let (timeout, due) = match hs.phase {
                Phase::Idle if !c.recv_pending().is_empty() => return None,
                Phase::Idle if !hs.seen_request => (l.http_head_timeout_ms, Due::Fresh),
                Phase::Idle => (l.http_idle_timeout_ms, Due::Idle),
                Phase::InMessage if hs.head.is_none() => (l.http_head_timeout_ms, Due::Head),
                Phase::InMessage => (l.http_body_timeout_ms, Due::Body),
                Phase::Awaiting => return None,
            };
            (hs.since, timeout, due)
        }
        Proto::HttpClient(hc) if hc.active => (hc.since, l.http_body_timeout_ms, Due::Response),
        _ => return None,
    };
    Some((since.saturating_add(timeout), due))
}
