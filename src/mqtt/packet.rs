//! Every MQTT packet type, decoded and encoded (3.1.1 = version 4, and 5). Property
//! sections are kept as their checked raw bytes (walk them with [`super::props::next`]).

use crate::prelude::*;

use super::props::{self, Prop};
use super::{bad, offset_in, varint_len, write_header, Message, ParseError};
use super::{
    AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE,
    UNSUBACK, UNSUBSCRIBE,
};

extern crate alloc;

/// A will message (in CONNECT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Will<'a> {
    pub topic: &'a [u8],
    pub payload: &'a [u8],
    pub qos: u8,
    pub retain: bool,
    /// MQTT 5 will properties (raw section body).
    pub props: &'a [u8],
}

/// CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Connect<'a> {
    /// Protocol level: 3 (3.1, "MQIsdp"), 4 (3.1.1) or 5.
    pub level: u8,
    pub clean: bool,
    pub keepalive: u16,
    pub client_id: &'a [u8],
    pub will: Option<Will<'a>>,
    pub user: Option<&'a [u8]>,
    pub pass: Option<&'a [u8]>,
    pub props: &'a [u8],
}

/// PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Publish<'a> {
    pub topic: &'a [u8],
    pub payload: &'a [u8],
    pub qos: u8,
    /// Packet id (QoS > 0 only; 0 otherwise).
    pub id: u16,
    pub dup: bool,
    pub retain: bool,
    pub props: &'a [u8],
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP (and in MQTT 5 their reason code and properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ack<'a> {
    pub id: u16,
    pub code: u8,
    pub props: &'a [u8],
}

/// One packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    Connack {
        session_present: bool,
        code: u8,
        props: &'a [u8],
    },
    Publish(Publish<'a>),
    Puback(Ack<'a>),
    Pubrec(Ack<'a>),
    Pubrel(Ack<'a>),
    Pubcomp(Ack<'a>),
    /// Topic filters with their options byte (QoS in the low two bits).
    Subscribe {
        id: u16,
        props: &'a [u8],
        topics: Vec<(&'a [u8], u8)>,
    },
    Suback {
        id: u16,
        props: &'a [u8],
        codes: Vec<u8>,
    },
    Unsubscribe {
        id: u16,
        props: &'a [u8],
        topics: Vec<&'a [u8]>,
    },
    /// `codes` is empty for 3.1.1.
    Unsuback {
        id: u16,
        props: &'a [u8],
        codes: Vec<u8>,
    },
    Pingreq,
    Pingresp,
    Disconnect {
        code: u8,
        props: &'a [u8],
    },
    Auth {
        code: u8,
        props: &'a [u8],
    },
}

/// The fixed-header flags the packet type requires, or `None` for PUBLISH (any but QoS 3).
fn required_flags(cmd: u8) -> Option<u8> {
    match cmd {
        PUBLISH => None,
        PUBREL | SUBSCRIBE | UNSUBSCRIBE => Some(2),
        _ => Some(0),
    }
}

/// Check the first byte of a packet: a known type and the flags it requires.
pub(crate) fn check_first_byte(first: u8, version: u8) -> Result<(), ParseError> {
    let cmd = first >> 4;
    let flags = first & 0x0f;
    if cmd == 0 {
        return bad("reserved packet type 0");
    }
    if cmd == AUTH && version != 5 {
        return bad("AUTH outside MQTT 5");
    }
    match required_flags(cmd) {
        Some(f) if f != flags => bad("reserved fixed-header flags"),
        None if (flags >> 1) & 3 == 3 => bad("PUBLISH with QoS 3"),
        None if flags & 8 != 0 && (flags >> 1) & 3 == 0 => bad("DUP set on a QoS 0 PUBLISH"),
        _ => Ok(()),
    }
}

/// A cursor over a packet body.
struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn left(&self) -> usize {
        self.b.len() - self.at
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        if self.left() < n {
            return bad("truncated packet");
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        let s = self.bytes(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn bin(&mut self) -> Result<&'a [u8], ParseError> {
        let n = self.u16()? as usize;
        if self.left() < n {
            return bad("length prefix past the end of the packet");
        }
        self.bytes(n)
    }
    fn text(&mut self) -> Result<&'a [u8], ParseError> {
        let s = self.bin()?;
        if core::str::from_utf8(s).is_err() || s.contains(&0) {
            return bad("string is not UTF-8");
        }
        Ok(s)
    }
    fn props(&mut self, version: u8) -> Result<&'a [u8], ParseError> {
        if version != 5 {
            return Ok(&[]);
        }
        let (body, used) = props::read_section(&self.b[self.at..])?;
        self.at += used;
        Ok(body)
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at..];
        self.at = self.b.len();
        s
    }
    fn end(&self) -> Result<(), ParseError> {
        if self.left() != 0 {
            return bad("bytes after the end of the packet");
        }
        Ok(())
    }
    fn id(&mut self) -> Result<u16, ParseError> {
        match self.u16()? {
            0 => bad("packet identifier 0"),
            id => Ok(id),
        }
    }
}

fn ack<'a>(r: &mut Rd<'a>, version: u8) -> Result<Ack<'a>, ParseError> {
    let id = r.id()?;
    let (mut code, mut props) = (0, &[][..]);
    if version == 5 && r.left() > 0 {
        code = r.u8()?;
        if r.left() > 0 {
            props = r.props(5)?;
        }
    }
    r.end()?;
    Ok(Ack { id, code, props })
}

fn reason_props<'a>(r: &mut Rd<'a>, version: u8) -> Result<(u8, &'a [u8]), ParseError> {
    let (mut code, mut props) = (0, &[][..]);
    if version == 5 && r.left() > 0 {
        code = r.u8()?;
        if r.left() > 0 {
            props = r.props(5)?;
        }
    }
    r.end()?;
    Ok((code, props))
}

