//! MQTT on a connection: the glue between the sans-IO machine in [`crate::mqtt`] and the
//! manager (Mongoose's `mqtt_cb`).
//!
//! A client ([`Mgr::mqtt_connect`]) or a connection accepted by [`Mgr::mqtt_listen`] carries
//! [`Proto::Mqtt`]. Received bytes are framed one packet at a time; for each, Mongoose's
//! automatic replies are queued (PUBACK/PUBREC for a received PUBLISH, PUBREL for PUBREC,
//! PUBCOMP for PUBREL), then the handler gets [`Event::MqttOpen`] (CONNACK, with its code),
//! [`Event::MqttMsg`] (PUBLISH) and, for every packet, [`Event::MqttCmd`]. The packet is lent
//! out of the receive buffer (moved out of the connection for the call, as HTTP messages
//! and WebSocket frames are: G7). A CONNACK refusing the connection closes it after its
//! events, as in Mongoose.
//!
//! A malformed packet, or one over `min(Limits::mqtt_max_packet, Limits::max_recv)`, fails
//! the connection: one `Event::Error`, then `Event::Close` (G3).
//!
//! Keep-alive: with `keepalive` set in CONNECT, a client sends PINGREQ when it has sent
//! nothing for that long, and either end fails the connection ("MQTT keep-alive timed out")
//! after 1.5 intervals without a byte from the peer. Packet ids are counted per manager
//! (Mongoose's `mgr->mqtt_id`), so that ids kept for retransmission across a reconnect are
//! not reused by the new connection.

use crate::prelude::*;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::fmt;

use super::http::{Proto, ProtoKind};
use super::wakeup::{Msg, Sender};
use super::{writable, Conn, Event, Handler, Mgr, ProtoHooks};
use crate::error::Error;
use crate::handle::Handle;
use crate::mqtt::packet::{Connect, Publish, Will};
use crate::mqtt::session::{Due, Session};
use crate::mqtt::{self, props, Message, Packet, Prop};

extern crate alloc;

/// Options of [`Mgr::mqtt_connect`], [`Mgr::mqtt_pub`], [`Mgr::mqtt_sub`]... (Mongoose's
/// `struct mg_mqtt_opts`: set only what the call uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct MqttOpts<'a> {
    /// CONNECT: user name (empty: none).
    pub user: &'a [u8],
    /// CONNECT: password (empty: none).
    pub pass: &'a [u8],
    /// CONNECT: client id (empty: a random one).
    pub client_id: &'a [u8],
    /// CONNECT: will topic (empty: no will); PUBLISH, SUBSCRIBE, UNSUBSCRIBE: the topic.
    pub topic: &'a [u8],
    /// CONNECT: will payload; PUBLISH: the payload.
    pub message: &'a [u8],
    pub qos: u8,
    /// 4 (3.1.1, also for 0) or 5.
    pub version: u8,
    /// CONNECT: keep-alive in seconds (0: none).
    pub keepalive: u16,
    /// PUBLISH: 0 for a new message, else the id of a message to send again (DUP set).
    pub retransmit_id: u16,
    /// PUBLISH and the will: the retain flag.
    pub retain: bool,
    /// CONNECT: clean session.
    pub clean: bool,
    /// MQTT 5 properties of the packet.
    pub props: &'a [Prop<'a>],
    /// MQTT 5 will properties (CONNECT).
    pub will_props: &'a [Prop<'a>],
}

/// Per-connection MQTT state.
pub struct MqttState {
    /// `Mgr::mqtt_step_impl` (see [`super::http::StepFn`]).
    pub step: super::http::StepFn,
    pub dirty: bool,
    pub session: Session,
    /// Client: retransmit the session's unacknowledged messages after a CONNACK.
    resume: bool,
}

impl MqttState {
    fn new(version: u8) -> MqttState {
        MqttState {
            step: |m, h, now| m.mqtt_step_impl(h, now),
            dirty: false,
            session: Session::new(version),
            resume: false,
        }
    }
}

impl fmt::Debug for MqttState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttState")
            .field("version", &self.session.version)
            .finish()
    }
}

