//! Hashes and encodings for C with Mongoose 7.22's names: SHA-1, SHA-256 (+ HMAC), SHA-384,
//! base64 (one-shot and Mongoose's streaming form) and CRC-32.
//!
//! The crypto is RustCrypto's (`sha1`, `sha2`, `hmac`); base64 is the `base64` crate, CRC-32
//! the `crc` crate. All of these are pure functions: any thread, nothing retained.
//!
//! **Contexts.** `mg_sha1_ctx`, `mg_sha256_ctx` and `mg_sha384_ctx` have Mongoose's field
//! layout (so `sizeof` matches and firmware that embeds them in its own structs is unchanged),
//! but their fields are meerkat's: the chaining state, the message length in bits and the
//! pending bytes. They are plain integers on purpose: a context is caller memory that meerkat
//! reads back on every call, and every bit pattern of it is a valid value, so an
//! uninitialised or corrupted context gives a wrong digest, never undefined behaviour. (A
//! crate's hasher struct kept in caller bytes would not give that: RustCrypto's block buffer
//! assumes its cursor is in range, unchecked.) The buffer position is always derived from the
//! length, never trusted. Contexts are value types: copying one forks the hash.

use crate::prelude::*;
use core::ffi::{c_char, c_uchar};

use base64::Engine;
use hmac::Mac;
use sha2::Digest;

use super::cast;
use super::guard;
use crate::util::codec;

/// SHA-1 state (Mongoose 7.22 layout: 92 bytes). Fields are meerkat's own: do not read them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_sha1_ctx {
    /// Chaining state.
    pub state: [u32; 5],
    /// Message length in bits: low word, high word.
    pub count: [u32; 2],
    /// Bytes not yet compressed (the first `count / 8 % 64`).
    pub buffer: [c_uchar; 64],
}

/// SHA-256 state (Mongoose 7.22 layout). Fields are meerkat's own: do not read them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_sha256_ctx {
    /// Chaining state.
    pub state: [u32; 8],
    /// Message length in bits.
    pub bits: u64,
    /// Bytes pending in `buffer` (informative; recomputed from `bits`).
    pub len: u32,
    /// Bytes not yet compressed.
    pub buffer: [c_uchar; 64],
}

/// SHA-384 state (Mongoose 7.22 layout). Fields are meerkat's own: do not read them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_sha384_ctx {
    /// Chaining state.
    pub state: [u64; 8],
    /// Bytes not yet compressed.
    pub buffer: [u8; 128],
    /// Message length in bits: low, high.
    pub bitlen: [u64; 2],
    /// Bytes pending in `buffer` (informative; recomputed from `bitlen`).
    pub datalen: u32,
}

/// `n` rounded up to the alignment of `u64` (8 on LP64, 4 on some 32-bit ABIs).
const fn round_u64(n: usize) -> usize {
    n.div_ceil(core::mem::align_of::<u64>()) * core::mem::align_of::<u64>()
}
// The sizes of Mongoose 7.22's declarations of these structs, on every ABI.
const _: () = assert!(core::mem::size_of::<mg_sha1_ctx>() == 20 + 8 + 64);
const _: () = assert!(core::mem::size_of::<mg_sha256_ctx>() == round_u64(32 + 8 + 4 + 64));
const _: () = assert!(core::mem::size_of::<mg_sha384_ctx>() == round_u64(64 + 128 + 16 + 4));

const SHA1_IV: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
const SHA384_IV: [u64; 8] = [
    0xcbbb_9d5d_c105_9ed8,
    0x629a_292a_367c_d507,
    0x9159_015a_3070_dd17,
    0x152f_ecd8_f70e_5939,
    0x6733_2667_ffc0_0b31,
    0x8eb4_4a87_6858_1511,
    0xdb0c_2e0d_64f9_8fa7,
    0x47b5_481d_befa_4fa4,
];

fn sha1_block(state: &mut [u32; 5], b: &[u8; 64]) {
    sha1::compress(state, &[(*b).into()]);
}
fn sha256_block(state: &mut [u32; 8], b: &[u8; 64]) {
    sha2::compress256(state, &[(*b).into()]);
}
fn sha512_block(state: &mut [u64; 8], b: &[u8; 128]) {
    sha2::compress512(state, &[(*b).into()]);
}