fn topic_name(t: &[u8], version: u8) -> Result<(), ParseError> {
    if t.iter().any(|&c| c == b'+' || c == b'#') {
        return bad("wildcard in a topic name");
    }
    if t.is_empty() && version != 5 {
        return bad("empty topic name");
    }
    Ok(())
}

impl<'a> Packet<'a> {
    /// Decode one whole packet (`buf` must be exactly one packet: fixed header included).
    pub fn decode(buf: &'a [u8], version: u8) -> Result<Packet<'a>, ParseError> {
        let Some(&first) = buf.first() else { return bad("empty") };
        let Some((rem, n)) = super::read_varint(&buf[1..])? else {
            return bad("truncated fixed header");
        };
        if buf.len() != 1 + n + rem as usize {
            return bad("remaining length differs from the packet's size");
        }
        Self::decode_body(first, &buf[1 + n..], version)
    }

    /// Decode a packet's variable header and payload, given its first byte.
    pub fn decode_body(first: u8, body: &'a [u8], version: u8) -> Result<Packet<'a>, ParseError> {
        check_first_byte(first, version)?;
        let cmd = first >> 4;
        let flags = first & 0x0f;
        let r = &mut Rd { b: body, at: 0 };
        Ok(match cmd {
            CONNECT => {
                let name = r.bin()?;
                let level = r.u8()?;
                match (name, level) {
                    (b"MQTT", 4 | 5) | (b"MQIsdp", 3) => {}
                    _ => return bad("unknown protocol name or level"),
                }
                let f = r.u8()?;
                if f & 1 != 0 {
                    return bad("reserved CONNECT flag");
                }
                let keepalive = r.u16()?;
                let props = r.props(level)?;
                let client_id = r.text()?;
                let will_flag = f & 4 != 0;
                let wqos = (f >> 3) & 3;
                let wretain = f & 0x20 != 0;
                if !will_flag && (wqos != 0 || wretain) {
                    return bad("will QoS or retain without a will");
                }
                if wqos == 3 {
                    return bad("will QoS 3");
                }
                let will = if will_flag {
                    let wprops = r.props(level)?;
                    let topic = r.text()?;
                    topic_name(topic, 4)?;
                    let payload = r.bin()?;
                    Some(Will {
                        topic,
                        payload,
                        qos: wqos,
                        retain: wretain,
                        props: wprops,
                    })
                } else {
                    None
                };
                let user = if f & 0x80 != 0 { Some(r.text()?) } else { None };
                if f & 0x40 != 0 && user.is_none() && level != 5 {
                    return bad("password without a user name");
                }
                let pass = if f & 0x40 != 0 { Some(r.bin()?) } else { None };
                r.end()?;
                Packet::Connect(Connect {
                    level,
                    clean: f & 2 != 0,
                    keepalive,
                    client_id,
                    will,
                    user,
                    pass,
                    props,
                })
            }
            CONNACK => {
                let sp = r.u8()?;
                if sp & 0xfe != 0 {
                    return bad("reserved CONNACK flags");
                }
                let code = r.u8()?;
                let props = r.props(version)?;
                r.end()?;
                Packet::Connack {
                    session_present: sp == 1,
                    code,
                    props,
                }
            }
            PUBLISH => {
                let qos = (flags >> 1) & 3;
                let topic = r.text()?;
                topic_name(topic, version)?;
                let id = if qos > 0 { r.id()? } else { 0 };
                let props = r.props(version)?;
                let payload = r.rest();
                Packet::Publish(Publish {
                    topic,
                    payload,
                    qos,
                    id,
                    dup: flags & 8 != 0,
                    retain: flags & 1 != 0,
                    props,
                })
            }
            PUBACK => Packet::Puback(ack(r, version)?),
            PUBREC => Packet::Pubrec(ack(r, version)?),
            PUBREL => Packet::Pubrel(ack(r, version)?),
            PUBCOMP => Packet::Pubcomp(ack(r, version)?),
            SUBSCRIBE => {
                let id = r.id()?;
                let props = r.props(version)?;
                let mut topics = Vec::new();
                while r.left() > 0 {
                    let t = r.text()?;
                    if t.is_empty() {
                        return bad("empty topic filter");
                    }
                    let o = r.u8()?;
                    if o & 3 == 3 || (version == 5 && o & 0xc0 != 0) || (version != 5 && o & 0xfc != 0) {
                        return bad("bad subscription options");
                    }
                    topics.push((t, o));
                }
                if topics.is_empty() {
                    return bad("SUBSCRIBE without a topic");
                }
                Packet::Subscribe { id, props, topics }
            }
            SUBACK | UNSUBACK => {
                let id = r.id()?;
                let props = r.props(version)?;
                let codes = r.rest().to_vec();
                if cmd == SUBACK {
                    if codes.is_empty() {
                        return bad("SUBACK without a return code");
                    }
                    Packet::Suback { id, props, codes }
                } else {
                    if version != 5 && !codes.is_empty() {
                        return bad("bytes after the end of the packet");
                    }
                    Packet::Unsuback { id, props, codes }
                }
            }
            UNSUBSCRIBE => {
                let id = r.id()?;
                let props = r.props(version)?;
                let mut topics = Vec::new();
                while r.left() > 0 {
                    let t = r.text()?;
                    if t.is_empty() {
                        return bad("empty topic filter");
                    }
                    topics.push(t);
                }
                if topics.is_empty() {
                    return bad("UNSUBSCRIBE without a topic");
                }
                Packet::Unsubscribe { id, props, topics }
            }
            PINGREQ | PINGRESP => {
                r.end()?;
                if cmd == PINGREQ {
                    Packet::Pingreq
                } else {
                    Packet::Pingresp
                }
            }
            DISCONNECT => {
                let (code, props) = reason_props(r, version)?;
                Packet::Disconnect { code, props }
            }
            _ => {
                let (code, props) = reason_props(r, version)?;
                Packet::Auth { code, props }
            }
        })
    }

    /// The packet type.
    pub fn cmd(&self) -> u8 {
        match self {
            Packet::Connect(_) => CONNECT,
            Packet::Connack { .. } => CONNACK,
            Packet::Publish(_) => PUBLISH,
            Packet::Puback(_) => PUBACK,
            Packet::Pubrec(_) => PUBREC,
            Packet::Pubrel(_) => PUBREL,
            Packet::Pubcomp(_) => PUBCOMP,
            Packet::Subscribe { .. } => SUBSCRIBE,
            Packet::Suback { .. } => SUBACK,
            Packet::Unsubscribe { .. } => UNSUBSCRIBE,
            Packet::Unsuback { .. } => UNSUBACK,
            Packet::Pingreq => PINGREQ,
            Packet::Pingresp => PINGRESP,
            Packet::Disconnect { .. } => DISCONNECT,
            Packet::Auth { .. } => AUTH,
        }
    }

    /// The Mongoose-shaped view of this packet, whose bytes are `dgram`.
    pub fn message(&self, dgram: &'a [u8]) -> Message<'a> {
        let mut m = Message {
            dgram,
            cmd: self.cmd(),
            flags: dgram.first().map_or(0, |b| b & 0x0f),
            ..Message::default()
        };
        let props: &[u8] = match self {
            Packet::Connect(c) => c.props,
            Packet::Connack { code, props, .. } => {
                m.ack = *code;
                props
            }
            Packet::Publish(p) => {
                m.topic = p.topic;
                m.data = p.payload;
                m.qos = p.qos;
                m.id = p.id;
                p.props
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                m.id = a.id;
                m.ack = a.code;
                a.props
            }
            Packet::Subscribe { id, props, .. } | Packet::Unsubscribe { id, props, .. } => {
                m.id = *id;
                props
            }
            Packet::Suback { id, props, codes } | Packet::Unsuback { id, props, codes } => {
                m.id = *id;
                m.ack = codes.first().copied().unwrap_or(0);
                props
            }
            Packet::Pingreq | Packet::Pingresp => &[],
            Packet::Disconnect { code, props } | Packet::Auth { code, props } => {
                m.ack = *code;
                props
            }
        };
        if !props.is_empty() {
            m.props_start = offset_in(dgram, props);
            m.props_size = props.len();
        }
        m
    }

    /// Append the packet, encoded for protocol `version` (CONNECT uses its own level).
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        let v5 = version == 5;
        let psec = |p: &[u8]| if v5 { varint_len(p.len() as u32) + p.len() } else { 0 };
        let wprops = |out: &mut Vec<u8>, p: &[u8]| {
            if v5 {
                props::write_raw(out, p)
            }
        };
        match self {
            Packet::Connect(c) => c.encode(out),
            Packet::Connack {
                session_present,
                code,
                props,
            } => {
                write_header(out, CONNACK, 0, (2 + psec(props)) as u32);
                out.push(*session_present as u8);
                out.push(*code);
                wprops(out, props);
            }
            Packet::Publish(p) => p.encode(version, out),
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                let cmd = self.cmd();
                let flags = if cmd == PUBREL { 2 } else { 0 };
                let extra = if v5 && !a.props.is_empty() {
                    1 + psec(a.props)
                } else if v5 && a.code != 0 {
                    1
                } else {
                    0
                };
                write_header(out, cmd, flags, (2 + extra) as u32);
                out.extend_from_slice(&a.id.to_be_bytes());
                if extra > 0 {
                    out.push(a.code);
                    if !a.props.is_empty() {
                        wprops(out, a.props);
                    }
                }
            }
            Packet::Subscribe { id, props, topics } => {
                let len = 2 + psec(props) + topics.iter().map(|(t, _)| 3 + t.len()).sum::<usize>();
                write_header(out, SUBSCRIBE, 2, len as u32);
                out.extend_from_slice(&id.to_be_bytes());
                wprops(out, props);
                for (t, o) in topics {
                    props::write_str(out, t);
                    out.push(*o);
                }
            }
            Packet::Suback { id, props, codes } | Packet::Unsuback { id, props, codes } => {
                let codes: &[u8] = if !v5 && matches!(self, Packet::Unsuback { .. }) {
                    &[]
                } else {
                    codes
                };
                write_header(out, self.cmd(), 0, (2 + psec(props) + codes.len()) as u32);
                out.extend_from_slice(&id.to_be_bytes());
                wprops(out, props);
                out.extend_from_slice(codes);
            }
            Packet::Unsubscribe { id, props, topics } => {
                let len = 2 + psec(props) + topics.iter().map(|t| 2 + t.len()).sum::<usize>();
                write_header(out, UNSUBSCRIBE, 2, len as u32);
                out.extend_from_slice(&id.to_be_bytes());
                wprops(out, props);
                for t in topics {
                    props::write_str(out, t);
                }
            }
            Packet::Pingreq => write_header(out, PINGREQ, 0, 0),
            Packet::Pingresp => write_header(out, PINGRESP, 0, 0),
            Packet::Disconnect { code, props } | Packet::Auth { code, props } => {
                let extra = if v5 && !props.is_empty() {
                    1 + psec(props)
                } else if v5 && *code != 0 {
                    1
                } else {
                    0
                };
                write_header(out, self.cmd(), 0, extra as u32);
                if extra > 0 {
                    out.push(*code);
                    if !props.is_empty() {
                        wprops(out, props);
                    }
                }
            }
        }
    }
}

impl Connect<'_> {
    /// Append this CONNECT (protocol level `self.level`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let v5 = self.level == 5;
        let psec = |p: &[u8]| if v5 { varint_len(p.len() as u32) + p.len() } else { 0 };
        let name: &[u8] = if self.level == 3 { b"MQIsdp" } else { b"MQTT" };
        let mut len = 2 + name.len() + 1 + 1 + 2 + psec(self.props) + 2 + self.client_id.len();
        let mut f = 0u8;
        if self.clean {
            f |= 2;
        }
        if let Some(w) = &self.will {
            f |= 4 | ((w.qos & 3) << 3) | if w.retain { 0x20 } else { 0 };
            len += psec(w.props) + 4 + w.topic.len() + w.payload.len();
        }
        if let Some(u) = self.user {
            f |= 0x80;
            len += 2 + u.len();
        }
        if let Some(p) = self.pass {
            f |= 0x40;
            len += 2 + p.len();
        }
        write_header(out, CONNECT, 0, len as u32);
        props::write_str(out, name);
        out.push(self.level);
        out.push(f);
        out.extend_from_slice(&self.keepalive.to_be_bytes());
        if v5 {
            props::write_raw(out, self.props);
        }
        props::write_str(out, self.client_id);
        if let Some(w) = &self.will {
            if v5 {
                props::write_raw(out, w.props);
            }
            props::write_str(out, w.topic);
            props::write_str(out, w.payload);
        }
        if let Some(u) = self.user {
            props::write_str(out, u);
        }
        if let Some(p) = self.pass {
            props::write_str(out, p);
        }
    }
}

