//! The event manager: connections, the poll loop, timers, the wakeup queue and dispatch.
//!
//! Re-entrancy (G7) without undefined behaviour: all mutable state is in one
//! `RefCell<Core>`. Every step of the loop borrows it, works, and *drops the borrow before*
//! calling a [`Handler`] (cloned out of the connection first) or a timer or undelivered
//! callback (lent out of its slot for the call). Handlers then call back in ([`Mgr::send`],
//! [`Mgr::close`], [`Mgr::connect`], ...) and each of those borrows again. So no Rust
//! reference into manager state is ever alive while application code runs. The data an
//! [`Event`] borrows is either owned by the dispatching frame (wakeup payloads, error
//! strings) or is a connection buffer lent out of the connection for the call (HTTP
//! messages), or is never moved or shrunk while a handler may be reading it (receive data is
//! only compacted in the read step, which never runs inside a handler: nested [`Mgr::poll`]
//! is refused with `Error::Busy`).
//!
//! Closing (G3): anything that ends a connection only *marks* it (`closing`, or `draining`
//! to flush first). The close step at the end of every poll delivers exactly one
//! [`Event::Close`], then frees the slot, the owned timers and the socket.
#![forbid(unsafe_code)]

use crate::prelude::*;
pub mod dns;
pub mod event;
pub mod http;
mod httpconn;
pub mod mdns;
pub mod modbus;
pub mod mqtt;
pub mod sntp;
pub mod timer;
mod tlsio;
pub mod wakeup;
pub mod ws;

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::cell::{Cell, RefCell};
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::Error;
use crate::handle::{Handle, Table, TableError, MAX_SLOTS};
use crate::sys::{self, Sock, ThreadId};
use crate::util::url::{parse_endpoint, Transport};
pub use event::{Event, Handler, HttpMessage, WsMessage};
use http::{HttpServer, Proto, ProtoKind};
use timer::{Callback, TimerOpts, Timers};
use wakeup::{Msg, Sender, Shared};

extern crate alloc;

/// Runtime caps (G5). Each is bounded by a build-time constant where one applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Live connections, listeners included (≤ 65536). At the cap, a listener with a
    /// connection waiting makes room by closing the oldest accepted HTTP connection that
    /// owes nothing (idle keep-alive, or no complete request head yet; see
    /// [`Conn::eviction_age`]); when there is none, listeners stop accepting.
    pub max_conns: usize,
    /// Bytes queued for sending per connection; `mg_send` beyond it fails with `Error::Full`.
    pub max_send: usize,
    /// Unconsumed received bytes per connection; at the cap, reading pauses (backpressure).
    pub max_recv: usize,
    /// Messages waiting in the wakeup queue.
    pub wakeup_msgs: usize,
    /// Payload bytes waiting in the wakeup queue.
    pub wakeup_bytes: usize,
    /// Live timers.
    pub max_timers: usize,
    /// Host name resolution timeout.
    pub dns_timeout_ms: u64,
    /// HTTP: most header fields in a request or response (more: 431).
    pub http_max_headers: usize,
    /// HTTP: most bytes in a head (more: 431).
    pub http_max_head: usize,
    /// HTTP: largest body buffered for `Event::HttpMessage` (more: 413).
    pub http_max_body: u64,
    /// HTTP server: a request head must arrive within this time from its first byte (408).
    pub http_head_timeout_ms: u64,
    /// HTTP server: an idle keep-alive connection is closed after this time. (A connection
    /// that has not sent a byte since accept is under the head timeout instead.)
    pub http_idle_timeout_ms: u64,
    /// HTTP: a request body (server: then 408 and close) or a response (client: then
    /// `Event::Error` and close) that receives no byte for this long is abandoned. Time
    /// during which reading is paused on our side (`mg_recv_pause`, `max_recv`) does not
    /// count: the clock restarts when reading resumes.
    pub http_body_timeout_ms: u64,
    /// A TLS handshake not finished this long after `mg_tls_init` fails the connection.
    pub tls_handshake_timeout_ms: u64,
    /// WebSocket: largest message after reassembly and decompression (more: close 1009).
    pub ws_max_message: usize,
    /// WebSocket keep-alive: ping after this long without a frame from the peer (0: never).
    pub ws_ping_interval_ms: u64,
    /// WebSocket keep-alive: after a ping, the peer must send something (a pong, any frame)
    /// within this long, else the connection fails as dead.
    pub ws_pong_timeout_ms: u64,
    /// WebSocket: once the closing handshake began (a close sent, or a protocol error), the
    /// peer has this long to answer and the last frames to drain; then the connection closes.
    pub ws_close_timeout_ms: u64,
    /// WebSocket client: the opening handshake (connect, TLS, the server's `101`) must be
    /// done this long after `ws_connect`, else the connection fails.
    pub ws_handshake_timeout_ms: u64,
    /// MQTT: largest packet, fixed header included (more: `Event::Error`, close). Packets
    /// are also bounded by `max_recv`.
    pub mqtt_max_packet: usize,
}

impl Limits {
    pub fn http(&self) -> crate::http::Limits {
        crate::http::Limits {
            max_headers: self.http_max_headers,
            max_head_bytes: self.http_max_head,
            max_uri_bytes: (self.http_max_head / 2).max(16),
            max_body: self.http_max_body,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_conns: 1024,
            max_send: 1 << 20,
            max_recv: 1 << 20,
            wakeup_msgs: 4096,
            wakeup_bytes: 4 << 20,
            max_timers: 4096,
            dns_timeout_ms: 3000,
            http_max_headers: 64,
            http_max_head: 8192,
            http_max_body: 1 << 20,
            http_head_timeout_ms: 10_000,
            http_idle_timeout_ms: 30_000,
            // Longer than the head timeout: a body is application data that a slow or lossy
            // link may pause on (TCP retransmission back-off alone reaches several seconds),
            // and shorter than the idle timeout: a stalled upload holds a request's state.
            http_body_timeout_ms: 15_000,
            tls_handshake_timeout_ms: 10_000,
            ws_max_message: 1 << 20,
            ws_ping_interval_ms: 0,
            ws_pong_timeout_ms: 10_000,
            ws_close_timeout_ms: 5_000,
            ws_handshake_timeout_ms: 10_000,
            mqtt_max_packet: 1 << 20,
        }
    }
}

/// A connection's addresses and state ([`Mgr::info`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// Unique for the life of the process (the handle's serial; Mongoose's `c->id`).
    pub id: u64,
    /// The local address (a listener's bound address: read the port picked for port 0 here).
    pub local: Option<SocketAddr>,
    /// The peer's address (a UDP listener: the sender of the last datagram).
    pub remote: Option<SocketAddr>,
    /// Received bytes not consumed yet.
    pub recv_len: usize,
    /// Bytes still to be sent.
    pub send_len: usize,
    pub is_listening: bool,
    pub is_client: bool,
    pub is_accepted: bool,
    pub is_udp: bool,
    /// The URL asked for TLS, or TLS is attached.
    pub is_tls: bool,
    /// A WebSocket (after the opening handshake; Mongoose's `c->is_websocket`).
    pub is_websocket: bool,
    /// It speaks HTTP (a listener: its accepted connections will).
    pub is_http: bool,
    pub is_resolving: bool,
    pub is_connecting: bool,
    pub is_closing: bool,
    pub is_draining: bool,
    /// The receive buffer is at `max_recv`: reading is paused until bytes are consumed.
    pub is_full: bool,
}

/// Counters for tests and monitoring.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub accepted: u64,
    pub connected: u64,
    pub closed: u64,
    pub wakeups_delivered: u64,
    pub wakeups_undelivered: u64,
    pub accept_paused: u64,
    /// Connections closed at the connection cap to make room for a new one.
    pub evicted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Listening,
    Resolving { deadline: u64 },
    Connecting,
    Open,
}

/// One connection (or listener).
#[derive(Debug)]
pub struct Conn {
    /// Called for every event (accepted connections share their listener's).
    pub handler: Rc<dyn Handler>,
    pub sock: Option<Sock>,
    pub state: State,
    pub transport: Transport,
    /// The connection speaks TLS: its URL's scheme asks for it (`https`, `wss`, `mqtts`,
    /// `tls`, `ssl`; accepted connections take their listener's), or `mg_tls_init` put TLS
    /// on it. This is Mongoose's `c->is_tls` (`mg_conn_info().is_tls`). Whether a session is
    /// actually attached is [`Conn::tls_attached`]; a TLS connection without one is refused
    /// before it reads or writes a byte ([`Conn::tls_missing`]).
    pub tls: bool,
    pub is_client: bool,
    pub is_accepted: bool,
    /// Close at the end of this poll, without flushing.
    pub closing: bool,
    /// Close once the send buffer is empty.
    pub draining: bool,
    /// The peer closed its side.
    pub eof: bool,
    /// `Event::Close` has been (or is being) delivered.
    pub close_started: bool,
    pub recv: Vec<u8>,
    pub recv_off: usize,
    pub send: Vec<u8>,
    pub send_off: usize,
    pub loc: Option<SocketAddr>,
    pub rem: Option<SocketAddr>,
    /// Whatever the layer above hangs on the connection (the C API keeps `mg_conn_data`
    /// storage here); the manager never looks inside. Dropped after `Event::Close`.
    pub ext: Option<Box<dyn Any>>,
    pub timers: Vec<Handle>,
    /// Accept errors (EMFILE...) pause a listener until this time.
    pub paused_until: u64,
    /// File segments queued after `send` (zero-copy file bodies), each followed by the bytes
    /// queued after it.
    pub files: FileQueue,
    /// Reading (and the protocol machine) paused by the application (`mg_recv_pause`).
    pub paused: bool,
    /// Host of the URL given to `mg_connect` (TLS server name by default).
    pub url_host: Option<String>,
    /// The TLS session between the socket and the plaintext buffers.
    #[cfg(feature = "tls")]
    pub tls_session: Option<crate::tls::TlsSession>,
    /// Listeners: TLS for every accepted connection.
    #[cfg(feature = "tls")]
    pub tls_setup: Option<crate::tls::TlsSetup>,
    /// When a TLS handshake that has not finished is abandoned.
    pub tls_deadline: u64,
    /// The protocol above TCP.
    pub proto: Proto,
    /// For listeners: the protocol of accepted connections.
    pub accept_kind: ProtoKind,
    /// What the socket is registered for with the epoll poller (`POLLIN` / `POLLOUT` bits;
    /// 0: not registered).
    polled: i16,
}

