//! Mongoose's caller-driven timers, apart from the manager: `mg_timer_expired` and a timer
//! list the caller owns and polls itself (`mg_timer_init`, `mg_timer_poll`). The logic is
//! `util::timer`.
//!
//! **How they coexist with meerkat's manager timers.** In meerkat `struct mg_timer` is the
//! handle of a manager timer (`mg_timer_add`, `mg_timer_free(t)`), so the list element that
//! Mongoose also calls `struct mg_timer` is `struct mg_list_timer` here, and Mongoose's
//! two-argument `mg_timer_free(&head, t)` for lists is `mg_list_timer_free(&head, t)`.
//! `mg_timer_init` and `mg_timer_poll` keep their names and arguments. The two kinds share
//! the `MG_TIMER_*` flags and never touch each other: a list is polled only when the caller
//! calls `mg_timer_poll`, from the caller's thread, with the caller's clock.

use core::ffi::{c_uint, c_void};

use super::cast;
use super::guard;
use super::types::mg_timer_fn_t;
use crate::util::timer;

/// Timer flag (`mg_timer_poll` sets it): the timer's function was called at least once.
pub const MG_TIMER_CALLED: u32 = 4;
/// Timer flag: free a one-shot timer after it fires. For a list timer (`mg_timer_init`) the
/// timer is unlinked and released with `mg_free`, so it must come from `mg_calloc`/`malloc`.
pub const MG_TIMER_AUTODELETE: u32 = 8;
const _: () = assert!(
    MG_TIMER_CALLED == timer::CALLED
        && MG_TIMER_AUTODELETE == timer::AUTODELETE
        && super::types::MG_TIMER_ONCE == timer::ONCE
        && super::types::MG_TIMER_REPEAT == timer::REPEAT
        && super::types::MG_TIMER_RUN_NOW == timer::RUN_NOW
);

/// An element of a timer list the caller owns and polls (Mongoose's `struct mg_timer`; see
/// the module notes: in meerkat that name is the manager timer's handle).
///
/// Ownership: the caller owns every element and the list head (`struct mg_list_timer *`,
/// NULL when empty). meerkat links and unlinks elements and, for `MG_TIMER_AUTODELETE`
/// one-shot timers only, frees them with `mg_free`. An element must stay valid while it is
/// linked. Fields are Mongoose's, with its meanings.
#[repr(C)]
pub struct mg_list_timer {
    /// Period in milliseconds.
    pub period_ms: u64,
    /// Next expiry (0: not started).
    pub expire: u64,
    /// `MG_TIMER_*` flags.
    pub flags: c_uint,
    /// Called as `fn(arg)`.
    pub r#fn: mg_timer_fn_t,
    pub arg: *mut c_void,
    /// The next element, or NULL.
    pub next: *mut mg_list_timer,
}

/// `mg_timer_expired(&expiration, period, now)`: true once `now` reaches `*expiration`, which
/// then advances by `period` (to `now + period` when more than a period was missed). Set
/// `*expiration` to 0 before the first call: that call starts the period and returns false.
/// A clock that went back by more than a period restarts it. The Mongoose idiom:
/// `static uint64_t t; if (mg_timer_expired(&t, 1000, mg_millis())) { ... }`.
/// NULL `expiration` returns false. Thread: any thread (the variable is the caller's).
#[no_mangle]
pub extern "C" fn mg_timer_expired(expiration: *mut u64, period: u64, now: u64) -> bool {
    guard(|| match cast::as_mut(expiration) {
        Ok(t) => timer::expired(t, period, now),
        Err(_) => false,
    })
}

/// `mg_timer_init(&head, t, ms, flags, fn, arg)`: set up `*t` (every field) and link it
/// first in the list `*head`. `flags`: `MG_TIMER_ONCE` (0), `MG_TIMER_REPEAT`,
/// `MG_TIMER_RUN_NOW` (also fire at the first poll), `MG_TIMER_AUTODELETE`. It fires from
/// `mg_timer_poll` only. NULL `head` or `t` does nothing; so does a `t` already in the list
/// (linking it twice would make a cycle). Ownership: see `struct mg_list_timer`; `arg` is
/// kept and passed to `fn`. Thread: the thread that polls the list.
#[no_mangle]
pub extern "C" fn mg_timer_init(
    head: *mut *mut mg_list_timer,
    t: *mut mg_list_timer,
    ms: u64,
    flags: c_uint,
    f: mg_timer_fn_t,
    arg: *mut c_void,
) {
    guard(|| {
        let (Ok(h), false) = (cast::as_mut(head), t.is_null()) else {
            return;
        };
        let mut p = *h;
        while let Ok(e) = cast::as_ref(p) {
            if p == t {
                return;
            }
            p = e.next;
        }
        let _ = cast::write_out(
            t,
            mg_list_timer {
                period_ms: ms,
                expire: 0,
                flags,
                r#fn: f,
                arg,
                next: *h,
            },
        );
        *h = t;
    })
}