impl Publish<'_> {
    /// Append this PUBLISH for protocol `version` with raw properties `self.props`.
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        let v5 = version == 5;
        let psec = if v5 {
            varint_len(self.props.len() as u32) + self.props.len()
        } else {
            0
        };
        self.encode_with(out, psec, |out| {
            if v5 {
                props::write_raw(out, self.props)
            }
        });
    }

    /// Append this PUBLISH with typed properties (MQTT 5 only; ignored otherwise).
    pub fn encode_props(&self, version: u8, list: &[Prop<'_>], out: &mut Vec<u8>) {
        let v5 = version == 5;
        let psec = if v5 { props::encoded_len(list) } else { 0 };
        self.encode_with(out, psec, |out| {
            if v5 {
                props::write(out, list)
            }
        });
    }

    fn encode_with(&self, out: &mut Vec<u8>, psec: usize, props: impl FnOnce(&mut Vec<u8>)) {
        let qos = self.qos & 3;
        let flags = (qos << 1) | (self.retain as u8) | if self.dup && qos > 0 { 8 } else { 0 };
        let len = 2 + self.topic.len() + if qos > 0 { 2 } else { 0 } + psec + self.payload.len();
        write_header(out, PUBLISH, flags, len as u32);
        props::write_str(out, self.topic);
        if qos > 0 {
            out.extend_from_slice(&self.id.to_be_bytes());
        }
        props(out);
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s() -> impl Strategy<Value = Vec<u8>> {
        "[a-z0-9/ ]{1,10}".prop_map(|s| s.into_bytes())
    }
    fn raw_props() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(Vec::new()),
            s().prop_map(|v| {
                let mut o = Vec::new();
                props::write(
                    &mut o,
                    &[
                        Prop {
                            id: props::USER_PROPERTY,
                            iv: 0,
                            key: b"k",
                            val: &v,
                        },
                        Prop {
                            id: props::MESSAGE_EXPIRY_INTERVAL,
                            iv: 60,
                            ..Prop::default()
                        },
                    ],
                );
                o[1..].to_vec() // the body, without the one-byte length
            })
        ]
    }

    /// Owned parts from which every packet type is built.
    #[derive(Debug, Clone)]
    struct Parts {
        kind: u8,
        a: Vec<u8>,
        b: Vec<u8>,
        c: Vec<u8>,
        props: Vec<u8>,
        id: u16,
        n: u8,
        flag: bool,
        v5: bool,
    }

    fn parts() -> impl Strategy<Value = Parts> {
        (
            1u8..=15,
            s(),
            s(),
            proptest::collection::vec(any::<u8>(), 0..40),
            raw_props(),
            1u16..,
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kind, a, b, c, props, id, n, flag, v5)| Parts {
                kind,
                a,
                b,
                c,
                props,
                id,
                n,
                flag,
                v5,
            })
    }

    fn build(p: &Parts) -> Packet<'_> {
        let v5 = p.v5;
        let props: &[u8] = if v5 { &p.props } else { &[] };
        let ack = Ack {
            id: p.id,
            code: if v5 { p.n } else { 0 },
            props,
        };
        match p.kind {
            CONNECT => Packet::Connect(Connect {
                level: if v5 { 5 } else { 4 },
                clean: p.flag,
                keepalive: p.id,
                client_id: &p.a,
                will: p.flag.then_some(Will {
                    topic: &p.b,
                    payload: &p.c,
                    qos: p.n % 3,
                    retain: p.n & 4 != 0,
                    props,
                }),
                user: (p.n & 8 != 0).then_some(&p.a[..]),
                pass: (p.n & 8 != 0 && p.n & 16 != 0).then_some(&p.c[..]),
                props,
            }),
            CONNACK => Packet::Connack {
                session_present: p.flag,
                code: p.n,
                props,
            },
            PUBLISH => {
                let qos = p.n % 3;
                Packet::Publish(Publish {
                    topic: &p.a,
                    payload: &p.c,
                    qos,
                    id: if qos > 0 { p.id } else { 0 },
                    dup: p.flag && qos > 0,
                    retain: p.n & 4 != 0,
                    props,
                })
            }
            PUBACK => Packet::Puback(ack),
            PUBREC => Packet::Pubrec(ack),
            PUBREL => Packet::Pubrel(ack),
            PUBCOMP => Packet::Pubcomp(ack),
            SUBSCRIBE => Packet::Subscribe {
                id: p.id,
                props,
                topics: vec![(&p.a[..], p.n % 3), (&p.b[..], 1)],
            },
            SUBACK => Packet::Suback {
                id: p.id,
                props,
                codes: vec![p.n, 0, 0x80],
            },
            UNSUBSCRIBE => Packet::Unsubscribe {
                id: p.id,
                props,
                topics: vec![&p.a[..], &p.b[..]],
            },
            UNSUBACK => Packet::Unsuback {
                id: p.id,
                props,
                codes: if v5 { vec![0, p.n] } else { vec![] },
            },
            PINGREQ => Packet::Pingreq,
            PINGRESP => Packet::Pingresp,
            DISCONNECT => Packet::Disconnect {
                code: if v5 { p.n } else { 0 },
                props,
            },
            _ => Packet::Auth {
                code: if v5 { p.n } else { 0 },
                props,
            },
        }
    }

    proptest! {
        #[test]
        fn every_packet_round_trips(p in parts()) {
            let v = if p.v5 { 5 } else { 4 };
            prop_assume!(p.kind != AUTH || p.v5);
            let pk = build(&p);
            let mut out = Vec::new();
            pk.encode(v, &mut out);
            let back = Packet::decode(&out, v).unwrap();
            prop_assert_eq!(&back, &pk);
            // The framer agrees, byte for byte, and every prefix is just incomplete.
            let m = match super::super::parse(&out, v, out.len()).unwrap() {
                super::super::Parsed::Packet(m) => m,
                _ => panic!("incomplete"),
            };
            prop_assert_eq!(m.dgram.len(), out.len());
            prop_assert_eq!(m.cmd, pk.cmd());
            for cut in 0..out.len() {
                prop_assert_eq!(super::super::parse(&out[..cut], v, out.len()), Ok(super::super::Parsed::Incomplete));
            }
        }
    }
}
