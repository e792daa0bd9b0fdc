//! The CMake package (`CMakeLists.txt`, `cmake/`), used as a C consumer would use it:
//!
//! - `add_subdirectory`: `tests/cmake/consumer` vendors the repository and builds
//!   `c-examples/tcp-echo` against `meerkat::meerkat`; the binary must echo, and must relink
//!   when `libmeerkat.a` changes;
//! - `find_package`: the library is configured, built and installed (`cmake --install`) to a
//!   prefix, then `tests/cmake/find-package` finds it there with
//!   `find_package(meerkat CONFIG REQUIRED)` and builds the same example, which must echo.
//!
//! Needs `cmake` on PATH (`scripts/setup.sh` installs it): without it the tests fail, they do
//! not skip. Work happens in `<target>/cmake-tests/`.
//!
//! Speed: the cargo builds that CMake runs use this crate's own target dir
//! (`MEERKAT_CARGO_TARGET_DIR`), the dev profile (`CMAKE_BUILD_TYPE=Debug`) and the same cargo
//! (`MEERKAT_CARGO`) as `cargo test`, so they find `libmeerkat.a` already built (by
//! `cbuild::staticlib()` here) and cost a fraction of a second each.

// Only the C-build helpers are needed; tests/common/mod.rs does not export them (see
// tests/c_examples.rs), so include the file directly.
#[path = "common/cbuild.rs"]
mod cbuild;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

/// Longest wait for the example to print `listening on`, and for each socket operation.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The cargo target dir `cargo test` uses (where `libmeerkat.a` was just built).
fn cargo_target_dir() -> PathBuf {
    let lib = cbuild::staticlib();
    let profile_dir = lib.parent().expect("libmeerkat.a has a parent dir");
    assert_eq!(
        profile_dir.file_name().and_then(|n| n.to_str()),
        Some("debug"),
        "expected libmeerkat.a in <target>/debug, got {}",
        lib.display()
    );
    profile_dir.parent().expect("<target>/debug has a parent").to_path_buf()
}

/// A fresh work directory `<target>/cmake-tests/<name>`.
fn fresh_dir(name: &str) -> PathBuf {
    let d = cargo_target_dir().join("cmake-tests").join(name);
    if d.exists() {
        std::fs::remove_dir_all(&d).unwrap_or_else(|e| panic!("remove {}: {e}", d.display()));
    }
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    d
}

/// Fails (never skips) when cmake is missing.
fn require_cmake() {
    match Command::new("cmake").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`cmake --version` failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "cmake not found on PATH ({e}): the CMake package tests need it. \
             Install it with scripts/setup.sh (or `apt-get install cmake`)."
        ),
    }
}

/// Runs a cmake command; panics with its full output if it fails. Returns stdout.
fn cmake(what: &str, args: &[&str]) -> String {
    let out = Command::new("cmake")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run cmake: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}): cmake {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `-D` options every configure here gets: shared cargo target dir, dev profile, same cargo.
fn common_defines() -> Vec<String> {
    let mut d = vec![
        "-DCMAKE_BUILD_TYPE=Debug".to_string(),
        format!("-DMEERKAT_CARGO_TARGET_DIR={}", cargo_target_dir().display()),
    ];
    if let Ok(cargo) = std::env::var("CARGO") {
        d.push(format!("-DMEERKAT_CARGO={cargo}"));
    }
    d
}

fn configure(what: &str, src: &Path, build: &Path, extra: &[String]) -> String {
    let mut args = vec![
        "-S".to_string(),
        src.display().to_string(),
        "-B".to_string(),
        build.display().to_string(),
    ];
    args.extend(common_defines());
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cmake(what, &args)
}

fn build(what: &str, dir: &Path) -> String {
    cmake(what, &["--build", &dir.display().to_string()])
}

/// The tcp-echo binary in a consumer's build dir (single- or multi-config generator).
fn echo_binary(build: &Path) -> PathBuf {
    [build.join("tcp-echo"), build.join("Debug").join("tcp-echo")]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no tcp-echo binary under {}", build.display()))
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("mtime of {}: {e}", p.display()))
}

/// A running example; killed and reaped on drop, also when an assertion fails.
struct Server {
    child: Child,
    lines: Receiver<String>,
    /// Everything it printed so far (stdout and stderr), for failure messages.
    log: Vec<String>,
}

