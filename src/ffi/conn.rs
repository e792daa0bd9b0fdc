//! Connections: listen, connect, send, receive, close, and what firmware reads from
//! Mongoose's `struct mg_connection` fields. All of these are owner-thread calls: from
//! another thread they return `MG_ERR_WRONG_THREAD` (or the zero/NULL value) and do nothing.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_void};
use core::net::SocketAddr;

use super::callback::{CHandler, ConnData};
use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::handle::Handle;
use crate::mgr::http::ProtoKind;

/// `mg_listen`/`mg_connect` and their HTTP forms.
/// What [`open`] does with the URL.
pub(crate) type OpenFn =
    fn(&crate::mgr::Mgr, &str, alloc::rc::Rc<dyn crate::mgr::Handler>, ProtoKind) -> Result<Handle, crate::Error>;

pub(crate) fn open(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
    // `Mgr::http_listen_with`/`Mgr::connect_with` (HTTP: they install the HTTP machines) or
    // `Mgr::open_listener`/`Mgr::open_client` (raw): a parameter, not a flag, so that a program
    // that only listens does not link the client side.
    op: OpenFn,
    kind: ProtoKind,
) -> mg_conn {
    let r = (|| {
        let m = registry::mgr(mgr)?;
        let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
        let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
        Ok(op(m, url, handler, kind)?)
    })();
    mg_conn { h: registry::issue(r) }
}

pub(crate) fn addr_to_c(a: Option<SocketAddr>) -> mg_addr {
    let mut out = mg_addr::default();
    match a {
        Some(SocketAddr::V4(v4)) => {
            out.ip[..4].copy_from_slice(&v4.ip().octets());
            out.port = v4.port().to_be();
        }
        // Without the feature `ipv6` no connection has an IPv6 address.
        #[cfg(not(feature = "ipv6"))]
        Some(SocketAddr::V6(_)) => {}
        #[cfg(feature = "ipv6")]
        Some(SocketAddr::V6(v6)) => {
            out.ip = v6.ip().octets();
            out.port = v6.port().to_be();
            out.scope_id = v6.scope_id() as u8;
            out.is_ip6 = true;
        }
        None => {}
    }
    out
}

/// Listen on `url`: `tcp://0.0.0.0:8000`, `udp://127.0.0.1:5353`, `tcp://[::1]:0`; `http://`,
/// `ws://`, `https://`... are TCP. Port 0 picks a free port (read it with `mg_conn_info`).
/// The host must be an IP address, empty (any) or `localhost`. `fn(c, ev, ev_data)` gets
/// `MG_EV_OPEN` now, and accepted connections inherit `fn` and `fn_data`.
/// Returns the listener's handle, or `{0}` with `mg_last_error()` set: `MG_ERR_URL`,
/// `MG_ERR_PORT`, `MG_ERR_ADDR` (in use, not local; an IPv6 host in a build without the
/// cargo feature `ipv6`), `MG_ERR_LIMIT`, `MG_ERR_INVALID`,
/// `MG_ERR_WRONG_THREAD`, `MG_ERR_CLOSING` (called while `mg_mgr_free` runs, e.g. from an
/// `MG_EV_CLOSE` handler). Owner thread.
#[no_mangle]
pub extern "C" fn mg_listen(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| open(mgr, url, f, fn_data, crate::mgr::Mgr::open_listener, ProtoKind::Raw))
}

/// Connect to `url` (`tcp://host:port`, `udp://...`, `http://...`; IPv6 as `[::1]`). Names are
/// resolved on a helper thread (after `mg_mgr_set_dns`: by meerkat's UDP resolver), never
/// blocking the loop. `fn` gets `MG_EV_OPEN` now, then
/// `MG_EV_RESOLVE` (names only), then `MG_EV_CONNECT`, or `MG_EV_ERROR` then `MG_EV_CLOSE`.
/// Data sent before the connection is established is queued. Returns the handle, or `{0}`
/// with `mg_last_error()` set: `MG_ERR_URL`, `MG_ERR_PORT` (missing, 0 or > 65535),
/// `MG_ERR_LIMIT`, `MG_ERR_INVALID`, `MG_ERR_WRONG_THREAD`, `MG_ERR_CLOSING` (called while
/// `mg_mgr_free` runs), `MG_ERR_ADDR` (an IPv6 host, in a build without the cargo feature
/// `ipv6`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_connect(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| open(mgr, url, f, fn_data, crate::mgr::Mgr::open_client, ProtoKind::Raw))
}

