//! Keep-alive: "ping every `interval` ms of silence, dead after `timeout` ms without an answer".
//!
//! Pure state driven by the caller's clock (milliseconds, any monotonic origin), in the style
//! of smoltcp's `poll(now)` / `poll_at()`: the manager calls [`KeepAlive::on_receive`] whenever
//! bytes arrive from the peer (any frame proves it is alive, not only a pong), asks
//! [`KeepAlive::poll`] what to do, and [`KeepAlive::poll_at`] when to ask next.

/// What the connection should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAliveAction {
    /// Nothing to do.
    Idle,
    /// Send a ping now (the state counts it as sent).
    SendPing,
    /// The peer did not answer in time: close the connection.
    Dead,
}

/// Keep-alive state of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    interval: u64,
    timeout: u64,
    last_rx: u64,
    ping_sent: Option<u64>,
}

impl KeepAlive {
    /// Pings after `interval_ms` without traffic from the peer; declares it dead when
    /// `timeout_ms` pass after a ping without any traffic. `now` is the start time.
    pub const fn new(interval_ms: u64, timeout_ms: u64, now: u64) -> Self {
        KeepAlive {
            interval: interval_ms,
            timeout: timeout_ms,
            last_rx: now,
            ping_sent: None,
        }
    }

    /// Bytes (any frame) arrived from the peer at `now`.
    pub fn on_receive(&mut self, now: u64) {
        self.last_rx = self.last_rx.max(now);
        self.ping_sent = None;
    }

    /// What to do at `now`. A clock that goes backwards is treated as standing still.
    pub fn poll(&mut self, now: u64) -> KeepAliveAction {
        match self.ping_sent {
            Some(t) if now.saturating_sub(t) >= self.timeout => KeepAliveAction::Dead,
            Some(_) => KeepAliveAction::Idle,
            None if now.saturating_sub(self.last_rx) >= self.interval => {
                self.ping_sent = Some(now);
                KeepAliveAction::SendPing
            }
            None => KeepAliveAction::Idle,
        }
    }

    /// The next time at which [`poll`](Self::poll) may return something other than `Idle`.
    pub fn poll_at(&self) -> u64 {
        match self.ping_sent {
            Some(t) => t.saturating_add(self.timeout),
            None => self.last_rx.saturating_add(self.interval),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_then_dead() {
        let mut k = KeepAlive::new(1000, 500, 0);
        assert_eq!(k.poll(999), KeepAliveAction::Idle);
        assert_eq!(k.poll_at(), 1000);
        assert_eq!(k.poll(1000), KeepAliveAction::SendPing);
        assert_eq!(k.poll(1001), KeepAliveAction::Idle);
        assert_eq!(k.poll_at(), 1500);
        assert_eq!(k.poll(1499), KeepAliveAction::Idle);
        assert_eq!(k.poll(1500), KeepAliveAction::Dead);
    }

    #[test]
    fn traffic_keeps_alive() {
        let mut k = KeepAlive::new(1000, 500, 0);
        k.on_receive(800);
        assert_eq!(k.poll(1000), KeepAliveAction::Idle);
        assert_eq!(k.poll(1800), KeepAliveAction::SendPing);
        k.on_receive(1900); // the pong
        assert_eq!(k.poll(2400), KeepAliveAction::Idle);
        assert_eq!(k.poll_at(), 2900);
        // Clock going backwards: nothing happens, no underflow.
        k.on_receive(100);
        assert_eq!(k.poll(50), KeepAliveAction::Idle);
        assert_eq!(k.poll_at(), 2900);
    }

    #[test]
    fn extreme_values() {
        let mut k = KeepAlive::new(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(k.poll(u64::MAX), KeepAliveAction::Idle);
        assert_eq!(k.poll_at(), u64::MAX);
        let mut k = KeepAlive::new(0, 0, 0);
        assert_eq!(k.poll(0), KeepAliveAction::SendPing);
        assert_eq!(k.poll(0), KeepAliveAction::Dead);
    }
}
