//! Multi-word unsigned integers as micro-ecc (Mongoose's `mg_uecc_vli_*`) lays them out: an
//! array of native words, least significant word first. Schoolbook arithmetic on slices;
//! nothing here is constant-time except what says so (the ECC operations themselves run on
//! RustCrypto's constant-time field arithmetic, in [`super::ecc`]).
//!
//! Every function takes its result as a separate `&mut` slice: the C adapters copy their
//! inputs first, so C callers may pass overlapping buffers as micro-ecc allows.

/// A micro-ecc word: 64 bits where Mongoose's `MG_UECC_WORD_SIZE` is 8 (x86-64, AArch64),
/// 32 bits elsewhere.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub type Word = u64;
/// A micro-ecc word: 64 bits where Mongoose's `MG_UECC_WORD_SIZE` is 8 (x86-64, AArch64),
/// 32 bits elsewhere.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub type Word = u32;

/// Bits per [`Word`].
pub const WORD_BITS: usize = Word::BITS as usize;
/// Bytes per [`Word`].
pub const WORD_BYTES: usize = WORD_BITS / 8;

use alloc::vec;
use alloc::vec::Vec;

/// Sets every word to zero.
pub fn clear(v: &mut [Word]) {
    v.fill(0);
}

/// Whether `v` is zero (every word read).
pub fn is_zero(v: &[Word]) -> bool {
    v.iter().fold(0, |acc, w| acc | w) == 0
}

/// Whether bit `bit` (0 = least significant) is set; bits past the end are clear.
pub fn test_bit(v: &[Word], bit: usize) -> bool {
    v.get(bit / WORD_BITS).is_some_and(|w| w >> (bit % WORD_BITS) & 1 == 1)
}

/// The number of significant bits (0 for zero).
pub fn num_bits(v: &[Word]) -> usize {
    match v.iter().rposition(|&w| w != 0) {
        Some(i) => i * WORD_BITS + (WORD_BITS - v[i].leading_zeros() as usize),
        None => 0,
    }
}

