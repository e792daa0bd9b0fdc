//! Heap bytes held by one idle TLS session (after `shrink_idle`), measured with a counting
//! global allocator. Target (issue 4): at most 24 KiB per idle connection.
//!
//! Run with `--nocapture` to see the numbers.
#![cfg(feature = "tls")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use meerkat::tls::{self, rustls, ClientConfig, ServerConfig, TlsOptions, TlsSession};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded; `p` was allocated by us with `l`.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded; `p` was allocated by us with `l`.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "memory test CA");
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().unwrap();
    let ca = p.self_signed(&ca_key).unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
    Pki {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn pump(c: &mut TlsSession, s: &mut TlsSession) {
    for _ in 0..32 {
        let mut buf = Vec::new();
        let a = c.take_ciphertext(&mut buf);
        s.feed(&buf).unwrap();
        buf.clear();
        let b = s.take_ciphertext(&mut buf);
        c.feed(&buf).unwrap();
        if a == 0 && b == 0 {
            break;
        }
    }
}

fn send(a: &mut TlsSession, b: &mut TlsSession, n: usize) {
    let data = vec![0x5a; n];
    let mut sent = 0;
    let mut got = 0;
    while got < n {
        if sent < n {
            sent += a.write_plaintext(&data[sent..]).unwrap();
        }
        let mut ct = Vec::new();
        a.take_ciphertext(&mut ct);
        let mut off = 0;
        while off < ct.len() {
            off += b.feed(&ct[off..]).unwrap();
            let mut out = Vec::new();
            got += b.take_plaintext(&mut out, usize::MAX).unwrap();
        }
    }
}

/// Handshake, move `traffic` bytes each way (so buffers have grown), go idle and shrink.
fn idle_pair(
    cc: &Arc<ClientConfig>,
    sc: &Arc<ServerConfig>,
    traffic: usize,
    shrink: bool,
) -> (Box<TlsSession>, Box<TlsSession>) {
    let mut c = Box::new(TlsSession::client(cc.clone(), "localhost").unwrap());
    let mut s = Box::new(TlsSession::server(sc.clone()).unwrap());
    pump(&mut c, &mut s);
    assert!(!c.is_handshaking() && !s.is_handshaking());
    send(&mut c, &mut s, traffic);
    send(&mut s, &mut c, traffic);
    pump(&mut c, &mut s);
    if shrink {
        c.shrink_idle();
        s.shrink_idle();
    }
    (c, s)
}

/// Returns (server bytes, client bytes) for one idle pair.
fn measure(cc: &Arc<ClientConfig>, sc: &Arc<ServerConfig>, traffic: usize, shrink: bool) -> (isize, isize) {
    let live0 = live();
    let (c, s) = idle_pair(cc, sc, traffic, shrink);
    let live1 = live();
    drop(s);
    let live2 = live();
    drop(c);
    let live3 = live();
    let server = live1 - live2;
    let client = live2 - live3;
    println!(
        "  {} idle server session: {server} bytes, idle client session: {client} bytes \
         (left in shared config caches: {} bytes)",
        if shrink {
            "after shrink_idle:"
        } else {
            "without shrink_idle:"
        },
        live3 - live0
    );
    (server, client)
}

#[test]
fn idle_session_heap_bytes() {
    let p = pki();
    let sc = tls::server_config(&TlsOptions {
        cert: p.cert.as_bytes(),
        key: p.key.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let cc = tls::client_config(&TlsOptions {
        ca: p.ca.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in tls::config::parse_certs("ca", p.ca.as_bytes()).unwrap() {
        roots.add(c).unwrap();
    }
    let cc12 = Arc::new(
        ClientConfig::builder_with_provider(tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    // Warm up lazily initialised state (provider, CPU feature detection, caches).
    drop(idle_pair(&cc, &sc, 1000, true));
    drop(idle_pair(&cc12, &sc, 1000, true));

    let limit = 24 * 1024;
    let mut worst = 0;
    for (label, cfg) in [("TLS 1.3", &cc), ("TLS 1.2", &cc12)] {
        for traffic in [0, 100_000] {
            println!("{label} ({}), after {traffic} bytes each way:", tls::PROVIDER_NAME);
            measure(cfg, &sc, traffic, false);
            let (s, c) = measure(cfg, &sc, traffic, true);
            worst = worst.max(s).max(c);
        }
    }
    println!("worst idle session: {worst} bytes (target {limit})");
    assert!(
        worst <= limit,
        "an idle TLS session holds {worst} heap bytes, over {limit}"
    );
}