/// The packet-handling half of the glue, reached through the functions that only
/// [`Mgr::mqtt_connect_with`] and [`Mgr::mqtt_listen_with`] install on their manager (see
/// [`ProtoHooks`]; received packets go through the step each [`MqttState`] carries): the poll
/// loop, the accept path and the wakeup queue name no codec or session code, so a program
/// that never opens an MQTT connection does not link it (`--gc-sections` drops it: MQTT's
/// calls add 23.8 KB of text to a TCP client in the footprint build, benches/README.md).
const MQTT_HOOKS: ProtoHooks = ProtoHooks {
    due: |conns, _| conns.iter().map(|(_, c)| due_at(c)).min().unwrap_or(u64::MAX),
    timeouts: |m, now| m.mqtt_timeouts_impl(now),
    deliver: |m, msg| {
        if let Msg::MqttPub(h, packet) = msg {
            m.mqtt_deliver_impl(h, packet);
        }
    },
    // The version is taken from CONNECT.
    accepted: Some(|| Proto::Mqtt(Box::new(MqttState::new(4)))),
};

impl Mgr {
    /// MQTT's hooks on this manager, before its first MQTT connection exists.
    fn install_mqtt(&self) {
        let mut core = self.core.borrow_mut();
        core.mqtt_hooks = Some(MQTT_HOOKS);
        core.steps = Some(super::STEPS);
    }
}

/// When the keep-alive schedule of `c` next needs a look (`u64::MAX`: never).
fn due_at(c: &Conn) -> u64 {
    match &c.proto {
        Proto::Mqtt(m) if !c.closing => m.session.next_due().saturating_add(1),
        _ => u64::MAX,
    }
}

fn version_of(v: u8) -> u8 {
    if v == 5 {
        5
    } else {
        4
    }
}

fn now() -> u64 {
    crate::util::clock::millis()
}

/// MQTT packets refused by the size limit on our side too: `Invalid` past what the remaining
/// length can say.
fn check_len(len: usize) -> Result<u32, Error> {
    u32::try_from(len)
        .ok()
        .filter(|&n| n <= mqtt::MAX_REMAINING)
        .ok_or(Error::TooLarge)
}

impl Mgr {
    /// Open an MQTT client connection to `url` (`mqtt://host[:port]`, default port 1883, or
    /// `mqtts://` 8883 with TLS: set it up in `Event::Connect` as for any TLS client) and
    /// queue CONNECT with `opts` (Mongoose's `mg_mqtt_connect`). Events: the connection's
    /// usual ones, then [`Event::MqttOpen`] with the CONNACK code, [`Event::MqttMsg`] for
    /// each PUBLISH received and [`Event::MqttCmd`] for every packet.
    pub fn mqtt_connect(&self, url: &str, opts: &MqttOpts<'_>, handler: impl Handler) -> Result<Handle, Error> {
        self.mqtt_connect_with(url, opts, Rc::new(handler))
    }

