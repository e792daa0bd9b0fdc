//! Mongoose's TLS pattern, as ported by docs/porting.md: `is_tls` comes from the URL scheme and
//! the handler calls `mg_tls_init` in `MG_EV_ACCEPT` when it is set
//! (`tests/c/tls_scheme_server.c`, on `http://` and `https://` at once). curl gets 200 over
//! both; a server that forgets `mg_tls_init` answers no plaintext and reports the error; an
//! X.509 v1 certificate (made here with the openssl CLI, as Mongoose's tutorials ship one) is
//! served, and meerkat's client, which cannot verify v1, says what to do.
//!
//! Tools come from `scripts/setup.sh curl openssl`; when one cannot be had the test fails.
#![cfg(feature = "tls")]

mod common;

use common::cbuild::{compile_c, free_port, root, Flavor};
use common::data::TempDir;
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::http::*;
use meerkat::ffi::tls::*;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn setup() {
    common::tools::setup(
        &["curl", "openssl"],
        &[("curl", &["--version"]), ("openssl", &["version"])],
    );
}

fn server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = root().join("tests/c/tls_scheme_server.c");
        compile_c("tls-scheme-server", &[&src], &[], Flavor::Plain)
    })
    .clone()
}

fn test_pair() -> (PathBuf, PathBuf) {
    let d = root().join("c-examples/https-server");
    (d.join("test-cert.pem"), d.join("test-key.pem"))
}

struct Srv {
    child: Child,
    http: u16,
    https: u16,
}

