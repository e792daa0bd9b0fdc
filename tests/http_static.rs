//! Static files over real sockets on 127.0.0.1: `mg_http_serve_dir` / `mg_http_serve_file`
//! answering raw TCP clients, with exact statuses, headers and bytes. One server (on its own
//! thread) serves a web root built under target/ for all tests.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::error::*;
use meerkat::ffi::http::*;
use meerkat::ffi::serve::*;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

const BIG_LEN: usize = 5 * 1024 * 1024;
const EXTRA: &str = "X-Test: yes\r\n";

struct Fixture {
    port: u16,
    dir: PathBuf,
    big: Vec<u8>,
}

/// What the server thread's handler needs (built on that thread: raw pointers).
struct State {
    opts: mg_http_serve_opts,
    bad_opts: mg_http_serve_opts,
    file: CString,
    _keep: Vec<CString>,
}

fn cs(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn big_content() -> Vec<u8> {
    // Deterministic, not periodic at any small stride: a misplaced chunk shows.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..BIG_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn build_tree(dir: &Path, big: &[u8]) {
    let _ = std::fs::remove_dir_all(dir);
    let www = dir.join("www");
    for d in ["sub", "empty", "a"] {
        std::fs::create_dir_all(www.join(d)).unwrap();
    }
    std::fs::create_dir_all(dir.join("files")).unwrap();
    let w = |p: &str, b: &[u8]| std::fs::write(www.join(p), b).unwrap();
    w("hello.txt", b"hello world\n");
    w("big.bin", big);
    w("app.js", b"console.log('plain');\n");
    w("app.js.gz", b"\x1f\x8b\x08\x00GZIPPED-APP-JS");
    w("sub/index.html", b"<h1>sub index</h1>\n");
    w("style.css", b"body{}");
    w("data.json", b"{}");
    w("pic.png", b"\x89PNG");
    w("font.woff2", b"wOF2");
    w("noext", b"raw");
    w("thing.foo", b"foo!");
    w("a/b.txt", b"in a");
    std::fs::write(dir.join("files/f.txt"), b"mounted file").unwrap();
    std::fs::write(dir.join("secret"), b"TOP SECRET").unwrap();
    std::fs::write(dir.join("404.html"), b"<p>no such page</p>\n").unwrap();
    std::os::unix::fs::symlink(dir.join("secret"), www.join("escape")).unwrap();
    std::os::unix::fs::symlink(dir.join("files"), www.join("outdir")).unwrap();
    // Links of every kind, under /links/ (see links_in_the_root_are_followed_and_out_of_it_not).
    let l = www.join("links");
    std::fs::create_dir_all(l.join("idx")).unwrap();
    std::fs::write(l.join("idx/index.htm"), b"<p>htm</p>").unwrap();
    std::fs::write(l.join("page.js"), b"plain page").unwrap();
    std::fs::write(l.join("in.js"), b"plain in").unwrap();
    let link = |to: &Path, at: &str| std::os::unix::fs::symlink(to, l.join(at)).unwrap();
    link(Path::new("../a/b.txt"), "rel-in.txt");
    link(&www.join("a/b.txt"), "abs-in.txt");
    link(Path::new("../../secret"), "rel-out");
    link(&dir.join("secret"), "abs-out");
    link(Path::new("../sub"), "dir-in");
    link(Path::new("../../files"), "dir-out");
    link(Path::new("../../www/sub"), "back");
    link(&dir.join("secret"), "page.js.gz");
    link(Path::new("../app.js.gz"), "in.js.gz");
    link(&dir.join("secret"), "idx/index.html");
}

unsafe extern "C" fn handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev != MG_EV_HTTP_MSG {
        return;
    }
    let st = unsafe { &*(mg_fn_data(c) as *const State) };
    let hm = ev_data as *mut mg_http_message;
    let uri = unsafe {
        let u = (*hm).uri;
        std::slice::from_raw_parts(u.buf as *const u8, u.len).to_vec()
    };
    let rc = match uri.as_slice() {
        b"/the-file" => mg_http_serve_file(c, hm, st.file.as_ptr(), &st.opts),
        b"/the-file-no-opts" => mg_http_serve_file(c, hm, st.file.as_ptr(), std::ptr::null()),
        b"/fs" => {
            let rc3 = mg_http_serve_dir(c, hm, &st.bad_opts);
            let rc4 = mg_http_serve_dir(c, hm, std::ptr::null());
            let rc5 = mg_http_serve_file(c, hm, std::ptr::null(), std::ptr::null());
            let text = format!("{rc3} {rc4} {rc5}");
            mg_http_reply_n(c, 200, std::ptr::null(), text.as_ptr().cast(), text.len())
        }
        _ => mg_http_serve_dir(c, hm, &st.opts),
    };
    if rc != 0 {
        let text = format!("serve failed: {rc}");
        mg_http_reply_n(c, 500, std::ptr::null(), text.as_ptr().cast(), text.len());
    }
}