    /// [`Mgr::mqtt_connect`] with a shared handler.
    pub fn mqtt_connect_with(&self, url: &str, opts: &MqttOpts<'_>, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        self.install_mqtt();
        let h = self.open_client(url, handler, ProtoKind::Raw)?;
        if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
            if !c.closing {
                c.proto = Proto::Mqtt(Box::new(MqttState::new(version_of(opts.version))));
            }
        }
        // A failure here (an oversized CONNECT) fails the connection, as in Mongoose.
        if let Err(e) = self.mqtt_login(h, opts) {
            self.fail_with(h, &[&"MQTT CONNECT not sent: ", &e]);
        }
        Ok(h)
    }

    /// [`Mgr::mqtt_connect`] continuing `session` (taken from an earlier connection with
    /// [`Mgr::mqtt_session`]): after a successful CONNACK, every message it had not completed
    /// is sent again (PUBLISH with DUP and the same id, or PUBREL). Use with `clean: false`.
    pub fn mqtt_resume(
        &self,
        url: &str,
        opts: &MqttOpts<'_>,
        session: Session,
        handler: Rc<dyn Handler>,
    ) -> Result<Handle, Error> {
        let h = self.mqtt_connect_with(url, opts, handler)?;
        if let Some(Proto::Mqtt(m)) = self.core.borrow_mut().conns.get_mut(h).map(|c| &mut c.proto) {
            let version = m.session.version;
            let mut s = session;
            s.version = version;
            // Keep the keep-alive schedule mqtt_login started.
            let fresh = core::mem::replace(&mut m.session, s);
            m.session.take_schedule(&fresh);
            m.resume = true;
        }
        Ok(h)
    }

    /// A copy of the MQTT session state of `h` (messages in flight, keep-alive), for
    /// [`Mgr::mqtt_resume`] on the next connection: take it in `Event::Close`.
    pub fn mqtt_session(&self, h: Handle) -> Result<Session, Error> {
        match self.core.borrow().conns.get(h).map(|c| &c.proto) {
            Some(Proto::Mqtt(m)) => Ok(m.session.clone()),
            Some(_) => Err(Error::Unsupported),
            None => Err(Error::Stale),
        }
    }

    /// Listen for MQTT clients on `url` (`mqtt://0.0.0.0:1883`; Mongoose's `mg_mqtt_listen`).
    /// Accepted connections get [`Event::MqttCmd`] for every packet (and the automatic QoS
    /// replies); the broker logic (CONNACK, SUBACK, forwarding) is the application's, as in
    /// Mongoose's `mqtt-server` tutorial. The protocol version is taken from CONNECT.
    pub fn mqtt_listen(&self, url: &str, handler: impl Handler) -> Result<Handle, Error> {
        self.mqtt_listen_with(url, Rc::new(handler))
    }

    /// [`Mgr::mqtt_listen`] with a shared handler.
    pub fn mqtt_listen_with(&self, url: &str, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        self.install_mqtt();
        self.open_listener(url, handler, ProtoKind::Mqtt)
    }

    /// Run `f` with `h`'s MQTT state and send buffer (all or nothing: `need` bytes must fit
    /// under `max_send`).
    fn mqtt_with<R>(
        &self,
        h: Handle,
        need: usize,
        f: impl FnOnce(&mut MqttState, &mut Vec<u8>, &mut u16) -> R,
    ) -> Result<R, Error> {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let max_send = core.limits.max_send;
        let id = &mut core.mqtt_id;
        let c = writable(&mut core.conns, h)?;
        if !matches!(c.proto, Proto::Mqtt(_)) {
            return Err(Error::Unsupported);
        }
        let (proto, out) = c.queue(need, max_send)?;
        let Proto::Mqtt(m) = proto else {
            return Err(Error::Unsupported);
        };
        let r = f(m, out, id);
        m.session.sent(now());
        Ok(r)
    }

    /// The MQTT protocol version of `h` (4 or 5).
    pub fn mqtt_version(&self, h: Handle) -> Result<u8, Error> {
        match self.core.borrow().conns.get(h).map(|c| &c.proto) {
            Some(Proto::Mqtt(m)) => Ok(m.session.version),
            Some(_) => Err(Error::Unsupported),
            None => Err(Error::Stale),
        }
    }

    /// Queue CONNECT (Mongoose's `mg_mqtt_login`; [`Mgr::mqtt_connect`] calls it). Sets the
    /// connection's protocol version and keep-alive. A `qos`/`retain` with a will topic
    /// apply to the will.
    pub fn mqtt_login(&self, h: Handle, opts: &MqttOpts<'_>) -> Result<(), Error> {
        let version = version_of(opts.version);
        let mut rnd_id = [0u8; 20];
        let client_id: &[u8] = if opts.client_id.is_empty() {
            let mut r = [0u8; 20];
            crate::util::clock::random(&mut r);
            const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            for (d, s) in rnd_id.iter_mut().zip(r) {
                *d = ALNUM[s as usize % ALNUM.len()];
            }
            &rnd_id
        } else {
            opts.client_id
        };
        let mut pbuf = Vec::new();
        let mut wbuf = Vec::new();
        if version == 5 {
            props::write(&mut pbuf, opts.props);
            props::write(&mut wbuf, opts.will_props);
        }
        let body = |b: &[u8]| -> Vec<u8> {
            match b.first() {
                Some(_) => match mqtt::read_varint(b) {
                    Ok(Some((_, n))) => b[n..].to_vec(),
                    _ => Vec::new(),
                },
                None => Vec::new(),
            }
        };
        let (pbody, wbody) = (body(&pbuf), body(&wbuf));
        let pk = Connect {
            level: version,
            clean: opts.clean,
            keepalive: opts.keepalive,
            client_id,
            will: (!opts.topic.is_empty()).then_some(Will {
                topic: opts.topic,
                payload: opts.message,
                qos: opts.qos & 3,
                retain: opts.retain,
                props: &wbody,
            }),
            user: (!opts.user.is_empty()).then_some(opts.user),
            pass: (!opts.pass.is_empty()).then_some(opts.pass),
            props: &pbody,
        };
        let mut out = Vec::new();
        pk.encode(&mut out);
        let t = now();
        self.mqtt_with(h, out.len(), |m, o, _| {
            m.session.version = version;
            m.session.set_keepalive(opts.keepalive, true, t);
            o.extend_from_slice(&out);
        })
    }

    /// Queue PUBLISH (Mongoose's `mg_mqtt_pub`). Returns the packet id: 0 for QoS 0, a new
    /// id for QoS 1/2, or `opts.retransmit_id` when set (then DUP is set: a retransmission).
    /// QoS 1/2 messages are kept until acknowledged ([`Mgr::mqtt_session`]).
    pub fn mqtt_pub(&self, h: Handle, opts: &MqttOpts<'_>) -> Result<u16, Error> {
        let version = self.mqtt_version(h)?;
        let qos = opts.qos & 3;
        if qos == 3 {
            return Err(Error::Invalid);
        }
        let psec = if version == 5 {
            props::encoded_len(opts.props)
        } else {
            0
        };
        let rem = 2 + opts.topic.len() + if qos > 0 { 2 } else { 0 } + psec + opts.message.len();
        check_len(rem)?;
        if opts.topic.len() > 0xffff {
            return Err(Error::Invalid);
        }
        self.mqtt_with(h, rem + 5, |m, out, counter| {
            let id = match (qos, opts.retransmit_id) {
                (0, _) => 0,
                (_, 0) => next_id(counter, &m.session),
                (_, id) => id,
            };
            let at = out.len();
            Publish {
                topic: opts.topic,
                payload: opts.message,
                qos,
                id,
                dup: qos > 0 && opts.retransmit_id != 0,
                retain: opts.retain,
                props: &[],
            }
            .encode_props(version, opts.props, out);
            if qos > 0 {
                let mut first = out[at..].to_vec();
                first[0] &= !8; // kept as first sent; retransmit() sets DUP
                m.session.published(id, &first);
            }
            id
        })
    }

    fn mqtt_sub_unsub(&self, h: Handle, opts: &MqttOpts<'_>, sub: bool) -> Result<u16, Error> {
        let version = self.mqtt_version(h)?;
        if opts.topic.is_empty() || opts.topic.len() > 0xffff || opts.qos > 2 {
            return Err(Error::Invalid);
        }
        let mut praw = Vec::new();
        if version == 5 {
            props::write(&mut praw, opts.props);
        }
        let pbody = match mqtt::read_varint(&praw) {
            Ok(Some((_, n))) => &praw[n..],
            _ => &[][..],
        };
        let rem = 2 + praw.len() + 2 + opts.topic.len() + 1;
        check_len(rem)?;
        self.mqtt_with(h, rem + 5, |m, out, counter| {
            let id = next_id(counter, &m.session);
            let p = if sub {
                Packet::Subscribe {
                    id,
                    props: pbody,
                    topics: vec![(opts.topic, opts.qos)],
                }
            } else {
                Packet::Unsubscribe {
                    id,
                    props: pbody,
                    topics: vec![opts.topic],
                }
            };
            p.encode(version, out);
            id
        })
    }

    /// Queue SUBSCRIBE for `opts.topic` at `opts.qos` (Mongoose's `mg_mqtt_sub`). Returns the
    /// packet id (Mongoose returns nothing).
    pub fn mqtt_sub(&self, h: Handle, opts: &MqttOpts<'_>) -> Result<u16, Error> {
        self.mqtt_sub_unsub(h, opts, true)
    }

    /// Queue UNSUBSCRIBE for `opts.topic` (Mongoose's `mg_mqtt_unsub`).
    pub fn mqtt_unsub(&self, h: Handle, opts: &MqttOpts<'_>) -> Result<u16, Error> {
        self.mqtt_sub_unsub(h, opts, false)
    }

    /// Queue a fixed header: `cmd << 4 | flags` and remaining length `len` (Mongoose's
    /// `mg_mqtt_send_header`); the body follows with [`Mgr::send`].
    pub fn mqtt_send_header(&self, h: Handle, cmd: u8, flags: u8, len: u32) -> Result<(), Error> {
        if cmd > 15 || flags > 15 || len > mqtt::MAX_REMAINING {
            return Err(Error::Invalid);
        }
        self.mqtt_with(h, 5, |_, out, _| mqtt::write_header(out, cmd, flags, len))
    }

    /// Queue PINGREQ (`mg_mqtt_ping`).
    pub fn mqtt_ping(&self, h: Handle) -> Result<(), Error> {
        self.mqtt_send_header(h, mqtt::PINGREQ, 0, 0)
    }

    /// Queue PINGRESP (`mg_mqtt_pong`).
    pub fn mqtt_pong(&self, h: Handle) -> Result<(), Error> {
        self.mqtt_send_header(h, mqtt::PINGRESP, 0, 0)
    }

    /// Queue DISCONNECT (`mg_mqtt_disconnect`); MQTT 5: reason 0 and `opts.props`.
    pub fn mqtt_disconnect(&self, h: Handle, opts: Option<&MqttOpts<'_>>) -> Result<(), Error> {
        let version = self.mqtt_version(h)?;
        let mut praw = Vec::new();
        if let (5, Some(o)) = (version, opts) {
            props::write(&mut praw, o.props);
        }
        let pbody = match mqtt::read_varint(&praw) {
            Ok(Some((_, n))) => &praw[n..],
            _ => &[][..],
        };
        let p = Packet::Disconnect { code: 0, props: pbody };
        let mut out = Vec::new();
        p.encode(version, &mut out);
        self.mqtt_with(h, out.len(), |_, o, _| o.extend_from_slice(&out))
    }

    /// Frame, answer and deliver what `h` received, one packet at a time (the step of
    /// [`MqttState`]).
    fn mqtt_step_impl(&self, h: Handle, now: u64) {
        loop {
            // Take the receive buffer out (parsing and the handler then need no borrow).
            let (buf, off, version, max) = {
                let mut core = self.core.borrow_mut();
                let max = core.limits.mqtt_max_packet.min(core.limits.max_recv);
                let Some(c) = core.conns.get_mut(h) else { return };
                let stop = c.closing || c.close_started || c.paused || c.draining;
                let Proto::Mqtt(m) = &mut c.proto else { return };
                m.dirty = false;
                if stop || c.recv_off >= c.recv.len() {
                    return;
                }
                let version = m.session.version;
                let off = core::mem::replace(&mut c.recv_off, 0);
                (core::mem::take(&mut c.recv), off, version, max)
            };
            let data = &buf[off..];
            let framed = match mqtt::parse(data, version, max) {
                Ok(mqtt::Parsed::Packet(m)) => Packet::decode(m.dgram, version).map(|p| (p, m)),
                Ok(mqtt::Parsed::Incomplete) => {
                    self.mqtt_restore(h, buf, off);
                    return;
                }
                Err(e) => Err(e),
            };
            let (p, msg) = match framed {
                Ok(x) => x,
                Err(e) => {
                    let len = buf.len();
                    self.mqtt_restore(h, buf, len);
                    self.fail_with(h, &[&e]);
                    return;
                }
            };
            // Automatic replies and session bookkeeping.
            let (deliver, connack) = {
                let mut core = self.core.borrow_mut();
                let Some(c) = core.conns.get_mut(h) else { return };
                let Conn {
                    proto: Proto::Mqtt(m),
                    send,
                    files,
                    ..
                } = c
                else {
                    return;
                };
                let out = match files.back_mut() {
                    Some(f) => &mut f.after,
                    None => send,
                };
                m.session.received(now);
                let before = out.len();
                let mut connack = None;
                match &p {
                    Packet::Connect(cn) => {
                        m.session.version = if cn.level == 5 { 5 } else { 4 };
                        m.session.set_keepalive(cn.keepalive, false, now);
                    }
                    Packet::Connack { code, .. } => {
                        connack = Some(*code);
                        if *code == 0 && core::mem::take(&mut m.resume) {
                            m.session.retransmit(out);
                        }
                    }
                    _ => {}
                }
                let deliver = m.session.on_packet(&p, out);
                if out.len() != before {
                    m.session.sent(now);
                }
                (deliver, connack)
            };
            if let Some(code) = connack {
                self.dispatch(h, Event::MqttOpen(code));
            }
            if deliver && msg.cmd == mqtt::PUBLISH {
                self.dispatch(h, Event::MqttMsg(&msg));
            }
            self.dispatch(h, Event::MqttCmd(&msg));
            let used = off + msg.dgram.len();
            drop(p);
            self.mqtt_restore(h, buf, used);
            if let Some(code) = connack.filter(|&c| c != 0) {
                crate::mlog!(
                    crate::log::LL_ERROR;
                    h.serial(),
                    " MQTT connection refused, CONNACK code ",
                    code
                );
                if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
                    c.closing = true;
                }
                return;
            }
        }
    }

    /// Put the receive buffer back after a step (unless something else was put there).
    fn mqtt_restore(&self, h: Handle, buf: Vec<u8>, off: usize) {
        if let Some(c) = self.core.borrow_mut().conns.get_mut(h) {
            if c.recv.is_empty() {
                c.recv = buf;
                c.recv_off = off.min(c.recv.len());
            }
        }
    }

    /// Keep-alive: ping idle brokers, fail silent peers.
    fn mqtt_timeouts_impl(&self, now: u64) {
        let due = self.handles_where(|c| !c.closing && due_at(c) <= now.saturating_add(1));
        for &h in due.iter() {
            let what = {
                let mut core = self.core.borrow_mut();
                let Some(c) = core.conns.get_mut(h) else { continue };
                let open = c.state == super::State::Open;
                let Conn {
                    proto: Proto::Mqtt(m),
                    send,
                    files,
                    ..
                } = c
                else {
                    continue;
                };
                let d = m.session.due(now);
                if d == Due::Ping && open {
                    let out = match files.back_mut() {
                        Some(f) => &mut f.after,
                        None => send,
                    };
                    mqtt::write_header(out, mqtt::PINGREQ, 0, 0);
                    m.session.sent(now);
                }
                d
            };
            if what == Due::Dead {
                self.fail(
                    h,
                    "MQTT keep-alive timed out: nothing from the peer for 1.5 keep-alive intervals",
                );
            }
        }
        self.recycle(due);
    }

    /// A PUBLISH queued by another thread ([`Sender::mqtt_pub`]) reached the loop: send it
    /// with a packet id, or hand it back as undelivered (`ProtoHooks::deliver`).
    fn mqtt_deliver_impl(&self, h: Handle, packet: Vec<u8>) {
        let sent = (|| {
            let version = self.mqtt_version(h)?;
            let Ok(Packet::Publish(p)) = Packet::decode(&packet, 4) else {
                return Err(Error::Invalid);
            };
            self.mqtt_pub(
                h,
                &MqttOpts {
                    topic: p.topic,
                    message: p.payload,
                    qos: p.qos,
                    retain: p.retain,
                    version,
                    ..MqttOpts::default()
                },
            )
        })();
        match sent {
            Ok(_) => self.with(|core| core.stats.wakeups_delivered += 1),
            Err(_) => self.report_undelivered(h, packet),
        }
    }
}

