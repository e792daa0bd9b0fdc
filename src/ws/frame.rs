//! RFC 6455 §5.2 frame headers: parsing, encoding and masking.
//!
//! Receivers accept a payload length that is not minimally encoded (e.g. 5 in the 16-bit
//! form). §5.2 says the *sender* MUST use the minimal form, but a longer form is unambiguous,
//! changes nothing about framing and is no smuggling vector, so rejecting it would only break
//! sloppy peers. A 64-bit length with its most significant bit set is rejected (§5.2: "the
//! most significant bit MUST be 0"). Our own encoder always writes the minimal form.

use super::alloc::vec::Vec;

/// Longest possible frame header: 2 + 8 (64-bit length) + 4 (masking key).
pub const MAX_HEADER_LEN: usize = 14;

/// A parsed frame header. Policy (masking per role, RSV, opcodes) is checked by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..RSV3 as the three bits `0b111` (RSV1 = 0b100).
    pub rsv: u8,
    /// Opcode (low nibble of the first byte).
    pub opcode: u8,
    /// Masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length (below 2^63).
    pub payload_len: u64,
    /// Bytes taken by the header itself (2..=14).
    pub header_len: usize,
}

/// A header that no valid frame has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// 64-bit payload length with the most significant bit set.
    LengthMsbSet,
}

/// Parses the header at the start of `buf`. `Ok(None)`: not all header bytes are there yet.
pub fn parse_header(buf: &[u8]) -> Result<Option<FrameHeader>, HeaderError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut l = [0u8; 8];
                l.copy_from_slice(b);
                let len = u64::from_be_bytes(l);
                if len >> 63 != 0 {
                    return Err(HeaderError::LengthMsbSet);
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        match buf.get(at..at + 4) {
            Some(k) => {
                at += 4;
                Some([k[0], k[1], k[2], k[3]])
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    Ok(Some(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode: b0 & 0x0f,
        mask,
        payload_len,
        header_len: at,
    }))
}

/// Header length for a payload of `payload_len` bytes, masked or not.
pub const fn header_len(payload_len: u64, masked: bool) -> usize {
    let base = if payload_len < 126 {
        2
    } else if payload_len <= 0xffff {
        4
    } else {
        10
    };
    if masked {
        base + 4
    } else {
        base
    }
}

/// Writes a frame header into `out` and returns its length. Only the low nibble of `opcode`
/// is used; `payload_len` is clamped below 2^63 (no real payload is that long).
pub fn encode_header(
    out: &mut [u8; MAX_HEADER_LEN],
    opcode: u8,
    payload_len: u64,
    fin: bool,
    mask: Option<[u8; 4]>,
    rsv1: bool,
) -> usize {
    let payload_len = payload_len.min(u64::MAX >> 1);
    out[0] = (if fin { 0x80 } else { 0 }) | (if rsv1 { 0x40 } else { 0 }) | (opcode & 0x0f);
    let mbit = if mask.is_some() { 0x80 } else { 0 };
    let mut at = if payload_len < 126 {
        out[1] = mbit | payload_len as u8;
        2
    } else if payload_len <= 0xffff {
        out[1] = mbit | 126;
        out[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
        4
    } else {
        out[1] = mbit | 127;
        out[2..10].copy_from_slice(&payload_len.to_be_bytes());
        10
    };
    if let Some(k) = mask {
        out[at..at + 4].copy_from_slice(&k);
        at += 4;
    }
    at
}

/// Appends one frame (header and payload, masked when `mask` is given) to `out`.
pub fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], fin: bool, mask: Option<[u8; 4]>, rsv1: bool) {
    let mut h = [0u8; MAX_HEADER_LEN];
    let n = encode_header(&mut h, opcode, payload.len() as u64, fin, mask, rsv1);
    out.reserve(n + payload.len());
    out.extend_from_slice(&h[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        apply_mask(&mut out[start..], k, 0);
    }
}

/// XORs `data` with the masking key, `offset` being the position of `data[0]` within the
/// frame's payload (so a payload can be unmasked in pieces). Masking is its own inverse.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let r = (offset % 4) as u32;
    // Key rotated so that rot[0] applies to data[0].
    let k = u32::from_be_bytes(key).rotate_left(8 * r).to_be_bytes();
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::alloc;
    use alloc::vec;

    fn frame(op: u8, p: &[u8], fin: bool, mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut v = Vec::new();
        encode_frame(&mut v, op, p, fin, mask, false);
        v
    }

    // RFC 6455 §5.7 examples.
    #[test]
    fn rfc_examples_encode() {
        assert_eq!(
            frame(1, b"Hello", true, None),
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(1, b"Hello", true, Some([0x37, 0xfa, 0x21, 0x3d])),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        assert_eq!(frame(1, b"Hel", false, None), [0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert_eq!(frame(0, b"lo", true, None), [0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!(
            frame(9, b"Hello", true, None),
            [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(10, b"Hello", true, Some([0x37, 0xfa, 0x21, 0x3d])),
            [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        let f = frame(2, &[0u8; 256], true, None);
        assert_eq!(f[..4], [0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(f.len(), 4 + 256);
        let f = frame(2, &vec![0u8; 65536], true, None);
        assert_eq!(f[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0, 0]);
        assert_eq!(f.len(), 10 + 65536);
    }

    #[test]
    fn parse_lengths_and_errors() {
        let h = parse_header(&[0x82, 0x7E, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((h.payload_len, h.header_len, h.opcode, h.fin), (256, 4, 2, true));
        let h = parse_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap().unwrap();
        assert_eq!((h.payload_len, h.header_len), (65536, 10));
        // Non-minimal 16-bit encoding of 5: accepted (documented above).
        let h = parse_header(&[0x81, 0x7E, 0, 5]).unwrap().unwrap();
        assert_eq!(h.payload_len, 5);
        assert_eq!(
            parse_header(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(HeaderError::LengthMsbSet)
        );
        let h = parse_header(&[0xf1, 0x80, 1, 2, 3, 4]).unwrap().unwrap();
        assert_eq!((h.rsv, h.mask, h.header_len), (7, Some([1, 2, 3, 4]), 6));
        // Every strict prefix of a header is "need more".
        let full = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 9, 9, 9];
        for i in 0..full.len() {
            assert_eq!(parse_header(&full[..i]), Ok(None), "prefix {i}");
        }
        assert_eq!(parse_header(&full).unwrap().unwrap().header_len, 14);
    }

    #[test]
    fn mask_in_pieces_equals_whole() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in 0..data.len() {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(split);
            apply_mask(a, key, 0);
            apply_mask(b, key, split);
            assert_eq!(parts, whole);
        }
        for (i, b) in whole.iter().enumerate() {
            assert_eq!(*b, data[i] ^ key[i % 4]);
        }
    }
}
