//! Generational slot table: the heart of guarantee G1 (handles, not addresses).
//!
//! A [`Handle`] is 64 bits: the low [`SLOT_BITS`] bits are a slot index, the high bits a
//! *serial*. Serials come from one counter shared by every table in the process and only
//! increase, so:
//! - the all-zero handle is never valid (serials start at 1);
//! - a handle is never reissued, not even by another table (a handle from another manager
//!   never resolves here);
//! - validation is O(1): the slot's stored serial must equal the handle's.
//!
//! Every free path clears the slot's serial; the next occupant gets a fresh, larger one.
//! When the counter would pass [`SERIAL_MAX`] (2^48 - 1), allocation fails with
//! [`TableError::Exhausted`] instead of wrapping. The counter is a `u64` behind a spin lock,
//! so this holds on 32-bit targets without 64-bit atomics.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

extern crate alloc;

/// Bits of a handle that hold the slot index.
pub const SLOT_BITS: u32 = 16;
/// The largest number of slots a table can have.
pub const MAX_SLOTS: usize = 1 << SLOT_BITS;
/// The largest serial ever issued.
pub const SERIAL_MAX: u64 = (1u64 << (64 - SLOT_BITS)) - 1;

/// A generational handle. Never zero.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Handle(u64);

impl Handle {
    /// Decode any `u64`. Zero and values with a zero serial are `None`; everything else is a
    /// syntactically valid handle that may or may not resolve in a table.
    pub fn from_raw(raw: u64) -> Option<Handle> {
        if raw >> SLOT_BITS == 0 {
            None
        } else {
            Some(Handle(raw))
        }
    }
    pub fn raw(self) -> u64 {
        self.0
    }
    pub fn slot(self) -> usize {
        (self.0 & (MAX_SLOTS as u64 - 1)) as usize
    }
    /// The serial: unique for the life of the process (Mongoose's connection id).
    pub fn serial(self) -> u64 {
        self.0 >> SLOT_BITS
    }
    fn new(slot: usize, serial: u64) -> Handle {
        debug_assert!(slot < MAX_SLOTS && (1..=SERIAL_MAX).contains(&serial));
        Handle((serial << SLOT_BITS) | slot as u64)
    }
}

/// Where serials come from.
#[derive(Debug)]
enum Serials {
    /// The process-wide counter (production).
    Global,
    /// A private counter (tests of exhaustion).
    Local(u64),
}

static NEXT_SERIAL: spin::Mutex<u64> = spin::Mutex::new(1);

