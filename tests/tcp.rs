//! TCP end to end over 127.0.0.1 and [::1]: events in order, bytes on the wire, and the
//! live connection count back to where it started (G3).

mod common;
use common::*;
use meerkat::ffi::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn echo_server_with_std_client_and_event_order() {
    let mut m = Mgr::new();
    let srv = Recorder::echo();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    assert_ne!(l.h, 0);
    assert_eq!(srv.evs(l), vec![MG_EV_OPEN]);
    let port = port(l);
    let live0 = m.live();

    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    client.write_all(b"hello meerkat").unwrap();
    let mut got = vec![0u8; 13];
    let t = std::thread::spawn(move || {
        client.read_exact(&mut got).unwrap();
        drop(client); // FIN
        got
    });
    m.poll_until(5, "echo and close", |_| srv.count(MG_EV_CLOSE) == 1);
    assert_eq!(t.join().unwrap(), b"hello meerkat");
    let accepted = srv.events.borrow().iter().find(|e| e.ev == MG_EV_ACCEPT).unwrap().conn;
    let evs: Vec<_> = srv
        .events
        .borrow()
        .iter()
        .filter(|e| e.conn == accepted)
        .map(|e| e.ev)
        .filter(|e| *e != MG_EV_WRITE)
        .collect();
    assert_eq!(evs, vec![MG_EV_OPEN, MG_EV_ACCEPT, MG_EV_READ, MG_EV_CLOSE]);
    assert_eq!(m.live(), live0, "live count back after the client left");
    assert_eq!(
        meerkat::ffi::conn::mg_send(mg_conn { h: accepted }, b"x".as_ptr().cast(), 1),
        meerkat::ffi::error::MG_ERR_STALE
    );
}

#[test]
fn client_and_server_in_one_manager_over_ipv6() {
    let mut m = Mgr::new();
    let srv = Recorder::echo();
    let l = m.listen("tcp://[::1]:0", Some(record), srv.ptr());
    assert_ne!(l.h, 0, "listen on [::1]: {}", meerkat::ffi::mgr::mg_last_error());
    let cli = Recorder::new();
    let c = m.connect(&format!("tcp://[::1]:{}", port(l)), Some(record), cli.ptr());
    assert_ne!(c.h, 0);
    assert_eq!(
        meerkat::ffi::conn::mg_send(c, b"ping".as_ptr().cast(), 4),
        0,
        "queued before connect"
    );
    m.poll_until(5, "echo back", |_| cli.data(c, MG_EV_READ) == b"ping");
    assert_eq!(&cli.evs(c)[..2], &[MG_EV_OPEN, MG_EV_CONNECT]);
    assert!(info(c).is_client && info(c).rem.is_ip6);
    meerkat::ffi::conn::mg_close(c);
    m.poll_until(5, "both sides closed", |m| m.live() == 1);
    assert_eq!(cli.count(MG_EV_CLOSE), 1);
    assert_eq!(srv.count(MG_EV_CLOSE), 1);
}

#[test]
fn connect_by_name_resolves_off_loop() {
    let mut m = Mgr::new();
    let srv = Recorder::echo();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let cli = Recorder::new();
    let c = m.connect(&format!("tcp://localhost:{}", port(l)), Some(record), cli.ptr());
    assert_ne!(c.h, 0);
    assert!(info(c).is_resolving);
    meerkat::ffi::conn::mg_send(c, b"abc".as_ptr().cast(), 3);
    m.poll_until(5, "echo", |_| cli.data(c, MG_EV_READ) == b"abc");
    let evs = cli.evs(c);
    assert_eq!(&evs[..3], &[MG_EV_OPEN, MG_EV_RESOLVE, MG_EV_CONNECT]);
}

#[test]
fn refused_connect_reports_error_then_one_close() {
    let mut m = Mgr::new();
    // A port with nothing listening: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cli = Recorder::new();
    let c = m.connect(&format!("tcp://127.0.0.1:{port}"), Some(record), cli.ptr());
    m.poll_until(5, "close", |_| cli.count(MG_EV_CLOSE) == 1);
    assert_eq!(cli.evs(c), vec![MG_EV_OPEN, MG_EV_ERROR, MG_EV_CLOSE]);
    // The text: "connect failed: " and the OS error as std shows it.
    let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
    let msg = String::from_utf8(cli.data(c, MG_EV_ERROR)).unwrap();
    assert_eq!(msg, format!("connect failed: {refused}"));
    assert_eq!(m.live(), 0);
}

