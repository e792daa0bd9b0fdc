//! Which managers exist, which thread owns each, and how a handle from C finds its manager.
//!
//! - Each thread keeps the list of managers it owns (the thread that called `mg_mgr_init`);
//!   without std, that list is the process-wide one below, filtered by owner.
//!   A connection handle is resolved by asking those managers, so a call made on a thread
//!   that does not own the connection's manager can never touch it.
//! - A process-wide list maps each live manager to its cross-thread half (`Shared`), for
//!   `mg_wakeup` from any thread and to tell `MG_ERR_WRONG_THREAD` from `MG_ERR_STALE`.
//!   It also records the address of the `struct mg_mgr` each was initialised in (its home),
//!   which is how `mg_mgr_init` recognises a live manager (see [`init`]).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::types::{mg_conn, mg_mgr};
use crate::ffi::error::*;
use crate::handle::Handle;
use crate::mgr::wakeup::Shared;
use crate::mgr::Mgr;
#[cfg(not(feature = "std"))]
use crate::sys::ThreadId;

extern crate alloc;

/// Per-thread state: the managers the calling thread owns and its last error. With std, in
/// thread-locals; without std, in spin-locked process-wide lists keyed by the thread's
/// identity from `sys` (`pthread_self`), which the owner check of G2 needs anyway.
#[cfg(feature = "std")]
mod per_thread {
    use super::*;
    use core::cell::{Cell, RefCell};

    std::thread_local! {
        static OWNED: RefCell<Vec<*const Mgr>> = const { RefCell::new(Vec::new()) };
        /// The manager `find` found last (NULL: none), always one of `OWNED`'s: looked at
        /// first, since a program's calls nearly always go to the same manager. A plain
        /// `Cell` with no destructor, so reading it costs no lazy-initialisation check.
        static LAST: Cell<*const Mgr> = const { Cell::new(core::ptr::null()) };
        static LAST_ERROR: Cell<c_int> = const { Cell::new(0) };
    }

    pub fn set_last_error(code: c_int) {
        LAST_ERROR.with(|e| e.set(code));
    }
    pub fn last_error() -> c_int {
        LAST_ERROR.with(|e| e.get())
    }
    pub fn own(raw: *const Mgr) {
        OWNED.with(|o| o.borrow_mut().push(raw));
    }
    pub fn disown(raw: *const Mgr) {
        OWNED.with(|o| o.borrow_mut().retain(|x| *x != raw));
        if LAST.get() == raw {
            LAST.set(core::ptr::null());
        }
    }
    /// The first manager of this thread for which `f` holds. (The callers' `f` holds for at
    /// most one manager: a handle resolves in one table only, see `handle.rs`; so trying
    /// the last one found first gives the same answer.)
    pub fn find(mut f: impl FnMut(*const Mgr) -> bool) -> Option<*const Mgr> {
        let last = LAST.get();
        if !last.is_null() && f(last) {
            return Some(last);
        }
        let found = OWNED.with(|o| o.borrow().iter().copied().find(|&raw| f(raw)));
        if let Some(raw) = found {
            LAST.set(raw);
        }
        found
    }
}

#[cfg(not(feature = "std"))]
mod per_thread {
    use super::*;
    use crate::sys::thread_id;

    /// The last error of the threads that made handle-issuing calls lately: a fixed table
    /// (firmware has few threads); the oldest entry makes room for a new thread.
    static LAST_ERROR: spin::Mutex<heapless::Vec<(ThreadId, c_int), 16>> = spin::Mutex::new(heapless::Vec::new());

