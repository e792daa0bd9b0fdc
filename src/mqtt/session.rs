//! The protocol state of one MQTT end, without I/O: the QoS 1 and 2 exchanges in both
//! directions, what to retransmit after a reconnect, and the keep-alive schedule.
//!
//! Automatic replies are Mongoose's: a received PUBLISH is acknowledged (PUBACK for QoS 1,
//! PUBREC for QoS 2), a PUBREC is answered with PUBREL and a PUBREL with PUBCOMP. A QoS 2
//! message is delivered once: a retransmitted PUBLISH (DUP) whose id still awaits its PUBREL
//! is acknowledged again but not delivered again.
//!
//! Outgoing QoS 1/2 PUBLISHes are kept (their bytes) until acknowledged. After a reconnect
//! with a persistent session, [`Session::retransmit`] sends each again with DUP set and the
//! same packet id (what Mongoose applications do by hand with `retransmit_id`), and a PUBREL
//! for each QoS 2 message whose PUBREC had come.

use crate::prelude::*;

use super::packet::{Ack, Packet};
use super::PUBLISH;

extern crate alloc;

/// Where an outgoing QoS 1/2 message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Sent; PUBACK (QoS 1) or PUBREC (QoS 2) not received yet.
    Sent,
    /// QoS 2: PUBREC received and PUBREL sent; PUBCOMP not received yet.
    Released,
}

#[derive(Debug, Clone)]
struct Outgoing {
    id: u16,
    stage: Stage,
    /// The PUBLISH as first sent.
    packet: Vec<u8>,
}

/// What the keep-alive schedule says at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// Client: nothing was sent for a keep-alive interval; send PINGREQ.
    Ping,
    /// Nothing was received for 1.5 intervals: the peer is gone (§3.1.2.10).
    Dead,
}

/// The state of one MQTT end.
#[derive(Debug, Clone)]
pub struct Session {
    /// 4 (3.1.1) or 5.
    pub version: u8,
    out: Vec<Outgoing>,
    /// QoS 2 ids received whose PUBREL has not come.
    in_qos2: Vec<u16>,
    keepalive_ms: u64,
    /// Clients ping; brokers only watch.
    pings: bool,
    last_tx: u64,
    last_rx: u64,
}

impl Session {
    /// A fresh session for protocol `version`.
    pub fn new(version: u8) -> Session {
        Session {
            version,
            out: Vec::new(),
            in_qos2: Vec::new(),
            keepalive_ms: 0,
            pings: false,
            last_tx: 0,
            last_rx: 0,
        }
    }

    /// Start the keep-alive schedule: `secs` (0: none) from CONNECT; a client (`pings`)
    /// sends PINGREQ when idle, both ends declare the peer dead after 1.5 intervals of
    /// silence.
    pub fn set_keepalive(&mut self, secs: u16, pings: bool, now: u64) {
        self.keepalive_ms = secs as u64 * 1000;
        self.pings = pings;
        self.last_tx = now;
        self.last_rx = now;
    }

    /// Take the keep-alive schedule (interval, role, last traffic) of `other`.
    pub fn take_schedule(&mut self, other: &Session) {
        self.keepalive_ms = other.keepalive_ms;
        self.pings = other.pings;
        self.last_tx = other.last_tx;
        self.last_rx = other.last_rx;
    }

    /// Bytes went out at `now`.
    pub fn sent(&mut self, now: u64) {
        self.last_tx = now;
    }

    /// Bytes came in at `now`.
    pub fn received(&mut self, now: u64) {
        self.last_rx = now;
    }

    /// What is due at `now`.
    pub fn due(&self, now: u64) -> Due {
        if self.keepalive_ms == 0 {
            return Due::Nothing;
        }
        if now.saturating_sub(self.last_rx) >= self.keepalive_ms * 3 / 2 {
            Due::Dead
        } else if self.pings && now.saturating_sub(self.last_tx) >= self.keepalive_ms {
            Due::Ping
        } else {
            Due::Nothing
        }
    }