#[test]
fn peer_reset_closes_exactly_once() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let client = TcpStream::connect(("127.0.0.1", port(l))).unwrap();
    m.poll_until(5, "accept", |_| srv.count(MG_EV_ACCEPT) == 1);
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::from_secs(0)))
        .unwrap();
    drop(client); // RST
    m.poll_until(5, "close after RST", |_| srv.count(MG_EV_CLOSE) == 1);
    for _ in 0..5 {
        m.poll(5);
    }
    assert_eq!(srv.count(MG_EV_CLOSE), 1);
    assert_eq!(m.live(), 1);
}

/// A manager whose only UDP socket is a client's (`mg_connect`, no `udp://` listener): its
/// datagrams go out and the answers come back as `MG_EV_READ` (the UDP read and send are
/// set up where a UDP socket is opened, the client's connect included). The peer is a std
/// socket.
#[test]
fn udp_client_alone_on_its_manager() {
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut m = Mgr::new();
    let cli = Recorder::new();
    let url = format!("udp://127.0.0.1:{}", peer.local_addr().unwrap().port());
    let c = m.connect(&url, Some(record), cli.ptr());
    assert_ne!(c.h, 0);
    m.poll_until(5, "udp connect", |_| cli.count(MG_EV_CONNECT) == 1);
    assert_eq!(meerkat::ffi::conn::mg_send(c, b"ping".as_ptr().cast(), 4), 0);
    let mut buf = [0u8; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    peer.send_to(b"pong", from).unwrap();
    m.poll_until(5, "the answer", |_| cli.data(c, MG_EV_READ) == b"pong");
}

/// HTTP runs over TCP: `mg_http_listen` refuses a `udp://` URL (`MG_ERR_URL`, nothing
/// opened), as `Mgr::http_listen` does, and a raw `udp://` listener on the same manager
/// still works.
#[test]
fn http_listen_refuses_udp_urls() {
    let mut m = Mgr::new();
    let srv = Recorder::echo();
    let u = std::ffi::CString::new("udp://127.0.0.1:0").unwrap();
    let h = meerkat::ffi::http::mg_http_listen(m.ptr(), u.as_ptr(), Some(record), srv.ptr());
    assert_eq!(h.h, 0);
    assert_eq!(meerkat::ffi::mgr::mg_last_error(), MG_ERR_URL);
    assert_eq!(m.live(), 0);
    assert!(srv.events.borrow().is_empty(), "no MG_EV_OPEN");
    let rust = meerkat::Mgr::new().unwrap();
    let refused = rust.http_listen(
        "udp://127.0.0.1:0",
        |_: &meerkat::Mgr, _: meerkat::ConnId, _: meerkat::Event<'_>| {},
    );
    assert_eq!(refused, Err(meerkat::Error::Url));
    let l = m.listen("udp://127.0.0.1:0", Some(record), srv.ptr());
    assert_ne!(l.h, 0);
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    peer.send_to(b"dgram", ("127.0.0.1", port(l))).unwrap();
    m.poll_until(5, "the echo", |_| srv.data(l, MG_EV_READ) == b"dgram");
    let mut buf = [0u8; 16];
    let (n, _) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"dgram");
}

#[test]
fn udp_echo() {
    let mut m = Mgr::new();
    let srv = Recorder::echo();
    let l = m.listen("udp://127.0.0.1:0", Some(record), srv.ptr());
    assert_ne!(l.h, 0);
    let cli = Recorder::new();
    let c = m.connect(&format!("udp://127.0.0.1:{}", port(l)), Some(record), cli.ptr());
    m.poll_until(5, "udp connect", |_| cli.count(MG_EV_CONNECT) == 1);
    assert_eq!(meerkat::ffi::conn::mg_send(c, b"dgram".as_ptr().cast(), 5), 0);
    m.poll_until(5, "udp echo", |_| cli.data(c, MG_EV_READ) == b"dgram");
    assert!(info(c).is_udp);
}
