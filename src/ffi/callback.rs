//! Calls from Rust into C: a C event handler as an implementation of the core's
//! [`Handler`] trait (the way rustls-ffi turns a C verifier callback into a rustls
//! `ServerCertVerifier`), C timer and undelivered callbacks as core closures, and the
//! `mg_conn_data` storage (memory that C writes through raw pointers) hung on a connection.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ffi::{c_char, c_int, c_long, c_void};

use super::types::*;
use crate::handle::Handle;
use crate::http::Span;
use crate::mgr::event::{AdapterData, PollCall};
use crate::mgr::{Event, Handler, HttpMessage, Mgr, UndeliveredFn};

extern crate alloc;

/// A C event handler and its `fn_data` (Mongoose's `c->fn`, `c->fn_data`).
pub(crate) struct CHandler {
    pub f: mg_event_handler_t,
    pub fn_data: *mut c_void,
    /// The `struct mg_http_header` array of the last HTTP event, kept for its allocation
    /// (lent out during a call; a nested call builds its own).
    hdrs: Cell<Vec<mg_http_header>>,
}

impl CHandler {
    pub fn new(f: mg_event_handler_t, fn_data: *mut c_void) -> CHandler {
        CHandler {
            f,
            fn_data,
            hdrs: Cell::new(Vec::new()),
        }
    }

    /// The `fn_data` of `h`, if it is a C handler (its [`Handler::adapter`]; not a
    /// downcast: see why `Handler` is not `Any`).
    pub fn fn_data_of(h: &dyn Handler) -> *mut c_void {
        let mut h = h;
        // Protocol layers (SNTP, mDNS, Modbus) wrap the application's handler.
        for _ in 0..4 {
            match h.inner() {
                Some(i) => h = i,
                None => break,
            }
        }
        h.adapter().map_or(core::ptr::null_mut(), |a| a.data as *mut c_void)
    }

    /// The C function of `h`, if it is a C handler with one (its [`Handler::adapter`]).
    pub fn fn_of(h: &dyn Handler) -> mg_event_handler_t {
        let f = h.adapter()?.f;
        // SAFETY: a non-zero `f` of an `AdapterData` is only ever the address of the
        // `mg_event_handler_t` function of a `CHandler` (only the crate makes one, in
        // `CHandler::adapter`); the application registered it with this signature.
        (f != 0).then(|| unsafe { core::mem::transmute::<usize, unsafe extern "C" fn(mg_conn, c_int, *mut c_void)>(f) })
    }

    fn call(&self, h: Handle, ev: c_int, ev_data: *mut c_void) {
        if let Some(f) = self.f {
            // SAFETY: `f` was registered by the application as an event handler with this
            // signature; `ev_data` is valid for the duration of the call (it points into this
            // frame or into memory the event borrows).
            unsafe { f(mg_conn { h: h.raw() }, ev, ev_data) }
        }
    }

    /// Build `struct mg_http_message` over the core's view and call with `ev`. With `next`
    /// (a bodyless request's `MG_EV_HTTP_HDRS`, see [`Handler::handle_http`]): then, if
    /// `next()` says so, call again with `MG_EV_HTTP_MSG` and the view built for both (the
    /// adapter's part of a request: about 200 instructions a `GET` less than a build per
    /// event). What the handler wrote into the `struct mg_http_message` in the first call
    /// is not seen in the second (it got a copy); the header array is the same. The array
    /// is lent out for the calls (a nested HTTP event builds its own), and kept for its
    /// allocation.
    fn call_http(&self, h: Handle, ev: c_int, m: &HttpMessage<'_>, next: Option<&mut dyn FnMut() -> bool>) {
        let Some(f) = self.f else {
            if let Some(next) = next {
                next();
            }
            return;
        };
        let mut hdrs = self.hdrs.take();
        let mut built = view(&mut hdrs, m);
        let c = mg_conn { h: h.raw() };
        // The first call gets a copy, so that the second gets the view as built.
        let mut hm = built;
        // SAFETY: `f` was registered by the application as an event handler with this
        // signature; `hm` and the array it points to outlive the call.
        unsafe { f(c, ev, &mut hm as *mut mg_http_message as *mut c_void) };
        if next.is_some_and(|next| next()) {
            // SAFETY: as above.
            unsafe { f(c, MG_EV_HTTP_MSG, &mut built as *mut mg_http_message as *mut c_void) };
        }
        self.hdrs.set(hdrs);
    }
}

