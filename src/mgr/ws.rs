//! WebSocket on a connection: the glue between the sans-IO machine in [`crate::ws`] and the
//! manager.
//!
//! Server: an HTTP connection is switched by [`Mgr::ws_upgrade`] during the
//! `HttpHeaders`/`HttpMessage` event of the upgrade request; the `101` goes out through the
//! HTTP response tracker (which stops tracking after it), the connection's protocol becomes
//! [`Proto::Ws`], and [`Event::WsOpen`] is delivered right after that event returns, with
//! the same request. Bytes received after the request head are the WebSocket's first bytes.
//!
//! Client: [`Mgr::ws_connect`] queues the upgrade request (it goes out once connected, after
//! the TLS handshake for `wss://`), reads the response head in [`Proto::WsClient`], validates
//! the `101` and switches to [`Proto::Ws`], then delivers [`Event::WsOpen`] with the response.
//!
//! Received bytes are fed to [`WsConn::feed`] one event at a time. A message that arrived
//! whole in one frame is lent to the handler straight out of the receive buffer (moved out of
//! the connection for the call, as HTTP messages are, so no borrow of the manager is alive:
//! G7); a reassembled or decompressed one is copied once into a per-connection buffer that is
//! lent the same way. Automatic replies (pong, close echo, close on a protocol error) go into
//! the send buffer; after the closing handshake or a protocol error the connection drains and
//! closes (one `Event::Close`, G3). WebSockets are under none of the HTTP timeouts.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::fmt;

use super::http::{Proto, ProtoKind};
use super::wakeup::Msg;
use super::{writable, Conn, Event, Handler, HttpMessage, Mgr, ProtoHooks};
use crate::error::Error;
use crate::handle::Handle;
use crate::http::{ResponseParser, Step};
#[cfg(feature = "ws-deflate")]
use crate::ws::deflate::{self, DeflateConfig};
use crate::ws::keepalive::{KeepAlive, KeepAliveAction};
use crate::ws::{
    handshake, Config, Role, SendError, State as WsPhase, WsConn, WEBSOCKET_OP_BINARY, WEBSOCKET_OP_CLOSE,
    WEBSOCKET_OP_CONTINUE, WEBSOCKET_OP_PING, WEBSOCKET_OP_PONG, WEBSOCKET_OP_TEXT,
};

extern crate alloc;

/// The loop's WebSocket work that is not per received byte (queued sends from other
/// threads, keep-alive and closing deadlines), reached through the functions that only
/// [`Mgr::ws_upgrade_parts`] and [`Mgr::ws_connect`] install on their manager (as
/// [`super::http::StepFn`] is for received bytes; see [`ProtoHooks`]): the poll loop names
/// no WebSocket code, so a program that never opens a WebSocket does not link the frame
/// encoder, the keep-alive machine or permessage-deflate (`--gc-sections` drops them).
const WS_HOOKS: ProtoHooks = ProtoHooks {
    due: |conns, l| conns.iter().map(|(_, c)| ws_due(c, l)).min().unwrap_or(u64::MAX),
    timeouts: |m, now| m.ws_timeouts_impl(now),
    deliver: |m, msg| m.ws_deliver_impl(msg),
    accepted: None,
};

/// Per-connection state of an open WebSocket.
pub struct WsState {
    /// `Mgr::ws_step` (see [`super::http::StepFn`]).
    pub step: super::http::StepFn,
    pub conn: WsConn,
    /// Received bytes wait for [`Mgr::ws_step`].
    pub dirty: bool,
    /// Server: switched by `ws_upgrade`, `Event::WsOpen` not delivered yet.
    pub open_pending: bool,
    /// Lent to the handler for messages the machine reassembled (kept for its allocation).
    lend: Vec<u8>,
    /// Keep-alive (`ws_ping_interval_ms`), set up at the first deadline scan.
    keepalive: Option<KeepAlive>,
    /// Bytes arrived since the last deadline scan (the peer is alive).
    rx_seen: bool,
    /// When the closing handshake (or the drain after it) must be over.
    close_deadline: Option<u64>,
}

