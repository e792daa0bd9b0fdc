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

use common::cbuild::{compile_c, root, run_checks, Flavor};
use std::process::Command;

fn run(flavor: Flavor) {
    run_program("util_api", 60, flavor);
}

fn run_program(name: &str, min_checks: u32, flavor: Flavor) {
    let src = root().join(format!("tests/c/{name}.c"));
    let bin = compile_c(&format!("{name}-{flavor:?}"), &[&src], &[], flavor);
    let stdout = run_checks(&mut Command::new(&bin), name, min_checks);
    assert!(stdout.lines().any(|l| l == "MG_VERSION 7.22"), "{stdout}");
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
