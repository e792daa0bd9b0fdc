//! Timers: global or owned by a connection (then freed with it), any number of each.
//!
//! Deadlines live in a min-heap with lazy deletion: an entry is acted on only if its timer
//! still exists and was armed by that very entry (`arm` matches).

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use core::cmp::Reverse;
use core::fmt;

use super::wakeup::Shared;
use super::Mgr;
use crate::handle::{Handle, Table};
use alloc::vec::Vec;

extern crate alloc;

/// A manager's timer callback: called with the manager.
pub type GlobalFn = Box<dyn FnMut(&Mgr)>;
/// A connection's timer callback: called with the manager and the owning connection.
pub type ConnFn = Box<dyn FnMut(&Mgr, Handle)>;

/// What a timer calls.
pub enum Callback {
    /// A manager's timer.
    Global(GlobalFn),
    /// A connection's timer.
    Conn(ConnFn),
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Callback::Global(_) => "Callback::Global",
            Callback::Conn(_) => "Callback::Conn",
        })
    }
}

/// When a timer fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerOpts {
    /// Fire every `ms` milliseconds until freed (else once, then the timer is freed).
    pub repeat: bool,
    /// Also fire at the next poll.
    pub run_now: bool,
}

impl TimerOpts {
    /// Once, after the delay.
    pub const fn once() -> TimerOpts {
        TimerOpts {
            repeat: false,
            run_now: false,
        }
    }
    /// Every period, the first time after one period.
    pub const fn repeat() -> TimerOpts {
        TimerOpts {
            repeat: true,
            run_now: false,
        }
    }
}

#[derive(Debug)]
pub struct Timer {
    pub period: u64,
    pub repeat: bool,
    pub deadline: u64,
    pub arm: u64,
    /// `None` while it runs (lent to the call).
    pub cb: Option<Callback>,
    pub owner: Option<Handle>,
}

#[derive(Debug)]
pub struct Timers {
    pub table: Table<Timer>,
    heap: BinaryHeap<Reverse<(u64, u64, u64)>>, // (deadline, arm, timer handle)
    next_arm: u64,
}

/// A timer that is due.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub h: Handle,
    pub owner: Option<Handle>,
}

impl Timers {
    pub fn new(capacity: usize) -> Self {
        Timers {
            table: Table::new(capacity),
            heap: BinaryHeap::new(),
            next_arm: 1,
        }
    }

    pub fn add(
        &mut self,
        now: u64,
        ms: u64,
        opts: TimerOpts,
        cb: Callback,
        owner: Option<Handle>,
    ) -> Result<Handle, crate::handle::TableError> {
        let period = ms.max(1);
        let deadline = if opts.run_now { now } else { now.saturating_add(ms) };
        let arm = self.next_arm;
        self.next_arm += 1;
        let h = self.table.insert(Timer {
            period,
            repeat: opts.repeat,
            deadline,
            arm,
            cb: Some(cb),
            owner,
        })?;
        self.heap.push(Reverse((deadline, arm, h.raw())));
        Ok(h)
    }

    pub fn remove(&mut self, h: Handle) -> Option<Timer> {
        self.table.remove(h)
    }

    /// Take `owned` (a closing connection's timers) out of the table and out of `shared`'s
    /// live mirror; their callbacks are dropped by the caller with no borrow held.
    pub fn take_owned(&mut self, shared: &Shared, owned: &[Handle]) -> Vec<Timer> {
        let mut timers = Vec::new();
        for t in owned {
            timers.extend(self.remove(*t));
            shared.set_timer_live(*t, false);
        }
        timers
    }

    /// Take every timer out of the table (the manager shuts down).
    pub fn take_all(&mut self) -> Vec<Timer> {
        let handles = self.table.handles();
        handles.iter().filter_map(|t| self.remove(*t)).collect()
    }

    /// The earliest deadline of a live timer, dropping dead heap entries on the way.
    pub fn next_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse((d, arm, raw))) = self.heap.peek().copied() {
            if self.is_current(raw, arm) {
                return Some(d);
            }
            self.heap.pop();
        }
        None
    }

    fn is_current(&self, raw: u64, arm: u64) -> bool {
        Handle::from_raw(raw)
            .and_then(|h| self.table.get(h))
            .is_some_and(|t| t.arm == arm)
    }

    /// Pop every timer due at `now`. Timers added while these run wait for the next poll.
    pub fn take_due(&mut self, now: u64) -> alloc::vec::Vec<Due> {
        let mut due = alloc::vec::Vec::new();
        while let Some(Reverse((d, arm, raw))) = self.heap.peek().copied() {
            if d > now {
                break;
            }
            self.heap.pop();
            if !self.is_current(raw, arm) {
                continue;
            }
            let h = Handle::from_raw(raw).expect("current entries hold valid handles");
            let t = self.table.get(h).expect("checked by is_current");
            due.push(Due { h, owner: t.owner });
        }
        due
    }

    /// After a due timer ran: re-arm a repeating one, free a one-shot one. Returns the owner
    /// of a freed timer, so its connection can forget it. A timer freed by its own callback
    /// is already gone and nothing happens.
    pub fn after_run(&mut self, h: Handle, now: u64) -> Option<Option<Handle>> {
        let arm = self.next_arm;
        let t = self.table.get_mut(h)?;
        if t.repeat {
            // Keep the cadence, but never schedule in the past (no bursts after a stall).
            let mut next = t.deadline.saturating_add(t.period);
            if next <= now {
                next = now.saturating_add(t.period);
            }
            t.deadline = next;
            t.arm = arm;
            self.next_arm += 1;
            self.heap.push(Reverse((next, arm, h.raw())));
            None
        } else {
            self.table.remove(h).map(|t| t.owner)
        }
    }
}
