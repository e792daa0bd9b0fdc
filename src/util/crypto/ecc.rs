//! ECDSA and ECDH with micro-ecc's conventions (Mongoose's `mg_uecc_*`), on RustCrypto's
//! constant-time P-256 and P-384 (the two curves Mongoose 7.22 enables).
//!
//! Encodings are micro-ecc's with `MG_UECC_VLI_NATIVE_LITTLE_ENDIAN` 0: a private key is the
//! scalar's N big-endian bytes (N = 32 or 48), a public key X || Y (2N bytes, no 0x04
//! prefix), a signature r || s (2N bytes), a compressed key 0x02/0x03 || X, a shared secret
//! the X coordinate of the product. Every function checks what it is given (scalars in
//! 1..n-1, points on the curve) and reports failure instead of computing with bad input.

use alloc::vec;

use ecdsa::hazmat::{sign_prehashed, verify_prehashed};
use ecdsa::Signature;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::elliptic_curve::{Field, PrimeField};
use zeroize::Zeroize;

/// Tries at drawing a random scalar or an RFC 6979 `k` (micro-ecc's `MG_UECC_RNG_MAX_TRIES`).
pub const MAX_TRIES: usize = 64;

/// A curve: its size and its operations, as function pointers. [`Curve::P256`] and
/// [`Curve::P384`] (the two curves Mongoose 7.22 enables) are the only values; a program
/// links the arithmetic of the curves it names, no other (firmware that only uses P-256
/// does not carry P-384's 40 KB).
#[derive(Clone, Copy)]
pub struct Curve(&'static Ops);

/// `(private, k, hash, signature) -> ok`.
type SignFn = fn(&[u8], &[u8], &[u8], &mut [u8]) -> bool;

/// One curve's operations (see the functions of this module for what each does).
pub struct Ops {
    bytes: usize,
    valid_private: fn(&[u8]) -> bool,
    valid_public: fn(&[u8]) -> bool,
    public: fn(&[u8], &mut [u8]) -> bool,
    ecdh: fn(&[u8], &[u8], &mut [u8]) -> bool,
    sign_with_k: SignFn,
    verify: fn(&[u8], &[u8], &[u8]) -> bool,
    decompress: fn(&[u8], &mut [u8]) -> bool,
    mul: fn(&[u8], &[u8], &mut [u8]) -> bool,
    hash_octets: fn(&[u8], &mut [u8]),
    params: &'static Params,
}

impl Curve {
    /// NIST P-256 (secp256r1).
    pub const P256: Curve = Curve(&p256ops::OPS);
    /// NIST P-384 (secp384r1).
    pub const P384: Curve = Curve(&p384ops::OPS);

    /// Bytes of a coordinate, of a private key and of the order (equal on these curves).
    pub const fn bytes(self) -> usize {
        self.0.bytes
    }

    /// The curve's constants.
    pub const fn params(self) -> &'static Params {
        self.0.params
    }
}

impl PartialEq for Curve {
    fn eq(&self, other: &Curve) -> bool {
        core::ptr::eq(self.0, other.0)
    }
}

impl core::fmt::Debug for Curve {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "P-{}", self.0.bytes * 8)
    }
}

/// A hash function given at run time (micro-ecc's `MG_UECC_HashContext`): RFC 6979's HMAC is
/// built on it.
pub trait Hasher {
    /// Input block size in bytes (64 for SHA-256).
    fn block_size(&self) -> usize;
    /// Output size in bytes (32 for SHA-256).
    fn result_size(&self) -> usize;
    /// Start a hash.
    fn init(&self);
    /// Hash more bytes.
    fn update(&self, data: &[u8]);
    /// Write `result_size` bytes of digest to `out`.
    fn finish(&self, out: &mut [u8]);
}

/// Largest hash output and block [`Hasher`] may declare (SHA-512's).
pub const MAX_HASH: usize = 64;
/// See [`MAX_HASH`].
pub const MAX_BLOCK: usize = 128;