/// The C view of `m`, its header array built in `hdrs`.
fn view(hdrs: &mut Vec<mg_http_header>, m: &HttpMessage<'_>) -> mg_http_message {
    let raw = m.raw();
    let fields = raw.headers;
    let v = Views::new(raw.msg);
    // The fields, then the empty one that ends the array (one exact reservation).
    hdrs.clear();
    hdrs.resize(
        fields.len() + 1,
        mg_http_header {
            name: mg_str::EMPTY,
            value: mg_str::EMPTY,
        },
    );
    for (slot, f) in hdrs.iter_mut().zip(fields) {
        *slot = mg_http_header {
            name: v.span(f.name),
            value: v.span(f.value),
        };
    }
    let [method, uri, query, proto] = raw.line.map(|sp| sp.map_or(mg_str::EMPTY, |sp| v.span(sp)));
    mg_http_message {
        method,
        uri,
        query,
        proto,
        headers: hdrs.as_mut_ptr(),
        num_headers: fields.len(),
        body: v.from(raw.head_len),
        head: v.span(raw.head),
        message: v.from(raw.head.start),
    }
}

/// The parts of a message's bytes as `mg_str`s, each with one bounds check: the same views
/// as `mg_str::from_bytes(span.get(msg))` (a span that does not fit `msg` is `{NULL, 0}`,
/// an empty part of real bytes keeps its address, an empty message without an address is
/// NULL), without building a slice and testing it for Rust's dangling address per part.
#[derive(Clone, Copy)]
struct Views {
    base: *const u8,
    len: usize,
}

impl Views {
    fn new(msg: &[u8]) -> Views {
        Views {
            base: mg_str::from_bytes(msg).buf as *const u8,
            len: msg.len(),
        }
    }

    /// `msg[sp]`.
    #[inline]
    fn span(self, sp: Span) -> mg_str {
        if sp.start <= sp.end && sp.end <= self.len {
            mg_str {
                buf: self.base.wrapping_add(sp.start) as *mut c_char,
                len: sp.end - sp.start,
            }
        } else {
            mg_str::EMPTY
        }
    }

    /// `msg[at..]`.
    #[inline]
    fn from(self, at: usize) -> mg_str {
        self.span(Span::new(at, self.len))
    }
}

impl Handler for CHandler {
    /// The events that every connection gets on every poll or read (`MG_EV_POLL`,
    /// `MG_EV_READ`, `MG_EV_WRITE`), those without data and the HTTP request (built by
    /// [`CHandler::call_http`]) are passed here; the others in [`CHandler::handle_data`],
    /// out of line: its stack frame (the error text) cost every `MG_EV_POLL` ~20
    /// instructions of prologue and epilogue (the WebSocket, MQTT, SNTP, mDNS and Modbus
    /// events go on from there to `proto_event`, when installed: see `PROTO_EVENTS`).
    fn handle(&self, _mgr: &Mgr, h: Handle, ev: Event<'_>) {
        if self.f.is_none() {
            return;
        }
        // Each arm gives the number and, for the three events with a number, its value
        // (the same bytes for `uint64_t` and, where it is 64 bits, `long`): a table, not
        // a jump per event.
        let (num, val) = match ev {
            Event::Open => (MG_EV_OPEN, None),
            Event::Poll(now) => (MG_EV_POLL, Some(now)),
            Event::Resolve => (MG_EV_RESOLVE, None),
            Event::Connect => (MG_EV_CONNECT, None),
            Event::Accept => (MG_EV_ACCEPT, None),
            Event::TlsHandshake => (MG_EV_TLS_HS, None),
            Event::Read(n) => (MG_EV_READ, Some(long_bits(n))),
            Event::Write(n) => (MG_EV_WRITE, Some(long_bits(n))),
            Event::Close => (MG_EV_CLOSE, None),
            Event::HttpHeaders(m) | Event::HttpMessage(m) => {
                let num = if matches!(ev, Event::HttpMessage(_)) {
                    MG_EV_HTTP_MSG
                } else {
                    MG_EV_HTTP_HDRS
                };
                return self.call_http(h, num, m, None);
            }
            _ => return self.handle_data(h, ev),
        };
        let mut v = val.unwrap_or(0);
        let p = if val.is_some() {
            &mut v as *mut u64 as *mut c_void
        } else {
            core::ptr::null_mut()
        };
        self.call(h, num, p)
    }

