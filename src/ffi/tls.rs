//! TLS set-up from C: Mongoose's `mg_tls_init` with `struct mg_tls_opts`, and full control
//! through rustls-ffi configurations (`mg_tls_init_server_config`, `mg_tls_init_client_config`).
//! Owner-thread calls; usually made from `MG_EV_ACCEPT` (server) or `MG_EV_CONNECT` (client).
//!
//! Failure closes the connection: the handler gets `MG_EV_ERROR` with a message saying what
//! was wrong, then `MG_EV_CLOSE`, and the call returns the error code. A connection that was
//! meant to be encrypted never goes on in plaintext, even when the caller ignores the result
//! (Mongoose's `mg_tls_init` returns `void`).
#![cfg(feature = "tls")]

use crate::prelude::*;
use alloc::sync::Arc;
use core::ffi::c_int;

use super::registry;
use super::types::*;
use super::{cast, guard_code};
use crate::ffi::error::*;
use crate::handle::Handle;
use crate::mgr::Mgr;
use crate::tls::{self, ClientConfig, TlsError, TlsOptions, TlsSetup};

extern crate alloc;

/// TLS options, as in Mongoose 7.x. Each `mg_str` may be PEM or DER (one certificate or key);
/// an empty one (`{NULL, 0}`) is unset. The bytes are read during the call only.
///
/// - Server (`mg_tls_init` in `MG_EV_ACCEPT`): `cert` and `key` are required (`key` may be
///   empty when `cert` holds the key too). With `ca`, clients must present a certificate
///   signed by it (mutual TLS).
/// - Client (`mg_tls_init` in `MG_EV_CONNECT`): `ca` lists the CAs trusted to sign the
///   server's certificate; it is required unless `skip_verification` is set (unlike Mongoose,
///   an empty `ca` does not mean "do not verify"). `name` is the name the certificate must be
///   valid for, also sent as SNI; when empty, the host of the URL is used. `cert` and `key`:
///   client certificate for mutual TLS.
/// - `skip_verification`: non-zero disables every check of the server's certificate and name.
///   For testing only: anyone on the path can then read and change the traffic.
///
/// Certificates and keys are parsed once: connections set up with the same bytes share one
/// configuration.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_tls_opts {
    pub ca: mg_str,
    pub cert: mg_str,
    pub key: mg_str,
    pub name: mg_str,
    pub skip_verification: c_int,
}

/// The connection's side and whether it speaks HTTP, or `MG_ERR_STALE`.
fn role(m: &Mgr, h: Handle) -> Result<(bool, bool), c_int> {
    let i = m.info(h)?;
    Ok((i.is_client, i.is_http))
}

/// Put `setup` on the connection. Any failure is reported the Mongoose way (`MG_EV_ERROR`
/// with the reason, then close) and returned as `MG_ERR_INVALID`.
fn install(m: &Mgr, h: Handle, setup: Result<TlsSetup, TlsError>) -> Result<c_int, c_int> {
    match setup.map_err(|e| e.message).and_then(|s| m.attach_tls(h, s)) {
        Ok(()) => Ok(MG_OK),
        Err(msg) => {
            m.fail(h, &msg);
            Err(MG_ERR_INVALID)
        }
    }
}

fn bad_arg(what: &str) -> TlsError {
    TlsError::config(format!(
        "TLS: invalid {what} (NULL pointer with a length, or not UTF-8)"
    ))
}

/// An optional name from an `mg_str` (stops at a NUL); must be UTF-8.
fn name_from(s: mg_str) -> Result<Option<String>, TlsError> {
    let b = cast::mg_str_bytes(s).map_err(|_| bad_arg("name"))?;
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    if b.is_empty() {
        return Ok(None);
    }
    core::str::from_utf8(b)
        .map(|n| Some(n.to_string()))
        .map_err(|_| bad_arg("name"))
}