/// Adopt `fd`, an open stream descriptor of the program's (a connected socket, one end of a
/// `socketpair`, the read or write end of a pipe), as a connection of `mgr` (Mongoose's
/// `mg_wrapfd`). The descriptor is made non-blocking and belongs to meerkat from now on: it
/// is closed when the connection closes (at end of stream, on an error, `mg_close`,
/// `mg_mgr_free`); do not close it yourself. `fn` gets `MG_EV_OPEN` now, then `MG_EV_READ`
/// as bytes arrive (read them with `mg_recv`), `MG_EV_WRITE` as `mg_send` data goes out, and
/// `MG_EV_CLOSE`. Writes never raise SIGPIPE on sockets; on a pipe they are made with
/// SIGPIPE blocked for the call (Linux). No TLS, no protocol: a raw connection, as
/// `mg_listen`'s `tcp://`. Returns the handle, or `{0}` with `mg_last_error()` set:
/// `MG_ERR_INVALID` (`fd` is not an open descriptor; then it is not closed), `MG_ERR_LIMIT`,
/// `MG_ERR_WRONG_THREAD`, `MG_ERR_CLOSING` (while `mg_mgr_free` runs); on these the
/// descriptor stays the caller's. Owner thread.
#[no_mangle]
pub extern "C" fn mg_wrapfd(mgr: *mut mg_mgr, fd: c_int, f: mg_event_handler_t, fn_data: *mut c_void) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
            Ok(m.wrap_fd(fd, handler)?)
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// Set the DSCP code point (0..=63: `MG_DSCP_EF`, `MG_DSCP_AF(c, d)`, `MG_DSCP_CS(c)`) of the
/// IP packets `c` sends: `IP_TOS` on IPv4, `IPV6_TCLASS` on IPv6, value `dscp << 2`
/// (Mongoose's `mg_dscp`). Returns 0, or `MG_ERR_INVALID` (`dscp` above 63), `MG_ERR_STALE`,
/// `MG_ERR_UNSUPPORTED` (no socket yet, while a host name resolves; not an IP socket, e.g.
/// a wrapped `socketpair`), `MG_ERR_WRONG_THREAD`. NOTE for ports from Mongoose: 0 means
/// success. Owner thread.
#[no_mangle]
pub extern "C" fn mg_dscp(c: mg_conn, dscp: u8) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.set_dscp(h, dscp)?;
        Ok(MG_OK)
    })
}

/// Queue `len` bytes at `buf` for sending (copied; the caller keeps `buf`). All or nothing:
/// returns 0, or `MG_ERR_FULL` when the send buffer would pass `max_send` (backpressure:
/// retry after `MG_EV_WRITE`), `MG_ERR_CLOSING` after `mg_close`, `MG_ERR_STALE`,
/// `MG_ERR_INVALID` for (NULL, len > 0), `MG_ERR_UNSUPPORTED` on a TCP listener.
/// On UDP the datagram is sent at once (`MG_ERR_IO`/`MG_ERR_FULL` if the socket refuses).
/// NOTE for ports from Mongoose: 0 means success (Mongoose returned `true`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_send(c: mg_conn, buf: *const c_void, len: usize) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.send(h, cast::slice(buf, len)?)?;
        Ok(MG_OK)
    })
}

/// How many more bytes `mg_send` would accept on `c` now: `max_send` minus what is already
/// buffered for sending (on UDP, where a datagram goes out at once, `max_send`). Written to
/// `*room`. The printf family (`mg_printf`, `mg_http_reply`, `mg_http_printf_chunk`) uses it
/// to refuse output that cannot fit with `MG_ERR_FULL` before building it. Returns 0,
/// `MG_ERR_STALE`, `MG_ERR_CLOSING` after `mg_close`, `MG_ERR_UNSUPPORTED` on a TCP
/// listener, `MG_ERR_INVALID` (NULL `room`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_send_room(c: mg_conn, room: *mut usize) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let r = m.send_room(h)?;
        cast::write_out(room, r)?;
        Ok(MG_OK)
    })
}

/// The received bytes not yet consumed (Mongoose's `c->recv.buf`/`c->recv.len`). The view
/// stays valid until the current handler returns, or, outside handlers, until the next
/// `mg_mgr_poll`. `{NULL, 0}` when nothing is pending or for a stale handle. Owner thread.
#[no_mangle]
pub extern "C" fn mg_recv(c: mg_conn) -> mg_str {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else {
            return mg_str::EMPTY;
        };
        // The buffer is not moved while a handler may read it (see `mgr`'s module docs).
        m.recv_peek(h, |d| {
            if d.is_empty() {
                mg_str::EMPTY
            } else {
                mg_str::from_bytes(d)
            }
        })
        .unwrap_or(mg_str::EMPTY)
    })
}

/// Mark the first `n` received bytes as consumed (Mongoose: `mg_iobuf_del(&c->recv, 0, n)`).
/// Views from `mg_recv` stay valid until the handler returns. Returns 0, `MG_ERR_INVALID`
/// when `n` is more than is pending (nothing consumed), `MG_ERR_STALE`, and
/// `MG_ERR_UNSUPPORTED` on HTTP connections, whose received bytes belong to the HTTP
/// machine (use `mg_http_stream` for bodies). Owner thread.
#[no_mangle]
pub extern "C" fn mg_recv_consume(c: mg_conn, n: usize) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.recv_consume(h, n)?;
        Ok(MG_OK)
    })
}