/// HMAC (RFC 2104) on `h` for a key no longer than the block.
fn hmac(h: &dyn Hasher, key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
    let bs = h.block_size();
    let rs = h.result_size();
    let mut pad = [0u8; MAX_BLOCK];
    pad[..key.len()].copy_from_slice(key);
    pad[..bs].iter_mut().for_each(|b| *b ^= 0x36);
    let mut inner = [0u8; MAX_HASH];
    h.init();
    h.update(&pad[..bs]);
    for p in parts {
        h.update(p);
    }
    h.finish(&mut inner[..rs]);
    pad[..bs].iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
    h.init();
    h.update(&pad[..bs]);
    h.update(&inner[..rs]);
    h.finish(&mut out[..rs]);
    pad.zeroize();
    inner.zeroize();
}

/// micro-ecc's bits2int for byte-sized orders: the hash's leftmost N bytes, or the hash
/// left-padded with zeros when shorter.
fn bits2field(hash: &[u8], out: &mut [u8]) {
    let n = out.len();
    out.fill(0);
    if hash.len() >= n {
        out.copy_from_slice(&hash[..n]);
    } else {
        out[n - hash.len()..].copy_from_slice(hash);
    }
}

macro_rules! curve_ops {
    ($m:ident, $krate:ident, $C:ty, $N:expr, $params:expr) => {
        mod $m {
            use super::*;
            use $krate::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar};

            pub const N: usize = $N;

            pub static OPS: Ops = Ops {
                bytes: N,
                valid_private: |b| scalar(b).is_some(),
                valid_public: |b| point(b).is_some(),
                public,
                ecdh,
                sign_with_k,
                verify,
                decompress,
                mul,
                hash_octets,
                params: &$params,
            };

            pub fn scalar(b: &[u8]) -> Option<Scalar> {
                if b.len() != N {
                    return None;
                }
                let s: Option<Scalar> = Scalar::from_repr(FieldBytes::clone_from_slice(b)).into();
                s.filter(|s| !bool::from(s.is_zero()))
            }

            pub fn point(xy: &[u8]) -> Option<AffinePoint> {
                if xy.len() != 2 * N {
                    return None;
                }
                let ep = EncodedPoint::from_affine_coordinates(
                    FieldBytes::from_slice(&xy[..N]),
                    FieldBytes::from_slice(&xy[N..]),
                    false,
                );
                AffinePoint::from_encoded_point(&ep).into()
            }

            /// X || Y of a point; false for the identity.
            pub fn write_point(p: &ProjectivePoint, out: &mut [u8]) -> bool {
                let ep = p.to_affine().to_encoded_point(false);
                match (ep.x(), ep.y()) {
                    (Some(x), Some(y)) => {
                        out[..N].copy_from_slice(x);
                        out[N..2 * N].copy_from_slice(y);
                        true
                    }
                    _ => false,
                }
            }

            pub fn public(private: &[u8], out: &mut [u8]) -> bool {
                match scalar(private) {
                    Some(d) => write_point(&(ProjectivePoint::GENERATOR * d), out),
                    None => false,
                }
            }

            pub fn ecdh(public: &[u8], private: &[u8], out: &mut [u8]) -> bool {
                let (Some(q), Some(d)) = (point(public), scalar(private)) else {
                    return false;
                };
                let mut xy = [0u8; 2 * N];
                if !write_point(&(ProjectivePoint::from(q) * d), &mut xy) {
                    return false;
                }
                out[..N].copy_from_slice(&xy[..N]);
                true
            }

            pub fn sign_with_k(private: &[u8], k: &[u8], hash: &[u8], out: &mut [u8]) -> bool {
                let (Some(d), Some(k)) = (scalar(private), scalar(k)) else {
                    return false;
                };
                let mut z = FieldBytes::default();
                bits2field(hash, &mut z);
                match sign_prehashed::<$C, Scalar>(&d, k, &z) {
                    Ok((sig, _)) => {
                        out[..2 * N].copy_from_slice(&sig.to_bytes());
                        true
                    }
                    Err(_) => false,
                }
            }

            pub fn verify(public: &[u8], hash: &[u8], sig: &[u8]) -> bool {
                let Some(q) = point(public) else {
                    return false;
                };
                let Ok(sig) = Signature::<$C>::from_slice(sig) else {
                    return false;
                };
                let mut z = FieldBytes::default();
                bits2field(hash, &mut z);
                verify_prehashed::<$C>(&ProjectivePoint::from(q), &z, &sig).is_ok()
            }

            pub fn decompress(c: &[u8], out: &mut [u8]) -> bool {
                // Only SEC1's compressed form (0x02/0x03), not the 0x05 "compact" one.
                if c.len() != N + 1 || !matches!(c[0], 2 | 3) {
                    return false;
                }
                let Ok(ep) = EncodedPoint::from_bytes(c) else {
                    return false;
                };
                let p: Option<AffinePoint> = AffinePoint::from_encoded_point(&ep).into();
                match p {
                    Some(p) => write_point(&ProjectivePoint::from(p), out),
                    None => false,
                }
            }

            /// scalar (any N bytes, reduced mod n) times a point; false when the point is
            /// not on the curve or the product is the identity.
            pub fn mul(xy: &[u8], k: &[u8], out: &mut [u8]) -> bool {
                let Some(p) = point(xy) else {
                    return false;
                };
                let k = <Scalar as Reduce<_>>::reduce_bytes(FieldBytes::from_slice(k));
                write_point(&(ProjectivePoint::from(p) * k), out)
            }

            /// The hash as a scalar's bytes, reduced mod n (RFC 6979's bits2octets).
            pub fn hash_octets(hash: &[u8], out: &mut [u8]) {
                let mut z = FieldBytes::default();
                bits2field(hash, &mut z);
                let s = <Scalar as Reduce<_>>::reduce_bytes(&z);
                out[..N].copy_from_slice(&s.to_repr());
            }
        }
    };
}

