//! The cross-thread side of a manager (G2): a bounded FIFO of messages for the loop, the
//! mirror of live connection handles that lets other threads be told "stale" at once, and the
//! self-pipe that wakes the loop. Everything here is behind one spin lock and is `Send + Sync`.
//!
//! WebSocket sends from other threads ([`Sender::ws_send`], [`Sender::ws_broadcast`]) go
//! through the same queue: the message is framed on the loop thread by one `ws_send`, all or
//! nothing, so it arrives whole and in queue order, never interleaved with another message's
//! frames. A second mirror records which live connections are WebSockets, so that a broadcast
//! can name its recipients (and count them) when it is accepted, and every recipient that
//! cannot take it at delivery is reported to the undelivered callback, one by one.

use alloc::vec::Vec;

use core::mem::ManuallyDrop;
use core::net::SocketAddr;

use crate::error::Error;
use crate::handle::Handle;
use crate::sys::Waker;

use super::Mgr;

extern crate alloc;

/// A message for the loop thread.
#[derive(Debug)]
pub enum Msg {
    /// `mg_wakeup`: bytes for one connection.
    ToConn(Handle, Vec<u8>),
    /// `mg_wakeup_all`: bytes for every connection alive at delivery.
    Broadcast(Vec<u8>),
    /// A resolver thread finished (internal; not subject to the caps).
    Resolved(Handle, Result<Vec<SocketAddr>, ()>),
    /// `mg_ws_wakeup`: one WebSocket message (opcode, payload) for one connection.
    WsTo(Handle, u8, Vec<u8>),
    /// `mg_ws_wakeup_all`: one WebSocket message (opcode, payload) for each of the listed
    /// connections (the WebSockets that were open when it was accepted).
    WsAll(u8, Vec<u8>, Vec<Handle>),
    /// `mg_mqtt_pub_wakeup` / [`Sender::mqtt_pub`]: a PUBLISH for one MQTT connection (same
    /// FIFO and caps as `ToConn`; handed back as undelivered the same way).
    MqttPub(Handle, Vec<u8>),
}

impl Msg {
    /// Payload bytes charged to the queue's byte cap: the payload, and for a broadcast its
    /// list of recipients too (it is memory held by the queue as well).
    fn charge(&self) -> usize {
        match self {
            Msg::ToConn(_, d) | Msg::Broadcast(d) | Msg::WsTo(_, _, d) | Msg::MqttPub(_, d) => d.len(),
            Msg::WsAll(_, d, to) => d
                .len()
                .saturating_add(to.len().saturating_mul(core::mem::size_of::<Handle>())),
            Msg::Resolved(..) => 0,
        }
    }

    /// The (connection, payload) pairs of this message that can no longer be delivered when
    /// the manager is freed: what goes to the undelivered callback.
    pub fn into_undelivered(self) -> Vec<(Handle, Vec<u8>)> {
        match self {
            Msg::ToConn(h, d) | Msg::WsTo(h, _, d) | Msg::MqttPub(h, d) => alloc::vec![(h, d)],
            Msg::WsAll(_, d, to) => to.into_iter().map(|h| (h, d.clone())).collect(),
            Msg::Broadcast(_) | Msg::Resolved(..) => Vec::new(),
        }
    }
}

/// Is `op` something a thread may send to a WebSocket: a text or binary message, or a ping,
/// pong or close with at most 125 bytes (RFC 6455 §5.5)?
fn ws_sendable(op: u8, len: usize) -> bool {
    use crate::ws::{WEBSOCKET_OP_BINARY, WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_PING, WEBSOCKET_OP_PONG, WEBSOCKET_OP_TEXT};
    match op {
        WEBSOCKET_OP_TEXT | WEBSOCKET_OP_BINARY => true,
        WEBSOCKET_OP_PING | WEBSOCKET_OP_PONG | WEBSOCKET_OP_CLOSE => len <= 125,
        _ => false,
    }
}

#[derive(Debug, Default)]
pub struct QueueStats {
    pub accepted: u64,
    pub rejected_full: u64,
    pub rejected_stale: u64,
}

