//! A program ported from Mongoose by `docs/porting.md` alone (`tests/c/porting_user.c`:
//! `#include "mongoose.h"`, TLS set up on `MG_EV_ACCEPT` when `is_tls` says so, SIGPIPE left
//! at the default a C program starts with), driven as its users drive it: curl over TLS, TLS
//! clients that reset at the worst moments, raw HTTP probes with malformed and stalled
//! requests, and more slow clients than the server has connection slots.
//!
//! These are the checks of the defects issue (#8) as its reporter wrote them; each one failed
//! on main before the fixes (the process died of SIGPIPE; plaintext was served on https://;
//! a bare-LF head waited 10 s for a 408; `GET /a b` got 505; a 2 MiB chunk was read before
//! 413; a stalled body was never closed; a normal client waited ~17 s behind slow ones).

mod common;

use common::cbuild::{compile_c, free_port, root, Flavor};
use common::data::TempDir;
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::tls::client_hello;
use common::tools;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn cert_dir() -> PathBuf {
    root().join("c-examples/https-server")
}

fn program() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        compile_c(
            "porting_user",
            &[&root().join("tests/c/porting_user.c")],
            &[],
            Flavor::Sanitized,
        )
    })
    .clone()
}

struct Server {
    child: Child,
    http: u16,
    https: u16,
    _root: TempDir,
}

/// Start the ported program on two free ports, with `big.bin` (1 MiB) in its web root.
fn start() -> Server {
    let web = TempDir::new("porting-user");
    std::fs::write(web.path("big.bin"), common::data::pattern(8, 1 << 20)).unwrap();
    std::fs::write(web.path("index.html"), b"<h1>hi</h1>\n").unwrap();
    let https = free_port();
    let https_url = format!("https://127.0.0.1:{https}");
    let cert = cert_dir().join("test-cert.pem");
    let key = cert_dir().join("test-key.pem");
    let (child, http) = Child::server_with(
        &program(),
        "http",
        None,
        &[
            &https_url,
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
            web.dir().to_str().unwrap(),
        ],
    );
    let srv = Server {
        child,
        http,
        https,
        _root: web,
    };
    srv.assert_sigpipe_default();
    srv
}

impl Server {
    /// The program must really run with SIGPIPE neither ignored nor blocked, or the test
    /// would prove nothing about it.
    fn assert_sigpipe_default(&self) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.pid())).unwrap();
        let mask = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            u64::from_str_radix(line[name.len()..].trim(), 16).unwrap()
        };
        let bit = 1u64 << (libc::SIGPIPE - 1);
        assert_eq!(mask("SigIgn:") & bit, 0, "SIGPIPE is ignored in the server");
        assert_eq!(mask("SigBlk:") & bit, 0, "SIGPIPE is blocked in the server");
    }

    /// Still running (it has no SIGKILL handler, so dying of SIGKILL here means it was alive
    /// until now), and nothing a sanitizer would report.
    fn assert_alive_then_kill(self) {
        let f = self.child.kill();
        assert_eq!(
            f.status.signal(),
            Some(libc::SIGKILL),
            "the server died before the end of the test\n{}",
            f.describe()
        );
        f.assert_no_sanitizer_report();
    }
}

fn setup() {
    tools::setup(
        &["curl", "python3"],
        &[("curl", &["--version"]), ("python3", &["--version"])],
    );
}