impl Conn {
    #[inline(never)]
    fn new(handler: Rc<dyn Handler>, transport: Transport, state: State) -> Conn {
        Conn {
            handler,
            sock: None,
            state,
            transport,
            tls: false,
            is_client: false,
            is_accepted: false,
            closing: false,
            draining: false,
            eof: false,
            close_started: false,
            recv: Vec::new(),
            recv_off: 0,
            send: Vec::new(),
            send_off: 0,
            loc: None,
            rem: None,
            ext: None,
            timers: Vec::new(),
            paused_until: 0,
            files: FileQueue(Vec::new()),
            paused: false,
            url_host: None,
            #[cfg(feature = "tls")]
            tls_session: None,
            #[cfg(feature = "tls")]
            tls_setup: None,
            tls_deadline: u64::MAX,
            proto: Proto::Raw,
            accept_kind: ProtoKind::Raw,
            polled: 0,
        }
    }
    /// Where bytes queued now go: after the last queued file segment, if any, so that
    /// everything reaches the peer in the order it was queued.
    pub fn out_buf(&mut self) -> &mut Vec<u8> {
        match self.files.back_mut() {
            Some(f) => &mut f.after,
            None => &mut self.send,
        }
    }
    /// The HTTP server state, on a connection accepted by an HTTP listener.
    pub fn http_server(&self) -> Option<&HttpServer> {
        match &self.proto {
            Proto::HttpServer(hs) => Some(hs),
            _ => None,
        }
    }
    pub fn http_server_mut(&mut self) -> Option<&mut HttpServer> {
        match &mut self.proto {
            Proto::HttpServer(hs) => Some(hs),
            _ => None,
        }
    }
    /// Room for `len` more bytes from the application (`max_send` caps what is held in
    /// memory: all or nothing), and where they go: the protocol that frames them and
    /// [`Conn::out_buf`], borrowed apart.
    fn queue(&mut self, len: usize, max_send: usize) -> Result<(&mut Proto, &mut Vec<u8>), Error> {
        if self.send_buffered().saturating_add(len) > max_send {
            return Err(Error::Full);
        }
        if self.send_off > 0 && self.send_off == self.send.len() {
            self.send.clear();
            self.send_off = 0;
        }
        let Conn { proto, send, files, .. } = self;
        let out = match files.back_mut() {
            Some(f) => &mut f.after,
            None => send,
        };
        Ok((proto, out))
    }
    /// Flag the protocol machine for a step; true if it was not flagged yet (then the
    /// handle must go on [`Core::dirty`]: use [`Core::mark_dirty`]).
    fn mark_proto_dirty(&mut self) -> bool {
        let flag = match &mut self.proto {
            Proto::HttpServer(hs) => &mut hs.dirty,
            Proto::HttpClient(hc) => &mut hc.dirty,
            Proto::Ws(ws) => &mut ws.dirty,
            Proto::WsClient(wc) => &mut wc.dirty,
            Proto::Mqtt(m) => &mut m.dirty,
            Proto::Raw => return false,
        };
        !core::mem::replace(flag, true)
    }
    pub fn recv_pending(&self) -> &[u8] {
        &self.recv[self.recv_off..]
    }
    /// Everything still to be sent, file segments included.
    pub fn send_pending(&self) -> usize {
        // Asked for every connection on every poll: no file queued is the usual case.
        if self.files.is_empty() {
            return self.send.len() - self.send_off;
        }
        let files: u64 = self.files.iter().map(|f| f.remaining + f.after.len() as u64).sum();
        (self.send.len() - self.send_off).saturating_add(files.min(usize::MAX as u64) as usize)
    }
    /// Bytes held in memory for sending (what `max_send` caps).
    pub fn send_buffered(&self) -> usize {
        if self.files.is_empty() {
            return self.send.len() - self.send_off;
        }
        self.send.len() - self.send_off + self.files.iter().map(|f| f.after.len()).sum::<usize>()
    }
    /// Bytes to send on an open connection that is not closing (the flush walk's question).
    #[inline(always)]
    fn wants_flush(&self) -> bool {
        (self.send_pending() > 0 || self.tls_pending_write()) && self.state == State::Open && !self.closing
    }
    fn ready_to_close(&self) -> bool {
        !self.close_started
            && (self.closing
                || ((self.draining || (self.eof && !self.holds_open()))
                    && self.send_pending() == 0
                    && !self.tls_pending_write()))
    }
    /// Ciphertext (handshake, alert, data) still waiting in the TLS session.
    pub fn tls_pending_write(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls_wants_write()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }
    /// A TLS session is attached (or, on a listener, set up for every accepted connection).
    pub fn tls_attached(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls_session.is_some() || self.tls_setup.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }
    /// Mongoose's `c->is_tls`: the URL asked for TLS or TLS is attached.
    pub fn is_tls(&self) -> bool {
        self.tls || self.tls_attached()
    }
    /// The URL asked for TLS but the application did not set it up (`mg_tls_init` in
    /// `Event::Accept` / `Event::Connect` or on the listener): reading or sending now would
    /// put plaintext where the peer expects TLS.
    fn tls_missing(&self) -> bool {
        #[cfg(feature = "tls")]
        let session = self.tls_session.is_some();
        #[cfg(not(feature = "tls"))]
        let session = false;
        self.tls && !session && self.state == State::Open && self.transport == Transport::Tcp
    }
    /// Neither TLS asked for nor a TLS session: bytes go straight to the socket, what
    /// [`Mgr::io_route`] would say ([`Route::Plain`]) without asking it.
    fn plain_io(&self) -> bool {
        #[cfg(feature = "tls")]
        let session = self.tls_session.is_some();
        #[cfg(not(feature = "tls"))]
        let session = false;
        !self.tls && !session
    }
    /// The handler to call with `ev`, cloned out so that no borrow of the state is held
    /// while it runs (G7); `None` once the connection is closing: after close (or a fatal
    /// error) the only event a connection still gets is `Close`. Every delivery asks this,
    /// so the rule is written once.
    fn handler_for(&self, ev: &Event<'_>) -> Option<Rc<dyn Handler>> {
        (self.takes_events() || matches!(ev, Event::Close)).then(|| self.handler.clone())
    }
    /// Whether any event but `Close` still goes to the handler (the rule of
    /// [`Conn::handler_for`], for the paths that deliver without building the event first:
    /// the poll walk's direct call, the HTTP request's look).
    pub(super) fn takes_events(&self) -> bool {
        !self.closing
    }
    /// A protocol still owes the peer something (an HTTP response), so EOF does not close yet.
    fn holds_open(&self) -> bool {
        match &self.proto {
            Proto::HttpServer(hs) => hs.holds_open(),
            _ => false,
        }
    }
    /// At the connection cap, may this connection be closed to make room for a new one, and
    /// since when has it been in its current state (the oldest goes first)?
    ///
    /// Only an accepted HTTP server connection that owes nothing and to which nothing is
    /// owed: between requests (idle keep-alive, or nothing received since accept, TLS
    /// handshake included) or inside a request head not yet complete, with no response
    /// bytes waiting to be sent, not paused by the application, no received bytes the
    /// parser has not looked at yet (`dirty`), and still speaking HTTP/1.1 (not after a `101` upgrade). Such a
    /// connection has not reached the application beyond `Event::Open`/`Event::Accept` (or its
    /// last request was answered in full), so closing it loses nothing the application
    /// holds. Never a listener, a client connection, or a raw TCP connection accepted by
    /// `mg_listen`: what those carry is the application's protocol, of which the manager
    /// knows nothing (a raw connection that sent nothing may be waiting for a server-first
    /// banner), so they are never evicted.
    pub fn eviction_age(&self) -> Option<u64> {
        if !self.is_accepted
            || self.state != State::Open
            || self.closing
            || self.draining
            || self.close_started
            || self.paused
            || self.send_pending() > 0
            || self.tls_pending_write()
        {
            return None;
        }
        let hs = self.http_server()?;
        if hs.dirty || hs.out.is_raw() {
            return None;
        }
        match hs.phase {
            http::Phase::Idle => Some(hs.since),
            http::Phase::InMessage if hs.head.is_none() => Some(hs.since),
            _ => None,
        }
    }
    /// Drop consumed bytes from the front of the receive buffer. Only called from the read
    /// step (never while a handler may hold a view of the buffer).
    #[inline]
    fn compact_recv(&mut self) {
        if self.recv_off == self.recv.len() {
            self.recv.clear();
            if self.recv.capacity() > 16 * 1024 {
                self.recv = Vec::new();
            }
        } else if self.recv_off > 0 {
            self.recv.drain(..self.recv_off);
        }
        self.recv_off = 0;
    }
}

/// The file segments queued on a connection, first to send first: a queue on a `Vec` (it
/// rarely holds more than one segment), so that no `VecDeque` is linked for it.
#[derive(Debug, Default)]
pub struct FileQueue(Vec<FileSeg>);

impl FileQueue {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    #[inline]
    pub fn iter(&self) -> core::slice::Iter<'_, FileSeg> {
        self.0.iter()
    }
    #[inline]
    pub fn front_mut(&mut self) -> Option<&mut FileSeg> {
        self.0.first_mut()
    }
    #[inline]
    pub fn back_mut(&mut self) -> Option<&mut FileSeg> {
        self.0.last_mut()
    }
    #[inline]
    pub fn push_back(&mut self, f: FileSeg) {
        self.0.push(f);
    }
    #[inline]
    pub fn pop_front(&mut self) -> Option<FileSeg> {
        (!self.0.is_empty()).then(|| self.0.remove(0))
    }
}

/// A piece of a file to send, then the bytes that were queued after it.
pub struct FileSeg {
    pub file: Box<dyn crate::fs::File>,
    pub offset: u64,
    pub remaining: u64,
    pub after: Vec<u8>,
}

impl fmt::Debug for FileSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSeg")
            .field("offset", &self.offset)
            .field("remaining", &self.remaining)
            .field("after", &self.after.len())
            .finish()
    }
}

/// What [`Mgr::set_undelivered`] installs.
pub type UndeliveredFn = Box<dyn FnMut(&Mgr, Handle, Vec<u8>)>;

#[derive(Default)]
struct Undelivered(Option<UndeliveredFn>);

impl fmt::Debug for Undelivered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(callback)" } else { "None" })
    }
}

/// Everything the loop mutates. Borrowed only between calls into C.
#[derive(Debug)]
pub struct Core {
    pub conns: Table<Conn>,
    /// The timer table ([`Timers`]), made by the first timer added to this manager
    /// ([`Mgr::timer_add_with`], with the timer pass) and reached through [`timers_mut`]:
    /// behind `dyn Any`, so that a program that never adds a timer names neither the
    /// table's constructor nor the drop of a timer.
    timers: Option<Box<dyn Any>>,
    pub limits: Limits,
    pub stats: Stats,
    scratch: Vec<u8>,
    handle_scratch: Vec<Handle>,
    undelivered: Undelivered,
    /// [`Mgr::set_undelivered`] was called while the callback ran.
    undelivered_changed: bool,
    freeing: bool,
    /// Connections whose protocol machine (HTTP) has something new to look at: the work
    /// list of [`Mgr::http_steps`], so that a poll does not scan every connection for it.
    /// A handle is here iff its `dirty` flag is set (or the connection is gone).
    pub dirty: Vec<Handle>,
    /// The `now` of the last [`Mgr::check_deadlines`] scan.
    deadlines_checked_at: u64,
    /// The HTTP timeouts scan ([`Mgr::http_timeouts_impl`]) has nothing to do before this time
    /// (0: scan at the next millisecond). Set by each scan that finds no HTTP connection
    /// paused on our side (whose clocks the scan restarts) to the earliest deadline it
    /// saw, or the scan's `now` plus the shortest HTTP timeout if earlier: every deadline
    /// set after a scan is `since + timeout` with `since` the `now` of a later step
    /// (accept, a request begins, a response completes, bytes arrive), and nothing moves a
    /// deadline earlier except what resets this to 0: new limits, `recv_pause`, and a read
    /// that leaves `max_recv` unconsumed bytes (reading paused). With `poll_at`, `now` must
    /// not go back. [`Mgr::prepare_poll`] relies on it too (HTTP deadlines that cannot
    /// shorten the wait are not computed).
    pub(super) http_quiet_until: u64,
    /// [`Mgr::lookup_timeouts`], installed when a connection of this manager first looks up
    /// a host name (`State::Resolving`): until then the lookup-deadline scan would find
    /// nothing and is skipped, and a program that never connects by name does not link it.
    lookup_timeouts: Option<fn(&Mgr, u64)>,
    /// [`Mgr::finish_connect`], installed by the first client connection
    /// ([`Mgr::open_client`], before any connection is `State::Connecting`): the end of a TCP
    /// connect (`SO_ERROR`, the addresses, `Event::Connect` or the "connect failed" error) is
    /// not linked into a program that only listens.
    on_connected: Option<fn(&Mgr, Handle)>,
    /// The datagram read and send ([`UdpHooks`]), installed where a UDP socket is opened
    /// ([`Mgr::udp_bind`] for `udp://` listeners, [`Mgr::start_connect`] for UDP clients):
    /// the HTTP listen path opens none, so a plain HTTP server does not link them.
    udp: Option<UdpHooks>,
    /// A TLS session was attached on this manager: until then the per-poll TLS passes
    /// (plaintext drain, handshake deadlines) would find nothing and are skipped.
    #[cfg(feature = "tls")]
    pub(super) tls_seen: bool,
    poller: sys::Poller,
    /// The descriptors found ready by the last wait (the buffer the poller fills), reused.
    ready: Vec<sys::Ready>,
    /// `mg_http_reply`'s last accepted header text (see [`http::ReplyHeadersMemo`]).
    reply_headers: http::ReplyHeadersMemo,
    /// The last MQTT packet id given out (Mongoose's `mgr->mqtt_id`).
    pub mqtt_id: u16,
    /// Installed by the first WebSocket on this manager (see [`ProtoHooks`]).
    ws_hooks: Option<ProtoHooks>,
    /// Installed by the first MQTT client or listener on this manager (see [`ProtoHooks`]).
    mqtt_hooks: Option<ProtoHooks>,
    /// Installed by the first HTTP listener or client (see [`httpconn::HttpHooks`]).
    http_hooks: Option<httpconn::HttpHooks>,
    /// The protocol machines' step ([`STEPS`]), installed with the first HTTP, WebSocket or
    /// MQTT hooks: only their connections are ever put on `dirty`, so a program with none
    /// (tcp-echo) does not link the steps.
    pub(super) steps: Option<fn(&Mgr, u64)>,
    /// The HTTP deadline of a connection for the poll's wait ([`httpconn::http_due`]),
    /// installed with the HTTP hooks (only HTTP connections have one).
    http_due: Option<fn(&Conn, &Limits) -> u64>,
    /// The timer pass ([`TimerPass`]), installed by the first timer added to this manager
    /// ([`Mgr::timer_add_with`]): until then there is no timer to run or wait for, and a
    /// program that never adds one does not link the pass.
    timer_pass: Option<TimerPass>,
    /// [`Mgr::on_resolved`], installed by the first name lookup on a helper thread: the loop
    /// names no connect code, so a program that only listens does not link it.
    on_resolved: Option<ResolvedFn>,
}

/// `Core::steps` once installed.
pub(super) const STEPS: fn(&Mgr, u64) = |m, now| m.http_steps(now);

/// What the loop calls with a `Msg::Resolved` (see `Core::on_resolved`).
type ResolvedFn = fn(&Mgr, Handle, Result<Vec<SocketAddr>, ()>);

/// The loop's work for a protocol that only a call of its own starts (WebSocket:
/// [`Mgr::ws_upgrade`], [`Mgr::ws_connect`]; MQTT: [`Mgr::mqtt_connect`],
/// [`Mgr::mqtt_listen`]), beside its receive step, which its connection state carries
/// ([`http::StepFn`]): those calls install these functions on their manager
/// (`Core::ws_hooks`, `Core::mqtt_hooks`) before any connection of theirs exists, and the
/// loop calls only what is installed. So the poll loop, the accept path and the wakeup
/// queue name none of the protocol's code, and a program that never starts it (a plain
/// HTTP server) does not link its deadlines, its queued sends or its state's constructor
/// (`--gc-sections` drops them). HTTP stays direct: its hooks are [`httpconn::HttpHooks`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProtoHooks {
    /// When one of the protocol's connections next needs [`ProtoHooks::timeouts`]
    /// (`u64::MAX`: never): the poll waits no longer. One pass over the connections, so a
    /// program without the protocol pays nothing per connection.
    pub(super) due: fn(&Table<Conn>, &Limits) -> u64,
    /// The protocol's deadlines on every connection (keep-alive, handshake and closing
    /// timeouts), once per millisecond.
    pub(super) timeouts: fn(&Mgr, u64),
    /// A message another thread queued for this protocol's connections (`Msg::WsTo`,
    /// `Msg::WsAll`, `Msg::MqttPub`): send it, or report it undelivered.
    pub(super) deliver: fn(&Mgr, Msg),
    /// The state of a connection accepted by a listener of [`ProtoKind`] `Mqtt`.
    pub(super) accepted: Option<fn() -> Proto>,
}