/// Web roots of earlier runs (one per process, 5 MiB each) left under target/tmp.
fn remove_stale_roots(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(600));
        if old && e.file_name().to_string_lossy().starts_with("http_static-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_roots(&tmp);
        let dir = tmp.join(format!("http_static-{}", std::process::id()));
        let big = big_content();
        build_tree(&dir, &big);
        let (tx, rx) = mpsc::channel();
        let d = dir.clone();
        std::thread::spawn(move || {
            let mut m = Mgr::new();
            if std::env::var_os("MG_DEBUG").is_some() {
                meerkat::ffi::log::mg_log_set(4);
            }
            let root = CString::new(format!(
                "{},/files={}",
                d.join("www").display(),
                d.join("files").display()
            ))
            .unwrap();
            let extra = CString::new(EXTRA).unwrap();
            let mime = CString::new("foo=application/x-foo").unwrap();
            let p404 = cs(&d.join("404.html"));
            let ssi = CString::new("#.shtml").unwrap();
            let bad_extra = CString::new("X-Bad: 1\r\n\r\nInjected").unwrap();
            let opts = mg_http_serve_opts {
                root_dir: root.as_ptr(),
                ssi_pattern: ssi.as_ptr(),
                extra_headers: extra.as_ptr(),
                mime_types: mime.as_ptr(),
                page404: p404.as_ptr(),
                fs: std::ptr::null_mut(),
            };
            let mut bad_opts = opts;
            bad_opts.extra_headers = bad_extra.as_ptr();
            let st: &'static State = Box::leak(Box::new(State {
                opts,
                bad_opts,
                file: cs(&d.join("files/f.txt")),
                _keep: vec![root, extra, mime, p404, ssi, bad_extra],
            }));
            let u = CString::new("http://127.0.0.1:0").unwrap();
            let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(handler), st as *const State as *mut c_void);
            tx.send(port(l)).unwrap();
            loop {
                m.poll(20);
            }
        });
        let port = rx.recv().unwrap();
        Fixture { port, dir, big }
    })
}

/// A client on one connection that reads responses framed by Content-Length.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

struct Resp {
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn status(&self) -> u16 {
        self.head[9..12].parse().unwrap()
    }
    fn field(&self, name: &str) -> Option<&str> {
        self.head
            .split("\r\n")
            .skip(1)
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
    }
}

