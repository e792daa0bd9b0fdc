//! Types and constants shared with C. cbindgen turns these into `include/meerkat.h`.

use core::ffi::{c_char, c_int, c_void};

/// A string view: `len` bytes at `buf`, not necessarily NUL-terminated.
///
/// Ownership: an `mg_str` never owns its bytes. One received in an event's `ev_data` points
/// into memory owned by meerkat and is valid until that handler returns. One returned by
/// `mg_strdup` owns heap memory the caller frees with `free(s.buf)`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_str {
    pub buf: *mut c_char,
    pub len: usize,
}

impl mg_str {
    pub const EMPTY: mg_str = mg_str {
        buf: core::ptr::null_mut(),
        len: 0,
    };

    /// A view of Rust bytes; the caller keeps `b` alive for as long as C may read it. An
    /// empty view that points into real memory (an empty part of a longer string) keeps its
    /// pointer, as Mongoose's empty matches do. An empty slice that points nowhere (an empty
    /// `Vec` or `&[]`: Rust's dangling address 1) becomes NULL, the value C code checks for.
    pub fn from_bytes(b: &[u8]) -> mg_str {
        let buf = if b.is_empty() && b.as_ptr() == core::ptr::NonNull::<u8>::dangling().as_ptr() {
            core::ptr::null_mut()
        } else {
            b.as_ptr() as *mut c_char
        };
        mg_str { buf, len: b.len() }
    }
}

impl super::Fallback for mg_str {
    fn fallback() -> Self {
        mg_str::EMPTY
    }
}

/// An IPv4 or IPv6 address and port, laid out as in Mongoose 7.x.
/// `ip` and `port` are in network byte order; IPv4 uses the first 4 bytes of `ip`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct mg_addr {
    pub ip: [u8; 16],
    pub port: u16,
    pub scope_id: u8,
    pub is_ip6: bool,
}

/// A connection handle: a 64-bit value (slot index + serial) that names one connection for
/// ever. It replaces Mongoose's `struct mg_connection *`.
///
/// - `{0}` is never a valid handle.
/// - Every call that takes a handle validates it in O(1); a handle whose connection is gone
///   gets `MG_ERR_STALE` (or a zero/NULL result) and nothing happens.
/// - A handle is never reissued: serials come from one process-wide counter that only
///   increases. The counter has 48 bits: 2^48 - 1 = 281,474,976,710,655 connections and timers
///   in the life of the process. At 100,000 new connections per second, every second, that is
///   89 years; after it, opening fails with `MG_ERR_EXHAUSTED` rather than reuse a handle.
///   The counter is 64-bit arithmetic under a spin lock, so this holds on 32-bit MCUs without
///   64-bit atomics.
/// - Handles are plain values: copy them, store them, pass them to other threads (where only
///   `mg_wakeup` accepts them).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct mg_conn {
    pub h: u64,
}

impl super::Fallback for mg_conn {
    fn fallback() -> Self {
        mg_conn { h: 0 }
    }
}

/// A timer handle, with the same guarantees as `mg_conn`. `{0}` is never valid.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct mg_timer {
    pub h: u64,
}

impl super::Fallback for mg_timer {
    fn fallback() -> Self {
        mg_timer { h: 0 }
    }
}

/// The event manager. Allocated by the caller (usually on the stack or as a global), set up by
/// `mg_mgr_init`, torn down by `mg_mgr_free`. Do not copy it. Fields other than `userdata`
/// are private to meerkat.
#[repr(C)]
pub struct mg_mgr {
    /// Private: meerkat's state, NULL before `mg_mgr_init` and after `mg_mgr_free`.
    pub internal: *mut c_void,
    /// Free for the application, as in Mongoose. meerkat never reads or writes it.
    pub userdata: *mut c_void,
}

/// Event handler, as in Mongoose 7.x but with a connection handle as first argument.
/// `ev_data` is owned by meerkat and valid until the handler returns.
pub type mg_event_handler_t = Option<unsafe extern "C" fn(c: mg_conn, ev: c_int, ev_data: *mut c_void)>;

/// Character output function used by the logging and printf families: called once per
/// character with the `param` given alongside it.
pub type mg_pfn_t = Option<unsafe extern "C" fn(ch: c_char, param: *mut c_void)>;

