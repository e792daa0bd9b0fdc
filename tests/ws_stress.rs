//! The audio-server scenario of issue 10 under ASan/UBSan: `tests/c/ws_audio_server.c` (a
//! server written with Mongoose's names, default SIGPIPE) has four worker threads streaming
//! binary chunks by handle with `mg_ws_wakeup` (and broadcasting with `mg_ws_wakeup_all`) at
//! a few thousand messages per second to the clients that said hello, while
//! `tests/ws/audio_clients.py` runs 300 python `websockets` clients: some say hello and some
//! never do, some stay to the end, some vanish mid-stream with FIN or RST, some stop reading
//! (their chunks are refused for want of send room) and then vanish with RST.
//!
//! Checked as a user would see it: every chunk names its recipient and carries a pattern, so
//! no client ever gets another's chunk, a torn or corrupted one, or one out of order; a
//! client that stayed received exactly the chunks the server's workers had accepted for it
//! minus those the undelivered callback reported for it; over the whole run every accepted
//! message (by handle and each broadcast copy) was either sent or reported, exactly
//! (accepted + broadcast copies == delivered + undelivered, and the callback saw every
//! undelivered one); the live connection count returns to its start;
//! the sanitizers are silent. The drop path is asserted on its own run, with three clients
//! that all stop reading (in the crowd, each staller's share of the stream can fit in the
//! kernel's buffers on loopback, so drops there are likely but not certain). Bounded: a 5 s
//! stream per run, every wait bounded.

mod common;

use common::cbuild::{compile_c, root, Flavor};
use common::data::json_num;
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::tools;
use std::process::Command;
use std::time::Duration;

const CLIENTS: u64 = 300;
const SECONDS: u64 = 5;

/// The server under ASan streaming for `SECONDS` to `clients` python clients (all in
/// `mode` when given): the clients' JSON summary and the server's counters, with the
/// checks every run makes (the script's own checks passed, no sanitizer report, every
/// message accepted is accounted for exactly once, the live count is back).
fn run(clients: u64, mode: Option<&str>) -> (String, std::collections::HashMap<String, u64>) {
    tools::setup(&["python3-venv"], &[("python3", &["--version"])]);
    let py = tools::python_with("websockets", "websockets>=13");
    // Built once for both tests (two links of one output at once would race).
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let bin = BIN.get_or_init(|| {
        compile_c(
            "ws_audio_server",
            &[&root().join("tests/c/ws_audio_server.c")],
            &[],
            Flavor::Sanitized,
        )
    });
    let (mut server, port) = Child::server_with(bin, "http", None, &[&SECONDS.to_string()]);
    let mut cmd = Command::new(&py);
    cmd.arg(root().join("tests/ws/audio_clients.py"))
        .arg(format!("ws://127.0.0.1:{port}"))
        .arg(clients.to_string())
        .arg(SECONDS.to_string())
        .arg("10");
    if let Some(m) = mode {
        cmd.arg(m);
    }
    let out = run_limited(&mut cmd, Duration::from_secs(SECONDS + 50), "audio_clients.py");
    server.wait_line("stream done", |l| l.starts_with("stream done"));
    let f = server.stop();
    let json = text(&out.stdout);
    assert!(
        out.status.success(),
        "audio_clients.py failed:\n{}\n--- server:\n{}",
        describe(&out),
        f.describe()
    );
    f.assert_no_sanitizer_report();
    let s = f.counters("accepted=");
    eprintln!("clients: {json}\nserver: {s:?}");
    let ctx = || format!("clients: {json}\nserver: {s:?}\n{}", f.describe());

    // Every message accepted is accounted for exactly once: sent whole, or reported.
    assert_eq!(
        s["accepted"] + s["bcast"],
        s["delivered"] + s["undelivered"],
        "accepted by handle + broadcast copies == delivered + undelivered\n{}",
        ctx()
    );
    assert_eq!(
        s["callback"],
        s["undelivered"],
        "the callback saw every drop\n{}",
        ctx()
    );
    assert_eq!(s["live"], s["live_start"], "live count back to the start\n{}", ctx());
    (json, s)
}

/// Readers that stop reading: the server's workers keep sending to them by handle, what
/// does not fit the 16 KiB send room is refused and reported through the undelivered
/// callback (one reader on loopback, where the kernel would otherwise buffer megabytes, uses
/// small TCP segments; see audio_clients.py).
#[test]
fn chunks_for_readers_that_stop_are_refused_and_reported() {
    let (json, s) = run(3, Some("stall"));
    assert!(
        s["undelivered"] > 0,
        "stalled clients had chunks refused\nclients: {json}\nserver: {s:?}"
    );
    assert!(s["delivered"] > 0, "clients: {json}\nserver: {s:?}");
}

#[test]
fn workers_stream_to_hundreds_of_vanishing_clients_by_handle() {
    let (json, s) = run(CLIENTS, None);
    let ctx = || format!("clients: {json}\nserver: {s:?}");
    // It was a stress: thousands of chunks by handle, broadcasts, and clients that vanished.
    assert!(s["accepted"] >= 1000 * SECONDS, "{}", ctx());
    assert!(s["bcast"] > 0 && json_num(&json, "bcasts") > 0, "{}", ctx());
    assert!(json_num(&json, "chunks") > 0, "{}", ctx());
    assert!(json_num(&json, "vanished") >= CLIENTS / 4, "{}", ctx());
    // Every client that was to stay got its "end" and its exact count (checked by the
    // script); error_count is 0 by the exit status above.
    assert!(json_num(&json, "ends") >= json_num(&json, "stayers"), "{}", ctx());
    assert_eq!(json_num(&json, "error_count"), 0, "{}", ctx());
}