    /// `MG_EV_POLL` straight to the C function (see `c_poll`): the poll walk clones no
    /// `Rc` and makes no call of `handle` for it. Without a function: `None`, and `handle`
    /// ignores the event.
    fn adapter(&self) -> Option<AdapterData> {
        Some(AdapterData {
            f: self.f.map_or(0, |f| f as usize),
            data: self.fn_data as usize,
        })
    }

    fn poll_call(&self) -> Option<PollCall> {
        self.f.map(|f| PollCall {
            f: c_poll,
            arg: f as usize,
        })
    }

    /// A server request's HTTP events with one view (see [`CHandler::call_http`]).
    fn handle_http(&self, _mgr: &Mgr, h: Handle, m: &HttpMessage<'_>, msg: bool, next: &mut dyn FnMut() -> bool) {
        let ev = if msg { MG_EV_HTTP_MSG } else { MG_EV_HTTP_HDRS };
        self.call_http(h, ev, m, (!msg).then_some(next));
    }
}

/// A `long` (`MG_EV_READ`, `MG_EV_WRITE`) in the first bytes of a `u64`, as C reads it
/// through a `long *` (on 64-bit targets: `n` itself).
#[inline(always)]
// `c_long` is `i64` here, `i32` on other targets: the cast to `i64` is not always a no-op.
#[allow(clippy::unnecessary_cast)]
fn long_bits(n: usize) -> u64 {
    let l = n as c_long as i64 as u64;
    if cfg!(target_endian = "big") && core::mem::size_of::<c_long>() < 8 {
        l << 32
    } else {
        l
    }
}

/// [`CHandler`]'s `Event::Poll` (see [`crate::mgr::event::PollCall`]): `arg` is the C
/// function, as [`CHandler::poll_call`] made it.
fn c_poll(arg: usize, h: Handle, now: u64) {
    // SAFETY: `arg` is only ever the address of a non-null `mg_event_handler_t` function,
    // paired with this function by `CHandler::poll_call` (only the crate makes a
    // `PollCall`); the application registered it as an event handler with this signature.
    let f: unsafe extern "C" fn(mg_conn, c_int, *mut c_void) = unsafe { core::mem::transmute(arg) };
    let mut t = now;
    // SAFETY: as in `CHandler::call`: `&mut t` is valid for the call.
    unsafe { f(mg_conn { h: h.raw() }, MG_EV_POLL, &mut t as *mut u64 as *mut c_void) }
}

impl CHandler {
    /// The events with data to build for C (see [`CHandler::handle`]).
    #[inline(never)]
    fn handle_data(&self, h: Handle, ev: Event<'_>) {
        match ev {
            Event::Error(msg) => {
                // NUL-terminated, inner NULs as spaces, blanked in place (`str::replace`
                // and `CString::new`'s checks were 0.4 KB of every program's text, an
                // iterator's `collect` 43 B more than this).
                let mut text = Vec::with_capacity(msg.len() + 1);
                text.extend_from_slice(msg.as_bytes());
                for b in &mut text {
                    if *b == 0 {
                        *b = b' ';
                    }
                }
                crate::util::push_byte(&mut text, 0);
                self.call(h, MG_EV_ERROR, text.as_mut_ptr() as *mut c_void);
            }
            Event::HttpChunk(data) | Event::Wakeup(data) => {
                let num = if matches!(ev, Event::Wakeup(_)) {
                    MG_EV_WAKEUP
                } else {
                    MG_EV_HTTP_CHUNK
                };
                let mut s = mg_str::from_bytes(data);
                self.call(h, num, &mut s as *mut mg_str as *mut c_void);
            }
            // The WebSocket, MQTT, SNTP, mDNS and Modbus events: converted by
            // `proto_event` once a call that starts one of those protocols installed it.
            _ => {
                if let Some(f) = PROTO_EVENTS.get() {
                    f(self, h, ev);
                }
            }
        }
    }
}

