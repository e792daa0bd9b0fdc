//! In-memory client/server pumping: no sockets. Certificates are made at test time (rcgen).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::OnceLock;

use proptest::prelude::*;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use super::config::{build_client_config, build_server_config, client_config, server_config, ConfigCache, TlsOptions};
use super::*;

extern crate alloc;

/// Test PKI: two independent CAs; a "localhost" server cert and a client cert from CA 1, an
/// expired server cert from CA 1, a client cert from CA 2.
pub(crate) struct Pki {
    pub ca: String,
    pub other_ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub server_cert_der: Vec<u8>,
    pub server_key_der: Vec<u8>,
    pub expired_cert: String,
    pub expired_key: String,
    pub client_cert: String,
    pub client_key: String,
    pub stranger_cert: String,
    pub stranger_key: String,
}

fn make_ca(cn: &str) -> (rcgen::Certificate, KeyPair) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = alloc::vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature
    ];
    let k = KeyPair::generate().unwrap();
    let c = p.self_signed(&k).unwrap();
    (c, k)
}

fn make_leaf(
    names: &[&str],
    ca: &(rcgen::Certificate, KeyPair),
    purpose: ExtendedKeyUsagePurpose,
    expired: bool,
) -> (rcgen::Certificate, KeyPair) {
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("client"));
    p.extended_key_usages = alloc::vec![purpose];
    if expired {
        p.not_before = date_time_ymd(2000, 1, 1);
        p.not_after = date_time_ymd(2001, 1, 1);
    }
    let k = KeyPair::generate().unwrap();
    let c = p.signed_by(&k, &ca.0, &ca.1).unwrap();
    (c, k)
}

pub(crate) fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let ca = make_ca("meerkat test CA");
        let other = make_ca("some other CA");
        let server = make_leaf(
            &["localhost", "127.0.0.1"],
            &ca,
            ExtendedKeyUsagePurpose::ServerAuth,
            false,
        );
        let expired = make_leaf(&["localhost"], &ca, ExtendedKeyUsagePurpose::ServerAuth, true);
        let client = make_leaf(&["client"], &ca, ExtendedKeyUsagePurpose::ClientAuth, false);
        let stranger = make_leaf(&["stranger"], &other, ExtendedKeyUsagePurpose::ClientAuth, false);
        Pki {
            ca: ca.0.pem(),
            other_ca: other.0.pem(),
            server_cert: server.0.pem(),
            server_key: server.1.serialize_pem(),
            server_cert_der: server.0.der().to_vec(),
            server_key_der: server.1.serialize_der(),
            expired_cert: expired.0.pem(),
            expired_key: expired.1.serialize_pem(),
            client_cert: client.0.pem(),
            client_key: client.1.serialize_pem(),
            stranger_cert: stranger.0.pem(),
            stranger_key: stranger.1.serialize_pem(),
        }
    })
}

fn server_opts(p: &Pki) -> TlsOptions<'_> {
    TlsOptions {
        cert: p.server_cert.as_bytes(),
        key: p.server_key.as_bytes(),
        alpn_http11: true,
        ..Default::default()
    }
}

fn client_opts(p: &Pki) -> TlsOptions<'_> {
    TlsOptions {
        ca: p.ca.as_bytes(),
        alpn_http11: true,
        ..Default::default()
    }
}

/// A client config restricted to one protocol version (built with rustls directly: the
/// Mongoose-style options always allow both).
fn client_config_version(p: &Pki, v: &'static rustls::SupportedProtocolVersion) -> Arc<ClientConfig> {
    client_config_version_auth(p, v, None)
}

