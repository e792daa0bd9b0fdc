//! AES-GCM (NIST SP 800-38D) with any IV and tag length, as Mongoose's `mg_aes_gcm_*`
//! accept, built from the `aes` block cipher and `ghash`; ChaCha20-Poly1305 (RFC 8439) from
//! the `chacha20poly1305` crate. Decryption checks the tag before it writes anything.

use aes::cipher::{BlockEncrypt, KeyInit};
use chacha20poly1305::aead::AeadInPlace;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

type Block = aes::Block;

enum Aes {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Option<Aes> {
        match key.len() {
            16 => aes::Aes128::new_from_slice(key).ok().map(Aes::A128),
            24 => aes::Aes192::new_from_slice(key).ok().map(Aes::A192),
            32 => aes::Aes256::new_from_slice(key).ok().map(Aes::A256),
            _ => None,
        }
    }
    fn encrypt(&self, b: &mut Block) {
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A192(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }
}

/// GCM state for one message: the cipher, the hash key and the pre-counter block J0.
struct Gcm {
    aes: Aes,
    h: Block,
    j0: Block,
}

fn len_block(a: usize, b: usize) -> Block {
    let mut blk = Block::default();
    blk[..8].copy_from_slice(&((a as u64).wrapping_mul(8)).to_be_bytes());
    blk[8..].copy_from_slice(&((b as u64).wrapping_mul(8)).to_be_bytes());
    blk
}

impl Gcm {
    fn new(key: &[u8], iv: &[u8]) -> Option<Gcm> {
        let aes = Aes::new(key)?;
        if iv.is_empty() {
            return None;
        }
        let mut h = Block::default();
        aes.encrypt(&mut h);
        let j0 = if iv.len() == 12 {
            let mut j = Block::default();
            j[..12].copy_from_slice(iv);
            j[15] = 1;
            j
        } else {
            let mut g = GHash::new(&h);
            g.update_padded(iv);
            g.update(&[len_block(0, iv.len())]);
            g.finalize()
        };
        Some(Gcm { aes, h, j0 })
    }

    /// XOR `data` with the keystream that starts at inc32(J0).
    fn ctr(&self, data: &mut [u8]) {
        let base = u32::from_be_bytes([self.j0[12], self.j0[13], self.j0[14], self.j0[15]]);
        for (i, chunk) in data.chunks_mut(16).enumerate() {
            let mut ctr = self.j0;
            ctr[12..].copy_from_slice(&base.wrapping_add(i as u32 + 1).to_be_bytes());
            self.aes.encrypt(&mut ctr);
            chunk.iter_mut().zip(ctr.iter()).for_each(|(d, k)| *d ^= k);
        }
    }

    /// The full 16-byte tag of (aad, ciphertext).
    fn tag(&self, aad: &[u8], ct: &[u8]) -> Block {
        let mut g = GHash::new(&self.h);
        g.update_padded(aad);
        g.update_padded(ct);
        g.update(&[len_block(aad.len(), ct.len())]);
        let mut s = g.finalize();
        let mut e = self.j0;
        self.aes.encrypt(&mut e);
        s.iter_mut().zip(e.iter()).for_each(|(a, b)| *a ^= b);
        s
    }
}

/// Why an AEAD call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AeadError {
    /// Key, IV/nonce or tag of a length the algorithm does not take.
    BadLength,
    /// The tag does not match: wrong key, nonce or associated data, or altered data.
    Auth,
}

/// AES-GCM encryption in place; writes the first `tag.len()` (at most 16) bytes of the tag.
/// Keys of 16, 24 or 32 bytes; any non-empty IV.
pub fn gcm_encrypt(key: &[u8], iv: &[u8], aad: &[u8], data: &mut [u8], tag: &mut [u8]) -> Result<(), AeadError> {
    let g = Gcm::new(key, iv).ok_or(AeadError::BadLength)?;
    if tag.len() > 16 {
        return Err(AeadError::BadLength);
    }
    g.ctr(data);
    let t = g.tag(aad, data);
    tag.copy_from_slice(&t[..tag.len()]);
    Ok(())
}

/// AES-GCM decryption in place after checking `tag` (1 to 16 bytes, compared in constant
/// time); `data` is unchanged on failure.
pub fn gcm_decrypt(key: &[u8], iv: &[u8], aad: &[u8], data: &mut [u8], tag: &[u8]) -> Result<(), AeadError> {
    let g = Gcm::new(key, iv).ok_or(AeadError::BadLength)?;
    if tag.is_empty() || tag.len() > 16 {
        return Err(AeadError::BadLength);
    }
    let t = g.tag(aad, data);
    if t.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return Err(AeadError::Auth);
    }
    g.ctr(data);
    Ok(())
}

/// ChaCha20-Poly1305 (RFC 8439) encryption in place; returns the 16-byte tag.
pub fn chacha_encrypt(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], AeadError> {
    let c = chacha20poly1305::ChaCha20Poly1305::new(key.into());
    let tag = c
        .encrypt_in_place_detached(nonce.into(), aad, data)
        .map_err(|_| AeadError::BadLength)?;
    Ok(tag.into())
}

/// ChaCha20-Poly1305 decryption in place after checking the tag; `data` is unchanged on
/// failure.
pub fn chacha_decrypt(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), AeadError> {
    let c = chacha20poly1305::ChaCha20Poly1305::new(key.into());
    c.decrypt_in_place_detached(nonce.into(), aad, data, tag.into())
        .map_err(|_| AeadError::Auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> alloc::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// GCM spec (McGrew-Viega) test case 6: AES-128, a 60-byte IV (the GHASH'ed J0 path).
    #[test]
    fn gcm_long_iv_test_case_6() {
        let key = h("feffe9928665731c6d6a8f9467308308");
        let iv = h("9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b");
        let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let mut data = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
        let mut tag = [0u8; 16];
        gcm_encrypt(&key, &iv, &aad, &mut data, &mut tag).unwrap();
        assert_eq!(data, h("8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5"));
        assert_eq!(tag.to_vec(), h("619cc5aefffe0bfa462af43c1699d050"));
        gcm_decrypt(&key, &iv, &aad, &mut data, &tag).unwrap();
        tag[0] ^= 1;
        assert_eq!(gcm_decrypt(&key, &iv, &aad, &mut data, &tag), Err(AeadError::Auth));
    }
}