fn curl_https(port: u16, path: &str) -> (i32, String, String) {
    let out = run_limited(
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", "--resolve"])
            .arg(format!("localhost:{port}:127.0.0.1"))
            .arg("--cacert")
            .arg(cert_dir().join("test-cert.pem"))
            .arg(format!("https://localhost:{port}{path}")),
        Duration::from_secs(20),
        "curl",
    );
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn connect(port: u16) -> TcpStream {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect")
}

/// Send `req` and read until the server closes or `limit` passes. Returns what arrived, when
/// its first byte came, and whether the server closed.
fn exchange(port: u16, req: &[u8], limit: Duration) -> (String, Option<Duration>, bool) {
    let mut s = connect(port);
    let t0 = Instant::now();
    s.write_all(req).unwrap();
    let mut got = Vec::new();
    let mut first = None;
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(t0.elapsed());
        if left.is_zero() {
            return (text(&got), first, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (text(&got), first, true),
            Ok(n) => {
                first.get_or_insert(t0.elapsed());
                got.extend_from_slice(&buf[..n]);
            }
            // A reset after the answer counts as closed.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (text(&got), first, true),
            Err(_) => return (text(&got), first, false),
        }
    }
}

#[test]
fn tls_by_is_tls_check_survives_resets_without_ignoring_sigpipe() {
    setup();
    let srv = start();

    // curl: 200 over TLS on the https:// listener, plain HTTP on the other one.
    let (code, out, err) = curl_https(srv.https, "/api/hello");
    assert_eq!(code, 0, "curl over TLS failed: {err}");
    assert!(out.ends_with("\n200") && out.starts_with("hello"), "{out:?}");
    let (resp, _, _) = exchange(
        srv.http,
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp:?}");

    // Plaintext on the https:// port is not answered in plaintext.
    let (resp, _, _) = exchange(
        srv.https,
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(3),
    );
    assert!(!resp.contains("HTTP/1.1"), "plaintext answer on https://: {resp:?}");

    // Ten resets right after the ClientHello and ten in the middle of a 1 MiB TLS response;
    // after each the server must serve a new client and drop the dead connection.
    let out = run_limited(
        Command::new("python3")
            .arg(root().join("tests/tls_real/rst_clients.py"))
            .arg(srv.https.to_string())
            .arg(cert_dir().join("test-cert.pem"))
            .arg(srv.child.pid().to_string())
            .args(["/big.bin", "10", "handshake", "mid_response"]),
        Duration::from_secs(120),
        "rst_clients.py",
    );
    assert!(
        out.status.success() && text(&out.stdout).contains("RESULT ok"),
        "{}",
        describe(&out)
    );
    // And a FIN right after the ClientHello, ten times.
    for _ in 0..10 {
        let mut s = connect(srv.https);
        s.write_all(&client_hello()).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    let (code, out, err) = curl_https(srv.https, "/api/hello");
    assert_eq!(code, 0, "curl after the resets failed: {err}");
    assert!(out.ends_with("\n200"), "{out:?}");
    srv.assert_alive_then_kill();
}

#[test]
fn malformed_and_stalled_requests_are_answered_promptly() {
    let srv = start();
    let second = Duration::from_secs(1);

    // A head that ends in a bare LF: answered at once (200 or 400), not after the head timeout.
    let (resp, first, _) = exchange(
        srv.http,
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\n",
        Duration::from_secs(3),
    );
    assert!(
        resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.1 400"),
        "{resp:?}"
    );
    assert!(first.unwrap() < second, "bare-LF head answered after {first:?}");

    // A malformed request line is 400, not 505.
    let (resp, _, closed) = exchange(
        srv.http,
        b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(3),
    );
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp:?}");
    assert!(closed, "not closed after 400");

    // A declared 2 MiB chunk (over the 1 MiB body cap) is refused as soon as its size line
    // arrives.
    let (resp, first, _) = exchange(
        srv.http,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\nabc",
        Duration::from_secs(3),
    );
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp:?}");
    assert!(first.unwrap() < second, "413 after {first:?}");

    // A body that stops coming: answered 408 and closed within 25 s.
    let t0 = Instant::now();
    let (resp, _, closed) = exchange(
        srv.http,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
        Duration::from_secs(25),
    );
    assert!(closed, "stalled body still open after {:?}: {resp:?}", t0.elapsed());
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp:?}");
    srv.assert_alive_then_kill();
}

#[test]
fn a_normal_client_is_served_past_1100_slow_ones() {
    let srv = start();
    // Half hold an unfinished head, half never send a byte: more of them than the default
    // connection cap (1024).
    let mut slow = Vec::new();
    for i in 0..1100 {
        let mut s = connect(srv.http);
        if i % 2 == 0 {
            s.write_all(b"GET /api/hello HTTP/1.1\r\nHost: x\r\n").unwrap();
        }
        slow.push(s);
    }
    let t0 = Instant::now();
    let (resp, _, _) = exchange(
        srv.http,
        b"GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    let took = t0.elapsed();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp:?} after {took:?}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    drop(slow);
    srv.assert_alive_then_kill();
}