fn client_config_version_auth(
    p: &Pki,
    v: &'static rustls::SupportedProtocolVersion,
    auth: Option<(&str, &str)>,
) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in config::parse_certs("ca", p.ca.as_bytes()).unwrap() {
        roots.add(c).unwrap();
    }
    let b = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[v])
        .unwrap()
        .with_root_certificates(roots);
    let mut cfg = match auth {
        Some((cert, key)) => b
            .with_client_auth_cert(
                config::parse_certs("cert", cert.as_bytes()).unwrap(),
                config::parse_key(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = alloc::vec![ALPN_HTTP11.to_vec()];
    Arc::new(cfg)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// Move ciphertext both ways until nothing moves. The first error is returned with its side;
/// the failing side's alert is still delivered to the other side first.
fn pump(c: &mut TlsSession, s: &mut TlsSession) -> Result<(), (Side, TlsError)> {
    let mut first_err: Option<(Side, TlsError)> = None;
    for _ in 0..64 {
        let mut moved = false;
        let mut buf = Vec::new();
        if c.take_ciphertext(&mut buf) > 0 {
            moved = true;
            if let Err(e) = s.feed(&buf) {
                first_err.get_or_insert((Side::Server, e));
            }
        }
        buf.clear();
        if s.take_ciphertext(&mut buf) > 0 {
            moved = true;
            if let Err(e) = c.feed(&buf) {
                first_err.get_or_insert((Side::Client, e));
            }
        }
        if !moved {
            break;
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn pair_with(ccfg: Arc<ClientConfig>, scfg: Arc<ServerConfig>, name: &str) -> (TlsSession, TlsSession) {
    (
        TlsSession::client(ccfg, name).unwrap(),
        TlsSession::server(scfg).unwrap(),
    )
}

fn connected(v: &'static rustls::SupportedProtocolVersion) -> (TlsSession, TlsSession) {
    let p = pki();
    let (mut c, mut s) = pair_with(
        client_config_version(p, v),
        server_config(&server_opts(p)).unwrap(),
        "localhost",
    );
    assert!(c.is_handshaking() && s.is_handshaking());
    assert!(!c.handshake_just_completed());
    pump(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking() && !s.is_handshaking());
    assert!(c.handshake_just_completed());
    assert!(!c.handshake_just_completed(), "the edge fires once");
    assert!(s.handshake_just_completed());
    (c, s)
}

/// Send `data` from `a` to `b` respecting backpressure; returns what `b` received.
fn transfer(a: &mut TlsSession, b: &mut TlsSession, data: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut rounds = 0;
    while got.len() < data.len() {
        rounds += 1;
        assert!(rounds < 100_000, "no progress");
        if sent < data.len() {
            sent += a.write_plaintext(&data[sent..]).unwrap();
        }
        let mut ct = Vec::new();
        a.take_ciphertext(&mut ct);
        let mut off = 0;
        while off < ct.len() {
            off += b.feed(&ct[off..]).unwrap();
            b.take_plaintext(&mut got, usize::MAX).unwrap();
        }
        b.take_plaintext(&mut got, usize::MAX).unwrap();
    }
    got
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn provider_is_the_selected_one() {
    let p = provider();
    assert!(!p.cipher_suites.is_empty());
    if cfg!(feature = "tls-ring") {
        assert_eq!(PROVIDER_NAME, "ring");
    } else {
        assert_eq!(PROVIDER_NAME, "rustcrypto");
    }
}

#[test]
fn tls13_handshake_and_data_both_ways() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    assert_eq!(c.protocol_version(), Some(0x0304));
    assert_eq!(s.alpn_protocol(), Some(ALPN_HTTP11));
    assert_eq!(s.sni_name(), Some("localhost"));
    assert!(c.peer_certificates().is_some_and(|v| !v.is_empty()));
    assert_eq!(
        transfer(&mut c, &mut s, b"GET / HTTP/1.1\r\n\r\n"),
        b"GET / HTTP/1.1\r\n\r\n"
    );
    let big = pattern(300_000);
    assert_eq!(transfer(&mut s, &mut c, &big), big);
    assert_eq!(transfer(&mut c, &mut s, &big), big);
}

#[test]
fn tls12_handshake_and_data_both_ways() {
    let (mut c, mut s) = connected(&rustls::version::TLS12);
    assert_eq!(c.protocol_version(), Some(0x0303));
    assert_eq!(s.protocol_version(), Some(0x0303));
    assert_eq!(c.alpn_protocol(), Some(ALPN_HTTP11));
    let big = pattern(100_000);
    assert_eq!(transfer(&mut c, &mut s, &big), big);
    assert_eq!(transfer(&mut s, &mut c, &big), big);
}

#[test]
fn data_written_before_the_handshake_is_held_then_sent() {
    let p = pki();
    let (mut c, mut s) = pair_with(
        client_config(&client_opts(p)).unwrap(),
        server_config(&server_opts(p)).unwrap(),
        "localhost",
    );
    assert_eq!(c.write_plaintext(b"early").unwrap(), 5);
    pump(&mut c, &mut s).unwrap();
    let mut got = Vec::new();
    s.take_plaintext(&mut got, 100).unwrap();
    assert_eq!(got, b"early");
}

#[test]
fn send_backpressure_is_bounded_by_the_limit() {
    let (mut c, _s) = connected(&rustls::version::TLS13);
    let big = pattern(1 << 20);
    let mut accepted = 0;
    loop {
        let n = c.write_plaintext(&big[accepted..]).unwrap();
        if n == 0 {
            break;
        }
        accepted += n;
    }
    assert!(accepted <= session::DEFAULT_SEND_LIMIT, "accepted {accepted}");
    assert!(accepted > 0);
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    assert!(ct.len() >= accepted);
    assert!(
        c.write_plaintext(&big[accepted..]).unwrap() > 0,
        "room again after draining"
    );
}

#[test]
fn receive_backpressure_stashes_and_delivers_in_order() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    let big = pattern(60_000);
    let mut ct = Vec::new();
    let mut sent = 0;
    while sent < big.len() {
        let n = c.write_plaintext(&big[sent..]).unwrap();
        sent += n;
        c.take_ciphertext(&mut ct);
    }
    // All at once, far more than rustls's 16 KiB plaintext buffer: stashed, not refused.
    assert_eq!(s.feed(&ct).unwrap(), ct.len());
    assert!(!s.wants_read(), "backpressure while plaintext waits");
    let mut got = Vec::new();
    while got.len() < big.len() {
        let n = s.take_plaintext(&mut got, 1000).unwrap();
        assert!(n > 0 && n <= 1000);
    }
    assert_eq!(got, big);
    assert!(s.wants_read());
}

#[test]
fn client_close_notify_after_data() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    c.write_plaintext(b"last words").unwrap();
    c.send_close_notify();
    assert!(c.write_plaintext(b"more").is_err());
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    s.feed(&ct).unwrap();
    assert!(s.peer_closed());
    assert!(!s.wants_read());
    let mut got = Vec::new();
    s.take_plaintext(&mut got, 1000).unwrap();
    assert_eq!(got, b"last words", "buffered plaintext is delivered before close");
    assert_eq!(s.feed_eof(), Ok(()));
    // Answer with ours.
    s.send_close_notify();
    pump(&mut c, &mut s).unwrap();
    assert!(c.peer_closed());
    assert_eq!(c.feed_eof(), Ok(()));
}

#[test]
fn server_close_notify_tls12() {
    let (mut c, mut s) = connected(&rustls::version::TLS12);
    s.write_plaintext(b"bye").unwrap();
    s.send_close_notify();
    pump(&mut c, &mut s).unwrap();
    assert!(c.peer_closed());
    let mut got = Vec::new();
    c.take_plaintext(&mut got, 1000).unwrap();
    assert_eq!(got, b"bye");
    // Bytes after close_notify are ignored, not an error.
    assert!(c.feed(b"trailing junk").is_ok());
}

#[test]
fn truncated_stream_after_handshake_keeps_data() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    c.write_plaintext(b"partial").unwrap();
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    s.feed(&ct).unwrap();
    let e = s.feed_eof().unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Truncated);
    assert!(e.message.contains("close_notify"), "{e}");
    let mut got = Vec::new();
    s.take_plaintext(&mut got, 100).unwrap();
    assert_eq!(got, b"partial");
}

#[test]
fn truncated_record_then_eof() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    c.write_plaintext(b"0123456789").unwrap();
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    s.feed(&ct[..ct.len() / 2]).unwrap();
    let mut got = Vec::new();
    assert_eq!(s.take_plaintext(&mut got, 100).unwrap(), 0);
    assert_eq!(s.feed_eof().unwrap_err().kind, TlsErrorKind::Truncated);
}

#[test]
fn eof_during_handshake_is_an_error() {
    let p = pki();
    let (mut c, mut s) = pair_with(
        client_config(&client_opts(p)).unwrap(),
        server_config(&server_opts(p)).unwrap(),
        "localhost",
    );
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    s.feed(&ct[..10]).unwrap();
    let e = s.feed_eof().unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Truncated);
    assert!(e.message.contains("handshake"), "{e}");
    assert!(s.feed(b"x").is_err(), "the session is dead");
}

