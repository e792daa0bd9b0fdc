//! HTTP/1.1 server framing (G4) over real sockets on 127.0.0.1: the exact bytes a client
//! sends and the exact responses it gets back, in order, and when the connection closes.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

fn s(m: mg_str) -> String {
    if m.len == 0 {
        return String::new();
    }
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(m.buf as *const u8, m.len) }).into_owned()
}

struct Srv {
    msgs: AtomicUsize,
    streamed: AtomicUsize,
    /// When set, replies come from a worker thread through mg_wakeup.
    worker: Option<Mutex<mpsc::Sender<(mg_conn, String)>>>,
}

fn describe(hm: &mg_http_message) -> String {
    format!("{} {} q={} body={}", s(hm.method), s(hm.uri), s(hm.query), s(hm.body))
}

/// The target and every header field of `hm`, as the C view shows them.
fn head_view(hm: &mg_http_message) -> String {
    let mut v = s(hm.uri);
    v.push(' ');
    for i in 0..hm.num_headers {
        let f = unsafe { &*hm.headers.add(i) };
        v += &format!("{}: {}|", s(f.name), s(f.value));
    }
    v
}

thread_local! {
    /// What MG_EV_HTTP_HDRS showed of the last `/tag` request (one server per thread).
    static TAG_HDRS: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

unsafe extern "C" fn handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let srv = unsafe { &*(mg_fn_data(c) as *const Srv) };
    match ev {
        MG_EV_HTTP_HDRS => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            if s(hm.uri).starts_with("/tag") {
                TAG_HDRS.with(|t| *t.borrow_mut() = head_view(hm));
            }
            if s(hm.uri).starts_with("/stream") {
                assert_eq!(mg_http_stream(c), 0);
                srv.streamed.store(0, Ordering::SeqCst);
            }
            if s(hm.uri) == "/swap" {
                // MG_EV_HTTP_MSG goes to the new handler.
                assert_eq!(mg_set_handler(c, Some(swapped), mg_fn_data(c)), 0);
            }
            if s(hm.uri) == "/scribble" {
                // What the handler writes into the message here is not what
                // MG_EV_HTTP_MSG sees: that gets the view as built.
                let hm = unsafe { &mut *(ev_data as *mut mg_http_message) };
                hm.method = hm.uri;
                hm.uri = hm.proto;
                hm.query = hm.proto;
                hm.num_headers = 0;
                hm.headers = std::ptr::null_mut();
                hm.body = hm.head;
            }
        }
        MG_EV_HTTP_CHUNK => {
            let d = unsafe { &*(ev_data as *const mg_str) };
            srv.streamed.fetch_add(d.len, Ordering::SeqCst);
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri) == "/hdr" => {
            // Malformed headers (a missing final CRLF included) are refused and send
            // nothing; then a well-formed reply.
            let mut codes = Vec::new();
            for bad in [
                c"X-A: 1\nX-B: 2\r\n",
                c"X-A: 1\r\n\r\nsmuggled",
                c"X-A : 1\r\n",
                c"X-A: 1\r",
                c"X-A: 1\r\n folded\r\n",
                c"X-A: \x01\r\n",
                c"X-A: 1",
            ] {
                codes.push(mg_http_reply_n(c, 200, bad.as_ptr(), c"x".as_ptr(), 1).to_string());
            }
            let body = codes.join(" ");
            assert_eq!(
                mg_http_reply_n(c, 200, c"X-A: 1\r\n".as_ptr(), body.as_ptr().cast(), body.len()),
                0
            );
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri) == "/twice" => {
            // A second reply to the same request: what the client sees is pinned below.
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let text = describe(hm);
            reply(c, &text);
            let h = CString::new("Content-Type: text/plain\r\n").unwrap();
            assert_eq!(mg_http_reply_n(c, 201, h.as_ptr(), c"again".as_ptr(), 5), 0);
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri) == "/close" => {
            // Answered, then closed at once (unsent bytes discarded): nothing after it.
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            reply(c, &describe(hm));
            assert_eq!(mg_close(c), 0);
            let h = CString::new("Content-Type: text/plain\r\n").unwrap();
            assert_ne!(
                mg_http_reply_n(c, 200, h.as_ptr(), c"late".as_ptr(), 4),
                0,
                "refused once closing"
            );
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri) == "/drain" => {
            // Answered, then closed once that answer is sent: pipelined requests after it
            // are never answered.
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            reply(c, &describe(hm));
            assert_eq!(mg_drain(c), 0);
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri).starts_with("/line") => {
            // The request line's four parts, each as the C view shows it.
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let text = format!("m={} u={} q={} p={}", s(hm.method), s(hm.uri), s(hm.query), s(hm.proto));
            reply(c, &text);
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri) == "/status" => {
            // Statuses outside 100..=999 are refused and send nothing; then the one the
            // query names (100 or 999, the range's ends).
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let mut codes = Vec::new();
            for bad in [99, 1000, 0, -1, -200, i32::MIN, i32::MAX] {
                codes.push(mg_http_reply_n(c, bad, std::ptr::null(), c"x".as_ptr(), 1).to_string());
            }
            let body = codes.join(" ");
            // Not asserted here (a panic in a handler aborts the run): a refused one
            // sends nothing, which the client sees.
            let status: c_int = s(hm.query).parse().unwrap_or(200);
            let _ = mg_http_reply_n(c, status, std::ptr::null(), body.as_ptr().cast(), body.len());
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri).starts_with("/stream") => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            assert_eq!(hm.body.len, 0, "a streamed body is not buffered");
            reply(c, &format!("streamed {}", srv.streamed.load(Ordering::SeqCst)));
        }
        MG_EV_HTTP_MSG if s(unsafe { &*(ev_data as *const mg_http_message) }.uri).starts_with("/tag") => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let v = head_view(hm);
            let same = TAG_HDRS.with(|t| *t.borrow() == v);
            reply(c, &format!("{v} body={} same={same}", hm.body.len));
        }
        MG_EV_HTTP_MSG => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            srv.msgs.fetch_add(1, Ordering::SeqCst);
            let text = describe(hm);
            match &srv.worker {
                Some(w) => w.lock().unwrap().send((c, text)).unwrap(),
                None => reply(c, &text),
            }
        }
        MG_EV_WAKEUP => {
            let d = unsafe { &*(ev_data as *const mg_str) };
            reply(c, &s(*d));
        }
        _ => {}
    }
}

