//! HTTP read timeouts and the connection cap, as a client on 127.0.0.1 sees them: a request
//! body or a response that stops arriving is ended (`http_body_timeout_ms`), a socket that
//! sends nothing is under the head timeout from accept, and at `max_conns` slow clients make
//! room for a new one instead of locking it out. Timeouts are set short so the suite stays
//! fast; every wait is bounded.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::*;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CStr, CString};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server handler saw, per test (fn_data).
#[derive(Default)]
struct App {
    /// `MG_EV_CLOSE` count per connection (G3: exactly one each).
    closes: Mutex<HashMap<u64, u32>>,
    streamed: AtomicUsize,
    /// A connection the handler paused (`/pause`), and when.
    paused: Mutex<Option<(mg_conn, Instant)>>,
    errors: Mutex<Vec<String>>,
}

impl App {
    fn new() -> &'static App {
        Box::leak(Box::default())
    }
    fn ptr(&'static self) -> *mut c_void {
        self as *const App as *mut c_void
    }
    fn assert_closed_once(&self) -> usize {
        let closes = self.closes.lock().unwrap();
        for (h, n) in closes.iter() {
            assert_eq!(*n, 1, "conn {h:#x} got {n} MG_EV_CLOSE");
        }
        closes.len()
    }
}

fn text(m: mg_str) -> String {
    if m.len == 0 {
        return String::new();
    }
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(m.buf as *const u8, m.len) }).into_owned()
}

unsafe extern "C" fn app(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let a = unsafe { &*(mg_fn_data(c) as *const App) };
    match ev {
        MG_EV_HTTP_HDRS => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let uri = text(hm.uri);
            if uri.starts_with("/stream") || uri.starts_with("/pause") {
                assert_eq!(mg_http_stream(c), 0);
                a.streamed.store(0, Ordering::SeqCst);
            }
            if uri.starts_with("/pause") {
                assert_eq!(mg_recv_pause(c, true), 0);
                *a.paused.lock().unwrap() = Some((c, Instant::now()));
            }
        }
        MG_EV_HTTP_CHUNK => {
            let d = unsafe { &*(ev_data as *const mg_str) };
            a.streamed.fetch_add(d.len, Ordering::SeqCst);
        }
        MG_EV_HTTP_MSG => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let n = hm.body.len + a.streamed.swap(0, Ordering::SeqCst);
            let body = format!("got {n}");
            assert_eq!(
                mg_http_reply_n(c, 200, std::ptr::null(), body.as_ptr().cast(), body.len()),
                0
            );
        }
        MG_EV_ERROR => {
            let msg = unsafe { CStr::from_ptr(ev_data as *const std::ffi::c_char) };
            a.errors.lock().unwrap().push(msg.to_string_lossy().into_owned());
        }
        MG_EV_CLOSE => *a.closes.lock().unwrap().entry(c.h).or_default() += 1,
        _ => {}
    }
}

fn set_limits(m: &mut Mgr, f: impl FnOnce(&mut mg_limits)) {
    let mut l = mg_limits::default();
    assert_eq!(mg_mgr_get_limits(m.ptr(), &mut l), 0);
    f(&mut l);
    assert_eq!(mg_mgr_set_limits(m.ptr(), &l), 0);
}

/// A manager with an HTTP listener served by `app`, and the listener's port.
fn http_server(limits: impl FnOnce(&mut mg_limits)) -> (Mgr, &'static App, u16) {
    let mut m = Mgr::new();
    set_limits(&mut m, limits);
    let a = App::new();
    let u = CString::new("http://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(app), a.ptr());
    assert_ne!(l.h, 0);
    (m, a, port(l))
}

/// Poll `m` (calling `tick` between polls) until `client` finishes; at most `secs`.
fn serve<T>(m: &mut Mgr, secs: u64, client: JoinHandle<T>, mut tick: impl FnMut(&mut Mgr)) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    while !client.is_finished() {
        assert!(Instant::now() < end, "client still running after {secs} s");
        m.poll(5);
        tick(m);
    }
    client.join().unwrap()
}

/// Read until the server closes or `limit` passes: (bytes, closed, time taken).
fn read_to_close(c: &mut TcpStream, limit: Duration) -> (String, bool, Duration) {
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        let left = limit.saturating_sub(t0.elapsed());
        if left.is_zero() {
            break false;
        }
        c.set_read_timeout(Some(left)).unwrap();
        match c.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed, t0.elapsed())
}

fn connect(port: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_nodelay(true).unwrap();
    c
}

const BODY_TO: u32 = 300;

fn short_body_timeout(l: &mut mg_limits) {
    l.http_body_timeout_ms = BODY_TO;
}

