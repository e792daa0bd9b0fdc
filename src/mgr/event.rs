//! What a connection's handler is told: [`Event`], the [`HttpMessage`] view, and the
//! [`Handler`] trait.
//!
//! Events borrow their data from the dispatching frame (a wakeup payload, an error text) or
//! from the connection's receive buffer (HTTP messages, chunks); the borrow ends when the
//! handler returns. No borrow of manager state is alive while a handler runs, so a handler
//! may call any [`Mgr`] method on any connection (G7).

use core::any::Any;
use core::fmt;

use super::Mgr;
use crate::handle::Handle;
use crate::http::{Header, Span};
pub use crate::mqtt::Message as MqttMessage;
use crate::prelude::*;
pub use crate::ws::WsMessage;

/// One event on a connection, in the order Mongoose delivers them: `Open`, then
/// `Resolve`/`Connect` (client) or `Accept` (server), `TlsHandshake`, any number of
/// `Read`/`Write`/`Poll`/`Wakeup`/HTTP events, then exactly one `Close`.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Something failed; the connection closes after this (a `Close` follows).
    Error(&'a str),
    /// The connection (or listener) was created.
    Open,
    /// Once per [`Mgr::poll`] for every open connection, with the poll's time in milliseconds.
    Poll(u64),
    /// A client's host name was resolved.
    Resolve,
    /// A client connection is established.
    Connect,
    /// A server connection was accepted (its listener's handler was inherited).
    Accept,
    /// The TLS handshake completed.
    TlsHandshake,
    /// This many new bytes were received (see [`Mgr::read`]).
    Read(usize),
    /// This many bytes were written to the socket.
    Write(usize),
    /// The connection is closing; its last event. Its handle goes stale after this.
    Close,
    /// An HTTP request (server) or response (client) head arrived; the body follows.
    HttpHeaders(&'a HttpMessage<'a>),
    /// A whole HTTP request (server) or response (client), body included.
    HttpMessage(&'a HttpMessage<'a>),
    /// A piece of a streamed request body (after [`Mgr::http_stream`] in `HttpHeaders`).
    HttpChunk(&'a [u8]),
    /// A message sent to this connection by a [`Sender`](super::wakeup::Sender) (or to every
    /// connection, by [`Sender::broadcast`](super::wakeup::Sender::broadcast)).
    Wakeup(&'a [u8]),
    /// A WebSocket is open. Server: the upgrade request [`Mgr::ws_upgrade`] accepted
    /// (delivered right after the `HttpHeaders`/`HttpMessage` event in which it was called
    /// returns); client ([`Mgr::ws_connect`]): the server's `101` response.
    WsOpen(&'a HttpMessage<'a>),
    /// A whole WebSocket message (text or binary; reassembled, decompressed, UTF-8 checked).
    WsMessage(&'a WsMessage<'a>),
    /// A WebSocket ping, pong or close frame (pings are already answered and a peer's close
    /// already echoed when this is delivered).
    WsControl(&'a WsMessage<'a>),
    /// SNTP ([`Mgr::sntp_connect`]): the wall-clock time, Unix milliseconds, from a reply
    /// that passed every check (the manager's wall clock, `mg_now`, is set to it).
    SntpTime(u64),
    /// mDNS ([`Mgr::mdns_listen`]): a query's first question. For an A query for the
    /// listener's own name `is_resp` is already set; set it (and optionally `respname`,
    /// `addr`) to answer other names.
    MdnsReq(&'a MdnsRequest<'a>),
    /// mDNS: an A record in a response (say, to [`Mgr::mdns_query`]).
    MdnsResp(&'a MdnsResponse<'a>),
    /// Modbus TCP ([`Mgr::modbus_listen`]): a checked request. Fill `bits`/`regs` for a
    /// read, or set `error` to an exception code; the response goes out when the handler
    /// returns.
    ModbusReq(&'a core::cell::RefCell<crate::modbus::Request>),
    /// MQTT client: the broker's CONNACK arrived, with its return (3.1.1) or reason (5) code;
    /// 0 is success, anything else closes the connection after this packet's events.
    MqttOpen(u8),
    /// MQTT: a PUBLISH arrived (already acknowledged for QoS 1/2; a QoS 2 retransmission of
    /// a message not yet released is not delivered twice).
    MqttMsg(&'a MqttMessage<'a>),
    /// MQTT: every packet received, after `MqttOpen`/`MqttMsg` for CONNACK/PUBLISH.
    MqttCmd(&'a MqttMessage<'a>),
}

/// An mDNS query as [`Event::MdnsReq`] shows it (Mongoose's `struct mg_mdns_req`).
#[derive(Debug)]
pub struct MdnsRequest<'a> {
    /// The question's type and class (QU bit cleared).
    pub rr: crate::dns::Rr,
    /// The name asked for, without `.local`.
    pub reqname: &'a [u8],
    /// The asker wants a unicast answer (QU bit).
    pub is_unicast: bool,
    /// A DNS-SD services listing (`_services._dns-sd._udp`).
    pub is_listing: bool,
    /// Answer this question (preset for an A query for the listener's own name).
    pub is_resp: core::cell::Cell<bool>,
    /// The name to answer with (default: the listener's name).
    pub respname: core::cell::RefCell<Option<Vec<u8>>>,
    /// The address to answer with (default: the local address the asker reaches us on).
    pub addr: core::cell::Cell<Option<core::net::Ipv4Addr>>,
}

/// An mDNS answer as [`Event::MdnsResp`] shows it (Mongoose's `struct mg_mdns_resp`).
#[derive(Debug, Clone, Copy)]
pub struct MdnsResponse<'a> {
    pub rr: crate::dns::Rr,
    /// The owner name, without `.local`.
    pub name: &'a [u8],
    pub addr: core::net::IpAddr,
}

/// An HTTP request or response, borrowing the connection's receive buffer. For a response,
/// [`method`](Self::method) is the protocol version, [`uri`](Self::uri) the status code and
/// [`proto`](Self::proto) the reason phrase (Mongoose's convention).
#[derive(Clone, Copy)]
pub struct HttpMessage<'a> {
    msg: &'a [u8],
    head: Span,
    head_len: usize,
    line: [Option<Span>; 4],
    headers: &'a [Header],
}

