//! Manager lifecycle, polling, limits, statistics and the thread-safe wakeup calls.

use core::ffi::{c_int, c_void};

use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::handle::Handle;

/// Set up `*mgr` for use on the calling thread, which becomes its owner: every other
/// `mg_*` call on the manager or its connections must come from this thread (except
/// `mg_wakeup`, `mg_wakeup_all`, `mg_wakeup_loop`). Returns 0, or `MG_ERR_INVALID` (NULL),
/// `MG_ERR_IO` (no wakeup pipe), `MG_ERR_BUSY` when `*mgr` is already a live manager
/// (initialised at this address and not freed: call `mg_mgr_free` first; the live manager
/// is left untouched). `*mgr` need not be zeroed before the first call: an uninitialised
/// `struct mg_mgr` on the stack or as a global is never mistaken for a live one.
/// `mgr` must stay at the same address until `mg_mgr_free`.
/// Unlike Mongoose there is no `mg_wakeup_init`: wakeups always work (it exists as a no-op).
#[no_mangle]
pub extern "C" fn mg_mgr_init(mgr: *mut mg_mgr) -> c_int {
    guard_code(|| registry::init(mgr).map(|_| MG_OK))
}

/// Wait up to `ms` milliseconds (negative: until something happens) for network events,
/// then deliver every due event: I/O, wakeups, timers, `MG_EV_POLL` to each connection,
/// and `MG_EV_CLOSE` for connections that ended. Owner thread; not from inside a handler
/// (`MG_ERR_BUSY`). Returns 0 or a negative error.
#[no_mangle]
pub extern "C" fn mg_mgr_poll(mgr: *mut mg_mgr, ms: c_int) -> c_int {
    guard_code(|| {
        registry::mgr(mgr)?.poll(ms)?;
        Ok(MG_OK)
    })
}

/// Close every connection (each gets its one `MG_EV_CLOSE`), free every timer, report queued
/// wakeups as undelivered, and release the manager. `*mgr` can then be initialised again.
/// Owner thread; not from inside a handler (`MG_ERR_BUSY`). Worker threads must stop calling
/// `mg_wakeup` with this `mgr` before the memory of `*mgr` itself goes away; calls made
/// after `mg_mgr_free` returned, while `*mgr` still exists, fail with `MG_ERR_INVALID`.
#[no_mangle]
pub extern "C" fn mg_mgr_free(mgr: *mut mg_mgr) -> c_int {
    guard_code(|| registry::free(mgr).map(|_| MG_OK))
}

/// Compatibility no-op: wakeups need no set-up in meerkat. Returns 0 for an initialised manager.
#[no_mangle]
pub extern "C" fn mg_wakeup_init(mgr: *mut mg_mgr) -> c_int {
    guard_code(|| registry::mgr(mgr).map(|_| MG_OK))
}

/// Read the manager's caps into `*out`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mgr_get_limits(mgr: *mut mg_mgr, out: *mut mg_limits) -> c_int {
    guard_code(|| {
        let l = registry::mgr(mgr)?.limits();
        cast::write_out(
            out,
            mg_limits {
                max_conns: l.max_conns as u32,
                max_send: l.max_send,
                max_recv: l.max_recv,
                wakeup_msgs: l.wakeup_msgs.min(u32::MAX as usize) as u32,
                wakeup_bytes: l.wakeup_bytes,
                max_timers: l.max_timers as u32,
                dns_timeout_ms: l.dns_timeout_ms.min(u32::MAX as u64) as u32,
                http_max_headers: l.http_max_headers as u32,
                http_max_head: l.http_max_head as u32,
                http_max_body: l.http_max_body,
                http_head_timeout_ms: l.http_head_timeout_ms.min(u32::MAX as u64) as u32,
                http_idle_timeout_ms: l.http_idle_timeout_ms.min(u32::MAX as u64) as u32,
                tls_handshake_timeout_ms: l.tls_handshake_timeout_ms.min(u32::MAX as u64) as u32,
                http_body_timeout_ms: l.http_body_timeout_ms.min(u32::MAX as u64) as u32,
                ws_max_message: l.ws_max_message,
                ws_ping_interval_ms: l.ws_ping_interval_ms.min(u32::MAX as u64) as u32,
                ws_pong_timeout_ms: l.ws_pong_timeout_ms.min(u32::MAX as u64) as u32,
                ws_close_timeout_ms: l.ws_close_timeout_ms.min(u32::MAX as u64) as u32,
                ws_handshake_timeout_ms: l.ws_handshake_timeout_ms.min(u32::MAX as u64) as u32,
                mqtt_max_packet: l.mqtt_max_packet,
            },
        )?;
        Ok(MG_OK)
    })
}