curve_ops!(p256ops, p256, p256::NistP256, 32, P256);
curve_ops!(p384ops, p384, p384::NistP384, 48, P384);

/// Whether `private` (N bytes) is a valid private key: 1 <= d < n.
pub fn valid_private(curve: Curve, private: &[u8]) -> bool {
    (curve.0.valid_private)(private)
}

/// Whether `public` (X || Y) is a point of the curve (not the identity, coordinates < p).
pub fn valid_public(curve: Curve, public: &[u8]) -> bool {
    (curve.0.valid_public)(public)
}

/// A random private key from `rng` (which fills a buffer, or says it cannot): N bytes in
/// 1..n-1, by rejection, at most [`MAX_TRIES`] draws.
pub fn random_scalar(curve: Curve, rng: &mut dyn FnMut(&mut [u8]) -> bool, out: &mut [u8]) -> bool {
    for _ in 0..MAX_TRIES {
        if !rng(&mut out[..curve.bytes()]) {
            return false;
        }
        if valid_private(curve, &out[..curve.bytes()]) {
            return true;
        }
    }
    false
}

/// `public = private * G`; false for an invalid private key.
pub fn compute_public(curve: Curve, private: &[u8], public: &mut [u8]) -> bool {
    (curve.0.public)(private, public)
}

/// A new key pair from `rng`.
pub fn make_key(curve: Curve, rng: &mut dyn FnMut(&mut [u8]) -> bool, public: &mut [u8], private: &mut [u8]) -> bool {
    random_scalar(curve, rng, private) && compute_public(curve, private, public)
}

/// ECDH: the X coordinate of `private * public`; false for an invalid key of either kind.
pub fn shared_secret(curve: Curve, public: &[u8], private: &[u8], secret: &mut [u8]) -> bool {
    (curve.0.ecdh)(public, private, secret)
}

/// `compressed = 0x02 | (Y & 1), X` (no validation, as micro-ecc).
pub fn compress(curve: Curve, public: &[u8], compressed: &mut [u8]) {
    let n = curve.bytes();
    compressed[0] = 2 + (public[2 * n - 1] & 1);
    compressed[1..=n].copy_from_slice(&public[..n]);
}

/// X || Y from a compressed key; false when it is not a point of the curve.
pub fn decompress(curve: Curve, compressed: &[u8], public: &mut [u8]) -> bool {
    (curve.0.decompress)(compressed, public)
}

