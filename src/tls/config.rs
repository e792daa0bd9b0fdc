//! Building rustls configurations from Mongoose-style options (PEM or DER bytes), and a small
//! cache so that every connection of a listener (or every client using the same options)
//! shares one parsed configuration.
//!
//! PEM is parsed with `rustls-pki-types` (`CertificateDer::pem_slice_iter`,
//! `PrivateKeyDer::from_pem_slice`): the rustls project's own, maintained parser, instead of a
//! hand-written one. Input without a `-----BEGIN` line is taken as DER: one certificate, or
//! one private key (PKCS#8, SEC1 or PKCS#1, recognised by its structure).

use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::{ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::error::TlsError;
use super::provider;

extern crate alloc;

/// The ALPN identifier of HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Distinct configurations kept by [`server_config`] / [`client_config`]. The oldest unused
/// one is dropped beyond this; connections keep their own reference, so nothing breaks.
pub(crate) const CONFIG_CACHE_SIZE: usize = 8;

/// TLS 1.3 and TLS 1.2, the versions rustls enables by default (no older ones exist in rustls).
static VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Resumption state kept per configuration (server: session IDs/tickets; client: per server
/// name). Small because configurations are shared by every connection and devices are small.
const SERVER_SESSION_CACHE: usize = 32;
const CLIENT_SESSION_CACHE: usize = 16;

/// Options as in Mongoose's `struct mg_tls_opts`, borrowed from the caller.
///
/// Every byte string may be PEM (one or more `-----BEGIN ...-----` blocks) or DER (exactly one
/// certificate or key), and may carry trailing NUL bytes (C strings).
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsOptions<'a> {
    /// CA certificate(s). Server: when set, clients must present a certificate signed by one
    /// of them (mutual TLS). Client: the CAs that may sign the server's certificate.
    pub ca: &'a [u8],
    /// Our certificate chain (leaf first). Required for servers; for clients, mutual TLS.
    pub cert: &'a [u8],
    /// Our private key. When empty, `cert` is searched for a key (a combined PEM file).
    pub key: &'a [u8],
    /// Client: do not verify the server's certificate or name at all (testing only: anyone
    /// on the path can read and change the traffic). Handshake signatures are still checked.
    pub skip_verification: bool,
    /// Offer/accept ALPN `http/1.1`. A server that sets this refuses clients that offer ALPN
    /// without `http/1.1` (e.g. only `h2`), so set it only for HTTP listeners.
    pub alpn_http11: bool,
}

fn trim_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    &b[..end]
}

/// The bytes of a certificate, key or CA given as `b`: C callers may pass a string with its
/// terminating NUL(s), so trailing NULs are dropped, except where they belong to DER data.
/// DER is self-delimiting (its outer element's header gives the length) and may well end in
/// a 0x00 byte (the last byte of a signature or public key: 1 in 256 of them), so for DER
/// the extent comes from that header, and only NULs after it are dropped.
pub(super) fn material(b: &[u8]) -> &[u8] {
    let t = trim_nul(b);
    if t.is_empty() || is_pem(t) {
        return t;
    }
    match der_extent(b) {
        Some(n) if n >= t.len() => b.get(..n).unwrap_or(t),
        _ => t,
    }
}

/// The length of the DER element `b` starts with (its header and contents), from its
/// header: `None` if the header is cut short or uses an indefinite or over-long length.
fn der_extent(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let k = usize::from(first & 0x7f);
    if k == 0 || k > 4 {
        return None;
    }
    let len = b.get(2..2 + k)?.iter().fold(0usize, |a, &d| a << 8 | usize::from(d));
    len.checked_add(2 + k)
}

fn is_pem(b: &[u8]) -> bool {
    b.windows(10).any(|w| w == b"-----BEGIN")
}