/// `mg_sha1_init(ctx)`: start a SHA-1 hash. NULL is ignored. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha1_init(ctx: *mut mg_sha1_ctx) {
    guard(|| {
        if let Ok(c) = cast::as_mut(ctx) {
            *c = mg_sha1_ctx {
                state: SHA1_IV,
                count: [0; 2],
                buffer: [0; 64],
            };
        }
    })
}

/// `mg_sha1_update(ctx, data, len)`: hash `len` more bytes at `data`. A NULL `ctx` or a
/// `(NULL, len > 0)` buffer does nothing. Not retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha1_update(ctx: *mut mg_sha1_ctx, data: *const c_uchar, len: usize) {
    guard(|| {
        let (Ok(c), Ok(d)) = (cast::as_mut(ctx), cast::slice(data.cast(), len)) else {
            return;
        };
        let bits = u64::from(c.count[0]) | u64::from(c.count[1]) << 32;
        codec::md_update(&mut c.buffer, u128::from(bits / 8), d, |b| sha1_block(&mut c.state, b));
        let bits = bits.wrapping_add((d.len() as u64).wrapping_mul(8));
        c.count = [bits as u32, (bits >> 32) as u32];
    })
}

/// `mg_sha1_final(digest, ctx)`: write the 20-byte SHA-1 of everything hashed to `digest`
/// and wipe `ctx` (call `mg_sha1_init` to reuse it). NULL arguments do nothing.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha1_final(digest: *mut c_uchar, ctx: *mut mg_sha1_ctx) {
    guard(|| {
        let (Ok(c), Ok(out)) = (cast::as_mut(ctx), cast::slice_mut(digest.cast(), 20)) else {
            return;
        };
        let bits = u64::from(c.count[0]) | u64::from(c.count[1]) << 32;
        codec::md_finish_be(&mut c.buffer, u128::from(bits / 8), 8, |b| sha1_block(&mut c.state, b));
        for (o, w) in out.chunks_exact_mut(4).zip(c.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        *c = mg_sha1_ctx {
            state: [0; 5],
            count: [0; 2],
            buffer: [0; 64],
        };
    })
}

/// `mg_sha256_init(ctx)`: start a SHA-256 hash. NULL is ignored. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha256_init(ctx: *mut mg_sha256_ctx) {
    guard(|| {
        if let Ok(c) = cast::as_mut(ctx) {
            *c = mg_sha256_ctx {
                state: SHA256_IV,
                bits: 0,
                len: 0,
                buffer: [0; 64],
            };
        }
    })
}

/// `mg_sha256_update(ctx, data, len)`: hash `len` more bytes at `data`. A NULL `ctx` or a
/// `(NULL, len > 0)` buffer does nothing. Not retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha256_update(ctx: *mut mg_sha256_ctx, data: *const c_uchar, len: usize) {
    guard(|| {
        let (Ok(c), Ok(d)) = (cast::as_mut(ctx), cast::slice(data.cast(), len)) else {
            return;
        };
        codec::md_update(&mut c.buffer, u128::from(c.bits / 8), d, |b| {
            sha256_block(&mut c.state, b)
        });
        c.bits = c.bits.wrapping_add((d.len() as u64).wrapping_mul(8));
        c.len = (c.bits / 8 % 64) as u32;
    })
}

/// `mg_sha256_final(digest, ctx)`: write the 32-byte SHA-256 to `digest` and wipe `ctx`.
/// NULL arguments do nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha256_final(digest: *mut c_uchar, ctx: *mut mg_sha256_ctx) {
    guard(|| {
        let (Ok(c), Ok(out)) = (cast::as_mut(ctx), cast::slice_mut(digest.cast(), 32)) else {
            return;
        };
        codec::md_finish_be(&mut c.buffer, u128::from(c.bits / 8), 8, |b| {
            sha256_block(&mut c.state, b)
        });
        for (o, w) in out.chunks_exact_mut(4).zip(c.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        *c = mg_sha256_ctx {
            state: [0; 8],
            bits: 0,
            len: 0,
            buffer: [0; 64],
        };
    })
}