/// Whether `a == b` (every word read).
pub fn equal(a: &[Word], b: &[Word]) -> bool {
    a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The sign of `a - b`: -1, 0 or 1 (every word read, no allocation: it runs once per bit in
/// [`mmod`]).
pub fn cmp(a: &[Word], b: &[Word]) -> i8 {
    let mut r = 0;
    for (x, y) in a.iter().zip(b).rev() {
        if r == 0 {
            r = match x.cmp(y) {
                core::cmp::Ordering::Greater => 1,
                core::cmp::Ordering::Less => -1,
                core::cmp::Ordering::Equal => 0,
            };
        }
    }
    r
}

/// `v >>= 1`.
pub fn rshift1(v: &mut [Word]) {
    let mut carry = 0;
    for w in v.iter_mut().rev() {
        let t = *w;
        *w = (t >> 1) | carry;
        carry = t << (WORD_BITS - 1);
    }
}

/// `r = a + b` over `r.len()` words; returns the carry (0 or 1).
pub fn add(r: &mut [Word], a: &[Word], b: &[Word]) -> Word {
    let mut carry = false;
    for (i, o) in r.iter_mut().enumerate() {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(Word::from(carry));
        *o = s2;
        carry = c1 | c2;
    }
    Word::from(carry)
}

/// `r = a - b` over `r.len()` words; returns the borrow (0 or 1).
pub fn sub(r: &mut [Word], a: &[Word], b: &[Word]) -> Word {
    let mut borrow = false;
    for (i, o) in r.iter_mut().enumerate() {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(Word::from(borrow));
        *o = d2;
        borrow = b1 | b2;
    }
    Word::from(borrow)
}

/// `r = a * b`; `r` has `2 * a.len()` words (schoolbook).
pub fn mult(r: &mut [Word], a: &[Word], b: &[Word]) {
    type D = DWord;
    let n = a.len();
    r[..2 * n].fill(0);
    for i in 0..n {
        let mut carry: D = 0;
        for j in 0..n {
            let t = D::from(a[i]) * D::from(b[j]) + D::from(r[i + j]) + carry;
            r[i + j] = t as Word;
            carry = t >> WORD_BITS;
        }
        r[i + n] = carry as Word;
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
type DWord = u128;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
type DWord = u64;

/// `r = (a + b) mod m`, for `a, b < m`.
pub fn mod_add(r: &mut [Word], a: &[Word], b: &[Word], m: &[Word]) {
    let carry = add(r, a, b);
    let t = r.to_vec();
    if carry != 0 || cmp(&t, m) >= 0 {
        sub(r, &t, m);
    }
}

/// `r = (a - b) mod m`, for `a, b < m`.
pub fn mod_sub(r: &mut [Word], a: &[Word], b: &[Word], m: &[Word]) {
    if sub(r, a, b) != 0 {
        let t = r.to_vec();
        add(r, &t, m);
    }
}

/// `r = x mod m` for any length of `x` (`r` has `m.len()` words); zero when `m` is zero.
/// Shift-and-subtract long division, one bit at a time.
pub fn mmod(r: &mut [Word], x: &[Word], m: &[Word]) {
    let n = m.len();
    r[..n].fill(0);
    if is_zero(m) {
        return;
    }
    // The remainder needs one word more than m while it is doubled.
    let mut rem = vec![0; n + 1];
    let mut mm = m.to_vec();
    mm.push(0);
    let mut t = vec![0; n + 1];
    for bit in (0..x.len() * WORD_BITS).rev() {
        let mut carry = Word::from(test_bit(x, bit));
        for w in rem.iter_mut() {
            let top = *w >> (WORD_BITS - 1);
            *w = (*w << 1) | carry;
            carry = top;
        }
        if cmp(&rem, &mm) >= 0 {
            sub(&mut t, &rem, &mm);
            rem.copy_from_slice(&t);
        }
    }
    r[..n].copy_from_slice(&rem[..n]);
}

/// `r = a * b mod m`.
pub fn mod_mult(r: &mut [Word], a: &[Word], b: &[Word], m: &[Word]) {
    let mut p = vec![0; 2 * a.len()];
    mult(&mut p, a, b);
    mmod(r, &p, m);
}

/// `x / 2 mod m` for odd `m` and `x < m`.
fn half_mod(x: &mut [Word], m: &[Word]) {
    let odd = x[0] & 1 == 1;
    let mut carry = 0;
    if odd {
        let t = x.to_vec();
        carry = add(x, &t, m);
    }
    rshift1(x);
    if carry != 0 {
        let top = x.len() - 1;
        x[top] |= 1 << (WORD_BITS - 1);
    }
}

/// `r = 1 / a mod m` (binary extended Euclid). Needs an odd `m` (micro-ecc uses it for the
/// curve's p and n); `r` is zero when `a mod m` is zero or `m` is even. When `a` and `m` are
/// not coprime the result is not an inverse (`r * a = gcd mod m`), as in micro-ecc.
pub fn mod_inv(r: &mut [Word], a: &[Word], m: &[Word]) {
    let n = m.len();
    r[..n].fill(0);
    if m.first().is_none_or(|w| w & 1 == 0) {
        return;
    }
    let mut a1 = vec![0; n];
    mmod(&mut a1, a, m);
    if is_zero(&a1) {
        return;
    }
    let mut b1 = m.to_vec();
    let mut u = vec![0; n];
    u[0] = 1;
    let mut v = vec![0; n];
    let mut t = vec![0; n];
    loop {
        match cmp(&a1, &b1) {
            0 => break,
            c => {
                if a1[0] & 1 == 0 {
                    rshift1(&mut a1);
                    half_mod(&mut u, m);
                } else if b1[0] & 1 == 0 {
                    rshift1(&mut b1);
                    half_mod(&mut v, m);
                } else if c > 0 {
                    sub(&mut t, &a1, &b1);
                    a1.copy_from_slice(&t);
                    rshift1(&mut a1);
                    mod_sub(&mut t, &u, &v, m);
                    u.copy_from_slice(&t);
                    half_mod(&mut u, m);
                } else {
                    sub(&mut t, &b1, &a1);
                    b1.copy_from_slice(&t);
                    rshift1(&mut b1);
                    mod_sub(&mut t, &v, &u, m);
                    v.copy_from_slice(&t);
                    half_mod(&mut v, m);
                }
            }
        }
    }
    r[..n].copy_from_slice(&u);
}

/// `r = a ^ e mod m` (square and multiply, most significant bit first).
pub fn mod_pow(r: &mut [Word], a: &[Word], e: &[Word], m: &[Word]) {
    let n = m.len();
    let mut acc = vec![0; n];
    acc[0] = 1;
    let mut base = vec![0; n];
    mmod(&mut base, a, m);
    let mut t = vec![0; n];
    for bit in (0..num_bits(e)).rev() {
        mod_mult(&mut t, &acc, &acc, m);
        acc.copy_from_slice(&t);
        if test_bit(e, bit) {
            mod_mult(&mut t, &acc, &base, m);
            acc.copy_from_slice(&t);
        }
    }
    let one_mod = {
        let mut x = vec![0; n];
        mmod(&mut x, &acc, m);
        x
    };
    r[..n].copy_from_slice(&one_mod);
}

/// `a = sqrt(a) mod p` for a prime `p = 3 mod 4` (P-256, P-384): `a ^ ((p + 1) / 4)`.
pub fn mod_sqrt(a: &mut [Word], p: &[Word]) {
    let n = p.len();
    let mut one = vec![0; n];
    one[0] = 1;
    let mut e = vec![0; n + 1];
    let mut pp = p.to_vec();
    pp.push(0);
    one.push(0);
    add(&mut e, &pp, &one);
    rshift1(&mut e);
    rshift1(&mut e);
    let x = a.to_vec();
    mod_pow(a, &x, &e, p);
}

/// Big-endian bytes (`bytes.len()` of them) from the low bytes of `v`.
pub fn to_bytes(bytes: &mut [u8], v: &[Word]) {
    let n = bytes.len();
    for (i, o) in bytes.iter_mut().enumerate() {
        let b = n - 1 - i;
        *o = v.get(b / WORD_BYTES).map_or(0, |w| (w >> (8 * (b % WORD_BYTES))) as u8);
    }
}

/// `v` from big-endian bytes: the words `bytes` covers are cleared first, as in micro-ecc.
pub fn from_bytes(v: &mut [Word], bytes: &[u8]) {
    let n = bytes.len();
    let words = n.div_ceil(WORD_BYTES).min(v.len());
    v[..words].fill(0);
    for (i, &byte) in bytes.iter().enumerate() {
        let b = n - 1 - i;
        if let Some(w) = v.get_mut(b / WORD_BYTES) {
            *w |= Word::from(byte) << (8 * (b % WORD_BYTES));
        }
    }
}

/// Words from big-endian bytes (`words * WORD_BYTES == bytes.len()`), at compile time: the
/// curve constants.
pub const fn const_words<const W: usize>(bytes: &[u8]) -> [Word; W] {
    let mut out = [0; W];
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = n - 1 - i;
        out[b / WORD_BYTES] |= (bytes[i] as Word) << (8 * (b % WORD_BYTES));
        i += 1;
    }
    out
}

/// Owned words from big-endian bytes.
pub fn words_from_be(bytes: &[u8]) -> Vec<Word> {
    let mut v = vec![0; bytes.len().div_ceil(WORD_BYTES)];
    from_bytes(&mut v, bytes);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(hex: &str) -> Vec<Word> {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        words_from_be(&bytes)
    }

    #[test]
    fn add_sub_carry_and_borrow() {
        let a = w("ffffffffffffffffffffffffffffffff");
        let one = w("00000000000000000000000000000001");
        let mut r = vec![0; a.len()];
        assert_eq!(add(&mut r, &a, &one), 1);
        assert!(is_zero(&r));
        assert_eq!(sub(&mut r, &one, &a), 1);
        assert_eq!(r, w("00000000000000000000000000000002"));
        assert_eq!(cmp(&a, &one), 1);
        assert_eq!(cmp(&one, &a), -1);
        assert_eq!(cmp(&a, &a), 0);
    }

    #[test]
    fn mult_mod_and_inverse_known_answers() {
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1
        let a = w("ffffffffffffffffffffffffffffffff");
        let mut p = vec![0; 2 * a.len()];
        mult(&mut p, &a, &a);
        assert_eq!(p, w("fffffffffffffffffffffffffffffffe00000000000000000000000000000001"));
        // 2^128 mod (2^127 - 1) = 2
        let m = w("7fffffffffffffffffffffffffffffff");
        let mut r = vec![0; m.len()];
        mmod(
            &mut r,
            &w("0000000000000000000000000000000100000000000000000000000000000000"),
            &m,
        );
        assert_eq!(r, w("00000000000000000000000000000002"));
        // 3 * 3^-1 = 1 mod 2^127 - 1
        let three = w("00000000000000000000000000000003");
        mod_inv(&mut r, &three, &m);
        let mut one = vec![0; m.len()];
        mod_mult(&mut one, &r, &three, &m);
        assert_eq!(one, w("00000000000000000000000000000001"));
        assert_eq!(r, w("55555555555555555555555555555555"));
        assert_eq!(num_bits(&m), 127);
        assert!(test_bit(&m, 126) && !test_bit(&m, 127));
    }

    #[test]
    fn bytes_round_trip_big_endian() {
        let v = w("0102030405060708090a0b0c0d0e0f10");
        let mut b = [0u8; 16];
        to_bytes(&mut b, &v);
        assert_eq!(b[0], 1);
        assert_eq!(b[15], 0x10);
        assert_eq!(v[0] & 0xff, 0x10);
    }

    /// Words of a u64 (one word, or two on 32-bit targets).
    fn w64(x: u64) -> Vec<Word> {
        words_from_be(&x.to_be_bytes())
    }
    fn to64(v: &[Word]) -> u64 {
        let mut b = [0u8; 8];
        to_bytes(&mut b, v);
        u64::from_be_bytes(b)
    }

    proptest::proptest! {
        /// Against u128 arithmetic: add/sub with carry, mult, cmp, num_bits, rshift1, and the
        /// modular operations with an odd modulus.
        #[test]
        fn agrees_with_u128(a: u64, b: u64, m in 3u64..) {
            let m = m | 1;
            let (aw, bw, mw) = (w64(a), w64(b), w64(m));
            let n = aw.len();
            let mut r = vec![0; n];
            let carry = add(&mut r, &aw, &bw);
            let (s, c) = a.overflowing_add(b);
            proptest::prop_assert_eq!((to64(&r), carry == 1), (s, c));
            let borrow = sub(&mut r, &aw, &bw);
            let (d, bo) = a.overflowing_sub(b);
            proptest::prop_assert_eq!((to64(&r), borrow == 1), (d, bo));
            let mut p = vec![0; 2 * n];
            mult(&mut p, &aw, &bw);
            let full = u128::from(a) * u128::from(b);
            let mut pb = [0u8; 16];
            to_bytes(&mut pb, &p);
            proptest::prop_assert_eq!(u128::from_be_bytes(pb), full);
            proptest::prop_assert_eq!(cmp(&aw, &bw), a.cmp(&b) as i8);
            proptest::prop_assert_eq!(num_bits(&aw), 64 - a.leading_zeros() as usize);
            let mut sh = aw.clone();
            rshift1(&mut sh);
            proptest::prop_assert_eq!(to64(&sh), a >> 1);
            // mod
            let mut x = vec![0; n];
            mmod(&mut x, &p, &mw);
            proptest::prop_assert_eq!(u128::from(to64(&x)), full % u128::from(m));
            let (ar, br) = (a % m, b % m);
            let (arw, brw) = (w64(ar), w64(br));
            mod_add(&mut x, &arw, &brw, &mw);
            proptest::prop_assert_eq!(u128::from(to64(&x)), (u128::from(ar) + u128::from(br)) % u128::from(m));
            mod_sub(&mut x, &arw, &brw, &mw);
            proptest::prop_assert_eq!(u128::from(to64(&x)), (u128::from(ar) + u128::from(m) - u128::from(br)) % u128::from(m));
            mod_mult(&mut x, &aw, &bw, &mw);
            proptest::prop_assert_eq!(u128::from(to64(&x)), full % u128::from(m));
            mod_inv(&mut x, &aw, &mw);
            let inv = u128::from(to64(&x));
            let g = gcd(ar, m);
            if ar == 0 {
                proptest::prop_assert_eq!(inv, 0);
            } else {
                proptest::prop_assert!(inv < u128::from(m));
                proptest::prop_assert_eq!(inv * u128::from(ar) % u128::from(m), u128::from(g) % u128::from(m));
            }
        }
    }

    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
}
