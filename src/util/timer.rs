//! Mongoose's caller-driven timers: `mg_timer_expired` and the step `mg_timer_poll` takes for
//! each timer of a list the caller owns. Pure functions of the time they are given (the
//! caller passes `now`, as smoltcp's `poll(now)`): tests drive them with a fake clock.
#![forbid(unsafe_code)]

/// Fire once (the default).
pub const ONCE: u32 = 0;
/// Fire every period.
pub const REPEAT: u32 = 1;
/// Also fire at the first poll.
pub const RUN_NOW: u32 = 2;
/// Set by the poll once the timer has fired.
pub const CALLED: u32 = 4;
/// A one-shot timer is unlinked and freed (`mg_free`) after it fires.
pub const AUTODELETE: u32 = 8;

/// `mg_timer_expired(&expiration, period, now)`: whether a periodic deadline has passed.
///
/// `*expiration` 0 means "not started": it becomes `now + period` and the answer is false.
/// When `now` reaches it, the answer is true and it advances by one `period` (or, if more
/// than a whole period was missed, to `now + period`: missed periods are not replayed). If
/// the clock went back by more than a period (`now + period < *expiration`), the deadline
/// restarts from `now`. Sums saturate instead of wrapping.
pub fn expired(expiration: &mut u64, period: u64, now: u64) -> bool {
    if now.saturating_add(period) < *expiration {
        *expiration = 0;
    }
    if *expiration == 0 {
        *expiration = now.saturating_add(period);
    }
    if *expiration > now {
        return false;
    }
    *expiration = if now - *expiration > period {
        now.saturating_add(period)
    } else {
        expiration.saturating_add(period)
    };
    true
}

/// What `mg_timer_poll` does with one timer at time `now`.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    /// Call the timer's function.
    pub call: bool,
    /// Then unlink it from the list and free it (`MG_TIMER_AUTODELETE` one-shot timers).
    pub remove: bool,
}

/// Advance one timer (its `flags` and `expire` fields) to `now`, as Mongoose 7.22's
/// `mg_timer_poll` does: a `RUN_NOW` timer fires at its first poll; a repeating one at every
/// expiry; a one-shot one at its first expiry only (it stays in the list, inert, unless it
/// has `AUTODELETE`).
pub fn poll_step(flags: &mut u32, expire: &mut u64, period: u64, now: u64) -> Step {
    let run_now = *expire == 0 && *flags & RUN_NOW != 0 && *flags & CALLED == 0;
    let due = expired(expire, period, now);
    if !run_now && !due {
        return Step {
            call: false,
            remove: false,
        };
    }
    let call = *flags & REPEAT != 0 || *flags & CALLED == 0;
    *flags |= CALLED;
    Step {
        call,
        remove: *flags & REPEAT == 0 && *flags & AUTODELETE != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_known_answers() {
        let mut t = 0;
        assert!(!expired(&mut t, 1000, 0));
        assert_eq!(t, 1000);
        assert!(!expired(&mut t, 1000, 999));
        assert!(expired(&mut t, 1000, 1000));
        assert_eq!(t, 2000);
        assert!(expired(&mut t, 1000, 2500));
        assert_eq!(t, 3000);
        // More than a period late: no burst of catch-up expiries.
        assert!(expired(&mut t, 1000, 9000));
        assert_eq!(t, 10000);
        assert!(!expired(&mut t, 1000, 9999));
        // The clock went back: restart from now.
        assert!(!expired(&mut t, 1000, 100));
        assert_eq!(t, 1100);
        // Saturation at the end of time: no panic, no wrap.
        let mut t = u64::MAX - 1;
        assert!(expired(&mut t, u64::MAX, u64::MAX));
        assert!(!expired(&mut 0, u64::MAX, u64::MAX - 1));
    }

    #[test]
    fn poll_step_flags() {
        // One-shot: fires once at expiry, then never again.
        let (mut f, mut e) = (ONCE, 0);
        assert!(!poll_step(&mut f, &mut e, 10, 0).call);
        assert_eq!(
            poll_step(&mut f, &mut e, 10, 10),
            Step {
                call: true,
                remove: false
            }
        );
        assert!(!poll_step(&mut f, &mut e, 10, 20).call);
        // RUN_NOW | REPEAT: at the first poll, then each period.
        let (mut f, mut e) = (RUN_NOW | REPEAT, 0);
        assert!(poll_step(&mut f, &mut e, 10, 5).call);
        assert!(!poll_step(&mut f, &mut e, 10, 14).call);
        assert!(poll_step(&mut f, &mut e, 10, 15).call);
        // AUTODELETE one-shot: removed when it fires.
        let (mut f, mut e) = (AUTODELETE, 0);
        assert_eq!(
            poll_step(&mut f, &mut e, 0, 7),
            Step {
                call: true,
                remove: true
            }
        );
        // AUTODELETE is ignored for repeating timers.
        let (mut f, mut e) = (AUTODELETE | REPEAT, 0);
        assert_eq!(
            poll_step(&mut f, &mut e, 0, 7),
            Step {
                call: true,
                remove: false
            }
        );
    }
}
