//! The RSA operations of Mongoose's TLS 1.3 client and server (`mg_rsa_*`), with its size
//! limits: moduli of 2048 to 4096 bits, factors of 1024 to 2080 bits. Modular exponentiation
//! is crypto-bigint's constant-time Montgomery ladder (exponent length public); the CRT
//! recombination uses the schoolbook [`vli`] arithmetic.

use alloc::vec;
use alloc::vec::Vec;

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Limb, Uint, U1024, U2048, U4096};
use sha2::Digest;

use super::vli;
use zeroize::Zeroizing;

/// Largest modulus, bits (Mongoose's `BR_MAX_RSA_SIZE`).
pub const MAX_BITS: usize = 4096;
/// Largest CRT factor, bits (Mongoose's `BR_MAX_RSA_FACTOR`).
pub const MAX_FACTOR_BITS: usize = (MAX_BITS + 64) / 2;

/// `b` without its leading zero bytes.
pub fn trim(b: &[u8]) -> &[u8] {
    let z = b.iter().take_while(|&&x| x == 0).count();
    &b[z..]
}

fn load<const L: usize>(b: &[u8]) -> Option<Uint<L>> {
    let size = L * Limb::BYTES;
    if b.len() > size {
        return None;
    }
    let mut buf = Zeroizing::new(vec![0u8; size]);
    buf[size - b.len()..].copy_from_slice(b);
    Some(Uint::<L>::from_be_slice(&buf))
}

fn store<const L: usize>(v: &Uint<L>, out: &mut [u8]) {
    let words = v.as_words();
    let n = out.len();
    for (i, o) in out.iter_mut().enumerate() {
        let b = n - 1 - i;
        *o = words
            .get(b / Limb::BYTES)
            .map_or(0, |w| (w >> (8 * (b % Limb::BYTES))) as u8);
    }
}

fn pow_n<const L: usize>(m: &[u8], e: &[u8], x: &[u8], out: &mut [u8]) -> bool {
    let (Some(mu), Some(eu), Some(xu)) = (load::<L>(m), load::<L>(e), load::<L>(x)) else {
        return false;
    };
    // Montgomery form needs an odd modulus.
    if m.last().is_none_or(|b| b & 1 == 0) {
        return false;
    }
    let params = DynResidueParams::new(&mu);
    let r = DynResidue::new(&xu, params).pow_bounded_exp(&eu, e.len() * 8);
    store(&r.retrieve(), out);
    true
}

/// `out = x ^ e mod m` for an odd `m` and `x < m`, `out` as long as `m`; any sizes up to
/// 4096 bits (the callers check Mongoose's limits). False for an even modulus. Three widths
/// only (1024: CRT halves of 2048-bit keys; 2048; 4096): each width is a copy of the
/// Montgomery code in flash, and 3072-bit keys are rare.
fn pow(m: &[u8], e: &[u8], x: &[u8], out: &mut [u8]) -> bool {
    let bits = m.len() * 8;
    if bits <= 1024 {
        pow_n::<{ U1024::LIMBS }>(m, e, x, out)
    } else if bits <= 2048 {
        pow_n::<{ U2048::LIMBS }>(m, e, x, out)
    } else if bits <= MAX_BITS {
        pow_n::<{ U4096::LIMBS }>(m, e, x, out)
    } else {
        false
    }
}

/// Mongoose's `mg_rsa_mod_pow`: `out = msg ^ exp mod modulus`, all big-endian. After
/// leading zeros are trimmed from `modulus` and `exp`: the modulus must be odd and 256 to
/// 512 bytes, `exp` non-empty and no longer, `msg` and `out` exactly the modulus' length,
/// and `msg < modulus`. `out` is zeroed on failure.
pub fn mod_pow(modulus: &[u8], exp: &[u8], msg: &[u8], out: &mut [u8]) -> bool {
    out.fill(0);
    let m = trim(modulus);
    let e = trim(exp);
    if m.len() < 256 || m.len() > MAX_BITS / 8 || e.is_empty() || e.len() > m.len() {
        return false;
    }
    if out.len() != m.len() || msg.len() != m.len() || msg >= m {
        return false;
    }
    if !pow(m, e, msg, out) {
        out.fill(0);
        return false;
    }
    true
}