/// Parse a certificate chain (PEM: every CERTIFICATE block, in order; DER: one certificate).
pub fn parse_certs(what: &str, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let b = material(bytes);
    if b.is_empty() {
        return Err(TlsError::config(alloc::format!("TLS {what}: empty")));
    }
    if !is_pem(b) {
        return Ok(alloc::vec![CertificateDer::from(b.to_vec())]);
    }
    let certs = CertificateDer::pem_slice_iter(b)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::config(alloc::format!("TLS {what}: bad PEM ({e})")))?;
    if certs.is_empty() {
        return Err(TlsError::config(alloc::format!(
            "TLS {what}: no CERTIFICATE block in the PEM data"
        )));
    }
    Ok(certs)
}

/// Parse a private key (PEM: the first PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY block;
/// DER: PKCS#8, SEC1 or PKCS#1).
pub fn parse_key(bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    let b = material(bytes);
    if b.is_empty() {
        return Err(TlsError::config("TLS key: empty"));
    }
    if is_pem(b) {
        PrivateKeyDer::from_pem_slice(b).map_err(|e| TlsError::config(alloc::format!("TLS key: bad PEM ({e})")))
    } else {
        PrivateKeyDer::try_from(b.to_vec())
            .map_err(|e| TlsError::config(alloc::format!("TLS key: not a DER private key ({e})")))
    }
}

fn root_store(ca: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in parse_certs("ca", ca)? {
        roots
            .add(c)
            .map_err(|e| TlsError::config(alloc::format!("TLS ca: unusable CA certificate ({e})")))?;
    }
    Ok(roots)
}

fn our_chain(o: &TlsOptions<'_>) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain = parse_certs("cert", o.cert)?;
    let key = parse_key(if trim_nul(o.key).is_empty() { o.cert } else { o.key })?;
    Ok((chain, key))
}

fn cfg_err(what: &str, e: rustls::Error) -> TlsError {
    TlsError::config(alloc::format!("TLS {what}: {e}"))
}

