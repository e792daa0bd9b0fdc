//! The HTTP C examples (`c-examples/http-server`, `http-client`, `http-restful-server`,
//! `file-upload`), built against `libmeerkat.a` plain and with AddressSanitizer + UBSan,
//! run as separate processes on a free 127.0.0.1 port, and driven with raw HTTP/1.1 over
//! `std::net::TcpStream`.
//!
//! What is asserted is what a user sees: status codes, headers, body bytes (the served web
//! root must equal the files on disk, an upload must equal what was sent), lines printed,
//! exit status, and no sanitizer report on stderr (LeakSanitizer included).
//!
//! Every wait is bounded (socket timeouts, `STEP` for process waits); a child still running
//! when a test fails is killed by its guard, and upload directories are removed by theirs.

mod common;

use common::cbuild::{example, free_port, root, Flavor};
use common::data::{json_num, pattern, TempDir};
use common::example::{Child, Finished, STEP};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---- a small HTTP/1.1 client -----------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn assert_json(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text().as_str()), (status, body), "{self:?}");
        assert_eq!(self.header("Content-Type"), Some("application/json"), "{self:?}");
    }
}

/// One client connection; requests on it are keep-alive unless they say otherwise.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the example");
        s.set_read_timeout(Some(STEP)).unwrap();
        s.set_write_timeout(Some(STEP)).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("send request");
    }

    fn line(&mut self) -> String {
        let mut l = Vec::new();
        self.r.read_until(b'\n', &mut l).expect("read a line");
        assert!(
            l.ends_with(b"\r\n"),
            "line not ended by CRLF: {:?}",
            String::from_utf8_lossy(&l)
        );
        l.truncate(l.len() - 2);
        String::from_utf8(l).expect("head is text")
    }

    /// Read the status line and headers of one response.
    fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {status_line:?}");
        let status = parts.next().and_then(|s| s.parse().ok()).expect("status code");
        let mut headers = Vec::new();
        loop {
            let l = self.line();
            if l.is_empty() {
                break;
            }
            let (n, v) = l.split_once(':').unwrap_or_else(|| panic!("header line {l:?}"));
            headers.push((n.to_string(), v.trim().to_string()));
        }
        (status, headers)
    }

    /// Read one whole response (`head_req`: it answers a HEAD request, so it has no body).
    fn read(&mut self, head_req: bool) -> Resp {
        let (status, headers) = self.head();
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        if head_req || status / 100 == 1 || status == 204 || status == 304 {
            return resp;
        }
        if resp
            .header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let size = self.line();
                let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).expect("chunk size");
                let mut chunk = vec![0; size + 2];
                self.r.read_exact(&mut chunk).expect("chunk");
                assert!(chunk.ends_with(b"\r\n"));
                chunk.truncate(size);
                resp.body.extend_from_slice(&chunk);
                if size == 0 {
                    break; // (no trailers from these servers)
                }
            }
        } else if let Some(cl) = resp.header("Content-Length") {
            let mut body = vec![0; cl.parse().expect("Content-Length")];
            self.r.read_exact(&mut body).expect("body");
            resp.body = body;
        } else {
            self.r.read_to_end(&mut resp.body).expect("body until close");
        }
        resp
    }

    fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes);
        self.read(method == "HEAD")
    }

    /// After `Connection: close`: the server must close without sending anything more.
    fn assert_closed(&mut self) {
        let mut rest = Vec::new();
        self.r.read_to_end(&mut rest).expect("read until close");
        assert!(
            rest.is_empty(),
            "bytes after the last response: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

/// One request on a new connection, with `Connection: close`.
fn fetch(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut c = Conn::open(port);
    let mut h = headers.to_vec();
    h.push(("Connection", "close"));
    let r = c.request(method, path, &h, body);
    c.assert_closed();
    r
}

fn get(port: u16, path: &str) -> Resp {
    fetch(port, "GET", path, &[], b"")
}

/// `s` as the body of a JSON string, escaped the way meerkat's `%m`/`MG_ESC` does.
fn json_esc(s: &[u8]) -> String {
    let mut out = Vec::new();
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
}

/// Reset the connection (RST instead of FIN) when it is dropped.
fn set_rst(s: &TcpStream) {
    socket2::SockRef::from(s).set_linger(Some(Duration::ZERO)).unwrap();
}

fn nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

// ---- http-server -----------------------------------------------------------------------

fn web_root() -> PathBuf {
    root().join("c-examples/http-server/web_root")
}

fn web_file(name: &str) -> Vec<u8> {
    std::fs::read(web_root().join(name)).unwrap_or_else(|e| panic!("web_root/{name}: {e}"))
}

fn start_http_server(flavor: Flavor) -> (Child, u16) {
    let bin = example("http-server", flavor);
    let root = web_root();
    let (mut child, port) = Child::server(&bin, &[root.to_str().unwrap()]);
    child.wait_line("serving", |l| l.starts_with("serving "));
    (child, port)
}

/// The web root itself: a page that uses its stylesheet, script and image, a small valid PNG.
#[test]
fn http_server_web_root_is_consistent() {
    let html = String::from_utf8(web_file("index.html")).unwrap();
    for needle in ["href=\"style.css\"", "src=\"app.js\"", "src=\"logo.png\""] {
        assert!(html.contains(needle), "index.html refers to {needle}");
    }
    let js = String::from_utf8(web_file("app.js")).unwrap();
    for api in ["/api/stats", "/api/echo", "/api/sum", "/api/slow"] {
        assert!(js.contains(api), "app.js uses {api}");
    }
    let png = web_file("logo.png");
    assert!(png.len() < 4096, "logo.png is small ({} bytes)", png.len());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.ends_with(b"IEND\xae\x42\x60\x82"));
}

fn http_server(flavor: Flavor) {
    let (child, port) = start_http_server(flavor);

    // Static files: bytes identical to the files on disk, with their types.
    let html = web_file("index.html");
    for (path, file, ctype) in [
        ("/", "index.html", "text/html"),
        ("/index.html", "index.html", "text/html"),
        ("/style.css", "style.css", "text/css"),
        ("/app.js", "app.js", "javascript"),
        ("/logo.png", "logo.png", "image/png"),
    ] {
        let r = get(port, path);
        assert_eq!(r.status, 200, "GET {path}: {r:?}");
        assert!(
            r.body == web_file(file),
            "GET {path}: body differs from web_root/{file}"
        );
        let ct = r.header("Content-Type").unwrap_or_default();
        assert!(ct.contains(ctype), "GET {path}: Content-Type {ct:?}, want {ctype}");
    }
    assert_eq!(get(port, "/no-such-file.txt").status, 404);
    // Nothing outside the web root, however the path is spelled.
    let main_c = std::fs::read(root().join("c-examples/http-server/main.c")).unwrap();
    for path in ["/../main.c", "/%2e%2e/main.c", "/..%2fmain.c", "/web_root/../main.c"] {
        let r = get(port, path);
        assert!(r.status >= 400, "GET {path} must fail: {}", r.status);
        assert!(r.body != main_c, "GET {path} served main.c");
    }
    // HEAD: the headers of GET, no body.
    let mut c = Conn::open(port);
    let r = c.request("HEAD", "/style.css", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Length"),
        Some(web_file("style.css").len().to_string().as_str())
    );
    // Keep-alive: page, assets and API on one connection, in order.
    for (path, want) in [("/", html.clone()), ("/logo.png", web_file("logo.png"))] {
        let r = c.request("GET", path, &[], b"");
        assert!(
            r.status == 200 && r.body == want,
            "GET {path} on a kept-alive connection"
        );
    }

    // GET /api/stats.
    let r1 = c.request("GET", "/api/stats", &[], b"");
    let r2 = c.request("GET", "/api/stats", &[], b"");
    for r in [&r1, &r2] {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(
            r.header("Cache-Control"),
            Some("no-store"),
            "API replies are never cached"
        );
        let t = r.text();
        assert!(t.starts_with("{\"uptime_ms\":") && t.ends_with('}'), "{t}");
    }
    let (t1, t2) = (r1.text(), r2.text());
    assert_eq!(
        json_num(&t2, "requests"),
        json_num(&t1, "requests") + 1,
        "{t1} then {t2}"
    );
    assert!(json_num(&t2, "uptime_ms") >= json_num(&t1, "uptime_ms"));
    assert!(
        json_num(&t2, "live_conns") >= 2,
        "the listener and this connection: {t2}"
    );

    // GET /api/echo: URL-decoded, then JSON-escaped.
    for (query, text) in [
        ("hello", &b"hello"[..]),
        ("a+b%20c", b"a b c"),
        (
            "%22quoted%22%20back%5Cslash%0Anew%09tab",
            b"\"quoted\" back\\slash\nnew\ttab",
        ),
        ("nul%00byte%01", b"nul\0byte\x01"),
        ("%C3%A9t%C3%A9%20%F0%9F%A6%A6", "été 🦦".as_bytes()),
        ("", b""),
    ] {
        let r = c.request("GET", &format!("/api/echo?text={query}"), &[], b"");
        r.assert_json(200, &format!("{{\"text\":\"{}\"}}", json_esc(text)));
    }
    c.request("GET", "/api/echo", &[], b"")
        .assert_json(400, "{\"error\":\"missing ?text=\"}");
    assert_eq!(c.request("GET", "/api/echo?text=%zz", &[], b"").status, 400);

    // POST /api/sum: JSON or form.
    let json = [("Content-Type", "application/json")];
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    c.request("POST", "/api/sum", &json, b"{\"a\":1,\"b\":2}")
        .assert_json(200, "{\"sum\":3}");
    c.request("POST", "/api/sum", &json, b" { \"b\" : -7.5 , \"a\" : 2 } ")
        .assert_json(200, "{\"sum\":-5.5}");
    c.request("POST", "/api/sum", &form, b"a=1&b=2")
        .assert_json(200, "{\"sum\":3}");
    c.request("POST", "/api/sum", &form, b"b=0.25&a=1e3")
        .assert_json(200, "{\"sum\":1000.25}");
    for bad in [&b"{\"a\":1}"[..], b"a=1&b=x", b"", b"{\"a\":\"1\",\"b\":2}"] {
        let r = c.request("POST", "/api/sum", &[], bad);
        assert_eq!(r.status, 400, "{:?}: {r:?}", String::from_utf8_lossy(bad));
    }
    let r = c.request("GET", "/api/sum", &[], b"");
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST")));

    // Unknown API paths: JSON 404s, not files.
    for path in ["/api/nope", "/api", "/api/", "/api/stats/x", "/api/index.html"] {
        c.request("GET", path, &[], b"")
            .assert_json(404, "{\"error\":\"not found\"}");
    }
    drop(c);

    // GET /api/slow from many clients at once: each gets its own reply, 50..200 ms later.
    let n = nonce();
    let clients: Vec<_> = (0..24)
        .map(|i| {
            std::thread::spawn(move || {
                let id = format!("c{i}-{n:x}");
                let t0 = Instant::now();
                let r = get(port, &format!("/api/slow?id={id}"));
                let took = t0.elapsed();
                assert_eq!(r.status, 200);
                assert_eq!(r.header("Cache-Control"), Some("no-store"));
                let t = r.text();
                assert!(
                    t.starts_with(&format!("{{\"id\":\"{id}\",\"delay_ms\":")),
                    "client {i} got {t}"
                );
                let delay = json_num(&t, "delay_ms");
                assert!((50..=200).contains(&delay), "{t}");
                // The server's millisecond clock may round the delay up by up to 2 ms.
                assert!(
                    took + Duration::from_millis(2) >= Duration::from_millis(delay),
                    "{t} came after {took:?}"
                );
            })
        })
        .collect();
    for c in clients {
        c.join().expect("slow client");
    }

    // The seed scenario: browsers ask for /api/slow and leave (FIN or RST) while others load
    // the stylesheet on new connections, which may get the leavers' socket numbers. Every
    // stylesheet must be the stylesheet; a pipelined CSS request after a slow one on the
    // same connection must come after the slow reply.
    let css = web_file("style.css");
    let leavers: u64 = 8;
    for i in 0..leavers {
        let c = Conn::open(port);
        let mut w = c.w.try_clone().unwrap();
        w.write_all(format!("GET /api/slow?id=gone{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        if i % 2 == 0 {
            set_rst(&c.w);
        }
    }
    let until = Instant::now() + Duration::from_millis(400);
    let mut css_loads = 0;
    while Instant::now() < until {
        let mut c = Conn::open(port);
        let r = c.request("GET", "/style.css", &[], b"");
        assert!(
            r.status == 200 && r.body == css,
            "a stylesheet request got something else: {r:?}"
        );
        assert!(r.header("Content-Type").unwrap_or_default().starts_with("text/css"));
        css_loads += 1;
    }
    assert!(css_loads > 10);
    let mut c = Conn::open(port);
    c.send(b"GET /api/slow?id=first HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read(false);
    assert!(r.text().starts_with("{\"id\":\"first\","), "{r:?}");
    let r = c.read(false);
    assert!(r.status == 200 && r.body == css, "{r:?}");
    drop(c);

    // Every connection of the above is gone again (G3), the reset ones too: the server
    // counts the listener and the connection asking.
    let end = Instant::now() + STEP;
    loop {
        let stats = get(port, "/api/stats").text();
        if json_num(&stats, "live_conns") == 2 {
            break;
        }
        assert!(Instant::now() < end, "connections left behind: {stats}");
        std::thread::sleep(Duration::from_millis(20));
    }

    std::thread::sleep(Duration::from_millis(300)); // the leavers' replies are due by now
    let f = child.stop();
    let k = f.counters("slow:");
    let ctx = f.describe();
    assert_eq!(k["requests"], 24 + leavers + 1, "{ctx}");
    assert_eq!(
        k["requests"],
        k["replies"] + k["stale"] + k["undelivered"] + k["dropped"] + k["failed"],
        "{ctx}"
    );
    assert_eq!(k["dropped"], 0, "{ctx}");
    // A reset connection is gone before its reply is due: the reply was refused (stale)
    // or handed back (undelivered), never sent elsewhere.
    assert!(k["stale"] + k["undelivered"] >= leavers / 2, "{ctx}");
}

#[test]
fn http_server_plain() {
    http_server(Flavor::Plain);
}

#[test]
fn http_server_sanitized() {
    http_server(Flavor::Sanitized);
}

// ---- http-client -----------------------------------------------------------------------

fn run_client(flavor: Flavor, args: &[&str]) -> Finished {
    let bin = example("http-client", flavor);
    let f = Child::start(&bin, args).finish();
    f.assert_no_sanitizer_report();
    f
}

fn http_client(flavor: Flavor) {
    let (server, port) = start_http_server(flavor);
    let base = format!("http://127.0.0.1:{port}");

    // 2xx: exit 0; status, header count and body printed.
    let f = run_client(flavor, &[&format!("{base}/api/stats")]);
    assert_eq!(f.status.code(), Some(0), "{}", f.describe());
    // Content-Type, Cache-Control, Content-Length, Connection: close (the client asks for it).
    assert_eq!(f.stdout[..3], ["status: 200", "headers: 4", ""], "{}", f.describe());
    assert_eq!(f.stdout.len(), 4, "{}", f.describe());
    assert!(f.stdout[3].starts_with("{\"uptime_ms\":"), "{}", f.describe());
    assert!(json_num(&f.stdout[3], "live_conns") >= 2);

    let f = run_client(flavor, &[&format!("{base}/api/echo?text=hi%20there")]);
    assert_eq!(f.status.code(), Some(0), "{}", f.describe());
    assert_eq!(f.stdout.last().map(String::as_str), Some("{\"text\":\"hi there\"}"));

    // A file: the body printed is the file.
    let f = run_client(flavor, &[&format!("{base}/style.css")]);
    assert_eq!(f.status.code(), Some(0), "{}", f.describe());
    assert_eq!(f.stdout[0], "status: 200");
    let css = String::from_utf8(web_file("style.css")).unwrap();
    assert_eq!(f.stdout[3..].join("\n") + "\n", css);

    // Not 2xx: exit 1.
    let f = run_client(flavor, &[&format!("{base}/api/nope")]);
    assert_eq!(f.status.code(), Some(1), "{}", f.describe());
    assert_eq!(f.stdout[0], "status: 404");
    assert_eq!(f.stdout.last().map(String::as_str), Some("{\"error\":\"not found\"}"));

    let f = server.stop();
    assert!(f.counters("slow:")["requests"] == 0);

    // Nobody listening: exit 1 with the reason on stderr.
    let f = run_client(flavor, &[&format!("http://127.0.0.1:{}/", free_port())]);
    assert_eq!(f.status.code(), Some(1), "{}", f.describe());
    // stdout holds only the library's error log line (Mongoose logs to stdout too).
    let printed: Vec<_> = f.stdout.iter().filter(|l| !l.contains(" ERROR ")).collect();
    assert!(printed.is_empty() && f.stderr.contains("error:"), "{}", f.describe());
    assert!(
        f.stdout.iter().any(|l| l.contains("connect failed")),
        "the failed connect is logged at error level\n{}",
        f.describe()
    );

    // A server that accepts and never answers: the timer ends it, exit 2.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/", silent.local_addr().unwrap().port());
    let t0 = Instant::now();
    let f = run_client(flavor, &[&url, "300"]);
    assert_eq!(f.status.code(), Some(2), "{}", f.describe());
    assert!(f.stderr.contains("timed out"), "{}", f.describe());
    assert!(t0.elapsed() >= Duration::from_millis(300));
    drop(silent);
}

#[test]
fn http_client_plain() {
    http_client(Flavor::Plain);
}

#[test]
fn http_client_sanitized() {
    http_client(Flavor::Sanitized);
}

// ---- http-restful-server ---------------------------------------------------------------

/// One client's life: its own keys, created, read, replaced, listed, deleted, on one
/// kept-alive connection (some requests pipelined). Leaves the key `keep-<id>` behind.
fn kv_client(port: u16, id: usize) {
    let mut c = Conn::open(port);
    let key = format!("k{id}");
    let value = format!("value of {id}: \"quoted\", back\\slash, tab\t, newline\n, été").into_bytes();
    let path = format!("/api/kv/{key}");
    let obj = |v: &[u8]| format!("{{\"key\":\"{key}\",\"value\":\"{}\"}}", json_esc(v));

    c.request("GET", &path, &[], b"")
        .assert_json(404, "{\"error\":\"no such key\"}");
    c.request("PUT", &path, &[], &value)
        .assert_json(201, &format!("{{\"key\":\"{key}\",\"created\":true}}"));
    c.request("GET", &path, &[], b"").assert_json(200, &obj(&value));
    // Binary values, NUL bytes included, come back escaped.
    let binary: Vec<u8> = (0u8..32).chain([0, 0x7f, b'x']).collect();
    c.request("PUT", &path, &[], &binary)
        .assert_json(200, &format!("{{\"key\":\"{key}\",\"created\":false}}"));
    c.request("GET", &path, &[], b"").assert_json(200, &obj(&binary));

    // Pipelined: answered in order though workers finish in any order.
    let mut burst = Vec::new();
    for k in 0..8 {
        let body = format!("v{k}");
        burst.extend_from_slice(
            format!(
                "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        burst.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    c.send(&burst);
    for k in 0..8 {
        c.read(false)
            .assert_json(200, &format!("{{\"key\":\"{key}\",\"created\":false}}"));
        c.read(false).assert_json(200, &obj(format!("v{k}").as_bytes()));
    }

    c.request("DELETE", &path, &[], b"")
        .assert_json(200, &format!("{{\"key\":\"{key}\",\"deleted\":true}}"));
    c.request("DELETE", &path, &[], b"")
        .assert_json(404, "{\"error\":\"no such key\"}");
    c.request("GET", &path, &[], b"")
        .assert_json(404, "{\"error\":\"no such key\"}");
    c.request("PUT", &format!("/api/kv/keep-{id}"), &[], b"kept")
        .assert_json(201, &format!("{{\"key\":\"keep-{id}\",\"created\":true}}"));
    let list = c.request("GET", "/api/kv", &[], b"");
    assert_eq!(list.status, 200);
    assert!(list.text().contains(&format!("\"keep-{id}\"")), "{list:?}");
    let r = c.request("GET", "/api/kv", &[("Connection", "close")], b"");
    assert_eq!(r.status, 200);
    c.assert_closed();
}

fn restful(flavor: Flavor) {
    const CLIENTS: usize = 24;
    const LEAVERS: usize = 8;
    let bin = example("http-restful-server", flavor);
    let (child, port) = Child::server(&bin, &[]);

    // Errors, each made by a worker too.
    let mut c = Conn::open(port);
    c.request("GET", "/api/kv/bad%20key", &[], b"")
        .assert_json(400, "{\"error\":\"a key is 1..64 characters of A-Z a-z 0-9 . _ -\"}");
    let long = "x".repeat(65);
    assert_eq!(c.request("GET", &format!("/api/kv/{long}"), &[], b"").status, 400);
    assert_eq!(
        c.request("GET", &format!("/api/kv/{}", &long[..64]), &[], b"").status,
        404
    );
    c.request("POST", "/api/kv/a", &[], b"x")
        .assert_json(405, "{\"error\":\"method not allowed\"}");
    c.request("DELETE", "/api/kv", &[], b"")
        .assert_json(405, "{\"error\":\"method not allowed\"}");
    c.request("GET", "/api/kv/a/b", &[], b"")
        .assert_json(404, "{\"error\":\"not found\"}");
    c.request("GET", "/", &[], b"")
        .assert_json(404, "{\"error\":\"not found\"}");
    c.request("PUT", "/api/kv/big", &[], &vec![b'x'; 16 * 1024 + 1])
        .assert_json(413, "{\"error\":\"a value is at most 16384 bytes\"}");
    c.request("PUT", "/api/kv/big", &[], &vec![b'y'; 16 * 1024])
        .assert_json(201, "{\"key\":\"big\",\"created\":true}");
    c.request("DELETE", "/api/kv/big", &[], b"")
        .assert_json(200, "{\"key\":\"big\",\"deleted\":true}");
    c.request("GET", "/api/kv", &[], b"").assert_json(200, "{\"keys\":[]}");
    drop(c);

    // Concurrent clients, and some that leave (RST) right after asking.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| std::thread::spawn(move || kv_client(port, i)))
        .collect();
    let leavers: Vec<_> = (0..LEAVERS)
        .map(|i| {
            std::thread::spawn(move || {
                let c = Conn::open(port);
                let mut w = c.w.try_clone().unwrap();
                w.write_all(format!("GET /api/kv/keep-{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                    .unwrap();
                set_rst(&c.w);
            })
        })
        .collect();
    for t in clients.into_iter().chain(leavers) {
        t.join().expect("client");
    }

    // Exactly the keys the clients left behind.
    let list = get(port, "/api/kv");
    assert_eq!(list.status, 200);
    let text = list.text();
    let inner = text
        .strip_prefix("{\"keys\":[")
        .and_then(|t| t.strip_suffix("]}"))
        .unwrap_or_else(|| panic!("{text}"));
    let got: HashSet<&str> = inner.split(',').map(|k| k.trim_matches('"')).collect();
    let want: HashSet<String> = (0..CLIENTS).map(|i| format!("keep-{i}")).collect();
    assert_eq!(got, want.iter().map(String::as_str).collect());

    std::thread::sleep(Duration::from_millis(100)); // the leavers' replies are done by now
    let f = child.stop();
    let k = f.counters("requests=");
    let ctx = f.describe();
    // 11 error checks above, 27 requests per client, the final list, and the leavers'
    // requests (each is counted if meerkat read it before the reset).
    let requests = (11 + CLIENTS * 27 + 1) as u64;
    assert!((requests..=requests + LEAVERS as u64).contains(&k["requests"]), "{ctx}");
    assert_eq!(
        k["requests"],
        k["replies"] + k["stale"] + k["undelivered"] + k["dropped"] + k["failed"],
        "{ctx}"
    );
    assert!(k["replies"] >= requests, "{ctx}");
    assert!(
        k["stale"] + k["undelivered"] >= 1,
        "a reset client made mg_wakeup refuse a reply\n{ctx}"
    );
    assert_eq!(k["dropped"], 0, "{ctx}");
}

#[test]
fn restful_plain() {
    restful(Flavor::Plain);
}

#[test]
fn restful_sanitized() {
    restful(Flavor::Sanitized);
}

// ---- file-upload -----------------------------------------------------------------------

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Stream `body` as a PUT in uneven pieces, then read the reply.
fn put_streamed(port: u16, path: &str, body: &[u8], chunked: bool) -> Resp {
    let mut c = Conn::open(port);
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {}", body.len())
    };
    c.send(format!("PUT {path} HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n").as_bytes());
    let mut off = 0;
    let mut k = 1usize;
    while off < body.len() {
        k = (k * 7919 + 13) % 200_000;
        let n = (k + 1).min(body.len() - off);
        if chunked {
            c.send(format!("{n:x}\r\n").as_bytes());
            c.send(&body[off..off + n]);
            c.send(b"\r\n");
        } else {
            c.send(&body[off..off + n]);
        }
        off += n;
    }
    if chunked {
        c.send(b"0\r\n\r\n");
    }
    c.read(false)
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, filename, data) in parts {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = filename {
            b.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
        }
        b.extend_from_slice(b"\r\n\r\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

fn file_upload(flavor: Flavor) {
    let bin = example("file-upload", flavor);
    let dir = TempDir::new("upload");
    let (mut child, port) = Child::server(&bin, &[dir.dir().to_str().unwrap()]);
    child.wait_line("saving", |l| l.starts_with("saving to "));

    // The form.
    let r = get(port, "/");
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap_or_default().starts_with("text/html"));
    assert!(r.text().contains("enctype=\"multipart/form-data\"") && r.text().contains("action=\"/form\""));

    // 20 MiB streamed with Content-Length: byte-identical on disk.
    let big = pattern(nonce(), 20 * 1024 * 1024);
    let r = put_streamed(port, "/upload/big.bin", &big, false);
    r.assert_json(200, &format!("{{\"saved\":\"big.bin\",\"bytes\":{}}}", big.len()));
    let saved = std::fs::read(dir.path("big.bin")).unwrap();
    assert!(
        saved.len() == big.len() && saved == big,
        "big.bin differs from what was sent"
    );
    drop(saved);

    // Chunked, URL-encoded name, and several at once.
    let uploads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let data = pattern(i + 100, 3 * 1024 * 1024 + i as usize * 4099);
                let r = put_streamed(port, &format!("/upload/part%20{i}.dat"), &data, i % 2 == 0);
                r.assert_json(200, &format!("{{\"saved\":\"part {i}.dat\",\"bytes\":{}}}", data.len()));
                data
            })
        })
        .collect();
    for (i, u) in uploads.into_iter().enumerate() {
        let data = u.join().expect("upload");
        assert!(std::fs::read(dir.path(&format!("part {i}.dat"))).unwrap() == data);
    }

    // POST /upload?name=..., an empty file, and Expect: 100-continue.
    fetch(port, "POST", "/upload?name=hello.txt", &[], b"hello")
        .assert_json(200, "{\"saved\":\"hello.txt\",\"bytes\":5}");
    assert_eq!(std::fs::read(dir.path("hello.txt")).unwrap(), b"hello");
    fetch(port, "PUT", "/upload/empty", &[], b"").assert_json(200, "{\"saved\":\"empty\",\"bytes\":0}");
    let mut c = Conn::open(port);
    c.send(b"PUT /upload/expect.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    assert_eq!(c.head().0, 100, "100 Continue before the body is sent");
    c.send(b"body");
    c.read(false).assert_json(200, "{\"saved\":\"expect.txt\",\"bytes\":4}");
    // Keep-alive after a streamed upload.
    c.request("PUT", "/upload/again.txt", &[], b"again")
        .assert_json(200, "{\"saved\":\"again.txt\",\"bytes\":5}");
    drop(c);

    // Names that would leave the directory, hide files, or are missing: 400, nothing written.
    for (method, path) in [
        ("PUT", "/upload/..%2fescape.txt"),
        ("PUT", "/upload/%2e%2e"),
        ("PUT", "/upload/a%2fb"),
        ("PUT", "/upload/.hidden"),
        ("PUT", "/upload/x%00y"),
        ("POST", "/upload?name=../escape.txt"),
        ("POST", "/upload?name=sub/x"),
        ("POST", "/upload?name=.."),
        ("POST", "/upload"),
        ("POST", "/upload?name="),
    ] {
        let r = fetch(port, method, path, &[], b"data");
        r.assert_json(400, "{\"error\":\"bad file name\"}");
    }
    assert!(!dir.dir().parent().unwrap().join("escape.txt").exists());
    fetch(port, "GET", "/upload/big.bin", &[], b"")
        .assert_json(405, "{\"error\":\"PUT /upload/NAME or POST /upload?name=NAME\"}");
    get(port, "/nope").assert_json(404, "{\"error\":\"not found\"}");

    // The multipart form: files saved, plain fields ignored.
    let b_bin = pattern(7, 100_000);
    let body = multipart(
        "XyZzY-boundary",
        &[
            ("comment", None, b"not a file"),
            ("file", Some("a.txt"), b"abc"),
            ("file", Some("b.bin"), &b_bin),
            ("file", Some("../evil.txt"), b"no"),
        ],
    );
    let ct = [("Content-Type", "multipart/form-data; boundary=XyZzY-boundary")];
    fetch(port, "POST", "/form", &ct, &body).assert_json(
        200,
        "{\"saved\":[{\"name\":\"a.txt\",\"bytes\":3},{\"name\":\"b.bin\",\"bytes\":100000}]}",
    );
    assert_eq!(std::fs::read(dir.path("a.txt")).unwrap(), b"abc");
    assert!(std::fs::read(dir.path("b.bin")).unwrap() == b_bin);
    let only_text = multipart("q", &[("comment", None, b"hi")]);
    let ct_q = [("Content-Type", "multipart/form-data; boundary=q")];
    fetch(port, "POST", "/form", &ct_q, &only_text).assert_json(400, "{\"error\":\"no valid file in the form\"}");
    // The form is buffered: over http_max_body (1 MiB) it is refused with 413 as soon as
    // the head announces it, and the connection closes (the client sends no body here, so
    // that the close is a FIN and not a reset).
    let mut c = Conn::open(port);
    c.send(
        format!(
            "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
            ct_q[0].1,
            1024 * 1024 + 1
        )
        .as_bytes(),
    );
    assert_eq!(c.read(false).status, 413);
    c.assert_closed();

    // A client that leaves mid-upload: no file, no temporary file left.
    let mut c = Conn::open(port);
    c.send(b"PUT /upload/partial.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n");
    c.send(&vec![b'p'; 1024 * 1024]);
    // It is being written to a temporary file (so streaming started), then the client goes.
    let end = Instant::now() + STEP;
    while !files_in(dir.dir()).iter().any(|f| f.starts_with(".partial.bin.")) {
        assert!(Instant::now() < end, "no temporary file: {:?}", files_in(dir.dir()));
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(c);
    let want = [
        "a.txt",
        "again.txt",
        "b.bin",
        "big.bin",
        "empty",
        "expect.txt",
        "hello.txt",
        "part 0.dat",
        "part 1.dat",
        "part 2.dat",
        "part 3.dat",
    ];
    let end = Instant::now() + STEP;
    while files_in(dir.dir()) != want {
        assert!(Instant::now() < end, "upload dir: {:?}", files_in(dir.dir()));
        std::thread::sleep(Duration::from_millis(20));
    }

    let f = child.stop();
    let k = f.counters("uploads:");
    let ctx = f.describe();
    assert_eq!((k["saved"], k["aborted"]), (11, 1), "{ctx}");
    let total: u64 = want.iter().map(|n| std::fs::metadata(dir.path(n)).unwrap().len()).sum();
    assert_eq!(k["bytes"], total, "{ctx}");
}

#[test]
fn file_upload_plain() {
    file_upload(Flavor::Plain);
}

#[test]
fn file_upload_sanitized() {
    file_upload(Flavor::Sanitized);
}

// ---- json-rpc ------------------------------------------------------------------------------

fn rpc(port: u16, frame: &str) -> Resp {
    fetch(
        port,
        "POST",
        "/rpc",
        &[("Content-Type", "application/json")],
        frame.as_bytes(),
    )
}

fn json_rpc(flavor: Flavor) {
    let bin = example("json-rpc", flavor);
    let (child, port) = Child::server(&bin, &[]);

    rpc(port, r#"{"id":1,"method":"sum","params":[2,40]}"#).assert_json(200, r#"{"id":1,"result":42}"#);
    rpc(port, r#"{"id":2,"method":"sum","params":[1.5,-3]}"#).assert_json(200, r#"{"id":2,"result":-1.5}"#);
    rpc(port, r#"{"id":3,"method":"sum","params":["x"]}"#).assert_json(
        200,
        r#"{"id":3,"error":{"code":-32602,"message":"expected [number, number]"}}"#,
    );
    rpc(port, r#"{"id":4,"method":"counter.inc"}"#).assert_json(200, r#"{"id":4,"result":1}"#);
    rpc(port, r#"{"id":5,"method":"counter.inc","params":[10]}"#).assert_json(200, r#"{"id":5,"result":11}"#);
    // A notification changes state and gets no body.
    let r = rpc(port, r#"{"method":"counter.inc","params":[100]}"#);
    assert_eq!((r.status, r.text()), (204, String::new()));
    rpc(port, r#"{"id":6,"method":"counter.get"}"#).assert_json(200, r#"{"id":6,"result":111}"#);
    rpc(port, r#"{"id":7,"method":"nope"}"#)
        .assert_json(200, r#"{"id":7,"error":{"code":-32601,"message":"nope not found"}}"#);
    let r = rpc(port, "{not json");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("-32700"), "{r:?}");
    let r = rpc(port, r#"{"id":8,"method":"rpc.list"}"#);
    assert_eq!(r.status, 200);
    for m in ["sum", "counter.inc", "counter.get", "login", "whoami", "rpc.list"] {
        assert!(r.text().contains(&format!("\"{m}\"")), "{m} not listed: {r:?}");
    }

    // Login: a JWT whose signature the server checks.
    rpc(
        port,
        r#"{"id":9,"method":"login","params":{"user":"admin","pass":"nope"}}"#,
    )
    .assert_json(200, r#"{"id":9,"error":{"code":401,"message":"bad credentials"}}"#);
    let r = rpc(
        port,
        r#"{"id":10,"method":"login","params":{"user":"admin","pass":"secret"}}"#,
    );
    assert_eq!(r.status, 200);
    let text = r.text();
    let token = text
        .split("\"token\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a token");
    assert_eq!(token.split('.').count(), 3, "{text}");
    rpc(
        port,
        &format!(r#"{{"id":11,"method":"whoami","params":{{"token":"{token}"}}}}"#),
    )
    .assert_json(200, r#"{"id":11,"result":"admin"}"#);
    let forged = format!("{}x", &token[..token.len() - 1]);
    rpc(
        port,
        &format!(r#"{{"id":12,"method":"whoami","params":{{"token":"{forged}"}}}}"#),
    )
    .assert_json(200, r#"{"id":12,"error":{"code":401,"message":"invalid token"}}"#);

    assert_eq!(get(port, "/rpc").status, 404);
    let f = child.stop();
    assert!(f.stdout.iter().any(|l| l == "calls=14"), "{}", f.describe());
}

#[test]
fn json_rpc_plain() {
    json_rpc(Flavor::Plain);
}

#[test]
fn json_rpc_sanitized() {
    json_rpc(Flavor::Sanitized);
}