/// ECDSA signature r || s of `hash` with a random `k` from `rng`.
pub fn sign(curve: Curve, private: &[u8], hash: &[u8], rng: &mut dyn FnMut(&mut [u8]) -> bool, sig: &mut [u8]) -> bool {
    if !valid_private(curve, private) {
        return false;
    }
    let mut k = zeroize::Zeroizing::new([0u8; 48]);
    for _ in 0..MAX_TRIES {
        if !random_scalar(curve, rng, &mut k[..]) {
            return false;
        }
        if (curve.0.sign_with_k)(private, &k[..curve.bytes()], hash, sig) {
            return true;
        }
    }
    false
}

/// ECDSA signature with RFC 6979's deterministic `k`, its HMAC-DRBG run on `h`.
pub fn sign_deterministic(curve: Curve, private: &[u8], hash: &[u8], h: &dyn Hasher, sig: &mut [u8]) -> bool {
    let n = curve.bytes();
    let rs = h.result_size();
    if !valid_private(curve, private) || rs == 0 || rs > MAX_HASH || h.block_size() < rs || h.block_size() > MAX_BLOCK {
        return false;
    }
    let mut h1 = [0u8; 48];
    (curve.0.hash_octets)(hash, &mut h1);
    let h1 = &h1[..n];
    // K, V and the candidates derive from the private key: wiped on every return.
    let mut k = zeroize::Zeroizing::new([0u8; MAX_HASH]);
    let mut v = zeroize::Zeroizing::new([1u8; MAX_HASH]);
    let mut t = zeroize::Zeroizing::new([0u8; MAX_HASH]);
    k[..rs].fill(0);
    for sep in [0u8, 1] {
        hmac(h, &k[..rs], &[&v[..rs], &[sep], private, h1], &mut t[..]);
        k[..rs].copy_from_slice(&t[..rs]);
        hmac(h, &k[..rs], &[&v[..rs]], &mut t[..]);
        v[..rs].copy_from_slice(&t[..rs]);
    }
    let mut cand = zeroize::Zeroizing::new(vec![0u8; n]);
    for _ in 0..MAX_TRIES {
        let mut got = 0;
        while got < n {
            hmac(h, &k[..rs], &[&v[..rs]], &mut t[..]);
            v[..rs].copy_from_slice(&t[..rs]);
            let take = rs.min(n - got);
            cand[got..got + take].copy_from_slice(&v[..take]);
            got += take;
        }
        if (curve.0.sign_with_k)(private, &cand, hash, sig) {
            return true;
        }
        hmac(h, &k[..rs], &[&v[..rs], &[0]], &mut t[..]);
        k[..rs].copy_from_slice(&t[..rs]);
        hmac(h, &k[..rs], &[&v[..rs]], &mut t[..]);
        v[..rs].copy_from_slice(&t[..rs]);
    }
    false
}

/// Whether `sig` (r || s) is a valid ECDSA signature of `hash` by `public`.
pub fn verify(curve: Curve, public: &[u8], hash: &[u8], sig: &[u8]) -> bool {
    (curve.0.verify)(public, hash, sig)
}

/// `out = k * point` (X || Y each); `k` is N bytes, reduced mod n. False when the point is
/// not on the curve or the product is the identity.
pub fn point_mult(curve: Curve, point: &[u8], k: &[u8], out: &mut [u8]) -> bool {
    (curve.0.mul)(point, k, out)
}

/// The curves' constants (big-endian): p, n, b, G (X || Y).
pub struct Params {
    /// Field prime.
    pub p: &'static [u8],
    /// Group order.
    pub n: &'static [u8],
    /// Curve coefficient b (a = -3).
    pub b: &'static [u8],
    /// Generator, X || Y.
    pub g: &'static [u8],
}

