//! Real clients against the C examples on 127.0.0.1 (issue 3, item 8): curl (HTTP/1.0 and
//! 1.1), ApacheBench, python h11 as a strict response parser, and headless Chromium driven
//! by playwright-core. The server is `c-examples/http-server` (and `c-examples/file-upload`
//! for a large upload), built against `libmeerkat.a` plain and, for curl and h11, also with
//! ASan/UBSan; each test starts its own server on a free port, run from the example's own
//! directory (so `web_root` is relative), killed by a guard if the test fails, and stopped
//! with SIGTERM at the end, when it must exit cleanly (status 0, "bye", no sanitizer report).
//!
//! The tools are installed by the test itself when missing, so that a fresh CI machine runs
//! it: `scripts/setup.sh curl apache2-utils chromium python3-venv` (Debian packages), h11
//! with pip into the venv `target/pyenv`, playwright-core with npm into `target/node`. A tool
//! that cannot be installed fails the test (it does not skip). The helper scripts live in
//! `tests/real_clients/` (`h11_check.py`, `browser.mjs`).
//!
//! Every subprocess runs under a time limit (its process group is killed after it) and every
//! loop is bounded.

mod common;

use common::cbuild::{example, root, Flavor};
use common::data::{json_num, pattern, TempDir};
use common::example::{Child, Finished};
use common::proc::{describe, run_limited, text};
use common::tools;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Debian packages the tests need; `scripts/setup.sh` installs the missing ones.
const PACKAGES: &[&str] = &["curl", "apache2-utils", "chromium", "python3-venv"];
/// How long one client invocation may run (curl, one h11 run, one ab run).
const CLIENT_LIMIT: Duration = Duration::from_secs(30);

// ---- paths, tools --------------------------------------------------------------------------

fn example_dir(name: &str) -> PathBuf {
    root().join("c-examples").join(name)
}

fn web_root() -> PathBuf {
    example_dir("http-server").join("web_root")
}

fn web_file(name: &str) -> Vec<u8> {
    std::fs::read(web_root().join(name)).unwrap_or_else(|e| panic!("read web_root/{name}: {e}"))
}

/// The packages above, then the tools that must answer.
fn setup() {
    tools::setup(
        PACKAGES,
        &[
            ("curl", &["--version"]),
            ("ab", &["-V"]),
            ("/usr/bin/chromium", &["--version"]),
            ("python3", &["--version"]),
            ("node", &["--version"]),
            ("npm", &["--version"]),
        ],
    );
}

// ---- a server under test -------------------------------------------------------------------

/// A running example, started from its own directory (so `web_root` is relative). Dropping
/// it kills the process; `stop` ends it with SIGTERM and checks that it exited cleanly.
struct Server {
    child: Child,
    port: u16,
    name: String,
}

impl Server {
    fn start(name: &str, flavor: Flavor, extra: &[&str]) -> Server {
        let (child, port) = Child::server_with(&example(name, flavor), "http", Some(&example_dir(name)), extra);
        Server {
            child,
            port,
            name: format!("{name} ({flavor:?})"),
        }
    }

