//! The device dashboard (`mg_dash`, Mongoose 7.22's names) from C: `tests/c/dash_server.c`
//! binds a scalar settings set, an array set of users and a file-array set to C variables,
//! with an authenticate callback, and runs `mg_dash_ev_handler` on 127.0.0.1. This test is
//! the browser: it asserts the bytes on the wire (cookies, status codes, JSON), that writes
//! reach the C variables (the program prints them), that a WebSocket client receives the
//! change `mg_dash_send_change` sends, that bad input gets a 4xx and changes nothing, and
//! that the live connection count returns to the listener alone. Plain and under ASan + UBSan
//! (which also checks that sessions are freed when the listener closes).

mod common;

use common::cbuild::{compile_c, root, Flavor};
use common::data::TempDir;
use common::example::Child;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One request on its own connection (`Connection: close`), the whole response read.
fn req(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read the response");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head end in {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let resp = Resp {
        status,
        head: head.to_string(),
        body: body.to_string(),
    };
    if let Some(cl) = resp.header("Content-Length") {
        assert_eq!(cl.parse::<usize>().unwrap(), resp.body.len(), "{text}");
    }
    resp
}

fn basic(user: &str, pass: &str) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let src = format!("{user}:{pass}").into_bytes();
    let mut out = String::from("Basic ");
    for ch in src.chunks(3) {
        let n =
            (u32::from(ch[0]) << 16) | (u32::from(*ch.get(1).unwrap_or(&0)) << 8) | u32::from(*ch.get(2).unwrap_or(&0));
        for j in 0..4 {
            if j <= ch.len() {
                out.push(B64[((n >> (18 - 6 * j)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A WebSocket client: handshake, then whole text frames from the server.
struct Ws {
    s: TcpStream,
}

impl Ws {
    fn open(port: u16, cookie: &str) -> Ws {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let r = format!(
            "GET /api/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
        );
        s.write_all(r.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).expect("the 101 head");
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        Ws { s }
    }

    fn message(&mut self) -> String {
        let mut h = [0u8; 2];
        self.s.read_exact(&mut h).expect("a frame");
        assert_eq!(h[0], 0x81, "a whole text frame");
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut l = [0u8; 2];
            self.s.read_exact(&mut l).unwrap();
            len = u64::from(u16::from_be_bytes(l));
        }
        let mut p = vec![0u8; len as usize];
        self.s.read_exact(&mut p).unwrap();
        String::from_utf8(p).unwrap()
    }

    /// Close with a masked close frame and wait for the server's close.
    fn close(mut self) {
        self.s.write_all(&[0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]).unwrap();
        let mut rest = Vec::new();
        let _ = self.s.read_to_end(&mut rest);
        assert!(rest.starts_with(&[0x88]), "close echoed: {rest:?}");
    }
}

fn cookie_of(r: &Resp) -> String {
    let sc = r.header("Set-Cookie").expect("Set-Cookie");
    let (kv, attrs) = sc.split_once(';').unwrap();
    assert_eq!(attrs.trim(), "Path=/; HttpOnly; SameSite=Lax; Max-Age=86400", "{sc}");
    let token = kv.strip_prefix("access_token=").expect("access_token cookie");
    assert_eq!(token.len(), 20, "{sc}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{sc}"
    );
    kv.to_string()
}

fn dash(flavor: Flavor) {
    let src = root().join("tests/c/dash_server.c");
    let bin = compile_c(&format!("dash_server-{flavor:?}"), &[&src], &[], flavor);
    let dir = TempDir::new("dash");
    let dir_s = dir.dir().to_str().unwrap().to_string();
    let (mut child, port) = Child::server_with(&bin, "http", None, &[&dir_s]);
    child.wait_line("initial state", |l| {
        l == "state speed=10 enabled=1 device=pump extra=[1,2] users=alice:3,bob:5"
    });
    let json = "application/json";

    // No session: the API is refused, /api/hi is open.
    let r = req(port, "GET", "/api/get", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (403, "Not Authorised\n"));
    let r = req(port, "GET", "/api/websocket", &[("Upgrade", "websocket")], b"");
    assert_eq!((r.status, r.body.as_str()), (403, "Not Authorised\n"));
    // "/" serves /dashboard.html of the packed file system, without a session.
    let r = req(port, "GET", "/", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "<html>dashboard</html>\n"));
    assert_eq!(r.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    let r = req(port, "GET", "/api/hi", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "hi\n"));
    let r = req(
        port,
        "GET",
        "/api/login",
        &[("Authorization", &basic("admin", "wrong"))],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(r.header("Set-Cookie").is_none());

    // Login: a cookie with a fresh token and the user's level.
    let r = req(
        port,
        "GET",
        "/api/login",
        &[("Authorization", &basic("admin", "secret"))],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, "{\"user\":\"admin\",\"level\":7}\n");
    assert_eq!(r.header("Content-Type").as_deref(), Some(json));
    let admin = cookie_of(&r);
    let r = req(
        port,
        "GET",
        "/api/login",
        &[("Authorization", &basic("viewer", "look"))],
        b"",
    );
    assert_eq!(r.body, "{\"user\":\"viewer\",\"level\":1}\n");
    let viewer = cookie_of(&r);
    assert_ne!(admin, viewer);
    let a = [("Cookie", admin.as_str())];
    let v = [("Cookie", viewer.as_str())];

    // Read: the bound C variables as JSON.
    let settings =
        "{\"speed\":10,\"enabled\":true,\"device\":\"pump\",\"temp\":21.50,\"uptime\":12345,\"extra\":[1,2]}";
    let r = req(port, "GET", "/api/get/settings", &a, b"");
    assert_eq!((r.status, r.body.clone()), (200, format!("{settings}\n")));
    let r = req(port, "GET", "/api/get", &a, b"");
    assert_eq!(r.body, format!("{{\"files\":0,\"users\":2,\"settings\":{settings}}}\n"));
    let r = req(port, "GET", "/api/get/users/0/1", &a, b"");
    assert_eq!(
        r.body,
        "[{\"name\":\"alice\",\"level\":3},{\"name\":\"bob\",\"level\":5}]\n"
    );
    let r = req(port, "GET", "/api/get/users/1", &a, b"");
    assert_eq!(r.body, "[{\"name\":\"bob\",\"level\":5}]\n");

    // A WebSocket for the admin session.
    let mut ws = Ws::open(port, &admin);

    // Write: the C variable changes, the WebSocket hears of it.
    let r = req(
        port,
        "POST",
        "/api/set",
        &a,
        b"{\"settings\":{\"speed\":42,\"device\":\"fan \\\"2\\\"\"}}",
    );
    assert_eq!((r.status, r.body.as_str()), (200, "2\n"));
    child.wait_line("the write", |l| {
        l.starts_with("state speed=42 enabled=1 device=fan \"2\" ")
    });
    let changed =
        "{\"speed\":42,\"enabled\":true,\"device\":\"fan \\\"2\\\"\",\"temp\":21.50,\"uptime\":12345,\"extra\":[1,2]}";
    assert_eq!(
        ws.message(),
        format!("{{\"method\":\"change\",\"params\":{{\"settings\":{changed}}}}}")
    );

    // The device changes a value and calls mg_dash_send_change (a custom handler, no session).
    let r = req(port, "GET", "/test/bump", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "bumped 43\n"));
    assert!(ws
        .message()
        .starts_with("{\"method\":\"change\",\"params\":{\"settings\":{\"speed\":43,"));

    // A viewer may read but not write: refused by the set's callback, nothing changes.
    let r = req(port, "POST", "/api/set", &v, b"{\"settings\":{\"speed\":1}}");
    assert_eq!((r.status, r.body.as_str()), (200, "0\n"));
    let r = req(port, "GET", "/api/get/settings", &v, b"");
    assert!(r.body.starts_with("{\"speed\":43,"), "{}", r.body);

    // Bad input: a 4xx, nothing written, the server alive.
    for (body, status, text) in [
        (
            &b"{\"settings\":{\"speed\":"[..],
            400,
            "bad JSON: an object is expected\n",
        ),
        (b"not json", 400, "bad JSON: an object is expected\n"),
        (b"[1]", 400, "bad JSON: an object is expected\n"),
        (
            b"{\"settings\":{\"device\":\"0123456789abcdef\"}}",
            400,
            "value too long for device\n",
        ),
        (
            b"{\"settings\":{\"speed\":7,\"device\":\"0123456789abcdefgh\"}}",
            400,
            "value too long for device\n",
        ),
        (b"{\"settings\":{\"speed\":1.5}}", 400, "bad value for speed\n"),
        (b"{\"settings\":{\"speed\":\"7\"}}", 400, "bad value for speed\n"),
        (b"{\"settings\":{\"speed\":99999999999}}", 400, "bad value for speed\n"),
        (b"{\"settings\":{\"temp\":1}}", 400, "read-only field temp\n"),
        (
            b"{\"settings\":{\"speed\":7},\"nosuch\":{\"a\":1}}",
            404,
            "unknown set nosuch\n",
        ),
        (
            b"{\"settings\":5}",
            400,
            "bad JSON: each set's value must be an object\n",
        ),
    ] {
        let r = req(port, "POST", "/api/set", &a, body);
        assert_eq!(
            (r.status, r.body.as_str()),
            (status, text),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let r = req(port, "GET", "/api/get/settings", &a, b"");
    assert!(
        r.body
            .starts_with("{\"speed\":43,\"enabled\":true,\"device\":\"fan \\\"2\\\"\""),
        "{}",
        r.body
    );
    let r = req(port, "GET", "/api/get/nosuch", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (404, "null\n"));
    let r = req(port, "POST", "/api/add/nosuch", &a, b"{}");
    assert_eq!(r.status, 404);
    let r = req(port, "GET", "/api/get/users/x", &a, b"");
    assert_eq!(r.status, 400);
    let huge = format!("{{\"settings\":{{\"device\":\"{}\"}}}}", "x".repeat(100_000));
    let r = req(port, "POST", "/api/set", &a, huge.as_bytes());
    assert_eq!((r.status, r.body.as_str()), (400, "value too long for device\n"));
    // A 16-byte buffer holds 15 characters and the NUL.
    let r = req(
        port,
        "POST",
        "/api/set",
        &a,
        b"{\"settings\":{\"device\":\"0123456789abcde\"}}",
    );
    assert_eq!((r.status, r.body.as_str()), (200, "1\n"));
    child.wait_line("15 characters", |l| {
        l == "state speed=43 enabled=1 device=0123456789abcde extra=[1,2] users=alice:3,bob:5"
    });
    assert!(ws.message().contains("\"device\":\"0123456789abcde\""));

    // Array set: add, modify, delete; size changes are notified.
    let r = req(port, "POST", "/api/add/users", &a, b"{\"name\":\"carol\",\"level\":9}");
    assert_eq!((r.status, r.body.as_str()), (200, "true\n"));
    child.wait_line("the add", |l| l.ends_with("users=alice:3,bob:5,carol:9"));
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"users\":3}}");
    let r = req(port, "POST", "/api/add/users", &v, b"{\"name\":\"eve\",\"level\":9}");
    assert_eq!((r.status, r.body.as_str()), (403, "false\n"));
    let r = req(port, "POST", "/api/add/users", &a, b"{\"name\":\"a-name-too-long\"}");
    assert_eq!((r.status, r.body.as_str()), (400, "value too long for name\n"));
    let r = req(port, "POST", "/api/get/users/1", &a, b"{\"level\":6}");
    assert_eq!((r.status, r.body.as_str()), (200, "1\n"));
    child.wait_line("the modify", |l| l.ends_with("users=alice:3,bob:6,carol:9"));
    assert_eq!(
        ws.message(),
        "{\"method\":\"change\",\"params\":{\"users/1\":{\"name\":\"bob\",\"level\":6}}}"
    );
    let r = req(port, "POST", "/api/get/users/7", &a, b"{\"level\":6}");
    assert_eq!((r.status, r.body.as_str()), (404, "null\n"));
    let r = req(port, "GET", "/api/del/users/0", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (200, "1\n"));
    child.wait_line("the delete", |l| l.ends_with("users=bob:6,carol:9"));
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"users\":2}}");
    let r = req(port, "GET", "/api/del/users/5", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (403, "false\n"));

    // File-array set over the directory.
    let r = req(port, "POST", "/fs/files/notes.txt", &a, b"hello");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    assert_eq!(std::fs::read(dir.path("notes.txt")).unwrap(), b"hello");
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"files\":1}}");
    let r = req(port, "GET", "/api/get/files/0", &a, b"");
    assert_eq!(r.body, "[{\"name\":\"notes.txt\",\"size\":5}]\n");
    let r = req(port, "GET", "/fs/files/notes.txt", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (200, "hello"));
    let r = req(port, "POST", "/fs/files/..%2Fescape", &a, b"x");
    assert_eq!((r.status, r.body.as_str()), (400, "Bad file name\n"));
    let r = req(port, "POST", "/fs/files/v.txt", &v, b"x");
    assert_eq!(r.status, 403);
    let r = req(port, "GET", "/fs/files/notes.txt", &[], b"");
    assert_eq!(r.status, 403);
    let r = req(port, "DELETE", "/fs/files/notes.txt", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (200, "true"));
    assert!(!dir.path("notes.txt").exists());
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"files\":0}}");
    // Uploads are streamed into the file (mg_http_start_upload): 3 MiB past the default
    // http_max_body of 1 MiB; a second upload replaces the file.
    let big: Vec<u8> = (0..3usize << 20).map(|i| (i % 251) as u8).collect();
    let r = req(port, "POST", "/fs/files/big.bin", &a, &big);
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    assert!(std::fs::read(dir.path("big.bin")).unwrap() == big, "big.bin differs");
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"files\":1}}");
    let r = req(port, "PUT", "/fs/files/big.bin", &a, b"short");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    assert_eq!(std::fs::read(dir.path("big.bin")).unwrap(), b"short");
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"files\":1}}");
    let r = req(port, "DELETE", "/fs/files/big.bin", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (200, "true"));
    assert_eq!(ws.message(), "{\"method\":\"change\",\"params\":{\"files\":0}}");
    // An upload that cannot start (the name is a directory there: opening it fails inside
    // mg_http_start_upload) is answered once, with the reason, and nothing is written.
    std::fs::create_dir_all(dir.path("adir/sub")).unwrap();
    let r = req(port, "POST", "/fs/files/adir", &a, b"data");
    assert_eq!((r.status, r.body.as_str()), (500, "Write error: open failed\n"));
    let r = req(port, "GET", "/api/get/settings", &a, b"");
    assert_eq!(r.status, 200, "the server goes on");
    assert!(dir.path("adir/sub").is_dir());
    std::fs::remove_dir_all(dir.path("adir")).unwrap();

    // Logout ends the session: the cookie is cleared and no longer accepted, and the
    // session's WebSocket is closed.
    let r = req(port, "GET", "/api/logout", &v, b"");
    assert_eq!((r.status, r.body.as_str()), (401, "Unauthorized\n"));
    assert!(r
        .header("Set-Cookie")
        .unwrap()
        .starts_with("access_token=; Path=/; Expires=Thu, 01 Jan 1970"));
    let r = req(port, "GET", "/api/get", &v, b"");
    assert_eq!(r.status, 403);
    let r = req(port, "GET", "/api/get/settings", &a, b"");
    assert_eq!(r.status, 200);
    ws.close();
    let r = req(port, "GET", "/nothing/here", &a, b"");
    assert_eq!((r.status, r.body.as_str()), (404, "Not Found"));

    // Every connection ended: only the listener is left.
    child.wait_line("live count back to the listener", |l| l == "live 1");
    child.stop();
}

/// Without an authenticate callback every client is the guest (level 9), as in Mongoose:
/// no login needed, login answers with the guest and an empty token, writes are allowed,
/// and a WebSocket without a cookie receives changes.
fn guest(flavor: Flavor) {
    let src = root().join("tests/c/dash_server.c");
    let bin = compile_c(&format!("dash_server-guest-{flavor:?}"), &[&src], &[], flavor);
    let dir = TempDir::new("dash-guest");
    let dir_s = dir.dir().to_str().unwrap().to_string();
    let (mut child, port) = Child::server_with(&bin, "http", None, &[&dir_s, "guest"]);
    child.wait_line("initial state", |l| l.starts_with("state speed=10 "));
    let r = req(port, "GET", "/api/get/users", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "2\n"));
    let r = req(port, "GET", "/api/login", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "{\"user\":\"guest\",\"level\":9}\n"));
    assert_eq!(
        r.header("Set-Cookie").as_deref(),
        Some("access_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400")
    );
    let mut ws = Ws::open(port, "x=y");
    let r = req(port, "POST", "/api/set", &[], b"{\"settings\":{\"enabled\":false}}");
    assert_eq!((r.status, r.body.as_str()), (200, "1\n"));
    child.wait_line("the write", |l| l.starts_with("state speed=10 enabled=0 "));
    assert!(ws.message().contains("\"enabled\":false"));
    ws.close();
    child.wait_line("live count back to the listener", |l| l == "live 1");
    child.stop();
}