impl Client {
    fn new() -> Client {
        let s = TcpStream::connect(("127.0.0.1", fixture().port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { s, buf: Vec::new() }
    }
    fn send(&mut self, req: &str) -> &mut Client {
        self.s.write_all(req.as_bytes()).unwrap();
        self
    }
    fn fill(&mut self) -> usize {
        let mut b = [0u8; 65536];
        let n = self.s.read(&mut b).expect("read (timeout?)");
        self.buf.extend_from_slice(&b[..n]);
        n
    }
    /// The next response; `head_only` for responses to HEAD.
    fn response(&mut self, head_only: bool) -> Resp {
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            assert!(
                self.fill() > 0,
                "closed before a full head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end);
        let mut r = Resp { head, body: Vec::new() };
        let status = r.status();
        let len: usize = r.field("Content-Length").map_or(0, |v| v.parse().unwrap());
        if !head_only && status != 304 {
            while self.buf.len() < len {
                assert!(self.fill() > 0, "closed inside a body");
            }
            r.body = self.buf.drain(..len).collect();
        }
        r
    }
    /// True when the server closes the connection with nothing more sent.
    fn closed(&mut self) -> bool {
        self.s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        self.buf.is_empty() && matches!(self.fill(), 0)
    }
}

/// One request with `Connection: close`; the whole raw answer, after checking that the
/// server closed.
fn once(req_line: &str, fields: &str) -> String {
    let raw = once_bytes(req_line, fields);
    String::from_utf8_lossy(&raw).into_owned()
}

fn once_bytes(req_line: &str, fields: &str) -> Vec<u8> {
    let mut c = Client::new();
    c.send(&format!("{req_line}\r\nHost: t\r\n{fields}Connection: close\r\n\r\n"));
    let mut out = Vec::new();
    let mut b = [0u8; 65536];
    loop {
        match c.s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&b[..n]),
            Err(e) => panic!("no close after {:?}: {e}", String::from_utf8_lossy(&out)),
        }
    }
    out
}

fn validators(rel: &str, gz: bool) -> (String, String) {
    let md = std::fs::metadata(fixture().dir.join("www").join(rel)).unwrap();
    let d = md.modified().unwrap().duration_since(UNIX_EPOCH).unwrap();
    (
        meerkat::serve::cond::etag(md.len(), d.as_secs() as i64, d.subsec_nanos(), gz),
        meerkat::serve::date::format(d.as_secs() as i64),
    )
}

fn hello_head(status: &str, extra_fields: &str, len: usize) -> String {
    let (etag, lm) = validators("hello.txt", false);
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len}\r\n{extra_fields}\
         Accept-Ranges: bytes\r\nETag: {etag}\r\nLast-Modified: {lm}\r\n{EXTRA}"
    )
}

