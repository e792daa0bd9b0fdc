//! Mongoose 7.22's utility API from C: `tests/c/util_api.c` includes `mongoose.h`, calls the
//! JSON getters, base64, SHA-1/256/384, HMAC, CRC-32, `mg_iobuf_*`, `mg_str_to_num` and
//! `mg_path_is_sane` the way firmware does, and checks published answers. Built against
//! `libmeerkat.a` with `-Wall -Wextra -Werror`, once plain and once under ASan + UBSan
//! (leak checking on: every malloc'ed result must be freed by the program).
//!
//! `tests/c/util_api2.c` does the same for the second part: JSON-RPC, MD5, the caller-driven
//! timers, the SPSC queue with a producer thread, `mg_aton`, `mg_check_ip_acl`, `MG_IPV4`,
//! the `%M` printers, `mg_log_level` and the 7.22 event numbers; `tests/c/util_api3.c` JWT
//! (RFC 7515 examples), base64url, CRC-16, `mg_memeq`, `mg_timegm`, `mg_http_parse`, the byte
//! macros, `mg_call`, `mg_error` and `MG_TIMER_AUTODELETE`.
//!
//! gcc is required: without it these tests fail, they do not skip.

mod common;

use common::cbuild::{compile_c, root, Flavor};
use std::process::Command;

fn run(flavor: Flavor) {
    run_program("util_api", 60, flavor);
}

fn run_program(name: &str, min_checks: u32, flavor: Flavor) {
    let src = root().join(format!("tests/c/{name}.c"));
    let bin = compile_c(&format!("{name}-{flavor:?}"), &[&src], &[], flavor);
    let out = Command::new(&bin)
        .env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .output()
        .expect("run util_api");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "status {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    assert!(stdout.lines().any(|l| l == "MG_VERSION 7.22"), "{report}");
    let verdict = stdout.lines().find(|l| l.ends_with(" failed")).expect("a verdict line");
    assert!(verdict.ends_with(", 0 failed"), "{report}");
    let passed: u32 = verdict.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= min_checks, "only {passed} checks ran:\n{report}");
}

#[test]
fn util_api_from_c() {
    run(Flavor::Plain);
}

#[test]
fn util_api_from_c_sanitized() {
    run(Flavor::Sanitized);
}

#[test]
fn util_api2_from_c() {
    run_program("util_api2", 70, Flavor::Plain);
}

#[test]
fn util_api2_from_c_sanitized() {
    run_program("util_api2", 70, Flavor::Sanitized);
}

#[test]
fn util_api3_from_c() {
    run_program("util_api3", 70, Flavor::Plain);
}

#[test]
fn util_api3_from_c_sanitized() {
    run_program("util_api3", 70, Flavor::Sanitized);
}