/// A client set-up with `config` and the name in `name` (empty: the URL's host), checked now
/// so that a bad name fails the `mg_tls_init*` call rather than the handshake.
fn client_setup(config: Arc<ClientConfig>, name: mg_str) -> Result<TlsSetup, TlsError> {
    let name = name_from(name)?;
    if let Some(n) = &name {
        tls::config::server_name(n)?;
    }
    Ok(TlsSetup::Client { config, name })
}

fn setup_from_opts(opts: *const mg_tls_opts, client: bool, http: bool) -> Result<TlsSetup, TlsError> {
    let o = cast::as_ref(opts).map_err(|_| TlsError::config("TLS: opts is NULL"))?;
    let options = TlsOptions {
        ca: cast::mg_str_bytes(o.ca).map_err(|_| bad_arg("ca"))?,
        cert: cast::mg_str_bytes(o.cert).map_err(|_| bad_arg("cert"))?,
        key: cast::mg_str_bytes(o.key).map_err(|_| bad_arg("key"))?,
        skip_verification: o.skip_verification != 0,
        // Clients offer http/1.1 (harmless to non-HTTP servers); HTTP servers select it. Other
        // servers set no ALPN, so TLS clients of other protocols are not refused.
        alpn_http11: client || http,
    };
    if client {
        client_setup(tls::client_config(&options)?, o.name)
    } else {
        tls::server_config(&options).map(TlsSetup::Server)
    }
}

/// Start TLS on connection `c` with Mongoose-style options (see `struct mg_tls_opts`). Call it
/// from `MG_EV_ACCEPT` for accepted connections or `MG_EV_CONNECT` for clients; on a
/// listener the options apply to every connection it accepts. When the handshake completes
/// the handler gets `MG_EV_TLS_HS`; data sent before that is held until then.
///
/// Returns 0, `MG_ERR_STALE`, `MG_ERR_WRONG_THREAD` (nothing done), or an error that also
/// closes the connection (`MG_EV_ERROR` with a message saying what failed, then
/// `MG_EV_CLOSE`): `MG_ERR_INVALID` for NULL `opts`, a (NULL, n > 0) string, an unparsable
/// certificate or key, a key that does not match the certificate, a client without `ca` and
/// without `skip_verification`, a bad `name`. NOTE for ports from Mongoose: returns `int`
/// (Mongoose: `void`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_tls_init(c: mg_conn, opts: *const mg_tls_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let (client, http) = role(m, h)?;
        install(m, h, setup_from_opts(opts, client, http))
    })
}

/// Make meerkat's compiled-in crypto provider (ring by default; RustCrypto in pure-Rust builds)
/// rustls's process-wide default, unless one is already set. rustls-ffi's
/// `rustls_server_config_builder_new()` / `rustls_client_config_builder_new()` and
/// `rustls_certified_key_build()` need a default provider: with the ring build rustls-ffi
/// installs one itself; with the pure-Rust build call this first. Returns 0 when meerkat's
/// provider is the default, `MG_ERR_UNSUPPORTED` when another one was installed before.
/// Any thread.
#[no_mangle]
pub extern "C" fn mg_tls_init_provider() -> c_int {
    guard_code(|| {
        if tls::install_default_provider() {
            Ok(MG_OK)
        } else {
            Err(MG_ERR_UNSUPPORTED)
        }
    })
}

#[cfg(feature = "tls-ffi")]
pub use with_rustls_ffi::*;

