//! JSON Web Tokens in compact form (RFC 7519) signed with HS256 (HMAC-SHA-256, RFC 7518 §3.2)
//! or ES256 (ECDSA over P-256 with SHA-256, RFC 7518 §3.4), as Mongoose 7.22's `mg_jwt_*`
//! make and check them.
//!
//! A token made here has the protected header `{"alg":"HS256","typ":"JWT"}` (with `,"kid":...`
//! when a key id is given, then the caller's extra members); the payload is the caller's
//! claims as given. Checking a token verifies the signature and that the header names the
//! expected `alg`; it does not read the claims (`exp`, `nbf` are the caller's business, as in
//! Mongoose). Signatures are compared in constant time.

use crate::prelude::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a token is made from (Mongoose's `struct mg_jwt_opts` without the keys).
#[derive(Clone, Copy, Debug, Default)]
pub struct Claims<'a> {
    /// The JSON payload, as is.
    pub claims: &'a [u8],
    /// Extra protected-header members, without braces (`"x5t":"..."`), or empty.
    pub header: &'a [u8],
    /// The key id (`kid`) to put in the header, or empty for none.
    pub kid: &'a [u8],
}

/// An algorithm and its key.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    /// HS256 with this shared secret.
    Hs256(&'a [u8]),
    /// ES256 with a private scalar (32 bytes, big-endian) for signing, or a public key (64
    /// bytes `x || y`, or 65 with the `0x04` prefix) for checking.
    Es256(&'a [u8]),
}

fn b64(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    out.resize(start + data.len().div_ceil(3) * 4, 0);
    let n = URL_SAFE_NO_PAD.encode_slice(data, &mut out[start..]).unwrap_or(0);
    out.truncate(start + n);
}

/// `header.payload`, base64url-encoded, as signed.
fn signing_input(alg: &str, c: &Claims<'_>) -> Vec<u8> {
    let mut header = Vec::with_capacity(48 + c.kid.len() + c.header.len());
    header.extend_from_slice(b"{\"alg\":\"");
    header.extend_from_slice(alg.as_bytes());
    header.extend_from_slice(b"\",\"typ\":\"JWT\"");
    if !c.kid.is_empty() {
        header.extend_from_slice(b",\"kid\":");
        crate::util::rpc::quote(&mut header, c.kid);
    }
    if !c.header.is_empty() {
        header.push(b',');
        header.extend_from_slice(c.header);
    }
    header.push(b'}');
    let mut out = Vec::with_capacity((header.len() + c.claims.len()) * 4 / 3 + 8);
    b64(&mut out, &header);
    out.push(b'.');
    b64(&mut out, c.claims);
    out
}

fn hs256(secret: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A compact JWT for `c` signed with `key`, or `None` for an unusable ES256 private key.
/// (Firmware that signs one way only calls [`sign_hs256`] or [`sign_es256`], so that the
/// linker can leave the other algorithm's code out: P-256 is most of it.)
pub fn sign(c: &Claims<'_>, key: Key<'_>) -> Option<Vec<u8>> {
    match key {
        Key::Hs256(secret) => Some(sign_hs256(c, secret)),
        Key::Es256(private) => sign_es256(c, private),
    }
}

/// A compact JWT for `c` signed with HMAC-SHA-256 and `secret`.
pub fn sign_hs256(c: &Claims<'_>, secret: &[u8]) -> Vec<u8> {
    let mut out = signing_input("HS256", c);
    let sig = hs256(secret, &out);
    out.push(b'.');
    b64(&mut out, &sig);
    out
}

/// A compact JWT for `c` signed with ECDSA P-256 (RFC 6979 nonces) and the 32-byte private
/// scalar `private`, or `None` if it is not a valid key.
pub fn sign_es256(c: &Claims<'_>, private: &[u8]) -> Option<Vec<u8>> {
    use p256::ecdsa::signature::Signer;
    let sk = p256::ecdsa::SigningKey::from_slice(private).ok()?;
    let mut out = signing_input("ES256", c);
    let sig: p256::ecdsa::Signature = sk.sign(&out);
    out.push(b'.');
    b64(&mut out, &sig.to_bytes());
    Some(out)
}

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not three base64url parts separated by dots.
    Malformed,
    /// The header does not name the expected algorithm.
    Algorithm,
    /// The signature does not match (or the key is unusable).
    Signature,
}

fn decode(part: &[u8]) -> Result<Vec<u8>, Refused> {
    // Tolerate the padding some encoders leave (Mongoose's decoder stops at '=').
    let end = part.iter().position(|&b| b == b'=').unwrap_or(part.len());
    let mut out = vec![0u8; end / 4 * 3 + 3];
    let n = URL_SAFE_NO_PAD
        .decode_slice(&part[..end], &mut out)
        .map_err(|_| Refused::Malformed)?;
    out.truncate(n);
    Ok(out)
}

/// Check `jwt` with `key`; the decoded claims on success.
pub fn verify(jwt: &[u8], key: Key<'_>) -> Result<Vec<u8>, Refused> {
    match key {
        Key::Hs256(secret) => verify_hs256(jwt, secret),
        Key::Es256(public) => verify_es256(jwt, public),
    }
}

/// A compact token's signed input, payload and decoded signature.
type Parts<'a> = (&'a [u8], &'a [u8], Vec<u8>);

/// The parts of a compact token: the signed input, the payload and the decoded signature,
/// once the header names `alg`.
fn split<'a>(jwt: &'a [u8], alg: &str) -> Result<Parts<'a>, Refused> {
    let mut parts = jwt.splitn(3, |&b| b == b'.');
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Refused::Malformed);
    };
    if s.contains(&b'.') {
        return Err(Refused::Malformed);
    }
    let header = decode(h)?;
    let tok = crate::util::json::get_tok(&header, b"$.alg").map_err(|_| Refused::Algorithm)?;
    if tok.len() != alg.len() + 2 || &tok[1..tok.len() - 1] != alg.as_bytes() {
        return Err(Refused::Algorithm);
    }
    Ok((&jwt[..h.len() + 1 + p.len()], p, decode(s)?))
}

