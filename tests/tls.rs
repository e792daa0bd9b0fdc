//! TLS end to end over 127.0.0.1 (G3 under TLS): HTTPS between meerkat's own client and
//! server, verification errors reported as MG_EV_ERROR then one MG_EV_CLOSE, and every way
//! a peer can vanish (RST or FIN during the handshake, mid-request, idle) closing the server
//! side promptly with the live count back where it was. Certificates are made at test time.
#![cfg(feature = "tls")]

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::tls::*;
use meerkat::ffi::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

struct Pki {
    ca: String,
    other_ca: String,
    cert: String,
    key: String,
}

fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let ca = |cn: &str| {
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.distinguished_name.push(rcgen::DnType::CommonName, cn);
            let k = KeyPair::generate().unwrap();
            (p.self_signed(&k).unwrap(), k)
        };
        let (ca_cert, ca_key) = ca("meerkat test CA");
        let (other, _) = ca("another CA");
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let k = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&k, &ca_cert, &ca_key).unwrap();
        Pki {
            ca: ca_cert.pem(),
            other_ca: other.pem(),
            cert: cert.pem(),
            key: k.serialize_pem(),
        }
    })
}

fn ms(s: &str) -> mg_str {
    mg_str::from_bytes(s.as_bytes())
}

fn text(m: mg_str) -> String {
    if m.len == 0 {
        return String::new();
    }
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(m.buf as *const u8, m.len) }).into_owned()
}

unsafe extern "C" fn https_server(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let rec = mg_fn_data(c) as *const Recorder;
    if ev == MG_EV_ACCEPT {
        let p = pki();
        let opts = mg_tls_opts {
            ca: mg_str::EMPTY,
            cert: ms(&p.cert),
            key: ms(&p.key),
            name: mg_str::EMPTY,
            skip_verification: 0,
        };
        assert_eq!(mg_tls_init(c, &opts), 0);
    }
    if ev == MG_EV_HTTP_MSG {
        let hm = unsafe { &*(ev_data as *const mg_http_message) };
        let body = format!("secure {}", text(hm.uri));
        mg_http_reply_n(c, 200, std::ptr::null(), body.as_ptr().cast(), body.len());
    }
    if !rec.is_null() && ev != MG_EV_POLL && ev != MG_EV_HTTP_MSG {
        unsafe { record(c, ev, ev_data) };
    }
}

struct Cli {
    ca: &'static str,
    rec: &'static Recorder,
    body: std::cell::RefCell<String>,
}

unsafe extern "C" fn https_client(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let cli = unsafe { &*(mg_fn_data(c) as *const Cli) };
    match ev {
        MG_EV_CONNECT => {
            let opts = mg_tls_opts {
                ca: ms(cli.ca),
                cert: mg_str::EMPTY,
                key: mg_str::EMPTY,
                name: mg_str::EMPTY,
                skip_verification: 0,
            };
            assert_eq!(mg_tls_init(c, &opts), 0);
            let req = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
            assert_eq!(
                mg_send(c, req.as_ptr().cast(), req.len()),
                0,
                "queued before the handshake ends"
            );
        }
        MG_EV_HTTP_MSG => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            *cli.body.borrow_mut() = text(hm.body);
            mg_close(c);
        }
        _ => {}
    }
    if ev != MG_EV_POLL {
        // record() reads fn_data as a Recorder; give it ours.
        let mut evs = cli.rec.events.borrow_mut();
        let data = if ev == MG_EV_ERROR {
            unsafe { std::ffi::CStr::from_ptr(ev_data as *const std::ffi::c_char) }
                .to_bytes()
                .to_vec()
        } else {
            Vec::new()
        };
        evs.push(Ev { conn: c.h, ev, data });
    }
}