/// How a C handler gets the events of the protocols that only some programs start: the
/// function that builds their `ev_data` ([`proto_event`]), installed by the calls that
/// start those protocols ([`install_proto_events`]: `mg_ws_upgrade`, `mg_ws_connect`,
/// `mg_mqtt_connect`, `mg_mqtt_listen`, `mg_sntp_connect`, `mg_mdns_listen`,
/// `mg_modbus_listen`), before any of their events can exist. A program that calls none of
/// them links none of that code (as `mgr::ProtoHooks` for the core's side): http-hello
/// and tcp-echo of the footprint build -1.5 KB. Set once per process, never unset.
static PROTO_EVENTS: spin::Once<ProtoEventFn> = spin::Once::new();

type ProtoEventFn = fn(&CHandler, Handle, Event<'_>);

/// Route the WebSocket, MQTT, SNTP, mDNS and Modbus events to C handlers from now on (see
/// [`PROTO_EVENTS`]). Every call that starts one of those protocols calls this first.
pub(crate) fn install_proto_events() {
    PROTO_EVENTS.call_once(|| proto_event as ProtoEventFn);
}

/// The events with data of the protocols behind [`PROTO_EVENTS`], for C.
fn proto_event(c: &CHandler, h: Handle, ev: Event<'_>) {
    match ev {
        Event::WsOpen(m) => c.call_http(h, MG_EV_WS_OPEN, m, None),
        Event::WsMessage(m) | Event::WsControl(m) => {
            let mut wm = mg_ws_message {
                data: mg_str::from_bytes(m.data),
                flags: m.flags,
            };
            let ev = if matches!(ev, Event::WsMessage(_)) {
                MG_EV_WS_MSG
            } else {
                MG_EV_WS_CTL
            };
            c.call(h, ev, &mut wm as *mut mg_ws_message as *mut c_void);
        }
        Event::SntpTime(t) => {
            let mut t = t;
            c.call(h, MG_EV_SNTP_TIME, &mut t as *mut u64 as *mut c_void);
        }
        Event::MdnsReq(r) => super::dns::call_mdns_req(r, |p| c.call(h, MG_EV_MDNS_REQ, p)),
        Event::MdnsResp(r) => super::dns::call_mdns_resp(r, |p| c.call(h, MG_EV_MDNS_RESP, p)),
        Event::ModbusReq(r) => super::modbus::call_modbus(r, |p| c.call(h, MG_EV_MODBUS_REQ, p)),
        Event::MqttOpen(code) => {
            // Mongoose documents `int *` and passes a pointer to its `uint8_t`: an
            // `int` holding the code reads right both ways (on little-endian targets).
            let mut code = code as c_int;
            c.call(h, MG_EV_MQTT_OPEN, &mut code as *mut c_int as *mut c_void);
        }
        Event::MqttMsg(m) | Event::MqttCmd(m) => {
            let mut mm = super::mqtt::mg_mqtt_message::from_core(m);
            let ev = if matches!(ev, Event::MqttMsg(_)) {
                MG_EV_MQTT_MSG
            } else {
                MG_EV_MQTT_CMD
            };
            c.call(h, ev, &mut mm as *mut _ as *mut c_void);
        }
        // The events converted in `CHandler::handle` and `handle_data`, and events of
        // later protocols a C handler has no number for.
        _ => {}
    }
}

/// `mg_timer_add`'s `fn(arg)` as a core timer callback.
pub(crate) fn timer(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void) -> impl FnMut(&Mgr) + 'static {
    move |_: &Mgr| {
        // SAFETY: registered by the application with `mg_timer_add` together with `arg`.
        unsafe { f(arg) }
    }
}