    pub fn set_last_error(code: c_int) {
        let me = thread_id();
        let mut t = LAST_ERROR.lock();
        if let Some(e) = t.iter_mut().find(|e| e.0 == me) {
            e.1 = code;
            return;
        }
        if t.is_full() {
            t.remove(0);
        }
        let _ = t.push((me, code));
    }
    pub fn last_error() -> c_int {
        let me = thread_id();
        LAST_ERROR.lock().iter().find(|e| e.0 == me).map_or(0, |e| e.1)
    }
    /// Nothing to do: a manager's owner is in its [`Live`] entry of [`ALL`], which `find`
    /// walks (one list, one lock, one push and one removal per manager instead of two:
    /// http-hello -256 B, tcp-echo -192 B).
    pub fn own(_raw: *const Mgr) {}
    pub fn disown(_raw: *const Mgr) {}
    /// The first manager of this thread for which `f` holds. `f` runs with the list locked:
    /// it only looks at the manager (no C code runs, nothing re-enters the registry).
    pub fn find(mut f: impl FnMut(*const Mgr) -> bool) -> Option<*const Mgr> {
        let me = thread_id();
        // Locked inline: every call on a connection or a manager comes here.
        ALL.lock()
            .iter()
            .filter(|e| e.owner == me)
            .map(|e| e.raw as *const Mgr)
            .find(|&raw| f(raw))
    }
}

/// Every live manager: (its `Box<Mgr>` address, the `struct mg_mgr` it lives in, its
/// `Shared`; without std, its owner thread).
static ALL: spin::Mutex<Vec<Live>> = spin::Mutex::new(Vec::new());

/// [`ALL`], locked: one copy of the spin loop for the registry's calls.
#[inline(never)]
fn all() -> spin::MutexGuard<'static, Vec<Live>> {
    ALL.lock()
}

struct Live {
    raw: usize,
    home: usize,
    shared: Arc<Shared>,
    /// The thread that owns the manager (without std, the per-thread lists are this one).
    #[cfg(not(feature = "std"))]
    owner: ThreadId,
}

/// Record the error of the last call on this thread that returned a handle.
pub(crate) fn set_last_error(code: c_int) {
    per_thread::set_last_error(code);
}

/// The raw value to return for a call that issues a handle (`{0}` on failure), recording
/// the outcome for `mg_last_error`.
pub(crate) fn issue(r: Result<Handle, c_int>) -> u64 {
    match r {
        Ok(h) => {
            set_last_error(MG_OK);
            h.raw()
        }
        Err(e) => {
            set_last_error(e);
            0
        }
    }
}

pub(crate) fn last_error() -> c_int {
    per_thread::last_error()
}

fn internal_slot(p: *mut mg_mgr) -> Result<&'static AtomicPtr<core::ffi::c_void>, c_int> {
    if p.is_null() || !(p as usize).is_multiple_of(core::mem::align_of::<mg_mgr>()) {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: `p` is non-NULL and aligned and, by the API contract, points to a `struct
    // mg_mgr` that outlives the call. Access to `internal` is atomic because `mg_wakeup`
    // may read it from other threads while the owner initialises or frees the manager.
    Ok(unsafe { AtomicPtr::from_ptr(core::ptr::addr_of_mut!((*p).internal)) })
}

/// Create a manager for the calling thread and store it in `*p`.
///
/// `*p` may hold anything beforehand: C programs declare `struct mg_mgr mgr;` on the stack
/// or as a global without zeroing it. It is a live manager, and refused with `MG_ERR_BUSY`,
/// only when both halves agree: `p->internal` is the address of a manager that is in the
/// registry (initialised and not freed) AND that manager was initialised at address `p`.
/// Garbage cannot pass the second test, since the registry holds at most one live manager
/// per home address; a stale copy of a live manager's pointer in another struct cannot
/// either. (The one way to reach the refusal without an `mg_mgr_init` at `p` is a manager
/// that was never freed before its struct went out of scope: it is still live, its sockets
/// still open, so refusing is right.)
pub(crate) fn init(p: *mut mg_mgr) -> Result<(), c_int> {
    let slot = internal_slot(p)?;
    let old = slot.load(Ordering::Acquire) as usize;
    if old != 0 && all().iter().any(|l| l.raw == old && l.home == p as usize) {
        return Err(MG_ERR_BUSY);
    }
    let m = Mgr::new_boxed()?;
    let shared = m.shared.clone();
    let raw = alloc::boxed::Box::into_raw(m);
    per_thread::own(raw);
    all().push(Live {
        raw: raw as usize,
        home: p as usize,
        shared,
        #[cfg(not(feature = "std"))]
        owner: crate::sys::thread_id(),
    });
    slot.store(raw.cast(), Ordering::Release);
    Ok(())
}

