//! `mg_wrapfd` and `mg_dscp` from C (`tests/c/wrapfd.c`, Mongoose's names through
//! mongoose.h): a socketpair end, pipe ends and a TCP socket the program connected itself
//! become connections (MG_EV_OPEN, MG_EV_READ with the bytes, mg_send out, MG_EV_CLOSE when
//! the far end leaves, no SIGPIPE from a pipe whose reader left); bad descriptors are refused
//! and stay the caller's; `mg_dscp` sets IP_TOS as getsockopt reads it back. Plain and under
//! ASan + UBSan.

mod common;

use common::cbuild::{compile_c, root, Flavor};
use common::proc::{describe, run_limited};
use std::process::Command;
use std::time::Duration;

fn wrapfd(flavor: Flavor) {
    let src = root().join("tests/c/wrapfd.c");
    let bin = compile_c(&format!("wrapfd-{flavor:?}"), &[&src], &[], flavor);
    let out = run_limited(
        Command::new(&bin)
            .env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
            .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"),
        Duration::from_secs(60),
        "wrapfd",
    );
    let report = describe(&out);
    assert!(out.status.success(), "{report}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdict = stdout.lines().find(|l| l.ends_with(" failed")).expect("a verdict line");
    assert!(verdict.ends_with(", 0 failed"), "{report}");
    let passed: u32 = verdict.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 35, "only {passed} checks ran:\n{report}");
}

#[test]
fn wrapfd_and_dscp_from_c() {
    wrapfd(Flavor::Plain);
}

#[test]
fn wrapfd_and_dscp_from_c_sanitized() {
    wrapfd(Flavor::Sanitized);
}