/// Our certificate chain with its private key, checked to belong together. What rustls's
/// `with_single_cert` does, except that an X.509 v1 certificate is accepted: webpki parses
/// only v3 (and refuses v1 with `UnsupportedCertVersion`), but a server never verifies its
/// own certificate, and Mongoose (with its TLS stacks) serves v1 ones, as in its
/// device-dashboard tutorial. For those the key is checked against the certificate's
/// SubjectPublicKeyInfo, read by [`v1_spki`].
fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    p: &CryptoProvider,
) -> Result<rustls::sign::CertifiedKey, TlsError> {
    use rustls::{Error, InconsistentKeys};
    let signing = p
        .key_provider
        .load_private_key(key)
        .map_err(|e| cfg_err("cert/key", e))?;
    let ck = rustls::sign::CertifiedKey::new(chain, signing);
    match ck.keys_match() {
        // A provider that cannot tell its public key: not checked (as rustls does).
        Ok(()) | Err(Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(ck),
        Err(Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(key_mismatch()),
        Err(e) => {
            let spki = ck.cert.first().and_then(|c| v1_spki(c.as_ref()));
            match (spki, ck.key.public_key()) {
                (Some(cert_spki), Some(key_spki)) if cert_spki == key_spki.as_ref() => Ok(ck),
                (Some(_), Some(_)) => Err(key_mismatch()),
                (Some(_), None) => Ok(ck),
                (None, _) => Err(cfg_err("cert/key", e)),
            }
        }
    }
}

fn key_mismatch() -> TlsError {
    TlsError::config(
        "TLS cert/key: the private key does not belong to the certificate (opts.key does not match opts.cert)",
    )
}

/// One DER element at the start of `b`: (tag, whole element, rest). Definite lengths of up
/// to four bytes only; `None` for anything malformed or truncated.
fn der_next(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = b.get(2..2 + n)?;
        (bytes.iter().fold(0usize, |acc, &x| (acc << 8) | x as usize), 2 + n)
    };
    let end = head.checked_add(len)?;
    let whole = b.get(..end)?;
    Some((tag, whole, &b[end..]))
}

/// The SubjectPublicKeyInfo (whole DER element) of an X.509 **v1** certificate: one whose
/// TBSCertificate has no `[0] version` field (RFC 5280 §4.1). `None` for other versions or
/// malformed input.
pub(crate) fn v1_spki(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = der_next(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = der_next(cert.get(header_len(cert)?..)?)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs.get(header_len(tbs)?..)?;
    // serialNumber, signature, issuer, validity, subject; a [0] version first means v2/v3.
    for want in [0x02, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE] {
        let (tag, _, r) = der_next(rest)?;
        if tag != want {
            return None;
        }
        rest = r;
    }
    let (tag, spki, _) = der_next(rest)?;
    (tag == SEQUENCE).then_some(spki)
}

/// Length of the tag and length bytes of the DER element `el`.
fn header_len(el: &[u8]) -> Option<usize> {
    let first = *el.get(1)? as usize;
    Some(if first < 0x80 { 2 } else { 2 + (first & 0x7f) })
}

/// Build a server configuration (no cache): our certificate and key; with `ca`, client
/// certificates are required and verified (mutual TLS).
pub fn build_server_config(o: &TlsOptions<'_>) -> Result<Arc<ServerConfig>, TlsError> {
    if trim_nul(o.cert).is_empty() {
        return Err(TlsError::config("TLS server: no certificate (opts.cert is empty)"));
    }
    let p = provider();
    let (chain, key) = our_chain(o)?;
    let certified = certified_key(chain, key, &p)?;
    let builder = ServerConfig::builder_with_provider(p.clone())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| cfg_err("server", e))?;
    let builder = if trim_nul(o.ca).is_empty() {
        builder.with_no_client_auth()
    } else {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(root_store(o.ca)?), p)
            .build()
            .map_err(|e| TlsError::config(alloc::format!("TLS ca: {e}")))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut cfg = builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    cfg.session_storage = ServerSessionMemoryCache::new(SERVER_SESSION_CACHE);
    if o.alpn_http11 {
        cfg.alpn_protocols = alloc::vec![ALPN_HTTP11.to_vec()];
    }
    Ok(Arc::new(cfg))
}

/// Build a client configuration (no cache). Verification needs `ca` unless
/// `skip_verification` is set: there is no built-in trust store (an explicit choice: a
/// device should pin the CAs it talks to; failing closed beats trusting anything).
pub fn build_client_config(o: &TlsOptions<'_>) -> Result<Arc<ClientConfig>, TlsError> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(p.clone())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| cfg_err("client", e))?;
    let builder = if o.skip_verification {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoServerVerification(p)))
    } else if trim_nul(o.ca).is_empty() {
        return Err(TlsError::config(
            "TLS client: no CA to verify the server with (set opts.ca, or skip_verification for testing)",
        ));
    } else {
        builder.with_root_certificates(root_store(o.ca)?)
    };
    let mut cfg = if trim_nul(o.cert).is_empty() {
        builder.with_no_client_auth()
    } else {
        let (chain, key) = our_chain(o)?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| cfg_err("cert/key", e))?
    };
    cfg.resumption = Resumption::in_memory_sessions(CLIENT_SESSION_CACHE);
    if o.alpn_http11 {
        cfg.alpn_protocols = alloc::vec![ALPN_HTTP11.to_vec()];
    }
    Ok(Arc::new(cfg))
}

/// Check a server name (DNS name or IP address) for use as SNI / verification target.
pub fn server_name(name: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(name).map(|n| n.to_owned()).map_err(|_| {
        TlsError::config(alloc::format!(
            "TLS name: {name:?} is not a valid host name or IP address"
        ))
    })
}

// ---- cache ------------------------------------------------------------------------------

#[derive(Clone)]
enum Cached {
    Server(Arc<ServerConfig>),
    Client(Arc<ClientConfig>),
}