#[derive(Debug)]
struct Inner {
    /// In the order accepted: a `Vec` (only ever appended to and taken whole), so that the
    /// library links no `VecDeque` for it. Dropped by `Inner`'s `Drop` through the
    /// [`Delivery`] that the first message installed (before it, nothing was ever queued):
    /// a program that queues nothing names no drop of a message.
    msgs: ManuallyDrop<Vec<Msg>>,
    /// Payload bytes of user messages in `msgs`.
    bytes: usize,
    /// User messages in `msgs`.
    count: usize,
    max_msgs: usize,
    max_bytes: usize,
    /// Serial of the live connection in each slot (0: none). Mirrors the loop's table.
    live: Vec<u64>,
    /// The same for timers, so that a timer handle used from a thread that does not own
    /// the manager is told `Error::WrongThread`, not `Error::Stale` (G2).
    timers_live: Vec<u64>,
    /// Raw handle of the live WebSocket in each slot (0: none): the recipients of a
    /// WebSocket broadcast, and what a WebSocket send by handle is checked against.
    ws: Vec<u64>,
    /// A wake byte is in the pipe and not yet drained.
    signaled: bool,
    /// The manager is being freed: everything is refused.
    closed: bool,
    stats: QueueStats,
    /// The loop's side of the queue, set with the first message queued (see [`Delivery`]).
    delivery: Option<Delivery>,
}

/// What the loop does with queued messages: deliver them ([`Mgr::deliver_messages`]), and
/// hand to the undelivered callback those of a connection that closed first and those
/// still queued when the manager is freed. Set by the first message queued (`Inner::push`, for [`Shared::push_msg`] and
/// [`Shared::push_internal`]), from whatever thread queued it: until then the queue is empty
/// and the loop only drains the waker, so a program that never queues a message (no
/// `mg_wakeup`, no `Sender`, no name lookup on a helper thread) does not link the delivery.
#[derive(Clone, Copy, Debug)]
pub(super) struct Delivery {
    /// Deliver what [`Shared::take_all`] took, in order.
    pub(super) deliver: fn(&Mgr, Vec<Msg>),
    /// Take the payloads queued for a connection that closed out of the queue
    /// ([`Shared::set_dead`]).
    take_orphans: fn(&mut Inner, Handle) -> Vec<Vec<u8>>,
    /// Hand those payloads to the undelivered callback.
    pub(super) orphans: OrphansFn,
    /// What [`Shared::close`] gave back when the manager is freed.
    pub(super) leftovers: fn(&Mgr, Vec<Msg>),
    /// Drop messages still queued when the queue itself goes away (`Inner`'s `Drop`).
    discard: fn(Vec<Msg>),
}

/// What hands a closed connection's queued payloads to the undelivered callback.
pub(super) type OrphansFn = fn(&Mgr, Handle, Vec<Vec<u8>>);

/// The payloads queued for `h`, taken out of the queue ([`Shared::set_dead`], through
/// [`Delivery::take_orphans`]); a broadcast that named it loses it from its recipients
/// and gives back a copy.
fn take_orphans(q: &mut Inner, h: Handle) -> Vec<Vec<u8>> {
    let mut orphans = Vec::new();
    let mine = |m: &Msg| match m {
        Msg::ToConn(t, _) | Msg::WsTo(t, _, _) | Msg::MqttPub(t, _) => *t == h,
        Msg::WsAll(_, _, to) => to.contains(&h),
        _ => false,
    };
    if q.msgs.iter().any(mine) {
        let mut keep = Vec::with_capacity(q.msgs.len());
        for m in core::mem::take(&mut *q.msgs) {
            match m {
                Msg::ToConn(t, data) | Msg::WsTo(t, _, data) | Msg::MqttPub(t, data) if t == h => {
                    q.bytes -= data.len();
                    q.count -= 1;
                    orphans.push(data);
                }
                Msg::WsAll(op, data, mut to) if to.contains(&h) => {
                    to.retain(|&t| t != h);
                    q.bytes -= core::mem::size_of::<Handle>();
                    orphans.push(data.clone());
                    if to.is_empty() {
                        q.bytes -= data.len();
                        q.count -= 1;
                    } else {
                        keep.push(Msg::WsAll(op, data, to));
                    }
                }
                other => keep.push(other),
            }
        }
        *q.msgs = keep;
    }
    orphans
}

/// The loop's side of the queue (see [`Delivery`]).
const DELIVERY: Delivery = Delivery {
    deliver: |m, msgs| m.deliver_messages(msgs),
    take_orphans,
    orphans: |m, h, orphans| {
        for data in orphans {
            m.report_undelivered(h, data);
        }
    },
    leftovers: |m, msgs| {
        for msg in msgs {
            m.report_msg_undelivered(msg);
        }
    },
    discard: drop,
};

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(d) = self.delivery {
            (d.discard)(core::mem::take(&mut *self.msgs));
        }
    }
}

impl Inner {
    /// Queue `m` (caps already checked) with the loop's side of the queue, which the first
    /// message installs (see [`Delivery`]); whether the waker must be signaled (it was not
    /// since the last `take_all`).
    fn push(&mut self, m: Msg) -> bool {
        self.delivery = Some(DELIVERY);
        self.msgs.push(m);
        !core::mem::replace(&mut self.signaled, true)
    }
}