/// Global timer callback, as in Mongoose: `fn(arg)`.
pub type mg_timer_fn_t = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// Connection-owned timer callback: receives the owning connection.
pub type mg_conn_timer_fn_t = Option<unsafe extern "C" fn(c: mg_conn, arg: *mut c_void)>;

// Events, with Mongoose 7.x numbers. `ev_data` for each is noted.
/// Error. `ev_data`: `char *` message.
pub const MG_EV_ERROR: c_int = 0;
/// Connection created (listen, connect, accept). `ev_data`: NULL.
pub const MG_EV_OPEN: c_int = 1;
/// One `mg_mgr_poll` iteration. `ev_data`: `uint64_t *` milliseconds (`mg_millis()`).
pub const MG_EV_POLL: c_int = 2;
/// Host name resolved. `ev_data`: NULL.
pub const MG_EV_RESOLVE: c_int = 3;
/// Outbound connection established. `ev_data`: NULL.
pub const MG_EV_CONNECT: c_int = 4;
/// Inbound connection accepted. `ev_data`: NULL.
pub const MG_EV_ACCEPT: c_int = 5;
/// TLS handshake succeeded. `ev_data`: NULL.
pub const MG_EV_TLS_HS: c_int = 6;
/// Data received. `ev_data`: `long *` bytes read. The data: `mg_recv(c)`.
pub const MG_EV_READ: c_int = 7;
/// Data written. `ev_data`: `long *` bytes written.
pub const MG_EV_WRITE: c_int = 8;
/// Connection closed; delivered exactly once. `ev_data`: NULL.
pub const MG_EV_CLOSE: c_int = 9;
/// HTTP headers received. `ev_data`: `struct mg_http_message *`.
pub const MG_EV_HTTP_HDRS: c_int = 10;
/// Full HTTP request or response. `ev_data`: `struct mg_http_message *`.
pub const MG_EV_HTTP_MSG: c_int = 11;
/// WebSocket handshake done. `ev_data`: `struct mg_http_message *`.
pub const MG_EV_WS_OPEN: c_int = 12;
/// WebSocket message. `ev_data`: `struct mg_ws_message *`.
pub const MG_EV_WS_MSG: c_int = 13;
/// WebSocket control frame. `ev_data`: `struct mg_ws_message *`.
pub const MG_EV_WS_CTL: c_int = 14;
/// MQTT command received (Mongoose 7.22 number; meerkat has no MQTT yet: never delivered).
pub const MG_EV_MQTT_CMD: c_int = 15;
/// MQTT PUBLISH received (Mongoose 7.22 number; never delivered by meerkat yet).
pub const MG_EV_MQTT_MSG: c_int = 16;
/// MQTT CONNACK received (Mongoose 7.22 number; never delivered by meerkat yet).
pub const MG_EV_MQTT_OPEN: c_int = 17;
/// SNTP time received (`mg_sntp_connect`). `ev_data`: `uint64_t *`, Unix milliseconds.
pub const MG_EV_SNTP_TIME: c_int = 18;
/// Data sent with `mg_wakeup`. `ev_data`: `struct mg_str *`.
pub const MG_EV_WAKEUP: c_int = 19;
/// mDNS query received (`mg_mdns_listen`). `ev_data`: `struct mg_mdns_req *`.
pub const MG_EV_MDNS_REQ: c_int = 20;
/// mDNS response received (`mg_mdns_listen`). `ev_data`: `struct mg_mdns_resp *`.
pub const MG_EV_MDNS_RESP: c_int = 21;
/// Modbus TCP request (`mg_modbus_listen`). `ev_data`: `struct mg_modbus_req *`.
pub const MG_EV_MODBUS_REQ: c_int = 22;
/// A piece of a streamed HTTP request body (after `mg_http_stream` in `MG_EV_HTTP_HDRS`).
/// `ev_data`: `struct mg_str *`. meerkat's own events come after Mongoose 7.22's (0..=22).
pub const MG_EV_HTTP_CHUNK: c_int = 23;
/// First number free for application events: above every event meerkat has or will add
/// (its own events take 23..=99). Mongoose 7.22: 23; code that names `MG_EV_USER` rather
/// than its number is unaffected.
pub const MG_EV_USER: c_int = 100;

/// Timer flag: fire once (default), then the timer is freed and its handle goes stale.
pub const MG_TIMER_ONCE: u32 = 0;
/// Timer flag: fire every period until freed.
pub const MG_TIMER_REPEAT: u32 = 1;
/// Timer flag: also fire at the first `mg_mgr_poll` after it is added.
pub const MG_TIMER_RUN_NOW: u32 = 2;