/// Sessions: at most 10 per dashboard; unused for `session_auto_expiration_seconds` (1 s
/// here) they end, the cookie stops working, and room is made for new ones.
#[test]
fn dashboard_sessions_expire_and_are_capped() {
    let src = root().join("tests/c/dash_server.c");
    let bin = compile_c("dash_server-short-Plain", &[&src], &[], Flavor::Plain);
    let dir = TempDir::new("dash-short");
    let dir_s = dir.dir().to_str().unwrap().to_string();
    let (mut child, port) = Child::server_with(&bin, "http", None, &[&dir_s, "short"]);
    child.wait_line("initial state", |l| l.starts_with("state speed=10 "));
    let login = |user: &str, pass: &str| req(port, "GET", "/api/login", &[("Authorization", &basic(user, pass))], b"");
    let admin = cookie_of(&login("admin", "secret"));
    for i in 1..=9 {
        let r = login(&format!("u{i}"), "p");
        assert_eq!(r.body, format!("{{\"user\":\"u{i}\",\"level\":2}}\n"));
    }
    // The 11th user is refused; the admin logging in again reuses its session.
    assert_eq!(login("u10", "p").status, 403);
    let again = cookie_of(&login("admin", "secret"));
    assert_eq!(again, admin);
    let r = req(port, "GET", "/api/get/users", &[("Cookie", &admin)], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "2\n"));
    std::thread::sleep(Duration::from_millis(1500));
    let r = req(port, "GET", "/api/get/users", &[("Cookie", &admin)], b"");
    assert_eq!((r.status, r.body.as_str()), (403, "Not Authorised\n"));
    assert_eq!(login("u10", "p").status, 200);
    child.stop();
}

#[test]
fn dashboard_guest_from_c() {
    guest(Flavor::Plain);
}

#[test]
fn dashboard_guest_from_c_sanitized() {
    guest(Flavor::Sanitized);
}

#[test]
fn dashboard_from_c() {
    dash(Flavor::Plain);
}

#[test]
fn dashboard_from_c_sanitized() {
    dash(Flavor::Sanitized);
}
