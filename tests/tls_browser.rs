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
//! Tools are installed when missing (`tests/common/tools.rs`): `scripts/setup.sh chromium
//! openssl` and playwright-core with npm into `target/node`. A tool that cannot be had fails
//! the test. Every subprocess runs under a time limit and the server is killed by a guard.

mod common;

use common::cbuild::{example, root, Flavor};
use common::example::Child;
use common::tools;

const LOADS: u64 = 10;

/// Chromium and openssl from `scripts/setup.sh`, node and npm from the machine.
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

#[test]
fn chromium_loads_the_https_page_pinned_to_the_test_certificate() {
    setup();
    let spki = tools::test_cert_spki();
    // `https-server https://127.0.0.1:PORT -`: the shipped test pair, the default web root
    // (../http-server/web_root), run from its own directory.
    let dir = root().join("c-examples/https-server");
    let (srv, port) = Child::server_with(&example("https-server", Flavor::Plain), "https", Some(&dir), &["-"]);
    let base = format!("https://127.0.0.1:{port}");
    let run = tools::run_page_script("tests/tls_browser/https_page.mjs", &base, LOADS, &[&spki]);
    let (summary, report) = (&run.summary, &run.report);
    assert_eq!(run.num("loads"), LOADS, "{report}");
    // Each load: index.html, style.css, app.js and logo.png at least once, bytes compared.
    assert!(run.num("assetChecks") >= 4 * LOADS, "{report}");
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
    let conns = run.num("connections");
    let responses = run.num("networkResponses");
    let reused = run.num("reusedResponses");
    assert!(
        conns > 0 && responses >= 4 * LOADS && reused > 2 * conns && conns * 5 < responses,
        "keep-alive: {conns} connections for {responses} responses ({reused} reused)\n{report}"
    );
    println!("{summary}");
    let f = srv.stop();
    assert!(
        f.stdout.iter().any(|l| l.starts_with("handshakes: ")),
        "{}",
        f.describe()
    );
}
