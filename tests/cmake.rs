//! The CMake package (`CMakeLists.txt`, `cmake/`), used as a C consumer would use it:
//!
//! - `add_subdirectory`: `tests/cmake/consumer` vendors the repository and builds
//!   `c-examples/tcp-echo` against `meerkat::meerkat`; the binary must echo, and must relink
//!   when `libmeerkat.a` changes; it also packs a web root with `meerkat_pack()` (gzip);
//! - `find_package`: the library is configured, built and installed (`cmake --install`) to a
//!   prefix, then `tests/cmake/find-package` finds it there with
//!   `find_package(meerkat CONFIG REQUIRED)` and builds the same example, which must echo.
//!
//! - `pkg-config`: the same install, found by `pkg-config --cflags --libs meerkat` from a plain
//!   Makefile (`tests/cmake/pkg-config/Makefile`) building `c-examples/tcp-echo`, which must echo.
//!
//! Needs `cmake` on PATH (`scripts/setup.sh` installs it): without it the tests fail, they do
//! not skip. Work happens in `<target>/cmake-tests/`.
//!
//! Speed: the cargo builds that CMake runs use this crate's own target dir
//! (`MEERKAT_CARGO_TARGET_DIR`), the dev profile (`CMAKE_BUILD_TYPE=Debug`) and the same cargo
//! (`MEERKAT_CARGO`) as `cargo test`, so they find `libmeerkat.a` already built (by
//! `cbuild::staticlib()` here) and cost a fraction of a second each.

mod common;

use common::cbuild;
use common::example::{Child, STEP};
use common::proc::{describe, run_limited};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// How long one cmake run (configure, build, install) may take.
const CMAKE_LIMIT: Duration = Duration::from_secs(600);

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
    if let Err(e) = Command::new("cmake").arg("--version").output() {
        panic!(
            "cmake not found on PATH ({e}): the CMake package tests need it. \
             Install it with scripts/setup.sh (or `apt-get install cmake`)."
        );
    }
}

/// Runs a cmake command (bounded by `CMAKE_LIMIT`); panics with its full output if it
/// fails. Returns stdout.
fn cmake(what: &str, args: &[&str]) -> String {
    let out = run_limited(Command::new("cmake").args(args), CMAKE_LIMIT, what);
    assert!(
        out.status.success(),
        "{what} failed: cmake {}\n{}",
        args.join(" "),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// Starts the example on a free loopback port, checks that it echoes, and stops it with
/// SIGTERM: it must exit with 0 after "bye".
fn run_and_check_echo(bin: &Path) {
    let (server, port) = Child::server_with(bin, "tcp", None, &[]);
    if let Err(e) = check_echo(port) {
        panic!("{e}\n{}", server.kill().describe());
    }
    server.stop();
}

fn check_echo(port: u16) -> Result<(), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect to port {port}: {e}"))?;
    s.set_read_timeout(Some(STEP)).unwrap();
    s.set_write_timeout(Some(STEP)).unwrap();
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
    s.write_all(&sent).map_err(|e| format!("send to tcp-echo: {e}"))?;
    let got = reader
        .join()
        .expect("reader thread")
        .map_err(|e| format!("read the echo back: {e}"))?;
    match got.iter().zip(&sent).position(|(a, b)| a != b) {
        Some(i) => Err(format!(
            "tcp-echo sent back different bytes (first difference at byte {i} of {})",
            sent.len()
        )),
        None => Ok(()),
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

    // meerkat_pack() turned tests/cmake/consumer/web_root into packed_fs.c (gzip): the
    // program finds each file as NAME.gz, not as NAME.
    let packed = build_dir.join("packed");
    let out = run_limited(&mut Command::new(&packed), Duration::from_secs(30), "packed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", describe(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "/web/index.html 0", "{text}");
    let gz: u64 = lines[1]
        .strip_prefix("/web/css/style.css.gz ")
        .expect(&text)
        .parse()
        .unwrap();
    assert!(gz > 20, "{text}");
    assert_eq!(lines[2], "/web/css/style.css 0", "{text}");

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

    // The same install through pkg-config: a plain Makefile builds c-examples/tcp-echo with
    // `pkg-config --cflags --libs meerkat`, and the binary must echo.
    let pc_dir = std::fs::read_dir(&prefix)
        .expect("read prefix")
        .map(|e| e.expect("dir entry").path())
        .flat_map(|d| walk_for(&d, "meerkat.pc"))
        .next()
        .unwrap_or_else(|| panic!("no meerkat.pc under {prefix_str}"));
    let pc_dir = pc_dir.parent().unwrap().to_path_buf();
    let pc = std::fs::read_to_string(pc_dir.join("meerkat.pc")).unwrap();
    assert!(pc.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))), "{pc}");
    let make_dir = fresh_dir("pkg-config");
    let bin = make_dir.join("tcp-echo");
    let out = run_limited(
        Command::new("make")
            .arg("-f")
            .arg(root.join("tests/cmake/pkg-config/Makefile"))
            .arg(format!("SRC={}", root.join("c-examples/tcp-echo/main.c").display()))
            .arg(format!("OUT={}", bin.display()))
            .env("PKG_CONFIG_PATH", &pc_dir)
            .current_dir(&make_dir),
        CMAKE_LIMIT,
        "make (pkg-config)",
    );
    assert!(out.status.success(), "make with pkg-config failed:\n{}", describe(&out));
    let cflags = run_limited(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "meerkat"])
            .env("PKG_CONFIG_PATH", &pc_dir),
        Duration::from_secs(30),
        "pkg-config",
    );
    let flags = String::from_utf8_lossy(&cflags.stdout).to_string();
    // The include directory (pkg-config leaves `${pcfiledir}/../..` as it is) is the
    // installed one.
    let inc = flags
        .split_whitespace()
        .find_map(|f| f.strip_prefix("-I"))
        .unwrap_or_else(|| panic!("no -I in pkg-config's output: {flags}"));
    assert_eq!(
        std::fs::canonicalize(inc).unwrap(),
        std::fs::canonicalize(prefix.join("include/meerkat")).unwrap(),
        "pkg-config: {flags}"
    );
    run_and_check_echo(&bin);
}

/// Files named `name` under `dir`, depth first.
fn walk_for(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                found.extend(walk_for(&p, name));
            } else if p.file_name().is_some_and(|n| n == name) {
                found.push(p);
            }
        }
    }
    found
}