/// The manager behind `p`, if the calling thread owns it.
pub(crate) fn mgr<'a>(p: *mut mg_mgr) -> Result<&'a Mgr, c_int> {
    let raw = internal_slot(p)?.load(Ordering::Acquire) as *const Mgr;
    if raw.is_null() {
        return Err(MG_ERR_INVALID);
    }
    if per_thread::find(|x| x == raw).is_some() {
        // SAFETY: `raw` is in this thread's list, so it is a live Box<Mgr> created by `init`
        // on this thread; it is freed only by `free` on this thread, which refuses while
        // the manager is busy, so no outer frame can be holding it.
        return Ok(unsafe { &*raw });
    }
    if all().iter().any(|l| l.raw == raw as usize) {
        Err(MG_ERR_WRONG_THREAD)
    } else {
        Err(MG_ERR_INVALID)
    }
}

/// Tear down the manager behind `p` (owner thread, not busy).
pub(crate) fn free(p: *mut mg_mgr) -> Result<(), c_int> {
    let m = mgr(p)?;
    m.shutdown()?;
    let raw = m as *const Mgr;
    per_thread::disown(raw);
    // Exactly one entry is this manager's (the order of the list does not matter).
    let mut all = all();
    let live = all
        .iter()
        .position(|l| l.raw == raw as usize)
        .map(|i| all.swap_remove(i));
    drop(all);
    drop(live);
    internal_slot(p)?.store(core::ptr::null_mut(), Ordering::Release);
    // SAFETY: `raw` came from Box::into_raw in `init`, is no longer reachable from any list
    // or from `*p`, and no reference to it is alive (the manager was not busy).
    drop(unsafe { alloc::boxed::Box::from_raw(raw as *mut Mgr) });
    Ok(())
}

/// The cross-thread half of the manager behind `p`. Any thread.
pub(crate) fn shared(p: *mut mg_mgr) -> Result<Arc<Shared>, c_int> {
    let raw = internal_slot(p)?.load(Ordering::Acquire) as usize;
    if raw == 0 {
        return Err(MG_ERR_INVALID);
    }
    all()
        .iter()
        .find(|l| l.raw == raw)
        .map(|l| l.shared.clone())
        .ok_or(MG_ERR_INVALID)
}

/// The manager (owned by this thread) that holds connection `c`.
pub(crate) fn conn<'a>(c: mg_conn) -> Result<(&'a Mgr, Handle), c_int> {
    let h = Handle::from_raw(c.h).ok_or(MG_ERR_STALE)?;
    let found = per_thread::find(|raw| {
        // SAFETY: as in `mgr`: entries of this thread's list are live managers.
        unsafe { &*raw }.contains(h)
    });
    if let Some(raw) = found {
        // SAFETY: as above.
        return Ok((unsafe { &*raw }, h));
    }
    if all().iter().any(|l| l.shared.is_live(h)) {
        Err(MG_ERR_WRONG_THREAD)
    } else {
        Err(MG_ERR_STALE)
    }
}

/// Any manager owned by this thread that holds timer `t`.
pub(crate) fn timer<'a>(t: u64) -> Result<(&'a Mgr, Handle), c_int> {
    let h = Handle::from_raw(t).ok_or(MG_ERR_STALE)?;
    let found = per_thread::find(|raw| {
        // SAFETY: as in `mgr`.
        unsafe { &*raw }.has_timer(h)
    });
    match found {
        // SAFETY: as in `mgr`.
        Some(raw) => Ok((unsafe { &*raw }, h)),
        // Alive in a manager of another thread (G2): the same answer as for connections.
        None if all().iter().any(|l| l.shared.is_timer_live(h)) => Err(MG_ERR_WRONG_THREAD),
        None => Err(MG_ERR_STALE),
    }
}