/// Bytes of per-connection user storage returned by `mg_conn_data` (Mongoose's `c->data`).
pub const MG_DATA_SIZE: usize = 32;

/// Log levels for `mg_log_set`, as in Mongoose.
pub const MG_LL_NONE: c_int = 0;
pub const MG_LL_ERROR: c_int = 1;
pub const MG_LL_INFO: c_int = 2;
pub const MG_LL_DEBUG: c_int = 3;
pub const MG_LL_VERBOSE: c_int = 4;

/// Called on the manager's thread with a payload that `mg_wakeup` accepted for a connection
/// that closed before it could be delivered: ownership of the bytes comes back to the
/// application. `data` is valid until the callback returns.
pub type mg_undelivered_fn_t = Option<unsafe extern "C" fn(c: mg_conn, data: *mut mg_str, arg: *mut c_void)>;

/// Runtime caps of a manager (`mg_mgr_get_limits` / `mg_mgr_set_limits`). Every buffer,
/// queue and table is bounded by one of these (G5).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct mg_limits {
    /// Live connections including listeners, 1..=65536 (default 1024). At the cap, a new
    /// client waiting on a listener makes room as nginx does: the oldest accepted HTTP
    /// connection that is idle keep-alive or has not sent a complete request head yet (no
    /// request in progress, no response pending) is closed, with its one `MG_EV_CLOSE`
    /// (counted in `mg_stats.evicted`). Listeners, client connections and raw TCP
    /// connections accepted by `mg_listen` are never closed for this; when nothing can make
    /// room, listeners stop accepting until a connection closes. `mg_connect` at the cap
    /// fails with `MG_ERR_LIMIT`.
    pub max_conns: u32,
    /// Bytes queued for sending per connection (default 1 MiB). `mg_send` beyond: `MG_ERR_FULL`.
    pub max_send: usize,
    /// Unconsumed received bytes per connection (default 1 MiB). At the cap, reading pauses.
    pub max_recv: usize,
    /// Messages waiting in the wakeup queue (default 4096). Beyond: `MG_ERR_FULL`.
    pub wakeup_msgs: u32,
    /// Payload bytes waiting in the wakeup queue (default 4 MiB). Beyond: `MG_ERR_FULL`.
    pub wakeup_bytes: usize,
    /// Live timers, 1..=65536 (default 4096). Beyond: `MG_ERR_LIMIT`.
    pub max_timers: u32,
    /// Host name resolution timeout in milliseconds (default 3000).
    pub dns_timeout_ms: u32,
    /// HTTP: most header fields in a request or response (default 64; more: `431`).
    pub http_max_headers: u32,
    /// HTTP: most bytes in a request or response head (default 8192; more: `431`). A
    /// request-target longer than half of it gets `414`.
    pub http_max_head: u32,
    /// HTTP: largest body delivered whole in `MG_EV_HTTP_MSG` (default 1 MiB; more: `413`).
    pub http_max_body: u64,
    /// HTTP server: a request head must be complete this long after its first byte
    /// (default 10000 ms; then `408` and close). Slowloris protection.
    pub http_head_timeout_ms: u32,
    /// HTTP server: a keep-alive connection with no request in progress is closed after
    /// this long (default 30000 ms). A connection that has sent nothing since it was
    /// accepted is closed after `http_head_timeout_ms` instead (counted from accept).
    pub http_idle_timeout_ms: u32,
    /// TLS: a handshake not finished this long after `mg_tls_init` fails the connection
    /// (`MG_EV_ERROR` "TLS handshake timed out", then close; default 10000 ms).
    pub tls_handshake_timeout_ms: u32,
    /// HTTP body inactivity timeout in milliseconds (default 15000), counted from the last
    /// byte received. Server: a request body (Content-Length or chunked, buffered or
    /// streamed with `mg_http_stream`) that receives nothing for this long gets `408` (after
    /// the responses to earlier pipelined requests; none if the handler already began to
    /// answer) and the connection closes. Client (`mg_http_connect`): a response that
    /// stops arriving after its first byte gets `MG_EV_ERROR` "HTTP response timed out"
    /// and closes; the wait for the first byte is not limited (long polling). Time during
    /// which reading is paused on our side (`mg_recv_pause`, or `max_recv` unconsumed
    /// bytes) does not count: the clock restarts when reading resumes. Set by the
    /// application through `mg_mgr_set_limits`; appended to this struct after
    /// `tls_handshake_timeout_ms`.
    pub http_body_timeout_ms: u32,
    /// WebSocket: largest message delivered in `MG_EV_WS_MSG`, after reassembly of its
    /// fragments and decompression (default 1 MiB; more: the connection is closed with
    /// status 1009). Appended after `http_body_timeout_ms`.
    pub ws_max_message: usize,
    /// WebSocket keep-alive: send a ping after this many milliseconds without a frame from
    /// the peer (default 0: never; Mongoose sends no pings). Appended after `ws_max_message`,
    /// as are the three fields below.
    pub ws_ping_interval_ms: u32,
    /// WebSocket keep-alive: after a ping, the peer must send something (its pong or any
    /// frame) within this many milliseconds (default 10000), else `MG_EV_ERROR` "WebSocket
    /// peer did not answer a ping" and close. 0: no limit (as for the two below).
    pub ws_pong_timeout_ms: u32,
    /// WebSocket: once a close was sent (`mg_ws_send(c, .., WEBSOCKET_OP_CLOSE)`, or by
    /// meerkat on a protocol error), the peer's close and the last frames' delivery must be
    /// done within this many milliseconds (default 5000), else the connection is closed.
    pub ws_close_timeout_ms: u32,
    /// WebSocket client: the opening handshake (connect, TLS, the server's `101`) must be done
    /// this many milliseconds after `mg_ws_connect` (default 10000), else `MG_EV_ERROR`
    /// "WebSocket handshake timed out" and close.
    pub ws_handshake_timeout_ms: u32,
    /// MQTT: largest packet received, fixed header included (default 1 MiB, at least 2; a
    /// packet is also bounded by `max_recv`). A bigger one gets `MG_EV_ERROR` and the
    /// connection closes, as soon as its fixed header says its size. Appended after
    /// `ws_handshake_timeout_ms` (Mongoose has no such cap).
    pub mqtt_max_packet: usize,
}

