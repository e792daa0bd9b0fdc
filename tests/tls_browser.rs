//! Headless Chromium loading the HTTPS example page (issue 4): `c-examples/https-server`,
//! built against `libmeerkat.a` and run from its own directory with the shipped test
//! certificate, serves `c-examples/http-server/web_root`; Chromium, driven by playwright-core
//! (`tests/tls_browser/https_page.mjs`), loads `https://127.0.0.1:PORT/` ten times over
//! keep-alive (one navigation, then reloads, browser cache off) and checks every load: status
//! 200 over https, the bytes and Content-Types of index.html, style.css, app.js and logo.png
//! against the files on disk, TLS 1.2 or 1.3 in the security details. Then SIGTERM: the
//! server must exit with 0 after printing `bye`.
//!
//! Chromium trusts the self-signed test certificate through
//! `--ignore-certificate-errors-spki-list` with the SHA-256 of that certificate's public key
//! (computed here with openssl), not through a blanket "ignore HTTPS errors"; a second
//! browser without the pin must get `ERR_CERT_AUTHORITY_INVALID`.
//!
//! Tools are installed when missing, as in `tests/real_clients.rs`: `scripts/setup.sh chromium
//! openssl` and playwright-core with npm into `target/node`. A tool that cannot be had fails
//! the test. Every subprocess runs under a time limit and the server is killed by a guard.

mod common;

use common::cbuild::{compile_c, free_port, root, Flavor};
use common::proc::{describe, run_limited, text};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PACKAGES: &[&str] = &["chromium", "openssl"];
const LOADS: u64 = 10;

// ---- paths, locks, tools -------------------------------------------------------------------

fn target() -> PathBuf {
    root().join("target")
}

fn example_dir(name: &str) -> PathBuf {
    root().join("c-examples").join(name)
}

/// Run `f` holding an exclusive lock shared with `tests/real_clients.rs` (same file): the
/// apt and npm installs into `target/node` must not run twice at once.
fn locked<T>(f: impl FnOnce() -> T) -> T {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _g = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    let dir = target().join("real_clients");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = File::create(dir.join(".lock")).expect("create the lock file");
    // SAFETY: flock(2) on a descriptor we own for the whole call; no memory is involved.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock target/real_clients/.lock: {}",
        std::io::Error::last_os_error()
    );
    let r = f();
    drop(lock);
    r
}

/// Chromium and openssl from `scripts/setup.sh`, node and npm from the machine, and
/// playwright-core in `target/node` (installed with npm if missing). Returns `target/node`.
fn setup() -> PathBuf {
    let dir = target().join("node");
    let marker = dir.join("node_modules/playwright-core/package.json");
    locked(|| {
        let out = run_limited(
            Command::new(root().join("scripts/setup.sh")).args(PACKAGES),
            Duration::from_secs(900),
            "scripts/setup.sh",
        );
        assert!(
            out.status.success(),
            "scripts/setup.sh {} could not install what the test needs:\n{}",
            PACKAGES.join(" "),
            describe(&out)
        );
        for (tool, args) in [
            ("/usr/bin/chromium", &["--version"][..]),
            ("openssl", &["version"][..]),
            ("node", &["--version"][..]),
            ("npm", &["--version"][..]),
        ] {
            let out = run_limited(Command::new(tool).args(args), Duration::from_secs(60), tool);
            assert!(
                out.status.success(),
                "{tool} is not usable after scripts/setup.sh (node and npm come with the machine):\n{}",
                describe(&out)
            );
        }
        if !marker.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let out = run_limited(
                Command::new("npm").arg("install").arg("--prefix").arg(&dir).args([
                    "--no-audit",
                    "--no-fund",
                    "playwright-core@1",
                ]),
                Duration::from_secs(300),
                "npm install playwright-core",
            );
            assert!(
                out.status.success() && marker.exists(),
                "cannot install playwright-core into target/node with npm (is the npm registry reachable?):\n{}",
                describe(&out)
            );
        }
    });
    dir
}

/// Base64 of the SHA-256 of the test certificate's SubjectPublicKeyInfo (DER), the form
/// `--ignore-certificate-errors-spki-list` takes.
fn test_cert_spki() -> String {
    let cert = example_dir("https-server").join("test-cert.pem");
    let out = run_limited(
        Command::new("bash")
            .arg("-c")
            .arg(
                "set -euo pipefail; openssl x509 -in \"$1\" -pubkey -noout \
                 | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A",
            )
            .arg("spki")
            .arg(&cert),
        Duration::from_secs(30),
        "openssl (SPKI hash)",
    );
    assert!(
        out.status.success(),
        "SPKI hash of {}\n{}",
        cert.display(),
        describe(&out)
    );
    let spki = text(&out.stdout).trim().to_string();
    assert!(
        spki.len() == 44 && spki.ends_with('='),
        "not a base64 SHA-256: {spki:?}\n{}",
        describe(&out)
    );
    spki
}

// ---- the server under test -------------------------------------------------------------------

/// A running https-server. Dropping it kills the process; `stop` ends it with SIGTERM.
struct Server {
    proc: Option<Child>,
    url: String,
    seen: Vec<String>,
    lines: mpsc::Receiver<String>,
    stdout_thread: Option<JoinHandle<()>>,
    stderr_thread: Option<JoinHandle<String>>,
}

