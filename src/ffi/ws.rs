//! WebSocket: Mongoose's `mg_ws_*` calls (the variadic ones, `mg_ws_upgrade`, `mg_ws_printf`
//! and `mg_ws_connect`, are C in `src/shim/meerkat_shim.c` and call the `_n` functions here).
//! All are owner-thread calls except `mg_ws_wakeup` and `mg_ws_wakeup_all`, which any thread
//! may call.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_void};

use super::callback::CHandler;
use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::handle::Handle;

/// Accept a WebSocket upgrade (the non-variadic core of `mg_ws_upgrade`): call it in the
/// `MG_EV_HTTP_MSG` (or `MG_EV_HTTP_HDRS`) handler of the upgrade request `hm`. `headers` is
/// NULL or zero or more `Name: value\r\n` lines added to the `101` (for instance the
/// `Sec-WebSocket-Protocol` the server picked). permessage-deflate is negotiated when the
/// client offers it. No more HTTP is read on `c`; `MG_EV_WS_OPEN` (with a copy of `hm`
/// view) follows as soon as the current handler returns, then `MG_EV_WS_MSG` and
/// `MG_EV_WS_CTL`. WebSockets are under none of the HTTP timeouts.
///
/// Returns 0, or: `MG_ERR_INVALID` (not a valid upgrade: meerkat answered `400`, or `426` with
/// `Sec-WebSocket-Version: 13` for another version, and closes after it; or malformed
/// `headers`, nothing sent), `MG_ERR_UNSUPPORTED` (not inside the request's event, or a
/// response was already begun), `MG_ERR_FULL`, `MG_ERR_CLOSING`, `MG_ERR_STALE`.
/// (Mongoose's `mg_ws_upgrade` returns nothing.) Owner thread.
#[no_mangle]
pub extern "C" fn mg_ws_upgrade_n(c: mg_conn, hm: *const mg_http_message, headers: *const c_char, len: usize) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let hm = cast::as_ref(hm)?;
        let extra = if headers.is_null() {
            &[][..]
        } else {
            cast::slice(headers as *const c_void, len)?
        };
        let fields: Vec<(&[u8], &[u8])> = cast::http_headers(hm)
            .map(|f| (cast::mg_str_lenient(f.name), cast::mg_str_lenient(f.value)))
            .collect();
        super::callback::install_proto_events();
        m.ws_upgrade_parts(
            h,
            cast::mg_str_lenient(hm.method),
            cast::mg_str_lenient(hm.proto),
            fields.iter().copied(),
            extra,
        )?;
        Ok(MG_OK)
    })
}

/// Send `len` bytes at `buf` as one WebSocket message or control frame with opcode `op`
/// (`WEBSOCKET_OP_TEXT`, `_BINARY`, `_PING`, `_PONG`, `_CLOSE`; a control payload is at most
/// 125 bytes). Text and binary are compressed when permessage-deflate was negotiated; a
/// client masks. Sending `WEBSOCKET_OP_CLOSE` starts the closing handshake: nothing more may
/// be sent, and the connection closes when the peer's close arrives. All or nothing: the
/// payload must fit in the send room (`mg_send_room`; the frame header, at most 14 bytes,
/// comes on top).
///
/// Returns the number of bytes queued (frame header included), or `MG_ERR_FULL`,
/// `MG_ERR_INVALID` (bad `op`, control payload over 125, (NULL, len > 0)), `MG_ERR_CLOSING`
/// (closing handshake begun, or `mg_close`d), `MG_ERR_UNSUPPORTED` (not a WebSocket),
/// `MG_ERR_STALE`. Mongoose returns `size_t` (bytes queued, never an error); ported code that
/// ignores the result keeps working, code that adds it up must check for `< 0`. A frame over
/// `INT_MAX` bytes returns `INT_MAX`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_ws_send(c: mg_conn, buf: *const c_void, len: usize, op: c_int) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let data = cast::slice(buf, len)?;
        let op = u8::try_from(op).map_err(|_| MG_ERR_INVALID)?;
        let n = m.ws_send(h, op, data)?;
        Ok(n.min(c_int::MAX as usize) as c_int)
    })
}

/// Turn the last `len` bytes queued on `c` (with `mg_send`/`mg_printf`, not yet written to
/// the socket) into one WebSocket frame with opcode `op`, compressed and masked as
/// `mg_ws_send` would. Returns the frame's length, or `MG_ERR_INVALID` (fewer than `len`
/// unsent bytes, bad `op`) and the errors of `mg_ws_send`. Mongoose returns the send buffer's
/// length (`size_t`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_ws_wrap(c: mg_conn, len: usize, op: c_int) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let op = u8::try_from(op).map_err(|_| MG_ERR_INVALID)?;
        let n = m.ws_wrap(h, len, op)?;
        Ok(n.min(c_int::MAX as usize) as c_int)
    })
}