#[test]
fn default_body_timeout_is_within_the_acceptance_bound() {
    let mut m = Mgr::new();
    let mut l = mg_limits::default();
    assert_eq!(mg_mgr_get_limits(m.ptr(), &mut l), 0);
    assert!(
        l.http_body_timeout_ms >= 5_000 && l.http_body_timeout_ms <= 20_000,
        "{}",
        l.http_body_timeout_ms
    );
    l.http_body_timeout_ms = 1234;
    assert_eq!(mg_mgr_set_limits(m.ptr(), &l), 0);
    let mut back = mg_limits::default();
    assert_eq!(mg_mgr_get_limits(m.ptr(), &mut back), 0);
    assert_eq!(back.http_body_timeout_ms, 1234);
}

/// The request body stops: 408 and close, after the body timeout (not before, not never).
fn stalled_body_gets_408(req: &'static [u8]) {
    let (mut m, a, p) = http_server(short_body_timeout);
    let client = std::thread::spawn(move || {
        let mut c = connect(p);
        c.write_all(req).unwrap();
        read_to_close(&mut c, Duration::from_secs(3))
    });
    let (got, closed, took) = serve(&mut m, 10, client, |_| {});
    assert!(got.starts_with("HTTP/1.1 408 "), "{got:?}");
    assert!(closed, "the connection must close after the 408");
    assert!(
        took >= Duration::from_millis(BODY_TO as u64 - 50),
        "408 after {took:?}: too early"
    );
    assert!(took < Duration::from_millis(2000), "408 after {took:?}");
    m.poll_until(2, "server side closed", |m| m.live() == 1);
    assert_eq!(a.assert_closed_once(), 1);
}

