//! Timers: global or owned by a connection (then freed with it), any number of each.
//!
//! Deadlines live in a min-heap with lazy deletion: an entry is acted on only if its timer
//! still exists and was armed by that very entry (`arm` matches).

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;
use core::ffi::c_void;

use crate::ffi::types::{mg_conn_timer_fn_t, mg_timer_fn_t, MG_TIMER_REPEAT, MG_TIMER_RUN_NOW};
use crate::handle::{Handle, Table};

extern crate alloc;

#[derive(Debug, Clone, Copy)]
pub enum Callback {
    Global(mg_timer_fn_t),
    Conn(mg_conn_timer_fn_t),
}

#[derive(Debug)]
pub struct Timer {
    pub period: u64,
    pub repeat: bool,
    pub deadline: u64,
    pub arm: u64,
    pub cb: Callback,
    pub arg: *mut c_void,
    pub owner: Option<Handle>,
}

#[derive(Debug)]
pub struct Timers {
    pub table: Table<Timer>,
    heap: BinaryHeap<Reverse<(u64, u64, u64)>>, // (deadline, arm, timer handle)
    next_arm: u64,
}

/// A timer that is due: what to call, outside any borrow.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub h: Handle,
    pub cb: Callback,
    pub arg: *mut c_void,
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
        flags: u32,
        cb: Callback,
        arg: *mut c_void,
        owner: Option<Handle>,
    ) -> Result<Handle, crate::handle::TableError> {
        let period = ms.max(1);
        let deadline = if flags & MG_TIMER_RUN_NOW != 0 {
            now
        } else {
            now.saturating_add(ms)
        };
        let arm = self.next_arm;
        self.next_arm += 1;
        let h = self.table.insert(Timer {
            period,
            repeat: flags & MG_TIMER_REPEAT != 0,
            deadline,
            arm,
            cb,
            arg,
            owner,
        })?;
        self.heap.push(Reverse((deadline, arm, h.raw())));
        Ok(h)
    }

    pub fn remove(&mut self, h: Handle) -> Option<Timer> {
        self.table.remove(h)
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
            due.push(Due {
                h,
                cb: t.cb,
                arg: t.arg,
                owner: t.owner,
            });
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