/// Open a WebSocket client connection (the non-variadic core of `mg_ws_connect`): `url` is
/// `ws://host[:port][/path]` or `wss://...` (TLS: call `mg_tls_init` in `MG_EV_CONNECT`).
/// `headers` is NULL or zero or more `Name: value\r\n` lines added to the upgrade request
/// (a `Sec-WebSocket-Protocol` there is the subprotocols offered). permessage-deflate is
/// offered. Events: `MG_EV_OPEN`, `MG_EV_RESOLVE`, `MG_EV_CONNECT`, (`MG_EV_TLS_HS`), then
/// `MG_EV_WS_OPEN` with the server's `101` response as `struct mg_http_message *`, or
/// `MG_EV_ERROR` "WebSocket handshake failed..." then `MG_EV_CLOSE`. Returns the handle or
/// `{0}` with `mg_last_error()` as for `mg_connect` (`MG_ERR_URL` for another scheme than
/// ws, wss, http, https; `MG_ERR_INVALID` for malformed `headers`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_ws_connect_n(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
    headers: *const c_char,
    len: usize,
) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
            let extra = if headers.is_null() {
                &[][..]
            } else {
                cast::slice(headers as *const c_void, len)?
            };
            let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
            super::callback::install_proto_events();
            Ok(m.ws_connect_with(url, handler, extra)?)
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// Send one WebSocket message to connection `c` from **any thread** (the WebSocket-aware
/// `mg_wakeup`): `op` is `WEBSOCKET_OP_TEXT` or `_BINARY` (or `_PING`, `_PONG`, `_CLOSE` with
/// at most 125 bytes). The `len` bytes at `buf` are copied before returning. On the owner
/// thread the message is framed (compressed if negotiated) by one `mg_ws_send`, so it arrives
/// whole, after every message accepted before it for `c`, and never interleaved with another
/// message's frames; no event is delivered for it. If `c` closes, starts its closing
/// handshake, or has no send room for the whole message (a peer that stopped reading) by
/// then, the payload goes to the undelivered callback (`mg_mgr_set_undelivered_fn`) instead,
/// never to another connection.
///
/// Returns 0 when queued, or (nothing queued): `MG_ERR_STALE` (`c` is known to be closed),
/// `MG_ERR_UNSUPPORTED` (`c` is alive but not a WebSocket yet), `MG_ERR_INVALID` (bad `op`,
/// control payload over 125, (NULL, len > 0), NULL or freed manager), `MG_ERR_FULL` (the
/// wakeup queue is at `wakeup_msgs`/`wakeup_bytes`: retry later), `MG_ERR_CLOSING` (the
/// manager is being freed). Not in Mongoose, where a worker calls `mg_wakeup` and the
/// `MG_EV_WAKEUP` handler calls `mg_ws_send`; that still works, this saves the handler.
#[no_mangle]
pub extern "C" fn mg_ws_wakeup(mgr: *mut mg_mgr, c: mg_conn, buf: *const c_void, len: usize, op: c_int) -> c_int {
    guard_code(|| {
        let shared = registry::shared(mgr)?;
        let data = cast::slice(buf, len)?;
        let op = u8::try_from(op).map_err(|_| MG_ERR_INVALID)?;
        let h = Handle::from_raw(c.h).ok_or(MG_ERR_STALE)?;
        shared.push_ws(h, op, data)?;
        Ok(MG_OK)
    })
}

/// Send one WebSocket message to every connection of `mgr` that is a WebSocket at the time
/// of the call (accepted and client ones alike), from **any thread**, in one call. Returns
/// how many connections that is (0: none, nothing queued), or an error of `mg_ws_wakeup`
/// (except `MG_ERR_STALE` and `MG_ERR_UNSUPPORTED`), nothing queued. Each of them gets the
/// message whole as with `mg_ws_wakeup`, or its copy of the payload goes to the undelivered
/// callback, so delivered + undelivered always equals the count returned. The queue holds
/// one copy of the payload (charged to `wakeup_bytes` with 8 bytes per recipient).
#[no_mangle]
pub extern "C" fn mg_ws_wakeup_all(mgr: *mut mg_mgr, buf: *const c_void, len: usize, op: c_int) -> c_int {
    guard_code(|| {
        let shared = registry::shared(mgr)?;
        let data = cast::slice(buf, len)?;
        let op = u8::try_from(op).map_err(|_| MG_ERR_INVALID)?;
        let n = shared.push_ws_all(op, data)?;
        Ok(n.min(c_int::MAX as usize) as c_int)
    })
}