    /// When [`Session::due`] may next say something (`u64::MAX`: never).
    pub fn next_due(&self) -> u64 {
        if self.keepalive_ms == 0 {
            return u64::MAX;
        }
        let dead = self.last_rx.saturating_add(self.keepalive_ms * 3 / 2);
        if self.pings {
            dead.min(self.last_tx.saturating_add(self.keepalive_ms))
        } else {
            dead
        }
    }

    /// A QoS 1/2 PUBLISH with packet id `id` was sent (`packet` is its bytes). A PUBLISH
    /// sent again with the same id (`retransmit_id`) replaces the kept one.
    pub fn published(&mut self, id: u16, packet: &[u8]) {
        self.out.retain(|o| o.id != id);
        self.out.push(Outgoing {
            id,
            stage: Stage::Sent,
            packet: packet.to_vec(),
        });
    }

    /// Outgoing messages not completed, oldest first: (id, stage).
    pub fn in_flight(&self) -> impl Iterator<Item = (u16, Stage)> + '_ {
        self.out.iter().map(|o| (o.id, o.stage))
    }

    /// Is `id` in use by an outgoing message not completed?
    pub fn id_in_use(&self, id: u16) -> bool {
        self.out.iter().any(|o| o.id == id)
    }

    /// A packet `p` arrived: append Mongoose's automatic replies to `out` and say whether a
    /// PUBLISH is to be delivered to the application.
    pub fn on_packet(&mut self, p: &Packet<'_>, out: &mut Vec<u8>) -> bool {
        let v = self.version;
        let ack = |id: u16| Ack {
            id,
            code: 0,
            props: &[],
        };
        match p {
            Packet::Publish(m) if m.qos == 1 => {
                Packet::Puback(ack(m.id)).encode(v, out);
                true
            }
            Packet::Publish(m) if m.qos == 2 => {
                Packet::Pubrec(ack(m.id)).encode(v, out);
                if self.in_qos2.contains(&m.id) {
                    false
                } else {
                    self.in_qos2.push(m.id);
                    true
                }
            }
            Packet::Publish(_) => true,
            Packet::Pubrel(a) => {
                self.in_qos2.retain(|&i| i != a.id);
                Packet::Pubcomp(ack(a.id)).encode(v, out);
                false
            }
            Packet::Puback(a) => {
                self.out.retain(|o| o.id != a.id);
                false
            }
            Packet::Pubrec(a) => {
                // A PUBREC with an error reason (MQTT 5, ≥ 0x80) ends the exchange.
                if a.code >= 0x80 {
                    self.out.retain(|o| o.id != a.id);
                } else {
                    if let Some(o) = self.out.iter_mut().find(|o| o.id == a.id) {
                        o.stage = Stage::Released;
                    }
                    let mut rel = Vec::new();
                    Packet::Pubrel(ack(a.id)).encode(v, &mut rel);
                    out.extend_from_slice(&rel);
                }
                false
            }
            Packet::Pubcomp(a) => {
                self.out.retain(|o| o.id != a.id);
                false
            }
            _ => false,
        }
    }

    /// Append, for every outgoing message not completed, what resends it after a reconnect:
    /// the PUBLISH with DUP set (same id), or the PUBREL. Returns how many.
    pub fn retransmit(&self, out: &mut Vec<u8>) -> usize {
        for o in &self.out {
            match o.stage {
                Stage::Sent => {
                    let at = out.len();
                    out.extend_from_slice(&o.packet);
                    if let Some(b) = out.get_mut(at) {
                        if *b >> 4 == PUBLISH {
                            *b |= 8;
                        }
                    }
                }
                Stage::Released => Packet::Pubrel(Ack {
                    id: o.id,
                    code: 0,
                    props: &[],
                })
                .encode(self.version, out),
            }
        }
        self.out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::Publish;
    use super::super::{parse, Parsed};
    use super::*;

    fn publish(id: u16, qos: u8) -> Vec<u8> {
        let mut v = Vec::new();
        Publish {
            topic: b"t",
            payload: b"x",
            qos,
            id,
            ..Publish::default()
        }
        .encode(4, &mut v);
        v
    }

    fn packets(mut b: &[u8]) -> Vec<Packet<'_>> {
        let mut v = Vec::new();
        while let Ok(Parsed::Packet(m)) = parse(b, 4, 1 << 20) {
            v.push(Packet::decode(m.dgram, 4).unwrap());
            b = &b[m.dgram.len()..];
        }
        v
    }

    #[test]
    fn qos1_and_qos2_outgoing_with_retransmission() {
        let mut s = Session::new(4);
        s.published(1, &publish(1, 1));
        s.published(2, &publish(2, 2));
        let mut out = Vec::new();
        // Reconnect before any ack: both PUBLISHes again, DUP set, same ids.
        assert_eq!(s.retransmit(&mut out), 2);
        let p = packets(&out);
        assert!(matches!(
            p[0],
            Packet::Publish(Publish {
                id: 1,
                dup: true,
                qos: 1,
                ..
            })
        ));
        assert!(matches!(
            p[1],
            Packet::Publish(Publish {
                id: 2,
                dup: true,
                qos: 2,
                ..
            })
        ));
        // PUBACK 1, PUBREC 2 → PUBREL 2.
        out.clear();
        s.on_packet(
            &Packet::Puback(Ack {
                id: 1,
                code: 0,
                props: &[],
            }),
            &mut out,
        );
        s.on_packet(
            &Packet::Pubrec(Ack {
                id: 2,
                code: 0,
                props: &[],
            }),
            &mut out,
        );
        assert_eq!(out, [0x62, 2, 0, 2]);
        // Another reconnect: only the PUBREL is resent.
        out.clear();
        assert_eq!(s.retransmit(&mut out), 1);
        assert_eq!(out, [0x62, 2, 0, 2]);
        s.on_packet(
            &Packet::Pubcomp(Ack {
                id: 2,
                code: 0,
                props: &[],
            }),
            &mut out,
        );
        assert_eq!(s.in_flight().count(), 0);
    }

    #[test]
    fn qos2_incoming_delivered_once() {
        let mut s = Session::new(4);
        let b = publish(9, 2);
        let p = Packet::decode(&b, 4).unwrap();
        let mut out = Vec::new();
        assert!(s.on_packet(&p, &mut out));
        assert!(!s.on_packet(&p, &mut out)); // DUP before PUBREL: acked, not delivered
        assert_eq!(out, [0x50, 2, 0, 9, 0x50, 2, 0, 9]);
        out.clear();
        s.on_packet(
            &Packet::Pubrel(Ack {
                id: 9,
                code: 0,
                props: &[],
            }),
            &mut out,
        );
        assert_eq!(out, [0x70, 2, 0, 9]);
        assert!(s.on_packet(&p, &mut out)); // a new message with the reused id
    }

    #[test]
    fn keepalive_schedule() {
        let mut s = Session::new(4);
        assert_eq!(s.due(1_000_000), Due::Nothing);
        s.set_keepalive(10, true, 1000);
        assert_eq!(s.next_due(), 11_000);
        assert_eq!(s.due(10_999), Due::Nothing);
        assert_eq!(s.due(11_000), Due::Ping);
        s.sent(11_000);
        assert_eq!(s.next_due(), 16_000);
        assert_eq!(s.due(15_999), Due::Nothing);
        assert_eq!(s.due(16_000), Due::Dead);
        s.received(15_000);
        assert_eq!(s.due(16_000), Due::Nothing);
        let mut b = Session::new(5);
        b.set_keepalive(2, false, 0);
        assert_eq!(b.due(2_999), Due::Nothing);
        assert_eq!(b.due(3_000), Due::Dead);
    }
}
