//! Replies `mg_http_reply` and static files send with heads the fast path does not take as
//! they are (1xx, 101, 204, 304, headers that speak of the length, the transfer coding or
//! the connection, duplicates and conflicts) give the same bytes on the wire, and the same
//! keep-alive and pipelining, as the same bytes sent by hand with `mg_send`: both are
//! framed by the response framer. (Written on branch h-framer, which had the library frame
//! these heads itself to keep the framer out of a plain server; not merged, see
//! benches/README.md, but the wire it pins is main's.)

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::serve::*;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void, CString};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// (status, headers, body) given to `mg_http_reply`; `/reply/N` answers with case N,
/// `/raw/N` sends the same response (`reply_bytes`) with `mg_send`.
const CASES: &[(u16, &str, &str)] = &[
    (204, "", ""),
    (204, "X-A: 1\r\n", "abc"),
    (304, "ETag: \"x\"\r\n", ""),
    (200, "Connection: close\r\n", "bye"),
    (200, "Connection: keep-alive\r\n", "ka"),
    (200, "Content-Length: 5\r\n", "hello"),
    (200, "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
    (200, "Connection: Close\r\nConnection: keep-alive\r\n", "two"),
    (418, "Content-Length: 0\r\n", ""),
    (201, "connection: upgrade, keep-alive\r\n", "up"),
    (204, "Connection: close\r\n", ""),
    (304, "Content-Length: 7\r\n", ""),
    (101, "Upgrade: x\r\nConnection: upgrade\r\n", ""),
];

fn s(m: mg_str) -> String {
    if m.len == 0 {
        return String::new();
    }
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(m.buf as *const u8, m.len) }).into_owned()
}

fn reply_bytes(status: u16, headers: &str, body: &str) -> Vec<u8> {
    let mut v = format!("HTTP/1.1 {status} ").into_bytes();
    v.extend_from_slice(meerkat::http::status_reason_bytes(status));
    v.extend_from_slice(format!("\r\n{headers}Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    v
}

fn reply(c: mg_conn, status: u16, headers: &str, body: &str) {
    let h = CString::new(headers).unwrap();
    assert_eq!(
        mg_http_reply_n(c, status.into(), h.as_ptr(), body.as_ptr().cast(), body.len()),
        0
    );
}

fn send(c: mg_conn, bytes: &[u8]) {
    assert_eq!(mg_send(c, bytes.as_ptr().cast(), bytes.len()), 0);
}

/// What the handler answers: `/reply/N`, `/raw/N` (see [`CASES`]); `/early/reply` and
/// `/early/raw`, a 103 and then a 200; `/interim-body`, a 102 with a body; `/static/...`, a
/// file of the root given as the listener's data.
unsafe extern "C" fn handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev != MG_EV_HTTP_MSG {
        return;
    }
    let hm = unsafe { &mut *(ev_data as *mut mg_http_message) };
    let uri = s(hm.uri);
    let parts: Vec<&str> = uri.split('/').collect();
    match parts.as_slice() {
        ["", "reply", n] => {
            let (status, headers, body) = CASES[n.parse::<usize>().unwrap()];
            reply(c, status, headers, body);
        }
        ["", "raw", n] => {
            let (status, headers, body) = CASES[n.parse::<usize>().unwrap()];
            send(c, &reply_bytes(status, headers, body));
        }
        ["", "early", "reply"] => {
            reply(c, 103, "Link: </a.css>; rel=preload\r\n", "");
            reply(c, 200, "", "final");
        }
        ["", "early", "raw"] => {
            send(c, &reply_bytes(103, "Link: </a.css>; rel=preload\r\n", ""));
            send(c, &reply_bytes(200, "", "final"));
        }
        ["", "interim-body"] => reply(c, 102, "", "x"),
        ["", "static", ..] => {
            let opts = unsafe { &*(mg_fn_data(c) as *const mg_http_serve_opts) };
            mg_http_serve_dir(c, hm, opts);
        }
        _ => reply(c, 404, "", "no"),
    }
}

/// A server on its own thread (its manager lives until the test ends); returns the port.
/// `root` and `extra`: the static files' root and extra headers.
fn server(root: &str, extra: &str) -> u16 {
    let (ptx, prx) = mpsc::channel();
    let (root, extra) = (CString::new(root).unwrap(), CString::new(extra).unwrap());
    std::thread::spawn(move || {
        let mut m = Mgr::new();
        let opts: &'static mg_http_serve_opts = Box::leak(Box::new(mg_http_serve_opts {
            root_dir: root.as_ptr(),
            ssi_pattern: std::ptr::null(),
            extra_headers: extra.as_ptr(),
            mime_types: std::ptr::null(),
            page404: std::ptr::null(),
            fs: std::ptr::null_mut(),
        }));
        let u = CString::new("http://127.0.0.1:0").unwrap();
        let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(handler), opts as *const _ as *mut c_void);
        ptx.send(port(l)).unwrap();
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            m.poll(20);
        }
        drop((root, extra));
    });
    prx.recv().unwrap()
}