/// Record in a live mirror (serial per slot, 0: none) that `h` is alive or gone.
fn mirror(slots: &mut Vec<u64>, h: Handle, live: bool) {
    if live {
        if slots.len() <= h.slot() {
            slots.resize(h.slot() + 1, 0);
        }
        slots[h.slot()] = h.serial();
    } else {
        clear_if(slots, h.slot(), h.serial());
    }
}

/// Zero `slots[i]` if it holds `v` (one bounds check, no indexing panic path).
#[inline]
fn clear_if(slots: &mut [u64], i: usize, v: u64) {
    if let Some(s) = slots.get_mut(i) {
        if *s == v {
            *s = 0;
        }
    }
}

#[derive(Debug)]
pub struct Shared {
    inner: spin::Mutex<Inner>,
    waker: Waker,
}

impl Shared {
    /// The queue, locked: one copy of the spin loop for every call here (none of them is
    /// made per request).
    #[inline(never)]
    fn lock(&self) -> spin::MutexGuard<'_, Inner> {
        self.inner.lock()
    }

    pub fn new(waker: Waker, max_msgs: usize, max_bytes: usize) -> Shared {
        Shared {
            inner: spin::Mutex::new(Inner {
                msgs: ManuallyDrop::new(Vec::new()),
                bytes: 0,
                count: 0,
                max_msgs,
                max_bytes,
                live: Vec::new(),
                timers_live: Vec::new(),
                ws: Vec::new(),
                signaled: false,
                closed: false,
                stats: QueueStats::default(),
                delivery: None,
            }),
            waker,
        }
    }

    pub fn set_caps(&self, max_msgs: usize, max_bytes: usize) {
        let mut q = self.lock();
        q.max_msgs = max_msgs;
        q.max_bytes = max_bytes;
    }

    /// Is `h` a live connection of this manager (as of the last loop update)? Any thread.
    pub fn is_live(&self, h: Handle) -> bool {
        self.lock().live.get(h.slot()) == Some(&h.serial())
    }

    /// Is `t` a live timer of this manager? Any thread.
    pub fn is_timer_live(&self, t: Handle) -> bool {
        self.lock().timers_live.get(t.slot()) == Some(&t.serial())
    }

    /// Loop thread: timer `t` was added (`true`) or is gone (`false`).
    pub fn set_timer_live(&self, t: Handle, live: bool) {
        let mut q = self.lock();
        mirror(&mut q.timers_live, t, live);
    }

    /// Loop thread: a connection was created.
    pub fn set_live(&self, h: Handle) {
        let mut q = self.lock();
        mirror(&mut q.live, h, true);
    }

    /// Loop thread: connection `h` is now a WebSocket (upgraded, or a client's `101` was
    /// accepted): WebSocket sends by handle and broadcasts reach it from now on.
    pub fn set_ws(&self, h: Handle) {
        let mut q = self.lock();
        if q.live.get(h.slot()) != Some(&h.serial()) {
            return;
        }
        if q.ws.len() <= h.slot() {
            q.ws.resize(h.slot() + 1, 0);
        }
        q.ws[h.slot()] = h.raw();
    }

    /// Loop thread: a connection is gone. Returns the messages that were queued for it, so
    /// they can be reported undelivered (ownership goes back to the application's callback).
    /// A broadcast that named it loses it from its recipients and gives back a copy.
    pub fn set_dead(&self, h: Handle) -> Vec<Vec<u8>> {
        self.set_dead_due(h).map_or_else(Vec::new, |(orphans, _)| orphans)
    }

    /// [`Shared::set_dead`], the payloads coming with what hands them to the undelivered
    /// callback ([`Delivery::orphans`]); `None` when there are none (one lock, and
    /// [`Mgr::close_now`] names no drop of them).
    pub(super) fn set_dead_due(&self, h: Handle) -> Option<(Vec<Vec<u8>>, OrphansFn)> {
        let mut q = self.lock();
        mirror(&mut q.live, h, false);
        clear_if(&mut q.ws, h.slot(), h.raw());
        // Only queued messages make orphans, and the first one queued set `delivery`.
        let d = q.delivery?;
        let orphans = (d.take_orphans)(&mut q, h);
        if orphans.is_empty() {
            return None;
        }
        Some((orphans, d.orphans))
    }

    /// Any thread: queue one WebSocket message for connection `h`. Refused (nothing queued)
    /// as [`push_to`](Self::push_to), and `Unsupported` when `h` is alive but not a
    /// WebSocket, `Invalid` for an opcode that is not text, binary, or a control frame of at
    /// most 125 bytes.
    pub fn push_ws(&self, h: Handle, op: u8, data: &[u8]) -> Result<(), Error> {
        if !ws_sendable(op, data.len()) {
            return Err(Error::Invalid);
        }
        self.push_msg(|q| {
            if q.live.get(h.slot()) != Some(&h.serial()) {
                q.stats.rejected_stale += 1;
                return Err(Error::Stale);
            }
            if q.ws.get(h.slot()) != Some(&h.raw()) {
                return Err(Error::Unsupported);
            }
            Ok(Msg::WsTo(h, op, data.to_vec()))
        })
        .map(|_| ())
    }

    /// Any thread: queue one WebSocket message for every connection that is a WebSocket now.
    /// Returns how many that is (0: nothing queued); each of them later gets the message
    /// whole or is reported to the undelivered callback. Errors as [`push_ws`](Self::push_ws)
    /// except `Stale` and `Unsupported`.
    pub fn push_ws_all(&self, op: u8, data: &[u8]) -> Result<usize, Error> {
        if !ws_sendable(op, data.len()) {
            return Err(Error::Invalid);
        }
        self.push_msg(|q| {
            let to: Vec<Handle> = q.ws.iter().filter_map(|&raw| Handle::from_raw(raw)).collect();
            Ok(Msg::WsAll(op, data.to_vec(), to))
        })
    }

    /// Queue the message `make` builds under the lock, within the caps. Returns its number
    /// of recipients (0 for an empty broadcast, which is not queued).
    fn push_msg(&self, make: impl FnOnce(&mut Inner) -> Result<Msg, Error>) -> Result<usize, Error> {
        let wake;
        let n;
        {
            let mut q = self.lock();
            if q.closed {
                return Err(Error::Closing);
            }
            let m = make(&mut q)?;
            n = match &m {
                Msg::WsAll(_, _, to) => to.len(),
                _ => 1,
            };
            if n == 0 {
                return Ok(0);
            }
            let charge = m.charge();
            if q.count >= q.max_msgs || q.bytes.saturating_add(charge) > q.max_bytes {
                q.stats.rejected_full += 1;
                return Err(Error::Full);
            }
            q.bytes += charge;
            q.count += 1;
            q.stats.accepted += 1;
            wake = q.push(m);
        }
        if wake {
            self.waker.wake();
        }
        Ok(n)
    }

    /// Any thread: queue bytes for one connection. Refused (with nothing queued) when the
    /// handle is known to be stale, the queue is full, or the manager is being freed.
    pub fn push_to(&self, h: Handle, data: &[u8]) -> Result<(), Error> {
        self.push_user(Some(h), data, false)
    }

    /// Any thread: queue an MQTT PUBLISH for connection `h` (as `push_to`).
    pub fn push_mqtt(&self, h: Handle, packet: &[u8]) -> Result<(), Error> {
        self.push_user(Some(h), packet, true)
    }

    /// Any thread: queue bytes for every connection.
    pub fn push_broadcast(&self, data: &[u8]) -> Result<(), Error> {
        self.push_user(None, data, false)
    }

    fn push_user(&self, target: Option<Handle>, data: &[u8], mqtt: bool) -> Result<(), Error> {
        self.push_msg(|q| match target {
            Some(h) if q.live.get(h.slot()) != Some(&h.serial()) => {
                q.stats.rejected_stale += 1;
                Err(Error::Stale)
            }
            Some(h) if mqtt => Ok(Msg::MqttPub(h, data.to_vec())),
            Some(h) => Ok(Msg::ToConn(h, data.to_vec())),
            None => Ok(Msg::Broadcast(data.to_vec())),
        })
        .map(|_| ())
    }

    /// Any thread (resolver): internal message, not subject to caps.
    pub fn push_internal(&self, m: Msg) {
        let wake;
        {
            let mut q = self.lock();
            if q.closed {
                return;
            }
            wake = q.push(m);
        }
        if wake {
            self.waker.wake();
        }
    }

    /// Any thread: make the loop's current or next poll return.
    pub fn wake(&self) {
        let wake = !core::mem::replace(&mut self.lock().signaled, true);
        if wake {
            self.waker.wake();
        }
    }

    /// Loop thread: drain the waker and take every queued message, in order
    /// ([`Shared::take_due`], the loop's call, as if the waker had fired).
    pub fn take_all(&self) -> Vec<Msg> {
        self.take_due(true).map_or_else(Vec::new, |(msgs, _)| msgs)
    }

    /// Loop thread, once a poll: when the waker fired (`woke`) or something is queued,
    /// drain the waker and take every queued message, in order, with what delivers them
    /// (set by the first message queued, see [`Delivery`]); `None` when nothing is queued.
    /// [`Shared::pending`] and the take in one, with the delivery read in the same lock: a
    /// poll with nothing queued takes the lock once, and the loop names no drop of a
    /// `Vec<Msg>`.
    pub(super) fn take_due(&self, woke: bool) -> Option<(Vec<Msg>, Delivery)> {
        if !woke && self.lock().msgs.is_empty() {
            return None;
        }
        self.waker.drain();
        let mut q = self.lock();
        q.signaled = false;
        q.bytes = 0;
        q.count = 0;
        let d = q.delivery?;
        if q.msgs.is_empty() {
            return None;
        }
        Some((core::mem::take(&mut *q.msgs), d))
    }

    /// Loop thread: has anything been queued since the last `take_all`?
    pub fn pending(&self) -> bool {
        !self.lock().msgs.is_empty()
    }

    /// Loop thread, at `mg_mgr_free`: refuse everything from now on; return what was queued.
    pub fn close(&self) -> Vec<Msg> {
        self.close_due().map_or_else(Vec::new, |(msgs, _)| msgs)
    }

    /// [`Shared::close`], what was queued coming with what hands it to the undelivered
    /// callback ([`Delivery::leftovers`]); `None` when nothing was (one lock, and
    /// [`Mgr::shutdown`] names no drop of a `Vec<Msg>`).
    pub(super) fn close_due(&self) -> Option<(Vec<Msg>, Delivery)> {
        let mut q = self.lock();
        q.closed = true;
        q.live.clear();
        q.timers_live.clear();
        q.ws.clear();
        let d = q.delivery?;
        if q.msgs.is_empty() {
            return None;
        }
        Some((core::mem::take(&mut *q.msgs), d))
    }

    pub fn stats(&self) -> (u64, u64, u64) {
        let q = self.lock();
        (q.stats.accepted, q.stats.rejected_full, q.stats.rejected_stale)
    }
}