/// The C server on `http://127.0.0.1:A` and `https://127.0.0.1:B`, serving `www`.
fn start(cert: &Path, key: &Path, www: &Path, forget: bool) -> Srv {
    let (http, https) = (free_port(), free_port());
    let (hu, su) = (format!("http://127.0.0.1:{http}"), format!("https://127.0.0.1:{https}"));
    let mut args = vec![
        hu.clone(),
        su.clone(),
        cert.display().to_string(),
        key.display().to_string(),
        www.display().to_string(),
    ];
    if forget {
        args.push("forget".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = Child::spawn(&server_bin(), None, &args);
    child.wait_line("SIGPIPE untouched", |l| l == "sigpipe default=1 blocked=0");
    child.wait_line("http listener", |l| l == format!("listening on {hu}"));
    child.wait_line("https listener", |l| l == format!("listening on {su}"));
    Srv { child, http, https }
}

/// curl `url` with `extra`; (exit code, body, stderr).
fn curl(url: &str, extra: &[&str]) -> (i32, String, String) {
    let out = run_limited(
        Command::new("curl")
            .args(["-sS", "--max-time", "20"])
            .args(extra)
            .arg(url),
        LIMIT,
        "curl",
    );
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn www(dir: &TempDir) -> PathBuf {
    let w = dir.path("www");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(w.join("hello.txt"), "hello\n").unwrap();
    w
}

#[test]
fn mongoose_pattern_serves_https_and_http() {
    setup();
    let dir = TempDir::new("scheme");
    let (cert, key) = test_pair();
    let mut srv = start(&cert, &key, &www(&dir), false);
    let https = srv.https;
    let (code, body, err) = curl(
        &format!("https://localhost:{https}/hello.txt"),
        &[
            "--resolve",
            &format!("localhost:{https}:127.0.0.1"),
            "--cacert",
            cert.to_str().unwrap(),
            "-w",
            "%{http_code}",
        ],
    );
    assert_eq!((code, body.as_str()), (0, "hello\n200"), "verified https: {err}");
    srv.child
        .wait_line("the https connection was TLS", |l| l.ends_with(" accept tls=1"));
    let (code, body, err) = curl(
        &format!("https://127.0.0.1:{https}/hello.txt"),
        &["-k", "-w", "%{http_code}"],
    );
    assert_eq!((code, body.as_str()), (0, "hello\n200"), "https -k: {err}");
    let (code, body, err) = curl(
        &format!("http://127.0.0.1:{}/hello.txt", srv.http),
        &["-w", "%{http_code}"],
    );
    assert_eq!((code, body.as_str()), (0, "hello\n200"), "http: {err}");
    srv.child
        .wait_line("the http connection was not TLS", |l| l.ends_with(" accept tls=0"));
    let f = srv.child.kill();
    assert!(!f.stdout.iter().any(|l| l.contains(" error ")), "{}", f.describe());
}

#[test]
fn forgotten_tls_init_answers_no_plaintext_and_reports_the_error() {
    setup();
    let dir = TempDir::new("forget");
    let (cert, key) = test_pair();
    let mut srv = start(&cert, &key, &www(&dir), true);
    // A plaintext request, which an unguarded server answers in plaintext.
    let mut s = TcpStream::connect(("127.0.0.1", srv.https)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let r = s.read_to_end(&mut got);
    assert!(
        got.is_empty(),
        "plaintext went out: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        r.is_ok()
            || r.as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "closed: {r:?}"
    );
    // A real TLS client: the handshake fails, nothing like HTTP comes back.
    let (code, body, _) = curl(&format!("https://127.0.0.1:{}/hello.txt", srv.https), &["-k"]);
    assert_ne!(code, 0);
    assert!(!body.contains("HTTP/1.1") && !body.contains("hello"), "{body}");
    // The handler saw, for each: ACCEPT with is_tls, the error saying what to do, CLOSE.
    let f = {
        srv.child.wait_line("second close", |l| l == "ev 4 close");
        srv.child.kill()
    };
    for id in [3, 4] {
        let mine: Vec<&String> = f
            .stdout
            .iter()
            .filter(|l| l.starts_with(&format!("ev {id} ")))
            .collect();
        assert_eq!(mine.len(), 3, "{}", f.describe());
        assert_eq!(mine[0], &format!("ev {id} accept tls=1"));
        assert!(
            mine[1].starts_with(&format!("ev {id} error TLS not set up")) && mine[1].contains("mg_tls_init"),
            "{}",
            mine[1]
        );
        assert_eq!(mine[2], &format!("ev {id} close"));
    }
    // The log (stdout by default, as in Mongoose) has it at error level.
    assert!(
        f.stdout
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("TLS not set up")),
        "logged at error level: {}",
        f.describe()
    );
}

/// An X.509 v1 certificate and its key, made by the openssl CLI as old tutorials did:
/// `openssl x509 -req` with no extensions writes v1.
fn v1_pair(dir: &TempDir) -> (PathBuf, PathBuf) {
    let (key, csr, cert) = (dir.path("v1-key.pem"), dir.path("v1.csr"), dir.path("v1-cert.pem"));
    for args in [
        vec![
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            key.to_str().unwrap(),
        ],
        vec![
            "req",
            "-new",
            "-key",
            key.to_str().unwrap(),
            "-subj",
            "/CN=localhost",
            "-out",
            csr.to_str().unwrap(),
        ],
        vec![
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            csr.to_str().unwrap(),
            "-signkey",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    ] {
        let out = run_limited(Command::new("openssl").args(&args), LIMIT, "openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", describe(&out));
    }
    let out = run_limited(
        Command::new("openssl").args(["x509", "-noout", "-text", "-in", cert.to_str().unwrap()]),
        LIMIT,
        "openssl",
    );
    assert!(text(&out.stdout).contains("Version: 1 (0x0)"), "{}", describe(&out));
    (cert, key)
}

static V1_ERRORS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

unsafe extern "C" fn v1_client(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let ca = unsafe { &*(mg_fn_data(c) as *const String) };
    if ev == MG_EV_CONNECT {
        let opts = mg_tls_opts {
            ca: mg_str::from_bytes(ca.as_bytes()),
            cert: mg_str::EMPTY,
            key: mg_str::EMPTY,
            name: mg_str::EMPTY,
            skip_verification: 0,
        };
        assert_eq!(mg_tls_init(c, &opts), 0);
        let req = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
        mg_send(c, req.as_ptr().cast(), req.len());
    } else if ev == MG_EV_ERROR {
        let msg = unsafe { std::ffi::CStr::from_ptr(ev_data as *const std::ffi::c_char) };
        V1_ERRORS.lock().unwrap().push(msg.to_string_lossy().into_owned());
    }
}

#[test]
fn x509_v1_server_certificate_is_served() {
    setup();
    let dir = TempDir::new("v1");
    let (cert, key) = v1_pair(&dir);
    // The key of another pair does not pass for this certificate's.
    let other = meerkat::tls::server_config(&meerkat::tls::TlsOptions {
        cert: &std::fs::read(&cert).unwrap(),
        key: &std::fs::read(test_pair().1).unwrap(),
        ..Default::default()
    });
    let e = other.expect_err("a key that does not match a v1 certificate");
    assert!(e.message.contains("does not belong"), "{e}");

    let mut srv = start(&cert, &key, &www(&dir), false);
    let (code, body, err) = curl(
        &format!("https://127.0.0.1:{}/hello.txt", srv.https),
        &["-k", "-w", "%{http_code}"],
    );
    assert_eq!(
        (code, body.as_str()),
        (0, "hello\n200"),
        "https -k with a v1 certificate: {err}"
    );
    // OpenSSL verifies v1: trusting the certificate itself works too.
    let (code, body, err) = curl(
        &format!("https://localhost:{}/hello.txt", srv.https),
        &[
            "--resolve",
            &format!("localhost:{}:127.0.0.1", srv.https),
            "--cacert",
            cert.to_str().unwrap(),
            "-w",
            "%{http_code}",
        ],
    );
    assert_eq!((code, body.as_str()), (0, "hello\n200"), "curl --cacert v1: {err}");

    // meerkat's client (rustls) cannot verify a v1 certificate: the error says what to do.
    let mut m = Mgr::new();
    let ca: &'static String = Box::leak(Box::new(std::fs::read_to_string(&cert).unwrap()));
    let u = CString::new(format!("https://localhost:{}", srv.https)).unwrap();
    let c = mg_http_connect(m.ptr(), u.as_ptr(), Some(v1_client), ca as *const String as *mut c_void);
    assert_ne!(c.h, 0);
    m.poll_until(10, "the client failed and closed", |m| m.live() == 0);
    let errs = V1_ERRORS.lock().unwrap().clone();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("X.509 v1") && errs[0].contains("regenerate it as v3"),
        "{}",
        errs[0]
    );
    srv.child
        .wait_line("the server saw the client give up", |l| l.contains(" error "));
    drop(srv.child.kill());
}
