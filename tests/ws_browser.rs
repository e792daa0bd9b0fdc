//! Headless Chromium opening the `c-examples/websocket-server` page (issue 10), over `ws://`
//! and, with the shipped test certificate, over `wss://`: the page's WebSocket opens, a typed
//! message comes back in the echo list, and the server time pushed once a second by the
//! example's worker thread (`mg_ws_wakeup_all`) shows up and changes
//! (`tests/ws_browser/ws_page.mjs`). The example runs with ASan/UBSan; on SIGTERM it must
//! exit cleanly with counts that include both browsers' pushes and echoes.
//!
//! Chromium trusts the test certificate only through its SPKI pin, as in `tls_browser.rs`.
//! Tools as there: `scripts/setup.sh chromium openssl`, playwright-core into `target/node`.

mod common;

use common::cbuild::{example, root, Flavor};
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::tools;
use std::process::Command;
use std::time::Duration;

fn setup() {
    tools::setup(
        &["chromium", "openssl"],
        &[
            ("/usr/bin/chromium", &["--version"]),
            ("openssl", &["version"]),
            ("node", &["--version"]),
            ("npm", &["--version"]),
        ],
    );
}

fn page(base: &str, spki: &str) -> String {
    let out = run_limited(
        Command::new("node")
            .arg(root().join("tests/ws_browser/ws_page.mjs"))
            .arg(base)
            .arg(tools::playwright_dir())
            .arg(spki),
        Duration::from_secs(90),
        "ws_page.mjs",
    );
    assert!(
        out.status.success(),
        "browser checks failed for {base}\n{}",
        describe(&out)
    );
    text(&out.stdout).lines().last().unwrap_or("").to_string()
}

#[test]
fn chromium_sees_echo_and_pushed_time_over_ws_and_wss() {
    setup();
    let spki = tools::test_cert_spki();
    let dir = root().join("c-examples/websocket-server");
    let bin = example("websocket-server", Flavor::Sanitized);
    for scheme in ["http", "https"] {
        let (srv, port) = Child::server_with(&bin, scheme, Some(&dir), &[]);
        let summary = page(&format!("{scheme}://127.0.0.1:{port}"), &spki);
        let ws = if scheme == "http" { "ws://" } else { "wss://" };
        assert!(
            summary.contains(&format!("\"wsUrl\":\"{ws}127.0.0.1:{port}/websocket\"")),
            "{summary}"
        );
        assert!(summary.contains("\"errors\":[]"), "{summary}");
        println!("{scheme}: {summary}");
        let f = srv.stop();
        f.assert_no_sanitizer_report();
        let c = f.counters("websockets ");
        assert_eq!((c["opened"], c["closed"]), (1, 1), "{}", f.describe());
        assert!(c["echoed"] >= 1 && c["pushed"] >= 2, "{}", f.describe());
    }
}
