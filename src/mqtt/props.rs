//! MQTT 5 properties (§2.2.2): a [`Prop`] is one (Mongoose's `struct mg_mqtt_prop`), a
//! property section is a variable-integer length followed by properties, each an identifier
//! and a value whose type the identifier fixes.

use crate::prelude::*;

use super::{bad, read_varint, varint_len, write_varint, ParseError};

extern crate alloc;

pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
pub const CONTENT_TYPE: u8 = 0x03;
pub const RESPONSE_TOPIC: u8 = 0x08;
pub const CORRELATION_DATA: u8 = 0x09;
pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
pub const SERVER_KEEP_ALIVE: u8 = 0x13;
pub const AUTHENTICATION_METHOD: u8 = 0x15;
pub const AUTHENTICATION_DATA: u8 = 0x16;
pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
pub const WILL_DELAY_INTERVAL: u8 = 0x18;
pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
pub const RESPONSE_INFORMATION: u8 = 0x1A;
pub const SERVER_REFERENCE: u8 = 0x1C;
pub const REASON_STRING: u8 = 0x1F;
pub const RECEIVE_MAXIMUM: u8 = 0x21;
pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
pub const TOPIC_ALIAS: u8 = 0x23;
pub const MAXIMUM_QOS: u8 = 0x24;
pub const RETAIN_AVAILABLE: u8 = 0x25;
pub const USER_PROPERTY: u8 = 0x26;
pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;

/// The value type a property identifier fixes (Mongoose's `MQTT_PROP_TYPE_*` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Byte,
    String,
    StringPair,
    Binary,
    VarInt,
    Int,
    Short,
}

/// The type of property `id`, or `None` for an identifier MQTT 5 does not define.
pub fn kind(id: u8) -> Option<Kind> {
    Some(match id {
        PAYLOAD_FORMAT_INDICATOR
        | REQUEST_PROBLEM_INFORMATION
        | REQUEST_RESPONSE_INFORMATION
        | MAXIMUM_QOS
        | RETAIN_AVAILABLE
        | WILDCARD_SUBSCRIPTION_AVAILABLE
        | SUBSCRIPTION_IDENTIFIER_AVAILABLE
        | SHARED_SUBSCRIPTION_AVAILABLE => Kind::Byte,
        MESSAGE_EXPIRY_INTERVAL | SESSION_EXPIRY_INTERVAL | WILL_DELAY_INTERVAL | MAXIMUM_PACKET_SIZE => Kind::Int,
        CONTENT_TYPE
        | RESPONSE_TOPIC
        | ASSIGNED_CLIENT_IDENTIFIER
        | AUTHENTICATION_METHOD
        | RESPONSE_INFORMATION
        | SERVER_REFERENCE
        | REASON_STRING => Kind::String,
        CORRELATION_DATA | AUTHENTICATION_DATA => Kind::Binary,
        SUBSCRIPTION_IDENTIFIER => Kind::VarInt,
        SERVER_KEEP_ALIVE | RECEIVE_MAXIMUM | TOPIC_ALIAS_MAXIMUM | TOPIC_ALIAS => Kind::Short,
        USER_PROPERTY => Kind::StringPair,
        _ => return None,
    })
}

/// One property. Integer kinds use `iv`; strings and binary data `val`; a user property
/// `key` and `val`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prop<'a> {
    pub id: u8,
    pub iv: u32,
    pub key: &'a [u8],
    pub val: &'a [u8],
}

impl Prop<'_> {
    /// Encoded size (identifier included); 0 for an unknown identifier (not written).
    pub fn encoded_len(&self) -> usize {
        let body = match kind(self.id) {
            None => return 0,
            Some(Kind::Byte) => 1,
            Some(Kind::Short) => 2,
            Some(Kind::Int) => 4,
            Some(Kind::VarInt) => varint_len(self.iv.min(super::MAX_REMAINING)),
            Some(Kind::String) | Some(Kind::Binary) => 2 + self.val.len().min(0xffff),
            Some(Kind::StringPair) => 4 + self.key.len().min(0xffff) + self.val.len().min(0xffff),
        };
        1 + body
    }

    fn write(&self, out: &mut Vec<u8>) {
        let Some(k) = kind(self.id) else { return };
        out.push(self.id);
        match k {
            Kind::Byte => out.push(self.iv as u8),
            Kind::Short => out.extend_from_slice(&(self.iv as u16).to_be_bytes()),
            Kind::Int => out.extend_from_slice(&self.iv.to_be_bytes()),
            Kind::VarInt => write_varint(out, self.iv.min(super::MAX_REMAINING)),
            Kind::String | Kind::Binary => write_str(out, self.val),
            Kind::StringPair => {
                write_str(out, self.key);
                write_str(out, self.val);
            }
        }
    }
}

/// A length-prefixed string or binary (longer than 65535 bytes: truncated to that).
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    let s = &s[..s.len().min(0xffff)];
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