#[cfg(feature = "tls-ffi")]
mod with_rustls_ffi {
    //! Configurations built by C code with the rustls-ffi API (`rustls.h`, linked into
    //! `libmeerkat.a`).
    //!
    //! Coupling, pinned to rustls-ffi 0.15.7 with rustls 0.23.46 (`=` versions in
    //! Cargo.toml): rustls-ffi hands C a `const struct rustls_server_config *` that is
    //! `Arc::into_raw(Arc<rustls::ServerConfig>)` (`rustls_server_config_builder_build` →
    //! `set_arc_mut_ptr` → `to_arc_const_ptr` in its `ffi.rs`; `rustls_server_config_free` is
    //! `Arc::from_raw` + drop), and the same for `rustls_client_config` / `ClientConfig`. Its
    //! own conversion helpers (`Castable`, `clone_arc`) are `pub(crate)`, so there is no Rust
    //! API for this; we do what its `clone_arc` does: take one more strong reference
    //! (`Arc::increment_strong_count`) and adopt it (`Arc::from_raw`). That is sound only if
    //! both crates use the very same `rustls` crate, which the compile-time check below
    //! proves (it fails to build if rustls-ffi's `rustls` differs from ours). Re-read
    //! rustls-ffi's `ffi.rs`, `server.rs` and `client.rs` before changing either pin.

    use core::ffi::c_int;

    use super::*;
    use crate::tls::ServerConfig;

    // Compiles only when rustls-ffi's `rustls::HandshakeKind` is our `rustls::HandshakeKind`,
    // i.e. both crates link one and the same rustls.
    const _SAME_RUSTLS: fn(rustls::HandshakeKind) -> rustls_ffi::enums::rustls_handshake_kind =
        <rustls_ffi::enums::rustls_handshake_kind as From<rustls::HandshakeKind>>::from;

    /// A server configuration built with rustls-ffi (`rustls_server_config_builder_build`).
    /// Declared in `rustls.h`; opaque here.
    pub struct rustls_server_config {
        _private: [u8; 0],
    }

    /// A client configuration built with rustls-ffi (`rustls_client_config_builder_build`).
    /// Declared in `rustls.h`; opaque here.
    pub struct rustls_client_config {
        _private: [u8; 0],
    }

    /// Take a new strong reference to the `Arc<T>` behind a pointer from rustls-ffi.
    ///
    /// # Safety
    /// `p` is NULL or was returned by `Arc::<T>::into_raw` (rustls-ffi's `*_builder_build`) and
    /// the caller still holds that reference (has not called `rustls_*_config_free`) for the
    /// duration of this call.
    unsafe fn clone_arc<T>(p: *const T) -> Result<Arc<T>, TlsError> {
        if p.is_null() || !p.is_aligned() {
            return Err(TlsError::config(
                "TLS: the rustls-ffi configuration pointer is NULL or misaligned",
            ));
        }
        // SAFETY: per this function's contract, `p` came from `Arc::<T>::into_raw` and its
        // reference is alive, so the count is at least 1 and may be incremented.
        unsafe { Arc::increment_strong_count(p) };
        // SAFETY: `p` came from `Arc::<T>::into_raw` (same `T`, same allocator: one build),
        // and we adopt exactly the reference taken just above.
        Ok(unsafe { Arc::from_raw(p) })
    }

    pub(crate) fn server_config_from_ffi(cfg: *const rustls_server_config) -> Result<Arc<ServerConfig>, TlsError> {
        // SAFETY: the C contract of `mg_tls_init_server_config`: `cfg` is NULL or a live
        // pointer from `rustls_server_config_builder_build`, which is
        // `Arc::<rustls::ServerConfig>::into_raw` (see the module comment).
        unsafe { clone_arc(cfg as *const ServerConfig) }
    }

    pub(crate) fn client_config_from_ffi(cfg: *const rustls_client_config) -> Result<Arc<ClientConfig>, TlsError> {
        // SAFETY: as above, for `rustls_client_config_builder_build` / `rustls::ClientConfig`.
        unsafe { clone_arc(cfg as *const ClientConfig) }
    }

