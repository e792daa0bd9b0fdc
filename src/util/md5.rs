//! MD5 (RFC 1321) as plain integer code over caller-held state, for `mg_md5_*`.
//!
//! Why not RustCrypto's `md-5`: it does not expose its compression function, and its hasher
//! struct cannot live in the caller's `mg_md5_ctx` bytes (any bit pattern of those must be a
//! valid value; see `src/ffi/hash.rs`). MD5 is small enough to write out: one compression
//! function over `[u32; 4]`, the buffering and padding shared with SHA in `util::codec`.
//! MD5 is broken for collision resistance; it is here because firmware still uses it
//! (HTTP digest authentication, legacy checksums).
#![forbid(unsafe_code)]

/// The initial chaining value.
pub const IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Per-round shift amounts, four per round.
const S: [[u32; 4]; 4] = [[7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]];

/// `floor(abs(sin(i + 1)) * 2^32)`, as tabulated in RFC 1321 section 3.4.
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// Compress one 64-byte block into `state`.
pub fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let rotated = a
            .wrapping_add(f)
            .wrapping_add(K[i])
            .wrapping_add(m[g])
            .rotate_left(S[i / 16][i % 4]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(rotated);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

/// Pad and compress the last block(s): `0x80`, zeros, and the message length in bits as a
/// little-endian 64-bit number (MD5's byte order; SHA's is `codec::md_finish_be`). `buf`
/// holds the `total % 64` bytes not compressed yet.
pub fn finish(state: &mut [u32; 4], buf: &mut [u8; 64], total: u64) -> [u8; 16] {
    let pos = (total % 64) as usize;
    buf[pos] = 0x80;
    buf[pos + 1..].fill(0);
    if pos >= 56 {
        compress(state, buf);
        buf.fill(0);
    }
    buf[56..].copy_from_slice(&total.wrapping_mul(8).to_le_bytes());
    compress(state, buf);
    let mut out = [0u8; 16];
    for (o, w) in out.chunks_exact_mut(4).zip(state.iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// MD5 of `data` in one call.
pub fn digest(data: &[u8]) -> [u8; 16] {
    let mut state = IV;
    let mut buf = [0u8; 64];
    super::codec::md_update(&mut buf, 0, data, |b| compress(&mut state, b));
    finish(&mut state, &mut buf, data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn rfc1321_test_suite() {
        let cases: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&digest(input.as_bytes())), want, "{input:?}");
        }
    }

    #[test]
    fn padding_boundaries() {
        // 55, 56 and 64 bytes: one block, two blocks, a block of padding alone.
        assert_eq!(hex(&digest(&[b'a'; 55])), "ef1772b6dff9a122358552954ad0df65");
        assert_eq!(hex(&digest(&[b'a'; 56])), "3b0c8ac703f828b04c6c197006d17218");
        assert_eq!(hex(&digest(&[b'a'; 64])), "014842d480b571495a4a0363793f7367");
    }
}