/// Counters of a manager (`mg_mgr_stats`).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct mg_stats {
    /// Connections alive now, listeners included.
    pub live_conns: u32,
    /// Timers alive now.
    pub live_timers: u32,
    pub accepted: u64,
    pub connected: u64,
    /// `MG_EV_CLOSE` events delivered.
    pub closed: u64,
    /// `mg_wakeup` calls that queued a message.
    pub wakeups_accepted: u64,
    /// Refused because the queue was full.
    pub wakeups_rejected_full: u64,
    /// Refused because the handle was stale.
    pub wakeups_rejected_stale: u64,
    /// Delivered as `MG_EV_WAKEUP`.
    pub wakeups_delivered: u64,
    /// Accepted but their connection closed first (reported to the undelivered callback).
    pub wakeups_undelivered: u64,
    /// Polls during which listeners were paused (connection cap or accept errors).
    pub accept_paused: u64,
    /// Connections closed at the connection cap to make room for a new one (see
    /// `mg_limits.max_conns`).
    pub evicted: u64,
}

/// What Mongoose firmware reads from `struct mg_connection` fields (`mg_conn_info`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_conn_info {
    /// Unique for the life of the process (Mongoose's `c->id`).
    pub id: u64,
    pub loc: mg_addr,
    pub rem: mg_addr,
    pub fn_data: *mut c_void,
    /// Received bytes not yet consumed.
    pub recv_len: usize,
    /// Bytes queued for sending.
    pub send_len: usize,
    pub is_listening: bool,
    pub is_client: bool,
    pub is_accepted: bool,
    pub is_udp: bool,
    /// Mongoose's `c->is_tls`: the URL's scheme asks for TLS (`https`, `wss`, `mqtts`, `tls`,
    /// `ssl`; an accepted connection has its listener's), or `mg_tls_init` set TLS up on it.
    /// True in `MG_EV_ACCEPT` / `MG_EV_CONNECT` before TLS is set up: that is when to call
    /// `mg_tls_init`. A connection with this flag that reaches reading or sending without
    /// TLS gets `MG_EV_ERROR` ("TLS not set up...") and closes; it never speaks plaintext.
    pub is_tls: bool,
    /// Mongoose's `c->is_websocket`: the WebSocket opening handshake completed (server: from
    /// `mg_ws_upgrade` on; client: from `MG_EV_WS_OPEN` on).
    pub is_websocket: bool,
    pub is_resolving: bool,
    pub is_connecting: bool,
    pub is_closing: bool,
    pub is_draining: bool,
    /// The receive buffer is at its cap: reading is paused until data is consumed.
    pub is_full: bool,
}

