//! WebSocket timeouts against peers that stop answering (issue 10): keep-alive pings with a
//! dead-peer timeout, the closing-handshake timeout, and the client's wait for `101`. The
//! manager runs on the test thread through the Rust API; the peers are raw sockets on other
//! threads that do exactly what the test says and nothing else. Every wait is bounded.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use meerkat::ws::{WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_TEXT};
use meerkat::{ConnId, Event, Mgr};

type Log = Rc<RefCell<Vec<String>>>;

const BOUND: Duration = Duration::from_secs(10);

fn poll_until(mgr: &Mgr, what: &str, done: impl FnMut() -> bool) {
    poll_with(mgr, 5, what, done)
}

/// `poll_until` with polls of up to `ms`: with 20 s, the manager's own deadlines must cut
/// each wait short (a peer that says nothing wakes no poll), as with `poll(-1)` in firmware.
fn poll_with(mgr: &Mgr, ms: i32, what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < BOUND, "timed out waiting for {what}");
        mgr.poll(ms).unwrap();
    }
}

/// A WebSocket server on `mgr` that logs its events; `limits` adjusts the caps first.
fn server(mgr: &Mgr, log: &Log, limits: impl FnOnce(&mut meerkat::mgr::Limits)) -> u16 {
    let mut l = mgr.limits();
    limits(&mut l);
    mgr.set_limits(l).unwrap();
    let log = log.clone();
    let lsn = mgr
        .http_listen(
            "http://127.0.0.1:0",
            move |m: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::HttpMessage(hm) => m.ws_upgrade(c, hm, b"").unwrap(),
                Event::WsOpen(_) => log.borrow_mut().push("open".into()),
                Event::WsMessage(wm) => {
                    log.borrow_mut()
                        .push(format!("msg {}", String::from_utf8_lossy(wm.data)));
                    if wm.data == b"close me" {
                        m.ws_send(c, WEBSOCKET_OP_CLOSE, &[0x03, 0xe8]).unwrap();
                    }
                }
                Event::WsControl(wm) => log.borrow_mut().push(format!("ctl {}", wm.opcode())),
                Event::Error(e) => log.borrow_mut().push(format!("error {e}")),
                Event::Close if m.info(c).is_ok_and(|i| i.is_accepted) => log.borrow_mut().push("close".into()),
                _ => {}
            },
        )
        .unwrap();
    mgr.info(lsn).unwrap().local.unwrap().port()
}

/// Connect and do the opening handshake (no extensions); returns the stream, reads bounded.
fn raw_client(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "101 head cut short: {head:?}");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    s
}

/// One unmasked server frame: (opcode, payload).
fn read_frame(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h)?;
    assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
    let len = (h[1] & 0x7f) as usize;
    assert!(len < 126, "short frames only here");
    let mut p = vec![0; len];
    s.read_exact(&mut p)?;
    Ok((h[0] & 0x0f, p))
}

/// A masked client frame.
fn frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Read until the server closes the connection (EOF or reset), returning the frames seen.
fn until_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut ops = Vec::new();
    loop {
        match read_frame(s) {
            Ok((op, _)) => ops.push(op),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                panic!("the server did not close within {BOUND:?} (frames: {ops:?})")
            }
            Err(_) => return ops,
        }
    }
}

/// Keep-alive on: the server pings a silent client every interval; while the client answers
/// with pongs (and any other frame counts too) the connection stays; once the client stops
/// answering, the server declares it dead: `Event::Error`, then one `Event::Close`, and the
/// client sees its socket closed.
#[test]
fn keepalive_pings_and_drops_a_peer_that_stops_answering() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let port = server(&mgr, &log, |l| {
        l.ws_ping_interval_ms = 50;
        l.ws_pong_timeout_ms = 150;
    });
    let (tx, rx) = mpsc::channel();
    let peer = thread::spawn(move || {
        let mut s = raw_client(port);
        // Answer three pings with pongs, then a text message instead of the fourth pong.
        for i in 0..4 {
            let (op, p) = read_frame(&mut s).unwrap();
            assert_eq!(op, 9, "ping {i}");
            let reply = if i < 3 {
                frame(10, &p)
            } else {
                frame(WEBSOCKET_OP_TEXT, b"alive")
            };
            s.write_all(&reply).unwrap();
        }
        tx.send("answered").unwrap();
        // Silence: the server must give up on us.
        until_eof(&mut s)
    });
    poll_until(&mgr, "four pings answered", || rx.try_recv().is_ok());
    assert!(
        !log.borrow().iter().any(|e| e == "close"),
        "closed while answering: {log:?}"
    );
    poll_until(&mgr, "close", || log.borrow().iter().any(|e| e == "close"));
    let ops = peer.join().unwrap();
    assert!(ops.iter().all(|&op| op == 9), "only pings after the silence: {ops:?}");
    assert_eq!(ops.len(), 1, "one ping, then nothing until the pong timeout: {ops:?}");
    let log = log.borrow();
    assert_eq!(
        log.iter().filter(|e| e.starts_with("ctl 10")).count(),
        3,
        "three pongs: {log:?}"
    );
    assert!(log.contains(&"msg alive".to_string()), "{log:?}");
    let err = log.iter().position(|e| e.starts_with("error")).expect("an error event");
    assert!(log[err].contains("did not answer a ping"), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("close"), "{log:?}");
    assert_eq!(log.iter().filter(|e| *e == "close").count(), 1, "{log:?}");
    assert_eq!(mgr.stats().1, 1, "only the listener is left");
}