impl Serials {
    fn next(&mut self) -> Option<u64> {
        let take = |next: &mut u64| {
            if *next > SERIAL_MAX {
                return None;
            }
            let s = *next;
            *next += 1;
            Some(s)
        };
        match self {
            Serials::Global => take(&mut NEXT_SERIAL.lock()),
            Serials::Local(next) => take(next),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// The table holds `capacity` live entries.
    Full,
    /// No serial left (see module docs).
    Exhausted,
}

#[derive(Debug)]
struct Slot<T> {
    /// Serial of the occupant, 0 when free.
    serial: u64,
    /// One bit per walk that skips what did not change (see [`Table::walk_changed`]): set
    /// when the entry is inserted or lent out mutably, cleared by that walk.
    changed: u8,
    /// While the slot is free: the free slot freed before it ([`NO_FREE`]: none). In the
    /// slot's padding beside `changed`: no `Vec` of free indexes to grow and drop.
    next_free: u32,
    value: Option<T>,
}

/// The end of [`Table`]'s free list.
const NO_FREE: u32 = u32::MAX;

/// Every bit of [`Slot::changed`].
const ALL_CHANGED: u8 = u8::MAX;

/// A table of `T` addressed by [`Handle`]s.
#[derive(Debug)]
pub struct Table<T> {
    slots: Vec<Slot<T>>,
    /// The free slot freed last, reused first ([`NO_FREE`]: none); the others are linked
    /// through [`Slot::next_free`] (a stack: a reused slot's handles are told apart by their
    /// serials).
    free: u32,
    len: usize,
    capacity: usize,
    serials: Serials,
    /// The serial of the last entry inserted (0: none yet). Serials only increase, so an
    /// entry inserted after this was read has a larger one.
    newest: u64,
}

impl<T> Table<T> {
    /// A table that holds at most `capacity` (clamped to `1..=MAX_SLOTS`) live entries.
    pub fn new(capacity: usize) -> Self {
        Table {
            slots: Vec::new(),
            free: NO_FREE,
            len: 0,
            capacity: capacity.clamp(1, MAX_SLOTS),
            serials: Serials::Global,
            newest: 0,
        }
    }

    /// A table with a private serial counter starting at `first` (for tests).
    pub fn with_private_serials(capacity: usize, first: u64) -> Self {
        let mut t = Self::new(capacity);
        t.serials = Serials::Local(first.max(1));
        t
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Change the cap on live entries (clamped to `1..=MAX_SLOTS`); live entries stay.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.clamp(1, MAX_SLOTS);
    }
    pub fn is_full(&self) -> bool {
        self.len >= self.capacity
    }

    pub fn insert(&mut self, value: T) -> Result<Handle, TableError> {
        self.insert_with(|_| value)
    }

    /// Insert the value built by `f`, which is given the new entry's handle.
    pub fn insert_with(&mut self, f: impl FnOnce(Handle) -> T) -> Result<Handle, TableError> {
        if self.is_full() {
            return Err(TableError::Full);
        }
        let index = match self.free {
            NO_FREE if self.slots.len() < MAX_SLOTS => self.slots.len(),
            NO_FREE => return Err(TableError::Full),
            i => i as usize,
        };
        let serial = self.serials.next().ok_or(TableError::Exhausted)?;
        if index == self.slots.len() {
            // A new slot: the free list stays empty (taken below from its `next_free`).
            self.slots.push(Slot {
                serial: 0,
                changed: 0,
                next_free: NO_FREE,
                value: None,
            });
        }
        let h = Handle::new(index, serial);
        self.newest = serial;
        // `index` is a slot (pushed above, or a free one): `get_mut` only spares the
        // indexing panic path.
        let Some(slot) = self.slots.get_mut(index) else {
            return Err(TableError::Full);
        };
        self.free = slot.next_free;
        slot.serial = serial;
        slot.changed = ALL_CHANGED;
        // The slot is empty (a new one, or from `free`): its old value needs no drop glue here
        // (forgetting a `None` is a no-op).
        let old = slot.value.replace(f(h));
        debug_assert!(old.is_none());
        core::mem::forget(old);
        self.len += 1;
        Ok(h)
    }

    pub fn contains(&self, h: Handle) -> bool {
        self.get(h).is_some()
    }

    pub fn get(&self, h: Handle) -> Option<&T> {
        let slot = self.slots.get(h.slot())?;
        if slot.serial != h.serial() {
            return None;
        }
        slot.value.as_ref()
    }

    /// The entry of `h`, lent mutably: it counts as changed for every walk
    /// ([`Table::walk_changed`]).
    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        let slot = self.slots.get_mut(h.slot())?;
        if slot.serial != h.serial() {
            return None;
        }
        slot.changed = ALL_CHANGED;
        slot.value.as_mut()
    }

    /// Remove an entry; its handle (and every older one for that slot) never resolves again.
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        let slot = self.slots.get_mut(h.slot())?;
        if slot.serial != h.serial() || slot.value.is_none() {
            return None;
        }
        slot.serial = 0;
        let v = slot.value.take();
        self.len -= 1;
        slot.next_free = self.free;
        self.free = h.slot() as u32;
        v
    }

    /// Handles of all live entries, in slot order.
    pub fn handles(&self) -> Vec<Handle> {
        self.iter().map(|(h, _)| h).collect()
    }

    /// The serial of the entry inserted last (0: none yet): every entry inserted later has a
    /// larger one. With [`Table::slot_count`] and [`Table::at`], a walk over the entries that
    /// were there at one moment, without copying their handles out.
    pub fn newest_serial(&self) -> u64 {
        self.newest
    }