/// Built configurations keyed by a SHA-2 digest of the options (so no second copy of private
/// keys is kept), most recently used last, at most [`CONFIG_CACHE_SIZE`].
pub(crate) struct ConfigCache(spin::Mutex<Vec<(Vec<u8>, Cached)>>);

/// The process's cache, behind [`server_config`] and [`client_config`].
static CACHE: ConfigCache = ConfigCache::new();

impl ConfigCache {
    pub(crate) const fn new() -> Self {
        ConfigCache(spin::Mutex::new(Vec::new()))
    }

    fn get(
        &self,
        kind: u8,
        o: &TlsOptions<'_>,
        build: impl FnOnce() -> Result<Cached, TlsError>,
    ) -> Result<Cached, TlsError> {
        let key = cache_key(kind, o);
        if key.is_empty() {
            return build();
        }
        {
            let mut c = self.0.lock();
            if let Some(i) = c.iter().position(|(k, _)| *k == key) {
                let e = c.remove(i);
                let v = e.1.clone();
                c.push(e);
                return Ok(v);
            }
        }
        // Built outside the lock: parsing keys takes time and may (in theory) panic.
        let v = build()?;
        let mut c = self.0.lock();
        if c.len() >= CONFIG_CACHE_SIZE {
            c.remove(0);
        }
        c.push((key, v.clone()));
        Ok(v)
    }

    /// [`server_config`] through this cache.
    pub(crate) fn server(&self, o: &TlsOptions<'_>) -> Result<Arc<ServerConfig>, TlsError> {
        match self.get(b'S', o, || build_server_config(o).map(Cached::Server))? {
            Cached::Server(c) => Ok(c),
            Cached::Client(_) => Err(TlsError::config("TLS: configuration cache mix-up")),
        }
    }

    /// [`client_config`] through this cache.
    pub(crate) fn client(&self, o: &TlsOptions<'_>) -> Result<Arc<ClientConfig>, TlsError> {
        match self.get(b'C', o, || build_client_config(o).map(Cached::Client))? {
            Cached::Client(c) => Ok(c),
            Cached::Server(_) => Err(TlsError::config("TLS: configuration cache mix-up")),
        }
    }
}

fn cache_key(kind: u8, o: &TlsOptions<'_>) -> Vec<u8> {
    let p = provider();
    let Some(hash) = p
        .cipher_suites
        .iter()
        .map(|s| match s {
            rustls::SupportedCipherSuite::Tls13(t) => t.common.hash_provider,
            rustls::SupportedCipherSuite::Tls12(t) => t.common.hash_provider,
        })
        .next()
    else {
        // A provider without cipher suites cannot make connections anyway; do not cache.
        return Vec::new();
    };
    // Hashed field by field (length-prefixed), so no copy of the key material is made.
    let mut ctx = hash.start();
    ctx.update(&[kind, u8::from(o.skip_verification) | (u8::from(o.alpn_http11) << 1)]);
    for f in [o.ca, o.cert, o.key] {
        let f = material(f);
        ctx.update(&(f.len() as u64).to_le_bytes());
        ctx.update(f);
    }
    ctx.finish().as_ref().to_vec()
}

/// A server configuration for these options: the same options give the same `Arc` (while it
/// is among the last [`CONFIG_CACHE_SIZE`] used), so certificates and keys are parsed once.
pub fn server_config(o: &TlsOptions<'_>) -> Result<Arc<ServerConfig>, TlsError> {
    CACHE.server(o)
}

/// A client configuration for these options (cached like [`server_config`]; the name is not
/// part of it, it is given per connection).
pub fn client_config(o: &TlsOptions<'_>) -> Result<Arc<ClientConfig>, TlsError> {
    CACHE.client(o)
}

// ---- skip_verification ------------------------------------------------------------------

/// Accepts any server certificate and name. Used only when `skip_verification` is set.
/// Handshake signatures are still verified, so the peer must hold the key of the certificate
/// it sent (which proves nothing about who it is).
#[derive(Debug)]
struct NoServerVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoServerVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