impl<'a> HttpMessage<'a> {
    /// A view of `msg` (the head, then the body from `head_len`); `line` is (method, uri,
    /// query, proto) as spans of `msg`.
    pub(crate) fn new(
        msg: &'a [u8],
        head: Span,
        head_len: usize,
        line: [Option<Span>; 4],
        headers: &'a [Header],
    ) -> Self {
        HttpMessage {
            msg,
            head,
            head_len,
            line,
            headers,
        }
    }
    fn field(&self, i: usize) -> &'a [u8] {
        self.line[i].map_or(&[], |sp| sp.get(self.msg))
    }
    /// The request method (`GET`), or a response's protocol (`HTTP/1.1`).
    pub fn method(&self) -> &'a [u8] {
        self.field(0)
    }
    /// The request target without its query (`/a/b`), or a response's status code (`200`).
    pub fn uri(&self) -> &'a [u8] {
        self.field(1)
    }
    /// The query after `?` (empty when none).
    pub fn query(&self) -> &'a [u8] {
        self.field(2)
    }
    /// The request's protocol (`HTTP/1.1`), or a response's reason phrase (`OK`).
    pub fn proto(&self) -> &'a [u8] {
        self.field(3)
    }
    /// The message bytes and the spans into them: for an adapter that converts every part
    /// (the C view) with one bounds check per span instead of a slice per accessor.
    pub(crate) fn raw(&self) -> RawMessage<'a> {
        RawMessage {
            msg: self.msg,
            head: self.head,
            head_len: self.head_len,
            line: self.line,
            headers: self.headers,
        }
    }
    /// The header fields in the order received, as (name, value).
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])> + Clone + 'a {
        let msg = self.msg;
        self.headers.iter().map(move |h| (h.name.get(msg), h.value.get(msg)))
    }
    /// The number of header fields.
    pub fn num_headers(&self) -> usize {
        self.headers.len()
    }
    /// The value of the first header field called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// The body (de-chunked); empty in [`Event::HttpHeaders`].
    pub fn body(&self) -> &'a [u8] {
        self.msg.get(self.head_len..).unwrap_or(&[])
    }
    /// The head: the start line and the header fields.
    pub fn head(&self) -> &'a [u8] {
        self.head.get(self.msg)
    }
    /// The head and the body.
    pub fn message(&self) -> &'a [u8] {
        self.msg.get(self.head.start..).unwrap_or(&[])
    }
}

/// [`HttpMessage`]'s parts as spans of its bytes ([`HttpMessage::raw`]): `line` is (method,
/// uri, query, proto), `None` where the message has none; the body starts at `head_len`, the
/// message (head and body) at `head.start`. A span that does not fit `msg` reads as empty
/// (as [`Span::get`]).
#[derive(Clone, Copy)]
pub(crate) struct RawMessage<'a> {
    pub msg: &'a [u8],
    pub head: Span,
    pub head_len: usize,
    pub line: [Option<Span>; 4],
    pub headers: &'a [Header],
}

impl fmt::Debug for HttpMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |b: &[u8]| alloc::string::String::from_utf8_lossy(b).into_owned();
        f.debug_struct("HttpMessage")
            .field("method", &s(self.method()))
            .field("uri", &s(self.uri()))
            .field("query", &s(self.query()))
            .field("proto", &s(self.proto()))
            .field("headers", &self.num_headers())
            .field("body", &self.body().len())
            .finish()
    }
}