/// `mg_sha256(dst, data, len)`: the 32-byte SHA-256 of `len` bytes at `data`, into `dst`.
/// A NULL `dst` or `(NULL, len > 0)` data does nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha256(dst: *mut u8, data: *mut u8, len: usize) {
    guard(|| {
        if let (Ok(out), Ok(d)) = (cast::slice_mut(dst.cast(), 32), cast::slice(data.cast(), len)) {
            out.copy_from_slice(&sha2::Sha256::digest(d));
        }
    })
}

/// `mg_hmac_sha256(dst, key, keysz, data, datasz)`: HMAC-SHA-256 (RFC 2104) of `data`
/// under `key` (any length), 32 bytes into `dst`. A NULL `dst` or a `(NULL, n > 0)` input
/// does nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_hmac_sha256(dst: *mut u8, key: *mut u8, keysz: usize, data: *mut u8, datasz: usize) {
    guard(|| {
        let (Ok(out), Ok(k), Ok(d)) = (
            cast::slice_mut(dst.cast(), 32),
            cast::slice(key.cast(), keysz),
            cast::slice(data.cast(), datasz),
        ) else {
            return;
        };
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(k) else {
            return;
        };
        mac.update(d);
        out.copy_from_slice(&mac.finalize().into_bytes());
    })
}

/// `mg_sha384_init(ctx)`: start a SHA-384 hash. NULL is ignored. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha384_init(ctx: *mut mg_sha384_ctx) {
    guard(|| {
        if let Ok(c) = cast::as_mut(ctx) {
            *c = mg_sha384_ctx {
                state: SHA384_IV,
                buffer: [0; 128],
                bitlen: [0; 2],
                datalen: 0,
            };
        }
    })
}

fn bitlen(c: &mg_sha384_ctx) -> u128 {
    u128::from(c.bitlen[0]) | u128::from(c.bitlen[1]) << 64
}

/// `mg_sha384_update(ctx, data, len)`: hash `len` more bytes at `data`. A NULL `ctx` or a
/// `(NULL, len > 0)` buffer does nothing. Not retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha384_update(ctx: *mut mg_sha384_ctx, data: *const u8, len: usize) {
    guard(|| {
        let (Ok(c), Ok(d)) = (cast::as_mut(ctx), cast::slice(data.cast(), len)) else {
            return;
        };
        let bits = bitlen(c);
        codec::md_update(&mut c.buffer, bits / 8, d, |b| sha512_block(&mut c.state, b));
        let bits = bits.wrapping_add((d.len() as u128).wrapping_mul(8));
        c.bitlen = [bits as u64, (bits >> 64) as u64];
        c.datalen = (bits / 8 % 128) as u32;
    })
}

/// `mg_sha384_final(digest, ctx)`: write the 48-byte SHA-384 to `digest` and wipe `ctx`.
/// NULL arguments do nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha384_final(digest: *mut u8, ctx: *mut mg_sha384_ctx) {
    guard(|| {
        let (Ok(c), Ok(out)) = (cast::as_mut(ctx), cast::slice_mut(digest.cast(), 48)) else {
            return;
        };
        let total = bitlen(c) / 8;
        codec::md_finish_be(&mut c.buffer, total, 16, |b| sha512_block(&mut c.state, b));
        for (o, w) in out.chunks_exact_mut(8).zip(c.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        *c = mg_sha384_ctx {
            state: [0; 8],
            buffer: [0; 128],
            bitlen: [0; 2],
            datalen: 0,
        };
    })
}

/// `mg_sha384(dst, data, len)`: the 48-byte SHA-384 of `len` bytes at `data`, into `dst`.
/// A NULL `dst` or `(NULL, len > 0)` data does nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_sha384(dst: *mut u8, data: *mut u8, len: usize) {
    guard(|| {
        if let (Ok(out), Ok(d)) = (cast::slice_mut(dst.cast(), 48), cast::slice(data.cast(), len)) {
            out.copy_from_slice(&sha2::Sha384::digest(d));
        }
    })
}