#[test]
fn content_length_body_that_stops_gets_408() {
    stalled_body_gets_408(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc");
}

#[test]
fn chunked_body_that_stops_gets_408() {
    stalled_body_gets_408(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
}

#[test]
fn streamed_body_that_stops_gets_408() {
    stalled_body_gets_408(b"POST /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc");
}

#[test]
fn body_after_its_head_only_then_nothing_gets_408() {
    stalled_body_gets_408(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
}

#[test]
fn slow_but_steady_body_is_not_a_stalled_one() {
    // 12 pieces 100 ms apart: 1.2 s in all, four times the body timeout, never idle for it.
    let (mut m, _a, p) = http_server(short_body_timeout);
    let client = std::thread::spawn(move || {
        let mut c = connect(p);
        c.write_all(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        for _ in 0..12 {
            std::thread::sleep(Duration::from_millis(100));
            c.write_all(b"2\r\nab\r\n").unwrap();
        }
        c.write_all(b"0\r\n\r\n").unwrap();
        let want = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ngot 24";
        let mut got = vec![0u8; want.len()];
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        c.read_exact(&mut got).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), want);
    });
    serve(&mut m, 10, client, |_| {});
}

#[test]
fn stalled_body_gets_408_after_the_earlier_pipelined_response() {
    let (mut m, _a, p) = http_server(short_body_timeout);
    let client = std::thread::spawn(move || {
        let mut c = connect(p);
        c.write_all(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\nxyz")
            .unwrap();
        read_to_close(&mut c, Duration::from_secs(3))
    });
    let (got, closed, _) = serve(&mut m, 10, client, |_| {});
    let first = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ngot 0";
    assert!(got.starts_with(first), "{got:?}");
    assert!(got[first.len()..].starts_with("HTTP/1.1 408 "), "{got:?}");
    assert!(closed);
}

#[test]
fn our_pause_does_not_count_against_the_client() {
    // The handler pauses receiving in MG_EV_HTTP_HDRS for 1 s (over three body timeouts);
    // the client sends its body only after that. Inactivity was ours, not the client's.
    let (mut m, a, p) = http_server(short_body_timeout);
    let client = std::thread::spawn(move || {
        let mut c = connect(p);
        c.write_all(b"PUT /pause HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        c.write_all(b"0123456789").unwrap();
        read_to_close(&mut c, Duration::from_millis(1500))
    });
    let mut resumed = false;
    let (got, _, _) = serve(&mut m, 10, client, |_| {
        let mut p = a.paused.lock().unwrap();
        if let Some((c, at)) = *p {
            if at.elapsed() >= Duration::from_millis(1000) {
                assert_eq!(mg_recv_pause(c, false), 0);
                *p = None;
                resumed = true;
            }
        }
    });
    assert!(resumed);
    assert_eq!(got, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ngot 10");
}

#[test]
fn a_socket_that_sends_nothing_is_under_the_head_timeout() {
    // Idle timeout long, head timeout short: a connection that never sends a byte is closed
    // after the head timeout (from accept), silently.
    let (mut m, a, p) = http_server(|l| {
        l.http_head_timeout_ms = 300;
        l.http_idle_timeout_ms = 20_000;
    });
    let client = std::thread::spawn(move || {
        let mut c = connect(p);
        read_to_close(&mut c, Duration::from_secs(3))
    });
    let (got, closed, took) = serve(&mut m, 10, client, |_| {});
    assert!(closed, "a silent socket must be closed by the head timeout");
    assert_eq!(got, "");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    m.poll_until(2, "server side closed", |m| m.live() == 1);
    assert_eq!(a.assert_closed_once(), 1);
}

/// A keep-alive connection whose first request (`GET /`) got the test server's 200 in full.
fn first_request_answered(p: u16) -> TcpStream {
    let mut c = connect(p);
    c.write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    let want = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ngot 0";
    let mut got = vec![0u8; want.len()];
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
    c
}

#[test]
fn keep_alive_after_a_response_keeps_the_idle_timeout() {
    let (mut m, _a, p) = http_server(|l| {
        l.http_head_timeout_ms = 200;
        l.http_idle_timeout_ms = 1000;
    });
    let client = std::thread::spawn(move || {
        let mut c = first_request_answered(p);
        // Past the head timeout, well before the idle one: still open.
        let (extra, closed, _) = read_to_close(&mut c, Duration::from_millis(600));
        assert!(!closed && extra.is_empty(), "closed {closed}, {extra:?}");
        let (_, closed, _) = read_to_close(&mut c, Duration::from_secs(2));
        assert!(closed, "closed by the idle timeout");
    });
    serve(&mut m, 10, client, |_| {});
}

#[test]
fn a_shorter_idle_timeout_set_later_applies_to_connections_already_idle() {
    // Long timeouts first: the manager may then skip its timeout scans for a while, and
    // new limits must end that.
    let (mut m, _a, p) = http_server(|l| {
        l.http_head_timeout_ms = 60_000;
        l.http_idle_timeout_ms = 60_000;
    });
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = answered.clone();
    let client = std::thread::spawn(move || {
        let mut c = first_request_answered(p);
        flag.store(true, Ordering::SeqCst);
        let (extra, closed, took) = read_to_close(&mut c, Duration::from_secs(3));
        assert!(closed && extra.is_empty(), "closed {closed} after {took:?}, {extra:?}");
    });
    let mut lowered = false;
    serve(&mut m, 10, client, |m| {
        if !lowered && answered.load(Ordering::SeqCst) {
            // Let a few polls (and timeout scans) pass with the long timeouts first.
            std::thread::sleep(Duration::from_millis(50));
            m.poll(5);
            set_limits(m, |l| l.http_idle_timeout_ms = 300);
            lowered = true;
        }
    });
}

unsafe extern "C" fn client_fn(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_CONNECT {
        let req = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(mg_send(c, req.as_ptr().cast(), req.len()), 0);
    }
    unsafe { app(c, ev, ev_data) };
}

#[test]
fn client_response_that_stops_fails_the_connection() {
    let srv = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = srv.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = srv.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
            .unwrap();
        // Then silence, connection held open (until the client closes it).
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t0 = Instant::now();
        let _ = s.read(&mut buf);
        t0.elapsed()
    });
    let mut m = Mgr::new();
    set_limits(&mut m, short_body_timeout);
    let a = App::new();
    let u = CString::new(format!("http://127.0.0.1:{p}")).unwrap();
    let c = mg_http_connect(m.ptr(), u.as_ptr(), Some(client_fn), a.ptr());
    assert_ne!(c.h, 0);
    let t0 = Instant::now();
    m.poll_until(5, "client closed", |_| !a.closes.lock().unwrap().is_empty());
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(BODY_TO as u64 - 50) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let errors = a.errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0], format!("HTTP response timed out: no data for {BODY_TO} ms"));
    assert_eq!(a.assert_closed_once(), 1);
    let held = peer.join().unwrap();
    assert!(held < Duration::from_secs(4), "the peer saw the close after {held:?}");
    assert_eq!(m.live(), 0);
}

// ---- the connection cap -----------------------------------------------------------------

/// Open `n` slow clients: every other one sends a partial head, the rest nothing.
fn slow_clients(p: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut c = connect(p);
            if i % 2 == 0 {
                c.write_all(b"GET /slow HTTP/1.1\r\nHost: h\r\nX-Wait: ").unwrap();
            }
            c
        })
        .collect()
}

