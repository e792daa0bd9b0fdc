//! MQTT 3.1.1 and 5.0 as a sans-IO machine: bytes in, packets, events and bytes out.
//!
//! - [`parse`] frames one packet out of received bytes and checks it completely (fixed-header
//!   flags, remaining length, every length prefix, UTF-8 of topics, MQTT 5 properties), giving
//!   a [`Message`] view shaped like Mongoose's `struct mg_mqtt_message`; a packet over the
//!   caller's size limit is [`ParseError::TooLarge`] as soon as its fixed header is in.
//! - [`packet`] decodes and encodes every packet type as a typed [`Packet`].
//! - [`props`] encodes, walks and checks MQTT 5 properties ([`Prop`], like `struct
//!   mg_mqtt_prop`).
//! - [`session`] is the protocol state of one end: packet ids, QoS 1 and 2 in flight both
//!   ways (with retransmission of what was not acknowledged, the way Mongoose's
//!   `retransmit_id` resends a PUBLISH with its id and DUP set), and the keep-alive schedule
//!   (when to ping, when the peer is dead) computed from the `now` the caller passes in.
//! - [`topic`] matches topic names against filters with `+` and `#` (the broker's routing).
//!
//! Nothing here reads a clock, touches a socket or needs `std`; the manager glue is in
//! `mgr/mqtt.rs` and the C names in `ffi/mqtt.rs`.
#![forbid(unsafe_code)]

use crate::prelude::*;

pub mod packet;
pub mod props;
pub mod session;
pub mod topic;

pub use packet::Packet;
pub use props::Prop;

extern crate alloc;

/// Packet types (the high nibble of the first byte; Mongoose's `MQTT_CMD_*`).
pub const CONNECT: u8 = 1;
pub const CONNACK: u8 = 2;
pub const PUBLISH: u8 = 3;
pub const PUBACK: u8 = 4;
pub const PUBREC: u8 = 5;
pub const PUBREL: u8 = 6;
pub const PUBCOMP: u8 = 7;
pub const SUBSCRIBE: u8 = 8;
pub const SUBACK: u8 = 9;
pub const UNSUBSCRIBE: u8 = 10;
pub const UNSUBACK: u8 = 11;
pub const PINGREQ: u8 = 12;
pub const PINGRESP: u8 = 13;
pub const DISCONNECT: u8 = 14;
pub const AUTH: u8 = 15;

/// Largest remaining length the 4-byte variable integer can say (MQTT §1.5.5).
pub const MAX_REMAINING: u32 = 268_435_455;

/// Why received bytes are not a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The packet breaks the protocol; the text says how (for the `Event::Error` message).
    Malformed(&'static str),
    /// The packet's size (fixed header included) is over the caller's limit.
    TooLarge(usize),
}

/// The `Event::Error` text, without `core::fmt` (whose format templates LLVM would pool with
/// every program's read-only strings).
impl crate::log::Put for ParseError {
    fn put(&self, out: &mut dyn crate::log::Out) {
        match self {
            ParseError::Malformed(why) => {
                out.text("malformed MQTT packet: ");
                out.text(why);
            }
            ParseError::TooLarge(n) => {
                out.text("MQTT packet of ");
                n.put(out);
                out.text(" bytes is over the size limit");
            }
        }
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&crate::log::string(&[self]))
    }
}

pub(crate) fn bad<T>(why: &'static str) -> Result<T, ParseError> {
    Err(ParseError::Malformed(why))
}