/// A client that trusts `ca` (it outlives the manager, like a `Recorder`).
fn client(ca: &'static str) -> &'static Cli {
    Box::leak(Box::new(Cli {
        ca,
        rec: Recorder::new(),
        body: Default::default(),
    }))
}

/// `GET /hello` from `cli` to the server on `port`, by name (`localhost`, verified).
fn https_get(m: &mut Mgr, port: u16, cli: &'static Cli) -> mg_conn {
    let u = CString::new(format!("https://localhost:{port}")).unwrap();
    let c = mg_http_connect(
        m.ptr(),
        u.as_ptr(),
        Some(https_client),
        cli as *const Cli as *mut c_void,
    );
    assert_ne!(c.h, 0);
    c
}

fn server(m: &mut Mgr, rec: &'static Recorder) -> u16 {
    let u = CString::new("https://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(https_server), rec.ptr());
    assert_ne!(l.h, 0);
    port(l)
}

#[test]
fn https_between_meerkat_client_and_server() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let cli = client(&pki().ca);
    let c = https_get(&mut m, port, cli);
    m.poll_until(10, "client closed", |_| cli.rec.count(MG_EV_CLOSE) == 1);
    assert_eq!(*cli.body.borrow(), "secure /hello");
    let evs = cli.rec.evs(c);
    let hs = evs.iter().position(|e| *e == MG_EV_TLS_HS).expect("TLS_HS");
    assert!(evs.iter().position(|e| *e == MG_EV_CONNECT).unwrap() < hs);
    m.poll_until(5, "server side closed", |_| srv.count(MG_EV_CLOSE) == 1);
    assert_eq!(srv.count(MG_EV_TLS_HS), 1);
    assert_eq!(m.live(), 1);
}

#[test]
fn unknown_ca_is_an_error_then_one_close() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let cli = client(&pki().other_ca);
    let c = https_get(&mut m, port, cli);
    m.poll_until(10, "client closed", |_| cli.rec.count(MG_EV_CLOSE) == 1);
    let evs = cli.rec.evs(c);
    assert_eq!(&evs[evs.len() - 2..], &[MG_EV_ERROR, MG_EV_CLOSE]);
    let msg = String::from_utf8(cli.rec.data(c, MG_EV_ERROR)).unwrap().to_lowercase();
    assert!(
        msg.contains("unknown") || msg.contains("issuer") || msg.contains("ca"),
        "{msg}"
    );
    assert!(!evs.contains(&MG_EV_TLS_HS));
    m.poll_until(5, "server side closed too", |m| m.live() == 1);
    assert_eq!(srv.count(MG_EV_CLOSE), 1, "the server saw the alert and closed once");
}

/// A raw TCP client that speaks some TLS (or none) and then vanishes.
fn vanish_after(port: u16, send: &[u8], rst: bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    if !send.is_empty() {
        s.write_all(send).unwrap();
    }
    std::thread::sleep(Duration::from_millis(30));
    if rst {
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
    }
}

#[test]
fn every_peer_disappearance_closes_the_server_side_once() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let live0 = m.live();
    // A ClientHello-looking prefix: the handshake is in progress when the peer goes.
    let hello_prefix = [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    let mut expected = 0;
    for rst in [false, true] {
        for payload in [
            &b""[..],
            &hello_prefix[..],
            &b"garbage that is not TLS at all\r\n\r\n"[..],
        ] {
            let p = payload.to_vec();
            let t = std::thread::spawn(move || vanish_after(port, &p, rst));
            expected += 1;
            m.poll_until(5, "closed after the peer vanished", |_| {
                srv.count(MG_EV_CLOSE) == expected
            });
            t.join().unwrap();
        }
    }
    for _ in 0..5 {
        m.poll(10);
    }
    assert_eq!(srv.count(MG_EV_CLOSE), expected, "exactly one CLOSE each");
    assert_eq!(m.live(), live0);
}

/// A TLS client on a plain blocking socket (meerkat's sans-IO session, no manager) that
/// completes the handshake, sends `then` (e.g. half a request), and resets the connection.
fn handshake_then_reset(port: u16, then: &[u8]) {
    let cfg = meerkat::tls::client_config(&meerkat::tls::TlsOptions {
        ca: pki().ca.as_bytes(),
        ..Default::default()
    })
    .unwrap();
    let mut tls = meerkat::tls::TlsSession::client(cfg, "localhost").unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut out = Vec::new();
        tls.take_ciphertext(&mut out);
        s.write_all(&out).unwrap();
        if !tls.is_handshaking() {
            break;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the server hung up during the handshake");
        tls.feed(&buf[..n]).unwrap();
    }
    tls.write_plaintext(then).unwrap();
    let mut out = Vec::new();
    tls.take_ciphertext(&mut out);
    s.write_all(&out).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
}