/// The handler `/swap` installs in MG_EV_HTTP_HDRS.
unsafe extern "C" fn swapped(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_MSG {
        let hm = unsafe { &*(ev_data as *const mg_http_message) };
        reply(c, &format!("swapped {}", describe(hm)));
    }
}

fn reply(c: mg_conn, text: &str) {
    let h = CString::new("Content-Type: text/plain\r\n").unwrap();
    assert_eq!(mg_http_reply_n(c, 200, h.as_ptr(), text.as_ptr().cast(), text.len()), 0);
}

/// A server on its own thread; returns the port. The manager lives until the test ends.
fn server(async_replies: bool) -> u16 {
    let (ptx, prx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut m = Mgr::new();
        if std::env::var_os("MG_DEBUG").is_some() {
            meerkat::ffi::log::mg_log_set(4);
        }
        let mut lim = mg_limits::default();
        mg_mgr_get_limits(m.ptr(), &mut lim);
        lim.http_max_body = 1000;
        lim.http_max_headers = 20;
        lim.http_max_head = 2000;
        lim.http_head_timeout_ms = 500;
        mg_mgr_set_limits(m.ptr(), &lim);
        let worker = if async_replies {
            let (tx, rx) = mpsc::channel::<(mg_conn, String)>();
            let mp = m.ptr() as usize;
            std::thread::spawn(move || {
                let mut n = 0u64;
                for (c, text) in rx {
                    n += 1;
                    // Later requests get shorter delays: replies come back out of order.
                    std::thread::sleep(Duration::from_millis(30u64.saturating_sub(n * 7 % 30)));
                    mg_wakeup(mp as *mut mg_mgr, c, text.as_ptr().cast(), text.len());
                }
            });
            Some(Mutex::new(tx))
        } else {
            None
        };
        let srv: &'static Srv = Box::leak(Box::new(Srv {
            msgs: AtomicUsize::new(0),
            streamed: AtomicUsize::new(0),
            worker,
        }));
        let u = CString::new("http://127.0.0.1:0").unwrap();
        let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(handler), srv as *const Srv as *mut c_void);
        ptx.send(port(l)).unwrap();
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            m.poll(20);
        }
    });
    prx.recv().unwrap()
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        body
    )
}