/// Sends messages to a manager's connections from any thread (G2). Get one with
/// [`Mgr::sender`](super::Mgr::sender); clone it freely and move it to worker threads.
///
/// A message is delivered on the manager's thread as [`Event::Wakeup`](super::Event::Wakeup)
/// to the connection it was sent to, and only to it; messages to one connection arrive in
/// the order they were accepted. A message accepted for a connection that then closes before
/// delivery is handed back to the manager's undelivered callback
/// ([`Mgr::set_undelivered`](super::Mgr::set_undelivered)), never to another connection.
#[derive(Debug, Clone)]
pub struct Sender(pub(crate) alloc::sync::Arc<Shared>);

impl Sender {
    /// Queue a copy of `data` for connection `conn`. `Err(Stale)` when `conn` is known to be
    /// closed, `Err(Full)` when the queue is at its cap (`Limits::wakeup_msgs`,
    /// `wakeup_bytes`: retry later), `Err(Closing)` once the manager is shut down; nothing
    /// is queued then.
    pub fn send(&self, conn: Handle, data: &[u8]) -> Result<(), Error> {
        self.0.push_to(conn, data)
    }
    /// Queue a copy of `data` for every connection alive when it is delivered (listeners
    /// included). Errors as [`send`](Self::send), except `Stale`.
    pub fn broadcast(&self, data: &[u8]) -> Result<(), Error> {
        self.0.push_broadcast(data)
    }
    /// Queue one WebSocket message (`op`: [`WEBSOCKET_OP_TEXT`](crate::ws::WEBSOCKET_OP_TEXT)
    /// or `_BINARY`, or a ping, pong or close of at most 125 bytes) for connection `conn`,
    /// which must be a WebSocket (Mongoose-style C name: `mg_ws_wakeup`). It is framed (and
    /// compressed, if negotiated) on the manager's thread by one
    /// [`Mgr::ws_send`](super::Mgr::ws_send) and so arrives whole, after every message
    /// accepted before it for `conn`, never interleaved with another message's frames. No
    /// event is delivered for it. If it cannot be sent there (the connection closed or began
    /// its closing handshake, or its send buffer has no room for the message: a peer that
    /// does not read), its payload goes to the undelivered callback
    /// ([`Mgr::set_undelivered`](super::Mgr::set_undelivered)) instead.
    ///
    /// Errors (nothing queued): `Stale` (`conn` is known to be closed), `Unsupported` (alive
    /// but not a WebSocket), `Invalid` (bad opcode, control payload over 125 bytes), `Full`
    /// (queue at its cap: retry later), `Closing` (the manager is shut down).
    pub fn ws_send(&self, conn: Handle, op: u8, data: &[u8]) -> Result<(), Error> {
        self.0.push_ws(conn, op, data)
    }

