//! Running the C examples as separate processes: stdout read line by line, stderr
//! collected, every wait bounded by [`STEP`], the process killed if a test fails. Used by
//! every test that starts an example server (c_examples, http_examples, real_clients,
//! tls_real, tls_browser, cmake).
#![allow(dead_code)]

use super::cbuild::free_port;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
pub const STEP: Duration = Duration::from_secs(15);

/// What a sanitizer prints when it finds something.
pub const SANITIZER_MARKERS: &[&str] = &["Sanitizer", "runtime error:"];

/// A running C program: stdout read line by line on a helper thread, stderr collected.
/// Dropping it kills the process if it is still running, so a failed test leaves nothing.
pub struct Child {
    proc: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stdout_thread: Option<JoinHandle<()>>,
    stderr_thread: Option<JoinHandle<String>>,
}

/// What a finished program left behind.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: String,
}

impl Finished {
    pub fn describe(&self) -> String {
        format!(
            "status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.status,
            self.stdout.join("\n"),
            self.stderr
        )
    }

    pub fn assert_no_sanitizer_report(&self) {
        for m in SANITIZER_MARKERS {
            assert!(
                !self.stderr.contains(m),
                "sanitizer report ({m}) on stderr\n{}",
                self.describe()
            );
        }
    }

    /// Exit status 0 and no sanitizer report.
    pub fn assert_clean_exit(&self) {
        assert_eq!(self.status.code(), Some(0), "exit status\n{}", self.describe());
        self.assert_no_sanitizer_report();
    }

    /// A clean exit, with "bye" as the last line (the examples' shutdown message).
    pub fn assert_clean_exit_with_bye(&self) {
        self.assert_clean_exit();
        assert_eq!(
            self.stdout.last().map(String::as_str),
            Some("bye"),
            "{}",
            self.describe()
        );
    }

    /// The `k=v` counters of the first stdout line that starts with `prefix`.
    pub fn counters(&self, prefix: &str) -> HashMap<String, u64> {
        let line = self
            .stdout
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?}\n{}", self.describe()));
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().unwrap_or_else(|_| panic!("counter {k}={v}"))))
            .collect()
    }
}

impl Child {
    pub fn start(bin: &Path, args: &[&str]) -> Child {
        Child::spawn(bin, None, args)
    }

    /// Start `bin` with `args`, in `dir` when given (else in the test's directory), with the
    /// sanitizers set to report leaks and stop at the first error.
    pub fn spawn(bin: &Path, dir: Option<&Path>, args: &[&str]) -> Child {
        let mut cmd = Command::new(bin);
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        cmd.args(args)
            .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut proc = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let (tx, lines) = mpsc::channel();
        let out = proc.stdout.take().unwrap();
        let stdout_thread = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim_end_matches('\r').to_string()).is_err() {
                    break;
                }
            }
        });
        let mut err = proc.stderr.take().unwrap();
        let stderr_thread = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        Child {
            proc,
            lines,
            seen: Vec::new(),
            stdout_thread: Some(stdout_thread),
            stderr_thread: Some(stderr_thread),
        }
    }

    /// Start a server example on `http://127.0.0.1:PORT` (a free port) and wait for its
    /// "listening on URL" line. `extra` arguments follow the URL.
    pub fn server(bin: &Path, extra: &[&str]) -> (Child, u16) {
        Child::server_with(bin, "http", None, extra)
    }

    /// [`Child::server`] with another URL scheme (`tcp`, `https`), run from `dir` when given.
    /// A program that exits before "listening on" (another process took the port between
    /// [`free_port`] and its bind) is started again on another port, twice at most.
    pub fn server_with(bin: &Path, scheme: &str, dir: Option<&Path>, extra: &[&str]) -> (Child, u16) {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let url = format!("{scheme}://127.0.0.1:{port}");
            let mut args = vec![url.as_str()];
            args.extend_from_slice(extra);
            let mut child = Child::spawn(bin, dir, &args);
            match child.next_line("listening", |l| l.starts_with("listening on")) {
                Some(line) => {
                    assert_eq!(line, format!("listening on {url}"));
                    return (child, port);
                }
                None => failures.push(child.finish().describe()),
            }
        }
        panic!(
            "{} exited three times before listening:\n{}",
            bin.display(),
            failures.join("\n---\n")
        );
    }

    /// The next stdout line if one has arrived (kept for [`Child::finish`]), without waiting.
    pub fn try_line(&mut self) -> Result<String, mpsc::TryRecvError> {
        let l = self.lines.try_recv()?;
        self.seen.push(l.clone());
        Ok(l)
    }

    /// The process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(Some(_)))
    }

    pub fn pid(&self) -> u32 {
        self.proc.id()
    }

    /// The first stdout line (from now on) for which `pred` holds; fails after `STEP` or
    /// when stdout ends first.
    pub fn wait_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.next_line(what, pred).unwrap_or_else(|| {
            panic!(
                "waiting for {what}: stdout ended; got so far:\n{}",
                self.seen.join("\n")
            )
        })
    }

    /// Like [`Child::wait_line`], but `None` when stdout ends (the program is exiting).
    fn next_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> Option<String> {
        let end = Instant::now() + STEP;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return Some(l);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "no {what} on stdout after {STEP:?}; got so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.proc.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Wait (bounded) for the process to exit and collect everything it printed.
    pub fn finish(mut self) -> Finished {
        let end = Instant::now() + STEP;
        let status = loop {
            if let Some(s) = self.proc.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > end {
                let _ = self.proc.kill();
                let _ = self.proc.wait();
                let err = self
                    .stderr_thread
                    .take()
                    .map(|t| t.join().unwrap_or_default())
                    .unwrap_or_default();
                let mut out = std::mem::take(&mut self.seen);
                out.extend(self.lines.try_iter());
                panic!(
                    "still running after {STEP:?}; killed.\n--- stdout:\n{}\n--- stderr:\n{err}",
                    out.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if let Some(t) = self.stdout_thread.take() {
            t.join().expect("stdout reader");
        }
        let mut stdout = std::mem::take(&mut self.seen);
        stdout.extend(self.lines.try_iter());
        let stderr = self
            .stderr_thread
            .take()
            .map(|t| t.join().expect("stderr reader"))
            .unwrap_or_default();
        Finished { status, stdout, stderr }
    }

    /// SIGKILL, then collect what it printed (for a failure message).
    pub fn kill(self) -> Finished {
        self.signal(libc::SIGKILL);
        self.finish()
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(self) -> Finished {
        self.signal(libc::SIGTERM);
        let f = self.finish();
        f.assert_clean_exit_with_bye();
        f
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Ok(None) = self.proc.try_wait() {
            let _ = self.proc.kill();
            let _ = self.proc.wait();
        }
    }
}
