//! Timers: global ones (Mongoose's `mg_timer_add`) and ones owned by a connection, which are
//! freed when it closes. Owner-thread calls.

use core::ffi::{c_int, c_void};

use super::callback;
use super::registry;
use super::timer_list::MG_TIMER_AUTODELETE;
use super::types::*;
use super::{guard, guard_code};
use crate::ffi::error::*;
use crate::mgr::timer::TimerOpts;

/// The core's options for `MG_TIMER_*` flags (`MG_ERR_INVALID` for unknown bits).
/// `MG_TIMER_AUTODELETE` is accepted and changes nothing: a one-shot timer is freed after it
/// fires anyway, and a repeating one lives until `mg_timer_free` or `mg_mgr_free`.
fn opts(flags: u32) -> Result<TimerOpts, c_int> {
    if flags & !(MG_TIMER_REPEAT | MG_TIMER_RUN_NOW | MG_TIMER_AUTODELETE) != 0 {
        return Err(MG_ERR_INVALID);
    }
    Ok(TimerOpts {
        repeat: flags & MG_TIMER_REPEAT != 0,
        run_now: flags & MG_TIMER_RUN_NOW != 0,
    })
}

/// Call `fn(arg)` after `ms` milliseconds, from `mg_mgr_poll` (resolution: one poll).
/// `flags`: `MG_TIMER_ONCE` (0), `MG_TIMER_REPEAT` (every `ms`), `MG_TIMER_RUN_NOW` (also
/// at the next poll), `MG_TIMER_AUTODELETE` (accepted, no effect: a one-shot timer is freed
/// after it fires anyway; its handle then goes stale).
/// Returns the timer's handle, or `{0}` with `mg_last_error()`: `MG_ERR_INVALID` (NULL
/// `fn`, unknown flags), `MG_ERR_LIMIT`, `MG_ERR_WRONG_THREAD`. Owner thread.
/// Differs from Mongoose: returns a handle, not a `struct mg_timer *`.
#[no_mangle]
pub extern "C" fn mg_timer_add(mgr: *mut mg_mgr, ms: u64, flags: u32, f: mg_timer_fn_t, arg: *mut c_void) -> mg_timer {
    guard(|| mg_timer {
        h: registry::issue((|| {
            let m = registry::mgr(mgr)?;
            let f = f.ok_or(MG_ERR_INVALID)?;
            Ok(m.timer_add(ms, opts(flags)?, callback::timer(f, arg))?)
        })()),
    })
}

/// Like `mg_timer_add`, but the timer belongs to connection `c`: `fn(c, arg)` is called.
/// Once `c` is closing (after `mg_close`, an error, or EOF) the timer no longer fires, and
/// it is freed right after `c`'s `MG_EV_CLOSE` handler returns (inside that handler
/// `mg_timer_free` on it still returns 0). Any number of timers per connection. Errors as
/// `mg_timer_add`, plus `MG_ERR_STALE` for a connection that is gone or being closed. Owner thread.
#[no_mangle]
pub extern "C" fn mg_timer_add_conn(
    c: mg_conn,
    ms: u64,
    flags: u32,
    f: mg_conn_timer_fn_t,
    arg: *mut c_void,
) -> mg_timer {
    guard(|| mg_timer {
        h: registry::issue((|| {
            let (m, h) = registry::conn(c)?;
            let f = f.ok_or(MG_ERR_INVALID)?;
            Ok(m.timer_add_conn(h, ms, opts(flags)?, callback::conn_timer(f, arg))?)
        })()),
    })
}

/// Cancel and free a timer; safe inside its own callback. Returns 0, or `MG_ERR_STALE` if it
/// already fired (one-shot), was freed, or its connection closed. Owner thread.
/// Differs from Mongoose: `mg_timer_free(&mgr->timers, t)` becomes `mg_timer_free(t)`.
#[no_mangle]
pub extern "C" fn mg_timer_free(t: mg_timer) -> c_int {
    guard_code(|| {
        let (m, h) = registry::timer(t.h)?;
        m.timer_free(h)?;
        Ok(MG_OK)
    })
}
