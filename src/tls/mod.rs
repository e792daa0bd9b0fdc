//! TLS through rustls, as a sans-IO byte pump between the socket and the protocol layers
//! (HTTP and WebSocket run unchanged on the plaintext).
//!
//! - [`TlsSession`]: one connection's TLS state (`feed` ciphertext, `take_plaintext`,
//!   `write_plaintext`, `take_ciphertext`, handshake/close edges). No sockets.
//! - [`TlsOptions`], [`server_config`], [`client_config`]: configurations from Mongoose-style
//!   options (PEM or DER), parsed once and shared through a small cache.
//! - [`TlsSetup`]: what the C API (`src/ffi/tls.rs`) hands to the event manager
//!   (`Mgr::attach_tls`, `src/mgr/tlsio.rs`), which builds the session.
//! - The crypto provider is chosen at build time: `tls-ring` (default) or `tls-rustcrypto`
//!   (pure Rust; when both are enabled, ring is used). See [`provider`].
#![forbid(unsafe_code)]
#![cfg(feature = "tls")]

#[cfg(not(any(feature = "tls-ring", feature = "tls-rustcrypto")))]
compile_error!("TLS needs a crypto provider: enable feature `tls-ring` (default) or `tls-rustcrypto` (pure Rust)");

pub mod config;
pub mod error;
pub mod session;

#[cfg(test)]
pub(crate) mod tests;

use alloc::string::String;
use alloc::sync::Arc;
use std::sync::OnceLock;

pub use config::{client_config, server_config, TlsOptions, ALPN_HTTP11};
pub use error::{TlsError, TlsErrorKind};
/// The rustls crate meerkat links (for building configurations by hand).
pub use rustls;
pub use rustls::crypto::CryptoProvider;
pub use rustls::{ClientConfig, ServerConfig};
pub use session::TlsSession;

extern crate alloc;

/// Name of the compiled-in crypto provider (`"ring"` or `"rustcrypto"`), for logs and tests.
pub const PROVIDER_NAME: &str = if cfg!(feature = "tls-ring") {
    "ring"
} else {
    "rustcrypto"
};

fn make_provider() -> CryptoProvider {
    #[cfg(feature = "tls-ring")]
    {
        rustls::crypto::ring::default_provider()
    }
    #[cfg(all(feature = "tls-rustcrypto", not(feature = "tls-ring")))]
    {
        rustls_rustcrypto::provider()
    }
    #[cfg(not(any(feature = "tls-ring", feature = "tls-rustcrypto")))]
    {
        unreachable!("no crypto provider (see the compile_error above)")
    }
}

/// The crypto provider every configuration built here uses (built once).
pub fn provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(make_provider())).clone()
}

/// Make the compiled-in provider rustls's process-wide default, unless one is already set.
/// rustls-ffi's `rustls_*_config_builder_new()` use the process default; with `tls-ring`
/// rustls-ffi installs ring itself, with `tls-rustcrypto` it has none of its own, so C code
/// must call `mg_tls_init_provider()` first. Returns true if ours is (now) the default.
pub fn install_default_provider() -> bool {
    if CryptoProvider::get_default().is_none() {
        let _ = make_provider().install_default();
    }
    CryptoProvider::get_default().is_some_and(|p| {
        let ours = provider();
        p.cipher_suites.len() == ours.cipher_suites.len()
            && p.cipher_suites
                .iter()
                .zip(ours.cipher_suites.iter())
                .all(|(a, b)| a.suite() == b.suite())
    })
}

/// What `mg_tls_init*` asks for; the manager turns it into a [`TlsSession`] (or, on a
/// listener, keeps it for the connections it accepts).
#[derive(Debug, Clone)]
pub enum TlsSetup {
    /// Server side: listeners and accepted connections.
    Server(Arc<ServerConfig>),
    /// Client side. `name`: the name to verify and send as SNI; `None` means "the host of
    /// the URL given to `mg_connect`", which only the manager knows.
    Client {
        config: Arc<ClientConfig>,
        name: Option<String>,
    },
}

impl TlsSetup {
    /// Build the session. `url_host` is used when the setup has no name of its own.
    pub fn into_session(self, url_host: Option<&str>) -> Result<TlsSession, TlsError> {
        match self {
            TlsSetup::Server(cfg) => TlsSession::server(cfg),
            TlsSetup::Client { config, name } => match name.as_deref().or(url_host) {
                Some(n) if !n.is_empty() => TlsSession::client(config, n),
                _ => Err(TlsError::config(
                    "TLS client: no server name (set opts.name or connect to a URL with a host)",
                )),
            },
        }
    }
}