/// `got` is the 200 answers with the bodies `answers` (in order), then a reply that starts
/// with `then` (an error after pipelined requests that were fine); returns that reply.
fn answered_then<'g>(got: &'g str, answers: &[&str], then: &str) -> &'g str {
    let first: String = answers.iter().map(|b| ok(b)).collect();
    let rest = got
        .strip_prefix(first.as_str())
        .unwrap_or_else(|| panic!("answers first: {got}"));
    assert!(rest.starts_with(then), "{then:?} after the answers: {got}");
    rest
}

fn ok_close(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    )
}

const SHORT: Duration = Duration::from_millis(400);

#[test]
fn pipelined_requests_are_answered_in_order() {
    let p = server(false);
    let (got, closed) = exchange(p, b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: h\r\n\r\n", SHORT);
    assert_eq!(
        got,
        ok("GET /a q=x=1 body=") + &ok("POST /b q= body=xyz") + &ok("GET /c q= body=")
    );
    assert!(!closed, "keep-alive connection stays open");
}

/// MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG show each request its own head (the C view is built
/// once for both events of a request without a body): pipelined requests with as many
/// fields as each other but other values, then one whose body comes after its head in
/// pieces (the buffered message grows between the two events).
#[test]
fn headers_and_message_events_show_each_request_its_own_head() {
    let p = server(false);
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.write_all(
        b"GET /tag1 HTTP/1.1\r\nHost: h\r\nX-Tag: aaa\r\n\r\nGET /tag22 HTTP/1.1\r\nHost: hh\r\nX-Tag: b\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    c.write_all(b"POST /tag3 HTTP/1.1\r\nHost: h\r\nX-Tag: cc\r\nContent-Length: 900\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    c.write_all(&[b'z'; 300]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    c.write_all(&[b'z'; 600]).unwrap();
    c.set_read_timeout(Some(SHORT)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = c.read(&mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&out),
        ok("/tag1 Host: h|X-Tag: aaa| body=0 same=true")
            + &ok("/tag22 Host: hh|X-Tag: b| body=0 same=true")
            + &ok("/tag3 Host: h|X-Tag: cc|Content-Length: 900| body=900 same=true")
    );
}

/// A request without a body gets MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG from one view of it:
/// what the handler wrote into the `struct mg_http_message` in the first is not seen in the
/// second, and a handler installed in the first gets the second.
#[test]
fn a_bodyless_request_s_events_share_one_view_and_follow_a_new_handler() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /scribble?a=b HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\nGET /swap HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    assert_eq!(
        got,
        ok("GET /scribble q=a=b body=") + &ok("swapped GET /swap q= body=") + &ok("swapped GET /after q= body=")
    );
    assert!(!closed);
}

#[test]
fn pipelined_replies_from_a_worker_thread_keep_request_order() {
    let p = server(true);
    let mut req = Vec::new();
    for i in 0..5 {
        req.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    }
    let (got, _) = exchange(p, &req, Duration::from_millis(1500));
    let want: String = (0..5).map(|i| ok(&format!("GET /{i} q= body="))).collect();
    assert_eq!(got, want);
}

#[test]
fn connection_close_ends_the_conversation() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    assert_eq!(
        got,
        ok_close("GET /1 q= body="),
        "nothing after Connection: close is answered"
    );
    assert!(closed);
}

#[test]
fn connection_close_with_an_async_reply_still_closes() {
    let p = server(true);
    let (got, closed) = exchange(
        p,
        b"GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGARBAGE\r\n\r\n",
        Duration::from_secs(2),
    );
    assert_eq!(got, ok_close("GET /1 q= body="));
    assert!(closed);
}

#[test]
fn http10_closes_unless_keep_alive() {
    let p = server(false);
    let (got, closed) = exchange(p, b"GET /x HTTP/1.0\r\n\r\n", SHORT);
    assert_eq!(got, ok_close("GET /x q= body="));
    assert!(closed);
    let (got, closed) = exchange(
        p,
        b"GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /z HTTP/1.0\r\n\r\n",
        SHORT,
    );
    let ka = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: keep-alive\r\n\r\nGET /y q= body=";
    assert_eq!(got, ka.to_string() + &ok_close("GET /z q= body="));
    assert!(closed);
}

#[test]
fn malformed_request_after_valid_ones_gets_400_after_their_responses() {
    let p = server(true);
    let (got, closed) = exchange(
        p,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost h\r\n\r\n",
        Duration::from_secs(2),
    );
    answered_then(
        &got,
        &["GET /1 q= body=", "GET /2 q= body="],
        "HTTP/1.1 400 Bad Request\r\n",
    );
    assert!(got.contains("Connection: close\r\n"));
    assert!(closed);
}

fn status_of(req: &[u8]) -> (String, bool) {
    let p = server(false);
    let (got, closed) = exchange(p, req, SHORT);
    (got.lines().next().unwrap_or("").to_string(), closed)
}

#[test]
fn smuggling_vectors_and_limits_get_their_status_and_close() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "400",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "400",
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", "400"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", "400"),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n",
            "400",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
            "413",
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", "413"),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "400",
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", "501"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", "400"),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", "505"),
    ];
    for (req, status) in cases {
        let (line, closed) = status_of(req);
        assert!(
            line.starts_with(&format!("HTTP/1.1 {status} ")),
            "{:?} -> {line:?}",
            String::from_utf8_lossy(req)
        );
        assert!(closed, "{:?} must close", String::from_utf8_lossy(req));
    }
    let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..25 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert!(
        status_of(&many).0.starts_with("HTTP/1.1 431 "),
        "more fields than the cap: 431, not a silent drop"
    );
    let long = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(1500));
    assert!(status_of(long.as_bytes()).0.starts_with("HTTP/1.1 414 "));
}