/// Standard alphabet; decoding accepts input with or without `=` padding.
const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Decode standard base64 (padding optional); `None` if it is not base64.
pub(crate) fn base64_decode_vec(text: &[u8]) -> Option<Vec<u8>> {
    // `decode_slice` rather than `decode`: the crate's `alloc` feature stays off.
    let mut out = vec![0u8; text.len().div_ceil(4) * 3];
    let n = B64.decode_slice(text, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

/// `mg_base64_encode(p, n, buf, len)`: base64 (standard alphabet, `=` padded) of `n` bytes
/// at `p` into `buf`, NUL-terminated. Returns the text length, or 0 (and `buf[0]` set to
/// NUL when `len > 0`) if `buf` is smaller than `4 * ceil(n / 3) + 1` bytes or an argument
/// is `(NULL, n > 0)`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_base64_encode(p: *const c_uchar, n: usize, buf: *mut c_char, len: usize) -> usize {
    guard(|| {
        let Ok(out) = cast::slice_mut(buf.cast(), len) else {
            return 0;
        };
        if let Some(first) = out.first_mut() {
            *first = 0;
        }
        let Ok(input) = cast::slice(p.cast(), n) else {
            return 0;
        };
        let need = n.div_ceil(3).checked_mul(4).and_then(|v| v.checked_add(1));
        if need.is_none_or(|need| len < need) {
            return 0;
        }
        match B64.encode_slice(input, &mut out[..len - 1]) {
            Ok(k) => {
                out[k] = 0;
                k
            }
            Err(_) => 0,
        }
    })
}

/// `mg_base64_decode(src, n, dst, len)`: decode `n` base64 characters at `src` (standard
/// alphabet; `=` padding optional) into `dst`, NUL-terminated. Returns the decoded length, or
/// 0 (and `dst[0]` set to NUL when `len > 0`) for input that is not base64 or a `dst`
/// smaller than `n / 4 * 3 + 1` bytes (for unpadded input, room for the whole last group).
/// Mongoose 7.22 ignores an incomplete last group; meerkat decodes it. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_base64_decode(src: *const c_char, n: usize, dst: *mut c_char, len: usize) -> usize {
    guard(|| decode_to_c(&B64, src, n, dst, len, |t| t))
}

/// The body of `mg_base64_decode` and `mg_base64url_decode`: decode the `n` characters at
/// `src` (after `trim`) with `engine` into `dst` of `len` bytes, NUL-terminated; the decoded
/// length, or 0 with `dst` an empty string (bad input, too small a `dst`, NULL arguments).
pub(super) fn decode_to_c<E: Engine>(
    engine: &E,
    src: *const c_char,
    n: usize,
    dst: *mut c_char,
    len: usize,
    trim: fn(&[u8]) -> &[u8],
) -> usize {
    let Ok(out) = cast::slice_mut(dst.cast(), len) else {
        return 0;
    };
    let Some(room) = len.checked_sub(1) else {
        return 0;
    };
    out[0] = 0;
    let Ok(input) = cast::slice(src.cast(), n) else {
        return 0;
    };
    match engine.decode_slice(trim(input), &mut out[..room]) {
        Ok(k) => {
            out[k] = 0;
            k
        }
        Err(_) => {
            out[0] = 0;
            0
        }
    }
}

/// `mg_base64_update(ch, buf, n)`: streaming encoder. Append byte `ch` to the base64 text
/// being built in `buf`, of which `n` characters (the previous return value; 0 to start)
/// are complete. Returns the new `n`. Finish with `mg_base64_final`.
///
/// `buf` must have room for `n + 2` bytes (there is no length argument, as in Mongoose); a
/// NULL `buf` returns `n` unchanged. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_base64_update(ch: c_uchar, buf: *mut c_char, n: usize) -> usize {
    guard(|| {
        let Some(room) = n.checked_add(2) else {
            return n;
        };
        match cast::slice_mut(buf.cast(), room) {
            Ok(out) => codec::base64_update(ch, out, n).unwrap_or(n),
            Err(_) => n,
        }
    })
}

/// `mg_base64_final(buf, n)`: finish the text built by `mg_base64_update`: pad with `=` and
/// NUL-terminate. Returns the text length. `buf` must have room for `n` rounded up to a
/// multiple of 4, plus 1, bytes; a NULL `buf` returns 0. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_base64_final(buf: *mut c_char, n: usize) -> usize {
    guard(|| {
        let Some(room) = n.checked_add(3).map(|v| v / 4 * 4 + 1) else {
            return 0;
        };
        match cast::slice_mut(buf.cast(), room) {
            Ok(out) => codec::base64_final(out, n).unwrap_or(0),
            Err(_) => 0,
        }
    })
}