fn text_reply(status: &str, fields: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{fields}{EXTRA}\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn plain_get() {
    let got = once("GET /hello.txt HTTP/1.1", "");
    assert_eq!(
        got,
        hello_head("200 OK", "", 12) + "Connection: close\r\n\r\nhello world\n"
    );
}

#[test]
fn head_has_the_same_headers_and_no_body() {
    let mut c = Client::new();
    c.send("HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.response(true);
    let get = c.response(false);
    assert_eq!(head.head, get.head);
    assert_eq!(get.head, hello_head("200 OK", "", 12) + "\r\n");
    assert_eq!(
        get.body, b"hello world\n",
        "the GET right after shows HEAD sent no body"
    );
    // HEAD of the big file: headers only, even with a Range.
    c.send("HEAD /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n");
    let r = c.response(true);
    assert_eq!(r.status(), 200);
    assert_eq!(r.field("Content-Length"), Some(BIG_LEN.to_string().as_str()));
    assert!(c.closed(), "nothing after the head");
}

#[test]
fn not_modified_via_etag_and_via_if_modified_since() {
    let (etag, lm) = validators("hello.txt", false);
    let want = format!(
        "HTTP/1.1 304 Not Modified\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\nLast-Modified: {lm}\r\n{EXTRA}\
         Connection: close\r\n\r\n"
    );
    assert_eq!(
        once("GET /hello.txt HTTP/1.1", &format!("If-None-Match: {etag}\r\n")),
        want
    );
    assert_eq!(
        once(
            "GET /hello.txt HTTP/1.1",
            &format!("If-None-Match: \"nope\", W/{etag}\r\n")
        ),
        want,
        "weak comparison in a list"
    );
    assert_eq!(
        once("GET /hello.txt HTTP/1.1", &format!("If-Modified-Since: {lm}\r\n")),
        want
    );
    assert_eq!(
        once("HEAD /hello.txt HTTP/1.1", &format!("If-None-Match: {etag}\r\n")),
        want
    );
    // If-None-Match takes precedence over If-Modified-Since.
    let got = once(
        "GET /hello.txt HTTP/1.1",
        &format!("If-None-Match: \"stale\"\r\nIf-Modified-Since: {lm}\r\n"),
    );
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    // An older date, or garbage: the file.
    let got = once(
        "GET /hello.txt HTTP/1.1",
        "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    );
    assert!(got.ends_with("\r\n\r\nhello world\n"), "{got}");
    let got = once("GET /hello.txt HTTP/1.1", "If-Modified-Since: whenever\r\n");
    assert!(got.ends_with("\r\n\r\nhello world\n"), "{got}");
    // Fields beyond the first 16 (the adapter keeps that many on the stack, then moves them
    // to the heap) are seen, also one list split over fields on both sides of the 16th.
    for before in [14, 15, 16, 17, 40] {
        let filler: String = (0..before).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
        assert_eq!(
            once(
                "GET /hello.txt HTTP/1.1",
                &format!("{filler}If-None-Match: \"nope\"\r\nIf-None-Match: {etag}\r\n")
            ),
            want,
            "after {before} other fields (with Host: {} before it)",
            before + 1
        );
    }
}

#[test]
fn ranges() {
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=0-4\r\n");
    assert_eq!(
        got,
        hello_head("206 Partial Content", "Content-Range: bytes 0-4/12\r\n", 5) + "Connection: close\r\n\r\nhello"
    );
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=6-\r\n");
    assert!(
        got.contains("Content-Range: bytes 6-11/12\r\n") && got.ends_with("\r\n\r\nworld\n"),
        "{got}"
    );
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=-3\r\n");
    assert!(
        got.contains("Content-Range: bytes 9-11/12\r\n") && got.ends_with("\r\n\r\nld\n"),
        "{got}"
    );
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=12-20\r\n");
    assert_eq!(
        got,
        text_reply(
            "416 Range Not Satisfiable",
            "Content-Range: bytes */12\r\n",
            "Range not satisfiable\n"
        )
    );
    // Several ranges: the whole file with 200.
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=0-1,4-5\r\n");
    assert_eq!(
        got,
        hello_head("200 OK", "", 12) + "Connection: close\r\n\r\nhello world\n"
    );
    // If-Range with a stale validator: the whole file; with the current one: the range.
    let got = once("GET /hello.txt HTTP/1.1", "Range: bytes=0-4\r\nIf-Range: \"old\"\r\n");
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("hello world\n"),
        "{got}"
    );
    let (etag, _) = validators("hello.txt", false);
    let got = once(
        "GET /hello.txt HTTP/1.1",
        &format!("Range: bytes=0-4\r\nIf-Range: {etag}\r\n"),
    );
    assert!(
        got.starts_with("HTTP/1.1 206 Partial Content\r\n") && got.ends_with("\r\n\r\nhello"),
        "{got}"
    );
    // A range in the middle of the big file.
    let big = &fixture().big;
    let raw = once_bytes("GET /big.bin HTTP/1.1", "Range: bytes=3000000-3000099\r\n");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&raw[..split]);
    assert!(
        head.contains(&format!("Content-Range: bytes 3000000-3000099/{BIG_LEN}\r\n")),
        "{head}"
    );
    assert!(head.contains("Content-Type: application/octet-stream\r\n"), "{head}");
    assert_eq!(&raw[split..], &big[3_000_000..3_000_100]);
}

#[test]
fn gzip_negotiation() {
    let (etag_gz, lm_gz) = validators("app.js.gz", true);
    let raw = once_bytes("GET /app.js HTTP/1.1", "Accept-Encoding: deflate, gzip;q=0.8, br\r\n");
    let gz_body: &[u8] = b"\x1f\x8b\x08\x00GZIPPED-APP-JS";
    let want_head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nContent-Length: {}\r\n\
         Content-Encoding: gzip\r\nVary: Accept-Encoding\r\nAccept-Ranges: bytes\r\nETag: {etag_gz}\r\n\
         Last-Modified: {lm_gz}\r\n{EXTRA}Connection: close\r\n\r\n",
        gz_body.len()
    );
    assert_eq!(raw, [want_head.as_bytes(), gz_body].concat());

    let (etag, lm) = validators("app.js", false);
    let got = once("GET /app.js HTTP/1.1", "Accept-Encoding: br, gzip;q=0\r\n");
    assert_eq!(
        got,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nContent-Length: 22\r\n\
             Vary: Accept-Encoding\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\nLast-Modified: {lm}\r\n{EXTRA}\
             Connection: close\r\n\r\nconsole.log('plain');\n"
        )
    );
    let got = once("GET /app.js HTTP/1.1", "");
    assert!(
        got.ends_with("console.log('plain');\n") && !got.contains("Content-Encoding"),
        "{got}"
    );
    // Each representation validates only itself.
    let got = once(
        "GET /app.js HTTP/1.1",
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag_gz}\r\n"),
    );
    assert!(
        got.starts_with("HTTP/1.1 304 Not Modified\r\nVary: Accept-Encoding\r\n"),
        "{got}"
    );
    let got = once("GET /app.js HTTP/1.1", &format!("If-None-Match: {etag_gz}\r\n"));
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
}