#[test]
fn reset_after_the_handshake_idle_or_mid_request_closes_once() {
    // The seed bug of G3: with TLS, a client's RST after the handshake must not leave the
    // server side open.
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let live0 = m.live();
    for (i, then) in [&b""[..], b"GET /hello HTTP/1.1\r\nHost: local"]
        .into_iter()
        .enumerate()
    {
        let t = std::thread::spawn(move || handshake_then_reset(port, then));
        m.poll_until(5, "the server side closed after the reset", |_| {
            srv.count(MG_EV_CLOSE) == i + 1
        });
        t.join().unwrap();
        assert_eq!(srv.count(MG_EV_TLS_HS), i + 1, "the handshake had completed");
    }
    for _ in 0..5 {
        m.poll(10);
    }
    assert_eq!(srv.count(MG_EV_CLOSE), 2, "exactly one CLOSE each");
    assert_eq!(m.live(), live0);
}

#[test]
fn client_close_right_after_the_handshake_closes_the_server_side() {
    // meerkat's own client closes (close_notify, then FIN) before or while the reply is written.
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let live0 = m.live();
    let cli = client(&pki().ca);
    for _ in 0..3 {
        let c = https_get(&mut m, port, cli);
        m.poll_until(10, "handshake", |_| cli.rec.evs(c).contains(&MG_EV_TLS_HS));
        mg_close(c);
    }
    m.poll_until(5, "server sides closed", |m| m.live() == live0);
    assert_eq!(srv.count(MG_EV_CLOSE), 3);
}

#[test]
fn stalled_handshake_times_out() {
    let mut m = Mgr::new();
    let mut lim = mg_limits::default();
    mg_mgr_get_limits(m.ptr(), &mut lim);
    lim.tls_handshake_timeout_ms = 200;
    assert_eq!(mg_mgr_set_limits(m.ptr(), &lim), 0);
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let _silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    m.poll_until(5, "timeout", |_| srv.count(MG_EV_CLOSE) == 1);
    let err = srv
        .events
        .borrow()
        .iter()
        .find(|e| e.ev == MG_EV_ERROR)
        .map(|e| String::from_utf8_lossy(&e.data).into_owned());
    assert_eq!(err.as_deref(), Some("TLS handshake timed out"));
}

// ---- is_tls follows the URL scheme (Mongoose's `c->is_tls`) -------------------------------

/// What `mg_conn_info().is_tls` said at each event, by connection.
static IS_TLS_SEEN: std::sync::Mutex<Vec<(u64, c_int, bool)>> = std::sync::Mutex::new(Vec::new());

/// A server written the Mongoose way: `if (ev == MG_EV_ACCEPT && c->is_tls) mg_tls_init(...)`,
/// ported as `mg_conn_info(c, &i); if (i.is_tls) ...`.
unsafe extern "C" fn mongoose_style_server(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_ACCEPT {
        let i = info(c);
        IS_TLS_SEEN.lock().unwrap().push((c.h, ev, i.is_tls));
        if i.is_tls {
            let p = pki();
            let opts = mg_tls_opts {
                ca: mg_str::EMPTY,
                cert: ms(&p.cert),
                key: ms(&p.key),
                name: mg_str::EMPTY,
                skip_verification: 0,
            };
            assert_eq!(mg_tls_init(c, &opts), 0);
        }
    }
    if ev == MG_EV_HTTP_MSG {
        let body = "mongoose style";
        mg_http_reply_n(c, 200, std::ptr::null(), body.as_ptr().cast(), body.len());
    }
}

