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
//! undelivered one), some were reported; the live connection count returns to its start;
//! the sanitizers are silent. Bounded: a 5 s stream, every wait bounded.

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

#[test]
fn workers_stream_to_hundreds_of_vanishing_clients_by_handle() {
    tools::setup(&["python3-venv"], &[("python3", &["--version"])]);
    let py = tools::python_with("websockets", "websockets>=13");
    let bin = compile_c(
        "ws_audio_server",
        &[&root().join("tests/c/ws_audio_server.c")],
        &[],
        Flavor::Sanitized,
    );
    let (mut server, port) = Child::server_with(&bin, "http", None, &[&SECONDS.to_string()]);
    let out = run_limited(
        Command::new(&py)
            .arg(root().join("tests/ws/audio_clients.py"))
            .arg(format!("ws://127.0.0.1:{port}"))
            .arg(CLIENTS.to_string())
            .arg(SECONDS.to_string())
            .arg("10"),
        Duration::from_secs(SECONDS + 50),
        "audio_clients.py",
    );
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
    assert!(s["undelivered"] > 0, "stalled clients had chunks refused\n{}", ctx());
    assert_eq!(s["live"], s["live_start"], "live count back to the start\n{}", ctx());
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