#[test]
fn traversal_attempts_are_refused_without_leaking() {
    for target in [
        "/../secret",
        "/%2e%2e/secret",
        "/%2E%2E/secret",
        "/..%2fsecret",
        "/..%2Fsecret",
        "/a/../../secret",
        "/a/%2e%2e/%2e%2e/secret",
        "/.%2e/secret",
        "/%00",
        "/hello.txt%00.png",
        "/a%5c..%5c..%5csecret",
        "/%zz",
    ] {
        let got = once(&format!("GET {target} HTTP/1.1"), "");
        assert_eq!(got, text_reply("400 Bad Request", "", "Bad request\n"), "{target}");
    }
    // Symlinks out of the root (to a file, to a directory) are not found.
    for target in ["/escape", "/outdir/f.txt", "/outdir/"] {
        let got = once(&format!("GET {target} HTTP/1.1"), "");
        assert!(got.starts_with("HTTP/1.1 404 Not Found\r\n"), "{target}: {got}");
        assert!(!got.contains("SECRET") && !got.contains("mounted"), "{target}: {got}");
        assert!(got.ends_with("<p>no such page</p>\n"), "{target}: {got}");
    }
    // A raw backslash is refused by the request parser or by the path check.
    let got = once("GET /..\\secret HTTP/1.1", "");
    assert!(got.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{got}");
    assert!(!got.contains("SECRET"));
    // Inside the root, a plain subdirectory file is fine.
    assert!(once("GET /a/b.txt HTTP/1.1", "").ends_with("\r\n\r\nin a"));
}

/// Symbolic links: followed while they stay in the root (relative or absolute, to files and
/// directories, through `..` that leaves and re-enters it), not found when they lead out
/// (for the request, an index file or a `.gz` sibling), with the same bytes as any other
/// file or miss. (The kernel confines link-free paths; paths with links take the
/// `realpath` path: both are crossed here.)
#[test]
fn links_in_the_root_are_followed_and_out_of_it_not() {
    let (b_etag, b_lm) = validators("a/b.txt", false);
    for target in ["/a/b.txt", "/links/rel-in.txt", "/links/abs-in.txt"] {
        let got = once(&format!("GET {target} HTTP/1.1"), "");
        let want = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\
             Accept-Ranges: bytes\r\nETag: {b_etag}\r\nLast-Modified: {b_lm}\r\n{EXTRA}\
             Connection: close\r\n\r\nin a"
        );
        assert_eq!(got, want, "{target}");
    }
    for target in ["/links/dir-in/", "/links/dir-in/index.html", "/links/back/index.html"] {
        let got = once(&format!("GET {target} HTTP/1.1"), "");
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{target}: {got}");
        assert!(got.ends_with("\r\n\r\n<h1>sub index</h1>\n"), "{target}: {got}");
    }
    let got = once("GET /links/dir-in HTTP/1.1", "");
    assert_eq!(
        got,
        text_reply("301 Moved Permanently", "Location: /links/dir-in/\r\n", "")
    );
    for target in [
        "/links/rel-out",
        "/links/abs-out",
        "/links/dir-out/f.txt",
        "/links/dir-out/",
        "/links/rel-in.txt/",
    ] {
        let got = once(&format!("GET {target} HTTP/1.1"), "");
        assert!(got.starts_with("HTTP/1.1 404 Not Found\r\n"), "{target}: {got}");
        assert!(got.ends_with("<p>no such page</p>\n"), "{target}: {got}");
        assert!(!got.contains("SECRET") && !got.contains("mounted"), "{target}: {got}");
    }
    // An index file leading out is skipped for the next one.
    let got = once("GET /links/idx/ HTTP/1.1", "");
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("\r\n\r\n<p>htm</p>"),
        "{got}"
    );
    // A `.gz` sibling leading out is not there (no Vary); one linked inside is served.
    let got = once("GET /links/page.js HTTP/1.1", "Accept-Encoding: gzip\r\n");
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("\r\n\r\nplain page"),
        "{got}"
    );
    assert!(!got.contains("Vary") && !got.contains("SECRET"), "{got}");
    let got = once("GET /links/in.js HTTP/1.1", "Accept-Encoding: gzip\r\n");
    assert!(
        got.contains("\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"),
        "{got}"
    );
    assert!(got.ends_with("\r\n\r\n\x1f\u{fffd}\x08\x00GZIPPED-APP-JS"), "{got:?}");
    // The listing shows the links that stay inside only.
    let got = once("GET /links/ HTTP/1.1", "");
    assert!(
        got.contains("<a href=\"rel-in.txt\">rel-in.txt</a>") && got.contains("dir-in/"),
        "{got}"
    );
    assert!(
        !got.contains("rel-out") && !got.contains("abs-out") && !got.contains("dir-out"),
        "{got}"
    );
}

