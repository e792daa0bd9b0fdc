//! Which readiness backend a manager uses: epoll on Linux, poll(2) with
//! `MEERKAT_POLLER=poll` (scripts/test.sh runs the loop and HTTP tests both ways, and this
//! test makes sure the second pass really is on poll(2)). Alone in its binary, so no other
//! test opens descriptors while it counts them.

mod common;
use common::*;

/// Descriptors of this process that are epoll instances.
fn epoll_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy() == "anon_inode:[eventpoll]")
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn the_manager_polls_with_epoll_unless_told_to_use_poll() {
    let before = epoll_fds();
    let mut m = Mgr::new();
    // The backend must also work: an accepted connection and its close go through it.
    let srv = Recorder::echo();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let c = std::net::TcpStream::connect(("127.0.0.1", port(l))).expect("connect");
    m.poll_until(5, "accept", |_| srv.count(meerkat::ffi::MG_EV_ACCEPT) == 1);
    drop(c);
    m.poll_until(5, "close", |_| srv.count(meerkat::ffi::MG_EV_CLOSE) == 1);
    let during = epoll_fds();
    let want_epoll = std::env::var_os("MEERKAT_POLLER").is_none_or(|v| v != "poll");
    assert_eq!(
        during - before,
        usize::from(want_epoll),
        "MEERKAT_POLLER={:?}",
        std::env::var_os("MEERKAT_POLLER")
    );
    drop(m);
    assert_eq!(epoll_fds(), before, "mg_mgr_free closes the epoll descriptor");
}