/// `mg_crc32(crc, buf, len)`: CRC-32 (the zlib/Ethernet polynomial 0xEDB88320, reflected)
/// of `len` bytes at `buf`, continuing from `crc` (0 to start; pass a previous result to
/// extend it). `(NULL, len > 0)` returns `crc` unchanged. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_crc32(crc: u32, buf: *const c_char, len: usize) -> u32 {
    guard(|| match cast::slice(buf.cast(), len) {
        Ok(d) => codec::crc32(crc, d),
        Err(_) => crc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    const ABC: &[u8] = b"abc";
    const TWO_BLOCK: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    fn sha1_stream(parts: &[&[u8]]) -> String {
        let mut c = core::mem::MaybeUninit::<mg_sha1_ctx>::zeroed();
        let c = c.as_mut_ptr();
        mg_sha1_init(c);
        for p in parts {
            mg_sha1_update(c, p.as_ptr(), p.len());
        }
        let mut d = [0u8; 20];
        mg_sha1_final(d.as_mut_ptr(), c);
        hex(&d)
    }

    #[test]
    fn sha1_fips180_vectors() {
        assert_eq!(sha1_stream(&[ABC]), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_stream(&[&TWO_BLOCK[..10], &TWO_BLOCK[10..]]),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(sha1_stream(&[]), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            sha1_stream(&[&million[..333], &million[333..]]),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn sha256_and_384_fips180_vectors() {
        let mut c = core::mem::MaybeUninit::<mg_sha256_ctx>::zeroed();
        let c = c.as_mut_ptr();
        mg_sha256_init(c);
        mg_sha256_update(c, TWO_BLOCK.as_ptr(), 7);
        mg_sha256_update(c, TWO_BLOCK[7..].as_ptr(), TWO_BLOCK.len() - 7);
        let mut d = [0u8; 32];
        mg_sha256_final(d.as_mut_ptr(), c);
        assert_eq!(
            hex(&d),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let mut abc = *b"abc";
        mg_sha256(d.as_mut_ptr(), abc.as_mut_ptr(), 3);
        assert_eq!(
            hex(&d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );

        let mut c = core::mem::MaybeUninit::<mg_sha384_ctx>::zeroed();
        let c = c.as_mut_ptr();
        mg_sha384_init(c);
        mg_sha384_update(c, ABC.as_ptr(), 1);
        mg_sha384_update(c, ABC[1..].as_ptr(), 2);
        let mut d = [0u8; 48];
        mg_sha384_final(d.as_mut_ptr(), c);
        let want = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7";
        assert_eq!(hex(&d), want);
        let mut d2 = [0u8; 48];
        mg_sha384(d2.as_mut_ptr(), abc.as_mut_ptr(), 3);
        assert_eq!(hex(&d2), want);
    }

    #[test]
    fn streaming_matches_one_shot_at_every_length_and_split() {
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 31 % 251) as u8).collect();
        for len in 0..msg.len() {
            let split = len * 7 / 13;
            let m = &msg[..len];
            assert_eq!(sha1_stream(&[&m[..split], &m[split..]]), hex(&sha1::Sha1::digest(m)));
            let mut c = core::mem::MaybeUninit::<mg_sha384_ctx>::zeroed();
            let c = c.as_mut_ptr();
            mg_sha384_init(c);
            mg_sha384_update(c, m.as_ptr(), split);
            mg_sha384_update(c, m[split..].as_ptr(), len - split);
            let mut d = [0u8; 48];
            mg_sha384_final(d.as_mut_ptr(), c);
            assert_eq!(hex(&d), hex(&sha2::Sha384::digest(m)), "len {len}");
        }
    }

    #[test]
    fn garbage_context_is_harmless() {
        let mut c = mg_sha256_ctx {
            state: [u32::MAX; 8],
            bits: u64::MAX - 7,
            len: u32::MAX,
            buffer: [0xff; 64],
        };
        mg_sha256_update(&mut c, b"xyz".as_ptr(), 3);
        let mut d = [0u8; 32];
        mg_sha256_final(d.as_mut_ptr(), &mut c);
        mg_sha256_update(null_mut(), b"x".as_ptr(), 1);
        mg_sha256_update(&mut c, core::ptr::null(), 5);
        mg_sha256_final(null_mut(), &mut c);
    }

    #[test]
    fn hmac_sha256_rfc4231() {
        let mut d = [0u8; 32];
        let mut key = [0x0bu8; 20];
        let mut data = *b"Hi There";
        mg_hmac_sha256(d.as_mut_ptr(), key.as_mut_ptr(), 20, data.as_mut_ptr(), 8);
        assert_eq!(
            hex(&d),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let mut key = *b"Jefe";
        let mut data = *b"what do ya want for nothing?";
        mg_hmac_sha256(d.as_mut_ptr(), key.as_mut_ptr(), 4, data.as_mut_ptr(), data.len());
        assert_eq!(
            hex(&d),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mut key = [0xaau8; 131];
        let mut data = *b"Test Using Larger Than Block-Size Key - Hash Key First";
        mg_hmac_sha256(d.as_mut_ptr(), key.as_mut_ptr(), 131, data.as_mut_ptr(), data.len());
        assert_eq!(
            hex(&d),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn base64_rfc4648_and_limits() {
        let mut buf = [0x55 as c_char; 16];
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let n = mg_base64_encode(i.as_ptr(), i.len(), buf.as_mut_ptr(), buf.len());
            assert_eq!(n, o.len());
            assert_eq!(
                unsafe { core::ffi::CStr::from_ptr(buf.as_ptr()) }.to_bytes(),
                o.as_bytes()
            );
            let mut back = [0 as c_char; 16];
            let k = mg_base64_decode(o.as_ptr().cast(), o.len(), back.as_mut_ptr(), back.len());
            assert_eq!(k, i.len());
            assert_eq!(
                unsafe { core::ffi::CStr::from_ptr(back.as_ptr()) }.to_bytes(),
                i.as_bytes()
            );
        }
        // "foobar" needs 9 bytes with its NUL.
        assert_eq!(mg_base64_encode(b"foobar".as_ptr(), 6, buf.as_mut_ptr(), 8), 0);
        assert_eq!(buf[0], 0);
        assert_eq!(mg_base64_encode(b"foobar".as_ptr(), 6, buf.as_mut_ptr(), 9), 8);
        assert_eq!(mg_base64_decode(c"Zm9v!".as_ptr(), 5, buf.as_mut_ptr(), 16), 0);
        assert_eq!(mg_base64_decode(c"Zm9vYmFy".as_ptr(), 8, buf.as_mut_ptr(), 6), 0);
        assert_eq!(mg_base64_decode(c"Zm9vYmFy".as_ptr(), 8, buf.as_mut_ptr(), 7), 6);
        assert_eq!(mg_base64_decode(c"Zm8".as_ptr(), 3, buf.as_mut_ptr(), 4), 2);
        assert_eq!(mg_base64_decode(core::ptr::null(), 4, buf.as_mut_ptr(), 16), 0);
        assert_eq!(mg_base64_encode(core::ptr::null(), 0, null_mut(), 0), 0);

        let mut s = [0 as c_char; 16];
        let mut n = 0;
        for &c in b"fooba" {
            n = mg_base64_update(c, s.as_mut_ptr(), n);
        }
        assert_eq!(mg_base64_final(s.as_mut_ptr(), n), 8);
        assert_eq!(unsafe { core::ffi::CStr::from_ptr(s.as_ptr()) }.to_bytes(), b"Zm9vYmE=");
        assert_eq!(mg_base64_update(b'x', null_mut(), 3), 3);
    }

    #[test]
    fn crc32_check() {
        assert_eq!(mg_crc32(0, c"123456789".as_ptr(), 9), 0xCBF4_3926);
        let first = mg_crc32(0, c"1234".as_ptr(), 4);
        assert_eq!(mg_crc32(first, c"56789".as_ptr(), 5), 0xCBF4_3926);
        assert_eq!(mg_crc32(7, core::ptr::null(), 3), 7);
    }
}