    /// Start TLS on connection `c` (an accepted connection, or a listener: then for each
    /// connection it accepts) with a server configuration built by the rustls-ffi API. Gives
    /// full control: versions, cipher suites, client verification, ALPN, SNI-based
    /// certificate choice, session storage.
    ///
    /// Ownership: meerkat takes its own reference to `cfg`; the caller may call
    /// `rustls_server_config_free(cfg)` right after this returns. `cfg` must be NULL or a
    /// live pointer returned by `rustls_server_config_builder_build()` of the rustls-ffi
    /// linked into this library (anything else is undefined behaviour).
    ///
    /// Returns 0, `MG_ERR_STALE`, `MG_ERR_WRONG_THREAD` (nothing done), or an error that also
    /// closes the connection with `MG_EV_ERROR`: `MG_ERR_INVALID` for a NULL `cfg` or a
    /// client connection. Owner thread.
    #[no_mangle]
    pub extern "C" fn mg_tls_init_server_config(c: mg_conn, cfg: *const rustls_server_config) -> c_int {
        guard_code(|| {
            let (m, h) = registry::conn(c)?;
            let setup = if role(m, h)?.0 {
                Err(TlsError::config(
                    "TLS: a server configuration was given for a client connection",
                ))
            } else {
                server_config_from_ffi(cfg).map(TlsSetup::Server)
            };
            install(m, h, setup)
        })
    }

    /// Start TLS on client connection `c` with a client configuration built by the rustls-ffi
    /// API. `name`: the name the server's certificate must be valid for (also sent as SNI);
    /// empty means the host of the URL given to `mg_connect`.
    ///
    /// Ownership: as for `mg_tls_init_server_config` (`rustls_client_config_free(cfg)` may
    /// follow right after the call); `name` is read during the call only.
    ///
    /// Returns 0, `MG_ERR_STALE`, `MG_ERR_WRONG_THREAD` (nothing done), or an error that also
    /// closes the connection with `MG_EV_ERROR`: `MG_ERR_INVALID` for a NULL `cfg`, a bad
    /// `name`, or a server connection. Owner thread.
    #[no_mangle]
    pub extern "C" fn mg_tls_init_client_config(c: mg_conn, cfg: *const rustls_client_config, name: mg_str) -> c_int {
        guard_code(|| {
            let (m, h) = registry::conn(c)?;
            let setup = if role(m, h)?.0 {
                client_config_from_ffi(cfg).and_then(|config| client_setup(config, name))
            } else {
                Err(TlsError::config(
                    "TLS: a client configuration was given for a server connection",
                ))
            };
            install(m, h, setup)
        })
    }
}

#[cfg(test)]
mod tests {
    use core::cell::RefCell;
    use core::ffi::{c_char, c_int, c_void, CStr};

    use super::*;
    use crate::ffi::conn::mg_listen;
    use crate::ffi::mgr::{mg_mgr_free, mg_mgr_init};
    use crate::tls::tests::pki;

    std::thread_local! {
        static EVENTS: RefCell<Vec<(c_int, String)>> = const { RefCell::new(Vec::new()) };
    }

    unsafe extern "C" fn record(_c: mg_conn, ev: c_int, ev_data: *mut c_void) {
        let text = if ev == MG_EV_ERROR && !ev_data.is_null() {
            // SAFETY: MG_EV_ERROR carries a NUL-terminated message valid during the call.
            unsafe { CStr::from_ptr(ev_data as *const c_char) }
                .to_string_lossy()
                .into_owned()
        } else {
            String::new()
        };
        EVENTS.with(|e| e.borrow_mut().push((ev, text)));
    }

    fn take_errors() -> Vec<String> {
        EVENTS.with(|e| {
            e.borrow_mut()
                .drain(..)
                .filter(|(ev, _)| *ev == MG_EV_ERROR)
                .map(|(_, t)| t)
                .collect()
        })
    }

    fn s(b: &[u8]) -> mg_str {
        mg_str::from_bytes(b)
    }

    fn listener(mgr: &mut mg_mgr) -> mg_conn {
        let l = mg_listen(mgr, c"tcp://127.0.0.1:0".as_ptr(), Some(record), core::ptr::null_mut());
        assert_ne!(l.h, 0);
        l
    }