/// Close now, discarding unsent data (Mongoose: `c->is_closing = 1`). The connection gets
/// `MG_EV_CLOSE` at the end of the current poll iteration, then its handle goes stale.
/// Idempotent. Returns 0 or `MG_ERR_STALE`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_close(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.close(h)?;
        Ok(MG_OK)
    })
}

/// Close once everything queued has been sent (Mongoose: `c->is_draining = 1`).
/// Returns 0 or `MG_ERR_STALE`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_drain(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.drain(h)?;
        Ok(MG_OK)
    })
}

/// The `fn_data` given at listen/connect time (Mongoose's `c->fn_data`); NULL if stale.
#[no_mangle]
pub extern "C" fn mg_fn_data(c: mg_conn) -> *mut c_void {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else {
            return core::ptr::null_mut();
        };
        m.handler(h)
            .map_or(core::ptr::null_mut(), |f| CHandler::fn_data_of(&*f))
    })
}

/// Replace the handler and its `fn_data` (Mongoose: `c->fn = ...; c->fn_data = ...`).
/// Returns 0 or `MG_ERR_STALE`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_set_handler(c: mg_conn, f: mg_event_handler_t, fn_data: *mut c_void) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.set_handler(h, alloc::rc::Rc::new(CHandler::new(f, fn_data)))?;
        Ok(MG_OK)
    })
}

/// `MG_DATA_SIZE` (32) bytes of zero-initialised storage owned by the connection, suitably
/// aligned for any type (Mongoose's `c->data`). Valid until the connection's `MG_EV_CLOSE`
/// handler returns. NULL if stale or out of memory. Owner thread.
#[no_mangle]
pub extern "C" fn mg_conn_data(c: mg_conn) -> *mut c_void {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else {
            return core::ptr::null_mut();
        };
        let Ok(ext) = m.take_ext(h) else {
            return core::ptr::null_mut();
        };
        let data = match ext.map(|e| e.downcast::<ConnData>()) {
            Some(Ok(d)) => d,
            _ => match ConnData::alloc() {
                Some(d) => Box::new(d),
                None => return core::ptr::null_mut(),
            },
        };
        let p = data.ptr();
        let _ = m.set_ext(h, Some(data));
        p
    })
}

/// The connection's id: unique for the life of the process (Mongoose's `c->id`), 0 if stale.
#[no_mangle]
pub extern "C" fn mg_conn_id(c: mg_conn) -> u64 {
    guard(|| match registry::conn(c) {
        Ok((_, h)) => h.serial(),
        Err(_) => 0,
    })
}

/// Fill `*out` with the connection's addresses, flags and buffer sizes. Returns 0,
/// `MG_ERR_STALE`, `MG_ERR_WRONG_THREAD`, `MG_ERR_INVALID` (NULL `out`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_conn_info(c: mg_conn, out: *mut mg_conn_info) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let fn_data = m
            .handler(h)
            .map_or(core::ptr::null_mut(), |f| CHandler::fn_data_of(&*f));
        let i = m.info(h)?;
        let info = mg_conn_info {
            id: i.id,
            loc: addr_to_c(i.local),
            rem: addr_to_c(i.remote),
            fn_data,
            recv_len: i.recv_len,
            send_len: i.send_len,
            is_listening: i.is_listening,
            is_client: i.is_client,
            is_accepted: i.is_accepted,
            is_udp: i.is_udp,
            is_tls: i.is_tls,
            is_websocket: i.is_websocket,
            is_resolving: i.is_resolving,
            is_connecting: i.is_connecting,
            is_closing: i.is_closing,
            is_draining: i.is_draining,
            is_full: i.is_full,
        };
        cast::write_out(out, info)?;
        Ok(MG_OK)
    })
}

/// Iterate a manager's connections (replaces walking `mgr->conns`): `mg_conn_next(mgr, {0})`
/// is the first, `mg_conn_next(mgr, c)` the one after `c` (even if `c` has closed since),
/// `{0}` at the end. Owner thread.
#[no_mangle]
pub extern "C" fn mg_conn_next(mgr: *mut mg_mgr, c: mg_conn) -> mg_conn {
    guard(|| {
        let Ok(m) = registry::mgr(mgr) else {
            return mg_conn { h: 0 };
        };
        let after = Handle::from_raw(c.h);
        mg_conn {
            h: m.next_conn(after).map_or(0, Handle::raw),
        }
    })
}

/// Stop (`paused` true) or resume reading from the connection: backpressure for a handler
/// that cannot take more data now (e.g. a streamed upload going to slow storage). While
/// paused no `MG_EV_READ`, `MG_EV_HTTP_*` is delivered for new data; the peer is slowed
/// down by TCP flow control. Returns 0 or `MG_ERR_STALE`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_recv_pause(c: mg_conn, paused: bool) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.recv_pause(h, paused)?;
        Ok(MG_OK)
    })
}
