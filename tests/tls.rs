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
use std::io::Write;
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
    let cli: &'static Cli = Box::leak(Box::new(Cli {
        ca: &pki().ca,
        rec: Recorder::new(),
        body: Default::default(),
    }));
    let u = CString::new(format!("https://localhost:{port}")).unwrap();
    let c = mg_http_connect(
        m.ptr(),
        u.as_ptr(),
        Some(https_client),
        cli as *const Cli as *mut c_void,
    );
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
    let cli: &'static Cli = Box::leak(Box::new(Cli {
        ca: &pki().other_ca,
        rec: Recorder::new(),
        body: Default::default(),
    }));
    let u = CString::new(format!("https://localhost:{port}")).unwrap();
    let c = mg_http_connect(
        m.ptr(),
        u.as_ptr(),
        Some(https_client),
        cli as *const Cli as *mut c_void,
    );
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

#[test]
fn reset_after_handshake_mid_request_and_idle_closes() {
    // Real TLS clients (meerkat's own) that reset at points after the handshake.
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let port = server(&mut m, srv);
    let live0 = m.live();
    let cli: &'static Cli = Box::leak(Box::new(Cli {
        ca: &pki().ca,
        rec: Recorder::new(),
        body: Default::default(),
    }));
    for _ in 0..3 {
        let u = CString::new(format!("https://localhost:{port}")).unwrap();
        let c = mg_http_connect(
            m.ptr(),
            u.as_ptr(),
            Some(https_client),
            cli as *const Cli as *mut c_void,
        );
        m.poll_until(10, "handshake", |_| cli.rec.evs(c).contains(&MG_EV_TLS_HS));
        mg_close(c); // close_notify, then FIN, before (or while) the reply is written
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