    /// Queue one WebSocket message for every connection of the manager that is a WebSocket
    /// now (servers' and clients' alike), in one call; returns how many that is (0: none,
    /// nothing queued). Each of them gets the message as with [`ws_send`](Self::ws_send), or
    /// its copy is reported to the undelivered callback; the queue holds one copy of the
    /// payload for all of them. Errors as `ws_send`, except `Stale` and `Unsupported`.
    pub fn ws_broadcast(&self, op: u8, data: &[u8]) -> Result<usize, Error> {
        self.0.push_ws_all(op, data)
    }

    /// Make the manager's current or next poll return promptly, with no event.
    pub fn wake(&self) {
        self.0.wake()
    }
    /// Queue an encoded MQTT PUBLISH for `conn` (see `Sender::mqtt_pub` in `mgr/mqtt.rs`).
    pub(crate) fn push_mqtt(&self, conn: Handle, packet: Vec<u8>) -> Result<(), Error> {
        self.0.push_mqtt(conn, &packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(slot: u64, serial: u64) -> Handle {
        Handle::from_raw((serial << crate::handle::SLOT_BITS) | slot).unwrap()
    }

    #[test]
    fn stale_full_and_orphans() {
        let s = Shared::new(Waker::new().unwrap(), 2, 10);
        let a = h(0, 7);
        assert_eq!(s.push_to(a, b"x"), Err(Error::Stale));
        s.set_live(a);
        assert_eq!(s.push_to(a, b"1"), Ok(()));
        assert_eq!(s.push_to(a, b"0123456789"), Err(Error::Full), "byte cap");
        assert_eq!(s.push_to(a, b"2"), Ok(()));
        assert_eq!(s.push_to(a, b"3"), Err(Error::Full), "message cap");
        assert_eq!(s.push_to(h(0, 8), b"x"), Err(Error::Stale), "newer serial, same slot");
        let orphans = s.set_dead(a);
        assert_eq!(orphans, vec![b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(s.push_to(a, b"x"), Err(Error::Stale));
        assert!(s.take_all().is_empty());
        assert_eq!(s.stats(), (2, 2, 3));
    }

    fn payloads(msgs: Vec<Msg>) -> Vec<(Option<Handle>, Vec<u8>)> {
        msgs.into_iter()
            .map(|m| match m {
                Msg::ToConn(h, d) | Msg::MqttPub(h, d) => (Some(h), d),
                Msg::Broadcast(d) => (None, d),
                Msg::Resolved(h, r) => (Some(h), format!("resolved {}", r.is_ok()).into_bytes()),
                Msg::WsTo(h, op, d) => (Some(h), [&[b'w', op][..], &d].concat()),
                Msg::WsAll(op, d, to) => (None, [&[b'W', op, to.len() as u8][..], &d].concat()),
            })
            .collect()
    }

    /// Both caps hold exactly at their boundary: a message that fills the byte cap to the
    /// last byte is taken, one byte more is refused; the same after messages leave with a
    /// dead connection (their budget comes back, exactly, no more) and after the loop takes
    /// the queue.
    #[test]
    fn caps_are_exact_and_come_back_when_a_connection_dies() {
        let s = Shared::new(Waker::new().unwrap(), 4, 40);
        let (a, b) = (h(1, 10), h(2, 11));
        s.set_live(a);
        s.set_live(b);
        assert_eq!(s.push_to(b, &[b'b'; 10]), Ok(()));
        assert_eq!(s.push_to(a, &[b'a'; 10]), Ok(()));
        assert_eq!(s.push_to(a, &[b'A'; 21]), Err(Error::Full), "41 of 40 bytes");
        assert_eq!(s.push_to(a, &[b'A'; 10]), Ok(()));
        assert_eq!(s.push_to(b, &[b'B'; 10]), Ok(()), "40 of 40 bytes, 4 of 4 messages");
        assert_eq!(s.push_to(b, b""), Err(Error::Full), "message cap");
        assert_eq!(s.push_broadcast(b""), Err(Error::Full), "message cap, broadcast");

        // `a` dies with two messages (20 bytes) queued: only its own are handed back.
        assert_eq!(s.set_dead(a), vec![vec![b'a'; 10], vec![b'A'; 10]]);
        assert_eq!(s.set_dead(a), Vec::<Vec<u8>>::new(), "once");
        assert!(!s.is_live(a) && s.is_live(b));
        // Exactly 2 messages and 20 bytes are free again.
        assert_eq!(s.push_to(b, &[b'x'; 21]), Err(Error::Full), "41 of 40 bytes");
        assert_eq!(s.push_to(b, &[b'x'; 19]), Ok(()));
        assert_eq!(s.push_to(b, &[b'y'; 2]), Err(Error::Full), "41 of 40 bytes");
        assert_eq!(s.push_broadcast(&[b'y'; 1]), Ok(()), "40 of 40 bytes");
        assert_eq!(s.push_broadcast(b""), Err(Error::Full), "5th message");
        assert!(s.pending());
        assert_eq!(
            payloads(s.take_all()),
            vec![
                (Some(b), vec![b'b'; 10]),
                (Some(b), vec![b'B'; 10]),
                (Some(b), vec![b'x'; 19]),
                (None, vec![b'y'; 1]),
            ],
            "the survivors, in order"
        );
        // Everything is free after the loop took the queue.
        assert_eq!(s.push_to(b, &[b'z'; 40]), Ok(()));
        assert_eq!(s.push_to(b, b""), Ok(()));
        assert_eq!(s.push_to(b, b"1"), Err(Error::Full));
        assert_eq!(s.stats(), (8, 7, 0));
    }

    /// A connection dying with nothing queued takes nothing away from others.
    #[test]
    fn set_dead_of_an_idle_connection_keeps_the_queue() {
        let s = Shared::new(Waker::new().unwrap(), 2, 10);
        let (a, b) = (h(1, 20), h(2, 21));
        s.set_live(a);
        s.set_live(b);
        assert_eq!(s.push_to(b, b"12345"), Ok(()));
        assert!(s.set_dead(a).is_empty());
        assert_eq!(s.push_to(b, b"12345"), Ok(()));
        assert_eq!(s.push_to(b, b""), Err(Error::Full), "the dead one gave nothing back");
        assert_eq!(payloads(s.take_all()).len(), 2);
    }

    /// `pending` says whether anything (user or internal) waits for the loop.
    #[test]
    fn pending_follows_the_queue() {
        let s = Shared::new(Waker::new().unwrap(), 8, 100);
        let a = h(3, 30);
        assert!(!s.pending());
        assert_eq!(s.push_to(a, b"x"), Err(Error::Stale));
        assert!(!s.pending(), "a refused message is not pending");
        s.set_live(a);
        assert_eq!(s.push_to(a, b"x"), Ok(()));
        assert!(s.pending());
        assert_eq!(payloads(s.take_all()), vec![(Some(a), b"x".to_vec())]);
        assert!(!s.pending());
        s.push_internal(Msg::Resolved(a, Err(())));
        assert!(s.pending(), "internal messages too");
        assert_eq!(payloads(s.take_all()), vec![(Some(a), b"resolved false".to_vec())]);
        assert!(!s.pending());
        assert_eq!(s.push_broadcast(b"all"), Ok(()));
        assert!(s.pending());
        assert!(s.set_dead(a).is_empty(), "a broadcast is nobody's orphan");
        assert!(s.pending());
    }

    /// Internal messages bypass the caps (a resolver result is never lost to a full queue)
    /// and keep their place in the FIFO.
    #[test]
    fn internal_messages_ignore_the_caps_and_keep_order() {
        let s = Shared::new(Waker::new().unwrap(), 1, 1);
        let a = h(4, 40);
        s.set_live(a);
        assert_eq!(s.push_to(a, b"1"), Ok(()));
        s.push_internal(Msg::Resolved(a, Ok(Vec::new())));
        s.push_internal(Msg::Resolved(a, Err(())));
        assert_eq!(
            s.push_to(a, b""),
            Err(Error::Full),
            "internal ones leave the caps alone"
        );
        assert_eq!(
            payloads(s.take_all()),
            vec![
                (Some(a), b"1".to_vec()),
                (Some(a), b"resolved true".to_vec()),
                (Some(a), b"resolved false".to_vec()),
            ]
        );
        assert_eq!(s.push_to(a, b"2"), Ok(()));
    }

    /// At `mg_mgr_free` everything still queued comes back, payloads intact and in order,
    /// so the loop can hand each `ToConn` to the undelivered callback; then all is refused.
    #[test]
    fn close_returns_everything_queued_and_refuses_the_rest() {
        let s = Shared::new(Waker::new().unwrap(), 8, 100);
        let (a, b) = (h(5, 50), h(6, 51));
        s.set_live(a);
        s.set_live(b);
        s.set_timer_live(h(0, 52), true);
        assert_eq!(s.push_to(a, b"a1"), Ok(()));
        assert_eq!(s.push_broadcast(b"all"), Ok(()));
        assert_eq!(s.push_to(b, b"b1"), Ok(()));
        s.push_internal(Msg::Resolved(b, Err(())));
        assert_eq!(s.push_to(a, b"a2"), Ok(()));
        assert_eq!(
            payloads(s.close()),
            vec![
                (Some(a), b"a1".to_vec()),
                (None, b"all".to_vec()),
                (Some(b), b"b1".to_vec()),
                (Some(b), b"resolved false".to_vec()),
                (Some(a), b"a2".to_vec()),
            ]
        );
        assert!(!s.pending());
        assert!(!s.is_live(a) && !s.is_live(b) && !s.is_timer_live(h(0, 52)));
        assert_eq!(s.push_to(a, b"x"), Err(Error::Closing));
        assert_eq!(s.push_broadcast(b"x"), Err(Error::Closing));
        s.push_internal(Msg::Resolved(a, Err(())));
        assert!(!s.pending(), "internal messages are dropped after close");
        assert!(s.close().is_empty());
    }

    /// WebSocket sends: refused unless the handle is a live WebSocket; a broadcast names the
    /// WebSockets alive at the call, counts them, and a recipient that dies hands back its
    /// copy while the others keep theirs; the caps count a broadcast once (plus its list).
    #[test]
    fn ws_sends_and_broadcasts() {
        use crate::ws::{WEBSOCKET_OP_CONTINUE, WEBSOCKET_OP_PING, WEBSOCKET_OP_TEXT as T};
        let s = Shared::new(Waker::new().unwrap(), 8, 200);
        let (a, b, c) = (h(1, 60), h(2, 61), h(3, 62));
        assert_eq!(s.push_ws(a, T, b"x"), Err(Error::Stale));
        s.set_live(a);
        s.set_live(b);
        s.set_live(c);
        assert_eq!(s.push_ws(a, T, b"x"), Err(Error::Unsupported), "not a WebSocket yet");
        assert_eq!(s.push_ws_all(T, b"x"), Ok(0), "no WebSocket: nothing queued");
        assert!(!s.pending());
        s.set_ws(a);
        s.set_ws(b);
        s.set_ws(h(4, 63)); // not live: ignored
        assert_eq!(s.push_ws(a, WEBSOCKET_OP_CONTINUE, b"x"), Err(Error::Invalid));
        assert_eq!(s.push_ws(a, WEBSOCKET_OP_PING, &[0; 126]), Err(Error::Invalid));
        assert_eq!(s.push_ws(a, WEBSOCKET_OP_PING, &[0; 125]), Ok(()));
        assert_eq!(s.push_ws(a, T, b"a1"), Ok(()));
        assert_eq!(s.push_ws_all(T, b"all"), Ok(2), "a and b, not c");
        assert_eq!(s.push_ws(b, T, b"b1"), Ok(()));
        assert_eq!(s.push_ws(c, T, b"c"), Err(Error::Unsupported));
        // b dies: its own message and its copy of the broadcast come back, in queue order.
        assert_eq!(s.set_dead(b), vec![b"all".to_vec(), b"b1".to_vec()]);
        assert_eq!(s.push_ws(b, T, b"x"), Err(Error::Stale));
        assert_eq!(s.push_ws_all(T, b"y"), Ok(1), "only a is left");
        assert_eq!(
            payloads(s.take_all()),
            vec![
                (Some(a), [&b"w"[..], &[WEBSOCKET_OP_PING], &[0; 125]].concat()),
                (Some(a), b"w\x01a1".to_vec()),
                (None, b"W\x01\x01all".to_vec()),
                (None, b"W\x01\x01y".to_vec()),
            ]
        );
        // The last recipient of a broadcast dying takes the broadcast out of the caps.
        let s = Shared::new(Waker::new().unwrap(), 1, 100);
        s.set_live(a);
        s.set_ws(a);
        assert_eq!(s.push_ws_all(T, &[1; 92]), Ok(1), "92 + 8 = 100 bytes");
        assert_eq!(s.push_ws(a, T, b""), Err(Error::Full));
        assert_eq!(s.set_dead(a), vec![vec![1; 92]]);
        assert!(!s.pending());
        s.set_live(b);
        s.set_ws(b);
        assert_eq!(s.push_ws(b, T, &[2; 100]), Ok(()), "all room is back");
        // At close, a broadcast is one undelivered payload per recipient.
        let m = Msg::WsAll(T, b"z".to_vec(), vec![a, b]);
        assert_eq!(m.into_undelivered(), vec![(a, b"z".to_vec()), (b, b"z".to_vec())]);
    }
}