    #[test]
    fn mg_tls_init_validates_options_and_fails_closed() {
        let p = pki();
        let mut mgr = mg_mgr {
            internal: core::ptr::null_mut(),
            userdata: core::ptr::null_mut(),
        };
        assert_eq!(mg_mgr_init(&mut mgr), MG_OK);

        // Bad PEM: MG_ERR_INVALID, and the handler hears why.
        let l = listener(&mut mgr);
        take_errors();
        let bad = mg_tls_opts {
            ca: mg_str::EMPTY,
            cert: s(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"),
            key: s(p.server_key.as_bytes()),
            name: mg_str::EMPTY,
            skip_verification: 0,
        };
        assert_eq!(mg_tls_init(l, &bad), MG_ERR_INVALID);
        let errs = take_errors();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("TLS cert"), "{errs:?}");

        // NULL options and (NULL, n) strings: invalid, reported, connection closed.
        let l = listener(&mut mgr);
        assert_eq!(mg_tls_init(l, core::ptr::null()), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("opts is NULL"));
        let l = listener(&mut mgr);
        let nullstr = mg_tls_opts {
            cert: mg_str {
                buf: core::ptr::null_mut(),
                len: 5,
            },
            ..bad
        };
        assert_eq!(mg_tls_init(l, &nullstr), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("invalid cert"));

        // Good options: the configuration is built; the manager seam decides the rest.
        let l = listener(&mut mgr);
        let good = mg_tls_opts {
            cert: s(p.server_cert.as_bytes()),
            key: s(p.server_key.as_bytes()),
            ..bad
        };
        assert_eq!(mg_tls_init(l, &good), MG_OK);
        assert!(take_errors().is_empty(), "a good set-up reports nothing");

        // Clients: no CA and no skip_verification, or a name that is not a host name.
        let c = client(&mut mgr);
        assert_eq!(mg_tls_init(c, &good), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("no CA"));
        let c = client(&mut mgr);
        let bad_name = mg_tls_opts {
            ca: s(p.ca.as_bytes()),
            name: s(b"not a host!"),
            ..good
        };
        assert_eq!(mg_tls_init(c, &bad_name), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("TLS name"));
        let c = client(&mut mgr);
        assert_eq!(
            mg_tls_init(
                c,
                &mg_tls_opts {
                    name: s(b"localhost\0"),
                    ..bad_name
                }
            ),
            MG_OK
        );
        assert!(take_errors().is_empty());

        // Stale handles: nothing happens.
        assert_eq!(mg_tls_init(mg_conn { h: 0 }, &good), MG_ERR_STALE);
        assert_eq!(mg_mgr_free(&mut mgr), MG_OK);
        assert_eq!(mg_tls_init(l, &good), MG_ERR_STALE);
    }

    /// A client connection that is never polled, so it stays in "connecting" quietly.
    fn client(mgr: &mut mg_mgr) -> mg_conn {
        let c = crate::ffi::conn::mg_connect(mgr, c"tcp://127.0.0.1:1".as_ptr(), Some(record), core::ptr::null_mut());
        assert_ne!(c.h, 0);
        c
    }