/// What opens a `udp://` listener's socket ([`Mgr::udp_bind`]; see [`Mgr::bind_listener`]).
type UdpBindFn = fn(&Mgr, SocketAddr) -> Result<Sock, sys::Errno>;

/// What only UDP connections need (see `Core::udp`).
#[derive(Clone, Copy, Debug)]
struct UdpHooks {
    /// Read the datagrams waiting on a ready UDP connection ([`Mgr::read_udp`]).
    read: fn(&Mgr, Handle),
    /// Send one datagram on a UDP connection ([`udp_send`]).
    send: fn(&Conn, &[u8]) -> Result<(), Error>,
}

/// The loop's work for timers: [`Mgr::timer_add_with`] installs it (`Core::timer_pass`)
/// with the first timer, so that the loop names none of the timer heap's code (the due
/// timers' run, the re-arming, the earliest deadline, freeing timers at close and shutdown)
/// and a program that never adds a timer (a plain HTTP server) does not link it. Read at each use, as the hooks above, so a
/// timer added by a handler during a poll that began without the pass is treated as before:
/// run by that poll's timer step if added before it, and bounding the next poll's wait.
#[derive(Clone, Copy, Debug)]
struct TimerPass {
    /// Run every timer due at `now` ([`Mgr::run_timers`]).
    run: fn(&Mgr, u64),
    /// The earliest deadline of a live timer ([`Timers::next_deadline`]).
    next: fn(&mut Core) -> Option<u64>,
    /// Free a closed connection (taken out of the table) and the timers it owns: the
    /// timers taken out of theirs ([`Timers::take_owned`]), then the connection and their
    /// callbacks dropped with no borrow held. Through the pass, so that a program without
    /// timers names no drop of one.
    close_owned: fn(&Mgr, Conn),
    /// Take every timer out of the table and drop them with no borrow held, at shutdown
    /// ([`Timers::take_all`]).
    free_all: fn(&Mgr),
}

impl Core {
    /// Ask for `h`'s protocol machine to run at the next step (no-op for raw connections).
    pub fn mark_dirty(&mut self, h: Handle) {
        if let Some(c) = self.conns.get_mut(h) {
            if c.mark_proto_dirty() {
                self.dirty.push(h);
            }
        }
    }
}

/// The manager's `RefCell<Core>`, borrowed without `#[track_caller]`: `RefCell`'s own
/// `borrow`/`borrow_mut` take the caller's source location for their panic message, a
/// 24-byte constant and its load at each of the ~100 borrow sites (about 2 KB of flash);
/// here they share one. Such a panic would be a bug in this module either way (G7: no
/// borrow is alive while a handler runs).
#[derive(Debug)]
struct CoreCell(RefCell<Core>);

impl CoreCell {
    fn borrow(&self) -> core::cell::Ref<'_, Core> {
        self.0.borrow()
    }

    fn borrow_mut(&self) -> core::cell::RefMut<'_, Core> {
        self.0.borrow_mut()
    }
}

/// A manager. Lives in a `Box` that `mg_mgr.internal` points to.
#[derive(Debug)]
pub struct Mgr {
    core: CoreCell,
    pub shared: Arc<Shared>,
    owner: ThreadId,
    /// The `now` of the last `Mgr::poll_at`, once the manager is driven by it (`None`: by
    /// `Mgr::poll`, whose clock is read where a time is needed between polls).
    external_now: Cell<Option<u64>>,
    /// Web roots served from recently (static files, `crate::serve`).
    serve_roots: RefCell<crate::serve::RootCache>,
    /// >0 while `mg_mgr_poll` runs or a handler is being called.
    busy: Cell<u32>,
    /// The UDP resolver's settings and lookups (`mgr/dns.rs`).
    /// Made by its first use ([`Mgr::dns`]) and kept behind `dyn Any`, so that a program
    /// that never resolves with it names neither its defaults nor its drop.
    dns: RefCell<Option<Box<dyn Any>>>,
}

/// Dropping a manager shuts it down first ([`Mgr::shutdown`]): every connection gets its
/// [`Event::Close`].
impl Drop for Mgr {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// What the connections say about how long the next `poll(2)` may wait.
#[derive(Debug, Clone, Copy)]
struct PollDue {
    /// Some connection can be closed now: do not wait at all.
    close_ready: bool,
    /// Earliest name-lookup or HTTP deadline or end of an accept pause (`u64::MAX`: none).
    deadline: u64,
    /// The first connection whose registration with the poller failed in this pass, and
    /// why: it fails with `Event::Error` before the wait. Another one that failed in the
    /// same pass is asked again by the next pass, which comes at once (the first one's
    /// close does not wait): one such report a poll, and no list of them to keep.
    failed: Option<(Handle, sys::Errno)>,
}

impl Default for PollDue {
    fn default() -> Self {
        PollDue {
            close_ready: false,
            deadline: u64::MAX,
            failed: None,
        }
    }
}

struct Busy<'a>(&'a Cell<u32>);
impl<'a> Busy<'a> {
    fn enter(c: &'a Cell<u32>) -> Self {
        c.set(c.get() + 1);
        Busy(c)
    }
}
impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// Put `v` in `place`, a field of a connection fresh from [`Conn::new`] (or a buffer the
/// loop took out of `Core`) that still holds its default (`Proto::Raw`, `None`, an empty
/// `Vec`: nothing to drop), without the drop glue a plain assignment calls for the old value.
#[inline(always)]
fn set_fresh<T>(place: &mut T, v: T) {
    core::mem::forget(core::mem::replace(place, v));
}

/// The timer table of `Core::timers`, once the first timer made it.
fn timers_mut(slot: &mut Option<Box<dyn Any>>) -> Option<&mut Timers> {
    slot.as_mut()?.downcast_mut()
}

fn timers_ref(slot: &Option<Box<dyn Any>>) -> Option<&Timers> {
    slot.as_ref()?.downcast_ref()
}

/// The connection `h`, if the application may still queue bytes on it (`Error::Stale`,
/// `Error::Closing` otherwise).
fn writable(conns: &mut Table<Conn>, h: Handle) -> Result<&mut Conn, Error> {
    let c = conns.get_mut(h).ok_or(Error::Stale)?;
    if c.closing || c.close_started {
        return Err(Error::Closing);
    }
    Ok(c)
}

fn table_err(e: TableError) -> Error {
    match e {
        TableError::Full => Error::Limit,
        TableError::Exhausted => Error::Exhausted,
    }
}

fn io_err_to_code(e: &sys::Errno) -> Error {
    if sys::is_addr_error(e) {
        Error::Addr
    } else {
        Error::Io
    }
}

/// How a connection's bytes travel ([`Mgr::io_route`]).
enum Route {
    /// A TLS connection without a TLS session: refused (failed) instead.
    Refused,
    /// Through the TLS session.
    #[cfg(feature = "tls")]
    Tls,
    /// Straight to the socket.
    Plain,
}

/// Send `data` as one datagram on UDP connection `c` (see `UdpHooks`): to its peer, or for
/// a listener to the sender of the last datagram read.
fn udp_send(c: &Conn, data: &[u8]) -> Result<(), Error> {
    let Some(Sock::Udp(u)) = &c.sock else {
        return Err(Error::Io);
    };
    let r = match (c.is_client, c.rem) {
        (true, _) => sys::udp_send(u, data),
        (false, Some(rem)) => sys::udp_send_to(u, data, rem),
        (false, None) => return Err(Error::Addr),
    };
    match r {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(Error::TooLarge),
        Err(e) if sys::would_block(&e) => Err(Error::Full),
        Err(_) => Err(Error::Io),
    }
}

/// Why [`Mgr::flush`] stopped with an error (its `Event::Error` text is made after the
/// connection's borrow ends, in one place).
enum FlushError {
    Sock(sys::Errno),
    /// The file is shorter than promised: the response cannot be completed.
    Shrank,
    File,
}

/// One step of [`Mgr::flush`] once `send` is empty and a file segment is queued: drop the
/// first segment if it is done (the bytes queued after it become `send`), else send a chunk
/// of it. `Ok(true)`: go on; `Ok(false)`: the socket is full. Out of line, so that the usual
/// flush (a response in `send`, no file) keeps its few registers.
#[inline(never)]
fn flush_file_step(c: &mut Conn, scratch: &mut [u8], written: &mut usize) -> Result<bool, FlushError> {
    let Conn {
        sock,
        files,
        send,
        send_off,
        ..
    } = c;
    let Some(Sock::Stream(s)) = sock else { return Ok(false) };
    let Some(f) = files.front_mut() else { return Ok(false) };
    if f.remaining == 0 {
        let Some(f) = files.pop_front() else { return Ok(false) };
        // `send` is drained here: it keeps its allocation (for the next response's head)
        // unless bytes were queued after the file.
        if f.after.is_empty() {
            send.clear();
        } else {
            *send = f.after;
        }
        *send_off = 0;
        return Ok(true);
    }
    let chunk = f.remaining.min(1 << 20) as usize;
    match send_file_chunk(s, f, chunk, scratch) {
        // The file is shorter than promised: the response cannot be completed.
        Ok(0) => Err(FlushError::Shrank),
        Ok(n) => {
            f.remaining -= n as u64;
            *written += n;
            Ok(true)
        }
        Err(FileSendError::Sock(e)) if sys::would_block(&e) => Ok(false),
        Err(FileSendError::Sock(e)) => Err(FlushError::Sock(e)),
        Err(FileSendError::File) => Err(FlushError::File),
    }
}

/// Why [`send_file_chunk`] sent nothing.
enum FileSendError {
    Sock(sys::Errno),
    File,
}

/// Send up to `chunk` bytes of `f` from `f.offset` (advanced by what went out): with
/// `sendfile` when the file has a descriptor and the OS the call, else read into `buf` and
/// written (a file the socket did not take in full is read again from the new offset).
/// `Ok(0)`: the file ended early.
fn send_file_chunk(s: &sys::Fd, f: &mut FileSeg, chunk: usize, buf: &mut [u8]) -> Result<usize, FileSendError> {
    if sys::HAS_SENDFILE {
        if let Some(fd) = f.file.raw_fd() {
            return sys::sendfile(s, fd, &mut f.offset, chunk).map_err(FileSendError::Sock);
        }
    }
    let n = chunk.min(buf.len());
    f.file.seek(f.offset).map_err(|_| FileSendError::File)?;
    let got = f.file.read(&mut buf[..n]).map_err(|_| FileSendError::File)?;
    if got == 0 {
        return Ok(0);
    }
    let w = sys::write(s, &buf[..got]).map_err(FileSendError::Sock)?;
    f.offset += w as u64;
    Ok(w)
}

const SCRATCH: usize = 16 * 1024;
const ACCEPT_BATCH: usize = 64;
pub(crate) const READS_PER_POLL: usize = 4;

/// The walks over every connection on every poll that skip the connections that did not
/// change since they last looked (their bits in `Table::walk_changed`).
const WALK_PREPARE: u8 = 1;
const WALK_FLUSH: u8 = 2;
const WALK_CLOSE: u8 = 4;

impl Mgr {
    pub fn new() -> Result<Mgr, Error> {
        Self::new_boxed().map(|m| *m)
    }

    /// [`Mgr::new`], built in its box (what the C API keeps): the manager is a few hundred
    /// bytes, and returning it by value to be boxed by the caller cost `mg_mgr_init` a
    /// field-by-field copy of 0.8 KB of code.
    pub(crate) fn new_boxed() -> Result<Box<Mgr>, Error> {
        let limits = Limits::default();
        let waker = sys::Waker::new().map_err(|_| Error::Io)?;
        let poller = sys::Poller::open(waker.fd()).map_err(|_| Error::Io)?;
        Ok(Box::new(Mgr {
            core: CoreCell(RefCell::new(Core {
                conns: Table::new(limits.max_conns),
                timers: None,
                limits,
                stats: Stats::default(),
                scratch: vec![0; SCRATCH],
                handle_scratch: Vec::new(),
                undelivered: Undelivered(None),
                undelivered_changed: false,
                freeing: false,
                dirty: Vec::new(),
                deadlines_checked_at: u64::MAX,
                http_quiet_until: 0,
                lookup_timeouts: None,
                on_connected: None,
                udp: None,
                #[cfg(feature = "tls")]
                tls_seen: false,
                poller,
                ready: Vec::new(),
                reply_headers: http::ReplyHeadersMemo::default(),
                mqtt_id: 0,
                ws_hooks: None,
                mqtt_hooks: None,
                http_hooks: None,
                steps: None,
                http_due: None,
                timer_pass: None,
                on_resolved: None,
            })),
            shared: Arc::new(Shared::new(waker, limits.wakeup_msgs, limits.wakeup_bytes)),
            owner: sys::thread_id(),
            serve_roots: RefCell::new(crate::serve::RootCache::default()),
            external_now: Cell::new(None),
            busy: Cell::new(0),
            dns: RefCell::new(None),
        }))
    }

    pub fn owner(&self) -> ThreadId {
        self.owner
    }