/// `mg_timer_add_conn`'s `fn(c, arg)` as a core connection-timer callback.
pub(crate) fn conn_timer(
    f: unsafe extern "C" fn(mg_conn, *mut c_void),
    arg: *mut c_void,
) -> impl FnMut(&Mgr, Handle) + 'static {
    move |_: &Mgr, owner: Handle| {
        // SAFETY: registered by the application with `mg_timer_add_conn` together with `arg`.
        unsafe { f(mg_conn { h: owner.raw() }, arg) }
    }
}

/// `mg_mgr_set_undelivered_fn`'s `fn(c, data, arg)` as the core's undelivered callback.
pub(crate) fn undelivered(
    f: unsafe extern "C" fn(mg_conn, *mut mg_str, *mut c_void),
    arg: *mut c_void,
) -> UndeliveredFn {
    Box::new(move |_: &Mgr, h: Handle, data: Vec<u8>| {
        let mut s = mg_str::from_bytes(&data);
        // SAFETY: registered with `mg_mgr_set_undelivered_fn`; `data` outlives the call.
        unsafe { f(mg_conn { h: h.raw() }, &mut s, arg) }
    })
}

/// `MG_DATA_SIZE` zeroed bytes, 16-byte aligned (malloc's guarantee), hung on a connection
/// (its `ext` slot) on first use of `mg_conn_data`, freed when the connection is dropped.
pub(crate) struct ConnData(*mut c_void);

impl ConnData {
    pub fn alloc() -> Option<ConnData> {
        // SAFETY: calloc with a non-zero size; the result is checked.
        let p = unsafe { libc::calloc(1, MG_DATA_SIZE) };
        (!p.is_null()).then_some(ConnData(p))
    }
    pub fn ptr(&self) -> *mut c_void {
        self.0
    }
}

