//! The `fs` and `ssi_pattern` fields of `struct mg_http_serve_opts`, from C
//! (`tests/c/serve_fs.c`, Mongoose's names through mongoose.h), over 127.0.0.1: a web root
//! packed by `scripts/pack.py` served through `mg_fs_packed` (Content-Type, a gzip-only file
//! sent to clients that accept gzip and 404 to others, directory listings and the slash
//! redirect, `mg_http_serve_file`), the OS's files through `mg_fs_posix`, a copy of it and
//! NULL (same bytes; a symlink leading out of the root is neither served nor listed; escaped
//! names in listings), server-side includes, and a `struct mg_fs` the program supplies
//! (files, listings, ranges; every file it opened is closed); a listing larger than the
//! send buffer arrives whole. Plain and under ASan + UBSan.

mod common;

use common::cbuild::{compile_c, out_dir, root, Flavor};
use common::example::Child;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One GET on its own connection, with `headers` (full lines).
fn get(port: u16, target: &str, headers: &[&str]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let body = all[split + 4..].to_vec();
    let status = head[9..12].parse().unwrap();
    let r = Resp { status, head, body };
    if let Some(n) = r.header("Content-Length") {
        assert_eq!(n.parse::<usize>().unwrap(), r.body.len(), "{target}: {}", r.head);
    }
    r
}

/// The response to a HEAD request, whole (it must carry no body).
fn head(port: u16, target: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "HEAD {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8(all).unwrap();
    assert!(text.ends_with("\r\n\r\n"), "a body after HEAD: {text}");
    text
}

fn gzip(data: &[u8]) -> Vec<u8> {
    py_filter(
        "import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read(), mtime=0))",
        data,
    )
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    py_filter(
        "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))",
        data,
    )
}