/// Bytes of the properties themselves (without the length prefix).
pub fn section_len(props: &[Prop<'_>]) -> usize {
    props.iter().map(|p| p.encoded_len()).sum()
}

/// Bytes of a property section: the length prefix and the properties.
pub fn encoded_len(props: &[Prop<'_>]) -> usize {
    let n = section_len(props);
    varint_len(n as u32) + n
}

/// Append a property section (length, then each property; unknown identifiers skipped).
pub fn write(out: &mut Vec<u8>, props: &[Prop<'_>]) {
    write_varint(out, section_len(props) as u32);
    for p in props {
        p.write(out);
    }
}

/// Append an already-encoded property section body (from a received packet).
pub fn write_raw(out: &mut Vec<u8>, raw: &[u8]) {
    write_varint(out, raw.len() as u32);
    out.extend_from_slice(raw);
}

fn take<'a>(b: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], ParseError> {
    let end = at.checked_add(n).filter(|&e| e <= b.len());
    let Some(end) = end else {
        return bad("truncated property");
    };
    let s = &b[*at..end];
    *at = end;
    Ok(s)
}

fn take_str<'a>(b: &'a [u8], at: &mut usize, utf8: bool) -> Result<&'a [u8], ParseError> {
    let n = take(b, at, 2)?;
    let len = u16::from_be_bytes([n[0], n[1]]) as usize;
    let s = take(b, at, len)?;
    if utf8 && core::str::from_utf8(s).is_err() {
        return bad("property string is not UTF-8");
    }
    Ok(s)
}

/// The property at `at` in a property section body `b`, and where the next one starts;
/// `Ok(None)` at the end.
pub fn next(b: &[u8], at: usize) -> Result<Option<(Prop<'_>, usize)>, ParseError> {
    if at >= b.len() {
        return Ok(None);
    }
    let mut i = at;
    let id = take(b, &mut i, 1)?[0];
    let Some(k) = kind(id) else {
        return bad("unknown property identifier");
    };
    let mut p = Prop { id, ..Prop::default() };
    match k {
        Kind::Byte => p.iv = take(b, &mut i, 1)?[0] as u32,
        Kind::Short => {
            let s = take(b, &mut i, 2)?;
            p.iv = u16::from_be_bytes([s[0], s[1]]) as u32;
        }
        Kind::Int => {
            let s = take(b, &mut i, 4)?;
            p.iv = u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
        }
        Kind::VarInt => match read_varint(&b[i..])? {
            Some((v, n)) => {
                p.iv = v;
                i += n;
            }
            None => return bad("truncated property"),
        },
        Kind::String => p.val = take_str(b, &mut i, true)?,
        Kind::Binary => p.val = take_str(b, &mut i, false)?,
        Kind::StringPair => {
            p.key = take_str(b, &mut i, true)?;
            p.val = take_str(b, &mut i, true)?;
        }
    }
    Ok(Some((p, i)))
}

/// Read a property section (length prefix and body) at the start of `b`: its body and the
/// bytes it took. Every property is checked.
pub fn read_section(b: &[u8]) -> Result<(&[u8], usize), ParseError> {
    let Some((n, l)) = read_varint(b)? else {
        return bad("truncated property length");
    };
    let end = l.checked_add(n as usize).filter(|&e| e <= b.len());
    let Some(end) = end else {
        return bad("property length past the packet");
    };
    let body = &b[l..end];
    let mut at = 0;
    while let Some((_, nx)) = next(body, at)? {
        at = nx;
    }
    Ok((body, end))
}

/// Decode a property section body into a list (for tests and for Rust callers).
pub fn to_vec(body: &[u8]) -> Result<Vec<Prop<'_>>, ParseError> {
    let mut v = Vec::new();
    let mut at = 0;
    while let Some((p, nx)) = next(body, at)? {
        v.push(p);
        at = nx;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_prop() -> impl Strategy<Value = (u8, u32, Vec<u8>, Vec<u8>)> {
        let ids: Vec<u8> = (0u8..=0x2a).filter(|&i| kind(i).is_some()).collect();
        (
            proptest::sample::select(ids),
            any::<u32>(),
            "[a-z0-9/]{0,12}".prop_map(|s| s.into_bytes()),
            "[a-z0-9/]{0,12}".prop_map(|s| s.into_bytes()),
        )
    }

    proptest! {
        #[test]
        fn round_trip(raw in proptest::collection::vec(arb_prop(), 0..8)) {
            let props: Vec<Prop<'_>> = raw.iter().map(|(id, iv, k, v)| {
                let iv = match kind(*id).unwrap() {
                    Kind::Byte => iv & 0xff,
                    Kind::Short => iv & 0xffff,
                    Kind::VarInt => iv % (super::super::MAX_REMAINING + 1),
                    Kind::Int => *iv,
                    _ => 0,
                };
                let key = if kind(*id) == Some(Kind::StringPair) { &k[..] } else { &[][..] };
                let val = if matches!(kind(*id), Some(Kind::Byte | Kind::Short | Kind::Int | Kind::VarInt)) { &[][..] } else { &v[..] };
                Prop { id: *id, iv, key, val }
            }).collect();
            let mut out = Vec::new();
            write(&mut out, &props);
            prop_assert_eq!(out.len(), encoded_len(&props));
            let (body, used) = read_section(&out).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(to_vec(body).unwrap(), props);
        }

        #[test]
        fn arbitrary_sections_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = read_section(&b);
            let mut at = 0;
            while let Ok(Some((_, nx))) = next(&b, at) { prop_assert!(nx > at); at = nx; }
        }
    }

    #[test]
    fn truncated_and_unknown() {
        assert!(read_section(&[3, USER_PROPERTY, 0, 5]).is_err());
        assert!(read_section(&[1, 0x7f]).is_err());
        assert!(read_section(&[5, 0x26]).is_err());
        assert_eq!(read_section(&[0]).unwrap().1, 1);
    }
}
