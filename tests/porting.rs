//! Surprises met when porting Mongoose programs, tested as a ported C program sees them
//! (issue 8, items 8, 9, 10, 13): each program is built against `libmeerkat.a` with
//! `-Wall -Wextra -Werror`, run, and must print "N passed, 0 failed" (or what is noted).

mod common;
use common::cbuild::{compile_c, free_port, root, Flavor};
use common::proc::{describe, run_limited, text};
use std::process::Command;
use std::time::Duration;

fn c_test(name: &str) -> std::path::PathBuf {
    root().join("tests/c").join(format!("{name}.c"))
}

/// Build `tests/c/<name>.c`, run it, and check its "N passed, 0 failed" verdict.
fn run_checks(name: &str, flavor: Flavor) -> String {
    let bin = compile_c(&format!("porting-{name}"), &[&c_test(name)], &["-pthread"], flavor);
    let out = run_limited(&mut Command::new(&bin), Duration::from_secs(60), name);
    let report = describe(&out);
    assert!(out.status.success(), "{name} failed\n{report}");
    let stdout = text(&out.stdout);
    let summary = stdout.lines().last().unwrap_or("");
    let passed: u32 = summary
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no \"N passed, 0 failed\" line\n{report}"));
    assert!(passed >= 10, "only {passed} checks ran\n{report}");
    stdout
}

/// Item 9: `mg_mgr_init` on a live manager is `MG_ERR_BUSY` and leaves it untouched (it
/// returned 0 and orphaned the first one); garbage and struct copies are not "live".
#[test]
fn mgr_init_on_a_live_manager_is_refused() {
    run_checks("porting_mgr_init", Flavor::Sanitized);
}

/// Item 10 (G5): the printf family is bounded by the send room before it formats. Plain
/// build: the peak RSS is the point (ASAN's shadow memory would blur it).
#[test]
fn printf_to_a_connection_is_bounded_by_the_send_room() {
    let stdout = run_checks("porting_printf_bound", Flavor::Plain);
    let kb: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss line:\n{stdout}"));
    assert!(
        kb < 64 * 1024,
        "peak RSS {kb} KiB: the output was built before the cap was checked"
    );
}

/// Item 13: `mg_recv` and other empty views are `{NULL, 0}`; `SIZE_MAX` buffer sizes work.
#[test]
fn empty_views_are_null_and_size_max_is_a_bound() {
    run_checks("porting_empty_views", Flavor::Sanitized);
}

/// Item 8: a program that includes only "mongoose.h" and uses the C library, POSIX sockets,
/// time, files and threads compiles warning-free, in strict C99 (with the POSIX feature
/// macro, as any strict build needs) and in the compiler's default GNU mode.
#[test]
fn mongoose_h_brings_in_the_system_headers() {
    let src = c_test("porting_headers");
    for (name, extra) in [
        ("porting-headers-c99", &["-pthread"][..]),
        (
            "porting-headers-gnu",
            &["-pthread", "-std=gnu11", "-U_POSIX_C_SOURCE"][..],
        ),
    ] {
        let bin = compile_c(name, &[&src], extra, Flavor::Plain);
        let out = run_limited(&mut Command::new(&bin), Duration::from_secs(30), name);
        assert!(
            out.status.success() && text(&out.stdout).contains("headers ok 0"),
            "{name}\n{}",
            describe(&out)
        );
    }
}

/// Mongoose 7.22's platform macros (MG_ARCH and its values, MG_BIG_ENDIAN, MG_DIRSEP,
/// mg_mkdir, MG_SOCK_* on a real socket, MG_TLS, MG_IRAM, MG_PUTCHAR) compile and mean on
/// Linux what they mean in Mongoose.
#[test]
fn platform_macros_describe_the_platform() {
    let bin = compile_c("porting-arch", &[&c_test("porting_arch")], &[], Flavor::Plain);
    let dir = common::cbuild::out_dir().join("porting-arch-dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = run_limited(Command::new(&bin).arg(&dir), Duration::from_secs(30), "porting-arch");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        text(&out.stdout),
        "arch unix\ntls yes\nendian-agrees 1\nmkdir 0 1\nio-size-positive 1\niram 42\n\
         pending 1 reset 0 err-set 1\nsuccess-err 0\n!\narch ok\n"
    );
    assert!(dir.join("new-dir").is_dir());
}

/// Item 8: a failed connect is logged at error level by default (it was debug-only, so a
/// ported client exited without a word).
#[test]
fn a_failed_connect_is_logged_as_an_error() {
    let bin = compile_c(
        "porting-connect-fail",
        &[&c_test("porting_connect_fail")],
        &[],
        Flavor::Plain,
    );
    let port = free_port(); // nothing listens there
    let out = run_limited(
        Command::new(&bin).arg(format!("tcp://127.0.0.1:{port}")),
        Duration::from_secs(30),
        "connect-fail",
    );
    let report = describe(&out);
    assert!(out.status.success(), "{report}");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.lines().any(|l| l.contains(" ERROR ") && l.contains("connect")),
        "no error-level log line for the failed connect\n{report}"
    );
}
