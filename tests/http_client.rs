//! HTTP client (`mg_http_connect`): responses framed by Content-Length, chunked, or the
//! server's close; HEAD; keep-alive reuse; a cut-short body is an error, never a message.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::*;
use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpListener;

#[derive(Default)]
struct Client {
    request: Vec<u8>,
    events: RefCell<Vec<(c_int, String)>>,
}

fn s(m: mg_str) -> String {
    if m.len == 0 {
        return String::new();
    }
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(m.buf as *const u8, m.len) }).into_owned()
}

unsafe extern "C" fn client_fn(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let cl = unsafe { &*(mg_fn_data(c) as *const Client) };
    match ev {
        MG_EV_CONNECT => {
            assert_eq!(mg_send(c, cl.request.as_ptr().cast(), cl.request.len()), 0);
        }
        MG_EV_HTTP_HDRS | MG_EV_HTTP_MSG => {
            let hm = unsafe { &*(ev_data as *const mg_http_message) };
            let text = format!(
                "{} {} {} [{}] {}",
                s(hm.method),
                s(hm.uri),
                s(hm.proto),
                hm.num_headers,
                s(hm.body)
            );
            assert_eq!(mg_http_status(hm), s(hm.uri).parse::<c_int>().unwrap());
            cl.events.borrow_mut().push((ev, text));
        }
        MG_EV_ERROR => {
            let msg = unsafe { std::ffi::CStr::from_ptr(ev_data as *const std::ffi::c_char) };
            cl.events.borrow_mut().push((ev, msg.to_string_lossy().into_owned()));
        }
        MG_EV_CLOSE => cl.events.borrow_mut().push((ev, String::new())),
        _ => {}
    }
}

/// A one-shot raw server: reads one request head, answers with `reply`, then closes.
fn raw_server(reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut b = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut b).unwrap();
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&b[..n]);
        }
        s.write_all(reply).unwrap();
    });
    port
}

fn fetch(port: u16, request: &[u8]) -> Vec<(c_int, String)> {
    let mut m = Mgr::new();
    let cl: &'static Client = Box::leak(Box::new(Client {
        request: request.to_vec(),
        ..Default::default()
    }));
    let u = CString::new(format!("http://127.0.0.1:{port}")).unwrap();
    let c = mg_http_connect(m.ptr(), u.as_ptr(), Some(client_fn), cl as *const Client as *mut c_void);
    assert_ne!(c.h, 0);
    m.poll_until(5, "close", |_| cl.events.borrow().iter().any(|e| e.0 == MG_EV_CLOSE));
    cl.events.borrow().clone()
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn content_length_chunked_and_until_close_bodies() {
    let ev = fetch(
        raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
        GET,
    );
    assert_eq!(ev[0], (MG_EV_HTTP_HDRS, "HTTP/1.1 200 OK [2] ".into()));
    assert_eq!(ev[1], (MG_EV_HTTP_MSG, "HTTP/1.1 200 OK [2] hello".into()));
    let ev = fetch(
        raw_server(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n"),
        GET,
    );
    assert_eq!(ev[1], (MG_EV_HTTP_MSG, "HTTP/1.1 201 Created [1] abcd".into()));
    let ev = fetch(raw_server(b"HTTP/1.0 200 OK\r\n\r\nuntil the end"), GET);
    assert_eq!(ev[1], (MG_EV_HTTP_MSG, "HTTP/1.0 200 OK [0] until the end".into()));
    assert_eq!(ev.last().unwrap().0, MG_EV_CLOSE);
}

#[test]
fn head_response_has_no_body_and_interim_is_skipped() {
    let ev = fetch(
        raw_server(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(ev[1], (MG_EV_HTTP_MSG, "HTTP/1.1 200 OK [1] ".into()));
}

#[test]
fn cut_short_body_is_an_error_not_a_message() {
    let ev = fetch(raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), GET);
    let kinds: Vec<c_int> = ev.iter().map(|e| e.0).collect();
    assert_eq!(kinds, vec![MG_EV_HTTP_HDRS, MG_EV_ERROR, MG_EV_CLOSE], "{ev:?}");
    assert!(ev[1].1.contains("cut short"), "{}", ev[1].1);
    let ev = fetch(
        raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        GET,
    );
    assert_eq!(ev[0].0, MG_EV_ERROR, "{ev:?}");
}

unsafe extern "C" fn echo_server(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_MSG {
        let hm = unsafe { &*(ev_data as *const mg_http_message) };
        let body = format!("{} {}", s(hm.uri), s(hm.body));
        mg_http_reply_n(c, 200, std::ptr::null(), body.as_ptr().cast(), body.len());
    }
}

#[test]
fn keep_alive_client_against_meerkat_server() {
    let mut m = Mgr::new();
    let u = CString::new("http://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(echo_server), std::ptr::null_mut());
    let req = b"POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1GET /two HTTP/1.1\r\nHost: x\r\n\r\n";
    let cl: &'static Client = Box::leak(Box::new(Client {
        request: req.to_vec(),
        ..Default::default()
    }));
    let cu = CString::new(format!("http://localhost:{}", port(l))).unwrap();
    let c = mg_http_connect(
        m.ptr(),
        cu.as_ptr(),
        Some(client_fn),
        cl as *const Client as *mut c_void,
    );
    m.poll_until(5, "two responses", |_| {
        cl.events.borrow().iter().filter(|e| e.0 == MG_EV_HTTP_MSG).count() == 2
    });
    let msgs: Vec<String> = cl
        .events
        .borrow()
        .iter()
        .filter(|e| e.0 == MG_EV_HTTP_MSG)
        .map(|e| e.1.clone())
        .collect();
    assert_eq!(msgs, vec!["HTTP/1.1 200 OK [1] /one 1", "HTTP/1.1 200 OK [1] /two "]);
    mg_close(c);
    m.poll_until(5, "both sides closed", |m| m.live() == 1);
}

/// A one-shot raw server that answers with `reply` and then keeps the connection open until
/// the client closes it (at most 10 s): a response the client cannot finish must end in an
/// error from the client, not in a wait for the server.
fn held_server(reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut b = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&b[..n]),
            }
        }
        s.write_all(reply).unwrap();
        // Until the client closes (or the timeout).
        while let Ok(n) = s.read(&mut b) {
            if n == 0 {
                break;
            }
        }
    });
    port
}

#[test]
fn bare_lf_and_oversized_chunks_in_a_response_are_errors_at_once() {
    let cases: &[(&'static [u8], &str)] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\n", "400"),
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\n", "400"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\n", "400"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\n",
            "400",
        ),
        // 2 MiB declared, over the default http_max_body (1 MiB); no data follows.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n",
            "413",
        ),
    ];
    for &(reply, status) in cases {
        let t0 = std::time::Instant::now();
        let ev = fetch(held_server(reply), GET);
        let took = t0.elapsed();
        let what = String::from_utf8_lossy(reply);
        let err = ev.iter().find(|e| e.0 == MG_EV_ERROR);
        assert!(err.is_some_and(|e| e.1.contains(status)), "{what:?}: {ev:?}");
        assert!(!ev.iter().any(|e| e.0 == MG_EV_HTTP_MSG), "{what:?}: {ev:?}");
        assert_eq!(ev.last().unwrap().0, MG_EV_CLOSE);
        assert!(took < std::time::Duration::from_secs(1), "{what:?}: took {took:?}");
    }
}