impl WsState {
    fn new(conn: WsConn, open_pending: bool) -> WsState {
        WsState {
            step: |m, h, _| m.ws_step(h),
            conn,
            dirty: false,
            open_pending,
            lend: Vec::new(),
            keepalive: None,
            rx_seen: false,
            close_deadline: None,
        }
    }
}

impl fmt::Debug for WsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsState")
            .field("role", &self.conn.role())
            .field("state", &self.conn.state())
            .field("compressed", &self.conn.is_compressed())
            .finish()
    }
}

/// A WebSocket client waiting for the server's `101`.
pub struct WsClientHs {
    /// `Mgr::ws_client_step` (see [`super::http::StepFn`]).
    pub step: super::http::StepFn,
    pub dirty: bool,
    key: [u8; 24],
    /// Subprotocols offered (from the application's `Sec-WebSocket-Protocol` header).
    protocols: Vec<Vec<u8>>,
    parser: ResponseParser,
    /// Seed of the masking keys of the connection to be.
    seed: [u8; 16],
    /// When the opening handshake must be done (0: not set yet; set at the first deadline
    /// scan after `ws_connect`, so no clock is read here).
    deadline: u64,
}

impl fmt::Debug for WsClientHs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsClientHs").field("dirty", &self.dirty).finish()
    }
}

/// Our permessage-deflate settings: offered (client) and accepted (server) by default.
/// Every data message is compressed once the extension is in use, short ones too: peers
/// handle per-message compression unevenly (Autobahn's `kosoku` 12.x/13.x cases fail on an
/// uncompressed short text echo, a bug of the tester), and with context takeover a short
/// message usually compresses to a back-reference anyway.
#[cfg(feature = "ws-deflate")]
fn deflate_config() -> DeflateConfig {
    DeflateConfig {
        min_compress_len: 0,
        ..DeflateConfig::default()
    }
}

/// When the WebSocket deadlines of `c` next need a look (`Mgr::ws_timeouts_impl`);
/// `u64::MAX` for none. Used by the poll to bound its wait (`ProtoHooks::due`). A deadline
/// that applies but is not set up yet (the keep-alive of a new WebSocket, the closing
/// timeout once the closing handshake began, a client's handshake timeout) is set up by
/// the next scan, so it is due now (0): else a poll that may wait for ever (`poll(-1)`)
/// with a silent peer would never start it.
fn ws_due(c: &Conn, l: &super::Limits) -> u64 {
    if c.closing {
        return u64::MAX; // the scan leaves it alone; it closes at the end of this poll
    }
    match &c.proto {
        Proto::Ws(ws) if c.draining || ws.conn.state() != WsPhase::Open => ws.close_deadline.unwrap_or(0),
        Proto::Ws(ws) if l.ws_ping_interval_ms > 0 => ws.keepalive.as_ref().map_or(0, KeepAlive::poll_at),
        Proto::WsClient(wc) if l.ws_handshake_timeout_ms > 0 => wc.deadline,
        _ => u64::MAX,
    }
}

/// A timeout in milliseconds where 0 means none.
fn or_never(ms: u64) -> u64 {
    if ms == 0 {
        u64::MAX
    } else {
        ms
    }
}

/// `extra_headers` of `ws_upgrade`/`ws_connect`: complete `Name: value` lines (the final
/// CRLF may be missing), else `Invalid`.
fn check_extra(extra: &[u8]) -> Result<(), Error> {
    match crate::http::check_header_lines(extra) {
        Some(_) => Ok(()),
        None => Err(Error::Invalid),
    }
}

/// The subprotocols named in `Sec-WebSocket-Protocol` lines of `extra`.
fn offered_protocols(extra: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for line in extra.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"sec-websocket-protocol")
        {
            for t in line[colon + 1..].split(|&b| b == b',') {
                let t = t.trim_ascii();
                if !t.is_empty() {
                    v.push(t.to_vec());
                }
            }
        }
    }
    v
}