/// The inputs of [`crt_sign`], big-endian: the private key's CRT form (RFC 8017 3.2).
pub struct CrtKey<'a> {
    /// d mod (p - 1).
    pub dp: &'a [u8],
    /// d mod (q - 1).
    pub dq: &'a [u8],
    /// The first prime.
    pub p: &'a [u8],
    /// The second prime.
    pub q: &'a [u8],
    /// q^-1 mod p.
    pub qinv: &'a [u8],
}

/// Mongoose's `mg_rsa_crt_sign`: the RSA private-key operation on the encoded message `em`
/// (left-padded with zeros to `sig.len()`, which must be the byte length of n = p * q)
/// by the Chinese remainder theorem, checked by reducing the result mod p and mod q again.
/// Limits after trimming leading zeros: p and q of 128 to 260 bytes, dP, dQ and qInv
/// non-empty and no longer than their prime, em non-empty, no longer than `sig`, and below n.
/// `sig` is zeroed on failure.
pub fn crt_sign(em: &[u8], key: &CrtKey<'_>, sig: &mut [u8]) -> bool {
    let ok = crt_sign_inner(em, key, sig);
    if !ok {
        sig.fill(0);
    }
    ok
}

/// Zeroed words, wiped when dropped (the CRT's intermediates derive from the private key).
fn zw(n: usize) -> Zeroizing<Vec<vli::Word>> {
    Zeroizing::new(vec![0; n])
}

/// Zeroed bytes, wiped when dropped.
fn zb(n: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(vec![0u8; n])
}

fn words(b: &[u8], n: usize) -> Zeroizing<Vec<vli::Word>> {
    let mut v = zw(n);
    vli::from_bytes(&mut v, b);
    v
}

fn crt_sign_inner(em: &[u8], key: &CrtKey<'_>, sig: &mut [u8]) -> bool {
    sig.fill(0);
    let (p, q) = (trim(key.p), trim(key.q));
    let (dp, dq, qinv) = (trim(key.dp), trim(key.dq), trim(key.qinv));
    let max = MAX_FACTOR_BITS / 8;
    if p.len() < 128 || q.len() < 128 || p.len() > max || q.len() > max {
        return false;
    }
    if dp.is_empty()
        || dq.is_empty()
        || qinv.is_empty()
        || dp.len() > p.len()
        || dq.len() > q.len()
        || qinv.len() > p.len()
    {
        return false;
    }
    let xlen = sig.len();
    if xlen > MAX_BITS / 8 || em.is_empty() || em.len() > xlen {
        return false;
    }
    // Everything as words of a common width w, products of 2w.
    let w = xlen.div_ceil(vli::WORD_BYTES) + 1;
    let (pw, qw) = (words(p, w), words(q, w));
    let mut n = zw(2 * w);
    vli::mult(&mut n, &pw, &qw);
    if vli::num_bits(&n).div_ceil(8) != xlen {
        return false;
    }
    let mut x = zb(xlen);
    x[xlen - em.len()..].copy_from_slice(em);
    let xw = words(&x, 2 * w);
    if vli::cmp(&xw, &n) >= 0 {
        return false;
    }
    // s1 = (x mod p) ^ dP mod p, s2 = (x mod q) ^ dQ mod q
    let mut t = zw(w);
    let mut xp = zb(p.len());
    vli::mmod(&mut t, &xw, &pw);
    vli::to_bytes(&mut xp, &t);
    let mut xq = zb(q.len());
    vli::mmod(&mut t, &xw, &qw);
    vli::to_bytes(&mut xq, &t);
    let mut s1 = zb(p.len());
    let mut s2 = zb(q.len());
    if !pow(p, dp, &xp, &mut s1) || !pow(q, dq, &xq, &mut s2) {
        return false;
    }
    // h = qInv * (s1 - s2) mod p; s = s2 + q * h
    let (s1w, s2w) = (words(&s1, w), words(&s2, w));
    let mut s2p = zw(w);
    vli::mmod(&mut s2p, &s2w, &pw);
    let mut diff = zw(w);
    vli::mod_sub(&mut diff, &s1w, &s2p, &pw);
    let mut qi = zw(w);
    vli::mmod(&mut qi, &words(qinv, w), &pw);
    let mut h = zw(w);
    vli::mod_mult(&mut h, &qi, &diff, &pw);
    let mut qh = zw(2 * w);
    vli::mult(&mut qh, &qw, &h);
    let mut s = zw(2 * w);
    vli::add(&mut s, &qh, &words(&s2, 2 * w));
    // Fault check: s must reduce to s1 mod p and to s2 mod q.
    let mut c = zw(w);
    vli::mmod(&mut c, &s, &pw);
    let good_p = vli::equal(&c, &s1w);
    vli::mmod(&mut c, &s, &qw);
    let good_q = vli::equal(&c, &s2w);
    if !(good_p && good_q) || vli::cmp(&s, &n) >= 0 {
        return false;
    }
    vli::to_bytes(sig, &s);
    true
}