/// The next packet id of the manager, skipping 0 and ids `s` still has in flight.
fn next_id(counter: &mut u16, s: &Session) -> u16 {
    for _ in 0..=u16::MAX as u32 {
        *counter = counter.wrapping_add(1);
        if *counter != 0 && !s.id_in_use(*counter) {
            return *counter;
        }
    }
    *counter
}

impl Sender {
    /// Any thread: publish on MQTT connection `h` through the loop (the wakeup path: same
    /// FIFO, caps and errors as [`Sender::send`]). The loop gives QoS 1/2 messages their
    /// packet id. When `h` is gone before the message is sent (or the send fails), the
    /// PUBLISH (3.1.1 encoding, id 0) goes to the undelivered callback.
    pub fn mqtt_pub(&self, h: Handle, topic: &[u8], payload: &[u8], qos: u8, retain: bool) -> Result<(), Error> {
        if qos > 2 || topic.is_empty() || topic.len() > 0xffff {
            return Err(Error::Invalid);
        }
        let mut b = Vec::with_capacity(topic.len() + payload.len() + 9);
        Publish {
            topic,
            payload,
            qos,
            id: if qos > 0 { 1 } else { 0 },
            dup: false,
            retain,
            props: &[],
        }
        .encode(4, &mut b);
        self.push_mqtt(h, b)
    }
}

/// A Mongoose-shaped view of a received packet (see [`Message`]).
pub type MqttMessage<'a> = Message<'a>;
