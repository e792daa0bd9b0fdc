//! The C printf shim (`src/shim/meerkat_shim.c`), tested from C.
//!
//! `tests/c/printf_test.c` is compiled together with the shim by gcc, with warnings as errors
//! and the address and undefined-behaviour sanitizers, then run. It carries its own test double
//! for the Rust functions the shim and its logging macros call (`mg_send`, `mg_http_reply_n`,
//! `mg_http_write_chunk`, `mg_log_prefix`, `mg_log_write`), so what is tested is exactly the
//! C code that ends up in `libmeerkat.a`. The C program
//! checks exact outputs (standard conversions differentially against the C library's
//! `snprintf`) and reports "N passed, M failed".
//!
//! gcc is required: without it these tests fail, they do not skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gcc_works() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn require_gcc() {
    assert!(
        gcc_works(),
        "`gcc` was not found on PATH: it is needed to build and run the C printf shim tests \
         (tests/c/printf_test.c); install gcc (CI does)"
    );
}

/// Compile `tests/c/<test>` + the shim into `exe` with the given extra flags.
fn compile(exe: &Path, test: &str, extra: &[&str]) -> Output {
    let root = root();
    let header = root.join("include/meerkat.h");
    assert!(
        header.exists(),
        "{} is missing: generate the header first",
        header.display()
    );
    Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-pthread"])
        .args(extra)
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("src/shim"))
        .arg(root.join("tests/c").join(test))
        .arg(root.join("src/shim/meerkat_shim.c"))
        .arg("-o")
        .arg(exe)
        .arg("-lm")
        .output()
        .expect("failed to start gcc")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("create test output directory");
    dir
}

/// Run the compiled test program and check its verdict.
fn run_and_check(exe: &Path) {
    let out = Command::new(exe)
        .env("ASAN_OPTIONS", "abort_on_error=0:halt_on_error=1:detect_leaks=1")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .output()
        .expect("failed to run the C printf test program");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!("status: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status);

    assert!(out.status.success(), "C printf tests failed\n{report}");
    // mg_pfn_stdout wrote this through putchar.
    assert!(
        stdout.lines().any(|l| l == "pfn_stdout: ok 42"),
        "no mg_pfn_stdout line\n{report}"
    );
    let summary = stdout.lines().last().unwrap_or("");
    let passed = summary
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no \"N passed, 0 failed\" summary line\n{report}"));
    // The differential checks alone number in the tens of thousands; a much smaller count
    // means tests were silently skipped.
    assert!(passed > 10_000, "only {passed} checks ran\n{report}");
    println!("{summary}");
}

#[test]
fn c_printf_shim_under_asan_and_ubsan() {
    require_gcc();
    let exe = out_dir("printf_test").join("printf_test");
    let out = compile(
        &exe,
        "printf_test.c",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ],
    );
    assert!(
        out.status.success(),
        "compiling tests/c/printf_test.c + src/shim/meerkat_shim.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_and_check(&exe);
}

/// GCC's optimisation flag for the shim in the footprint build (build.rs: `-Oz` where GCC
/// takes it, else `-Os`).
fn footprint_opt_level() -> &'static str {
    // An empty C file compiled to nowhere: no files of its own, which the two tests that
    // ask would write at once.
    let oz = Command::new("gcc")
        .args(["-Oz", "-x", "c", "-c", "/dev/null", "-o", "/dev/null"])
        .output()
        .is_ok_and(|o| o.status.success());
    if oz {
        "-Oz"
    } else {
        "-Os"
    }
}

/// The same program with the shim optimised as the footprint build ships it (build.rs: GCC
/// `-Oz` where GCC has it, else `-Os`): the runs above are unoptimised, and a shim change that
/// is wrong only once optimised (h-printf's reordered conversion letters were caught by hand
/// at `-Oz`) must fail here.
#[test]
fn c_printf_shim_optimised_as_shipped() {
    require_gcc();
    let level = footprint_opt_level();
    let exe = out_dir("printf_test_oz").join("printf_test");
    let out = compile(
        &exe,
        "printf_test.c",
        &[level, "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
    );
    assert!(
        out.status.success(),
        "compiling tests/c/printf_test.c + the shim at {level} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_and_check(&exe);
}

/// The same program on a 32-bit target (`size_t`, `long` and pointers of 32 bits), when gcc has
/// multilib support here; skipped (with a note) otherwise.
#[test]
fn c_printf_shim_on_32_bit_if_available() {
    require_gcc();
    let dir = out_dir("printf_test_m32");
    let probe_src = dir.join("probe.c");
    std::fs::write(&probe_src, "int main(void) { return 0; }\n").expect("write probe");
    let probe = Command::new("gcc")
        .arg("-m32")
        .arg(&probe_src)
        .arg("-o")
        .arg(dir.join("probe"))
        .output()
        .expect("failed to start gcc");
    if !probe.status.success() {
        eprintln!("skipping the -m32 run: gcc here cannot build 32-bit programs (no multilib)");
        return;
    }
    let exe = dir.join("printf_test");
    // Prefer sanitizers; 32-bit sanitizer runtimes are often not installed.
    let mut out = compile(
        &exe,
        "printf_test.c",
        &["-m32", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
    );
    if !out.status.success() {
        out = compile(&exe, "printf_test.c", &["-m32"]);
    }
    assert!(
        out.status.success(),
        "compiling the C printf tests with -m32 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_and_check(&exe);
}

/// The shim as build.rs compiles it without the `printf-wide` and `printf-json` features
/// (`MK_NO_PRINTF_WIDE`, `MK_NO_PRINTF_JSON`; the footprint build): `tests/c/printf_minimal.c`
/// checks that `%lc`, `%ls`, the long double floats, `%Q`, `%q`, `%H` and `%V` print their
/// specification as written, consuming their arguments, and that the other conversions are
/// unchanged. Optimised as the footprint build compiles it.
#[test]
fn c_printf_shim_without_printf_features() {
    require_gcc();
    let exe = out_dir("printf_minimal").join("printf_minimal");
    let out = compile(
        &exe,
        "printf_minimal.c",
        &[
            footprint_opt_level(),
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-DMK_NO_PRINTF_WIDE",
            "-DMK_NO_PRINTF_JSON",
            // Only the formatting functions are linked: nothing calls the Rust functions.
            "-ffunction-sections",
            "-Wl,--gc-sections",
        ],
    );
    assert!(
        out.status.success(),
        "compiling tests/c/printf_minimal.c + the shim failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("run printf_minimal");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout == "ok\n",
        "printf_minimal failed: {}\n{stdout}{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
}