/// The keep-alive deadline cuts a long poll short: with a silent peer and polls that may
/// wait 20 s (as firmware polls with -1), the ping still goes out after about one interval.
#[test]
fn keepalive_ping_wakes_a_long_poll() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let port = server(&mgr, &log, |l| {
        l.ws_ping_interval_ms = 200;
        l.ws_pong_timeout_ms = 10_000;
    });
    let (tx, rx) = mpsc::channel();
    let peer = thread::spawn(move || {
        let mut s = raw_client(port);
        tx.send(Instant::now()).unwrap();
        let (op, _) = read_frame(&mut s).unwrap();
        tx.send(Instant::now()).unwrap();
        op // the socket closes here
    });
    poll_until(&mgr, "the WebSocket open", || log.borrow().iter().any(|e| e == "open"));
    let opened = rx.recv_timeout(BOUND).unwrap();
    let mut pinged = None;
    poll_with(&mgr, 20_000, "the ping", || {
        pinged = pinged.or(rx.try_recv().ok());
        pinged.is_some()
    });
    let pinged = pinged.unwrap();
    assert_eq!(peer.join().unwrap(), 9, "a ping");
    let after = pinged.duration_since(opened);
    assert!(after < Duration::from_secs(5), "ping after {after:?}");
    poll_until(&mgr, "close", || log.borrow().iter().any(|e| e == "close"));
}

/// Without keep-alive (the default), a silent peer is left alone: no ping, no close.
#[test]
fn no_pings_by_default() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let port = server(&mgr, &log, |l| assert_eq!(l.ws_ping_interval_ms, 0));
    let (tx, rx) = mpsc::channel();
    let peer = thread::spawn(move || {
        let mut s = raw_client(port);
        s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
        let mut got = [0u8; 16];
        let r = s.read(&mut got).map(|n| got[..n].to_vec());
        tx.send(()).unwrap();
        (s, r)
    });
    poll_until(&mgr, "the silent peer's wait", || rx.try_recv().is_ok());
    let (_still_open, r) = peer.join().unwrap();
    mgr.poll(0).unwrap();
    match r {
        Ok(b) => panic!("the server sent {} bytes unasked: {b:?}", b.len()),
        Err(e) => assert!(
            matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "{e}"
        ),
    }
    assert_eq!(*log.borrow(), vec!["open".to_string()]);
}

/// The closing handshake: the server sends a close and the client never answers (nor reads
/// any more); after `ws_close_timeout_ms` the server closes the connection anyway, with one
/// `Event::Close` and no error.
#[test]
fn close_handshake_times_out_when_the_peer_never_answers() {
    for ms in [5, 20_000] {
        let mgr = Mgr::new().unwrap();
        let log: Log = Rc::default();
        let port = server(&mgr, &log, |l| l.ws_close_timeout_ms = 100);
        let peer = thread::spawn(move || {
            let mut s = raw_client(port);
            s.write_all(&frame(WEBSOCKET_OP_TEXT, b"close me")).unwrap();
            let (op, p) = read_frame(&mut s).unwrap();
            assert_eq!((op, p), (8, vec![0x03, 0xe8]), "the server's close");
            // No answer: wait for the server to give up.
            until_eof(&mut s)
        });
        poll_with(&mgr, ms, "close", || log.borrow().iter().any(|e| e == "close"));
        assert_eq!(peer.join().unwrap(), Vec::<u8>::new(), "nothing after the close");
        let log = log.borrow();
        assert_eq!(
            *log,
            vec!["open", "msg close me", "close"],
            "polls of {ms} ms: no error, one close"
        );
        assert_eq!(mgr.stats().1, 1);
    }
}

/// A client waiting for `101` from a server that accepts and then says nothing fails after
/// `ws_handshake_timeout_ms`: `Event::Error` "WebSocket handshake timed out", then `Close`.
#[test]
fn client_gives_up_on_a_server_that_never_answers_the_upgrade() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let (mut s, _) = silent.accept().unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 {
            req.push(b[0]);
        }
        // Hold the connection, answer nothing, until the test is done.
        let _ = rx.recv_timeout(BOUND);
        req
    });
    // Polls that may wait 20 s: the handshake deadline must cut them short.
    let mgr = Mgr::new().unwrap();
    let mut l = mgr.limits();
    l.ws_handshake_timeout_ms = 150;
    mgr.set_limits(l).unwrap();
    let log: Log = Rc::default();
    let clog = log.clone();
    mgr.ws_connect(
        &format!("ws://127.0.0.1:{port}/"),
        move |_: &Mgr, _: ConnId, ev: Event<'_>| match ev {
            Event::Connect => clog.borrow_mut().push("connect".into()),
            Event::WsOpen(_) => clog.borrow_mut().push("open".into()),
            Event::Error(e) => clog.borrow_mut().push(format!("error {e}")),
            Event::Close => clog.borrow_mut().push("close".into()),
            _ => {}
        },
        b"",
    )
    .unwrap();
    poll_with(&mgr, 20_000, "close", || log.borrow().iter().any(|e| e == "close"));
    tx.send(()).unwrap();
    let req = peer.join().unwrap();
    assert!(req.starts_with(b"GET / HTTP/1.1\r\n"), "the upgrade request was sent");
    assert_eq!(
        *log.borrow(),
        vec!["connect", "error WebSocket handshake timed out", "close"]
    );
    assert_eq!(mgr.stats().1, 0);
}