    /// How many slots the table has (live or free): indexes for [`Table::at`].
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The live entry in slot `i`, with its handle.
    pub fn at(&self, i: usize) -> Option<(Handle, &T)> {
        let s = self.slots.get(i)?;
        s.value.as_ref().map(|v| (Handle::new(i, s.serial), v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (Handle, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.value.as_ref().map(|v| (Handle::new(i, s.serial), v)))
    }

    /// Every entry, lent mutably: each counts as changed for every walk
    /// ([`Table::walk_changed`]).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Handle, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let serial = s.serial;
            s.changed = ALL_CHANGED;
            s.value.as_mut().map(|v| (Handle::new(i, serial), v))
        })
    }

    /// Every entry, with whether it changed since the last walk with the same `bit` (one
    /// bit of a `u8`, one per walk): inserted, or lent out by [`Table::get_mut`] or
    /// [`Table::iter_mut`] since, or kept marked by that walk. The walk clears its bit,
    /// unless `f` returns true (keep it: look again next time), and leaves the others.
    /// An entry can be changed only through those calls (this is the only other one that
    /// lends it mutably, and it marks nothing), so a walk that skips what did not change
    /// misses no change. `f` may write to the entry only what no walk's question depends on.
    #[inline]
    pub fn walk_changed(&mut self, bit: u8, mut f: impl FnMut(Handle, &mut T, bool) -> bool) {
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(v) = s.value.as_mut() {
                let changed = s.changed & bit != 0;
                let keep = f(Handle::new(i, s.serial), v, changed);
                // Written only when it changes: most entries were not changed and are not kept.
                if keep != changed {
                    s.changed ^= bit;
                }
            }
        }
    }

    /// Count every entry as changed for every walk (for a change that is not in the
    /// entries, such as the limits a walk's question reads).
    pub fn mark_all_changed(&mut self) {
        for s in self.slots.iter_mut() {
            s.changed = ALL_CHANGED;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn zero_and_serial_zero_never_decode() {
        assert_eq!(Handle::from_raw(0), None);
        assert_eq!(Handle::from_raw(5), None); // slot 5, serial 0
        assert!(Handle::from_raw(1 << SLOT_BITS).is_some());
    }

    /// A walk (`walk_changed`) sees an entry as changed iff it was inserted, lent out by
    /// `get_mut`/`iter_mut`, or kept by that walk since the walk's last look; each walk has
    /// its own bit; `get`, `at`, `iter` and the walks themselves mark nothing.
    #[test]
    fn walks_see_every_change_made_through_a_mutable_loan_and_nothing_else() {
        let mut t: Table<u32> = Table::with_private_serials(8, 1);
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        let seen = |t: &mut Table<u32>, bit: u8, keep: Option<Handle>| {
            let mut v = Vec::new();
            t.walk_changed(bit, |h, _, changed| {
                if changed {
                    v.push(h);
                }
                Some(h) == keep
            });
            v
        };
        assert_eq!(seen(&mut t, 1, None), [a, b], "inserted");
        assert_eq!(seen(&mut t, 1, None), [], "nothing changed since");
        let _ = (t.get(a), t.at(0), t.iter().count(), t.contains(b));
        assert_eq!(seen(&mut t, 1, None), [], "read-only access");
        *t.get_mut(b).unwrap() += 1;
        assert_eq!(seen(&mut t, 1, Some(b)), [b], "get_mut");
        assert_eq!(seen(&mut t, 1, None), [b], "kept by the walk");
        assert_eq!(seen(&mut t, 1, None), []);
        assert_eq!(seen(&mut t, 2, None), [a, b], "another walk's bit is its own");
        for (_, v) in t.iter_mut() {
            *v += 1;
        }
        assert_eq!(seen(&mut t, 1, None), [a, b], "iter_mut");
        t.mark_all_changed();
        assert_eq!(seen(&mut t, 2, None), [a, b], "mark_all_changed");
        assert!(t.get_mut(Handle::new(0, 99)).is_none());
        assert_eq!(seen(&mut t, 2, None), [], "a stale handle marks nothing");
        t.remove(a).unwrap();
        let c = t.insert(3).unwrap();
        assert_eq!(seen(&mut t, 2, None), [c], "the slot's new entry");
    }

    #[test]
    fn removed_handle_is_stale_and_slot_gets_new_serial() {
        let mut t = Table::with_private_serials(4, 1);
        let a = t.insert("a").unwrap();
        assert_eq!(t.remove(a), Some("a"));
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None);
        let b = t.insert("b").unwrap();
        assert_eq!(a.slot(), b.slot());
        assert!(b.serial() > a.serial());
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(b), Some(&"b"));
    }

    #[test]
    fn a_walk_by_slot_and_newest_serial_sees_only_the_entries_present_at_its_start() {
        let mut t = Table::with_private_serials(8, 1);
        assert_eq!(t.newest_serial(), 0);
        let a = t.insert("a").unwrap();
        let b = t.insert("b").unwrap();
        let (n, newest) = (t.slot_count(), t.newest_serial());
        assert_eq!(newest, b.serial());
        // During the walk: `a` goes and its slot is reused, a new slot is added.
        t.remove(a);
        let c = t.insert("c").unwrap();
        let d = t.insert("d").unwrap();
        assert_eq!((c.slot(), d.slot()), (a.slot(), 2));
        let seen: Vec<_> = (0..n)
            .filter_map(|i| t.at(i))
            .filter(|(h, _)| h.serial() <= newest)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(seen, ["b"]);
        assert_eq!(t.at(d.slot()), Some((d, &"d")));
        assert_eq!(t.at(99), None);
    }

    #[test]
    fn capacity_is_enforced() {
        let mut t = Table::with_private_serials(2, 1);
        let a = t.insert(1).unwrap();
        t.insert(2).unwrap();
        assert_eq!(t.insert(3), Err(TableError::Full));
        t.remove(a);
        assert!(t.insert(3).is_ok());
    }

    /// The N-th insert succeeds and the N+1-th is `Full`, for several N; after any number of
    /// frees exactly that many inserts succeed again, no more; `set_capacity` moves the
    /// boundary without touching live entries.
    #[test]
    fn capacity_boundary_is_exact_before_and_after_frees() {
        for cap in [1usize, 2, 3, 7, 64] {
            let mut t = Table::with_private_serials(cap, 1);
            assert!(t.is_empty());
            let mut hs: Vec<Handle> = (0..cap).map(|i| t.insert(i).unwrap()).collect();
            assert!(!t.is_empty());
            assert_eq!(t.len(), cap);
            assert!(t.is_full());
            assert_eq!(t.insert(usize::MAX), Err(TableError::Full), "cap {cap}");
            for freed in 1..=cap {
                for h in hs.drain(..freed) {
                    assert!(t.remove(h).is_some());
                    assert!(!t.contains(h));
                }
                assert_eq!(t.is_empty(), freed == cap);
                assert_eq!(t.len(), cap - freed);
                assert!(!t.is_full());
                for i in 0..freed {
                    hs.push(t.insert(i).unwrap());
                }
                assert_eq!(
                    t.insert(usize::MAX),
                    Err(TableError::Full),
                    "cap {cap} after {freed} freed"
                );
                assert_eq!(t.len(), cap);
                assert!(hs.iter().all(|h| t.contains(*h)));
            }
        }
        let mut t = Table::with_private_serials(3, 1);
        let hs: Vec<Handle> = (0..3).map(|i| t.insert(i).unwrap()).collect();
        t.set_capacity(2);
        assert_eq!(t.capacity(), 2);
        assert_eq!(t.len(), 3, "live entries stay");
        t.remove(hs[0]);
        assert_eq!(t.insert(9), Err(TableError::Full), "2 live, cap 2");
        t.set_capacity(4);
        assert!(t.insert(9).is_ok());
        assert!(t.insert(10).is_ok());
        assert_eq!(t.insert(11), Err(TableError::Full));
        t.set_capacity(0);
        assert_eq!(t.capacity(), 1, "clamped");
        t.set_capacity(usize::MAX);
        assert_eq!(t.capacity(), MAX_SLOTS, "clamped");
    }

    /// The slot count is capped at `MAX_SLOTS` even if the capacity check were to let more
    /// through (it cannot, since capacity is clamped; this is the backstop that keeps a slot
    /// index from spilling into the serial bits).
    #[test]
    fn slot_index_never_passes_max_slots() {
        let mut t = Table::with_private_serials(MAX_SLOTS, 1);
        t.capacity = MAX_SLOTS + 1; // bypass the clamp: test the second line of defence
        let mut last = None;
        for i in 0..MAX_SLOTS {
            last = Some(t.insert(i as u32).unwrap());
        }
        let last = last.unwrap();
        assert_eq!(last.slot(), MAX_SLOTS - 1);
        assert_eq!(t.insert(0), Err(TableError::Full), "no slot index {MAX_SLOTS}");
        assert_eq!(t.len(), MAX_SLOTS);
        assert_eq!(t.remove(last), Some((MAX_SLOTS - 1) as u32));
        let again = t.insert(7).unwrap();
        assert_eq!(again.slot(), MAX_SLOTS - 1, "the freed slot is reused");
        assert_eq!(t.insert(8), Err(TableError::Full));
        assert_eq!(t.get(again), Some(&7));
    }

    #[test]
    fn exhaustion_fails_instead_of_wrapping() {
        let mut t = Table::with_private_serials(8, SERIAL_MAX);
        let last = t.insert(1).unwrap();
        assert_eq!(last.serial(), SERIAL_MAX);
        assert_eq!(t.insert(2), Err(TableError::Exhausted));
        t.remove(last);
        assert_eq!(t.insert(3), Err(TableError::Exhausted));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn tables_share_the_global_counter() {
        let mut a = Table::new(4);
        let mut b = Table::new(4);
        let ha = a.insert(1).unwrap();
        let hb = b.insert(2).unwrap();
        assert_ne!(ha.serial(), hb.serial());
        assert_eq!(b.get(ha), None, "a handle from another table never resolves");
        assert_eq!(a.get(hb), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert,
        Remove(usize),
        Get(usize),
        Forge(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Insert),
            2 => any::<usize>().prop_map(Op::Remove),
            2 => any::<usize>().prop_map(Op::Get),
            1 => any::<u64>().prop_map(Op::Forge),
        ]
    }

    proptest! {
        /// The table against a model that keeps every handle ever issued: live ones resolve
        /// to their value, every removed one never resolves again, no handle is issued twice,
        /// and forged values resolve only if they equal a live handle.
        #[test]
        fn behaves_like_model(ops in proptest::collection::vec(op(), 1..400), cap in 1usize..16) {
            let mut t = Table::with_private_serials(cap, 1);
            let mut live: HashMap<Handle, u32> = HashMap::new();
            let mut ever: Vec<Handle> = Vec::new();
            let mut next_val = 0u32;
            // The free slots, the one freed last at the end: the next insert takes it
            // (a stack), and only with none free does the table grow by a slot.
            let mut freed: Vec<usize> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert => {
                        let r = t.insert(next_val);
                        if live.len() >= cap {
                            prop_assert_eq!(r, Err(TableError::Full));
                        } else {
                            let h = r.unwrap();
                            prop_assert!(!ever.contains(&h), "handle reissued");
                            prop_assert!(h.raw() != 0);
                            let slots = live.len() + freed.len();
                            let want = freed.pop().unwrap_or(slots);
                            prop_assert_eq!(h.slot(), want, "the slot freed last is reused first");
                            live.insert(h, next_val);
                            ever.push(h);
                        }
                        next_val += 1;
                    }
                    Op::Remove(i) if !ever.is_empty() => {
                        let h = ever[i % ever.len()];
                        let was = live.remove(&h);
                        if was.is_some() {
                            freed.push(h.slot());
                        }
                        prop_assert_eq!(t.remove(h), was);
                    }
                    Op::Get(i) if !ever.is_empty() => {
                        let h = ever[i % ever.len()];
                        prop_assert_eq!(t.get(h), live.get(&h));
                    }
                    Op::Forge(raw) => {
                        if let Some(h) = Handle::from_raw(raw) {
                            prop_assert_eq!(t.get(h), live.get(&h));
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(t.len(), live.len());
                prop_assert_eq!(t.slot_count(), live.len() + freed.len(), "no slot leaked");
                for h in &ever {
                    prop_assert_eq!(t.get(*h), live.get(h));
                }
            }
        }
    }
}
