//! X25519 (RFC 7748) as Mongoose's `mg_tls_x25519`: with or without clamping the scalar.

use curve25519_dalek::montgomery::MontgomeryPoint;

/// The u-coordinate of `scalar * u`, and whether it is acceptable. With `clamp`, the scalar
/// is clamped as RFC 7748 says and an all-zero result (from a low-order input point) is not
/// acceptable; without, all 256 bits of the scalar are used as given and any result is.
pub fn x25519(scalar: &[u8; 32], u: &[u8; 32], clamp: bool) -> ([u8; 32], bool) {
    let p = MontgomeryPoint(*u);
    let out = if clamp {
        p.mul_clamped(*scalar)
    } else {
        p.mul_bits_be((0..256).rev().map(|i| scalar[i / 8] >> (i % 8) & 1 == 1))
    };
    let zero = out.0.iter().fold(0, |acc, b| acc | b) == 0;
    (out.0, !(clamp && zero))
}