/// Bytes the variable byte integer `n` takes (1..=4; `n` ≤ [`MAX_REMAINING`]).
pub fn varint_len(n: u32) -> usize {
    match n {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Append `n` (≤ [`MAX_REMAINING`]) as a variable byte integer.
pub fn write_varint(out: &mut Vec<u8>, mut n: u32) {
    loop {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

/// A variable byte integer at the start of `b`: `Ok(None)` when `b` ends inside it,
/// `Ok(Some((value, bytes)))`, or an error for a fifth byte (or a non-minimal encoding that
/// would need one).
pub fn read_varint(b: &[u8]) -> Result<Option<(u32, usize)>, ParseError> {
    let mut n: u32 = 0;
    for i in 0..4 {
        let Some(&c) = b.get(i) else { return Ok(None) };
        n |= ((c & 0x7f) as u32) << (7 * i);
        if c & 0x80 == 0 {
            return Ok(Some((n, i + 1)));
        }
    }
    bad("variable byte integer longer than 4 bytes")
}

/// Append the fixed header: `cmd << 4 | flags`, then `remaining` as a variable integer
/// (Mongoose's `mg_mqtt_send_header`). `remaining` over [`MAX_REMAINING`] is clamped by the
/// caller's check; here it is written as 4 bytes of its low 28 bits.
pub fn write_header(out: &mut Vec<u8>, cmd: u8, flags: u8, remaining: u32) {
    out.push((cmd << 4) | (flags & 0x0f));
    write_varint(out, remaining.min(MAX_REMAINING));
}

/// A received packet, as Mongoose's `struct mg_mqtt_message` shows it: views into the
/// packet's bytes ([`dgram`](Self::dgram)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Message<'a> {
    /// PUBLISH: the topic name.
    pub topic: &'a [u8],
    /// PUBLISH: the payload.
    pub data: &'a [u8],
    /// The whole packet, fixed header included.
    pub dgram: &'a [u8],
    /// Packet identifier (PUBLISH with QoS > 0, the acks, SUBSCRIBE/SUBACK,
    /// UNSUBSCRIBE/UNSUBACK), else 0.
    pub id: u16,
    /// Packet type, one of the constants above.
    pub cmd: u8,
    /// PUBLISH: QoS from the fixed header.
    pub qos: u8,
    /// CONNACK: return code (3.1.1) or reason code (5); PUBACK..PUBCOMP, DISCONNECT, AUTH
    /// (MQTT 5): reason code (0 when absent); SUBACK/UNSUBACK: the first return code.
    pub ack: u8,
    /// The low four bits of the first byte (PUBLISH: DUP, QoS, RETAIN).
    pub flags: u8,
    /// MQTT 5: offset in `dgram` of the properties (after their length) and their size.
    pub props_start: usize,
    pub props_size: usize,
}

impl<'a> Message<'a> {
    /// MQTT 5: the property bytes (empty for 3.1.1 or when the packet has none).
    pub fn props(&self) -> &'a [u8] {
        self.dgram
            .get(self.props_start..self.props_start + self.props_size)
            .unwrap_or(&[])
    }
    /// PUBLISH: the DUP flag (a retransmission).
    pub fn dup(&self) -> bool {
        self.flags & 8 != 0
    }
    /// PUBLISH: the RETAIN flag.
    pub fn retain(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// What [`parse`] found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// The packet is not complete yet (nothing is wrong with what is there).
    Incomplete,
    /// One valid packet, `dgram.len()` bytes long.
    Packet(Message<'a>),
}

/// Frame and check the first packet in `buf` for protocol `version` (4: 3.1.1, 5: MQTT 5; a
/// CONNECT brings its own level). A packet whose total size would be over `max_packet` is
/// refused as soon as its fixed header is in, before its body is buffered.
pub fn parse(buf: &[u8], version: u8, max_packet: usize) -> Result<Parsed<'_>, ParseError> {
    let Some(&first) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    let Some((rem, n)) = read_varint(&buf[1..])? else {
        return Ok(Parsed::Incomplete);
    };
    let total = 1 + n + rem as usize;
    if total > max_packet {
        return Err(ParseError::TooLarge(total));
    }
    if buf.len() < total {
        // Check what can be checked early: a bad first byte need not wait for the body.
        packet::check_first_byte(first, version)?;
        return Ok(Parsed::Incomplete);
    }
    let dgram = &buf[..total];
    let p = Packet::decode_body(first, &dgram[1 + n..], version)?;
    Ok(Parsed::Packet(p.message(dgram)))
}

/// `mg_mqtt_parse`-style result codes.
pub const MQTT_OK: i32 = 0;
pub const MQTT_INCOMPLETE: i32 = 1;
pub const MQTT_MALFORMED: i32 = 2;

/// Offset of `inner` in `outer` when `inner` is a sub-slice of it (else 0).
pub(crate) fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    if i >= o && i + inner.len() <= o + outer.len() {
        i - o
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varints() {
        for n in [0u32, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, MAX_REMAINING] {
            let mut v = Vec::new();
            write_varint(&mut v, n);
            assert_eq!(v.len(), varint_len(n));
            assert_eq!(read_varint(&v), Ok(Some((n, v.len()))));
            assert_eq!(read_varint(&v[..v.len() - 1]), Ok(None));
        }
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
    }

    #[test]
    fn bad_remaining_length_and_size_limit() {
        // Five length bytes.
        assert!(matches!(
            parse(&[0x30, 0x80, 0x80, 0x80, 0x80, 0x01], 4, 1 << 20),
            Err(ParseError::Malformed(_))
        ));
        // A 1000-byte PUBLISH against a 100-byte limit: refused from its first 3 bytes.
        assert_eq!(parse(&[0x30, 0xe8, 0x07], 4, 100), Err(ParseError::TooLarge(1003)));
        // Remaining length shorter than the topic length says: truncated topic.
        assert!(parse(&[0x30, 0x03, 0x00, 0x05, b'a'], 4, 100).is_err());
        // Reserved flag bits.
        assert!(parse(&[0xc1, 0x00], 4, 100).is_err());
        assert!(parse(&[0x62, 0x02, 0, 1], 4, 100).is_ok());
        assert!(parse(&[0x60, 0x02, 0, 1], 4, 100).is_err());
        // QoS 3.
        assert!(parse(&[0x36, 0x05, 0, 1, b'a', 0, 1], 4, 100).is_err());
        // Packet type 0.
        assert!(parse(&[0x00, 0x00], 4, 100).is_err());
    }

    #[test]
    fn publish_view_like_mongoose() {
        let mut out = Vec::new();
        packet::Publish {
            topic: b"a/b",
            payload: b"hello",
            qos: 1,
            id: 7,
            dup: false,
            retain: true,
            props: &[],
        }
        .encode(4, &mut out);
        let Ok(Parsed::Packet(m)) = parse(&out, 4, 1000) else {
            panic!()
        };
        assert_eq!(
            (m.cmd, m.qos, m.id, m.topic, m.data),
            (PUBLISH, 1, 7, &b"a/b"[..], &b"hello"[..])
        );
        assert!(m.retain() && !m.dup());
        assert_eq!(m.dgram, &out[..]);
        for cut in 0..out.len() {
            assert_eq!(parse(&out[..cut], 4, 1000), Ok(Parsed::Incomplete));
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300), v in prop_oneof![Just(4u8), Just(5u8)], max in 0usize..400) {
            let r = parse(&b, v, max);
            if let Ok(Parsed::Packet(m)) = r {
                prop_assert!(m.dgram.len() <= max && m.dgram.len() <= b.len());
                prop_assert!(m.props_start + m.props_size <= m.dgram.len());
                // A valid packet re-encodes to the same bytes (canonical form) or at least decodes.
                let p = Packet::decode(m.dgram, v).unwrap();
                let mut again = Vec::new();
                p.encode(v, &mut again);
                let q = Packet::decode(&again, v).unwrap();
                prop_assert_eq!(p, q);
            }
        }
    }
}