    fn http_server(flavor: Flavor) -> Server {
        Server::start("http-server", flavor, &[])
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM: exit status 0 after "bye", no sanitizer report.
    fn stop(self) -> Finished {
        self.child.stop()
    }
}

// ---- curl ----------------------------------------------------------------------------------

/// `curl -sS --max-time 10 ARGS`; the exit status must be 0. Returns (stdout, stderr).
fn curl(args: &[&str]) -> (String, String) {
    let out = run_limited(
        Command::new("curl").args(["-sS", "--max-time", "10"]).args(args),
        CLIENT_LIMIT,
        &format!("curl {}", args.join(" ")),
    );
    assert!(out.status.success(), "curl {}\n{}", args.join(" "), describe(&out));
    (text(&out.stdout), text(&out.stderr))
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Connections curl reports closing ("Closing connection" up to curl 8.9, "shutting down
/// connection" after).
fn closed(err: &str) -> usize {
    count(err, "Closing connection") + count(err, "shutting down connection")
}

fn assert_file(path: &Path, want: &[u8], what: &str) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("{what}: read {}: {e}", path.display()));
    assert!(
        got == want,
        "{what}: {} bytes, expected {} bytes; starts {:?}",
        got.len(),
        want.len(),
        text(&got[..got.len().min(200)])
    );
}

fn curl_checks(srv: &Server) {
    let tmp = TempDir::new("curl");
    let out = |n: &str| tmp.path(n).to_string_lossy().into_owned();
    let assets = [
        ("/", "index.html"),
        ("/style.css", "style.css"),
        ("/app.js", "app.js"),
        ("/logo.png", "logo.png"),
    ];

    // HTTP/1.1: four pages over one kept-alive connection.
    let mut args: Vec<String> = vec!["--http1.1".into(), "-v".into()];
    for (path, file) in assets {
        args.extend([srv.url(path), "-o".into(), out(&format!("11-{file}"))]);
    }
    let (_, err) = curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        count(&err, "Connected to"),
        1,
        "HTTP/1.1: one connection for four pages\n{err}"
    );
    assert_eq!(
        count(&err, "Re-using existing connection"),
        3,
        "HTTP/1.1 keep-alive reuse\n{err}"
    );
    assert_eq!(closed(&err), 0, "HTTP/1.1 keep-alive: nothing closes\n{err}");
    for (_, file) in assets {
        assert_file(
            &tmp.path(&format!("11-{file}")),
            &web_file(file),
            &format!("HTTP/1.1 {file}"),
        );
    }