/// P-256's constants (FIPS 186-4 D.1.2.3).
pub const P256: Params = Params {
    p: &hex32(b"ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
    n: &hex32(b"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
    b: &hex32(b"5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
    g: &hex64(b"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
};

/// P-384's constants (FIPS 186-4 D.1.2.4).
pub const P384: Params = Params {
    p: &hex48(b"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
    n: &hex48(b"ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
    b: &hex48(b"b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"),
    g: &hex96(b"aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"),
};

const fn nib(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("hex"),
    }
}
const fn hexn<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nib(s[2 * i]) << 4 | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}
const fn hex32(s: &[u8]) -> [u8; 32] {
    hexn::<32>(s)
}
const fn hex48(s: &[u8]) -> [u8; 48] {
    hexn::<48>(s)
}
const fn hex64(s: &[u8]) -> [u8; 64] {
    hexn::<64>(s)
}
const fn hex96(s: &[u8]) -> [u8; 96] {
    hexn::<96>(s)
}

/// The 32-byte P-256 private scalar of `key`: an `EC PRIVATE KEY` (SEC 1) or `PRIVATE KEY`
/// (PKCS #8) in PEM, or either in DER (Mongoose's `mg_uecc_parse_private_key`). `None` for
/// anything else: another curve, a malformed or encrypted key, a scalar outside 1..n-1.
pub fn parse_p256_private_key(key: &[u8]) -> Option<zeroize::Zeroizing<[u8; 32]>> {
    use base64::Engine;
    use p256::pkcs8::DecodePrivateKey;
    let pem_body = |label: &[u8]| -> Option<zeroize::Zeroizing<alloc::vec::Vec<u8>>> {
        let begin = [b"-----BEGIN ".as_slice(), label, b"-----"].concat();
        let end = [b"-----END ".as_slice(), label, b"-----"].concat();
        let start = key.windows(begin.len()).position(|w| w == begin.as_slice())? + begin.len();
        let stop = start + key[start..].windows(end.len()).position(|w| w == end.as_slice())?;
        let text: zeroize::Zeroizing<alloc::vec::Vec<u8>> = zeroize::Zeroizing::new(
            key[start..stop]
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect(),
        );
        let mut der = zeroize::Zeroizing::new(alloc::vec![0u8; text.len() / 4 * 3 + 3]);
        let n = base64::engine::general_purpose::STANDARD
            .decode_slice(&*text, &mut der)
            .ok()?;
        der.truncate(n);
        Some(der)
    };
    let sk = if let Some(der) = pem_body(b"EC PRIVATE KEY") {
        p256::SecretKey::from_sec1_der(&der).ok()?
    } else if let Some(der) = pem_body(b"PRIVATE KEY") {
        p256::SecretKey::from_pkcs8_der(&der).ok()?
    } else if key.first() == Some(&0x30) {
        p256::SecretKey::from_sec1_der(key)
            .or_else(|_| p256::SecretKey::from_pkcs8_der(key))
            .ok()?
    } else {
        return None;
    };
    Some(zeroize::Zeroizing::new(sk.to_bytes().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::crypto::vli;
    use alloc::vec::Vec;

    /// The constants agree with the crates' generators, and G satisfies y^2 = x^3 - 3x + b
    /// mod p with the vli arithmetic (which checks p, b and G together).
    #[test]
    fn curve_constants() {
        for (curve, params) in [(Curve::P256, &P256), (Curve::P384, &P384)] {
            let n = curve.bytes();
            let mut one = vec![0u8; n];
            one[n - 1] = 1;
            let mut g = vec![0u8; 2 * n];
            assert!(compute_public(curve, &one, &mut g));
            assert_eq!(g, params.g);
            let p = vli::words_from_be(params.p);
            let x = vli::words_from_be(&params.g[..n]);
            let y = vli::words_from_be(&params.g[n..]);
            let b = vli::words_from_be(params.b);
            let w = p.len();
            let (mut y2, mut x2, mut x3, mut t, mut three_x) =
                (vec![0; w], vec![0; w], vec![0; w], vec![0; w], vec![0; w]);
            vli::mod_mult(&mut y2, &y, &y, &p);
            vli::mod_mult(&mut x2, &x, &x, &p);
            vli::mod_mult(&mut x3, &x2, &x, &p);
            vli::mod_add(&mut t, &x, &x, &p);
            vli::mod_add(&mut three_x, &t, &x, &p);
            vli::mod_sub(&mut t, &x3, &three_x, &p);
            let mut rhs = vec![0; w];
            vli::mod_add(&mut rhs, &t, &b, &p);
            assert_eq!(y2, rhs);
            // n - 1 is a valid private key, n is not.
            let mut nm1: Vec<u8> = params.n.to_vec();
            assert!(!valid_private(curve, &nm1));
            nm1[n - 1] -= 1;
            assert!(valid_private(curve, &nm1));
        }
    }
}