fn handshake_error(ccfg: Arc<ClientConfig>, scfg: Arc<ServerConfig>, name: &str) -> (Side, TlsError, Option<TlsError>) {
    let (mut c, mut s) = pair_with(ccfg, scfg, name);
    let (side, e) = pump(&mut c, &mut s).unwrap_err();
    let other = match side {
        Side::Client => s.error().cloned(),
        Side::Server => c.error().cloned(),
    };
    (side, e, other)
}

#[test]
fn error_messages_read_well() {
    // Run with --nocapture to see what a C handler would get in MG_EV_ERROR.
    let p = pki();
    let other = client_config(&TlsOptions {
        ca: p.other_ca.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let expired = server_config(&TlsOptions {
        cert: p.expired_cert.as_bytes(),
        key: p.expired_key.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let good = server_config(&server_opts(p)).unwrap();
    let cases = [
        (other, good.clone(), "localhost"),
        (client_config(&client_opts(p)).unwrap(), good, "example.com"),
        (client_config(&client_opts(p)).unwrap(), expired, "localhost"),
        (client_config(&client_opts(p)).unwrap(), mtls_server(p), "localhost"),
    ];
    for (ccfg, scfg, name) in cases {
        let (mut c, mut s) = pair_with(ccfg, scfg, name);
        let _ = pump(&mut c, &mut s);
        let (ce, se) = (c.error().map(|e| &e.message), s.error().map(|e| &e.message));
        std::println!("client: {ce:?}\nserver: {se:?}");
        // Both sides learn of the failure (one from the other's alert), in a sentence that
        // says it is about TLS and what went wrong.
        for m in [ce, se] {
            let m = m.expect("both sides report the failure");
            assert!(m.starts_with("TLS: ") && m.len() > 20, "{m}");
        }
    }
}

#[test]
fn unknown_ca_is_reported_on_both_sides() {
    let p = pki();
    let ccfg = client_config(&TlsOptions {
        ca: p.other_ca.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let (side, e, other) = handshake_error(ccfg, server_config(&server_opts(p)).unwrap(), "localhost");
    assert_eq!(side, Side::Client);
    assert_eq!(e.kind, TlsErrorKind::UnknownCa);
    assert!(e.message.contains("unknown CA"), "{e}");
    let other = other.expect("server learns from the alert");
    assert!(matches!(other.kind, TlsErrorKind::PeerAlert(_)), "{other:?}");
    assert!(other.message.contains("peer sent alert"), "{other}");
}

#[test]
fn name_mismatch() {
    let p = pki();
    let (side, e, _) = handshake_error(
        client_config(&client_opts(p)).unwrap(),
        server_config(&server_opts(p)).unwrap(),
        "example.com",
    );
    assert_eq!(side, Side::Client);
    assert_eq!(e.kind, TlsErrorKind::NameMismatch);
    assert!(e.message.contains("name mismatch"), "{e}");
}

#[test]
fn ip_address_name_is_verified() {
    let p = pki();
    let (mut c, mut s) = pair_with(
        client_config(&client_opts(p)).unwrap(),
        server_config(&server_opts(p)).unwrap(),
        "127.0.0.1",
    );
    pump(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking());
    let (_, e, _) = handshake_error(
        client_config(&client_opts(p)).unwrap(),
        server_config(&server_opts(p)).unwrap(),
        "10.1.2.3",
    );
    assert_eq!(e.kind, TlsErrorKind::NameMismatch);
}

#[test]
fn expired_certificate() {
    let p = pki();
    let scfg = server_config(&TlsOptions {
        cert: p.expired_cert.as_bytes(),
        key: p.expired_key.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let (side, e, _) = handshake_error(client_config(&client_opts(p)).unwrap(), scfg, "localhost");
    assert_eq!(side, Side::Client);
    assert_eq!(e.kind, TlsErrorKind::Expired);
    assert!(e.message.contains("expired"), "{e}");
}

#[test]
fn skip_verification_accepts_anything() {
    let p = pki();
    let ccfg = client_config(&TlsOptions {
        skip_verification: true,
        ..Default::default()
    })
    .unwrap();
    let scfg = server_config(&TlsOptions {
        cert: p.expired_cert.as_bytes(),
        key: p.expired_key.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let (mut c, mut s) = pair_with(ccfg, scfg, "whatever.example");
    pump(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking());
}

fn mtls_server(p: &Pki) -> Arc<ServerConfig> {
    server_config(&TlsOptions {
        ca: p.ca.as_bytes(),
        ..server_opts(p)
    })
    .unwrap()
}

#[test]
fn mutual_tls_succeeds_with_a_client_certificate() {
    let p = pki();
    let via_options = client_config(&TlsOptions {
        cert: p.client_cert.as_bytes(),
        key: p.client_key.as_bytes(),
        ..client_opts(p)
    })
    .unwrap();
    let auth = Some((p.client_cert.as_str(), p.client_key.as_str()));
    for (ccfg, v) in [
        (via_options, 0x0304),
        (client_config_version_auth(p, &rustls::version::TLS13, auth), 0x0304),
        (client_config_version_auth(p, &rustls::version::TLS12, auth), 0x0303),
    ] {
        let (mut c, mut s) = pair_with(ccfg, mtls_server(p), "localhost");
        pump(&mut c, &mut s).unwrap();
        assert!(!s.is_handshaking());
        assert_eq!(s.protocol_version(), Some(v));
        assert!(s.peer_certificates().is_some_and(|v| v.len() == 1));
        assert_eq!(transfer(&mut c, &mut s, b"ping"), b"ping");
    }
}

#[test]
fn mutual_tls_without_client_certificate_fails() {
    let p = pki();
    for v in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let (mut c, mut s) = pair_with(client_config_version(p, v), mtls_server(p), "localhost");
        let _ = pump(&mut c, &mut s);
        let se = s.error().cloned().expect("server refuses");
        assert_eq!(se.kind, TlsErrorKind::NoPeerCertificate, "{se}");
        assert!(se.message.contains("no certificate"), "{se}");
        let ce = c.error().cloned().expect("client learns from the alert");
        assert!(matches!(ce.kind, TlsErrorKind::PeerAlert(_)), "{ce}");
    }
}

#[test]
fn mutual_tls_with_a_certificate_from_another_ca_fails() {
    let p = pki();
    let ccfg = client_config(&TlsOptions {
        cert: p.stranger_cert.as_bytes(),
        key: p.stranger_key.as_bytes(),
        ..client_opts(p)
    })
    .unwrap();
    let (mut c, mut s) = pair_with(ccfg, mtls_server(p), "localhost");
    let _ = pump(&mut c, &mut s);
    let se = s.error().cloned().expect("server refuses");
    assert_eq!(se.kind, TlsErrorKind::UnknownCa, "{se}");
}

#[test]
fn garbage_from_the_peer_is_a_protocol_error() {
    let p = pki();
    let mut s = TlsSession::server(server_config(&server_opts(p)).unwrap()).unwrap();
    let e = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Protocol, "{e}");
    assert!(e.message.contains("protocol error"), "{e}");
    assert_eq!(s.feed(b"more").unwrap_err(), e, "errors are sticky");
    assert!(s.write_plaintext(b"x").is_err());
    let mut alert = Vec::new();
    s.take_ciphertext(&mut alert);
    assert!(!alert.is_empty(), "a fatal alert is queued for the peer");
    assert!(!s.wants_read());
    assert!(!s.handshake_just_completed());
}

#[test]
fn garbage_after_the_handshake_is_a_protocol_error() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    // A well-formed application-data record header with a body that does not decrypt.
    let mut rec = alloc::vec![0x17, 0x03, 0x03, 0x00, 0x20];
    rec.extend_from_slice(&[0xAA; 32]);
    let e = s.feed(&rec).unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Protocol, "{e}");
    let mut alert = Vec::new();
    s.take_ciphertext(&mut alert);
    let e = c.feed(&alert).unwrap_err();
    assert!(matches!(e.kind, TlsErrorKind::PeerAlert(_)), "{e}");
}

#[test]
fn shrink_idle_keeps_the_session_working() {
    let (mut c, mut s) = connected(&rustls::version::TLS13);
    let big = pattern(50_000);
    assert_eq!(transfer(&mut c, &mut s, &big), big);
    c.shrink_idle();
    s.shrink_idle();
    assert!(s.wants_read());
    assert_eq!(transfer(&mut c, &mut s, b"after"), b"after");
    assert_eq!(transfer(&mut s, &mut c, b"reply"), b"reply");
}

// ---- configuration ------------------------------------------------------------------------

#[test]
fn bad_pem_and_mismatched_keys_are_config_errors() {
    let p = pki();
    let e = build_server_config(&TlsOptions {
        cert: b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        key: p.server_key.as_bytes(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Config);
    assert!(e.message.contains("cert"), "{e}");

    let mismatched = build_server_config(&TlsOptions {
        cert: p.server_cert.as_bytes(),
        key: p.client_key.as_bytes(),
        ..Default::default()
    });
    if cfg!(feature = "tls-ring") {
        let e = mismatched.unwrap_err();
        assert_eq!(e.kind, TlsErrorKind::Config, "{e}");
        assert!(e.message.contains("cert/key"), "{e}");
    } else {
        // rustls-rustcrypto's keys do not expose their public key, so rustls cannot compare
        // them with the certificate up front: the client catches it in the handshake.
        let (side, e, _) = handshake_error(
            client_config(&client_opts(p)).unwrap(),
            mismatched.unwrap(),
            "localhost",
        );
        assert_eq!(side, Side::Client);
        assert_eq!(e.kind, TlsErrorKind::BadCertificate, "{e}");
    }

    let e = build_server_config(&TlsOptions {
        cert: p.server_cert.as_bytes(),
        key: b"garbage",
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.message.contains("key"), "{e}");

    let e = build_server_config(&TlsOptions::default()).unwrap_err();
    assert!(e.message.contains("no certificate"), "{e}");

    let e = build_client_config(&TlsOptions::default()).unwrap_err();
    assert!(e.message.contains("no CA"), "{e}");

    let e = build_client_config(&TlsOptions {
        ca: b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.kind, TlsErrorKind::Config, "{e}");

    let e = build_client_config(&TlsOptions {
        ca: b"\x30\x03\x02\x01\x00",
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.message.contains("ca"), "{e}");

    assert!(TlsSession::client(client_config(&client_opts(p)).unwrap(), "bad name!").is_err());
    assert!(TlsSetup::Client {
        config: client_config(&client_opts(p)).unwrap(),
        name: None
    }
    .into_session(None)
    .is_err());
}

#[test]
fn der_and_combined_pem_inputs_work() {
    let p = pki();
    let der = build_server_config(&TlsOptions {
        cert: &p.server_cert_der,
        key: &p.server_key_der,
        ..Default::default()
    })
    .unwrap();
    let combined = String::new() + &p.server_cert + &p.server_key + "\0";
    let comb = build_server_config(&TlsOptions {
        cert: combined.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    for scfg in [der, comb] {
        let (mut c, mut s) = pair_with(client_config(&client_opts(p)).unwrap(), scfg, "localhost");
        pump(&mut c, &mut s).unwrap();
        assert!(!s.is_handshaking());
    }
}

#[test]
fn configs_are_cached_by_content() {
    // A cache of its own: the process's one is shared with the tests running beside this one,
    // which could push an entry out between two look-ups.
    let cache = ConfigCache::new();
    let p = pki();
    let a = cache.server(&server_opts(p)).unwrap();
    let b = cache.server(&server_opts(p)).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "same bytes, same config");
    let with_nul = String::new() + &p.server_cert + "\0";
    let c = cache
        .server(&TlsOptions {
            cert: with_nul.as_bytes(),
            ..server_opts(p)
        })
        .unwrap();
    assert!(Arc::ptr_eq(&a, &c), "trailing NULs do not matter");
    let d = cache
        .server(&TlsOptions {
            ca: p.ca.as_bytes(),
            ..server_opts(p)
        })
        .unwrap();
    assert!(!Arc::ptr_eq(&a, &d));
    let x = cache.client(&client_opts(p)).unwrap();
    let y = cache.client(&client_opts(p)).unwrap();
    assert!(Arc::ptr_eq(&x, &y));
    let z = cache
        .client(&TlsOptions {
            alpn_http11: false,
            ..client_opts(p)
        })
        .unwrap();
    assert!(!Arc::ptr_eq(&x, &z));
}

#[test]
fn provider_can_be_installed_as_process_default() {
    assert!(install_default_provider());
    assert!(install_default_provider(), "idempotent");
}

// ---- never panic on hostile input ---------------------------------------------------------

fn client_hello() -> Vec<u8> {
    let p = pki();
    let mut c = TlsSession::client(client_config(&client_opts(p)).unwrap(), "localhost").unwrap();
    let mut ct = Vec::new();
    c.take_ciphertext(&mut ct);
    ct
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..8)) {
        let p = pki();
        let mut s = TlsSession::server(server_config(&server_opts(p)).unwrap()).unwrap();
        for ch in &chunks {
            let _ = s.feed(ch);
            let mut out = Vec::new();
            let _ = s.take_plaintext(&mut out, 1 << 20);
            s.take_ciphertext(&mut out);
            let _ = s.handshake_just_completed();
        }
        let _ = s.feed_eof();
        s.shrink_idle();
    }

    #[test]
    fn mutated_client_hello_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), split in any::<prop::sample::Index>()) {
        let p = pki();
        let mut hello = client_hello();
        for (i, x) in flips {
            let i = i.index(hello.len());
            hello[i] ^= x;
        }
        let mut s = TlsSession::server(server_config(&server_opts(p)).unwrap()).unwrap();
        let cut = split.index(hello.len() + 1);
        let _ = s.feed(&hello[..cut]);
        let _ = s.feed(&hello[cut..]);
        let mut out = Vec::new();
        s.take_ciphertext(&mut out);
        let _ = s.feed_eof();
    }
}

#[test]
fn v1_spki_reads_only_v1_certificates_and_never_panics() {
    let p = pki();
    let der = crate::tls::config::parse_certs("cert", p.server_cert.as_bytes()).unwrap();
    let der = der[0].as_ref();
    // A v3 certificate (rcgen makes v3): not v1, so not read.
    assert_eq!(crate::tls::config::v1_spki(der), None);
    // The same bytes with the `[0] version` element cut out of the TBSCertificate is v1:
    // rebuild the two enclosing lengths (long form, two bytes, as certificates this size use).
    assert_eq!((der[0], der[1], der[4], der[5], der[8]), (0x30, 0x82, 0x30, 0x82, 0xa0));
    let ver_len = 2 + der[9] as usize;
    let tbs_body = &der[8 + ver_len..8 + ((der[6] as usize) << 8 | der[7] as usize)];
    let after_tbs = &der[8 + ((der[6] as usize) << 8 | der[7] as usize)..];
    let mut tbs = vec![0x30, 0x82, (tbs_body.len() >> 8) as u8, tbs_body.len() as u8];
    tbs.extend_from_slice(tbs_body);
    let body_len = tbs.len() + after_tbs.len();
    let mut v1 = vec![0x30, 0x82, (body_len >> 8) as u8, body_len as u8];
    v1.extend_from_slice(&tbs);
    v1.extend_from_slice(after_tbs);
    let spki = crate::tls::config::v1_spki(&v1).expect("v1 SPKI");
    assert_eq!(spki[0], 0x30);
    let key = rcgen::KeyPair::from_pem(&p.server_key).unwrap();
    assert_eq!(spki, key.public_key_der().as_slice(), "the certificate's public key");
    // Truncated or damaged input: None, no panic.
    for cut in 0..v1.len() {
        assert_eq!(crate::tls::config::v1_spki(&v1[..cut]), None, "prefix {cut}");
    }
    for i in 0..64.min(v1.len()) {
        let mut bad = v1.clone();
        bad[i] ^= 0xff;
        let _ = crate::tls::config::v1_spki(&bad);
    }
}

#[test]
fn trailing_nuls_are_dropped_but_not_the_last_byte_of_der() {
    use super::config::material;
    // SEQUENCE { INTEGER 0 }: DER whose last byte is 0x00.
    let der = [0x30, 0x03, 0x02, 0x01, 0x00];
    assert_eq!(material(&der), &der[..]);
    assert_eq!(material(&[&der[..], b"\0\0"].concat()), &der[..]);
    // Long-form length (0x81 0x80: 128 content bytes), ending in 0x00.
    let mut long = alloc::vec![0x30, 0x81, 0x80];
    long.extend(core::iter::repeat_n(0x00, 128));
    long[3] = 0x04;
    assert_eq!(material(&[&long[..], b"\0"].concat()), &long[..]);
    // PEM (and anything else) loses its trailing NULs only.
    assert_eq!(material(b"-----BEGIN X-----\n\0\0"), b"-----BEGIN X-----\n");
    assert_eq!(material(b"\0\0"), b"");
    // A header that claims less than the non-NUL bytes (not DER): trailing NULs dropped.
    assert_eq!(material(&[0x30, 0x01, 0x05, 0x06, 0x00]), &[0x30, 0x01, 0x05, 0x06]);
}

/// A DER certificate and a DER key that each end in a 0x00 byte (1 in 256 do: the last byte
/// of an ECDSA signature, of a public key) are used whole: the server starts and handshakes.
/// (Trimming C's trailing NULs off DER made such a certificate fail to parse now and then.)
#[test]
fn der_certificate_and_key_ending_in_a_zero_byte_work() {
    let ca = make_ca("zero-ending CA");
    let key = (0..20_000)
        .map(|_| KeyPair::generate().unwrap())
        .find(|k| k.serialize_der().last() == Some(&0))
        .expect("a key whose DER ends in 0x00 within 20,000 tries");
    let mut p = CertificateParams::new(alloc::vec!["localhost".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    p.extended_key_usages = alloc::vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = (0..20_000)
        .map(|_| p.clone().signed_by(&key, &ca.0, &ca.1).unwrap())
        .find(|c| c.der().last() == Some(&0))
        .expect("a signature ending in 0x00 within 20,000 tries");
    let scfg = build_server_config(&TlsOptions {
        cert: cert.der(),
        key: &key.serialize_der(),
        ..Default::default()
    })
    .unwrap();
    let ca_pem = ca.0.pem();
    let ccfg = build_client_config(&TlsOptions {
        ca: ca_pem.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let (mut c, mut s) = pair_with(ccfg, scfg, "localhost");
    pump(&mut c, &mut s).unwrap();
    assert!(!s.is_handshaking());
}