/// A connection's event handler. The manager holds it as an `Rc<dyn Handler>` per
/// connection (accepted connections share their listener's) and calls it with no borrow of
/// its own state alive, so the handler may call any [`Mgr`] method, on any connection,
/// including ones that deliver events to this same handler before it returns (say,
/// [`Mgr::fail`]). That is why it takes `&self`: keep mutable state in a `Cell`/`RefCell`
/// and do not hold a `RefCell` borrow across calls into the manager.
///
/// Closures `Fn(&Mgr, Handle, Event<'_>)` are handlers.
///
/// Not `Any`: that would put `Any::type_id` in every handler's vtable, and a `TypeId` is a
/// 16-byte constant that LLVM pools with every other 16-byte constant of the library into one
/// `.rodata.cst16`, which GNU ld keeps whole (~1 KB) when one piece is used
/// (scripts/merge_pools.py). The crate tells its own handlers apart by the hidden methods
/// [`Handler::adapter`] (the C adapter) and [`Handler::layer`] (protocol layers).
pub trait Handler: 'static {
    /// Handle one event on connection `conn`.
    fn handle(&self, mgr: &Mgr, conn: Handle, ev: Event<'_>);
    /// The application's handler, when this one is a protocol layer wrapped around it (SNTP,
    /// mDNS, Modbus): what `mg_fn_data` looks into.
    fn inner(&self) -> Option<&dyn Handler> {
        None
    }
    /// The C adapter's function and argument (see [`AdapterData`]): `None` (the default)
    /// for every other handler. Only the crate can make an `AdapterData`.
    #[doc(hidden)]
    fn adapter(&self) -> Option<AdapterData> {
        None
    }
    /// The crate's protocol layers (DNS, SNTP) as `Any`, for their own downcasts: `None`
    /// (the default) for every other handler.
    #[doc(hidden)]
    fn layer(&self) -> Option<&dyn Any> {
        None
    }
    /// [`Event::Poll`] as a plain call that holds nothing of the handler (see [`PollCall`]),
    /// for the handlers that have one: the C adapter. `None` (the default): `handle` gets
    /// `Event::Poll`. Only the crate can make a `PollCall`. The answer must not change for
    /// the life of the handler: the poll walk asks once for connections sharing a handler.
    #[doc(hidden)]
    fn poll_call(&self) -> Option<PollCall> {
        None
    }
    /// A server request's [`Event::HttpMessage`] (`msg`) or [`Event::HttpHeaders`]; after
    /// `HttpHeaders`, its `HttpMessage` too if `next()` says so: `next` is the server's look
    /// between the two (a request without a body is whole with its head; what the handler
    /// did in `HttpHeaders`, a reply, close, pause, upgrade or another handler, decides what
    /// follows). `true`: `HttpMessage` is due, to this handler; `false`: not now (the
    /// server's next step decides, and delivers it to the connection's handler then). The
    /// default is those calls; the C adapter builds its view of the request once for both.
    #[doc(hidden)]
    fn handle_http(&self, mgr: &Mgr, conn: Handle, m: &HttpMessage<'_>, msg: bool, next: &mut dyn FnMut() -> bool) {
        if msg {
            self.handle(mgr, conn, Event::HttpMessage(m));
        } else {
            self.handle(mgr, conn, Event::HttpHeaders(m));
            if next() {
                self.handle(mgr, conn, Event::HttpMessage(m));
            }
        }
    }
}

/// What a handler does with [`Event::Poll`], as a function and its argument copied out of
/// the handler ([`Handler::poll_call`]): the poll walk, which delivers `Event::Poll` to every
/// connection on every poll, calls `f(arg, conn, now)` with no borrow held (G7), without
/// cloning the handler's `Rc` (nothing of the handler is used, so it need not be kept alive
/// for the call) and without a trait call per connection. Made only by the crate (the C
/// adapter: `arg` is the C function, `f` calls it as `MG_EV_POLL`), so `f` always gets the
/// `arg` it was made with.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct PollCall {
    pub(crate) f: fn(usize, Handle, u64),
    pub(crate) arg: usize,
}

/// What the C adapter's handler is, as addresses ([`Handler::adapter`]): the C function
/// (0 for none) and its `fn_data`. Made only by the crate (the C adapter), so no other
/// handler can pass for it; read only there.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct AdapterData {
    pub(crate) f: usize,
    pub(crate) data: usize,
}

impl<F> Handler for F
where
    F: Fn(&Mgr, Handle, Event<'_>) + 'static,
{
    fn handle(&self, mgr: &Mgr, conn: Handle, ev: Event<'_>) {
        self(mgr, conn, ev)
    }
}

impl fmt::Debug for dyn Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn Handler")
    }
}

extern crate alloc;
