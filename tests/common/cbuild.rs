//! Building C programs against the freshly built `libmeerkat.a`, as a firmware project would.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Libraries a Rust staticlib needs from the system on Linux (`--print native-static-libs`).
pub const NATIVE_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// Path of `libmeerkat.a`, built (or found fresh) by `cargo build --lib` in this target dir.
pub fn staticlib() -> PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // Drop what `cargo test` set for this test crate: build scripts of dependencies
        // (ring, rustls-ffi) fingerprint some of it and would rebuild on every run.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR") || k == "OUT_DIR" {
                cmd.env_remove(&k);
            }
        }
        let out = cmd
            .current_dir(root())
            .args(["build", "--lib", "--message-format=json-render-diagnostics"])
            .output()
            .expect("run cargo build --lib");
        assert!(
            out.status.success(),
            "cargo build --lib failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .filter(|l| l.contains("\"compiler-artifact\"") && l.contains("\"name\":\"meerkat\""))
            .flat_map(|l| l.split('"').map(str::to_owned).collect::<Vec<_>>())
            .find(|s| s.ends_with("libmeerkat.a"))
            .map(PathBuf::from)
            .expect("libmeerkat.a in cargo's output")
    })
    .clone()
}

/// Where test binaries go: under this target dir's `tmp/`, so that test runs with different
/// `CARGO_TARGET_DIR`s (several people, one checkout) do not overwrite each other's programs.
pub fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-tests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `c-examples/<name>/main.c`, built once per flavor for this test binary (as
/// `<test crate>-<name>`): tests run in parallel and several start the same program, and
/// building it twice into one path while another test runs it would race.
pub fn example(name: &str, flavor: Flavor) -> PathBuf {
    type Slot = Arc<OnceLock<PathBuf>>;
    static BUILT: Mutex<BTreeMap<(String, bool), Slot>> = Mutex::new(BTreeMap::new());
    let slot = BUILT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry((name.to_string(), flavor == Flavor::Sanitized))
        .or_default()
        .clone();
    // The map's lock is released: different programs build in parallel.
    slot.get_or_init(|| {
        let src = root().join("c-examples").join(name).join("main.c");
        compile_c(&format!("{}-{name}", env!("CARGO_CRATE_NAME")), &[&src], &[], flavor)
    })
    .clone()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flavor {
    /// -O1 -g, warnings as errors.
    Plain,
    /// AddressSanitizer + UndefinedBehaviorSanitizer, aborting on the first report.
    Sanitized,
}

/// Compile `sources` (plus any extra flags) into `out_dir()/name`, linked with libmeerkat.a,
/// under `-std=c99 -Wall -Wextra -Werror`. Panics with the compiler's output on failure.
pub fn compile_c(name: &str, sources: &[&Path], extra: &[&str], flavor: Flavor) -> PathBuf {
    let bin = out_dir().join(match flavor {
        Flavor::Plain => name.to_string(),
        Flavor::Sanitized => format!("{name}-asan"),
    });
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-std=c99",
        "-D_POSIX_C_SOURCE=200809L",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-g",
    ]);
    match flavor {
        Flavor::Plain => cmd.arg("-O1"),
        Flavor::Sanitized => cmd.args([
            "-O1",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]),
    };
    cmd.arg("-I").arg(root().join("include"));
    cmd.args(extra);
    cmd.args(sources);
    cmd.arg("-o").arg(&bin);
    cmd.arg(staticlib());
    cmd.args(NATIVE_LIBS);
    let out = cmd.output().expect("run gcc (install gcc)");
    assert!(
        out.status.success(),
        "gcc failed for {name}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run a C program built on `tests/c/check.h` (sanitizers set to stop at their first
/// report), with a time limit, and assert its verdict line: `N passed, 0 failed` with N at
/// least `min`. Its stdout, for further checks.
pub fn run_checks(cmd: &mut Command, what: &str, min: u32) -> String {
    cmd.env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    let out = super::proc::run_limited(cmd, std::time::Duration::from_secs(120), what);
    let report = super::proc::describe(&out);
    assert!(out.status.success(), "{report}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let verdict = stdout
        .lines()
        .find(|l| l.ends_with(" failed"))
        .unwrap_or_else(|| panic!("{what}: no verdict line\n{report}"));
    assert!(verdict.ends_with(", 0 failed"), "{report}");
    let passed: u32 = verdict.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= min, "{what}: only {passed} checks ran\n{report}");
    stdout
}
