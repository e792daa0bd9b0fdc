//! Running tools and example programs from tests: bounded in time, output captured, the
//! whole process group killed on timeout.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// SIGKILL the process group led by `pid` (a child started with `process_group(0)`).
pub fn kill_group(pid: u32) {
    let pgid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) on the process group of our own child; no memory is involved. ESRCH
    // (already gone) is fine.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn describe(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Run `cmd` with stdin closed and output captured; after `limit` its whole process group
/// is killed and the test fails, showing what it printed so far.
pub fn run_limited(cmd: &mut Command, limit: Duration, what: &str) -> Output {
    run(cmd, None, limit, what)
}

/// Like [`run_limited`] with `input` on stdin. The pipe stays open 1.5 s after the input
/// (tools such as `openssl s_client` quit at EOF on stdin before the reply arrives).
pub fn run_limited_with_input(cmd: &mut Command, input: &[u8], limit: Duration, what: &str) -> Output {
    run(cmd, Some(input), limit, what)
}

fn run(cmd: &mut Command, input: Option<&[u8]>, limit: Duration, what: &str) -> Output {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let t_in = input.map(|input| {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
            std::thread::sleep(Duration::from_millis(1500));
        })
    });
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= end {
            kill_group(child.id());
            let _ = child.wait();
            panic!(
                "{what}: still running after {limit:?}, killed\n--- stdout:\n{}\n--- stderr:\n{}",
                text(&t_out.join().unwrap_or_default()),
                text(&t_err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // The process is gone; a grandchild that kept the pipes open is killed with its group.
    kill_group(child.id());
    if let Some(t) = t_in {
        let _ = t.join();
    }
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}