#[test]
fn accepted_forms() {
    let p = server(false);
    let (got, _) = exchange(
        p,
        b"\r\nPOST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
        SHORT,
    );
    assert_eq!(
        got,
        ok("POST /c q= body=abcde"),
        "leading CRLF, chunk extensions and trailers are fine"
    );
}

#[test]
fn body_cut_short_is_never_dispatched() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
        Duration::from_millis(200),
    );
    assert_eq!(got, "");
    assert!(!closed);
    // Half-close from the client: the server sees EOF mid-body and closes without a reply.
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.write_all(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
}

#[test]
fn head_gets_headers_only_and_half_closed_client_gets_its_reply() {
    let p = server(false);
    let (got, _) = exchange(p, b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n", SHORT);
    assert_eq!(
        got,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\n"
    );
    let p = server(true);
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.write_all(b"GET /late HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert_eq!(String::from_utf8_lossy(&out), ok("GET /late q= body="));
}

#[test]
fn expect_100_continue() {
    let p = server(false);
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c.write_all(b"PUT /u HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 25];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(b"ok").unwrap();
    let want = ok("PUT /u q= body=ok");
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
fn slow_head_gets_408() {
    let p = server(false);
    let (got, closed) = exchange(p, b"GET / HTTP/1.1\r\nHost: h\r\n", Duration::from_secs(3));
    assert!(got.starts_with("HTTP/1.1 408 "), "{got}");
    assert!(closed);
}

#[test]
fn streamed_bodies_pass_any_size_in_bounded_memory() {
    let p = server(false);
    let size = 3 << 20; // far over http_max_body (1000 here)
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = vec![b'x'; size];
    let mut req = format!("PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: {size}\r\n\r\n").into_bytes();
    req.extend_from_slice(&body);
    let w = std::thread::spawn(move || c.write_all(&req).map(|_| c));
    let mut c = w.join().unwrap().unwrap();
    let want = ok(&format!("streamed {size}"));
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
    // Chunked, streamed.
    c.write_all(
        b"POST /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n",
    )
    .unwrap();
    let want = ok("streamed 6");
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
    // The same size without streaming is refused with 413 at the head.
    let (line, closed) = status_of(format!("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: {size}\r\n\r\n").as_bytes());
    assert!(line.starts_with("HTTP/1.1 413 "), "{line}");
    assert!(closed);
    let (line, _) = status_of(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n");
    assert!(line.starts_with("HTTP/1.1 413 "), "{line}");
    // A streamed body may have chunks of any declared size.
    let mut req = b"POST /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n".to_vec();
    req.extend_from_slice(&[b'y'; 0x3e9]);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let (got, _) = exchange(p, &req, SHORT);
    assert_eq!(got, ok("streamed 1001"));
}

/// Send `req` and keep the connection open; return the first line of what came back, whether
/// the server closed, and how long the answer took (bounded by `timeout`).
fn timed(req: &[u8], timeout: Duration) -> (String, bool, Duration) {
    let p = server(false);
    let t0 = Instant::now();
    let (got, closed) = exchange(p, req, timeout);
    (got.lines().next().unwrap_or("").to_string(), closed, t0.elapsed())
}

#[test]
fn a_head_ending_in_a_bare_lf_is_answered_at_once() {
    // The server's head timeout is 500 ms: a 408 there, or nothing, is the hang this was.
    for req in [
        &b"GET /a HTTP/1.1\r\nHost: x\r\n\n"[..],
        b"GET /a HTTP/1.1\nHost: x\n\n",
        b"GET /a HTTP/1.1\r\nHost: x\n\r\n",
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n",
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n\n",
    ] {
        let (line, closed, took) = timed(req, Duration::from_secs(2));
        let what = String::from_utf8_lossy(req);
        assert!(line.starts_with("HTTP/1.1 400 "), "{what:?} -> {line:?}");
        assert!(closed, "{what:?} must close");
        assert!(took < Duration::from_secs(1), "{what:?} answered after {took:?}");
    }
    // After a pipelined request that was fine: its answer first, then the 400.
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\n",
        Duration::from_secs(2),
    );
    answered_then(&got, &["GET /1 q= body="], "HTTP/1.1 400 ");
    assert!(closed);
}

#[test]
fn a_malformed_request_line_is_400_not_505() {
    for (req, status) in [
        (&b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"[..], "400"),
        (b"GET /a HTTP/1.1 x\r\nHost: h\r\n\r\n", "400"),
        (b"GET  /a HTTP/2.0\r\nHost: h\r\n\r\n", "400"),
        (b"GET /a\r\nHost: h\r\n\r\n", "400"),
        (b"GET /a HTTP/1.10\r\nHost: h\r\n\r\n", "400"),
        (b"GET /a HTTP/1.2\r\nHost: h\r\n\r\n", "505"),
        (b"GET /a HTTP/2.0\r\nHost: h\r\n\r\n", "505"),
    ] {
        let (line, closed, took) = timed(req, Duration::from_secs(2));
        let what = String::from_utf8_lossy(req);
        assert!(line.starts_with(&format!("HTTP/1.1 {status} ")), "{what:?} -> {line:?}");
        assert!(
            closed && took < Duration::from_secs(1),
            "{what:?}: closed {closed}, {took:?}"
        );
    }
}

#[test]
fn a_declared_chunk_over_http_max_body_is_refused_at_its_size_line() {
    // http_max_body is 1000 here; 0x3e9 = 1001. No chunk data is ever sent.
    let chunked = b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut running = chunked.to_vec();
    running.extend_from_slice(b"3e8\r\n");
    running.extend_from_slice(&[b'a'; 0x3e8]);
    running.extend_from_slice(b"\r\n1\r\n");
    for req in [
        [&chunked[..], b"3e9\r\n"].concat(),
        [&chunked[..], b"200000\r\n"].concat(),
        running,
    ] {
        let (line, closed, took) = timed(&req, Duration::from_secs(2));
        assert!(line.starts_with("HTTP/1.1 413 "), "{line:?}");
        assert!(closed, "413 closes");
        assert!(took < Duration::from_secs(1), "answered after {took:?}");
    }
    // Exactly the cap is fine.
    let mut req = chunked.to_vec();
    req.extend_from_slice(b"3e8\r\n");
    req.extend_from_slice(&[b'a'; 0x3e8]);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let (line, _, _) = timed(&req, SHORT);
    assert_eq!(line, "HTTP/1.1 200 OK");
    // After an earlier pipelined request: its answer goes out first.
    let p = server(false);
    let mut req = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n".to_vec();
    req.extend_from_slice(chunked);
    req.extend_from_slice(b"3e9\r\n");
    let (got, closed) = exchange(p, &req, Duration::from_secs(2));
    answered_then(&got, &["GET /1 q= body="], "HTTP/1.1 413 ");
    assert!(closed);
}

unsafe extern "C" fn refuse_in_hdrs(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_HDRS {
        let body = b"no\n";
        assert_eq!(
            mg_http_reply_n(c, 403, std::ptr::null(), body.as_ptr().cast(), body.len()),
            0
        );
    }
}

#[test]
fn an_early_answer_is_the_only_answer() {
    // The handler refuses in MG_EV_HTTP_HDRS; the body is over http_max_body. The client
    // must get the 403 alone, not a second (413) response it would take for the next one.
    let mut m = Mgr::new();
    let u = CString::new("http://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(refuse_in_hdrs), std::ptr::null_mut());
    let p = port(l);
    let t = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let _ = c.write_all(b"PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2097152\r\n\r\n");
        let _ = c.write_all(&vec![b'x'; 64 * 1024]);
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    });
    m.poll_until(10, "client done", |_| t.is_finished());
    let got = t.join().unwrap();
    assert!(got.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{got}");
    assert_eq!(got.matches("HTTP/1.1 ").count(), 1, "{got}");
}

#[test]
fn mg_http_reply_refuses_malformed_headers_and_sends_nothing() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /hdr HTTP/1.1\r\nHost: h\r\n\r\nGET /hdr HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    let codes = vec![meerkat::ffi::error::MG_ERR_INVALID.to_string(); 7].join(" ");
    let one = format!(
        "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: {}\r\n\r\n{codes}",
        codes.len()
    );
    assert_eq!(
        got,
        one.clone() + &one + &ok("GET /3 q= body="),
        "each request answered once, framed"
    );
    assert!(!closed);
}

#[test]
fn pipelined_expect_continue_over_the_cap_gets_413_alone_after_earlier_answers() {
    // A bodyless request, then a PUT that expects 100-continue with a body over
    // http_max_body (1000), then one more request: the first is answered, the PUT gets the
    // 413 alone (no 100 Continue before it), and nothing after it is read.
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n\
PUT /u HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n\
GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    let rest = answered_then(&got, &["GET /a q= body="], "HTTP/1.1 413 Content Too Large\r\n");
    assert!(!got.contains("100 Continue"), "{got}");
    assert!(!got.contains("GET /b"), "{got}");
    // The error's body starts with its status line's code and reason.
    let body = rest.split_once("\r\n\r\n").unwrap().1;
    assert!(body.starts_with("413 Content Too Large: "), "{body:?}");
    assert!(body.ends_with('\n'), "{body:?}");
    assert!(closed);
}

#[test]
fn expect_continue_within_the_cap_after_a_pipelined_request() {
    // The 100 Continue comes after the earlier request's answer, then the PUT's own.
    let p = server(false);
    let mut c = TcpStream::connect(("127.0.0.1", p)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c.write_all(
        b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nPUT /u HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\n";
    let want = format!("{head}HTTP/1.1 100 Continue\r\n\r\n");
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
    c.write_all(b"okGET /n HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    let want = ok("PUT /u q= body=ok") + &ok("GET /n q= body=");
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
fn a_second_reply_to_one_request_and_a_drain_in_http_msg() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /twice HTTP/1.1\r\nHost: h\r\n\r\nGET /n HTTP/1.1\r\nHost: h\r\n\r\n\
GET /drain HTTP/1.1\r\nHost: h\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    // Both replies to /twice go out as written, in order, before /n's; /drain's answer is
    // the last thing sent, then the close: /never is not answered.
    let second = "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nagain";
    assert_eq!(
        got,
        ok("GET /twice q= body=") + second + &ok("GET /n q= body=") + &ok("GET /drain q= body=")
    );
    assert!(closed, "{got}");
}

#[test]
fn a_slow_second_head_on_a_kept_alive_connection_gets_408_on_the_head_clock() {
    // The first request is over (its head dropped once its HttpMessage is delivered): the
    // partial head after it runs on http_head_timeout_ms (500 here), not on the body clock
    // (15 s), and gets its 408 after the first request's answer.
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n",
        Duration::from_secs(4),
    );
    answered_then(&got, &["GET /a q= body="], "HTTP/1.1 408 ");
    assert!(closed);
}

#[test]
fn a_bodyless_request_expecting_100_continue_gets_100_continue_then_its_answer() {
    // As the server has done (a head that expects 100-continue is not taken down the
    // bodyless path): 100 Continue, then the answer, for each such request in a pipeline,
    // and a plain request after them is answered as usual.
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n\
POST /z HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n\
GET /n HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    let cont = "HTTP/1.1 100 Continue\r\n\r\n";
    assert_eq!(
        got,
        format!(
            "{cont}{}{cont}{}{}",
            ok("GET /e q= body="),
            ok("POST /z q= body="),
            ok("GET /n q= body=")
        )
    );
    assert!(!closed);
}

#[test]
fn a_close_in_http_msg_ends_a_pipeline_with_nothing_after_it() {
    let p = server(false);
    let (got, closed) = exchange(
        p,
        b"GET /close HTTP/1.1\r\nHost: h\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n",
        SHORT,
    );
    assert!(closed, "{got}");
    // The close discards what was queued: at most the /close answer (if already sent).
    assert!(got.is_empty() || got == ok("GET /close q= body="), "{got}");
}

/// The C view's request-line parts (`method`, `uri`, `query`, `proto`) for targets with
/// and without a query, an empty one, a `?` at the end, several `?` (the first splits), and
/// targets longer than 64 bytes (searched another way than short ones), with the `?` early,
/// late and last.
#[test]
fn request_line_parts_are_each_their_own_view() {
    let p = server(false);
    let long = "a".repeat(100);
    let cases = [
        ("GET /line HTTP/1.1", "m=GET u=/line q= p=HTTP/1.1"),
        ("GET /line?x=1&y=2 HTTP/1.1", "m=GET u=/line q=x=1&y=2 p=HTTP/1.1"),
        ("POST /line? HTTP/1.1", "m=POST u=/line q= p=HTTP/1.1"),
        ("DELETE /line?a?b HTTP/1.0", "m=DELETE u=/line q=a?b p=HTTP/1.0"),
        (
            &format!("GET /line/{long} HTTP/1.1"),
            &format!("m=GET u=/line/{long} q= p=HTTP/1.1"),
        ),
        (
            &format!("GET /line?{long}? HTTP/1.1"),
            &format!("m=GET u=/line q={long}? p=HTTP/1.1"),
        ),
        (
            &format!("GET /line/{long}?z HTTP/1.1"),
            &format!("m=GET u=/line/{long} q=z p=HTTP/1.1"),
        ),
        (
            &format!("GET /line/{long}? HTTP/1.1"),
            &format!("m=GET u=/line/{long} q= p=HTTP/1.1"),
        ),
    ];
    for (line, want) in cases {
        let req = format!("{line}\r\nHost: h\r\nConnection: close\r\n\r\n");
        let (got, closed) = exchange(p, req.as_bytes(), SHORT);
        assert_eq!(got, ok_close(want), "{line}");
        assert!(closed, "{line}");
    }
}

/// `mg_http_reply_n` takes statuses 100 to 999 (both ends sent as given) and refuses the
/// others with MG_ERR_INVALID, sending nothing for them.
#[test]
fn reply_status_must_be_three_digits() {
    let p = server(false);
    let refused = [meerkat::ffi::error::MG_ERR_INVALID; 7]
        .map(|e| e.to_string())
        .join(" ");
    for status in [100, 999] {
        let req = format!("GET /status?{status} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        let (got, _) = exchange(p, req.as_bytes(), SHORT);
        let head = format!("HTTP/1.1 {status} ");
        assert!(got.starts_with(&head), "{got:?}");
        assert!(got.ends_with(&format!("\r\n\r\n{refused}")), "{got:?}");
        assert_eq!(got.matches("HTTP/1.1").count(), 1, "{got:?}");
    }
}
