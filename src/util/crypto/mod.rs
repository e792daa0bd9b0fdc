//! The primitives of Mongoose's built-in TLS stack that firmware also calls directly, on
//! RustCrypto (feature `crypto`): micro-ecc's ECDSA/ECDH and big-integer helpers ([`ecc`],
//! [`vli`]), AES-GCM and ChaCha20-Poly1305 ([`aead`]), X25519 ([`x25519`]) and the RSA
//! operations of Mongoose's TLS 1.3 ([`rsa`]). The C names are in `ffi/crypto.rs`.
pub mod aead;
pub mod ecc;
pub mod rsa;
pub mod vli;
pub mod x25519;