/// Check an HS256 `jwt` with `secret`; the decoded claims on success.
pub fn verify_hs256(jwt: &[u8], secret: &[u8]) -> Result<Vec<u8>, Refused> {
    let (input, payload, sig) = split(jwt, "HS256")?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| Refused::Signature)?;
    mac.update(input);
    // Constant-time comparison.
    mac.verify_slice(&sig).map_err(|_| Refused::Signature)?;
    decode(payload)
}

/// Check an ES256 `jwt` with a public key (64 bytes `x || y`, or 65 with the `0x04` prefix);
/// the decoded claims on success.
pub fn verify_es256(jwt: &[u8], public: &[u8]) -> Result<Vec<u8>, Refused> {
    use p256::ecdsa::signature::Verifier;
    let (input, payload, sig) = split(jwt, "ES256")?;
    let mut sec1 = [0u8; 65];
    let point: &[u8] = match public.len() {
        64 => {
            sec1[0] = 4;
            sec1[1..].copy_from_slice(public);
            &sec1
        }
        _ => public,
    };
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| Refused::Signature)?;
    let sig = p256::ecdsa::Signature::from_slice(&sig).map_err(|_| Refused::Signature)?;
    vk.verify(input, &sig).map_err(|_| Refused::Signature)?;
    decode(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7515 Appendix A.1: an HS256 JWS, its key (the JWK's "k", base64url) and payload.
    const A1_JWS: &[u8] = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const A1_K: &[u8] = b"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const A1_PAYLOAD: &[u8] = b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

    // RFC 7515 Appendix A.3: an ES256 JWS and the JWK's public point (x, y) and private d.
    const A3_JWS: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    const A3_X: &[u8] = b"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const A3_Y: &[u8] = b"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const A3_D: &[u8] = b"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

    fn unb64(s: &[u8]) -> Vec<u8> {
        decode(s).unwrap()
    }

    #[test]
    fn rfc7515_a1_hs256_verifies() {
        let k = unb64(A1_K);
        assert_eq!(verify(A1_JWS, Key::Hs256(&k)).unwrap(), A1_PAYLOAD);
        // One changed signature byte, a wrong key, the wrong algorithm: refused.
        let mut bad = A1_JWS.to_vec();
        *bad.last_mut().unwrap() = b'Y';
        assert_eq!(verify(&bad, Key::Hs256(&k)), Err(Refused::Signature));
        assert_eq!(verify(A1_JWS, Key::Hs256(b"secret")), Err(Refused::Signature));
        assert_eq!(verify(A1_JWS, Key::Es256(&[4; 65])), Err(Refused::Algorithm));
        assert_eq!(verify(b"a.b", Key::Hs256(&k)), Err(Refused::Malformed));
    }

    #[test]
    fn rfc7515_a3_es256_verifies() {
        let mut public = unb64(A3_X);
        public.extend(unb64(A3_Y));
        assert_eq!(verify(A3_JWS, Key::Es256(&public)).unwrap(), A1_PAYLOAD);
        let mut bad = A3_JWS.to_vec();
        let n = bad.len();
        bad[n - 2] = if bad[n - 2] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(&bad, Key::Es256(&public)), Err(Refused::Signature));
    }

    #[test]
    fn sign_then_verify_both_algorithms() {
        let c = Claims {
            claims: b"{\"sub\":\"admin\"}",
            header: b"",
            kid: b"k1",
        };
        let t = sign(&c, Key::Hs256(b"secret")).unwrap();
        let parts: Vec<&[u8]> = t.split(|&b| b == b'.').collect();
        assert_eq!(unb64(parts[0]), b"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
        assert_eq!(verify(&t, Key::Hs256(b"secret")).unwrap(), c.claims);
        let d = unb64(A3_D);
        let mut public = unb64(A3_X);
        public.extend(unb64(A3_Y));
        let t = sign(&c, Key::Es256(&d)).unwrap();
        assert_eq!(verify(&t, Key::Es256(&public)).unwrap(), c.claims);
        // Deterministic (RFC 6979): the same input signs the same.
        assert_eq!(sign(&c, Key::Es256(&d)).unwrap(), t);
        assert!(sign(&c, Key::Es256(&[0; 32])).is_none());
    }
}