    // HTTP/1.0 without keep-alive: the server closes after each response.
    let mut args: Vec<String> = vec!["--http1.0".into(), "-v".into()];
    for (path, file) in assets {
        args.extend([srv.url(path), "-o".into(), out(&format!("10-{file}"))]);
    }
    let (_, err) = curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        count(&err, "Connected to"),
        4,
        "HTTP/1.0: one connection per page\n{err}"
    );
    assert_eq!(count(&err, "Re-using existing connection"), 0, "HTTP/1.0 closes\n{err}");
    assert_eq!(closed(&err), 4, "HTTP/1.0: each connection closed\n{err}");
    assert_eq!(
        count(&err, "< Connection: keep-alive"),
        0,
        "HTTP/1.0 without keep-alive\n{err}"
    );
    for (_, file) in assets {
        assert_file(
            &tmp.path(&format!("10-{file}")),
            &web_file(file),
            &format!("HTTP/1.0 {file}"),
        );
    }

    // HTTP/1.0 with "Connection: keep-alive" (what ab -k sends): kept alive, and said so.
    let (_, err) = curl(&[
        "--http1.0",
        "-v",
        "-H",
        "Connection: keep-alive",
        &srv.url("/style.css"),
        "-o",
        &out("10ka-1"),
        &srv.url("/api/stats"),
        "-o",
        &out("10ka-2"),
        &srv.url("/logo.png"),
        "-o",
        &out("10ka-3"),
    ]);
    assert_eq!(
        count(&err, "Connected to"),
        1,
        "HTTP/1.0 keep-alive: one connection\n{err}"
    );
    assert_eq!(
        count(&err, "Re-using existing connection"),
        2,
        "HTTP/1.0 keep-alive\n{err}"
    );
    assert_eq!(
        count(&err, "< Connection: keep-alive"),
        3,
        "HTTP/1.0 keep-alive answers\n{err}"
    );
    assert_file(
        &tmp.path("10ka-1"),
        &web_file("style.css"),
        "HTTP/1.0 keep-alive style.css",
    );
    assert_file(
        &tmp.path("10ka-3"),
        &web_file("logo.png"),
        "HTTP/1.0 keep-alive logo.png",
    );

    // HEAD (-I), in both versions: the headers a GET would have, no body; then a GET on the
    // same connection still parses (a stray HEAD body would corrupt it).
    for v in ["--http1.1", "--http1.0"] {
        for (path, file, ty) in [
            ("/style.css", "style.css", "text/css"),
            ("/logo.png", "logo.png", "image/png"),
            ("/app.js", "app.js", "javascript"),
        ] {
            let (head, _) = curl(&[v, "-I", &srv.url(path)]);
            let len = web_file(file).len();
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{v} HEAD {path}:\n{head}");
            assert!(
                head.contains(&format!("Content-Length: {len}\r\n")),
                "{v} HEAD {path}:\n{head}"
            );
            let ct = head.lines().find(|l| l.starts_with("Content-Type:")).unwrap_or("");
            assert!(ct.contains(ty), "{v} HEAD {path}: {ct}\n{head}");
        }
    }
    let (_, err) = curl(&[
        "--http1.1",
        "-v",
        "-I",
        &srv.url("/app.js"),
        "--next",
        "--http1.1",
        "-v",
        &srv.url("/app.js"),
        "-o",
        &out("after-head"),
    ]);
    assert_eq!(
        count(&err, "Re-using existing connection"),
        1,
        "GET after HEAD reuses\n{err}"
    );
    assert_file(&tmp.path("after-head"), &web_file("app.js"), "GET after HEAD");

    // Ranges: 206 with exactly the bytes asked for; past the end, 416 with the size.
    let app = web_file("app.js");
    let png = web_file("logo.png");
    for v in ["--http1.1", "--http1.0"] {
        for (range, path, want) in [
            ("0-99", "/app.js", &app[..100]),
            ("100-199", "/logo.png", &png[100..200]),
            ("-50", "/logo.png", &png[png.len() - 50..]),
        ] {
            // (curl creates the file only when bytes arrive: no stale file may stand in.)
            let _ = std::fs::remove_file(tmp.path("range"));
            let (code, _) = curl(&[
                v,
                "-r",
                range,
                "-o",
                &out("range"),
                "-w",
                "%{http_code}",
                &srv.url(path),
            ]);
            assert_eq!(code, "206", "{v} -r {range} {path}");
            assert_file(&tmp.path("range"), want, &format!("{v} -r {range} {path}"));
        }
        let (code, _) = curl(&[
            v,
            "-r",
            "99999999-",
            "-D",
            &out("r416h"),
            "-o",
            &out("r416"),
            "-w",
            "%{http_code}",
            &srv.url("/app.js"),
        ]);
        assert_eq!(code, "416", "{v} -r 99999999-");
        let h = std::fs::read_to_string(tmp.path("r416h")).unwrap();
        assert!(
            h.contains(&format!("Content-Range: bytes */{}\r\n", app.len())),
            "{v} 416:\n{h}"
        );
    }

    // Uploads: --data-binary @file (JSON and a form) to POST /api/sum; -T (PUT) is 405 there
    // and the connection goes on.
    let json = tmp.path("sum.json");
    std::fs::write(&json, br#"{"a":1.5,"b":2}"#).unwrap();
    let form = tmp.path("sum.form");
    std::fs::write(&form, b"a=40&b=2").unwrap();
    let at = |p: &Path| format!("@{}", p.display());
    for v in ["--http1.1", "--http1.0"] {
        let (body, _) = curl(&[
            v,
            "--data-binary",
            &at(&json),
            "-H",
            "Content-Type: application/json",
            &srv.url("/api/sum"),
        ]);
        assert_eq!(body, r#"{"sum":3.5}"#, "{v} POST JSON");
        let (body, _) = curl(&[v, "--data-binary", &at(&form), &srv.url("/api/sum")]);
        assert_eq!(body, r#"{"sum":42}"#, "{v} POST form");
    }
    let (stdout, err) = curl(&[
        "--http1.1",
        "-v",
        "-T",
        &json.to_string_lossy(),
        "-w",
        " %{http_code}",
        &srv.url("/api/sum"),
        "--next",
        "--http1.1",
        "-v",
        &srv.url("/api/echo?text=after-put"),
    ]);
    assert!(stdout.contains("405"), "PUT /api/sum: 405\n{stdout}\n{err}");
    assert!(err.contains("< Allow: POST"), "PUT /api/sum: Allow\n{err}");
    assert!(stdout.ends_with(r#"{"text":"after-put"}"#), "GET after PUT\n{stdout}");
    assert_eq!(
        count(&err, "Re-using existing connection"),
        1,
        "GET after PUT reuses\n{err}"
    );

    // Expect: 100-continue with a body the server wants: 100 Continue, then the answer,
    // without waiting for curl's 1 s expect timeout.
    let padded = tmp.path("padded.json");
    std::fs::write(&padded, format!(r#"{{"a":20,{}"b":22}}"#, " ".repeat(900))).unwrap();
    let (stdout, err) = curl(&[
        "--http1.1",
        "-v",
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "5",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &at(&padded),
        "-w",
        "\n%{time_total}",
        &srv.url("/api/sum"),
    ]);
    assert!(err.contains("< HTTP/1.1 100 Continue"), "Expect: 100-continue\n{err}");
    let (body, secs) = stdout.rsplit_once('\n').unwrap();
    assert_eq!(body, r#"{"sum":42}"#, "POST after 100 Continue\n{err}");
    assert!(
        secs.parse::<f64>().unwrap() < 4.0,
        "100 Continue came late: {secs} s\n{err}"
    );

    // A large -T upload to an endpoint that cannot take it: 413 at once (no 100 Continue,
    // the body is not read), then the connection closes.
    let big = tmp.path("big.bin");
    std::fs::write(&big, pattern(7, 3 << 20)).unwrap();
    let (stdout, err) = curl(&[
        "--http1.1",
        "-v",
        "--expect100-timeout",
        "5",
        "-T",
        &big.to_string_lossy(),
        "-w",
        "\n%{http_code} %{time_total}",
        &srv.url("/api/sum"),
    ]);
    assert!(
        err.contains("> Expect: 100-continue"),
        "curl sends Expect for 3 MiB\n{err}"
    );
    assert!(
        !err.contains("< HTTP/1.1 100 Continue"),
        "no 100 Continue for a refused body\n{err}"
    );
    let (code, secs) = stdout.rsplit_once('\n').unwrap().1.split_once(' ').unwrap();
    assert_eq!(code, "413", "3 MiB PUT /api/sum\n{stdout}\n{err}");
    assert!(secs.parse::<f64>().unwrap() < 4.0, "413 came late: {secs} s\n{err}");
    assert_eq!(closed(&err), 1, "closed after 413\n{err}");

    // Status codes, and a query through --data-urlencode.
    let code = |path: &str, extra: &[&str]| {
        let mut a = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        a.extend_from_slice(extra);
        let u = srv.url(path);
        a.push(&u);
        curl(&a).0
    };
    assert_eq!(code("/nope.html", &[]), "404");
    assert_eq!(code("/api/nope", &[]), "404");
    assert_eq!(code("/api/stats", &["-X", "DELETE"]), "405");
    assert_eq!(code("/style.css", &["-X", "POST", "-d", "x"]), "405");
    let (body, _) = curl(&["-G", "--data-urlencode", "text=a b&c\"é", &srv.url("/api/echo")]);
    assert_eq!(body, "{\"text\":\"a b&c\\\"é\"}");

    // /api/slow from ten parallel connections: each gets its own reply.
    let mut args: Vec<String> = vec!["--parallel".into(), "--parallel-max".into(), "10".into()];
    for i in 0..10 {
        args.extend([
            srv.url(&format!("/api/slow?id=curl-{i}")),
            "-o".into(),
            out(&format!("slow-{i}")),
        ]);
    }
    curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for i in 0..10 {
        let got = std::fs::read_to_string(tmp.path(&format!("slow-{i}"))).unwrap();
        assert!(
            got.starts_with(&format!("{{\"id\":\"curl-{i}\",\"delay_ms\":")),
            "slow {i}: {got}"
        );
    }
}

fn curl_suite(flavor: Flavor) {
    setup();
    let srv = Server::http_server(flavor);
    curl_checks(&srv);
    let f = srv.stop();
    let c = f.counters("slow:");
    assert_eq!((c["replies"], c["failed"]), (10, 0), "{}", f.describe());
}

#[test]
fn curl_http10_http11_keepalive_head_ranges_uploads() {
    curl_suite(Flavor::Plain);
}

#[test]
fn curl_against_sanitized_server() {
    curl_suite(Flavor::Sanitized);
}

/// A large upload to a real upload endpoint (c-examples/file-upload, which streams to disk):
/// curl sends `Expect: 100-continue`, gets `100 Continue`, and the saved file is the upload.
#[test]
fn curl_large_upload_with_expect_100_continue() {
    setup();
    let up = TempDir::new("uploads");
    let dir = up.dir().to_string_lossy().into_owned();
    let srv = Server::start("file-upload", Flavor::Plain, &[&dir]);
    let src = TempDir::new("upload-src");
    let file = src.path("big.bin");
    let data = pattern(99, 8 << 20);
    std::fs::write(&file, &data).unwrap();
    let f = file.to_string_lossy().into_owned();
    for (name, version) in [("one.bin", "--http1.1"), ("two.bin", "--http1.1")] {
        let (stdout, err) = curl(&[
            version,
            "-v",
            "--expect100-timeout",
            "5",
            "-T",
            &f,
            "-w",
            "\n%{http_code} %{time_total}",
            &srv.url(&format!("/upload/{name}")),
        ]);
        assert!(err.contains("> Expect: 100-continue"), "curl asks\n{err}");
        assert!(err.contains("< HTTP/1.1 100 Continue"), "100 Continue\n{err}");
        let (body, tail) = stdout.rsplit_once('\n').unwrap();
        let (code, secs) = tail.split_once(' ').unwrap();
        assert_eq!(code, "200", "{stdout}\n{err}");
        assert_eq!(body, format!("{{\"saved\":\"{name}\",\"bytes\":{}}}", data.len()));
        assert!(secs.parse::<f64>().unwrap() < 4.0, "100 Continue came late: {secs} s");
        assert_file(&up.path(name), &data, &format!("uploaded {name}"));
    }
    // HTTP/1.0 has no 100 Continue; the body is just sent, and the connection closes.
    let (stdout, err) = curl(&["--http1.0", "-v", "-T", &f, &srv.url("/upload/three.bin")]);
    assert!(!err.contains("100 Continue"), "{err}");
    assert_eq!(closed(&err), 1, "{err}");
    assert_eq!(stdout, format!("{{\"saved\":\"three.bin\",\"bytes\":{}}}", data.len()));
    assert_file(&up.path("three.bin"), &data, "uploaded three.bin");
    let f = srv.stop();
    let c = f.counters("uploads:");
    assert_eq!((c["saved"], c["aborted"]), (3, 0), "{}", f.describe());
}

// ---- ApacheBench ----------------------------------------------------------------------------

/// `ab -s 5 ARGS` with a process time limit: (the report, its "Field: value" lines).
fn ab(args: &[&str]) -> (String, HashMap<String, String>) {
    let what = format!("ab {}", args.join(" "));
    let out = run_limited(Command::new("ab").args(["-s", "5"]).args(args), CLIENT_LIMIT, &what);
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "{what} (a hang on HTTP/1.0 ends in ab's -s 5 timeout)\n{report}"
    );
    let fields = report
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (report, fields)
}

fn field<'a>(f: &'a HashMap<String, String>, k: &str, report: &str) -> &'a str {
    f.get(k)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {k:?} in\n{report}"))
}

#[test]
fn apachebench_http10_and_keepalive() {
    setup();
    let srv = Server::http_server(Flavor::Plain);
    let echo = srv.url("/api/echo?text=meerkat");
    let stats = srv.url("/api/stats");
    let css = srv.url("/style.css");
    let png = srv.url("/logo.png");
    let echo_len = r#"{"text":"meerkat"}"#.len();
    let css_len = web_file("style.css").len();
    let png_len = web_file("logo.png").len();
    let runs: [(&[&str], Option<usize>); 6] = [
        (&["-n", "2000", "-c", "20", &stats], None),
        (&["-n", "2000", "-c", "20", &echo], Some(echo_len)),
        (&["-n", "2000", "-c", "20", &png], Some(png_len)),
        (&["-k", "-n", "2000", "-c", "20", &stats], None),
        (&["-k", "-n", "2000", "-c", "20", &echo], Some(echo_len)),
        (&["-k", "-n", "2000", "-c", "20", &css], Some(css_len)),
    ];
    for (args, doc_len) in runs {
        let (report, f) = ab(args);
        let what = format!("ab {}", args.join(" "));
        assert_eq!(field(&f, "Complete requests", &report), "2000", "{what}\n{report}");
        assert!(!f.contains_key("Non-2xx responses"), "{what}\n{report}");
        let failed = field(&f, "Failed requests", &report);
        match doc_len {
            Some(len) => {
                // Fixed-size documents: nothing may fail at all.
                assert_eq!(failed, "0", "{what}\n{report}");
                assert_eq!(field(&f, "Document Length", &report), format!("{len} bytes"), "{what}");
            }
            None => {
                // /api/stats changes length as its counters grow: ab counts that as a
                // "Length" failure. Connect, receive and exceptions must still be 0.
                if failed != "0" {
                    let detail = report
                        .lines()
                        .skip_while(|l| !l.starts_with("Failed requests"))
                        .nth(1)
                        .unwrap_or("");
                    assert!(
                        detail.contains("(Connect: 0, Receive: 0, Length:") && detail.contains("Exceptions: 0)"),
                        "{what}: {detail}\n{report}"
                    );
                }
            }
        }
        if args[0] == "-k" {
            assert_eq!(field(&f, "Keep-Alive requests", &report), "2000", "{what}\n{report}");
        } else {
            assert!(
                f.get("Keep-Alive requests").is_none_or(|v| v == "0"),
                "{what}: HTTP/1.0 without keep-alive\n{report}"
            );
        }
    }
    // Every connection is gone again: what is left is the listener and the one asking.
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let (body, _) = curl(&[&stats]);
        if json_num(&body, "live_conns") == 2 {
            break;
        }
        assert!(Instant::now() < end, "connections left after ab: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    srv.stop();
}

// ---- h11 -----------------------------------------------------------------------------------

fn h11_suite(flavor: Flavor) {
    setup();
    let py = tools::python_with("h11", "h11>=0.14,<1");
    let srv = Server::http_server(flavor);
    let script = root().join("tests/real_clients/h11_check.py");
    let port = srv.port.to_string();
    let out = run_limited(
        Command::new(&py)
            .arg(&script)
            .args(["127.0.0.1", &port])
            .arg(web_root()),
        Duration::from_secs(60),
        "h11_check.py",
    );
    let report = describe(&out);
    assert!(
        out.status.success(),
        "h11_check.py against {} found protocol errors (exact bytes below)\n{report}",
        srv.name
    );
    let last = text(&out.stdout);
    let summary = last.lines().last().unwrap_or("");
    let responses: u64 = summary
        .split(" responses")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line\n{report}"));
    assert!(responses >= 250, "only {responses} responses parsed\n{report}");
    srv.stop();
}

#[test]
fn h11_strict_parse_of_every_response() {
    h11_suite(Flavor::Plain);
}

#[test]
fn h11_strict_parse_sanitized_server() {
    h11_suite(Flavor::Sanitized);
}

// ---- Chromium ------------------------------------------------------------------------------

#[test]
fn chromium_reloads_with_slow_replies_keep_assets_intact() {
    const LOADS: u64 = 30;
    setup();
    let srv = Server::http_server(Flavor::Plain);
    let run = tools::run_page_script("tests/real_clients/browser.mjs", &srv.url(""), LOADS, &[]);
    let report = &run.report;
    assert_eq!(run.num("loads"), LOADS, "{report}");
    // Each load: index.html, style.css, app.js and logo.png (twice: icon and image).
    assert!(run.num("assetChecks") >= 4 * LOADS, "{report}");
    // The loads that wait see 10 own replies each; the others leave them behind.
    assert_eq!(run.num("slowOwn"), 10 * (LOADS / 2 + 1), "{report}");
    // Keep-alive: far fewer connections than responses.
    let conns = run.num("connections");
    let reused = run.num("reusedResponses");
    assert!(
        conns > 0 && reused > 2 * conns,
        "keep-alive reuse: {conns} connections, {reused} reused\n{report}"
    );
    // The server accounted for every /api/slow request it was given.
    let f = srv.stop();
    let c = f.counters("slow:");
    let ctx = f.describe();
    assert_eq!(
        c["requests"],
        c["replies"] + c["stale"] + c["undelivered"] + c["dropped"] + c["failed"],
        "{ctx}"
    );
    assert_eq!(c["failed"], 0, "{ctx}");
    assert!(c["replies"] >= 10 * (LOADS / 2 + 1), "{ctx}");
}