impl Server {
    fn spawn(bin: &Path, url: &str) -> Server {
        let mut child = Command::new(bin)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        for (stream, prefix) in [(Box::new(out) as Box<dyn Read + Send>, ""), (Box::new(err), "stderr: ")] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(format!("{prefix}{line}")).is_err() {
                        break;
                    }
                }
            });
        }
        Server {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for `listening on <url>`. Err(output) if the process exits first.
    fn wait_listening(&mut self, url: &str) -> Result<(), String> {
        let want = format!("listening on {url}");
        let end = Instant::now() + START_TIMEOUT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    let done = line.contains(&want);
                    self.log.push(line);
                    if done {
                        return Ok(());
                    }
                }
                Err(e) => {
                    if e == RecvTimeoutError::Disconnected {
                        // Both pipes closed: the process is exiting; give it a moment.
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    if let Some(status) = self.child.try_wait().expect("try_wait") {
                        // Collect what is left of its output.
                        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                            self.log.push(line);
                        }
                        return Err(format!(
                            "exited with {status} before listening:\n{}",
                            self.log.join("\n")
                        ));
                    }
                    assert!(
                        Instant::now() < end,
                        "no `{want}` within {START_TIMEOUT:?}; output so far:\n{}",
                        self.log.join("\n")
                    );
                }
            }
        }
    }

    fn output(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        self.log.join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the example on a free loopback port (a few tries, in case another process takes
/// the port between probing and binding), then checks that it echoes.
fn run_and_check_echo(bin: &Path) {
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = cbuild::free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let mut server = Server::spawn(bin, &url);
        match server.wait_listening(&url) {
            Ok(()) => {
                check_echo(port, &mut server);
                return;
            }
            Err(e) => failures.push(e),
        }
    }
    panic!(
        "{} never started listening:\n{}",
        bin.display(),
        failures.join("\n---\n")
    );
}

fn check_echo(port: u16, server: &mut Server) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}\n{}", server.output()));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    // A greeting plus 64 KiB of patterned bytes: more than one read/write on each side.
    let mut sent = b"hello from a CMake consumer\n".to_vec();
    sent.extend((0..65536u32).map(|i| (i % 251) as u8));
    let reader = {
        let mut r = s.try_clone().unwrap();
        let n = sent.len();
        std::thread::spawn(move || {
            let mut got = vec![0u8; n];
            r.read_exact(&mut got).map(|()| got)
        })
    };
    s.write_all(&sent)
        .unwrap_or_else(|e| panic!("send to tcp-echo: {e}\n{}", server.output()));
    let got = reader
        .join()
        .expect("reader thread")
        .unwrap_or_else(|e| panic!("read the echo back: {e}\n{}", server.output()));
    if let Some(i) = (0..sent.len()).find(|&i| got[i] != sent[i]) {
        panic!(
            "tcp-echo sent back different bytes (first difference at byte {i} of {})\n{}",
            sent.len(),
            server.output()
        );
    }
}

#[test]
fn add_subdirectory_consumer_builds_echoes_and_relinks() {
    require_cmake();
    let root = cbuild::root();
    let build_dir = fresh_dir("consumer");
    let started = Instant::now();

    configure(
        "configure tests/cmake/consumer",
        &root.join("tests/cmake/consumer"),
        &build_dir,
        &[],
    );
    build("build tests/cmake/consumer", &build_dir);
    let bin = echo_binary(&build_dir);
    run_and_check_echo(&bin);

    // A rebuilt libmeerkat.a must relink the consumer. Stand in for a rebuild by making the
    // archive newer than the binary (cargo still sees its output fresh: nothing recompiles).
    let lib = cbuild::staticlib();
    let linked = mtime(&bin);
    while SystemTime::now() <= linked + Duration::from_millis(1100) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::File::options()
        .append(true)
        .open(&lib)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .unwrap_or_else(|e| panic!("touch {}: {e}", lib.display()));
    let out = build("rebuild tests/cmake/consumer", &build_dir);
    assert!(
        mtime(&bin) > linked,
        "tcp-echo was not relinked after libmeerkat.a changed; build output:\n{out}"
    );
    run_and_check_echo(&bin);
    eprintln!("add_subdirectory consumer: {:?}", started.elapsed());
}

#[test]
fn installed_package_found_with_find_package() {
    require_cmake();
    let root = cbuild::root();
    let lib_build = fresh_dir("lib");
    let prefix = fresh_dir("prefix");
    let consumer = fresh_dir("find-package");
    let started = Instant::now();

    configure(
        "configure meerkat (top level)",
        &root,
        &lib_build,
        &[format!("-DCMAKE_INSTALL_PREFIX={}", prefix.display())],
    );
    build("build meerkat (top level)", &lib_build);
    cmake(
        "install meerkat",
        &[
            "--install",
            &lib_build.display().to_string(),
            "--prefix",
            &prefix.display().to_string(),
        ],
    );
    // Every public header (meerkat.h, mongoose.h, rustls.h once the build has it).
    let headers: Vec<_> = std::fs::read_dir(root.join("include"))
        .expect("read include/")
        .map(|e| e.expect("dir entry").file_name())
        .filter(|n| n.to_string_lossy().ends_with(".h"))
        .collect();
    assert!(headers.iter().any(|h| h == "meerkat.h"), "include/meerkat.h missing");
    for header in headers {
        let p = prefix.join("include/meerkat").join(&header);
        assert!(p.is_file(), "{} not installed", p.display());
    }

    let out = configure(
        "configure tests/cmake/find-package",
        &root.join("tests/cmake/find-package"),
        &consumer,
        &[
            format!("-DCMAKE_PREFIX_PATH={}", prefix.display()),
            // Only the prefix: not a package registry entry from some other build.
            "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF".to_string(),
        ],
    );
    let found = out
        .lines()
        .find(|l| l.contains("meerkat ") && l.contains(" found: config "))
        .unwrap_or_else(|| panic!("find-package consumer did not report the package:\n{out}"));
    assert!(
        found.contains(&format!("meerkat {} found", env!("CARGO_PKG_VERSION"))),
        "wrong package version: {found}"
    );
    let prefix_str = prefix.display().to_string();
    assert!(
        found.contains(&format!("config {prefix_str}/")) && found.contains(&format!("library {prefix_str}/")),
        "package not taken from the install prefix {prefix_str}: {found}"
    );

    build("build tests/cmake/find-package", &consumer);
    run_and_check_echo(&echo_binary(&consumer));
    eprintln!("find_package consumer: {:?}", started.elapsed());
}