fn send_err(e: SendError) -> Error {
    match e {
        SendError::Closed => Error::Closing,
        SendError::BadFrame => Error::Invalid,
    }
}

/// Where the payload of the event being delivered is.
enum Loc {
    /// In the receive buffer, at (start, len).
    Recv(usize, usize),
    /// Copied into `WsState::lend`.
    Lend,
}

impl Mgr {
    /// Accept a WebSocket upgrade: call it in `Event::HttpHeaders` or `Event::HttpMessage`
    /// of the request `req` on `h` (Mongoose's `mg_ws_upgrade`). Validates the request
    /// (RFC 6455 §4.2.1), answers `101 Switching Protocols` with `extra_headers` (zero or more
    /// `Name: value\r\n` lines, e.g. the `Sec-WebSocket-Protocol` the application picked) and
    /// the negotiated permessage-deflate, and switches the connection: no more HTTP is parsed
    /// on it, [`Event::WsOpen`] follows when the current event returns, then
    /// [`Event::WsMessage`]/[`Event::WsControl`] for what the client sends.
    ///
    /// Errors: `Invalid` for a request that is not a valid upgrade (it was answered `400`, or
    /// `426` with `Sec-WebSocket-Version: 13` for a wrong version, and the connection closes
    /// after that response) or malformed `extra_headers` (nothing sent); `Unsupported` outside
    /// the request's event or when a response was already begun; `Stale`, `Closing`, `Full`.
    pub fn ws_upgrade(&self, h: Handle, req: &HttpMessage<'_>, extra_headers: &[u8]) -> Result<(), Error> {
        self.ws_upgrade_parts(h, req.method(), req.proto(), req.headers(), extra_headers)
    }