    /// The rustls-ffi entry points refuse a NULL configuration and a configuration for the
    /// other side, and say so in `MG_EV_ERROR`.
    #[cfg(feature = "tls-ffi")]
    #[test]
    fn rustls_ffi_entry_points_fail_closed() {
        let mut mgr = mg_mgr {
            internal: core::ptr::null_mut(),
            userdata: core::ptr::null_mut(),
        };
        assert_eq!(mg_mgr_init(&mut mgr), MG_OK);
        take_errors();
        let l = listener(&mut mgr);
        assert_eq!(mg_tls_init_server_config(l, core::ptr::null()), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("NULL"));
        let l = listener(&mut mgr);
        assert_eq!(
            mg_tls_init_client_config(l, core::ptr::null(), mg_str::EMPTY),
            MG_ERR_INVALID
        );
        assert!(take_errors()[0].contains("client configuration was given for a server"));
        let c = client(&mut mgr);
        assert_eq!(mg_tls_init_server_config(c, core::ptr::null()), MG_ERR_INVALID);
        assert!(take_errors()[0].contains("server configuration was given for a client"));
        let c = client(&mut mgr);
        assert_eq!(
            mg_tls_init_client_config(c, core::ptr::null(), mg_str::EMPTY),
            MG_ERR_INVALID
        );
        assert!(take_errors()[0].contains("NULL"));
        // The connection is closing: refused again, without a second MG_EV_ERROR; after the
        // next poll it is gone.
        assert_eq!(
            mg_tls_init_client_config(c, core::ptr::null(), mg_str::EMPTY),
            MG_ERR_INVALID
        );
        assert!(take_errors().is_empty());
        assert_eq!(crate::ffi::mgr::mg_mgr_poll(&mut mgr, 0), MG_OK);
        assert_eq!(
            mg_tls_init_client_config(c, core::ptr::null(), mg_str::EMPTY),
            MG_ERR_STALE
        );
        assert_eq!(mg_mgr_free(&mut mgr), MG_OK);
    }

    #[cfg(feature = "tls-ffi")]
    mod rustls_ffi_configs {
        use alloc::sync::Arc;

        use core::ffi::c_void;
        use rustls_ffi::certificate::{rustls_certified_key, rustls_root_cert_store, rustls_root_cert_store_builder};
        use rustls_ffi::client::rustls_client_config_builder;
        use rustls_ffi::rustls_result;
        use rustls_ffi::server::rustls_server_config_builder;
        use rustls_ffi::verifier::rustls_server_cert_verifier;

        use super::super::*;
        use crate::tls::tests::pki;
        use crate::tls::TlsSession;

        extern crate alloc;

        // These builder functions live on a crate-private Rust type in rustls-ffi; call them
        // through their C symbols, as C code does.
        // Opaque pointers are declared as `c_void` here, as a C header would leave them.
        extern "C" {
            fn rustls_web_pki_server_cert_verifier_builder_new(store: *const c_void) -> *mut c_void;
            fn rustls_web_pki_server_cert_verifier_builder_build(
                builder: *mut c_void,
                verifier_out: *mut *mut c_void,
            ) -> rustls_result;
            fn rustls_web_pki_server_cert_verifier_builder_free(builder: *mut c_void);
        }

        fn handshake(mut c: TlsSession, mut s: TlsSession) {
            for _ in 0..10 {
                let mut buf = Vec::new();
                c.take_ciphertext(&mut buf);
                s.feed(&buf).unwrap();
                buf.clear();
                s.take_ciphertext(&mut buf);
                c.feed(&buf).unwrap();
            }
            assert!(!c.is_handshaking() && !s.is_handshaking());
            c.write_plaintext(b"hi").unwrap();
            let mut buf = Vec::new();
            c.take_ciphertext(&mut buf);
            s.feed(&buf).unwrap();
            let mut got = Vec::new();
            s.take_plaintext(&mut got, 10).unwrap();
            assert_eq!(got, b"hi");
        }

