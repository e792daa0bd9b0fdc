//! Autobahn against meerkat's WebSocket *client* (issue 10): `kosoku` (PyPI) in
//! `fuzzingserver` mode, and `tests/c/ws_autobahn_client.c` (Mongoose's names, ASan/UBSan,
//! limits at 64 MiB) asking it for the case count, running every case four at a time with
//! an echo handler, then asking for the report. Every case must be OK, NON-STRICT or
//! INFORMATIONAL, with the client's live count back to 0.
//!
//! Bounded for the suite: groups 1–7 (framing, pings, reserved bits, opcodes, fragmentation,
//! UTF-8, closing) and 10 whole, and the first case of each 9.x performance and 12.x/13.x
//! permessage-deflate subgroup (every negotiated parameter set once); the rest of 9, 12 and
//! 13 repeats those with bigger or more messages, which a debug build under ASan takes
//! minutes for. The full suite (517 cases) is run by hand on a release build; the last such
//! run is in docs/websocket.md.

mod common;

use common::cbuild::{compile_c, free_port, root, Flavor};
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::tools;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn autobahn_fuzzingserver_against_the_client() {
    tools::setup(&["python3-venv"], &[("python3", &["--version"])]);
    let kosoku = tools::python_with("kosoku", "kosoku").with_file_name("kosoku");
    let client = compile_c(
        "ws_autobahn_client",
        &[&root().join("tests/c/ws_autobahn_client.c")],
        &[],
        Flavor::Sanitized,
    );
    let port = free_port();
    let out_dir = std::env::temp_dir().join(format!("meerkat-autobahn-client-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut args: Vec<String> = vec!["-m".into(), "fuzzingserver".into(), "-o".into()];
    args.push(out_dir.to_string_lossy().into_owned());
    for g in ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"] {
        args.extend(["-i".to_string(), g.to_string()]);
    }
    for sub in 1..=8 {
        args.extend(["-i".to_string(), format!("9.{sub}.1")]);
    }
    for sub in 1..=5 {
        args.extend(["-i".to_string(), format!("12.{sub}.1")]);
    }
    for sub in 1..=7 {
        args.extend(["-i".to_string(), format!("13.{sub}.1")]);
    }
    args.push(format!("127.0.0.1:{port}"));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Child::spawn(&kosoku, None, &argv);
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30), "kosoku did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run_limited(
        Command::new(&client).args([&format!("ws://127.0.0.1:{port}"), "meerkat", "4"]),
        Duration::from_secs(150),
        "ws_autobahn_client",
    );
    // kosoku writes its report when /updateReports closes; give it a moment (bounded).
    let t = Instant::now();
    while !out_dir.join("index.json").exists() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let f = server.kill();
    assert!(
        out.status.success(),
        "ws_autobahn_client failed:\n{}\n--- kosoku:\n{}",
        describe(&out),
        f.describe()
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("errors=0 live=0"), "{}", describe(&out));
    assert!(!text(&out.stderr).contains("Sanitizer"), "{}", describe(&out));
    let index = std::fs::read_to_string(out_dir.join("index.json"))
        .unwrap_or_else(|e| panic!("no kosoku report ({e}):\n{}\n{}", describe(&out), f.describe()));
    let cases = index.matches("\"behavior\":").count();
    let good = ["OK", "NON-STRICT", "INFORMATIONAL"];
    let json: serde_json::Value = serde_json::from_str(&index).expect("index.json");
    let results = json["meerkat"].as_object().expect("the agent's results");
    let mut bad = Vec::new();
    let mut unimplemented = Vec::new();
    for (case, r) in results {
        let b = r["behavior"].as_str().unwrap_or("?");
        if good.contains(&b) {
            continue;
        }
        // 13.2, 13.5 and 13.6: kosoku's server accepts permessage-deflate there only from a
        // client whose offer carries `client_no_context_takeover` (Autobahn's reading of
        // that parameter as "I can honour it"; RFC 7692 §7.1.1.1 makes it a promise not to
        // use context takeover). meerkat's client offers, like browsers do,
        // `permessage-deflate; client_max_window_bits`, so these run uncompressed and are
        // graded UNIMPLEMENTED. See docs/websocket.md.
        let declined = ["13.2.", "13.5.", "13.6."].iter().any(|p| case.starts_with(p));
        if b == "UNIMPLEMENTED" && declined {
            unimplemented.push(case.clone());
        } else {
            bad.push(format!("{case}: {b}"));
        }
    }
    assert_eq!(unimplemented, ["13.2.1", "13.5.1", "13.6.1"], "{}", describe(&out));
    // 247 in groups 1-7 and 10, 8 + 5 + 7 first cases of 9, 12 and 13.
    assert_eq!(cases, 267, "cases in the report:\n{}", describe(&out));
    assert!(stdout.contains("cases=267 done=267 "), "{}", describe(&out));
    assert!(
        bad.is_empty(),
        "{} cases not passed: {bad:?}\n{}",
        bad.len(),
        describe(&out)
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