impl Server {
    /// `https-server https://127.0.0.1:PORT -` (the shipped test pair, default web root) from
    /// its own directory; waits for "listening on". A port taken meanwhile is retried.
    fn start() -> Server {
        let src = example_dir("https-server").join("main.c");
        let bin = locked(|| compile_c("tlsbrowser-https-server", &[&src], &[], Flavor::Plain));
        let mut failures = Vec::new();
        for _ in 0..3 {
            let url = format!("https://127.0.0.1:{}", free_port());
            let mut proc = Command::new(&bin)
                .current_dir(example_dir("https-server"))
                .arg(&url)
                .arg("-")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let (tx, lines) = mpsc::channel();
            let out = proc.stdout.take().unwrap();
            let stdout_thread = std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let mut err = proc.stderr.take().unwrap();
            let stderr_thread = std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = err.read_to_end(&mut s);
                text(&s)
            });
            let mut s = Server {
                proc: Some(proc),
                url: url.clone(),
                seen: Vec::new(),
                lines,
                stdout_thread: Some(stdout_thread),
                stderr_thread: Some(stderr_thread),
            };
            let end = Instant::now() + Duration::from_secs(20);
            loop {
                match s.lines.recv_timeout(end.saturating_duration_since(Instant::now())) {
                    Ok(l) => {
                        let up = l == format!("listening on {url}");
                        s.seen.push(l);
                        if up {
                            return s;
                        }
                    }
                    Err(e) => {
                        let (status, stdout, stderr) = s.finish();
                        failures.push(format!(
                            "no 'listening on {url}' ({e:?}); {status:?}\n{stdout}\n{stderr}"
                        ));
                        break;
                    }
                }
            }
        }
        panic!("could not start https-server:\n{}", failures.join("\n---\n"));
    }

    /// Kill (if running) and collect: (exit status, stdout, stderr).
    fn finish(&mut self) -> (Option<ExitStatus>, String, String) {
        let status = self.proc.take().map(|mut p| {
            let _ = p.kill();
            p.wait().expect("wait")
        });
        if let Some(t) = self.stdout_thread.take() {
            let _ = t.join();
        }
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        let stderr = self
            .stderr_thread
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        (status, self.seen.join("\n"), stderr)
    }

    /// SIGTERM, then a bounded wait: exit 0 with "bye" as the last line. Returns stdout.
    fn stop(mut self) -> String {
        let mut proc = self.proc.take().expect("running");
        let pid = libc::pid_t::try_from(proc.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill({pid}, SIGTERM)");
        let end = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = proc.try_wait().expect("try_wait") {
                break Some(s);
            }
            if Instant::now() > end {
                let _ = proc.kill();
                let _ = proc.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let (_, stdout, stderr) = self.finish();
        let report = format!("https-server: status {status:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
        let status = status.unwrap_or_else(|| panic!("no exit 15 s after SIGTERM\n{report}"));
        assert_eq!(status.code(), Some(0), "exit status after SIGTERM\n{report}");
        assert_eq!(self.seen.last().map(String::as_str), Some("bye"), "{report}");
        stdout
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.finish();
    }
}

// ---- the test -----------------------------------------------------------------------------------

/// The number after `"key":` in the one-line JSON summary.
fn json_num(summary: &str, key: &str) -> u64 {
    summary
        .split(&format!("\"{key}\":"))
        .nth(1)
        .and_then(|s| s.split([',', '}']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {summary}"))
}

#[test]
fn chromium_loads_the_https_page_pinned_to_the_test_certificate() {
    let node_dir = setup();
    let spki = test_cert_spki();
    let srv = Server::start();
    let out_dir = target().join("tls_browser");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("page.png");
    let _ = std::fs::remove_file(&shot);
    let out = run_limited(
        Command::new("node")
            .arg(root().join("tests/tls_browser/https_page.mjs"))
            .arg(&srv.url)
            .arg(example_dir("http-server").join("web_root"))
            .arg(&out_dir)
            .arg(LOADS.to_string())
            .arg(&node_dir)
            .arg(&spki),
        Duration::from_secs(90),
        "node https_page.mjs",
    );
    let report = describe(&out);
    assert!(out.status.success(), "browser checks failed\n{report}");
    let summary = text(&out.stdout);
    let summary = summary.lines().last().unwrap_or("");
    assert_eq!(json_num(summary, "loads"), LOADS, "{report}");
    // Each load: index.html, style.css, app.js and logo.png at least once, bytes compared.
    assert!(json_num(summary, "assetChecks") >= 4 * LOADS, "{report}");
    assert!(summary.contains("\"errors\":[]"), "{report}");
    assert!(
        summary.contains("\"protocol\":\"TLS 1.3\"") || summary.contains("\"protocol\":\"TLS 1.2\""),
        "security details\n{report}"
    );
    assert!(
        summary.contains("\"unpinnedError\":\"net::ERR_CERT_AUTHORITY_INVALID\""),
        "a browser without the pin must refuse the certificate\n{report}"
    );
    // Keep-alive: far fewer TLS connections than responses.
    let conns = json_num(summary, "connections");
    let responses = json_num(summary, "networkResponses");
    let reused = json_num(summary, "reusedResponses");
    assert!(
        conns > 0 && responses >= 4 * LOADS && reused > 2 * conns && conns * 5 < responses,
        "keep-alive: {conns} connections for {responses} responses ({reused} reused)\n{report}"
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("screenshot {}: {e}\n{report}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "screenshot\n{report}"
    );
    println!("{summary}");
    let stdout = srv.stop();
    assert!(stdout.contains("handshakes: "), "{stdout}");
}