        /// A server configuration built through the rustls-ffi C API is usable by meerkat,
        /// and outlives the C caller's reference.
        #[test]
        fn server_config_from_rustls_ffi() {
            let p = pki();
            crate::tls::install_default_provider();
            let mut ck: *const rustls_certified_key = core::ptr::null();
            let r = rustls_certified_key::rustls_certified_key_build(
                p.server_cert.as_ptr(),
                p.server_cert.len(),
                p.server_key.as_ptr(),
                p.server_key.len(),
                &mut ck,
            );
            assert!(matches!(r, rustls_result::Ok));
            let b = rustls_server_config_builder::rustls_server_config_builder_new();
            let r = rustls_server_config_builder::rustls_server_config_builder_set_certified_keys(b, &ck, 1);
            assert!(matches!(r, rustls_result::Ok));
            let mut cfg: *const rustls_ffi::server::rustls_server_config = core::ptr::null();
            let r = rustls_server_config_builder::rustls_server_config_builder_build(b, &mut cfg);
            assert!(matches!(r, rustls_result::Ok));

            let ours = server_config_from_ffi(cfg as *const rustls_server_config).unwrap();
            assert_eq!(Arc::strong_count(&ours), 2);
            rustls_ffi::server::rustls_server_config::rustls_server_config_free(cfg);
            rustls_certified_key::rustls_certified_key_free(ck);
            assert_eq!(Arc::strong_count(&ours), 1, "meerkat holds its own reference");

            let client = crate::tls::client_config(&crate::tls::TlsOptions {
                ca: p.ca.as_bytes(),
                ..Default::default()
            })
            .unwrap();
            handshake(
                TlsSession::client(client, "localhost").unwrap(),
                TlsSession::server(ours).unwrap(),
            );
            assert!(server_config_from_ffi(core::ptr::null()).is_err());
        }

        #[test]
        fn client_config_from_rustls_ffi() {
            let p = pki();
            crate::tls::install_default_provider();
            let rb = rustls_root_cert_store_builder::rustls_root_cert_store_builder_new();
            let r = rustls_root_cert_store_builder::rustls_root_cert_store_builder_add_pem(
                rb,
                p.ca.as_ptr(),
                p.ca.len(),
                true,
            );
            assert!(matches!(r, rustls_result::Ok));
            let mut store: *const rustls_root_cert_store = core::ptr::null();
            let r = rustls_root_cert_store_builder::rustls_root_cert_store_builder_build(rb, &mut store);
            assert!(matches!(r, rustls_result::Ok));
            rustls_root_cert_store_builder::rustls_root_cert_store_builder_free(rb);
            // SAFETY: the C API as documented in rustls.h: a live store, then the builder it
            // returned, and a valid out-pointer.
            let vb = unsafe { rustls_web_pki_server_cert_verifier_builder_new(store.cast()) };
            let mut verifier: *mut c_void = core::ptr::null_mut();
            // SAFETY: as above.
            let r = unsafe { rustls_web_pki_server_cert_verifier_builder_build(vb, &mut verifier) };
            let verifier = verifier as *mut rustls_server_cert_verifier;
            assert!(matches!(r, rustls_result::Ok));
            // SAFETY: as above; freed once.
            unsafe { rustls_web_pki_server_cert_verifier_builder_free(vb) };
            let cb = rustls_client_config_builder::rustls_client_config_builder_new();
            rustls_client_config_builder::rustls_client_config_builder_set_server_verifier(cb, verifier);
            let mut cfg: *const rustls_ffi::client::rustls_client_config = core::ptr::null();
            let r = rustls_client_config_builder::rustls_client_config_builder_build(cb, &mut cfg);
            assert!(matches!(r, rustls_result::Ok));

            let ours = client_config_from_ffi(cfg as *const rustls_client_config).unwrap();
            rustls_ffi::client::rustls_client_config::rustls_client_config_free(cfg);
            rustls_server_cert_verifier::rustls_server_cert_verifier_free(verifier);
            rustls_ffi::certificate::rustls_root_cert_store::rustls_root_cert_store_free(store);
            assert_eq!(Arc::strong_count(&ours), 1);

            let server = crate::tls::server_config(&crate::tls::TlsOptions {
                cert: p.server_cert.as_bytes(),
                key: p.server_key.as_bytes(),
                ..Default::default()
            })
            .unwrap();
            handshake(
                TlsSession::client(ours, "localhost").unwrap(),
                TlsSession::server(server).unwrap(),
            );
        }
    }
}