#[test]
fn is_tls_follows_the_url_scheme_and_the_mongoose_pattern_serves_https() {
    let mut m = Mgr::new();
    let tls_l = m.listen("https://127.0.0.1:0", None, std::ptr::null_mut());
    assert!(info(tls_l).is_tls, "https:// listener");
    for url in [
        "wss://127.0.0.1:0",
        "tls://127.0.0.1:0",
        "mqtts://127.0.0.1:0",
        "ssl://127.0.0.1:0",
    ] {
        assert!(info(m.listen(url, None, std::ptr::null_mut())).is_tls, "{url}");
    }
    for url in [
        "http://127.0.0.1:0",
        "tcp://127.0.0.1:0",
        "ws://127.0.0.1:0",
        "udp://127.0.0.1:0",
    ] {
        assert!(!info(m.listen(url, None, std::ptr::null_mut())).is_tls, "{url}");
    }
    let u = CString::new("https://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(mongoose_style_server), std::ptr::null_mut());
    let https_port = port(l);
    // A client URL says it too, before any TLS is set up.
    let cli = client(&pki().ca);
    let c = https_get(&mut m, https_port, cli);
    assert!(info(c).is_tls, "https:// client before mg_tls_init");
    m.poll_until(10, "client closed", |_| cli.rec.count(MG_EV_CLOSE) == 1);
    assert_eq!(*cli.body.borrow(), "mongoose style");
    assert!(cli.rec.evs(c).contains(&MG_EV_TLS_HS));
    let seen = IS_TLS_SEEN.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].2, "is_tls in MG_EV_ACCEPT on an https:// listener");
    // A plain listener's connections are not TLS.
    let rec = Recorder::new();
    let plain = m.listen("tcp://127.0.0.1:0", Some(record), rec.ptr());
    let _peer = TcpStream::connect(("127.0.0.1", port(plain))).unwrap();
    m.poll_until(5, "accepted", |_| rec.count(MG_EV_ACCEPT) == 1);
    let h = rec.events.borrow().iter().find(|e| e.ev == MG_EV_ACCEPT).unwrap().conn;
    assert!(!info(mg_conn { h }).is_tls);
}

/// A server that forgets `mg_tls_init` on an https:// listener.
fn forgetful_server(m: &mut Mgr) -> (&'static Recorder, u16) {
    let rec = Recorder::new();
    let u = CString::new("https://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(record), rec.ptr());
    assert_ne!(l.h, 0);
    (rec, port(l))
}

fn assert_refused(rec: &Recorder, conn: u64, first: &[c_int]) {
    let c = mg_conn { h: conn };
    let mut want = first.to_vec();
    want.extend([MG_EV_ERROR, MG_EV_CLOSE]);
    assert_eq!(rec.evs(c), want, "events of the refused connection");
    let msg = String::from_utf8(rec.data(c, MG_EV_ERROR)).unwrap();
    assert!(
        msg.contains("TLS not set up") && msg.contains("mg_tls_init"),
        "the error says what to do: {msg}"
    );
}

#[test]
fn https_listener_without_tls_init_answers_no_plaintext() {
    let mut m = Mgr::new();
    let (rec, port) = forgetful_server(&mut m);
    let live0 = m.live();
    // A plaintext request (what an unguarded server would answer) and a real ClientHello.
    let hello_prefix = [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    for (i, req) in [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], &hello_prefix[..]]
        .into_iter()
        .enumerate()
    {
        let req = req.to_vec();
        let t = std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(&req).unwrap();
            let mut got = Vec::new();
            let r = s.read_to_end(&mut got);
            (r.map_err(|e| e.kind()), got)
        });
        m.poll_until(5, "refused and closed", |_| rec.count(MG_EV_CLOSE) == i + 1);
        let (r, got) = t.join().unwrap();
        assert!(got.is_empty(), "nothing goes out: {:?}", String::from_utf8_lossy(&got));
        assert!(
            r.is_ok() || r == Err(std::io::ErrorKind::ConnectionReset),
            "the connection ends: {r:?}"
        );
        let h = rec
            .events
            .borrow()
            .iter()
            .filter(|e| e.ev == MG_EV_ACCEPT)
            .nth(i)
            .unwrap()
            .conn;
        assert_refused(rec, h, &[MG_EV_OPEN, MG_EV_ACCEPT]);
    }
    assert_eq!(rec.count(MG_EV_HTTP_MSG), 0);
    assert_eq!(m.live(), live0);
}

#[test]
fn https_client_without_tls_init_sends_nothing() {
    let mut m = Mgr::new();
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = peer.local_addr().unwrap().port();
    let rec = Recorder::new();
    let c = m.connect(&format!("https://127.0.0.1:{port}"), Some(record), rec.ptr());
    assert_ne!(c.h, 0);
    m.poll_until(5, "connected", |_| rec.count(MG_EV_CONNECT) == 1);
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(meerkat::ffi::conn::mg_send(c, req.as_ptr().cast(), req.len()), 0);
    m.poll_until(5, "refused and closed", |_| rec.count(MG_EV_CLOSE) == 1);
    assert_refused(rec, c.h, &[MG_EV_OPEN, MG_EV_CONNECT]);
    let (mut s, _) = peer.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(got.is_empty(), "nothing went out: {:?}", String::from_utf8_lossy(&got));
    assert_eq!(m.live(), 0);
}