/// Unlink `t` from the list at `head`; false if it is not there.
fn unlink(head: *mut *mut mg_list_timer, t: *mut mg_list_timer) -> bool {
    let mut link = head;
    while let Ok(l) = cast::as_mut(link) {
        let cur = *l;
        let Ok(e) = cast::as_mut(cur) else {
            return false;
        };
        if cur == t {
            *l = e.next;
            return true;
        }
        link = core::ptr::addr_of_mut!(e.next);
    }
    false
}

/// `mg_list_timer_free(&head, t)`: unlink `t` from the list (Mongoose's two-argument
/// `mg_timer_free(&head, t)`). The memory of `t` stays the caller's: nothing is freed. A `t`
/// not in the list, or NULL arguments, do nothing. Safe inside a timer's own function.
/// Thread: the thread that polls the list.
#[no_mangle]
pub extern "C" fn mg_list_timer_free(head: *mut *mut mg_list_timer, t: *mut mg_list_timer) {
    guard(|| {
        unlink(head, t);
    })
}

/// `mg_timer_poll(&head, now)`: fire the timers of the list that are due at `now` (the
/// caller's clock in milliseconds, usually `mg_millis()`), in list order. A repeating timer
/// fires at each expiry; a one-shot timer at its first expiry only (it then stays linked
/// and inert, or, with `MG_TIMER_AUTODELETE`, is unlinked and freed with `mg_free` after its
/// function returns); `MG_TIMER_RUN_NOW` also fires at the first poll.
///
/// A timer function may unlink (and free) its own timer and add new ones (first in the list:
/// they are not polled in this pass); it must not free other timers of the list during the
/// poll. NULL `head` does nothing. Thread: the caller's; meerkat keeps no state between polls.
#[no_mangle]
pub extern "C" fn mg_timer_poll(head: *mut *mut mg_list_timer, now: u64) {
    guard(|| {
        let Ok(h) = cast::as_mut(head) else {
            return;
        };
        let mut p = *h;
        while !p.is_null() {
            // No reference to the element is held across its function: the function may
            // change or unlink it.
            let Ok(e) = cast::as_mut(p) else {
                return;
            };
            let next = e.next;
            let mut flags = e.flags;
            let step = timer::poll_step(&mut flags, &mut e.expire, e.period_ms, now);
            e.flags = flags;
            let (f, arg) = (e.r#fn, e.arg);
            if step.call {
                if let Some(f) = f {
                    // SAFETY: `fn` and `arg` were given together to mg_timer_init; the caller
                    // promised a callable function for the life of the element.
                    unsafe { f(arg) };
                }
            }
            if step.remove && unlink(head, p) {
                cast::c_free(p.cast());
            }
            p = next;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;
    use core::ptr::null_mut;

    thread_local!(static FIRED: Cell<u32> = const { Cell::new(0) });

    unsafe extern "C" fn count(arg: *mut c_void) {
        FIRED.with(|f| f.set(f.get() + arg as u32));
    }

    fn zeroed() -> mg_list_timer {
        mg_list_timer {
            period_ms: 0,
            expire: 0,
            flags: 0,
            r#fn: None,
            arg: null_mut(),
            next: null_mut(),
        }
    }

    #[test]
    fn list_polls_in_order_and_autodelete_frees() {
        FIRED.with(|f| f.set(0));
        let mut head: *mut mg_list_timer = null_mut();
        let mut rep = zeroed();
        let mut once = zeroed();
        mg_timer_init(
            &mut head,
            &mut rep,
            10,
            timer::REPEAT | timer::RUN_NOW,
            Some(count),
            1 as _,
        );
        mg_timer_init(&mut head, &mut once, 25, 0, Some(count), 100 as _);
        mg_timer_init(&mut head, &mut once, 25, 0, Some(count), 100 as _); // twice: ignored
        let heap = cast::c_calloc(1, core::mem::size_of::<mg_list_timer>()) as *mut mg_list_timer;
        mg_timer_init(&mut head, heap, 5, timer::AUTODELETE, Some(count), 10_000 as _);
        for now in [0u64, 5, 10, 20, 25, 30, 40] {
            mg_timer_poll(&mut head, now);
        }
        // rep: first poll, then 10, 20, 30, 40; once: at 25; heap: at 5, then freed.
        assert_eq!(FIRED.with(Cell::get), 5 + 100 + 10_000);
        assert_eq!(head, &mut once as *mut _);
        assert_eq!(once.next, &mut rep as *mut _);
        assert!(rep.next.is_null());
        mg_list_timer_free(&mut head, &mut once);
        assert_eq!(head, &mut rep as *mut _);
        mg_list_timer_free(&mut head, &mut once); // not linked: nothing
        mg_timer_poll(null_mut(), 0);
        assert!(!mg_timer_expired(null_mut(), 1, 1));
        let mut t = 0;
        assert!(!mg_timer_expired(&mut t, 1000, 0));
        assert!(mg_timer_expired(&mut t, 1000, 1000));
    }
}
