//! Calls from Rust into C: the only place the core invokes application function pointers,
//! and the allocator for `mg_conn_data` storage (memory that C writes through raw pointers).

use core::ffi::{c_int, c_void};

use super::types::*;
use crate::handle::Handle;

pub(crate) fn call_event(f: mg_event_handler_t, h: Handle, ev: c_int, ev_data: *mut c_void) {
    if let Some(f) = f {
        // SAFETY: `f` was registered by the application as an event handler with this
        // signature; `ev_data` is valid for the duration of the call (see mgr docs).
        unsafe { f(mg_conn { h: h.raw() }, ev, ev_data) }
    }
}

pub(crate) fn call_timer(f: mg_timer_fn_t, arg: *mut c_void) {
    if let Some(f) = f {
        // SAFETY: registered by the application with `mg_timer_add` together with `arg`.
        unsafe { f(arg) }
    }
}

pub(crate) fn call_conn_timer(f: mg_conn_timer_fn_t, owner: Handle, arg: *mut c_void) {
    if let Some(f) = f {
        // SAFETY: registered by the application with `mg_timer_add_conn` together with `arg`.
        unsafe { f(mg_conn { h: owner.raw() }, arg) }
    }
}

pub(crate) fn call_undelivered(f: mg_undelivered_fn_t, h: Handle, data: &mut mg_str, arg: *mut c_void) {
    if let Some(f) = f {
        // SAFETY: registered with `mg_mgr_set_undelivered_fn`; `data` outlives the call.
        unsafe { f(mg_conn { h: h.raw() }, data, arg) }
    }
}

/// Zeroed `MG_DATA_SIZE` bytes, 16-byte aligned (malloc's guarantee), or NULL.
pub(crate) fn alloc_conn_data() -> *mut c_void {
    // SAFETY: calloc with a non-zero size; the result is checked by the caller.
    unsafe { libc::calloc(1, MG_DATA_SIZE) }
}

pub(crate) fn free_conn_data(p: *mut c_void) {
    if !p.is_null() {
        // SAFETY: `p` came from `alloc_conn_data` and is freed exactly once (Conn::drop).
        unsafe { libc::free(p) }
    }
}