fn py_filter(code: &str, data: &[u8]) -> Vec<u8> {
    let mut p = Command::new("python3")
        .args(["-c", code])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    p.stdin.take().unwrap().write_all(data).unwrap();
    let out = p.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

const APP_JS: &[u8] = b"console.log('packed and gzipped');\n";
const INDEX: &[u8] = b"<!DOCTYPE html><title>packed</title><h1>packed index</h1>\n";

/// The trees: `web/` (packed) and `disk/` (served from the OS), and a secret outside both.
fn trees(tag: &str) -> PathBuf {
    let dir = out_dir().join(format!("serve-fs-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    let w = dir.join("web");
    std::fs::create_dir_all(w.join("sub")).unwrap();
    std::fs::write(w.join("index.html"), INDEX).unwrap();
    std::fs::write(w.join("style.css"), "body{color:red}").unwrap();
    std::fs::write(w.join("z.txt"), "zzz-0123YZ").unwrap();
    std::fs::write(w.join("app.js.gz"), gzip(APP_JS)).unwrap();
    std::fs::write(w.join("sub/a.css"), "a{}").unwrap();
    let d = dir.join("disk");
    std::fs::create_dir_all(d.join("inc")).unwrap();
    std::fs::create_dir_all(d.join("docs")).unwrap();
    std::fs::write(d.join("hello.txt"), "hello from disk\n").unwrap();
    std::fs::write(d.join("docs/a b&<c>.txt"), "odd name").unwrap();
    std::fs::write(d.join("docs/plain.txt"), "plain").unwrap();
    std::fs::write(
        d.join("page.shtml"),
        "<p><!--#include file=\"inc/part.html\" --></p><!--#include virtual=\"/hello.txt\" -->[<!--#include file=\"docs/leak\" -->]",
    )
    .unwrap();
    std::fs::write(d.join("inc/part.html"), "PART").unwrap();
    std::fs::create_dir_all(d.join("many")).unwrap();
    for i in 0..400 {
        std::fs::write(d.join(format!("many/file-with-a-longish-name-{i:04}.txt")), "x").unwrap();
    }
    std::fs::write(dir.join("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), d.join("docs/leak")).unwrap();
    dir
}

fn build(dir: &Path, flavor: Flavor) -> PathBuf {
    let packed = dir.join("packed.c");
    let st = Command::new("python3")
        .arg(root().join("scripts/pack.py"))
        .arg("-s")
        .arg(format!("{}/", dir.display()))
        .arg("-o")
        .arg(&packed)
        .arg(dir.join("web"))
        .status()
        .expect("python3");
    assert!(st.success(), "pack.py failed");
    let src = root().join("tests/c/serve_fs.c");
    compile_c(&format!("serve_fs-{flavor:?}"), &[&src, &packed], &[], flavor)
}

fn serve_fs(flavor: Flavor) {
    let dir = trees(&format!("{flavor:?}"));
    let bin = build(&dir, flavor);
    let disk = dir.join("disk");
    let (child, port) = Child::server(&bin, &[disk.to_str().unwrap()]);

    // The packed web root.
    let r = get(port, "/p/", &[]);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, INDEX);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("X-Served"), Some("yes"));
    assert!(
        r.header("ETag").is_some() && r.header("Last-Modified").is_some(),
        "{}",
        r.head
    );
    let r = get(port, "/p/style.css", &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"body{color:red}"[..]));
    assert_eq!(r.header("Content-Type"), Some("text/css; charset=utf-8"));
    let etag = r.header("ETag").unwrap().to_string();
    let r = get(port, "/p/style.css", &[&format!("If-None-Match: {etag}")]);
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = get(port, "/p/z.txt", &["Range: bytes=4-7"]);
    assert_eq!((r.status, r.text().as_str()), (206, "0123"));
    // Only app.js.gz is packed: gzip to those who accept it, 404 to others (as Mongoose).
    let r = get(port, "/p/app.js", &["Accept-Encoding: gzip, deflate"]);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(r.header("Content-Type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(gunzip(&r.body), APP_JS);
    let r = get(port, "/p/app.js", &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.header("X-Served"), Some("yes"));
    assert_eq!(get(port, "/p/nope.html", &[]).status, 404);
    assert_eq!(get(port, "/p/..%2fweb/z.txt", &[]).status, 400);
    let r = get(port, "/p/sub", &[]);
    assert_eq!((r.status, r.header("Location")), (301, Some("/p/sub/")));
    let r = get(port, "/p/sub/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    let page = r.text();
    assert!(page.contains("<title>Index of /p/sub/</title>"), "{page}");
    assert!(page.contains("<a href=\"a.css\">a.css</a>"), "{page}");
    assert!(page.contains("<a href=\"../\">..</a>"), "{page}");
    let r = get(port, "/f", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "zzz-0123YZ"));
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));

    // The OS's files: mg_fs_posix and NULL serve the same bytes; the way out is closed.
    let a = get(port, "/x/hello.txt", &[]);
    let b = get(port, "/n/hello.txt", &[]);
    assert_eq!((a.status, a.text().as_str()), (200, "hello from disk\n"));
    assert_eq!(
        (a.status, &a.body, a.header("ETag")),
        (b.status, &b.body, b.header("ETag"))
    );
    assert_eq!(get(port, "/x/docs/leak", &[]).status, 404);
    // A copy of mg_fs_posix is the OS's files too: links resolved (the way out closed),
    // the same ETag.
    assert_eq!(get(port, "/c/docs/leak", &[]).status, 404);
    let c = get(port, "/c/hello.txt", &[]);
    assert_eq!((&c.body, c.header("ETag")), (&a.body, a.header("ETag")));
    assert_eq!(get(port, "/x/docs", &[]).status, 301);
    let r = get(port, "/x/docs/", &[]);
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(
        page.contains("<a href=\"a%20b%26%3Cc%3E.txt\">a b&amp;&lt;c&gt;.txt</a>"),
        "{page}"
    );
    assert!(page.contains("<td data-k=\"5\">5</td>"), "{page}"); // plain.txt's size
    assert!(!page.contains("leak"), "{page}");
    let r = get(port, "/x/docs/a%20b%26%3Cc%3E.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "odd name"));
    assert_eq!(get(port, "/n/docs/", &[]).text().replace("/n/", "/x/"), page);

    // A listing far larger than the server's 16 KiB send buffer arrives whole.
    let r = get(port, "/x/many/", &[]);
    assert_eq!(r.status, 200);
    assert!(r.body.len() > 40_000, "{}", r.body.len());
    let page = r.text();
    assert_eq!(page.matches("<a href=\"file-with-a-longish-name-").count(), 400);
    assert!(page.ends_with("</tbody></table></body></html>\n"), "{page}");
    let r = head(port, "/x/many/");
    assert!(r.contains("Content-Length: "), "{r}");

    // Server-side includes for files matching ssi_pattern; the symlink out is dropped.
    let r = get(port, "/s/page.shtml", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.text(), "<p>PART</p>hello from disk\n[]");
    let raw = get(port, "/x/page.shtml", &[]);
    assert!(raw.text().contains("<!--#include"), "without ssi_pattern: as it is");

    // The program's own struct mg_fs.
    let r = get(port, "/u/hello.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "hello from my fs\n"));
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    let r = get(port, "/u/hello.txt", &["Range: bytes=6-9"]);
    assert_eq!((r.status, r.text().as_str()), (206, "from"));
    let r = get(port, "/u/dir/b%20c.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "spaced"));
    let r = get(port, "/u/dir/a.json", &[]);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(get(port, "/u/nope", &[]).status, 404);
    assert_eq!(get(port, "/u/dir", &[]).status, 301);
    let page = get(port, "/u/", &[]).text();
    assert!(page.contains("<a href=\"dir/\">dir/</a>"), "{page}");
    assert!(page.contains("<a href=\"hello.txt\">hello.txt</a>"), "{page}");
    let page = get(port, "/u/dir/", &[]).text();
    assert!(page.contains("<a href=\"b%20c.txt\">b c.txt</a>"), "{page}");
    assert!(page.contains("2023-11-14 22:13:20"), "{page}"); // the fs's mtime, 1700000000

    assert_eq!(get(port, "/quit", &[]).status, 200);
    let f = child.finish();
    f.assert_clean_exit();
    let counts = f.counters("user fs:");
    assert!(counts["opened"] >= 4, "{}", f.describe());
    assert_eq!(counts["opened"], counts["closed"], "{}", f.describe());
    assert_eq!(f.stdout.last().map(String::as_str), Some("bye"));
}

#[test]
fn serve_fs_from_c() {
    serve_fs(Flavor::Plain);
}

#[test]
fn serve_fs_from_c_sanitized() {
    serve_fs(Flavor::Sanitized);
}
