//! The outside tools the real-client tests drive (curl, ab, openssl, testssl, Chromium with
//! playwright-core, python with h11), installed when missing so that a fresh CI machine runs
//! the tests: Debian packages with `scripts/setup.sh`, playwright-core with npm into
//! `target/node`, Python packages with pip into the venv `target/pyenv`. A tool that cannot
//! be had fails the test; it never skips.
//!
//! The installs live in the checkout's `target/` (not in the cargo target dir), shared by
//! every test binary and every run: they happen under one file lock.
#![allow(dead_code)]

use super::cbuild::root;
use super::proc::{describe, run_limited};
use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// `target/` of the checkout, where the installed tools are kept.
fn target() -> PathBuf {
    let d = root().join("target");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `f` holding an exclusive lock on `target/test-tools.lock`: apt, npm and pip must
/// not run twice at once, neither from two test threads nor from two test processes.
pub fn locked<T>(f: impl FnOnce() -> T) -> T {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _g = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    let lock = File::create(target().join("test-tools.lock")).expect("create the lock file");
    // SAFETY: flock(2) on a descriptor we own for the whole call; no memory is involved.
    // (File::lock is newer than the crate's MSRV.) The lock goes with the descriptor.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock target/test-tools.lock: {}",
        std::io::Error::last_os_error()
    );
    let r = f();
    drop(lock);
    r
}

/// `scripts/setup.sh PACKAGES` (idempotent: apt-get only for what is missing; retried, as
/// another process on the machine may hold dpkg's lock), then each `(tool, args)` must run
/// successfully. Once per process for each package list.
pub fn setup(packages: &[&str], tools: &[(&str, &[&str])]) {
    static DONE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let key = packages.join(" ");
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if done.contains(&key) {
        return;
    }
    locked(|| {
        let mut last = String::new();
        for attempt in 0..5 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_secs(10));
            }
            let out = run_limited(
                Command::new(root().join("scripts/setup.sh")).args(packages),
                Duration::from_secs(900),
                "scripts/setup.sh",
            );
            if out.status.success() {
                return;
            }
            last = describe(&out);
        }
        panic!("scripts/setup.sh {key} could not install what the test needs:\n{last}");
    });
    for (tool, args) in tools {
        let out = run_limited(Command::new(tool).args(*args), Duration::from_secs(60), tool);
        assert!(
            out.status.success(),
            "{tool} is not usable after scripts/setup.sh {key} (node and npm come with the machine):\n{}",
            describe(&out)
        );
    }
    done.insert(key);
}

/// `target/node`, holding `node_modules/playwright-core` (installed with npm if missing).
/// Needs node and npm (see [`setup`]).
pub fn playwright_dir() -> PathBuf {
    let dir = target().join("node");
    let marker = dir.join("node_modules/playwright-core/package.json");
    locked(|| {
        if marker.exists() {
            return;
        }
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
    });
    dir
}

/// `target/pyenv/bin/python` with `module` importable: the venv is created and `spec`
/// (a pip requirement) installed if missing. Needs python3 with venv (see [`setup`]).
pub fn python_with(module: &str, spec: &str) -> PathBuf {
    let venv = target().join("pyenv");
    let py = venv.join("bin/python");
    let importable = |py: &Path| {
        py.exists()
            && run_limited(
                Command::new(py).args(["-c", &format!("import {module}")]),
                Duration::from_secs(60),
                "python -c import",
            )
            .status
            .success()
    };
    locked(|| {
        if importable(&py) {
            return;
        }
        if !py.exists() {
            let out = run_limited(
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
                Duration::from_secs(120),
                "python3 -m venv target/pyenv",
            );
            assert!(
                out.status.success(),
                "cannot create the venv target/pyenv (python3-venv):\n{}",
                describe(&out)
            );
        }
        let out = run_limited(
            Command::new(&py)
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-q", spec])
                .env("PIP_NO_INPUT", "1"),
            Duration::from_secs(300),
            "pip install",
        );
        assert!(
            out.status.success(),
            "cannot install {spec} into target/pyenv with pip (is PyPI reachable?):\n{}",
            describe(&out)
        );
        assert!(
            importable(&py),
            "{spec} installed but {module} not importable from {}",
            py.display()
        );
    });
    py
}

/// What a browser script (`tests/*/*.mjs`) reported: the last stdout line, one JSON object.
pub struct PageRun {
    pub summary: String,
    /// Exit status and everything the script printed, for failure messages.
    pub report: String,
}

impl PageRun {
    /// A number of the summary.
    pub fn num(&self, key: &str) -> u64 {
        super::data::json_num(&self.summary, key)
    }
}

/// `node SCRIPT BASE_URL WEB_ROOT OUT_DIR LOADS NODE_DIR EXTRA...`: headless Chromium with
/// playwright-core (installed into `target/node` if missing) loads the http-server example's
/// page from `base_url` and checks it. The script must exit with 0, print its summary, and
/// leave a screenshot `OUT_DIR/page.png`, kept in `CARGO_TARGET_TMPDIR/<test crate>/` for a
/// look after the run.
pub fn run_page_script(script: &str, base_url: &str, loads: u64, extra: &[&str]) -> PageRun {
    let node_dir = playwright_dir();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(env!("CARGO_CRATE_NAME"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("page.png");
    let _ = std::fs::remove_file(&shot);
    let out = run_limited(
        Command::new("node")
            .arg(root().join(script))
            .arg(base_url)
            .arg(root().join("c-examples/http-server/web_root"))
            .arg(&out_dir)
            .arg(loads.to_string())
            .arg(&node_dir)
            .args(extra),
        Duration::from_secs(90),
        script,
    );
    let report = describe(&out);
    assert!(out.status.success(), "{script}: browser checks failed\n{report}");
    let summary = super::proc::text(&out.stdout).lines().last().unwrap_or("").to_string();
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("screenshot {}: {e}\n{report}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "screenshot\n{report}"
    );
    PageRun { summary, report }
}

/// Base64 of the SHA-256 of the test certificate's SubjectPublicKeyInfo (DER), the form
/// `--ignore-certificate-errors-spki-list` takes.
pub fn test_cert_spki() -> String {
    let cert = root().join("c-examples/https-server/test-cert.pem");
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
    let spki = super::proc::text(&out.stdout).trim().to_string();
    assert!(
        spki.len() == 44 && spki.ends_with('='),
        "not a base64 SHA-256: {spki:?}\n{}",
        describe(&out)
    );
    spki
}
