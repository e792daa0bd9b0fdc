//! `mg_wrapfd` and `mg_dscp` from C (`tests/c/wrapfd.c`, Mongoose's names through
//! mongoose.h): a socketpair end, pipe ends and a TCP socket the program connected itself
//! become connections (MG_EV_OPEN, MG_EV_READ with the bytes, mg_send out, MG_EV_CLOSE when
//! the far end leaves, no SIGPIPE from a pipe whose reader left); bad descriptors are refused
//! and stay the caller's; `mg_dscp` sets IP_TOS as getsockopt reads it back. Plain and under
//! ASan + UBSan.

mod common;

use common::cbuild::{compile_c, root, run_checks, Flavor};
use std::process::Command;

fn wrapfd(flavor: Flavor) {
    let src = root().join("tests/c/wrapfd.c");
    let bin = compile_c(&format!("wrapfd-{flavor:?}"), &[&src], &[], flavor);
    run_checks(&mut Command::new(&bin), "wrapfd", 35);
}

#[test]
fn wrapfd_and_dscp_from_c() {
    wrapfd(Flavor::Plain);
}

#[test]
fn wrapfd_and_dscp_from_c_sanitized() {
    wrapfd(Flavor::Sanitized);
}