#[test]
fn directories_redirect_and_serve_their_index() {
    let got = once("GET /sub HTTP/1.1", "");
    assert_eq!(got, text_reply("301 Moved Permanently", "Location: /sub/\r\n", ""));
    let got = once("GET /sub?x=1&y=%20 HTTP/1.1", "");
    assert_eq!(
        got,
        text_reply("301 Moved Permanently", "Location: /sub/?x=1&y=%20\r\n", "")
    );
    let got = once("GET /files HTTP/1.1", "");
    assert_eq!(got, text_reply("301 Moved Permanently", "Location: /files/\r\n", ""));

    let got = once("GET /sub/ HTTP/1.1", "");
    assert!(got.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 19\r\n"));
    assert!(got.ends_with("\r\n\r\n<h1>sub index</h1>\n"), "{got}");
    // Without an index: the listing, without the symlink that leads out of the root.
    let got = once("GET /empty/ HTTP/1.1", "");
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"),
        "{got}"
    );
    assert!(got.contains("<title>Index of /empty/</title>"), "{got}");
    let got = once("GET /a/ HTTP/1.1", "");
    assert!(got.contains(&format!("\r\n{EXTRA}")), "{got}");
    assert!(got.contains("<a href=\"b.txt\">b.txt</a>"), "{got}");
    assert!(got.contains("<td data-k=\"4\">4</td>"), "{got}");
    let got = once("GET / HTTP/1.1", "");
    assert!(got.contains("<a href=\"hello.txt\">hello.txt</a>"), "{got}");
    assert!(!got.contains("escape"), "{got}");
}

#[test]
fn not_found_serves_page404() {
    let want = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\n{EXTRA}\
         Connection: close\r\n\r\n<p>no such page</p>\n"
    );
    assert_eq!(once("GET /missing.html HTTP/1.1", ""), want);
    assert_eq!(once("GET /hello.txt/ HTTP/1.1", ""), want);
    assert_eq!(once("GET /sub/nothing/deeper HTTP/1.1", ""), want);
    let head = once("HEAD /missing.html HTTP/1.1", "");
    assert_eq!(head, want.strip_suffix("<p>no such page</p>\n").unwrap());
}

#[test]
fn other_methods_get_405() {
    let want = text_reply("405 Method Not Allowed", "Allow: GET, HEAD\r\n", "Method not allowed\n");
    assert_eq!(once("POST /hello.txt HTTP/1.1", "Content-Length: 0\r\n"), want);
    assert_eq!(once("DELETE /hello.txt HTTP/1.1", ""), want);
    assert_eq!(once("PUT /new.txt HTTP/1.1", "Content-Length: 0\r\n"), want);
    assert_eq!(once("OPTIONS /hello.txt HTTP/1.1", ""), want);
}