impl Drop for ConnData {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from calloc in `alloc` and is freed exactly once, here.
        unsafe { libc::free(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::mgr::{Event, Handler, Mgr};
    use std::cell::RefCell;

    /// What the C function saw of one call.
    #[derive(Debug, PartialEq)]
    enum Seen {
        /// `ev_data` was NULL.
        Null,
        /// `*(uint64_t *) ev_data` (MG_EV_POLL).
        U64(u64),
        /// `*(long *) ev_data` (MG_EV_READ, MG_EV_WRITE).
        Long(c_long),
        /// `(const char *) ev_data` up to its NUL (MG_EV_ERROR).
        Text(Vec<u8>),
        /// The `struct mg_str` of MG_EV_WAKEUP or MG_EV_HTTP_CHUNK.
        Str(Vec<u8>),
    }

    thread_local! {
        static SEEN: RefCell<Vec<(u64, c_int, Seen)>> = const { RefCell::new(Vec::new()) };
    }

    /// A C event handler that reads `ev_data` as Mongoose documents it for each event.
    unsafe extern "C" fn seen(c: mg_conn, ev: c_int, p: *mut c_void) {
        let what = if p.is_null() {
            Seen::Null
        } else {
            // SAFETY: the event's documented type (what a C handler would dereference).
            unsafe {
                match ev {
                    MG_EV_POLL => Seen::U64(*(p as *const u64)),
                    MG_EV_READ | MG_EV_WRITE => Seen::Long(*(p as *const c_long)),
                    MG_EV_ERROR => Seen::Text(core::ffi::CStr::from_ptr(p as *const c_char).to_bytes().to_vec()),
                    _ => {
                        let s = &*(p as *const mg_str);
                        Seen::Str(core::slice::from_raw_parts(s.buf as *const u8, s.len).to_vec())
                    }
                }
            }
        };
        SEEN.with(|v| v.borrow_mut().push((c.h, ev, what)));
    }

    /// `CHandler::handle` gives a C handler each event's Mongoose number and `ev_data`: NULL
    /// for the events without data, a `uint64_t *` to the time for MG_EV_POLL (all 64
    /// bits), a `long *` to the byte count for MG_EV_READ and MG_EV_WRITE, the error text
    /// NUL-terminated with its inner NULs as spaces, an `mg_str` for MG_EV_WAKEUP; and the
    /// handle it was called for. Without a C function nothing is called.
    #[test]
    fn handle_gives_each_event_its_number_and_ev_data() {
        let mgr = Mgr::new().expect("mgr");
        let h = Handle::from_raw((7 << crate::handle::SLOT_BITS) | 3).unwrap();
        let ch = CHandler::new(Some(seen), core::ptr::null_mut());
        let big = 0x1_2345_6789u64; // more than 32 bits
        let events = [
            Event::Open,
            Event::Poll(big),
            Event::Resolve,
            Event::Connect,
            Event::Accept,
            Event::TlsHandshake,
            Event::Read(1234),
            Event::Write(70_000),
            Event::Read(0),
            Event::Error("a\0b\0"),
            Event::Error(""),
            Event::Wakeup(b"w\0x"),
            Event::Close,
        ];
        for ev in events {
            ch.handle(&mgr, h, ev);
        }
        let got = SEEN.with(|v| core::mem::take(&mut *v.borrow_mut()));
        let want = [
            (MG_EV_OPEN, Seen::Null),
            (MG_EV_POLL, Seen::U64(big)),
            (MG_EV_RESOLVE, Seen::Null),
            (MG_EV_CONNECT, Seen::Null),
            (MG_EV_ACCEPT, Seen::Null),
            (MG_EV_TLS_HS, Seen::Null),
            (MG_EV_READ, Seen::Long(1234)),
            (MG_EV_WRITE, Seen::Long(70_000)),
            (MG_EV_READ, Seen::Long(0)),
            (MG_EV_ERROR, Seen::Text(b"a b ".to_vec())),
            (MG_EV_ERROR, Seen::Text(Vec::new())),
            (MG_EV_WAKEUP, Seen::Str(b"w\0x".to_vec())),
            (MG_EV_CLOSE, Seen::Null),
        ];
        let want: Vec<_> = want.into_iter().map(|(ev, s)| (h.raw(), ev, s)).collect();
        assert_eq!(got, want);

        let none = CHandler::new(None, core::ptr::null_mut());
        none.handle(&mgr, h, Event::Read(1));
        none.handle(&mgr, h, Event::Error("x"));
        none.handle(&mgr, h, Event::Open);
        assert!(SEEN.with(|v| v.borrow().is_empty()), "no C function, no call");
    }

    /// A `long` read through a `long *` at the `u64` that `long_bits` fills is the count.
    #[test]
    // `c_long` is `i64` here, `i32` on other targets.
    #[allow(clippy::unnecessary_cast)]
    fn long_bits_is_the_long_a_c_handler_reads() {
        for n in [0usize, 1, 255, 256, 65_536, i32::MAX as usize] {
            let v = long_bits(n);
            // SAFETY: a `u64` is at least as large and as aligned as a `long`.
            let l = unsafe { *(&v as *const u64 as *const c_long) };
            assert_eq!(l as i64, n as i64, "{n}");
        }
    }

    /// `Views` gives what `mg_str::from_bytes(span.get(msg))` gives, for spans inside,
    /// at the end of, reversed or past a message, and for messages with and without an
    /// address.
    #[test]
    fn views_are_the_slices_views() {
        let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody".to_vec();
        let longer = b"abc";
        let msgs: [&[u8]; 4] = [&text, &[], &Vec::new(), &longer[1..1]];
        for msg in msgs {
            let v = Views::new(msg);
            let n = msg.len();
            let mut spans = vec![
                (0, 0),
                (0, n),
                (n, n),
                (n, n + 1),
                (n + 1, n + 2),
                (3, 1),
                (usize::MAX, usize::MAX),
            ];
            if n > 4 {
                spans.extend([(1, 4), (4, 4), (2, n - 1)]);
            }
            for (a, b) in spans {
                let want = mg_str::from_bytes(Span::new(a, b).get(msg));
                let got = v.span(Span::new(a, b));
                assert_eq!((got.buf, got.len), (want.buf, want.len), "span {a}..{b} of {msg:?}");
                let want = mg_str::from_bytes(msg.get(a..).unwrap_or(&[]));
                let got = v.from(a);
                assert_eq!((got.buf, got.len), (want.buf, want.len), "from {a} of {msg:?}");
            }
        }
    }
}
