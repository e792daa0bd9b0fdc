//! The real crate without std (issue #9): `cargo rustc --lib --crate-type staticlib
//! --no-default-features --profile footprint` (as the README says: the fat LTO build; Cargo
//! runs no LTO for `cargo build`'s two crate types) gives a `#![no_std]` + alloc
//! `libmeerkat.a` (libc backend, C abort and allocator hooks); the stub OS backend alone compiles (the sys seam is complete); and the
//! no_std archive linked into a C program serves HTTP to a real client over 127.0.0.1.
//!
//! The builds use their own target directory (`target/nostd-test`), so they stay
//! incremental and never wait for the lock of the `cargo test` that runs this file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::data::TempDir;
use common::example::Child;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    root().join("target/nostd-test")
}

/// `cargo CMD --quiet --lib [ARGS] --profile footprint --no-default-features [--features
/// F]`, asserted to succeed.
fn cargo(cmd: &str, args: &[&str], features: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(root())
        .args([cmd, "--quiet", "--lib"])
        .args(args)
        .args(["--profile", "footprint", "--no-default-features"])
        .arg("--target-dir")
        .arg(target_dir());
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    let out = c.output().expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {cmd} --no-default-features {features:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A lock so that the two tests do not run cargo on the same target directory at once
/// (cargo would serialise them anyway; this keeps the output readable).
static CARGO: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_stub_backend_alone_compiles() {
    let _l = CARGO.lock().unwrap_or_else(|e| e.into_inner());
    cargo("check", &[], &["sys-stub"]);
}

/// Link `src` with the no_std archive as firmware would (-Os, sections collected).
fn link(src: &Path, out: &Path, lib: &Path) {
    let st = Command::new("gcc")
        .args([
            "-Os",
            "-std=c99",
            "-D_POSIX_C_SOURCE=200809L",
            "-ffunction-sections",
            "-fdata-sections",
        ])
        .arg("-I")
        .arg(root().join("include"))
        .arg(src)
        .arg("-o")
        .arg(out)
        .arg("-Wl,--gc-sections")
        .arg(lib)
        .args(["-lpthread", "-lc"])
        .status()
        .expect("run gcc");
    assert!(
        st.success(),
        "linking {} against the no_std archive failed",
        src.display()
    );
}

/// `src` (from the repository root) built into `target/<name>` against the no_std archive
/// (`cargo rustc --crate-type staticlib --profile footprint --no-default-features`), as
/// firmware links it ([`link`]).
fn nostd_program(src: &str, name: &str) -> PathBuf {
    let _l = CARGO.lock().unwrap_or_else(|e| e.into_inner());
    cargo("rustc", &["--crate-type", "staticlib"], &[]);
    let bin = target_dir().join(name);
    link(&root().join(src), &bin, &target_dir().join("footprint/libmeerkat.a"));
    bin
}

/// One HTTP/1.1 request on a kept-alive connection: (status, body), framed by
/// Content-Length.
fn get(s: &mut TcpStream, path: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = request(s, path, "");
    (status, body)
}

/// [`get`] with more header `fields` (`Name: value\r\n` lines): (status, head, body).
fn request(s: &mut TcpStream, path: &str, fields: &str) -> (u16, String, Vec<u8>) {
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{fields}\r\n").expect("send request");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).expect("read response");
        assert!(
            n > 0,
            "connection closed before the head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head[9..12].parse().unwrap_or_else(|_| panic!("status line: {head}"));
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        // A 304 has no body (nor a Content-Length).
        .or((status == 304).then_some(0))
        .unwrap_or_else(|| panic!("no Content-Length: {head}"));
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).expect("read body");
        assert!(n > 0, "connection closed in the body ({} of {len})", body.len());
        body.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(body.len(), len, "more than Content-Length bytes");
    (status, head, body)
}

#[test]
fn the_no_std_archive_serves_http_from_a_c_program() {
    let bin = nostd_program("benches/c/meerkat_hello.c", "nostd-http-hello");

    let www = TempDir::new("nostd-www");
    std::fs::create_dir_all(www.path("static")).expect("mkdir");
    let file = common::data::pattern(9, 1024);
    std::fs::write(www.path("static/1k.bin"), &file).expect("write 1k.bin");

    let port = common::cbuild::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let root_dir = www.dir().to_str().expect("utf-8 temp path").to_string();
    let mut child = Child::start(&bin, &[&url, &root_dir, "60"]);
    child.wait_line("ready", |l| l == "ready");

    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    assert_eq!(get(&mut s, "/hello"), (200, b"hello\n".to_vec()));
    let (status, body) = get(&mut s, "/static/1k.bin");
    assert_eq!(status, 200);
    assert_eq!(body.len(), 1024);
    assert!(body == file, "/static/1k.bin differs from the file");
    // The same connection again (keep-alive), and a miss.
    assert_eq!(get(&mut s, "/static/nope.bin").0, 404);
    assert_eq!(get(&mut s, "/hello").0, 200);
    drop(s);

    child.stop(); // SIGTERM: mg_mgr_free, "bye", exit status 0
}

/// Built without default features there are no server-side includes (feature `ssi`): a file
/// matching `ssi_pattern`, and `mg_http_serve_ssi`, get `501 SSI not enabled` (as Mongoose
/// without `MG_ENABLE_SSI`); no directory listings (feature `dirlist`): a directory without
/// an index file gets `403 Forbidden` (as Mongoose without `MG_ENABLE_DIRLIST`); no HTTP
/// dates (feature `http-dates`): no `Last-Modified`, If-Modified-Since and
/// If-Unmodified-Since ignored, an If-Range date never matches, while ETags validate as
/// usual. Plain files are served as usual.
#[test]
fn the_no_std_archive_has_no_ssi_listings_or_dates() {
    let bin = nostd_program("tests/c/nostd_serve.c", "nostd-serve");

    let www = TempDir::new("nostd-serve");
    let page = "<p><!--#include virtual=\"/b.txt\" --></p>";
    for (name, data) in [("page.shtml", page), ("b.txt", "bee"), ("a.txt", "a"), ("c.txt", "sea")] {
        std::fs::write(www.path(name), data).expect("write file");
    }
    std::fs::create_dir_all(www.path("sub")).expect("mkdir");

    let port = common::cbuild::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = www.dir().to_str().expect("utf-8 temp path").to_string();
    let mut child = Child::start(&bin, &[&url, &dir]);
    child.wait_line("ready", |l| l == "ready");

    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let (status, body) = get(&mut s, "/page.shtml");
    assert_eq!(
        (status, String::from_utf8_lossy(&body).trim()),
        (501, "SSI not enabled")
    );
    let (status, body) = get(&mut s, "/ssi/page.shtml");
    assert_eq!(
        (status, String::from_utf8_lossy(&body).trim()),
        (501, "SSI not enabled")
    );
    let (status, head, body) = request(&mut s, "/b.txt", "");
    assert_eq!((status, &body[..]), (200, &b"bee"[..]));
    assert!(!head.to_ascii_lowercase().contains("last-modified"), "{head}");
    let tag = head
        .lines()
        .find_map(|l| l.strip_prefix("ETag: "))
        .unwrap_or_else(|| panic!("no ETag: {head}"))
        .to_string();
    assert_eq!(request(&mut s, "/b.txt", &format!("If-None-Match: {tag}\r\n")).0, 304);
    assert_eq!(request(&mut s, "/b.txt", "If-Match: \"other\"\r\n").0, 412);
    let late = "Fri, 31 Dec 9999 23:59:59 GMT";
    let early = "Thu, 01 Jan 1970 00:00:00 GMT";
    assert_eq!(
        request(&mut s, "/b.txt", &format!("If-Modified-Since: {late}\r\n")).0,
        200
    );
    assert_eq!(
        request(&mut s, "/b.txt", &format!("If-Unmodified-Since: {early}\r\n")).0,
        200
    );
    let range = "Range: bytes=0-1\r\n";
    let (status, _, body) = request(&mut s, "/b.txt", &format!("{range}If-Range: {tag}\r\n"));
    assert_eq!((status, &body[..]), (206, &b"be"[..]));
    assert_eq!(
        request(&mut s, "/b.txt", &format!("{range}If-Range: {late}\r\n")).0,
        200
    );
    for dir in ["/", "/sub/"] {
        let (status, body) = get(&mut s, dir);
        assert_eq!(
            (status, String::from_utf8_lossy(&body).trim()),
            (403, "Forbidden"),
            "{dir}"
        );
    }
    drop(s);
    child.kill();
}

/// Built without default features there is no IPv6 (feature `ipv6`; Mongoose's
/// `MG_ENABLE_IPV6`, 0 by default): an IPv6 host in `mg_listen`/`mg_connect` fails with
/// `MG_ERR_ADDR` and `mg_aton` refuses IPv6 texts, while IPv4 works; and one readiness backend
/// chosen at compile time (feature `poller-switch`): epoll on Linux, even with
/// `MEERKAT_POLLER=poll`, which only the default build reads.
#[cfg(target_os = "linux")]
#[test]
fn the_no_std_archive_has_no_ipv6_and_polls_with_epoll_only() {
    let bin = nostd_program("tests/c/nostd_ipv4.c", "nostd-ipv4");
    let out = Command::new(&bin)
        .env("MEERKAT_POLLER", "poll")
        .output()
        .expect("run nostd-ipv4");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "aton6 0 aton4 1 listen6 -8 connect6 -8 listen4 1 epoll 1"
    );
}

/// G2 without std: the registry keeps each manager's owner thread in its process-wide list
/// (no thread-locals); another thread's calls on it are refused with `MG_ERR_WRONG_THREAD`
/// and change nothing, while that thread's own manager works (tests/c/nostd_threads.c).
#[test]
fn the_no_std_archive_refuses_calls_from_other_threads() {
    let bin = nostd_program("tests/c/nostd_threads.c", "nostd-threads");
    let out = Command::new(&bin).output().expect("run nostd-threads");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{out:?}");
}