/// Replace the manager's caps (read them with `mg_mgr_get_limits` first, change what you
/// need). Every field must be non-zero except the timeouts, `http_max_head` at least 16;
/// `max_conns` and `max_timers` at most 65536 (`MG_ERR_INVALID` otherwise, nothing changed).
/// Lowering a cap below current use closes nothing: it applies to what comes next. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mgr_set_limits(mgr: *mut mg_mgr, limits: *const mg_limits) -> c_int {
    guard_code(|| {
        let m = registry::mgr(mgr)?;
        let l = cast::as_ref(limits)?;
        m.set_limits(crate::mgr::Limits {
            max_conns: l.max_conns as usize,
            max_send: l.max_send,
            max_recv: l.max_recv,
            wakeup_msgs: l.wakeup_msgs as usize,
            wakeup_bytes: l.wakeup_bytes,
            max_timers: l.max_timers as usize,
            dns_timeout_ms: l.dns_timeout_ms as u64,
            http_max_headers: l.http_max_headers as usize,
            http_max_head: l.http_max_head as usize,
            http_max_body: l.http_max_body,
            http_head_timeout_ms: l.http_head_timeout_ms as u64,
            http_idle_timeout_ms: l.http_idle_timeout_ms as u64,
            tls_handshake_timeout_ms: l.tls_handshake_timeout_ms as u64,
            http_body_timeout_ms: l.http_body_timeout_ms as u64,
            ws_max_message: l.ws_max_message,
            ws_ping_interval_ms: l.ws_ping_interval_ms as u64,
            ws_pong_timeout_ms: l.ws_pong_timeout_ms as u64,
            ws_close_timeout_ms: l.ws_close_timeout_ms as u64,
            ws_handshake_timeout_ms: l.ws_handshake_timeout_ms as u64,
            mqtt_max_packet: l.mqtt_max_packet,
        })?;
        Ok(MG_OK)
    })
}

/// Read the manager's counters into `*out` (`live_conns` returns to its old value once
/// every connection opened since has closed). Owner thread.
#[no_mangle]
pub extern "C" fn mg_mgr_stats(mgr: *mut mg_mgr, out: *mut mg_stats) -> c_int {
    guard_code(|| {
        let m = registry::mgr(mgr)?;
        let (s, live, timers) = m.stats();
        let (accepted, full, stale) = m.shared.stats();
        cast::write_out(
            out,
            mg_stats {
                live_conns: live as u32,
                live_timers: timers as u32,
                accepted: s.accepted,
                connected: s.connected,
                closed: s.closed,
                wakeups_accepted: accepted,
                wakeups_rejected_full: full,
                wakeups_rejected_stale: stale,
                wakeups_delivered: s.wakeups_delivered,
                wakeups_undelivered: s.wakeups_undelivered,
                accept_paused: s.accept_paused,
                evicted: s.evicted,
            },
        )?;
        Ok(MG_OK)
    })
}

/// Register `fn(c, data, arg)`, called on the owner thread for each payload that
/// `mg_wakeup` accepted but whose connection closed before delivery. NULL unregisters.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_mgr_set_undelivered_fn(mgr: *mut mg_mgr, f: mg_undelivered_fn_t, arg: *mut c_void) -> c_int {
    guard_code(|| {
        registry::mgr(mgr)?.set_undelivered(f.map(|f| super::callback::undelivered(f, arg)));
        Ok(MG_OK)
    })
}

/// Send `len` bytes at `buf` to connection `c`, to be delivered on the owner thread as
/// `MG_EV_WAKEUP` with a `struct mg_str *` to a copy of them. **Any thread.**
///
/// The bytes are copied before returning; the caller keeps ownership of `buf`. Messages
/// to one connection arrive in the order they were accepted, and only ever to `c`.
/// Returns 0 when queued; `MG_ERR_STALE` when `c` is known to be closed (nothing queued);
/// `MG_ERR_FULL` when the queue is at its cap (retry later); `MG_ERR_INVALID` for a NULL or
/// freed manager or (NULL, len > 0); `MG_ERR_CLOSING` while the manager is being freed.
/// A message accepted for a connection that then closes before delivery is handed to the
/// undelivered callback (`mg_mgr_set_undelivered_fn`) instead, never to another connection.
#[no_mangle]
pub extern "C" fn mg_wakeup(mgr: *mut mg_mgr, c: mg_conn, buf: *const c_void, len: usize) -> c_int {
    guard_code(|| {
        let shared = registry::shared(mgr)?;
        let data = cast::slice(buf, len)?;
        let h = Handle::from_raw(c.h).ok_or(MG_ERR_STALE)?;
        shared.push_to(h, data)?;
        Ok(MG_OK)
    })
}

/// Like `mg_wakeup`, for every connection alive when the message is delivered (listeners
/// included; filter in the handler). **Any thread.** Same errors, except `MG_ERR_STALE`.
#[no_mangle]
pub extern "C" fn mg_wakeup_all(mgr: *mut mg_mgr, buf: *const c_void, len: usize) -> c_int {
    guard_code(|| {
        let shared = registry::shared(mgr)?;
        shared.push_broadcast(cast::slice(buf, len)?)?;
        Ok(MG_OK)
    })
}

/// Make the owner's current or next `mg_mgr_poll` return promptly, with no event.
/// **Any thread.** Returns 0 or `MG_ERR_INVALID`.
#[no_mangle]
pub extern "C" fn mg_wakeup_loop(mgr: *mut mg_mgr) -> c_int {
    guard_code(|| {
        registry::shared(mgr)?.wake();
        Ok(MG_OK)
    })
}

/// The outcome of the last call on this thread that returns a handle (`mg_listen`,
/// `mg_connect`, `mg_timer_add`, ...): 0 when it succeeded, else the error code explaining
/// its zero handle. Other calls return their error code themselves and leave this
/// unchanged. Any thread.
#[no_mangle]
pub extern "C" fn mg_last_error() -> c_int {
    guard(registry::last_error)
}