    /// The parsed, canonical web roots of this manager's static file serving
    /// ([`crate::serve::serve_dir`]). Borrowed only for the call that serves a request.
    pub fn serve_roots(&self) -> core::cell::RefMut<'_, crate::serve::RootCache> {
        self.serve_roots.borrow_mut()
    }

    /// The UDP resolver's settings and lookups, made at the first call.
    fn dns(&self) -> core::cell::RefMut<'_, dns::DnsConf> {
        core::cell::RefMut::map(self.dns.borrow_mut(), |d| {
            match d
                .get_or_insert_with(|| Box::new(dns::DnsConf::default()))
                .downcast_mut()
            {
                Some(conf) => conf,
                None => unreachable!("only a DnsConf is put there"),
            }
        })
    }

    pub fn is_busy(&self) -> bool {
        self.busy.get() > 0
    }

    /// Borrow the state for a short, non-reentrant piece of work (never across a C call).
    fn with<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        f(&mut self.core.borrow_mut())
    }

    pub fn contains(&self, h: Handle) -> bool {
        self.core.borrow().conns.contains(h)
    }

    pub fn limits(&self) -> Limits {
        self.core.borrow().limits
    }

    pub fn set_limits(&self, l: Limits) -> Result<(), Error> {
        if l.max_conns == 0
            || l.max_conns > MAX_SLOTS
            || l.max_send == 0
            || l.max_recv == 0
            || l.max_timers == 0
            || l.max_timers > MAX_SLOTS
            || l.wakeup_msgs == 0
            || l.wakeup_bytes == 0
            || l.http_max_headers == 0
            || l.http_max_head < 16
            || l.ws_max_message == 0
            || l.mqtt_max_packet < 2
        {
            return Err(Error::Invalid);
        }
        let mut core = self.core.borrow_mut();
        core.conns.set_capacity(l.max_conns);
        if let Some(t) = timers_mut(&mut core.timers) {
            t.table.set_capacity(l.max_timers);
        }
        core.limits = l;
        core.http_quiet_until = 0;
        // `max_recv` decides what a socket is watched for: every walk looks again.
        core.conns.mark_all_changed();
        self.shared.set_caps(l.wakeup_msgs, l.wakeup_bytes);
        Ok(())
    }

    // ---- dispatch -------------------------------------------------------------------

    /// Call `h`'s handler. No borrow of the state is held during the call: the handler is
    /// cloned out of the connection first (G7).
    pub(crate) fn dispatch(&self, h: Handle, ev: Event<'_>) {
        let Some(f) = self.core.borrow().conns.get(h).and_then(|c| c.handler_for(&ev)) else {
            return;
        };
        self.deliver(h, &f, ev);
    }

    /// Call `f`, the handler of `h` cloned out of the connection by [`Conn::handler_for`],
    /// with no borrow of the state held (G7). For
    /// callers that found the connection already (reading, flushing), so that the event
    /// costs no second look.
    fn deliver(&self, h: Handle, f: &Rc<dyn Handler>, ev: Event<'_>) {
        let _busy = Busy::enter(&self.busy);
        f.handle(self, h, ev);
    }

    /// [`Mgr::deliver`] from inside [`Mgr::poll`], which holds the manager busy for the
    /// whole iteration: the read, the flush and the HTTP step (their only callers are in
    /// `poll_clocked`), four events a request.
    #[inline(always)]
    fn deliver_in_poll(&self, h: Handle, f: &Rc<dyn Handler>, ev: Event<'_>) {
        debug_assert!(self.is_busy(), "delivered outside a poll");
        f.handle(self, h, ev);
    }

    /// Deliver [`Event::Error`] with `msg`, then mark the connection for closing (it gets its
    /// [`Event::Close`] at the end of the poll). Logged at error level, "`<id> <message>`", as
    /// Mongoose's `mg_error` does: a client whose connect fails must not exit silently.
    pub fn fail(&self, h: Handle, msg: &str) {
        crate::mlog!(crate::log::LL_ERROR; h.serial(), " ", msg);
        self.dispatch(h, Event::Error(msg));
        if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
            c.closing = true;
        }
    }

    /// [`Mgr::fail`] with the message made of `parts` (built here, once for every caller).
    fn fail_with(&self, h: Handle, parts: &[&dyn crate::log::Put]) {
        self.fail(h, &crate::log::string(parts));
    }

    fn insert_conn(&self, conn: Conn) -> Result<Handle, Error> {
        let mut core = self.core.borrow_mut();
        if core.freeing {
            return Err(Error::Closing);
        }
        let h = core.conns.insert(conn).map_err(table_err)?;
        self.shared.set_live(h);
        Ok(h)
    }

    // ---- listen / connect -----------------------------------------------------------

    /// Listen on `url` (`tcp://0.0.0.0:8000`, `udp://127.0.0.1:5353`, `tcp://[::1]:0`; port
    /// 0 picks a free port, see [`Mgr::info`]). The host must be an IP address, empty (any)
    /// or `localhost`. `handler` gets [`Event::Open`] now; accepted connections share it.
    /// Errors: `Url`, `Port`, `Addr` (in use, not local; an IPv6 host without the feature
    /// `ipv6`), `Limit`, `Closing` (during [`Mgr::shutdown`]).
    pub fn listen(&self, url: &str, handler: impl Handler) -> Result<Handle, Error> {
        self.open_listener(url, Rc::new(handler), ProtoKind::Raw)
    }

    /// Like [`Mgr::listen`], for HTTP: accepted connections get [`Event::HttpHeaders`] and
    /// [`Event::HttpMessage`] for each request; answer with [`Mgr::http_reply`].
    pub fn http_listen(&self, url: &str, handler: impl Handler) -> Result<Handle, Error> {
        self.http_listen_with(url, Rc::new(handler))
    }

    /// [`Mgr::http_listen`] with a shared handler. TCP only (a `udp://` URL is `Url`), so
    /// that a program whose only listeners are HTTP ones does not link the UDP code (see
    /// [`Mgr::bind_listener`]).
    pub fn http_listen_with(&self, url: &str, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        self.install_http();
        self.bind_listener(url, handler, ProtoKind::Http, None)
    }

    /// [`Mgr::listen`] with a shared handler and a protocol.
    pub fn listen_with(&self, url: &str, handler: Rc<dyn Handler>, kind: ProtoKind) -> Result<Handle, Error> {
        if kind == ProtoKind::Http {
            return self.http_listen_with(url, handler);
        }
        self.open_listener(url, handler, kind)
    }

    /// The HTTP machines on this manager (see [`httpconn::HttpHooks`]). Called only where
    /// HTTP is asked for, never on the path of a plain [`Mgr::listen`]/[`Mgr::connect`].
    fn install_http(&self) {
        let mut core = self.core.borrow_mut();
        core.http_hooks = Some(httpconn::HTTP_HOOKS);
        core.steps = Some(STEPS);
        // HTTP timeouts fire once the clock passes their deadline.
        core.http_due = Some(|c, l| httpconn::http_due(c, l).map_or(u64::MAX, |(at, _)| at.saturating_add(1)));
    }

    /// Run the protocol machines that have something new (`Core::steps`).
    fn run_steps(&self, now: u64) {
        let steps = self.core.borrow().steps;
        if let Some(f) = steps {
            f(self, now);
        }
    }

    /// [`Mgr::listen_with`] without installing anything: for `ProtoKind::Raw` and `Mqtt`.
    /// `udp://` URLs open a UDP socket ([`Mgr::udp_bind`]).
    pub(crate) fn open_listener(&self, url: &str, handler: Rc<dyn Handler>, kind: ProtoKind) -> Result<Handle, Error> {
        self.bind_listener(url, handler, kind, Some(Mgr::udp_bind))
    }

    /// Open a UDP listener's socket, and install the UDP hooks (`Core::udp`) first: only
    /// here and in [`Mgr::start_connect`] is a UDP socket opened.
    fn udp_bind(&self, addr: SocketAddr) -> Result<Sock, sys::Errno> {
        self.install_udp();
        sys::udp_bind(addr)
    }

    /// The UDP hooks on this manager (see `Core::udp`).
    fn install_udp(&self) {
        self.core.borrow_mut().udp = Some(UdpHooks {
            read: |m, h| m.read_udp(h),
            send: udp_send,
        });
    }

    /// Listen on `url`; a `udp://` one with `udp` (`Url` if `None`: the HTTP listen path,
    /// which so names no UDP code).
    fn bind_listener(
        &self,
        url: &str,
        handler: Rc<dyn Handler>,
        kind: ProtoKind,
        udp: Option<UdpBindFn>,
    ) -> Result<Handle, Error> {
        let ep = parse_endpoint(url)?;
        let udp = match (ep.transport, udp) {
            (Transport::Udp, None) => return Err(Error::Url),
            (_, udp) => udp,
        };
        let h = ep.host;
        let ip: IpAddr = if h.is_empty() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else if h == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            crate::util::net::parse_ip(h).ok_or(Error::Addr)?
        };
        let addr = SocketAddr::new(ip, ep.port);
        let opened = match (ep.transport, udp) {
            (Transport::Udp, Some(bind)) => bind(self, addr),
            _ => sys::tcp_listen(addr, 128),
        };
        let sock = match opened {
            Ok(s) => s,
            Err(e) => {
                crate::mlog!(crate::log::LL_ERROR; "listen ", url, ": ", e);
                return Err(io_err_to_code(&e));
            }
        };
        let state = if ep.transport == Transport::Udp {
            State::Open
        } else {
            State::Listening
        };
        let mut conn = Conn::new(handler, ep.transport, state);
        conn.loc = sock.local_addr();
        set_fresh(&mut conn.sock, Some(sock));
        conn.tls = ep.tls;
        conn.accept_kind = kind;
        let h = self.insert_conn(conn)?;
        self.dispatch(h, Event::Open);
        Ok(h)
    }

    /// Adopt `fd`, an open stream descriptor the application made (a connected socket, one
    /// end of a `socketpair`, a pipe), as a connection (Mongoose's `mg_wrapfd`): it is made
    /// non-blocking and belongs to the connection from now on (closed with it). `handler`
    /// gets [`Event::Open`] now, then [`Event::Read`] as bytes arrive; [`Mgr::send`] writes
    /// to it; end of stream closes it. Errors: `Invalid` (not an open descriptor; `fd` is
    /// not closed), `Limit`, `Closing` (then `fd` stays the caller's too).
    pub fn wrap_fd(&self, fd: i32, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        let sock = sys::adopt_stream(fd).map_err(|_| Error::Invalid)?;
        let mut conn = Conn::new(handler, Transport::Tcp, State::Open);
        conn.loc = sock.local_addr();
        conn.rem = sock.peer_addr();
        // The socket joins the connection once it is in the table: a refused insert must
        // not close the caller's descriptor.
        let h = match self.insert_conn(conn) {
            Ok(h) => h,
            Err(e) => {
                if let Sock::Stream(fd) = sock {
                    let _ = fd.into_raw();
                }
                return Err(e);
            }
        };
        if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
            c.sock = Some(sock);
        }
        self.dispatch(h, Event::Open);
        Ok(h)
    }

    /// Set the DSCP code point (0..=63, e.g. 46 for expedited forwarding) of the IP packets
    /// connection `h` sends (Mongoose's `mg_dscp`). Errors: `Stale`, `Invalid` (above 63),
    /// `Unsupported` (no socket yet, while a name resolves; not an IP socket, as a wrapped
    /// `socketpair`; or the platform refuses).
    pub fn set_dscp(&self, h: Handle, dscp: u8) -> Result<(), Error> {
        if dscp > 63 {
            return Err(Error::Invalid);
        }
        let core = self.core.borrow();
        let c = core.conns.get(h).ok_or(Error::Stale)?;
        let sock = c.sock.as_ref().ok_or(Error::Unsupported)?;
        sys::set_dscp(sock, dscp).map_err(|_| Error::Unsupported)
    }

    /// Connect to `url` (`tcp://host:port`, `udp://...`; IPv6 as `[::1]`). Names are resolved
    /// on a helper thread, or by the UDP resolver after [`Mgr::set_dns`] (`mgr/dns.rs`),
    /// never blocking the loop. `handler` gets [`Event::Open`] now, then
    /// [`Event::Resolve`] (names only), then [`Event::Connect`], or [`Event::Error`] then
    /// [`Event::Close`]. Data sent before the connection is established is queued.
    /// Errors: `Url`, `Port`, `Limit`, `Closing`; `Addr` for an IPv6 host in a build without
    /// the feature `ipv6`.
    pub fn connect(&self, url: &str, handler: impl Handler) -> Result<Handle, Error> {
        self.open_client(url, Rc::new(handler), ProtoKind::Raw)
    }

    /// Like [`Mgr::connect`], for an HTTP client: send a request with [`Mgr::send`], get the
    /// response as [`Event::HttpHeaders`] and [`Event::HttpMessage`].
    pub fn http_connect(&self, url: &str, handler: impl Handler) -> Result<Handle, Error> {
        self.connect_with(url, Rc::new(handler), ProtoKind::Http)
    }

    /// [`Mgr::connect`] with a shared handler and a protocol.
    pub fn connect_with(&self, url: &str, handler: Rc<dyn Handler>, kind: ProtoKind) -> Result<Handle, Error> {
        if kind == ProtoKind::Http {
            self.install_http();
        }
        self.open_client(url, handler, kind)
    }

    /// [`Mgr::connect_with`] without installing anything: for `ProtoKind::Raw`.
    pub(crate) fn open_client(&self, url: &str, handler: Rc<dyn Handler>, kind: ProtoKind) -> Result<Handle, Error> {
        let ep = parse_endpoint(url)?;
        if kind == ProtoKind::Http && ep.transport == Transport::Udp {
            return Err(Error::Url);
        }
        if ep.port == 0 {
            return Err(Error::Port);
        }
        if ep.host.is_empty() {
            return Err(Error::Url);
        }
        // Without the feature `ipv6` an IPv6 host (`[...]`, the only hosts with a `:`) is
        // an address that cannot be used, as for `listen`.
        #[cfg(not(feature = "ipv6"))]
        if ep.host.contains(':') {
            return Err(Error::Addr);
        }
        let literal: Option<IpAddr> = crate::util::net::parse_ip(ep.host);
        let now = self.now();
        let dns_deadline = now.saturating_add(self.limits().dns_timeout_ms);
        let state = if literal.is_some() {
            State::Connecting
        } else {
            State::Resolving { deadline: dns_deadline }
        };
        let mut conn = Conn::new(handler, ep.transport, state);
        conn.is_client = true;
        conn.tls = ep.tls;
        set_fresh(&mut conn.url_host, Some(ep.host.to_string()));
        if kind == ProtoKind::Http {
            let p = Proto::HttpClient(alloc::boxed::Box::new(http::HttpClient::new(
                self.limits().http(),
                |m, h, now| m.http_client_step(h, now),
            )));
            set_fresh(&mut conn.proto, p);
        }
        self.with(|core| core.on_connected = Some(|m, h| m.finish_connect(h)));
        let h = self.insert_conn(conn)?;
        if literal.is_none() {
            self.with(|core| core.lookup_timeouts = Some(|m, now| m.lookup_timeouts(now)));
        }
        self.dispatch(h, Event::Open);
        match literal {
            Some(ip) => self.start_connect(h, SocketAddr::new(ip, ep.port)),
            None if self.uses_udp_resolver() => {
                if let Err(e) = self.resolve_udp(h, ep.host, ep.port) {
                    self.fail(h, &format!("host name lookup failed: {e:?}"));
                }
            }
            None => {
                self.start_resolve(h, ep.host, ep.port);
            }
        }
        Ok(h)
    }

    /// Resolve `host` for connection `h` (std: on a helper thread running the C library's
    /// resolver); the answer arrives as `Msg::Resolved` through the wakeup queue.
    #[cfg(feature = "std")]
    fn start_resolve(&self, h: Handle, host: &str, port: u16) {
        self.core.borrow_mut().on_resolved = Some(|m, h, r| m.on_resolved(h, r));
        let shared = self.shared.clone();
        let host = host.to_string();
        let spawned = std::thread::Builder::new().name("meerkat-dns".into()).spawn(move || {
            let r = sys::resolve(&host, port).map_err(|_| ());
            shared.push_internal(Msg::Resolved(h, r));
        });
        if spawned.is_err() {
            self.fail(h, "cannot start the resolver");
        }
    }

    /// Resolve `host` for connection `h` without std: there are no threads to block in
    /// `getaddrinfo`, so names go to the sans-IO DNS client (`src/dns`) over a UDP
    /// connection of this manager (Mongoose's `mg_mgr.dns4`; see `mgr/dns.rs`).
    #[cfg(not(feature = "std"))]
    fn start_resolve(&self, h: Handle, host: &str, port: u16) {
        if self.resolve_udp(h, host, port).is_err() {
            self.fail(h, "host name lookup failed");
        }
    }

    fn start_connect(&self, h: Handle, addr: SocketAddr) {
        let udp = match self.core.borrow().conns.get(h) {
            Some(c) if !c.closing => c.transport == Transport::Udp,
            _ => return,
        };
        let res = if udp {
            self.install_udp();
            sys::udp_connect(addr)
        } else {
            sys::tcp_connect(addr)
        };
        match res {
            Ok(sock) => {
                if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
                    c.loc = sock.local_addr();
                    c.rem = Some(addr);
                    c.sock = Some(sock);
                    c.state = if udp { State::Open } else { State::Connecting };
                }
                if udp {
                    self.core.borrow_mut().stats.connected += 1;
                    self.dispatch(h, Event::Connect);
                }
            }
            // The address is in mg_conn_info; formatting it here would link core::net's
            // IPv4/IPv6 Display code (~5 KiB) into every firmware image.
            Err(e) => self.fail_with(h, &[&"connect failed: ", &e]),
        }
    }

    fn on_resolved(&self, h: Handle, r: Result<Vec<SocketAddr>, ()>) {
        let resolving = matches!(self.core.borrow().conns.get(h), Some(c) if matches!(c.state, State::Resolving { .. }) && !c.closing);
        if !resolving {
            return;
        }
        // Without the feature `ipv6`, the first IPv4 address (IPv6 sockets cannot be made).
        match r
            .ok()
            .and_then(|v| v.into_iter().find(|a| cfg!(feature = "ipv6") || a.is_ipv4()))
        {
            Some(addr) => {
                if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
                    c.state = State::Connecting;
                }
                self.dispatch(h, Event::Resolve);
                self.start_connect(h, addr);
            }
            None => self.fail(h, "host name lookup failed"),
        }
    }

    // ---- sending / closing (called from C through ffi) -----------------------------

    pub fn send(&self, h: Handle, data: &[u8]) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let max_send = core.limits.max_send;
        let c = writable(&mut core.conns, h)?;
        match (&c.sock, c.state) {
            (_, State::Listening) => Err(Error::Unsupported),
            // Installed with the socket (`Mgr::install_udp`).
            (Some(Sock::Udp(_)), _) => core.udp.map_or(Err(Error::Io), |k| (k.send)(c, data)),
            _ => {
                let (proto, out) = c.queue(data.len(), max_send)?;
                match proto {
                    Proto::HttpServer(hs) => {
                        // Installed: the connection was accepted by an HTTP listener.
                        if let Some(k) = core.http_hooks {
                            if (k.feed)(hs, data, out) {
                                core.dirty.push(h);
                            }
                        }
                    }
                    Proto::HttpClient(hc) => {
                        if data.starts_with(b"HEAD ") {
                            hc.parser.set_request_method(b"HEAD");
                        }
                        out.extend_from_slice(data);
                    }
                    // Raw bytes on a WebSocket, as Mongoose's `mg_send` (framed later with
                    // `mg_ws_wrap`, or already framed by the application).
                    Proto::Raw | Proto::Ws(_) | Proto::WsClient(_) | Proto::Mqtt(_) => out.extend_from_slice(data),
                }
                Ok(())
            }
        }
    }

    /// `mg_http_reply`: queue a complete response (see [`http::reply_bytes`]). On a server
    /// connection answering a request it is written straight into the send buffer by
    /// [`http::OutTracker::reply`]; otherwise (or when that declines) it goes through
    /// [`Mgr::send`] like any bytes. Same errors as `send`, and `Invalid` for malformed
    /// `headers` (see [`http::reply_headers`]).
    pub fn http_reply(&self, h: Handle, status: u16, headers: &[u8], body: &[u8]) -> Result<(), Error> {
        // One borrow for the memo and the reply when the memo knows the text (a program's
        // every reply, but the first of each text).
        let mut core = self.core.borrow_mut();
        let headers = match core.reply_headers.lookup(headers) {
            Some(checked) => checked,
            None => {
                // Checked with no borrow held: a refusal is logged, and the log sink may be
                // the application's.
                drop(core);
                let checked = http::reply_headers(headers)?;
                core = self.core.borrow_mut();
                core.reply_headers.remember(checked);
                checked
            }
        };
        {
            let core = &mut *core;
            let max_send = core.limits.max_send;
            let c = writable(&mut core.conns, h)?;
            let server = matches!(c.proto, Proto::HttpServer(_));
            if server && c.transport == Transport::Tcp && c.state != State::Listening {
                // Checked against what `send` would be handed: the whole reply.
                let (proto, out) = c.queue(http::reply_len(status, headers.bytes(), body.len()), max_send)?;
                if let Proto::HttpServer(hs) = proto {
                    if let Some(ev) = hs.out.reply(status, headers, body, out) {
                        if hs.note_out(ev) {
                            core.dirty.push(h);
                        }
                        return Ok(());
                    }
                }
            }
        }
        drop(core);
        self.send(h, &http::reply_bytes(status, headers.bytes(), body))
    }

    /// Queue an HTTP response whose body is `len` bytes of `file` from `offset`, sent with
    /// `sendfile` where the OS has it. `head` is the complete head (it must frame the body,
    /// e.g. with Content-Length). For a HEAD request only the head goes out. On a non-HTTP
    /// connection the head and the file are simply queued.
    pub fn send_file(
        &self,
        h: Handle,
        head: &[u8],
        file: Option<(Box<dyn crate::fs::File>, u64, u64)>,
    ) -> Result<(), Error> {
        self.send_file_with(h, head, file, false)
    }

    /// [`Mgr::send_file`], and with `plain` for a head its maker knows to be plain
    /// ([`http::plain_head`]: one Content-Length equal to the file's length, no Connection or
    /// Transfer-Encoding, as `serve` builds them): written without parsing it back
    /// ([`http::OutTracker::head_known`]). The static server's one call for every reply.
    pub(crate) fn send_file_with(
        &self,
        h: Handle,
        head: &[u8],
        file: Option<(Box<dyn crate::fs::File>, u64, u64)>,
        plain: bool,
    ) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let max_send = core.limits.max_send;
        let c = writable(&mut core.conns, h)?;
        if c.state == State::Listening || c.transport == Transport::Udp {
            return Err(Error::Unsupported);
        }
        let (proto, out) = c.queue(head.len(), max_send)?;
        let send_body = match proto {
            Proto::HttpServer(hs) => {
                let known = match &file {
                    Some((_, _, len)) if plain => hs.out.head_known(head, *len, out),
                    _ => None,
                };
                let (ev, send_body) = match known {
                    Some(k) => k,
                    None => hs.out.feed_head_external_body(head, out),
                };
                if hs.note_out(ev) {
                    core.dirty.push(h);
                }
                send_body
            }
            _ => {
                out.extend_from_slice(head);
                true
            }
        };
        if let (true, Some((file, offset, len))) = (send_body, file) {
            if len > 0 {
                c.files.push_back(FileSeg {
                    file,
                    offset,
                    remaining: len,
                    after: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// Move the received bytes not yet consumed to the end of `out` (they are consumed) and
    /// return how many. Raw connections only (`Err(Unsupported)` on HTTP ones, whose bytes
    /// belong to the HTTP machine); `Err(Stale)` for a connection that is gone.
    pub fn read(&self, h: Handle, out: &mut Vec<u8>) -> Result<usize, Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        if !matches!(c.proto, Proto::Raw) {
            return Err(Error::Unsupported);
        }
        let got = c.recv_pending();
        out.extend_from_slice(got);
        let n = got.len();
        c.recv_off += n;
        Ok(n)
    }

    /// How many more bytes [`Mgr::send`] would accept on `h` now: `max_send` minus what is
    /// already buffered (on UDP, where a datagram goes out at once, `max_send`). Errors:
    /// `Stale`, `Closing` after [`Mgr::close`], `Unsupported` on a TCP listener.
    pub fn send_room(&self, h: Handle) -> Result<usize, Error> {
        let core = self.core.borrow();
        let max_send = core.limits.max_send;
        let c = core.conns.get(h).ok_or(Error::Stale)?;
        if c.closing || c.close_started {
            Err(Error::Closing)
        } else if c.state == State::Listening {
            Err(Error::Unsupported)
        } else if c.transport == Transport::Udp {
            Ok(max_send)
        } else {
            Ok(max_send.saturating_sub(c.send_buffered()))
        }
    }

    /// Call `f` with the received bytes of `h` not consumed yet (without copying them).
    /// `f` must not call back into the manager: its state is borrowed while `f` runs (a
    /// call would panic). To take the bytes, use [`Mgr::read`].
    pub fn recv_peek<R>(&self, h: Handle, f: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
        let core = self.core.borrow();
        Ok(f(core.conns.get(h).ok_or(Error::Stale)?.recv_pending()))
    }

    /// Whether `t` is a live timer of this manager.
    pub fn has_timer(&self, t: Handle) -> bool {
        timers_ref(&self.core.borrow().timers).is_some_and(|x| x.table.contains(t))
    }

    /// What there is to know about connection `h` (addresses, state, buffered bytes).
    pub fn info(&self, h: Handle) -> Result<ConnInfo, Error> {
        let core = self.core.borrow();
        let max_recv = core.limits.max_recv;
        let c = core.conns.get(h).ok_or(Error::Stale)?;
        // The lengths first (out-of-line calls): the fields are then stored straight into
        // the result, not staged around the calls.
        let recv_len = c.recv_pending().len();
        let send_len = c.send_pending();
        Ok(ConnInfo {
            id: h.serial(),
            local: c.loc,
            remote: c.rem,
            recv_len,
            send_len,
            is_listening: c.state == State::Listening || (c.transport == Transport::Udp && !c.is_client),
            is_client: c.is_client,
            is_accepted: c.is_accepted,
            is_udp: c.transport == Transport::Udp,
            is_tls: c.is_tls(),
            is_websocket: matches!(c.proto, Proto::Ws(_)),
            is_http: matches!(c.proto, Proto::HttpServer(_) | Proto::HttpClient(_)) || c.accept_kind == ProtoKind::Http,
            is_resolving: matches!(c.state, State::Resolving { .. }),
            is_connecting: c.state == State::Connecting,
            is_closing: c.closing || c.close_started,
            is_draining: c.draining,
            is_full: recv_len >= max_recv,
        })
    }

    /// `mg_recv_consume`: drop `n` received bytes the handler has dealt with. Raw
    /// connections only: on an HTTP connection the protocol consumes what it parses.
    pub fn recv_consume(&self, h: Handle, n: usize) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        if !matches!(c.proto, Proto::Raw) {
            return Err(Error::Unsupported);
        }
        if n > c.recv_pending().len() {
            return Err(Error::Invalid);
        }
        c.recv_off += n;
        Ok(())
    }

    /// `mg_recv_pause`: stop or resume reading; resuming lets the protocol look at what is
    /// already buffered.
    pub fn recv_pause(&self, h: Handle, paused: bool) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        core.conns.get_mut(h).ok_or(Error::Stale)?.paused = paused;
        core.http_quiet_until = 0;
        if !paused {
            core.mark_dirty(h);
        }
        Ok(())
    }

    /// `mg_http_stream`: deliver the body of the request being read as `Event::HttpChunk`s.
    pub fn http_stream(&self, h: Handle) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        match c.http_server_mut() {
            Some(hs) if hs.phase == http::Phase::InMessage => {
                hs.streaming = true;
                Ok(())
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// The handler of connection `h`.
    pub fn handler(&self, h: Handle) -> Result<Rc<dyn Handler>, Error> {
        let core = self.core.borrow();
        Ok(core.conns.get(h).ok_or(Error::Stale)?.handler.clone())
    }

    /// Replace the handler of connection `h`; it takes effect with the next event.
    pub fn set_handler(&self, h: Handle, handler: Rc<dyn Handler>) -> Result<(), Error> {
        let old = {
            let mut core = self.core.borrow_mut();
            let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
            core::mem::replace(&mut c.handler, handler)
        };
        drop(old); // with no borrow held
        Ok(())
    }

    /// Take what hangs in connection `h`'s extension slot (user data of any type, dropped
    /// after the connection's [`Event::Close`] unless taken), leaving it empty.
    pub fn take_ext(&self, h: Handle) -> Result<Option<Box<dyn Any>>, Error> {
        Ok(self.core.borrow_mut().conns.get_mut(h).ok_or(Error::Stale)?.ext.take())
    }

    /// Hang `v` in connection `h`'s extension slot; returns what was there.
    pub fn set_ext(&self, h: Handle, v: Option<Box<dyn Any>>) -> Result<Option<Box<dyn Any>>, Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        Ok(core::mem::replace(&mut c.ext, v))
    }

    /// A [`Sender`]: messages to this manager's connections from any thread.
    pub fn sender(&self) -> Sender {
        Sender(self.shared.clone())
    }

    /// Close `h` now, discarding unsent data: it gets [`Event::Close`] at the end of the
    /// current poll, then its handle goes stale. Idempotent. `Err(Stale)` if it is gone.
    pub fn close(&self, h: Handle) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        c.closing = true;
        Ok(())
    }

    /// Close `h` once everything queued has been sent.
    pub fn drain(&self, h: Handle) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        let c = core.conns.get_mut(h).ok_or(Error::Stale)?;
        c.draining = true;
        Ok(())
    }

    /// Deliver `Event::Close` (once) and free everything the connection owns.
    fn close_now(&self, h: Handle) {
        {
            let mut core = self.core.borrow_mut();
            let Some(c) = core.conns.get_mut(h) else { return };
            if c.close_started {
                return;
            }
            c.close_started = true;
            c.closing = true;
        }
        self.dispatch(h, Event::Close);
        let (conn, pass, orphans) = {
            let mut core = self.core.borrow_mut();
            #[allow(unused_mut)]
            let mut conn = core.conns.remove(h);
            #[cfg(feature = "tls")]
            if let Some(c) = conn.as_mut() {
                Self::tls_goodbye(c);
            }
            core.stats.closed += 1;
            (conn, core.timer_pass, self.shared.set_dead_due(h))
        };
        // Closes the socket and drops what hung on the connection (its handler, `ext`, its
        // timers' callbacks) with no borrow held: their destructors may call back in. A
        // connection owns timers only once the first timer installed the pass, which takes
        // them out of their table first.
        match (conn, pass) {
            (Some(c), Some(p)) if !c.timers.is_empty() => (p.close_owned)(self, c),
            (conn, _) => drop(conn),
        }
        // Only queued messages make orphans, and the first one queued installed `f`.
        if let Some((orphans, f)) = orphans {
            f(self, h, orphans);
        }
    }

    /// Hand a wakeup payload that cannot be delivered to the undelivered callback.
    pub(super) fn report_undelivered(&self, h: Handle, data: Vec<u8>) {
        let f = {
            let mut core = self.core.borrow_mut();
            core.stats.wakeups_undelivered += 1;
            core.undelivered_changed = false;
            core.undelivered.0.take()
        };
        crate::mlog!(
            crate::log::LL_DEBUG;
            "wakeup for closed conn ",
            h.serial(),
            " not delivered (",
            data.len(),
            " bytes)"
        );
        let Some(mut f) = f else { return };
        {
            let _busy = Busy::enter(&self.busy);
            f(self, h, data);
        }
        // Put it back unless the callback installed another one (or removed itself).
        let mut core = self.core.borrow_mut();
        if !core.undelivered_changed {
            core.undelivered.0 = Some(f);
            return;
        }
        drop(core);
        drop(f);
    }

    /// Call `f(mgr, conn, payload)` on this thread for each message a [`Sender`] queued whose
    /// connection closed before delivery (the payload is handed over); `None` stops that.
    /// Without a callback such payloads are dropped (and counted in [`Stats`]).
    pub fn set_undelivered(&self, f: Option<UndeliveredFn>) {
        let old = self.with(|core| {
            core.undelivered_changed = true;
            core::mem::replace(&mut core.undelivered.0, f)
        });
        drop(old);
    }

    // ---- timers -----------------------------------------------------------------------

    /// Call `f(mgr)` after `ms` milliseconds, from [`Mgr::poll`] (resolution: one poll),
    /// once or every `ms` ([`TimerOpts`]). A one-shot timer is freed after it fires; its
    /// handle then goes stale. Errors: `Limit` (`Limits::max_timers`).
    pub fn timer_add(&self, ms: u64, opts: TimerOpts, f: impl FnMut(&Mgr) + 'static) -> Result<Handle, Error> {
        self.timer_add_with(ms, opts, Callback::Global(Box::new(f)), None)
    }

    /// Like [`Mgr::timer_add`], for a timer that belongs to connection `conn`: `f(mgr, conn)`
    /// is called. Once `conn` is closing the timer no longer fires, and it is freed right
    /// after the connection's [`Event::Close`]. Any number per connection. Errors as
    /// `timer_add`, and `Stale` for a connection that is gone or being closed.
    pub fn timer_add_conn(
        &self,
        conn: Handle,
        ms: u64,
        opts: TimerOpts,
        f: impl FnMut(&Mgr, Handle) + 'static,
    ) -> Result<Handle, Error> {
        self.timer_add_with(ms, opts, Callback::Conn(Box::new(f)), Some(conn))
    }

    /// Add a timer (`owner`: the connection it belongs to).
    pub fn timer_add_with(
        &self,
        ms: u64,
        opts: TimerOpts,
        cb: Callback,
        owner: Option<Handle>,
    ) -> Result<Handle, Error> {
        let now = self.now();
        let mut core = self.core.borrow_mut();
        if let Some(o) = owner {
            if core.conns.get(o).is_none_or(|c| c.close_started) {
                return Err(Error::Stale);
            }
        }
        let max = core.limits.max_timers;
        let timers = core.timers.get_or_insert_with(|| Box::new(Timers::new(max)));
        let Some(timers) = timers.downcast_mut::<Timers>() else {
            return Err(Error::Invalid); // never: nothing else is put there
        };
        let t = timers.add(now, ms, opts, cb, owner).map_err(table_err)?;
        core.timer_pass = Some(TimerPass {
            run: |m, now| m.run_timers(now),
            next: |core| timers_mut(&mut core.timers).and_then(Timers::next_deadline),
            close_owned: |m, c| {
                let timers = m.with(|core| timers_mut(&mut core.timers).map(|t| t.take_owned(&m.shared, &c.timers)));
                drop(c);
                drop(timers);
            },
            free_all: |m| {
                let timers = m.with(|core| timers_mut(&mut core.timers).map(|t| t.take_all()));
                drop(timers);
            },
        });
        self.shared.set_timer_live(t, true);
        if let Some(o) = owner {
            if let Some(c) = core.conns.get_mut(o) {
                c.timers.push(t);
            }
        }
        Ok(t)
    }

    /// Cancel and free a timer; safe inside its own callback. `Err(Stale)` if it already
    /// fired (one-shot), was freed, or its connection closed.
    pub fn timer_free(&self, t: Handle) -> Result<(), Error> {
        let timer = {
            let mut core = self.core.borrow_mut();
            let timer = timers_mut(&mut core.timers)
                .and_then(|x| x.remove(t))
                .ok_or(Error::Stale)?;
            self.shared.set_timer_live(t, false);
            if let Some(o) = timer.owner {
                if let Some(c) = core.conns.get_mut(o) {
                    c.timers.retain(|x| *x != t);
                }
            }
            timer
        };
        drop(timer); // its callback, with no borrow held
        Ok(())
    }

    fn run_timers(&self, now: u64) {
        let due = timers_mut(&mut self.core.borrow_mut().timers)
            .map(|t| t.take_due(now))
            .unwrap_or_default();
        for d in due {
            // Lent to the call; None: freed by an earlier callback in this batch.
            let Some(mut cb) =
                timers_mut(&mut self.core.borrow_mut().timers).and_then(|x| x.table.get_mut(d.h)?.cb.take())
            else {
                continue;
            };
            {
                let _busy = Busy::enter(&self.busy);
                match &mut cb {
                    Callback::Global(f) => f(self),
                    Callback::Conn(f) => {
                        // Like every event, a connection's timers stop at close.
                        let owner_open = d
                            .owner
                            .filter(|o| self.core.borrow().conns.get(*o).is_some_and(|c| !c.closing));
                        if let Some(o) = owner_open {
                            f(self, o);
                        }
                    }
                }
            }
            let mut cb = Some(cb);
            {
                let mut core = self.core.borrow_mut();
                let core = &mut *core;
                let Some(timers) = timers_mut(&mut core.timers) else {
                    continue;
                };
                if let Some(t) = timers.table.get_mut(d.h) {
                    if t.repeat {
                        t.cb = cb.take();
                    }
                }
                // Some(owner): a one-shot timer, gone now.
                if let Some(owner) = timers.after_run(d.h, now) {
                    self.shared.set_timer_live(d.h, false);
                    if let Some(c) = owner.and_then(|o| core.conns.get_mut(o)) {
                        c.timers.retain(|x| *x != d.h);
                    }
                }
            }
            drop(cb); // a one-shot's (or a freed timer's) callback, with no borrow held
        }
    }

    // ---- the loop ---------------------------------------------------------------------

    /// One iteration: wait up to `timeout_ms` for I/O, then deliver every event that is due.
    /// The time comes from the platform clock (`sys::monotonic_millis`, or the host's clock
    /// installed with `mg_set_millis_fn`), read before and after the wait; see
    /// [`Mgr::poll_at`] to pass it in instead.
    pub fn poll(&self, timeout_ms: i32) -> Result<(), Error> {
        self.poll_clocked(timeout_ms, &crate::util::clock::millis)
    }

    /// One iteration at time `now` (milliseconds of a monotonic clock the caller owns,
    /// smoltcp's `poll(now)`): deadlines and timers are checked against `now`, the wait is
    /// at most `timeout_ms` and ends early at the next deadline relative to `now`, and what
    /// becomes ready during the wait is handled as of `now` too. A platform that waits
    /// outside the manager passes `timeout_ms = 0`.
    pub fn poll_at(&self, now: u64, timeout_ms: i32) -> Result<(), Error> {
        self.external_now.set(Some(now));
        self.poll_clocked(timeout_ms, &|| now)
    }

    /// The time for a deadline set between polls (a new timer, a connect's name lookup): the
    /// last `poll_at`'s `now` once the manager is driven by `poll_at` (so that everything
    /// shares the caller's clock), else the platform clock that `poll` reads.
    pub(crate) fn now(&self) -> u64 {
        match self.external_now.get() {
            Some(now) => now,
            None => crate::util::clock::millis(),
        }
    }

    fn poll_clocked(&self, timeout_ms: i32, clock: &dyn Fn() -> u64) -> Result<(), Error> {
        if self.is_busy() {
            return Err(Error::Busy);
        }
        let _busy = Busy::enter(&self.busy);
        let now = clock();
        let mut due = self.prepare_poll(now, timeout_ms);
        if let Some((h, e)) = due.failed {
            due.close_ready = true;
            self.fail_with(h, &[&"cannot watch the socket: ", &e]);
        }
        let timeout = self.poll_timeout(now, timeout_ms, due);
        let mut ready = self.with(|core| core::mem::take(&mut core.ready));
        let polled = self.with(|core| core.poller.wait(timeout, &mut ready));
        let now = clock();
        let mut woke = false;
        for r in ready.iter() {
            let token = r.token();
            match Handle::from_raw(token) {
                Some(h) if token != sys::WAKER_TOKEN => self.on_ready(h, r.bits(), now),
                _ => woke = true,
            }
        }
        ready.clear();
        // `Core::ready` still holds the empty `Vec` `take` left (the loop is not re-entered,
        // `is_busy`): no drop glue for it.
        self.with(|core| set_fresh(&mut core.ready, ready));
        #[cfg(feature = "tls")]
        self.tls_drain_all();
        self.run_steps(now);
        // Drains the waker; the messages come with their delivery (see `wakeup::Delivery`).
        if let Some((msgs, d)) = self.shared.take_due(woke) {
            (d.deliver)(self, msgs);
        }
        self.check_deadlines(now);
        // Installed by the first timer (see `TimerPass`).
        let timers = self.core.borrow().timer_pass;
        if let Some(p) = timers {
            (p.run)(self, now);
        }
        self.poll_event(now);
        self.run_steps(now);
        self.flush_all();
        self.close_pending();
        polled.map(|_| ()).map_err(|_| Error::Io)
    }

    /// Tell the poller what every socket waits for, and gather what the connections say
    /// about the poll timeout (see [`PollDue`]), in one pass.
    fn prepare_poll(&self, now: u64, timeout_ms: i32) -> PollDue {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        core.poller.begin();
        // No HTTP deadline passes before `http_quiet_until` (see there): when that is after
        // this wait, the HTTP deadlines cannot shorten it and are not looked at.
        // (Without the HTTP hooks no connection speaks HTTP: there is no HTTP deadline.)
        let http_due = core
            .http_due
            .filter(|_| timeout_ms < 0 || core.http_quiet_until <= now.saturating_add(timeout_ms as u64));
        let http_far = http_due.is_none();
        // At the cap, listeners are watched only if a connection can make room (eviction).
        let full = core.conns.is_full() && Self::oldest_evictable(&core.conns, u64::MAX).is_none();
        let max_recv = core.limits.max_recv;
        let mut paused = false;
        let mut due = PollDue::default();
        // The WebSocket and MQTT deadlines, through their hooks: no such connection exists
        // before its protocol's hooks are installed. (A pass of their own over the table, so
        // the walk below may skip unchanged connections without missing one.)
        if let Some(k) = core.ws_hooks {
            due.deadline = (k.due)(&core.conns, &core.limits);
        }
        if let Some(k) = core.mqtt_hooks {
            due.deadline = due.deadline.min((k.due)(&core.conns, &core.limits));
        }
        // An open connection that did not change since the last poll looked at it (see
        // `Table::walk_changed`: every change lends it out mutably) answers as it did then:
        // not ready to close (`close_pending` closed every connection that was, and only a
        // change makes one ready), the same interest (what epoll has registered: a function
        // of the connection and `max_recv`, whose change marks every connection) and the
        // same deadlines: none but the HTTP ones (not needed while `http_far`). poll(2) is told
        // every socket on every poll, so there nothing is skipped.
        let skip_unchanged = http_far && core.poller.keeps_interest();
        let Core {
            conns, poller, limits, ..
        } = &mut *core;
        let limits = &*limits;
        conns.walk_changed(WALK_PREPARE, |h, c, changed| {
            // (An open connection's own deadlines are all HTTP ones: the WebSocket and MQTT
            // deadlines came from their hooks above.)
            if !changed && skip_unchanged && c.state == State::Open && c.paused_until <= now {
                return false;
            }
            if c.ready_to_close() {
                due.close_ready = true;
            }
            let (wake_at, http) = match c.state {
                State::Resolving { deadline } => (deadline, false),
                _ => (u64::MAX, true),
            };
            let wake_at = match http_due {
                Some(f) if http => f(c, limits).min(wake_at),
                _ => wake_at,
            };
            let wake_at = if c.paused_until > now {
                wake_at.min(c.paused_until)
            } else {
                wake_at
            };
            due.deadline = due.deadline.min(wake_at);
            let Some(sock) = &c.sock else { return false };
            let mut ev = 0;
            match c.state {
                _ if c.closing => {}
                State::Listening => {
                    if full || c.paused_until > now {
                        paused = true;
                    } else {
                        ev = sys::POLLIN;
                    }
                }
                State::Connecting => ev = sys::POLLOUT,
                State::Resolving { .. } => {}
                State::Open => {
                    if !c.eof && !c.paused && c.recv_pending().len() < max_recv {
                        ev |= sys::POLLIN;
                    }
                    if (c.send_pending() > 0 || c.tls_pending_write()) && c.transport == Transport::Tcp {
                        ev |= sys::POLLOUT;
                    }
                }
            }
            match poller.update(sock.fd(), h.raw(), &mut c.polled, ev) {
                Ok(()) => false,
                Err(e) => {
                    // Reported after the walk (see `PollDue::failed`); the changed mark is
                    // kept, so the next pass asks the poller again for this connection.
                    due.failed.get_or_insert((h, e));
                    true
                }
            }
        });
        if paused {
            core.stats.accept_paused += 1;
        }
        due
    }

    fn poll_timeout(&self, now: u64, timeout_ms: i32, due: PollDue) -> i32 {
        if due.close_ready {
            return 0;
        }
        let t = if timeout_ms < 0 { i64::MAX } else { timeout_ms as i64 };
        // The earliest deadline, the timers' included (`u64::MAX`, none, bounds nothing).
        let next = {
            let mut core = self.core.borrow_mut();
            core.timer_pass.and_then(|p| (p.next)(&mut core))
        };
        let deadline = next.map_or(due.deadline, |d| d.min(due.deadline));
        let t = t.min(deadline.saturating_sub(now).min(i64::MAX as u64) as i64);
        if t == i64::MAX {
            -1
        } else {
            t.clamp(0, i32::MAX as i64) as i32
        }
    }

    fn on_ready(&self, h: Handle, revents: i16, now: u64) {
        let Some((state, transport)) = self.core.borrow().conns.get(h).map(|c| (c.state, c.transport)) else {
            return;
        };
        match (state, transport) {
            (State::Listening, _) => self.accept_all(h, now),
            (State::Connecting, _) => {
                // Installed by `open_client`, the only maker of connecting connections.
                let f = self.core.borrow().on_connected;
                if let Some(f) = f {
                    f(self, h);
                }
            }
            (State::Open, Transport::Udp) => {
                // Installed where UDP sockets are opened (`Mgr::install_udp`).
                let hooks = self.core.borrow().udp;
                if let Some(k) = hooks {
                    (k.read)(self, h);
                }
            }
            (State::Open, Transport::Tcp) => {
                if revents & (sys::POLLIN | sys::POLLHUP | sys::POLLERR) != 0 {
                    self.read_stream(h);
                }
                if revents & sys::POLLOUT != 0 {
                    self.flush(h);
                }
            }
            (State::Resolving { .. }, _) => {}
        }
    }

    /// Out of line (once per connection, not per poll): `mg_mgr_poll` keeps only the call
    /// (http-hello −48 B, tcp-echo −48 B).
    #[inline(never)]
    fn accept_all(&self, lh: Handle, now: u64) {
        // Victims come from the connections there before this call: not one it accepted.
        let newest = self.core.borrow().conns.newest_serial();
        for _ in 0..ACCEPT_BATCH {
            let (stream, addr, handler, tls, kind, _setup, victim) = {
                let core = self.core.borrow();
                if core.freeing {
                    return;
                }
                // At the cap: the connection that may make room, if any (see
                // `oldest_evictable`; asked again for each accept, as Event::Close handlers
                // may have changed things).
                let mut victim = None;
                if core.conns.is_full() {
                    victim = Self::oldest_evictable(&core.conns, newest);
                    if victim.is_none() {
                        return;
                    }
                }
                let Some(l) = core.conns.get(lh) else { return };
                let Some(Sock::Listener(sock)) = &l.sock else { return };
                match sys::accept(sock) {
                    Ok(Some((s, addr))) => {
                        #[cfg(feature = "tls")]
                        let setup = l.tls_setup.clone();
                        #[cfg(not(feature = "tls"))]
                        let setup = ();
                        (s, addr, l.handler.clone(), l.tls, l.accept_kind, setup, victim)
                    }
                    Ok(None) => return,
                    Err(e) => {
                        drop(core);
                        // "accept: ", out of the log's one literal (see `log::LINE_TEXTS`).
                        crate::mlog!(crate::log::LL_ERROR; crate::log::ACCEPT, e);
                        if let Some(l) = self.core.borrow_mut().conns.get_mut(lh) {
                            l.paused_until = now + 100; // EMFILE and friends: back off instead of spinning
                        }
                        return;
                    }
                }
            };
            if let Some(v) = victim {
                self.evict(v);
            }
            let mut conn = Conn::new(handler, Transport::Tcp, State::Open);
            if kind == ProtoKind::Http {
                // Installed by the listen that made `kind` Http.
                let core = self.core.borrow();
                if let Some(k) = core.http_hooks {
                    set_fresh(&mut conn.proto, (k.accepted)(core.limits.http(), now));
                }
            } else if kind == ProtoKind::Mqtt {
                // Installed by the `mqtt_listen` that made `kind` Mqtt.
                let accepted = self.core.borrow().mqtt_hooks.and_then(|k| k.accepted);
                if let Some(f) = accepted {
                    set_fresh(&mut conn.proto, f());
                }
            }
            conn.is_accepted = true;
            conn.tls = tls;
            conn.rem = Some(addr);
            let sock = Sock::Stream(stream);
            conn.loc = sock.local_addr();
            set_fresh(&mut conn.sock, Some(sock));
            let Ok(h) = self.insert_conn(conn) else { return };
            self.with(|core| core.stats.accepted += 1);
            #[cfg(feature = "tls")]
            if let Some(setup) = _setup {
                self.tls_on_accept(h, setup);
            }
            self.dispatch(h, Event::Open);
            self.dispatch(h, Event::Accept);
        }
    }

    /// Of the connections that [`Conn::eviction_age`] allows to close at the cap, and whose
    /// serial is at most `newest`, the one that has been in its state longest (ties: the
    /// lowest handle), found in one pass over the table. Asked only at the cap: for each accept there (the victim of each is the
    /// oldest then) and by [`Mgr::prepare_poll`] (whether the listeners are watched). A
    /// sorted batch of victims found once per accept call, as before, cost 0.6 KB of code
    /// more; a second `BinaryHeap` type beside the timers' 0.9 KB.
    #[inline(never)]
    fn oldest_evictable(conns: &Table<Conn>, newest: u64) -> Option<Handle> {
        let mut best: Option<(u64, Handle)> = None;
        for (h, c) in conns.iter() {
            if h.serial() > newest {
                continue;
            }
            if let Some(age) = c.eviction_age() {
                if best.is_none_or(|b| (age, h) < b) {
                    best = Some((age, h));
                }
            }
        }
        best.map(|(_, h)| h)
    }

    /// Close `h` now to make room at the connection cap (one `Event::Close`, slot freed).
    fn evict(&self, h: Handle) {
        crate::mlog!(
            crate::log::LL_INFO;
            "conn ",
            h.serial(),
            ": closed to make room at the connection cap"
        );
        self.with(|core| core.stats.evicted += 1);
        self.close_now(h);
    }

    fn finish_connect(&self, h: Handle) {
        let outcome = {
            let core = self.core.borrow();
            let Some(c) = core.conns.get(h) else { return };
            let Some(sock) = &c.sock else { return };
            match sock.take_error() {
                Ok(None) => match sock.peer_addr() {
                    Some(_) => Ok(sock.local_addr()),
                    None => Err(None), // refused
                },
                Ok(Some(e)) | Err(e) => Err(Some(e)),
            }
        };
        match outcome {
            Ok(loc) => {
                self.with(|core| {
                    core.stats.connected += 1;
                    if let Some(c) = core.conns.get_mut(h) {
                        c.state = State::Open;
                        c.loc = loc;
                    }
                });
                self.dispatch(h, Event::Connect);
            }
            Err(Some(e)) => self.fail_with(h, &[&"connect failed: ", &e]),
            Err(None) => self.fail(h, "connect failed: connection refused"),
        }
    }

    /// How the bytes of `h` travel, found with one look at the connection before reading or
    /// flushing. A TLS connection that got there without a TLS session (see
    /// [`Conn::tls_missing`]) is refused: an error event that says what to do, then the
    /// close; nothing has been read from or written to the socket.
    fn io_route(&self, h: Handle) -> Route {
        let (missing, _session) = match self.core.borrow().conns.get(h) {
            #[cfg(feature = "tls")]
            Some(c) => (c.tls_missing() && !c.closing, c.tls_session.is_some()),
            #[cfg(not(feature = "tls"))]
            Some(c) => (c.tls_missing() && !c.closing, false),
            None => (false, false),
        };
        if missing {
            #[cfg(feature = "tls")]
            let msg = "TLS not set up: the URL is https://, wss://, mqtts://, tls:// or ssl:// but \
                       mg_tls_init() was not called (call it in MG_EV_ACCEPT or MG_EV_CONNECT when \
                       mg_conn_info() says is_tls, or once on the listener); closing instead of \
                       speaking plaintext";
            #[cfg(not(feature = "tls"))]
            let msg = "TLS not available: the URL is https://, wss://, mqtts://, tls:// or ssl:// \
                       but this build of meerkat has no TLS (cargo feature `tls`); closing instead \
                       of speaking plaintext";
            self.fail(h, msg); // logs at error level
            return Route::Refused;
        }
        #[cfg(feature = "tls")]
        if _session {
            return Route::Tls;
        }
        Route::Plain
    }

    fn read_stream(&self, h: Handle) {
        self.read_routed(h, false)
    }

    /// [`Mgr::read_stream`]; `routed` as for [`Mgr::flush_routed`].
    fn read_routed(&self, h: Handle, routed: bool) {
        let (total, err, f) = {
            let mut guard = self.core.borrow_mut();
            // One look at the connection for the route, the dirty flag and the reads
            // (`Core::mark_dirty` would look again).
            let core = &mut *guard;
            let Some(c) = core.conns.get_mut(h) else { return };
            if !routed && !c.plain_io() {
                drop(guard);
                match self.io_route(h) {
                    Route::Refused => {}
                    #[cfg(feature = "tls")]
                    Route::Tls => self.tls_read(h),
                    Route::Plain => self.read_routed(h, true),
                }
                return;
            }
            let max_recv = core.limits.max_recv;
            if c.mark_proto_dirty() {
                core.dirty.push(h);
            }
            c.compact_recv();
            let Conn {
                sock: Some(Sock::Stream(s)),
                recv,
                eof,
                ..
            } = &mut *c
            else {
                return;
            };
            let mut total = 0usize;
            let mut err = None;
            for _ in 0..READS_PER_POLL {
                let room = max_recv.saturating_sub(recv.len()).min(core.scratch.len());
                if room == 0 {
                    break;
                }
                match sys::read(s, &mut core.scratch[..room]) {
                    Ok(0) => {
                        *eof = true;
                        break;
                    }
                    Ok(n) => {
                        recv.extend_from_slice(&core.scratch[..n]);
                        total += n;
                        if n < room {
                            break;
                        }
                    }
                    Err(e) if sys::would_block(&e) => break,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            if recv.len() >= max_recv {
                core.http_quiet_until = 0; // reading paused (see there)
            }
            // The handler for Event::Read, found in this look.
            let f = if total > 0 {
                c.handler_for(&Event::Read(total))
            } else {
                None
            };
            (total, err, f)
        };
        if let Some(f) = f {
            self.deliver_in_poll(h, &f, Event::Read(total));
        }
        if let Some(e) = err {
            self.fail_with(h, &[&e]);
        }
    }

    fn read_udp(&self, h: Handle) {
        for _ in 0..16 {
            let got = {
                let mut core = self.core.borrow_mut();
                let core = &mut *core;
                let Some(c) = core.conns.get_mut(h) else { return };
                let Some(Sock::Udp(u)) = &c.sock else { return };
                match sys::udp_recv_from(u, &mut core.scratch) {
                    Ok((n, from)) => {
                        // One datagram per READ: what the handler left unconsumed is dropped.
                        c.recv.clear();
                        c.recv_off = 0;
                        c.recv.extend_from_slice(&core.scratch[..n]);
                        c.rem = Some(from);
                        Ok(n)
                    }
                    Err(e) => Err(e),
                }
            };
            match got {
                Ok(n) => self.dispatch(h, Event::Read(n)),
                Err(e) if sys::would_block(&e) => return,
                Err(e) => {
                    // ICMP errors on UDP are not fatal for a listener.
                    crate::mlog!(crate::log::LL_DEBUG; "udp recv: ", e);
                    return;
                }
            }
        }
    }

    fn flush(&self, h: Handle) {
        self.flush_routed(h, false)
    }

    /// [`Mgr::flush`]; `routed`: [`Mgr::io_route`] said [`Route::Plain`]. A connection
    /// without TLS (the usual case, [`Conn::plain_io`]) is recognised in the same look
    /// that writes; the others are routed first.
    fn flush_routed(&self, h: Handle, routed: bool) {
        let (written, err, f) = {
            let mut core = self.core.borrow_mut();
            let Core { conns, scratch, .. } = &mut *core;
            let Some(c) = conns.get_mut(h) else { return };
            if !routed && !c.plain_io() {
                drop(core);
                match self.io_route(h) {
                    Route::Refused => {}
                    #[cfg(feature = "tls")]
                    Route::Tls => {
                        self.tls_flush(h);
                        if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
                            Self::tls_shrink(c);
                        }
                    }
                    Route::Plain => self.flush_routed(h, true),
                }
                return;
            }
            if c.state != State::Open || c.close_started {
                return;
            }
            let mut s: &sys::Fd = match &c.sock {
                Some(Sock::Stream(s)) => s,
                _ => return,
            };
            let mut written = 0usize;
            let mut err = None;
            loop {
                if c.send_off < c.send.len() {
                    match sys::write(s, &c.send[c.send_off..]) {
                        Ok(0) => break,
                        Ok(n) => {
                            c.send_off += n;
                            written += n;
                            continue;
                        }
                        Err(e) if sys::would_block(&e) => break,
                        Err(e) => {
                            err = Some(FlushError::Sock(e));
                            break;
                        }
                    }
                }
                if c.files.is_empty() {
                    break;
                }
                // The step takes the connection whole (three arguments, not six); the
                // socket is looked up again after it, on the file path only.
                match flush_file_step(c, scratch, &mut written) {
                    Ok(true) => {
                        let Some(Sock::Stream(fd)) = &c.sock else { break };
                        s = fd;
                    }
                    Ok(false) => break,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            if c.send_off == c.send.len() {
                c.send.clear();
                c.send_off = 0;
                if c.send.capacity() > 64 * 1024 {
                    c.send = Vec::new();
                }
            } else if c.send_off > 64 * 1024 {
                c.send.drain(..c.send_off);
                c.send_off = 0;
            }
            // The handler for Event::Write, found in this look.
            let f = if written > 0 {
                c.handler_for(&Event::Write(written))
            } else {
                None
            };
            (written, err, f)
        };
        if let Some(f) = f {
            self.deliver_in_poll(h, &f, Event::Write(written));
        }
        match err {
            Some(FlushError::Sock(e)) => self.fail_with(h, &[&e]),
            Some(FlushError::Shrank) => self.fail(h, "file shrank while sending"),
            Some(FlushError::File) => self.fail(h, "reading the file failed"),
            None => {}
        }
    }

    /// Handles of the connections that satisfy `pred`, in a vector reused across polls
    /// (hand it back with [`Mgr::recycle`]).
    fn handles_where(&self, pred: impl Fn(&Conn) -> bool) -> Vec<Handle> {
        let mut core = self.core.borrow_mut();
        let mut v = core::mem::take(&mut core.handle_scratch);
        v.clear();
        v.extend(core.conns.iter().filter(|(_, c)| pred(c)).map(|(h, _)| h));
        v
    }

    fn recycle(&self, v: Vec<Handle>) {
        let mut core = self.core.borrow_mut();
        if core.handle_scratch.capacity() < v.capacity() {
            core.handle_scratch = v;
        }
    }

    /// Handles of the connections that answer this walk's question (`bit`: [`WALK_FLUSH`],
    /// [`Conn::wants_flush`]; [`WALK_CLOSE`], [`Conn::ready_to_close`]), asking only those
    /// that changed since this walk last asked or that answered yes then (see
    /// `Table::walk_changed`): the question depends on nothing but the connection. In a
    /// vector reused across polls (hand it back with [`Mgr::recycle`]). One copy for both
    /// walks, the question chosen by a branch on `bit` (http-hello −192 B; `/hello` the
    /// same at equal poll counts, see benches/README.md, session 7, h-poll).
    #[inline(never)]
    fn changed_where(&self, bit: u8) -> Vec<Handle> {
        let pred = |c: &Conn| {
            if bit == WALK_FLUSH {
                c.wants_flush()
            } else {
                c.ready_to_close()
            }
        };
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let mut v = core::mem::take(&mut core.handle_scratch);
        v.clear();
        core.conns.walk_changed(bit, |h, c, changed| {
            let hit = changed && pred(c);
            if hit {
                v.push(h);
            }
            hit
        });
        v
    }

    fn flush_all(&self) {
        let pending = self.changed_where(WALK_FLUSH);
        for &h in pending.iter() {
            self.flush(h);
        }
        self.recycle(pending);
    }

    /// Deliver the messages other threads queued (through `wakeup::Delivery`).
    fn deliver_messages(&self, msgs: Vec<Msg>) {
        for m in msgs {
            match m {
                Msg::ToConn(h, data) => {
                    let alive = self.core.borrow().conns.get(h).is_some_and(|c| !c.closing);
                    if alive {
                        self.with(|core| core.stats.wakeups_delivered += 1);
                        self.dispatch(h, Event::Wakeup(&data));
                    } else {
                        self.report_undelivered(h, data);
                    }
                }
                Msg::Broadcast(data) => {
                    let handles = self.core.borrow().conns.handles();
                    for &h in handles.iter() {
                        self.dispatch(h, Event::Wakeup(&data));
                    }
                    self.recycle(handles);
                }
                Msg::Resolved(h, r) => {
                    // Only `start_resolve`, which installs it, sends this message.
                    let f = self.core.borrow().on_resolved;
                    if let Some(f) = f {
                        f(self, h, r);
                    }
                }
                m @ (Msg::WsTo(..) | Msg::WsAll(..) | Msg::MqttPub(..)) => self.proto_deliver(m),
            }
        }
    }

    /// Name-lookup, TLS-handshake and HTTP deadlines. They are kept in milliseconds, so one
    /// look per millisecond is enough: a busy loop polling many times per millisecond does
    /// not rescan every connection each time.
    fn check_deadlines(&self, now: u64) {
        // The hooks as installed when the check begins: one installed by a handler during
        // it came with a connection made now, whose deadlines are all to come.
        let (lookups, http, ws, mqtt) = {
            let mut core = self.core.borrow_mut();
            if core.deadlines_checked_at == now {
                return;
            }
            core.deadlines_checked_at = now;
            (core.lookup_timeouts, core.http_hooks, core.ws_hooks, core.mqtt_hooks)
        };
        if let Some(f) = lookups {
            f(self, now);
        }
        #[cfg(feature = "tls")]
        self.tls_timeouts(now);
        // HTTP (`httpconn::HttpHooks`), WebSocket, then MQTT: only where they were started (see `ProtoHooks`).
        if let Some(k) = http {
            (k.timeouts)(self, now);
        }
        if let Some(k) = ws {
            (k.timeouts)(self, now);
        }
        if let Some(k) = mqtt {
            (k.timeouts)(self, now);
        }
    }

    /// A WebSocket or MQTT message another thread queued, to its protocol's hooks. Without
    /// them no connection of that protocol was ever opened here, so none of the recipients
    /// is one: each (connection, payload) goes to the undelivered callback.
    fn proto_deliver(&self, m: Msg) {
        let hooks = self.with(|core| match m {
            Msg::MqttPub(..) => core.mqtt_hooks,
            _ => core.ws_hooks,
        });
        match hooks {
            Some(k) => (k.deliver)(self, m),
            None => self.report_msg_undelivered(m),
        }
    }

    /// Hand every (connection, payload) of `m` to the undelivered callback (see
    /// [`Msg::into_undelivered`]). One copy of the loop, for the wakeup queue at shutdown and
    /// [`Mgr::proto_deliver`].
    #[inline(never)]
    fn report_msg_undelivered(&self, m: Msg) {
        for (h, data) in m.into_undelivered() {
            self.report_undelivered(h, data);
        }
    }

    /// Fail the connections whose host name lookup took longer than `dns_timeout_ms`
    /// (`Core::lookup_timeouts`).
    fn lookup_timeouts(&self, now: u64) {
        let expired =
            self.handles_where(|c| matches!(c.state, State::Resolving { deadline } if deadline <= now) && !c.closing);
        for &h in expired.iter() {
            self.fail(h, "host name lookup timed out");
        }
        self.recycle(expired);
    }

    /// `Event::Poll` to every connection that was open when this began and is still open
    /// when its turn comes, in slot order. One walk over the slots, without copying their
    /// handles out first: a connection opened by a handler meanwhile has a serial above
    /// `newest` (or a slot past `n`) and waits for the next poll; one closed by an earlier
    /// handler is skipped (after close only `Event::Close` is delivered, [`Conn::handler_for`]
    /// says). A C handler's call ([`event::PollCall`]) is read in the borrow that finds the
    /// connection and made with no borrow held (G7); any other handler gets the event
    /// through `dispatch` (a second look at the connection, the one code path for calling a
    /// handler's `Rc`). `poll_clocked`, the only caller, holds the manager busy throughout.
    fn poll_event(&self, now: u64) {
        let (n, newest) = {
            let core = self.core.borrow();
            (core.conns.slot_count(), core.conns.newest_serial())
        };
        // The last handler asked for its `PollCall` and the answer (a handler's answer never
        // changes, see `Handler::poll_call`): the accepted connections of a listener share
        // its handler, so most connections cost a pointer comparison instead of a trait
        // call. The `Rc` is held so that the address cannot be reused meanwhile.
        let mut memo: Option<(Rc<dyn Handler>, Option<event::PollCall>)> = None;
        for i in 0..n {
            // A handler with a `PollCall` (a C handler) is called through it: no `Rc` clone,
            // no trait call (this runs for every connection on every poll). A closing
            // connection gets nothing (`Conn::takes_events`).
            let found = match self.core.borrow().conns.at(i) {
                Some((h, c)) if h.serial() <= newest && c.takes_events() => {
                    let call = match &memo {
                        Some((f, call)) if Rc::ptr_eq(f, &c.handler) => *call,
                        _ => {
                            let call = c.handler.poll_call();
                            memo = Some((c.handler.clone(), call));
                            call
                        }
                    };
                    Some((h, call))
                }
                _ => None,
            };
            match found {
                Some((h, Some(p))) => (p.f)(p.arg, h, now),
                // Any other handler (a Rust one) as every event goes: `dispatch` looks the
                // connection up again (the one still open here) and calls a clone of it.
                Some((h, None)) => self.dispatch(h, Event::Poll(now)),
                None => {}
            }
        }
        drop(memo); // with no borrow held
    }

    fn close_pending(&self) {
        loop {
            let ready = self.changed_where(WALK_CLOSE);
            if ready.is_empty() {
                self.recycle(ready);
                return;
            }
            for &h in ready.iter() {
                self.close_now(h);
            }
            self.recycle(ready);
        }
    }

    /// Close everything (one `Event::Close` each), cancel timers, refuse further wakeups.
    pub fn shutdown(&self) -> Result<(), Error> {
        if self.is_busy() {
            return Err(Error::Busy);
        }
        let _busy = Busy::enter(&self.busy);
        self.with(|core| core.freeing = true);
        // In slot order, by index (no copy of the handles: `freeing` refuses new
        // connections, and each `close_now` removes its own), until none is left.
        // One borrow a slot: the pass starts again at slot 0 after the last slot.
        let mut i = 0;
        loop {
            let h = {
                let core = self.core.borrow();
                if core.conns.is_empty() {
                    break;
                }
                if i >= core.conns.slot_count() {
                    i = 0;
                }
                core.conns.at(i).map(|(h, _)| h)
            };
            i += 1;
            if let Some(h) = h {
                self.close_now(h);
            }
        }
        if let Some((left, d)) = self.shared.close_due() {
            (d.leftovers)(self, left);
        }
        // Timers exist only once the first one installed the pass.
        let pass = self.core.borrow().timer_pass;
        if let Some(p) = pass {
            (p.free_all)(self);
        }
        Ok(())
    }

    pub fn stats(&self) -> (Stats, usize, usize) {
        let core = self.core.borrow();
        (
            core.stats,
            core.conns.len(),
            timers_ref(&core.timers).map_or(0, |t| t.table.len()),
        )
    }

    /// The live connection with the smallest slot index above `after`'s (all when `None`).
    pub fn next_conn(&self, after: Option<Handle>) -> Option<Handle> {
        let core = self.core.borrow();
        let from = after.map_or(0, |h| h.slot() + 1);
        let next = core.conns.iter().find(|(h, _)| h.slot() >= from).map(|(h, _)| h);
        next
    }
}
