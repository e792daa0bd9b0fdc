//! TLS client pieces for tests that play a misbehaving client: a rustls client that trusts
//! anything (the tests check the server's survival, not its certificate) and the first
//! bytes such a client sends.
#![allow(dead_code)]

use std::sync::Arc;

pub fn client_config() -> Arc<rustls::ClientConfig> {
    meerkat::tls::client_config(&meerkat::tls::TlsOptions {
        skip_verification: true,
        ..Default::default()
    })
    .expect("client config")
}

/// A client connection for `localhost`, before any byte was exchanged.
pub fn tls_client() -> rustls::ClientConnection {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    rustls::ClientConnection::new(client_config(), name).expect("client connection")
}

/// The bytes of a ClientHello.
pub fn client_hello() -> Vec<u8> {
    let mut out = Vec::new();
    tls_client().write_tls(&mut out).expect("ClientHello");
    assert!(out.len() > 100 && out[0] == 22, "a handshake record");
    out
}