/// [`exchange`] with `req` as text, waiting at most 300 ms for more.
fn ask(port: u16, req: &str) -> (String, bool) {
    exchange(port, req.as_bytes(), Duration::from_millis(300))
}

/// The request flavours a response is framed for, each followed by a pipelined request
/// that is answered only if the connection stays usable.
fn requests(path: &str) -> Vec<String> {
    let next = "GET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n";
    [
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n{next}"),
        format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n{next}"),
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n{next}"),
        format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n{next}"),
        format!("GET {path} HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n{next}"),
        format!("HEAD {path} HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n{next}"),
    ]
    .into()
}

#[test]
fn replies_the_parser_framed_go_out_as_the_same_bytes_sent_by_hand() {
    let port = server(".", "");
    for (n, case) in CASES.iter().enumerate() {
        for (req_reply, req_raw) in requests(&format!("/reply/{n}"))
            .iter()
            .zip(requests(&format!("/raw/{n}")))
        {
            let got = ask(port, req_reply);
            let want = ask(port, &req_raw);
            assert_eq!(got, want, "case {n} {case:?}: {req_reply:?}");
        }
    }
    for (req_reply, req_raw) in requests("/early/reply").iter().zip(requests("/early/raw")) {
        assert_eq!(ask(port, req_reply), ask(port, &req_raw), "{req_reply:?}");
    }
}

#[test]
fn some_replies_on_the_wire() {
    let port = server(".", "");
    // A second Content-Length: the bytes as given, then close (nothing after is parsed).
    assert_eq!(
        ask(
            port,
            "GET /reply/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello".into(),
            true
        )
    );
    // 204 with a body: the head ends the response, the body bytes follow untouched (also
    // for HEAD), and the next request is answered.
    let no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        ask(
            port,
            "HEAD /reply/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"
        ),
        (
            format!("HTTP/1.1 204 No Content\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc{no_content}"),
            false
        )
    );
    // The application's Connection: close is kept as it is, and closes.
    assert_eq!(
        ask(
            port,
            "GET /reply/7 HTTP/1.1\r\nHost: x\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: Close\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\ntwo".into(),
            true
        )
    );
    // An HTTP/1.0 keep-alive request: Connection: keep-alive added to a 304.
    assert_eq!(
        ask(
            port,
            "GET /reply/2 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
        ),
        (
            "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n".into(),
            false
        )
    );
    // Early hints, then the response.
    assert_eq!(
        ask(
            port,
            "GET /early/reply HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        (
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nContent-Length: 0\r\n\r\n\
             HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfinal"
                .into(),
            true
        )
    );
}

/// A body after an interim status cannot be framed: it goes out whole and the connection
/// closes after it (the framer's way with bytes it cannot frame). Before, the framer held
/// the body back, waiting for the head of a next response that never came.
#[test]
fn a_body_after_an_interim_status_goes_out_and_closes() {
    let port = server(".", "");
    assert_eq!(
        ask(
            port,
            "GET /interim-body HTTP/1.1\r\nHost: x\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"
        ),
        ("HTTP/1.1 102 Processing\r\nContent-Length: 1\r\n\r\nx".into(), true)
    );
}

#[test]
fn static_heads_with_extra_headers_that_speak_of_framing() {
    let dir = std::env::temp_dir().join(format!("meerkat-reply-framing-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(dir.join("static/f.txt"), "abc").unwrap();
    let root = dir.display().to_string();
    let etag = |port: u16| {
        let (r, _) = ask(
            port,
            "HEAD /static/f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let at = r.find("ETag: ").unwrap() + 6;
        r[at..at + r[at..].find('\r').unwrap()].to_string()
    };
    // Connection: close among the extra headers: kept, no second one added, closes.
    let port = server(&root, "Connection: close\r\n");
    let tag = etag(port);
    let (r, closed) = ask(
        port,
        &format!("GET /static/f.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: {tag}\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert!(r.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{r}");
    assert!(
        r.ends_with("Connection: close\r\n\r\n") && r.matches("Connection").count() == 1,
        "{r}"
    );
    assert!(closed);
    let (r, closed) = ask(port, "GET /static/f.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=5-\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 416 Range Not Satisfiable\r\n"), "{r}");
    assert!(r.ends_with("Connection: close\r\n\r\nRange not satisfiable\n"), "{r}");
    assert!(closed);
    // Content-Length among them: a second one, so the response goes out as it is and the
    // connection closes (a file is then not sent).
    let port = server(&root, "Content-Length: 3\r\n");
    let (r, closed) = ask(
        port,
        "GET /static/f.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 206 Partial Content\r\n"), "{r}");
    assert!(r.ends_with("Content-Length: 3\r\n\r\n"), "{r}");
    assert!(closed);
    // On a 304 no Content-Length is built: the extra one stands alone, keep-alive goes on.
    let tag = etag(port);
    let (r, closed) = ask(
        port,
        &format!("GET /static/f.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: {tag}\r\n\r\nGET /reply/0 HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert!(r.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{r}");
    assert!(
        r.ends_with("Content-Length: 3\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
        "{r}"
    );
    assert!(!closed);
    let _ = std::fs::remove_dir_all(&dir);
}