/// One HTTP header field: name and value point into the message (see `mg_http_message`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_http_header {
    pub name: mg_str,
    pub value: mg_str,
}

/// An HTTP request or response, as in Mongoose 7.x (`ev_data` of `MG_EV_HTTP_HDRS` and
/// `MG_EV_HTTP_MSG`). Every `mg_str` points into memory owned by meerkat, valid until the
/// handler returns: copy what you need to keep.
///
/// For a request: `method`, `uri` (path, URL-encoded as received), `query` (after `?`),
/// `proto`. For a response: `method` is the protocol (`HTTP/1.1`), `uri` the status code
/// (`200`) and `proto` the reason phrase, as in Mongoose (`mg_http_status(hm)` reads it).
///
/// Difference from Mongoose: `headers` points to an array of `num_headers` entries followed
/// by one with `name.len == 0` (Mongoose: a fixed array of `MG_MAX_HTTP_HEADERS` with empty
/// entries at the end). Loops written for Mongoose (`for (i = 0; i < MG_MAX_HTTP_HEADERS &&
/// hm->headers[i].name.len > 0; i++)`) keep working; the number of headers is limited only
/// by `mg_limits.http_max_headers` (more: `431`), never silently truncated.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_http_message {
    pub method: mg_str,
    pub uri: mg_str,
    pub query: mg_str,
    pub proto: mg_str,
    pub headers: *mut mg_http_header,
    pub num_headers: usize,
    /// The body (de-chunked). Empty in `MG_EV_HTTP_HDRS`.
    pub body: mg_str,
    /// Request or status line plus headers, up to and including the empty line.
    pub head: mg_str,
    /// `head` followed by `body`.
    pub message: mg_str,
}

/// A WebSocket message or control frame (`ev_data` of `MG_EV_WS_MSG` and `MG_EV_WS_CTL`), as
/// in Mongoose. `data` points into memory owned by meerkat, valid until the handler returns:
/// unmasked, reassembled from its fragments and decompressed. `flags` is the first byte of
/// the frame header with the RSV bits cleared: `flags & 0x0f` is the `WEBSOCKET_OP_*`,
/// `flags & 0x80` the FIN bit (always set: messages arrive whole).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_ws_message {
    pub data: mg_str,
    pub flags: u8,
}

/// WebSocket opcode: continuation frame (`mg_ws_wrap` of a fragment after the first).
pub const WEBSOCKET_OP_CONTINUE: c_int = 0;
/// WebSocket opcode: text message (must be UTF-8).
pub const WEBSOCKET_OP_TEXT: c_int = 1;
/// WebSocket opcode: binary message.
pub const WEBSOCKET_OP_BINARY: c_int = 2;
/// WebSocket opcode: close (payload: 2-byte status code in network order, then a reason).
pub const WEBSOCKET_OP_CLOSE: c_int = 8;
/// WebSocket opcode: ping (answered by meerkat with a pong automatically).
pub const WEBSOCKET_OP_PING: c_int = 9;
/// WebSocket opcode: pong.
pub const WEBSOCKET_OP_PONG: c_int = 10;

/// The largest header count a loop in Mongoose style needs to allow for; the terminating
/// empty entry always comes first in meerkat.
pub const MG_MAX_HTTP_HEADERS: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_views_point_into_memory_or_are_null() {
        // An empty Vec (an empty wakeup payload, an empty body) has Rust's dangling pointer
        // (address 1): C must see NULL, never a pointer into nothing.
        let v: Vec<u8> = Vec::new();
        let s = mg_str::from_bytes(&v);
        assert!(s.buf.is_null() && s.len == 0);
        assert!(mg_str::from_bytes(&[]).buf.is_null());
        // An empty part of a real string keeps its place (Mongoose's empty matches).
        let text = b"abc";
        let s = mg_str::from_bytes(&text[1..1]);
        assert_eq!((s.buf as usize, s.len), (text.as_ptr() as usize + 1, 0));
        let s = mg_str::from_bytes(&text[..]);
        assert_eq!((s.buf as usize, s.len), (text.as_ptr() as usize, 3));
    }
}