fn mgf1_sha256(seed: &[u8], mask: &mut [u8]) {
    for (counter, chunk) in mask.chunks_mut(32).enumerate() {
        let d = sha2::Sha256::new()
            .chain_update(seed)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        chunk.copy_from_slice(&d[..chunk.len()]);
    }
}

/// Mongoose's `mg_rsa_verify`: RSASSA-PSS verification with SHA-256, MGF1-SHA-256 and a
/// 32-byte salt (TLS 1.3's rsa_pss_rsae_sha256, RFC 8017 9.1.2) of `em`, the public-key
/// operation's output of `nlen` bytes (66 to 512), against the message hash `mhash`.
pub fn pss_verify_sha256(em: &[u8], mhash: &[u8; 32]) -> bool {
    let nlen = em.len();
    if !(66..=512).contains(&nlen) || em[nlen - 1] != 0xbc || em[0] & 0x80 != 0 {
        return false;
    }
    let db_len = nlen - 33;
    let hh = &em[db_len..nlen - 1];
    let mut db = vec![0u8; db_len];
    mgf1_sha256(hh, &mut db);
    db.iter_mut().zip(&em[..db_len]).for_each(|(d, e)| *d ^= e);
    db[0] &= 0x7f;
    let ps_len = db_len - 33;
    let mut bad = db[..ps_len].iter().fold(0u8, |a, b| a | b);
    bad |= db[ps_len] ^ 1;
    let salt = &db[db_len - 32..];
    let h2 = sha2::Sha256::new()
        .chain_update([0u8; 8])
        .chain_update(mhash)
        .chain_update(salt)
        .finalize();
    bad |= h2.iter().zip(hh).fold(0u8, |a, (x, y)| a | (x ^ y));
    bad == 0
}

/// Mongoose's `mg_rsa_pkcs_verify`: RSASSA-PKCS1-v1_5 verification (RFC 8017 9.2) of `em`
/// (the public-key operation's output) against a SHA-256 (32-byte) or SHA-384 (48-byte)
/// `hash`.
pub fn pkcs1_verify(em: &[u8], hash: &[u8]) -> bool {
    const SHA256_DI: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    const SHA384_DI: [u8; 19] = [
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
        0x30,
    ];
    let di: &[u8] = match hash.len() {
        32 => &SHA256_DI,
        48 => &SHA384_DI,
        _ => return false,
    };
    let nlen = em.len();
    if nlen < 3 + 8 + di.len() + hash.len() {
        return false;
    }
    let ps_len = nlen - 3 - di.len() - hash.len();
    let mut bad = em[0] | (em[1] ^ 1);
    bad |= em[2..2 + ps_len].iter().fold(0u8, |a, b| a | (b ^ 0xff));
    bad |= em[2 + ps_len];
    let tail = &em[3 + ps_len..];
    bad |= tail
        .iter()
        .zip(di.iter().chain(hash))
        .fold(0u8, |a, (x, y)| a | (x ^ y));
    bad == 0
}