/// A normal request: the time until its 200 (`None`: not within `limit`).
fn timed_request(p: u16, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    let mut c = connect(p);
    c.write_all(b"GET /now HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (got, _, _) = read_to_close(&mut c, limit);
    got.starts_with("HTTP/1.1 200 OK\r\n").then(|| t0.elapsed())
}

fn closed_by_server(c: &mut TcpStream) -> bool {
    c.set_nonblocking(true).unwrap();
    let mut b = [0u8; 64];
    let r = match c.read(&mut b) {
        Ok(0) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    c.set_nonblocking(false).unwrap();
    r
}

#[test]
fn at_the_cap_slow_clients_make_room_for_a_new_one() {
    const CAP: u32 = 64;
    let (mut m, a, p) = http_server(|l| l.max_conns = CAP);
    // More slow clients than slots (the default head timeout, 10 s, frees none of them).
    let slow = std::thread::spawn(move || slow_clients(p, CAP as usize + 16));
    let mut slow = serve(&mut m, 10, slow, |_| {});
    // Let the server take in all it can.
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        m.poll(5);
    }
    assert_eq!(m.live(), CAP);
    let normal = std::thread::spawn(move || timed_request(p, Duration::from_secs(3)));
    let took = serve(&mut m, 10, normal, |_| {});
    let took = took.expect("a normal client at the cap gets its 200");
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    let st = m.stats();
    assert!(st.evicted >= 17, "evicted {}", st.evicted);
    // The oldest went first: the newest slow client is still connected, the first silent
    // one is not. (A client is dated from when it entered its state: a silent one from its
    // accept, one that sent part of a head from when that byte was read, which on a loaded
    // machine can come after many later accepts; so slow[0], which sends, may rank behind
    // more than 17 silent clients and rightly stay, while slow[1] is at worst second.)
    let last = slow.len() - 1;
    assert!(!closed_by_server(&mut slow[last]), "the newest slow client was evicted");
    assert!(closed_by_server(&mut slow[1]), "the oldest silent client was kept");
    // Every eviction was one MG_EV_CLOSE; all slots come back.
    drop(slow);
    m.poll_until(5, "all closed", |m| m.live() == 1);
    let st = m.stats();
    assert_eq!(st.closed, st.accepted);
    assert_eq!(a.assert_closed_once() as u64, st.accepted);
}

#[test]
fn at_the_cap_raw_tcp_and_busy_connections_are_never_evicted() {
    // A raw listener's connections are the application's: at the cap nothing is closed to
    // make room, the newcomer waits in the backlog.
    let mut m = Mgr::new();
    set_limits(&mut m, |l| l.max_conns = 4);
    let r = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), r.ptr());
    let p = port(l);
    let clients = std::thread::spawn(move || (0..3).map(|_| connect(p)).collect::<Vec<_>>());
    let mut clients = serve(&mut m, 5, clients, |_| {});
    m.poll_until(2, "three accepted", |m| m.live() == 4);
    let extra = std::thread::spawn(move || {
        let mut c = connect(p);
        read_to_close(&mut c, Duration::from_millis(400))
    });
    let (_, closed, _) = serve(&mut m, 5, extra, |_| {});
    assert!(!closed);
    assert_eq!(m.stats().evicted, 0);
    assert_eq!(r.count(MG_EV_CLOSE), 0);
    for c in clients.iter_mut() {
        assert!(!closed_by_server(c));
    }
    // An HTTP connection waiting for its (late) response is busy: not evicted either.
    let (mut m, _a, p) = http_server(|l| l.max_conns = 2);
    let busy = std::thread::spawn(move || {
        let mut c = connect(p);
        c.write_all(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab")
            .unwrap();
        c
    });
    let mut busy = serve(&mut m, 5, busy, |_| {});
    m.poll_until(2, "accepted", |m| m.live() == 2);
    let extra = std::thread::spawn(move || timed_request(p, Duration::from_millis(400)));
    assert_eq!(serve(&mut m, 5, extra, |_| {}), None);
    assert!(!closed_by_server(&mut busy));
    assert_eq!(m.stats().evicted, 0);
}

fn raise_fd_limit(want: u64) -> bool {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return false;
        }
        if r.rlim_cur >= want {
            return true;
        }
        if r.rlim_max < want {
            return false;
        }
        r.rlim_cur = want;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r) == 0
    }
}

#[test]
fn with_1100_slow_clients_at_default_limits_a_normal_request_is_answered_at_once() {
    // Both ends of every connection live in this process: 2 descriptors each, and room.
    if !raise_fd_limit(4096) {
        eprintln!("SKIPPED: RLIMIT_NOFILE hard limit below 4096, cannot hold 1,100 clients");
        return;
    }
    let (mut m, a, p) = http_server(|_| {});
    let slow = std::thread::spawn(move || slow_clients(p, 1100));
    let slow = serve(&mut m, 30, slow, |_| {});
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        m.poll(5);
    }
    assert_eq!(m.live(), 1024);
    let normal = std::thread::spawn(move || timed_request(p, Duration::from_secs(5)));
    let took = serve(&mut m, 10, normal, |_| {}).expect("answered at the cap");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    drop(slow);
    m.poll_until(10, "all closed", |m| m.live() == 1);
    let st = m.stats();
    assert!(st.evicted >= 77, "evicted {}", st.evicted);
    assert_eq!(st.closed, st.accepted);
    assert_eq!(a.assert_closed_once() as u64, st.accepted);
}