    /// [`Mgr::ws_upgrade`] with the request's method, protocol (`HTTP/1.1`) and header fields
    /// given separately (for callers that hold a copy of the request, such as the C API).
    pub fn ws_upgrade_parts<'h, I>(
        &self,
        h: Handle,
        method: &[u8],
        proto: &[u8],
        headers: I,
        extra_headers: &[u8],
    ) -> Result<(), Error>
    where
        I: IntoIterator<Item = (&'h [u8], &'h [u8])> + Clone,
    {
        {
            let core = self.core.borrow();
            let c = core.conns.get(h).ok_or(Error::Stale)?;
            if c.closing || c.close_started {
                return Err(Error::Closing);
            }
            match c.http_server() {
                Some(hs) if hs.lent && !hs.out.started => {}
                _ => return Err(Error::Unsupported),
            }
        }
        check_extra(extra_headers)?;
        let minor = match proto {
            [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => d - b'0',
            _ => 0,
        };
        let up = match handshake::validate_request(method, minor, headers.clone()) {
            Ok(up) => up,
            Err(reject) => {
                let mut r = Vec::new();
                reject.write_response(&mut r);
                self.send(h, &r)?;
                return Err(Error::Invalid);
            }
        };
        #[allow(unused_mut)]
        let mut ext = Vec::new();
        #[cfg(feature = "ws-deflate")]
        let params = deflate::negotiate_server(
            &deflate_config(),
            headers
                .clone()
                .into_iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"sec-websocket-extensions"))
                .map(|(_, v)| v),
            &mut ext,
        );
        #[cfg(not(feature = "ws-deflate"))]
        let params: Option<()> = None;
        let mut resp = Vec::with_capacity(192 + extra_headers.len());
        handshake::write_accept(
            &mut resp,
            &up,
            None,
            params.is_some().then_some(&ext[..]),
            extra_headers,
        );
        // Through the response tracker, which passes everything after a 101 untouched.
        self.send(h, &resp)?;
        let max_message = self.limits().ws_max_message;
        #[allow(unused_mut)]
        let mut conn = WsConn::new(
            Role::Server,
            Config {
                max_message,
                mask_seed: [0; 16],
            },
        );
        #[cfg(feature = "ws-deflate")]
        if let Some(p) = params {
            conn.enable_deflate(&deflate_config(), &p);
        }
        let mut core = self.core.borrow_mut();
        if let Some(c) = core.conns.get_mut(h) {
            c.proto = Proto::Ws(Box::new(WsState::new(conn, true)));
            self.shared.set_ws(h);
            core.ws_hooks = Some(WS_HOOKS);
            core.steps = Some(super::STEPS);
        }
        Ok(())
    }

    /// Loop thread: send a WebSocket message another thread queued ([`Sender::ws_send`],
    /// [`Sender::ws_broadcast`]) with one [`Mgr::ws_send`] per recipient; a recipient that
    /// cannot take it whole (closed, closing, send buffer without room) gets it reported to
    /// the undelivered callback instead (`ProtoHooks::deliver`).
    ///
    /// [`Sender::ws_send`]: super::Sender::ws_send
    /// [`Sender::ws_broadcast`]: super::Sender::ws_broadcast
    fn ws_deliver_impl(&self, m: Msg) {
        let (op, data, to) = match m {
            Msg::WsTo(h, op, data) => (op, data, alloc::vec![h]),
            Msg::WsAll(op, data, to) => (op, data, to),
            _ => return,
        };
        let last = to.len().saturating_sub(1);
        let mut data = Some(data);
        for (i, h) in to.into_iter().enumerate() {
            let payload = data.as_deref().unwrap_or_default();
            match self.ws_send(h, op, payload) {
                Ok(_) => self.with(|core| core.stats.wakeups_delivered += 1),
                Err(e) => {
                    crate::mlog!(
                        crate::log::LL_DEBUG;
                        "WebSocket message for conn ",
                        h.serial(),
                        " not delivered: ",
                        crate::log::Dbg(&e)
                    );
                    let copy = if i == last {
                        data.take().unwrap_or_default()
                    } else {
                        payload.to_vec()
                    };
                    self.report_undelivered(h, copy);
                }
            }
        }
    }

    /// The WebSocket deadlines, once per millisecond (`ProtoHooks::timeouts`): keep-alive
    /// pings and the dead-peer timeout (`ws_ping_interval_ms`, `ws_pong_timeout_ms`), the
    /// closing-handshake timeout (`ws_close_timeout_ms`) and the client's opening-handshake
    /// timeout (`ws_handshake_timeout_ms`). A timeout of 0 is none.
    fn ws_timeouts_impl(&self, now: u64) {
        let mut failed: Vec<(Handle, &'static str)> = Vec::new();
        {
            let mut core = self.core.borrow_mut();
            let core = &mut *core;
            let l = core.limits;
            for (h, c) in core.conns.iter_mut() {
                let Conn {
                    proto,
                    closing,
                    draining,
                    send,
                    send_off,
                    files,
                    ..
                } = c;
                if *closing {
                    continue;
                }
                match proto {
                    Proto::WsClient(wc) if l.ws_handshake_timeout_ms > 0 => {
                        if wc.deadline == 0 {
                            wc.deadline = now.saturating_add(l.ws_handshake_timeout_ms).max(1);
                        } else if now >= wc.deadline {
                            failed.push((h, "WebSocket handshake timed out"));
                        }
                    }
                    Proto::Ws(ws) => {
                        if *draining || ws.conn.state() != WsPhase::Open {
                            ws.keepalive = None;
                            match ws.close_deadline {
                                None => ws.close_deadline = Some(now.saturating_add(or_never(l.ws_close_timeout_ms))),
                                Some(d) if now >= d => {
                                    crate::mlog!(
                                        crate::log::LL_DEBUG;
                                        "conn ",
                                        h.serial(),
                                        ": WebSocket closing handshake timed out"
                                    );
                                    *closing = true;
                                }
                                Some(_) => {}
                            }
                            continue;
                        }
                        if l.ws_ping_interval_ms == 0 {
                            ws.keepalive = None;
                            continue;
                        }
                        let ka = ws.keepalive.get_or_insert_with(|| {
                            KeepAlive::new(l.ws_ping_interval_ms, or_never(l.ws_pong_timeout_ms), now)
                        });
                        if core::mem::take(&mut ws.rx_seen) {
                            ka.on_receive(now);
                        }
                        match ka.poll(now) {
                            KeepAliveAction::Idle => {}
                            KeepAliveAction::SendPing => {
                                if *send_off > 0 && *send_off == send.len() {
                                    send.clear();
                                    *send_off = 0;
                                }
                                let out = match files.back_mut() {
                                    Some(f) => &mut f.after,
                                    None => send,
                                };
                                // A 2-byte frame (6 from a client) once per interval: over
                                // `max_send` by that much at most.
                                let _ = ws.conn.send(out, WEBSOCKET_OP_PING, b"");
                            }
                            KeepAliveAction::Dead => failed.push((h, "WebSocket peer did not answer a ping")),
                        }
                    }
                    _ => {}
                }
            }
        }
        for (h, msg) in failed {
            self.fail(h, msg);
        }
    }

    /// Send a WebSocket message or control frame (Mongoose's `mg_ws_send`): `op` is a
    /// `WEBSOCKET_OP_*` (text, binary, ping, pong, close; control payloads ≤ 125 bytes). Text
    /// and binary messages are compressed when permessage-deflate was negotiated. Sending a
    /// close starts the closing handshake: nothing more may be sent, and the connection closes
    /// once the peer's close arrives. All or nothing: the payload must fit in the send room
    /// (`max_send` minus what is queued; the frame header, at most 14 bytes, comes on top).
    /// Returns the bytes queued (header included).
    ///
    /// Errors: `Full`, `Invalid` (bad opcode, control payload over 125), `Closing` (closing
    /// handshake begun, or the connection is closing), `Unsupported` (not a WebSocket),
    /// `Stale`.
    pub fn ws_send(&self, h: Handle, op: u8, data: &[u8]) -> Result<usize, Error> {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let max_send = core.limits.max_send;
        let c = writable(&mut core.conns, h)?;
        if !matches!(c.proto, Proto::Ws(_)) {
            return Err(Error::Unsupported);
        }
        // The payload is what `max_send` bounds: the frame header (at most 14 bytes) and
        // deflate's worst-case growth on incompressible data (a few bytes per 64 KiB) come
        // on top, so that a message of `ws_max_message` (= `max_send` by default) can be
        // echoed.
        let (proto, out) = c.queue(data.len(), max_send)?;
        let Proto::Ws(ws) = proto else {
            return Err(Error::Unsupported);
        };
        let before = out.len();
        ws.conn.send(out, op, data).map_err(send_err)?;
        Ok(out.len() - before)
    }

    /// Mongoose's `mg_ws_wrap`: turn the last `len` bytes queued on `h` (with [`Mgr::send`])
    /// into one WebSocket frame with opcode `op` (compressed, masked as `ws_send` would).
    /// Returns the frame's length. Errors: `Invalid` (more bytes than are queued and unsent,
    /// bad opcode), plus those of `ws_send`.
    pub fn ws_wrap(&self, h: Handle, len: usize, op: u8) -> Result<usize, Error> {
        let mut core = self.core.borrow_mut();
        let c = writable(&mut core.conns, h)?;
        let Conn {
            proto: Proto::Ws(ws),
            send,
            send_off,
            files,
            ..
        } = c
        else {
            return Err(Error::Unsupported);
        };
        let (buf, min_start) = match files.back_mut() {
            Some(f) => (&mut f.after, 0),
            None => (send, *send_off),
        };
        if len > buf.len() - min_start {
            return Err(Error::Invalid);
        }
        if !matches!(
            op,
            WEBSOCKET_OP_CONTINUE
                | WEBSOCKET_OP_TEXT
                | WEBSOCKET_OP_BINARY
                | WEBSOCKET_OP_CLOSE
                | WEBSOCKET_OP_PING
                | WEBSOCKET_OP_PONG
        ) {
            return Err(Error::Invalid);
        }
        let payload = buf.split_off(buf.len() - len);
        let before = buf.len();
        let r = if op == WEBSOCKET_OP_CONTINUE {
            ws.conn.send_frame(buf, op, &payload, true)
        } else {
            ws.conn.send(buf, op, &payload)
        };
        if let Err(e) = r {
            buf.extend_from_slice(&payload); // as it was
            return Err(send_err(e));
        }
        Ok(buf.len() - before)
    }

    /// Open a WebSocket client connection to `url` (`ws://host:port/path` or `wss://...`;
    /// for `wss://` call `mg_tls_init` in `Event::Connect` as for any TLS client). The
    /// upgrade request (with `extra_headers`, zero or more `Name: value\r\n` lines, and a
    /// permessage-deflate offer) is sent once connected; the server's `101` is validated
    /// (RFC 6455 §4.1) and delivered as [`Event::WsOpen`]; anything else fails the connection
    /// (`Event::Error`, then `Event::Close`). Errors as [`Mgr::connect`], and `Url` for a
    /// scheme other than `ws`, `wss`, `http`, `https`, `Invalid` for malformed
    /// `extra_headers`.
    pub fn ws_connect(&self, url: &str, handler: impl Handler, extra_headers: &[u8]) -> Result<Handle, Error> {
        self.ws_connect_with(url, Rc::new(handler), extra_headers)
    }

    /// [`Mgr::ws_connect`] with a shared handler.
    pub fn ws_connect_with(&self, url: &str, handler: Rc<dyn Handler>, extra_headers: &[u8]) -> Result<Handle, Error> {
        check_extra(extra_headers)?;
        let ep = crate::util::url::parse_endpoint(url)?;
        if !["ws", "wss", "http", "https"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(ep.scheme))
        {
            return Err(Error::Url);
        }
        let parts = crate::util::url::parse(url.as_bytes());
        let b = url.as_bytes();
        let mut path: Vec<u8> = Vec::new();
        let rest = &b[parts.rest.min(b.len())..];
        let rest = &rest[..rest.iter().position(|&c| c == b'#').unwrap_or(rest.len())];
        if !rest.starts_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(rest);
        let mut host = b[parts.host.clone()].to_vec();
        if ep.port_given {
            host.push(b':');
            host.extend_from_slice(itoa::Buffer::new().format(ep.port).as_bytes());
        }
        let mut random = [0u8; 32];
        crate::util::clock::random(&mut random);
        let mut kr = [0u8; 16];
        kr.copy_from_slice(&random[..16]);
        let key = handshake::client_key(kr);
        let protocols = offered_protocols(extra_headers);
        #[allow(unused_mut)]
        let mut ext = Vec::new();
        #[cfg(feature = "ws-deflate")]
        deflate::client_offer(&deflate_config(), &mut ext);
        let mut req = Vec::with_capacity(256 + extra_headers.len());
        handshake::write_request(
            &mut req,
            &host,
            &path,
            &key,
            None,
            (!ext.is_empty()).then_some(&ext[..]),
            extra_headers,
        );
        let http_limits = self.limits().http();
        let h = self.open_client(url, handler, ProtoKind::Raw)?;
        let mut core = self.core.borrow_mut();
        core.ws_hooks = Some(WS_HOOKS);
        core.steps = Some(super::STEPS);
        if let Some(c) = core.conns.get_mut(h) {
            if !c.closing {
                c.proto = Proto::WsClient(Box::new(WsClientHs {
                    step: |m, h, _| m.ws_client_step(h),
                    dirty: false,
                    key,
                    protocols,
                    parser: ResponseParser::new(http_limits),
                    seed: random[16..].try_into().unwrap_or([0; 16]),
                    deadline: 0,
                }));
                c.out_buf().extend_from_slice(&req);
            }
        }
        Ok(h)
    }

    /// Client: read and check the server's handshake response.
    pub(super) fn ws_client_step(&self, h: Handle) {
        enum Out {
            Open(Vec<u8>, crate::http::ResponseHead),
            Fail(alloc::string::String),
        }
        let out = {
            let mut core = self.core.borrow_mut();
            let max_message = core.limits.ws_max_message;
            let Some(c) = core.conns.get_mut(h) else { return };
            let stop = c.closing || c.close_started || c.paused;
            let Conn {
                proto: Proto::WsClient(wc),
                recv,
                recv_off,
                eof,
                ..
            } = c
            else {
                return;
            };
            wc.dirty = false;
            if stop {
                return;
            }
            let seed = wc.seed;
            let data = &recv[*recv_off..];
            match wc.parser.parse(data) {
                Ok(Step::NeedMore) => {
                    if !*eof {
                        return;
                    }
                    Out::Fail("connection closed during the WebSocket handshake".into())
                }
                Ok(Step::Head { consumed, head }) => {
                    let msg = data[..consumed].to_vec();
                    *recv_off += consumed;
                    let offered: Vec<&[u8]> = wc.protocols.iter().map(|p| &p[..]).collect();
                    #[cfg(feature = "ws-deflate")]
                    let cfg = deflate_config();
                    let checked = handshake::validate_response(
                        head.status,
                        head.headers.iter().map(|hd| (hd.name.get(&msg), hd.value.get(&msg))),
                        &wc.key,
                        &offered,
                        #[cfg(feature = "ws-deflate")]
                        Some(&cfg),
                    );
                    match checked {
                        #[allow(unused_variables)]
                        Ok(acc) => {
                            #[allow(unused_mut)]
                            let mut conn = WsConn::new(
                                Role::Client,
                                Config {
                                    max_message,
                                    mask_seed: seed,
                                },
                            );
                            #[cfg(feature = "ws-deflate")]
                            if let Some(p) = acc.deflate {
                                conn.enable_deflate(&cfg, &p);
                            }
                            c.proto = Proto::Ws(Box::new(WsState::new(conn, false)));
                            self.shared.set_ws(h);
                            Out::Open(msg, head)
                        }
                        Err(e) => Out::Fail(crate::log::string(&[
                            &"WebSocket handshake failed: ",
                            &crate::log::Dbg(&e),
                        ])),
                    }
                }
                Ok(_) => Out::Fail("WebSocket handshake failed: unexpected response".into()),
                // "<status> <reason>": the HttpError's own text.
                Err(e) => Out::Fail(crate::log::string(&[
                    &"WebSocket handshake failed: malformed response: ",
                    &e,
                ])),
            }
        };
        match out {
            Out::Fail(msg) => self.fail(h, &msg),
            Out::Open(msg, head) => {
                let hm = HttpMessage::new(
                    &msg,
                    head.head,
                    msg.len(),
                    [Some(head.proto), Some(head.code), None, Some(head.reason)],
                    &head.headers,
                );
                self.dispatch(h, Event::WsOpen(&hm));
                self.core.borrow_mut().mark_dirty(h);
            }
        }
    }

    /// Feed what was received to the WebSocket machine and deliver its events, one at a time;
    /// close after the closing handshake or a protocol error.
    pub(super) fn ws_step(&self, h: Handle) {
        loop {
            let (ctl, flags, lent_recv, lent_ws, start, len) = {
                let mut core = self.core.borrow_mut();
                let Some(c) = core.conns.get_mut(h) else { return };
                let stop = c.closing || c.close_started || c.paused;
                let Conn {
                    proto: Proto::Ws(ws),
                    recv,
                    recv_off,
                    send,
                    send_off,
                    files,
                    draining,
                    ..
                } = c
                else {
                    return;
                };
                ws.dirty = false;
                if stop {
                    return;
                }
                if *recv_off < recv.len() {
                    ws.rx_seen = true;
                }
                if matches!(ws.conn.state(), WsPhase::Closed | WsPhase::Failed) {
                    // Flush the last frames (close echo, error close), then close.
                    *draining = true;
                    *recv_off = recv.len();
                    return;
                }
                if *recv_off == recv.len() && ws.conn.is_idle() {
                    // Nothing left to feed (the usual look after a delivered message).
                    return;
                }
                if *send_off > 0 && *send_off == send.len() {
                    send.clear();
                    *send_off = 0;
                }
                let out = match files.back_mut() {
                    Some(f) => &mut f.after,
                    None => send,
                };
                let input = &mut recv[*recv_off..];
                let base = input.as_ptr() as usize;
                let end = base + input.len();
                let WsState { conn, lend, .. } = &mut **ws;
                let outcome = match conn.feed(input, out) {
                    Ok(p) => Ok((
                        p.consumed,
                        p.event.map(|e| {
                            let (ctl, m) = match e {
                                crate::ws::Event::Message(m) => (false, m),
                                crate::ws::Event::Control(m) => (true, m),
                            };
                            let ptr = m.data.as_ptr() as usize;
                            let loc = if !m.data.is_empty() && ptr >= base && ptr + m.data.len() <= end {
                                Loc::Recv(ptr - base, m.data.len())
                            } else {
                                lend.clear();
                                lend.extend_from_slice(m.data);
                                Loc::Lend
                            };
                            (ctl, m.flags, loc)
                        }),
                    )),
                    Err(e) => Err(e),
                };
                match outcome {
                    Err(e) => {
                        crate::mlog!(
                            crate::log::LL_DEBUG;
                            "conn ",
                            h.serial(),
                            ": WebSocket protocol error ",
                            crate::log::Dbg(&e.kind),
                            ", closing with ",
                            e.code
                        );
                        *draining = true;
                        *recv_off = recv.len();
                        return;
                    }
                    Ok((consumed, None)) => {
                        *recv_off += consumed;
                        if matches!(conn.state(), WsPhase::Closed | WsPhase::Failed) {
                            *draining = true;
                            *recv_off = recv.len();
                        }
                        return;
                    }
                    Ok((consumed, Some((ctl, flags, loc)))) => {
                        let at = *recv_off;
                        *recv_off += consumed;
                        match loc {
                            // Lend the receive buffer itself (and its offset, so that nothing
                            // that looks at it meanwhile sees an offset past its end).
                            Loc::Recv(s, n) => {
                                let off = core::mem::replace(recv_off, 0);
                                (ctl, flags, Some((core::mem::take(recv), off)), None, at + s, n)
                            }
                            Loc::Lend => {
                                let v = core::mem::take(lend);
                                let n = v.len();
                                (ctl, flags, None, Some(v), 0, n)
                            }
                        }
                    }
                }
            };
            {
                let data: &[u8] = match (&lent_recv, &lent_ws) {
                    (Some((v, _)), _) => &v[start..start + len],
                    (_, Some(v)) => &v[..],
                    _ => &[],
                };
                let m = crate::ws::WsMessage { data, flags };
                self.dispatch(
                    h,
                    if ctl {
                        Event::WsControl(&m)
                    } else {
                        Event::WsMessage(&m)
                    },
                );
            }
            let mut core = self.core.borrow_mut();
            let Some(c) = core.conns.get_mut(h) else { return };
            if let Some((v, off)) = lent_recv {
                if c.recv.is_empty() {
                    c.recv = v;
                    c.recv_off = off;
                }
            }
            if let (Some(v), Proto::Ws(ws)) = (lent_ws, &mut c.proto) {
                ws.lend = v;
            }
        }
    }
}