#[test]
fn mime_types() {
    for (path, ty) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/pic.png", "image/png"),
        ("/font.woff2", "font/woff2"),
        ("/noext", "application/octet-stream"),
        ("/big.bin", "application/octet-stream"),
        ("/thing.foo", "application/x-foo"),
        ("/sub/index.html", "text/html; charset=utf-8"),
        ("/files/f.txt", "text/plain; charset=utf-8"),
    ] {
        let mut c = Client::new();
        c.send(&format!("HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n"));
        let r = c.response(true);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.field("Content-Type"), Some(ty), "{path}");
    }
}

#[test]
fn mounted_prefix_and_serve_file() {
    let got = once("GET /files/f.txt HTTP/1.1", "");
    assert!(
        got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("\r\n\r\nmounted file"),
        "{got}"
    );
    // The prefix only matches whole segments.
    assert!(once("GET /filesx/f.txt HTTP/1.1", "").starts_with("HTTP/1.1 404 Not Found\r\n"));
    let got = once("GET /the-file HTTP/1.1", "Range: bytes=8-\r\n");
    assert!(
        got.starts_with("HTTP/1.1 206 Partial Content\r\n") && got.ends_with("\r\n\r\nfile"),
        "{got}"
    );
    let got = once("GET /the-file-no-opts HTTP/1.1", "");
    assert!(
        got.ends_with("\r\n\r\nmounted file") && !got.contains("X-Test"),
        "{got}"
    );
    let got = once("POST /the-file HTTP/1.1", "");
    assert!(got.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{got}");
}

#[test]
fn bad_options_are_errors_and_send_nothing() {
    let got = once("GET /fs HTTP/1.1", "");
    let want_body = format!("{} {} {}", MG_ERR_INVALID, MG_ERR_INVALID, MG_ERR_INVALID);
    assert_eq!(
        got,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{want_body}",
            want_body.len()
        )
    );
    assert_eq!(
        mg_http_serve_dir(mg_conn { h: 12345 }, std::ptr::null_mut(), std::ptr::null()),
        MG_ERR_STALE
    );
}

#[test]
fn big_file_is_byte_exact_with_keep_alive_and_pipelining() {
    let big = &fixture().big;
    let mut c = Client::new();
    c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.status(), 200);
    assert!(r.field("Connection").is_none());
    assert_eq!(r.body.len(), BIG_LEN);
    assert!(r.body == *big, "5 MiB body differs");

    // Same connection: three pipelined requests in one write, answered in order.
    c.send(
        "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-1000\r\n\r\n\
         GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let r1 = c.response(false);
    assert_eq!(r1.status(), 200);
    assert!(r1.body == *big, "first pipelined body differs");
    let r2 = c.response(false);
    assert_eq!(r2.status(), 206);
    assert_eq!(r2.body, big[BIG_LEN - 1000..]);
    let r3 = c.response(false);
    assert_eq!(r3.body, b"hello world\n");

    // Two whole pipelined GETs, then close.
    c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let a = c.response(false);
    let b = c.response(false);
    assert!(a.body == *big && b.body == *big, "pipelined bodies differ");
    assert_eq!(b.field("Connection"), Some("close"));
    assert!(c.closed());
}

/// Replies meerkat writes on its own (a 4xx for a bad pipelined request, `100 Continue`)
/// queue behind a file body still being sent, never inside it.
#[test]
fn own_replies_never_land_inside_a_file_body() {
    let big = &fixture().big;
    let mut c = Client::new();
    c.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.status(), 200);
    assert!(r.body == *big, "the file body is intact");
    let e = c.response(false);
    assert_eq!(e.status(), 400);
    assert!(c.closed());

    let mut c = Client::new();
    c.send(
        "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nPOST /nowhere HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\
         Expect: 100-continue\r\n\r\n",
    );
    let r = c.response(false);
    assert!(r.body == *big, "the file body is intact");
    let cont = c.response(true);
    assert_eq!(cont.status(), 100);
}
