//! The ported file-system tutorials, built against `libmeerkat.a` plain and with ASan +
//! UBSan and driven with curl over 127.0.0.1:
//!
//! - `c-examples/file-server`: listings (escaped names, the slash redirect, a symlink out
//!   of the directory neither listed nor served), files byte for byte, uploads in pieces
//!   with `mg_http_upload` that then appear in the listing and download equal, a climbing
//!   name refused.
//! - `c-examples/device-dashboard`: its web root packed by `scripts/pack.py` (as its
//!   CMakeLists.txt does with `meerkat_pack`) and served through `mg_fs_packed` byte for
//!   byte; the login refused and accepted (Basic credentials, then the cookie or a Bearer
//!   token), a tampered token refused, a viewer refused changes; the JSON API's values
//!   (settings round-trip with a quote in a name); a firmware image uploaded in pieces
//!   lands in the directory equal to what was sent; and headless Chromium using the page
//!   (login, a setting, a firmware file through the form).

mod common;

use common::cbuild::{compile_c, example, out_dir, root, Flavor};
use common::data::{pattern, TempDir};
use common::example::Child;
use common::proc::{describe, run_limited, text};
use common::tools;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What curl got: status, head (all heads when it followed nothing), body.
struct Got {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        assert_eq!(self.header("Content-Type"), Some("application/json"), "{}", self.head);
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// `curl -s -i` with `args`, bounded in time; the response split into head and body.
fn curl(args: &[&str]) -> Got {
    let out = run_limited(
        Command::new("curl")
            .args(["-s", "-S", "-i", "--max-time", "10"])
            .args(args),
        Duration::from_secs(20),
        "curl",
    );
    assert!(out.status.success(), "curl {args:?}\n{}", describe(&out));
    let all = out.stdout;
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    Got {
        status,
        head,
        body: all[split + 4..].to_vec(),
    }
}

// ---- file-server -----------------------------------------------------------------------

fn file_server(flavor: Flavor) {
    let bin = example("file-server", flavor);
    let t = TempDir::new(&format!("file-server-{flavor:?}"));
    let share = t.path("share");
    std::fs::create_dir_all(share.join("docs")).unwrap();
    std::fs::write(share.join("hello.txt"), "hello, files\n").unwrap();
    std::fs::write(share.join("docs/a b&<c>.txt"), "odd name").unwrap();
    std::fs::write(t.path("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(t.path("secret.txt"), share.join("docs/leak")).unwrap();
    let (child, port) = Child::server(&bin, &[share.to_str().unwrap()]);
    let base = format!("http://127.0.0.1:{port}");

    let r = curl(&[&format!("{base}/")]);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    let page = r.text();
    assert!(page.contains("<title>Index of /</title>"), "{page}");
    assert!(page.contains("<a href=\"docs/\">docs/</a>"), "{page}");
    assert!(page.contains("<a href=\"hello.txt\">hello.txt</a>"), "{page}");
    let r = curl(&[&format!("{base}/docs")]);
    assert_eq!((r.status, r.header("Location")), (301, Some("/docs/")));
    let page = curl(&[&format!("{base}/docs/")]).text();
    assert!(
        page.contains("<a href=\"a%20b%26%3Cc%3E.txt\">a b&amp;&lt;c&gt;.txt</a>"),
        "{page}"
    );
    assert!(!page.contains("leak"), "{page}");
    assert_eq!(curl(&[&format!("{base}/docs/leak")]).status, 404);
    let r = curl(&[&format!("{base}/docs/a%20b%26%3Cc%3E.txt")]);
    assert_eq!((r.status, r.text().as_str()), (200, "odd name"));
    let r = curl(&[&format!("{base}/hello.txt")]);
    assert_eq!(r.body, b"hello, files\n");
    assert_eq!(r.header("Cache-Control"), Some("no-cache"));

    // An upload in two pieces (Mongoose's protocol), then listed and downloaded.
    let data = pattern(7, 300_000);
    let (a, b) = data.split_at(200_000);
    let pa = t.path("piece-a");
    let pb = t.path("piece-b");
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let r = curl(&[
        "--data-binary",
        &format!("@{}", pa.display()),
        &format!("{base}/upload?file=image.bin&offset=0"),
    ]);
    assert_eq!((r.status, r.text().as_str()), (200, "200000"));
    let r = curl(&[
        "--data-binary",
        &format!("@{}", pb.display()),
        &format!("{base}/upload?file=image.bin&offset=200000"),
    ]);
    assert_eq!((r.status, r.text().as_str()), (200, "300000"));
    assert_eq!(std::fs::read(share.join("image.bin")).unwrap(), data);
    let page = curl(&[&format!("{base}/")]).text();
    assert!(page.contains("<a href=\"image.bin\">image.bin</a>"), "{page}");
    assert!(page.contains("<td data-k=\"300000\">300000</td>"), "{page}");
    let r = curl(&[&format!("{base}/image.bin")]);
    assert_eq!((r.status, r.body == data), (200, true));
    let r = curl(&["--data-binary", "x", &format!("{base}/upload?file=..%2Fevil&offset=0")]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!t.path("evil").exists());
    assert_eq!(curl(&[&format!("{base}/upload")]).status, 405);

    let f = child.stop();
    let c = f.counters("requests=");
    assert_eq!(c["uploads"], 2, "{}", f.describe());
}

#[test]
fn file_server_plain() {
    file_server(Flavor::Plain);
}

#[test]
fn file_server_sanitized() {
    file_server(Flavor::Sanitized);
}

/// Headless Chromium sorts a listing of the file server by a click on a column head
/// (`tests/fs_browser/listing_page.mjs`): by size both ways, then by name; `..` stays on top
/// and directories before files. Tools as in `ws_browser.rs`.
#[test]
fn file_server_listing_sorts_in_chromium() {
    tools::setup(
        &["chromium"],
        &[
            ("/usr/bin/chromium", &["--version"]),
            ("node", &["--version"]),
            ("npm", &["--version"]),
        ],
    );
    let bin = example("file-server", Flavor::Plain);
    let t = TempDir::new("file-server-chromium");
    let share = t.path("share");
    std::fs::create_dir_all(share.join("sub/zdir")).unwrap();
    std::fs::create_dir_all(share.join("sub/adir")).unwrap();
    for (name, len) in [("b.txt", 30), ("c.txt", 2), ("a.txt", 400)] {
        std::fs::write(share.join("sub").join(name), vec![b'x'; len]).unwrap();
    }
    let (child, port) = Child::server(&bin, &[share.to_str().unwrap()]);
    let out = run_limited(
        Command::new("node")
            .arg(root().join("tests/fs_browser/listing_page.mjs"))
            .arg(format!("http://127.0.0.1:{port}/sub/"))
            .arg(tools::playwright_dir()),
        Duration::from_secs(90),
        "listing_page.mjs",
    );
    assert!(out.status.success(), "browser checks failed\n{}", describe(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = |k: &str| -> Vec<String> {
        summary[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows("loaded"), ["..", "adir/", "zdir/", "a.txt", "b.txt", "c.txt"]);
    // Directories have no size: they stay first, in the order they had.
    assert_eq!(rows("size"), ["..", "adir/", "zdir/", "c.txt", "b.txt", "a.txt"]);
    assert_eq!(rows("sizeDesc"), ["..", "adir/", "zdir/", "a.txt", "b.txt", "c.txt"]);
    assert_eq!(rows("name"), ["..", "adir/", "zdir/", "a.txt", "b.txt", "c.txt"]);
    child.stop();
}

// ---- device-dashboard ------------------------------------------------------------------

fn web_root() -> PathBuf {
    root().join("c-examples/device-dashboard/web_root")
}

/// The dashboard with its web root packed by pack.py (as meerkat_pack does in its
/// CMakeLists.txt: names /web_root/...).
/// Built once per flavour and test process: two tests use the sanitized build, and a second
/// link to the same path would replace the file while the first test starts it.
fn dashboard_bin(flavor: Flavor) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{flavor:?}");
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = built.iter().find(|(k, _)| *k == key) {
        return p.clone();
    }
    let p = build_dashboard(flavor);
    built.push((key, p.clone()));
    p
}

fn build_dashboard(flavor: Flavor) -> PathBuf {
    let packed = out_dir().join(format!("dashboard-packed-{flavor:?}.c"));
    let st = Command::new("python3")
        .arg(root().join("scripts/pack.py"))
        .arg("-s")
        .arg(format!("{}/", web_root().display()))
        .args(["-p", "/web_root", "-o"])
        .arg(&packed)
        .arg(web_root())
        .status()
        .expect("python3");
    assert!(st.success(), "pack.py failed");
    let src = root().join("c-examples/device-dashboard/main.c");
    compile_c(&format!("device-dashboard-{flavor:?}"), &[&src, &packed], &[], flavor)
}

fn login(base: &str, user_pass: &str, jar: &Path) -> Got {
    curl(&[
        "-X",
        "POST",
        "-u",
        user_pass,
        "-c",
        jar.to_str().unwrap(),
        &format!("{base}/api/login"),
    ])
}

fn dashboard(flavor: Flavor) {
    let bin = dashboard_bin(flavor);
    let t = TempDir::new(&format!("dashboard-{flavor:?}"));
    let fw_dir = t.path("fw");
    let (child, port) = Child::server(&bin, &[fw_dir.to_str().unwrap()]);
    let base = format!("http://127.0.0.1:{port}");
    let jar = t.path("cookies");
    let jar_s = jar.to_str().unwrap();

    // The packed pages, byte for byte.
    for (path, file, ctype) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/main.js", "main.js", "text/javascript; charset=utf-8"),
        ("/style.css", "style.css", "text/css; charset=utf-8"),
    ] {
        let r = curl(&[&format!("{base}{path}")]);
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert_eq!(r.body, std::fs::read(web_root().join(file)).unwrap(), "{path}");
        assert_eq!(r.header("Content-Type"), Some(ctype), "{path}");
    }
    assert_eq!(curl(&[&format!("{base}/nope.html")]).status, 404);

    // Login refused, then accepted.
    let r = curl(&[&format!("{base}/api/stats")]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "login required");
    let r = login(&base, "admin:wrong", &jar);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "bad credentials");
    let r = login(&base, "admin:secret", &jar);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!((j["user"].as_str(), j["admin"].as_bool()), (Some("admin"), Some(true)));
    let token = j["token"].as_str().unwrap().to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let cookie = r.header("Set-Cookie").unwrap();
    assert!(cookie.starts_with(&format!("access_token={token};")), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    // The API with the cookie.
    let r = curl(&["-b", jar_s, &format!("{base}/api/stats")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    assert_eq!(s["user"], "admin");
    assert_eq!(s["led"], false);
    let temp = s["temperature"].as_f64().unwrap();
    assert!((21.5..23.5).contains(&temp), "{s}");
    assert!(
        s["uptime_ms"].as_u64().is_some() && s["requests"].as_u64().unwrap() >= 6,
        "{s}"
    );
    let r = curl(&["-b", jar_s, &format!("{base}/api/settings")]);
    assert_eq!(
        r.json(),
        serde_json::json!({"device_name": "meerkat-01", "led": false, "log_level": 2})
    );
    let body = r#"{"device_name":"lab \"7\"","led":true,"log_level":3}"#;
    let r = curl(&["-b", jar_s, "--data-binary", body, &format!("{base}/api/settings")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let want = serde_json::json!({"device_name": "lab \"7\"", "led": true, "log_level": 3});
    assert_eq!(r.json(), want);
    let bearer = format!("Authorization: Bearer {token}");
    let r = curl(&["-H", &bearer, &format!("{base}/api/settings")]);
    assert_eq!(r.json(), want);
    let r = curl(&[
        "-b",
        jar_s,
        "--data-binary",
        r#"{"log_level":9}"#,
        &format!("{base}/api/settings"),
    ]);
    assert_eq!(r.status, 400);
    assert_eq!(curl(&["-b", jar_s, &format!("{base}/api/stats")]).json()["led"], true);

    // A token with another signature, or none of ours, is refused.
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let r = curl(&[
        "-H",
        &format!("Authorization: Bearer {forged}"),
        &format!("{base}/api/stats"),
    ]);
    assert_eq!(r.status, 401);

    // A viewer may look, not change.
    let vjar = t.path("viewer-cookies");
    assert_eq!(login(&base, "viewer:view", &vjar).status, 200);
    let vj = vjar.to_str().unwrap();
    assert_eq!(curl(&["-b", vj, &format!("{base}/api/settings")]).json(), want);
    let r = curl(&[
        "-b",
        vj,
        "--data-binary",
        "{\"led\":false}",
        &format!("{base}/api/settings"),
    ]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "read-only user");

    // Firmware in two pieces.
    let image = pattern(11, 150_000);
    let (a, b) = image.split_at(100_000);
    let (pa, pb) = (t.path("fw-a"), t.path("fw-b"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let r = curl(&[
        "-b",
        vj,
        "--data-binary",
        &format!("@{}", pa.display()),
        &format!("{base}/api/firmware?file=fw.bin&offset=0"),
    ]);
    assert_eq!(r.status, 403);
    let r = curl(&[
        "-b",
        jar_s,
        "--data-binary",
        &format!("@{}", pa.display()),
        &format!("{base}/api/firmware?file=fw.bin&offset=0"),
    ]);
    assert_eq!((r.status, r.text().as_str()), (200, "100000"));
    let r = curl(&[
        "-b",
        jar_s,
        "--data-binary",
        &format!("@{}", pb.display()),
        &format!("{base}/api/firmware?file=fw.bin&offset=100000"),
    ]);
    assert_eq!((r.status, r.text().as_str()), (200, "150000"));
    assert_eq!(std::fs::read(fw_dir.join("fw.bin")).unwrap(), image);
    let r = curl(&["-b", jar_s, &format!("{base}/api/firmware")]);
    assert_eq!(r.json(), serde_json::json!({"name": "fw.bin", "size": 150000}));

    // Logging out clears the cookie.
    let r = curl(&["-X", "POST", "-b", jar_s, "-c", jar_s, &format!("{base}/api/logout")]);
    assert_eq!(r.status, 200);
    assert!(r.header("Set-Cookie").unwrap().starts_with("access_token=;"));
    assert_eq!(curl(&["-b", jar_s, &format!("{base}/api/stats")]).status, 401);

    let f = child.stop();
    let c = f.counters("requests=");
    assert_eq!(c["logins"], 2, "{}", f.describe());
}

#[test]
fn device_dashboard_plain() {
    dashboard(Flavor::Plain);
}

#[test]
fn device_dashboard_sanitized() {
    dashboard(Flavor::Sanitized);
}

/// Headless Chromium logs in on the dashboard page, switches the LED on and uploads a
/// firmware file through the page's form (`tests/fs_browser/dashboard_page.mjs`); the image
/// lands equal to the file the browser was given. Tools as in `ws_browser.rs`.
#[test]
fn device_dashboard_in_chromium() {
    tools::setup(
        &["chromium"],
        &[
            ("/usr/bin/chromium", &["--version"]),
            ("node", &["--version"]),
            ("npm", &["--version"]),
        ],
    );
    let bin = dashboard_bin(Flavor::Sanitized);
    let t = TempDir::new("dashboard-chromium");
    let fw_dir = t.path("fw");
    let (child, port) = Child::server(&bin, &[fw_dir.to_str().unwrap()]);
    // Three pieces of 256 KiB as the page sends them, the last one short.
    let size = 600_000usize;
    let out = run_limited(
        Command::new("node")
            .arg(root().join("tests/fs_browser/dashboard_page.mjs"))
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(tools::playwright_dir())
            .arg(size.to_string()),
        Duration::from_secs(90),
        "dashboard_page.mjs",
    );
    assert!(out.status.success(), "browser checks failed\n{}", describe(&out));
    let summary = text(&out.stdout);
    assert!(summary.contains("\"who\":\"admin\""), "{summary}");
    assert!(summary.contains("\"led\":\"on\""), "{summary}");
    let want: Vec<u8> = (0..size).map(|i| ((i * 7 + 3) & 0xff) as u8).collect();
    assert_eq!(std::fs::read(fw_dir.join("fw-browser.bin")).unwrap(), want);
    let f = child.stop();
    f.assert_no_sanitizer_report();
    assert_eq!(f.counters("requests=")["logins"], 1, "{}", f.describe());
}
