//! The C examples (`c-examples/*/main.c`) and `tests/c/reentrancy.c`, built against
//! `libmeerkat.a` the way firmware builds them (plain, and with AddressSanitizer + UBSan),
//! run as separate processes, and driven by real clients over 127.0.0.1.
//!
//! What is asserted is what a user sees: bytes on the wire, lines printed, exit status, and
//! no sanitizer report on stderr. LeakSanitizer works in this environment (ptrace is
//! allowed), so sanitized runs use `detect_leaks=1`: a leak at exit fails the test.
//!
//! Every wait is bounded; a child still running when a test fails is killed (`Child` guard).
//! gcc is required (as for the other C tests): without it these tests fail, they do not skip.

mod common;

use common::cbuild::{compile_c, example, free_port, root, Flavor};
use common::data::pattern;
use common::example::{Child, STEP};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the example");
    s.set_read_timeout(Some(STEP)).unwrap();
    s.set_write_timeout(Some(STEP)).unwrap();
    s
}

// ---- tcp-echo --------------------------------------------------------------------------

fn tcp_echo(flavor: Flavor) {
    const CLIENTS: usize = 32;
    let (child, port) = Child::server_with(&example("tcp-echo", flavor), "tcp", None, &[]);

    // Many clients at once, sizes from 0 bytes to past the socket buffers, written in
    // uneven chunks while the echo is read concurrently: every byte must come back, in order.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            std::thread::spawn(move || {
                let len = match i % 4 {
                    0 => i,
                    1 => 1000 + i,
                    2 => 64 * 1024 + i,
                    _ => 256 * 1024 + 13 * i,
                };
                let data = pattern(i as u64 + 1, len);
                let mut s = connect(port);
                let mut w = s.try_clone().unwrap();
                let sent = data.clone();
                let writer = std::thread::spawn(move || {
                    let mut off = 0;
                    let mut k = i;
                    while off < sent.len() {
                        k = (k * 7 + 3) % 16384;
                        let n = (k + 1).min(sent.len() - off);
                        w.write_all(&sent[off..off + n]).unwrap();
                        off += n;
                    }
                    w.shutdown(Shutdown::Write).unwrap();
                });
                let mut got = Vec::new();
                s.read_to_end(&mut got)
                    .unwrap_or_else(|e| panic!("client {i}: read: {e}"));
                writer.join().unwrap();
                assert!(
                    got == data,
                    "client {i}: sent {} bytes, got {} back (first difference at {:?})",
                    data.len(),
                    got.len(),
                    got.iter().zip(&data).position(|(a, b)| a != b)
                );
            })
        })
        .collect();
    for c in clients {
        c.join().expect("echo client");
    }

    let f = child.stop();
    // One MG_INFO line when each client was accepted, one when it closed.
    let accepted = f
        .stdout
        .iter()
        .filter(|l| l.contains(" accepted from 127.0.0.1:"))
        .count();
    let closed = f
        .stdout
        .iter()
        .filter(|l| l.contains(" INFO ") && l.ends_with(" closed"))
        .count();
    assert_eq!((accepted, closed), (CLIENTS, CLIENTS), "{}", f.describe());
}

#[test]
fn tcp_echo_plain() {
    tcp_echo(Flavor::Plain);
}

#[test]
fn tcp_echo_sanitized() {
    tcp_echo(Flavor::Sanitized);
}

// ---- multi-threaded --------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leave {
    /// Send every request, read every reply, then close.
    Normally,
    /// After the first reply, send two more requests and close at once (FIN).
    EarlyFin,
    /// The same, but reset the connection (RST: SO_LINGER 0).
    EarlyRst,
}

/// One client of the multi-threaded example. Returns how many replies it read.
fn mt_client(port: u16, id: usize, leave: Leave, nonce: u64) -> usize {
    const LINES: usize = 5;
    let reqs: Vec<String> = (0..LINES)
        .map(|k| format!("client-{id}-req-{k}-{nonce:016x}"))
        .collect();
    let s = connect(port);
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut read_reply = |k: usize| {
        let mut line = String::new();
        r.read_line(&mut line)
            .unwrap_or_else(|e| panic!("client {id}: reply {k}: {e}"));
        assert_eq!(line, format!("ok {}\n", reqs[k]), "client {id}: reply {k}");
    };
    match leave {
        Leave::Normally => {
            // All requests pipelined, cut at odd places: the server reassembles the lines.
            let all: String = reqs.iter().map(|q| format!("{q}\n")).collect();
            for chunk in all.as_bytes().chunks(7 + id % 11) {
                w.write_all(chunk).unwrap();
            }
            for k in 0..LINES {
                read_reply(k);
            }
            w.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).unwrap();
            assert!(
                rest.is_empty(),
                "client {id}: unexpected bytes after the last reply: {rest:?}"
            );
            LINES
        }
        Leave::EarlyFin | Leave::EarlyRst => {
            w.write_all(format!("{}\n", reqs[0]).as_bytes()).unwrap();
            read_reply(0);
            w.write_all(format!("{}\n{}\n", reqs[1], reqs[2]).as_bytes()).unwrap();
            if leave == Leave::EarlyRst {
                socket2::SockRef::from(&w).set_linger(Some(Duration::ZERO)).unwrap();
            }
            drop(w);
            drop(r);
            1
        }
    }
}

fn multi_threaded(flavor: Flavor) {
    const CLIENTS: usize = 50;
    let (child, port) = Child::server_with(&example("multi-threaded", flavor), "tcp", None, &[]);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let leave = |i: usize| match i % 10 {
        0 => Leave::EarlyFin,
        5 => Leave::EarlyRst,
        _ => Leave::Normally,
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let nonce = seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
            std::thread::spawn(move || mt_client(port, i, leave(i), nonce))
        })
        .collect();
    let read: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
    let early = (0..CLIENTS).filter(|&i| leave(i) != Leave::Normally).count();
    assert_eq!(read, (CLIENTS - early) * 5 + early);

    // The early leavers' last requests are with the workers for at most 50 ms more.
    std::thread::sleep(Duration::from_millis(300));
    let f = child.stop();
    let c = f.counters("requests=");
    let get = |k: &str| {
        *c.get(k)
            .unwrap_or_else(|| panic!("counter {k} missing\n{}", f.describe()))
    };
    let (requests, replies, stale, undelivered, dropped, failed) = (
        get("requests"),
        get("replies"),
        get("stale"),
        get("undelivered"),
        get("dropped"),
        get("failed"),
    );
    let ctx = f.describe();
    // Every request was answered, or its reply was refused because its client had gone.
    assert_eq!(
        requests,
        replies + stale + undelivered + dropped + failed,
        "counters add up\n{ctx}"
    );
    assert_eq!(dropped, 0, "nothing left in the queue after the pause\n{ctx}");
    assert!(replies >= read as u64, "every reply a client read was counted\n{ctx}");
    // Each early leaver had at most two more requests taken (one at a time per connection).
    assert!(
        requests >= read as u64 && requests <= (read + 2 * early) as u64,
        "{ctx}"
    );
    // A connection handle that outlived its client: mg_wakeup said MG_ERR_STALE.
    assert!(
        stale >= 1,
        "the early leavers made mg_wakeup return MG_ERR_STALE\n{ctx}"
    );
    assert!(failed <= early as u64, "{ctx}");
}

#[test]
fn multi_threaded_plain() {
    multi_threaded(Flavor::Plain);
}

#[test]
fn multi_threaded_sanitized() {
    multi_threaded(Flavor::Sanitized);
}

// ---- timers ----------------------------------------------------------------------------

fn timers(flavor: Flavor) {
    let bin = example("timers", flavor);
    let url = format!("tcp://127.0.0.1:{}", free_port());
    let t0 = Instant::now();
    let f = Child::start(&bin, &[&url]).finish();
    let took = t0.elapsed();
    f.assert_clean_exit();
    let mut want = vec![
        format!("listening on {url}"),
        "repeat: call 1 (MG_TIMER_RUN_NOW: at the first poll), adding a 300 ms timer".into(),
        "repeat: call 2, cancelling the 300 ms timer: mg_timer_free = 0".into(),
        "repeat: call 3, freeing itself: mg_timer_free = 0".into(),
        "repeat: added a 200 ms one-shot timer".into(),
        "once: fired after 200 ms".into(),
        "once: mg_timer_free(repeat timer) = MG_ERR_STALE (it freed itself)".into(),
        "once: mg_timer_free(cancelled timer) = MG_ERR_STALE".into(),
        "once: mg_timer_free(itself) = 0 (safe in its own callback)".into(),
        "client: connected, tick timer every 200 ms".into(),
    ];
    for n in 1..=4 {
        want.push(format!("tick {n}"));
        want.push(format!("server: got tick {n}"));
    }
    want.extend(
        [
            "tick 5",
            "client: 5 ticks sent, draining (close once sent)",
            "client: closed",
            "server: got tick 5",
            "server: client closed after 5 lines",
            "finish: mg_timer_free(tick timer) = MG_ERR_STALE (it died with its connection)",
            "stats: live_conns=1 (the listener) live_timers=0",
            "mg_mgr_free = 0",
            "bye",
        ]
        .map(String::from),
    );
    assert_eq!(f.stdout, want, "transcript\n{}", f.describe());
    // 100 + 200 ms to the one-shot timer, 5 ticks of 200 ms, 450 ms after the close: no timer
    // may fire early, and the program stops by itself.
    assert!(took >= Duration::from_millis(1700), "finished too early: {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn timers_plain() {
    timers(Flavor::Plain);
}

#[test]
fn timers_sanitized() {
    timers(Flavor::Sanitized);
}

// ---- re-entrancy -----------------------------------------------------------------------

/// tests/c/reentrancy.c: handlers that close, connect, send to others, free timers and call
/// the manager re-entrantly; it checks the events that follow and prints "N passed, 0 failed".
#[test]
fn reentrancy_sanitized() {
    let src = root().join("tests/c/reentrancy.c");
    let bin = compile_c("reentrancy", &[&src], &[], Flavor::Sanitized);
    let f = Child::start(&bin, &[]).finish();
    f.assert_clean_exit();
    let last = f.stdout.last().cloned().unwrap_or_default();
    let passed: u32 = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line should be \"N passed, 0 failed\"\n{}", f.describe()));
    // The count is the same on every run (169 when written); the program prints its last
    // line only after every scenario ran, so this is a floor against a gutted program.
    assert!(passed >= 150, "only {passed} checks ran\n{}", f.describe());
}

// ---- sntp-time, mdns-responder, modbus-server ------------------------------------------

fn netproto_script(name: &str) -> String {
    root().join("tests/netproto").join(name).display().to_string()
}

/// A Python peer from tests/netproto (pymodbus installed into target/pyenv), with the
/// port from its "port N" line when it prints one.
fn python() -> std::path::PathBuf {
    common::tools::python_with("pymodbus", "pymodbus==3.*")
}

fn sntp_time(flavor: Flavor) {
    let mut server = Child::start(&python(), &[&netproto_script("sntp_server.py"), "good"]);
    let port = server.wait_line("port", |l| l.starts_with("port "))[5..].to_string();
    let url = format!("udp://127.0.0.1:{port}");
    let f = Child::start(&example("sntp-time", flavor), &[&url]).finish();
    f.assert_no_sanitizer_report();
    assert!(f.status.success(), "{}", f.describe());
    // The responder's good reply says 1700000000123 ms; the four bad ones before it say
    // 1..4 ms past 1900 and must have been refused.
    let t: u64 = f
        .stdout
        .iter()
        .find_map(|l| {
            l.strip_prefix("SNTP time: ")?
                .strip_suffix(" ms since epoch")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no SNTP time line\n{}", f.describe()));
    assert!(
        (1_700_000_000_123..1_700_000_001_123).contains(&t),
        "{t}\n{}",
        f.describe()
    );
    let now: u64 = f
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("mg_now: ")?.parse().ok())
        .unwrap_or_else(|| panic!("no mg_now line\n{}", f.describe()));
    assert!((t..t + 1000).contains(&now), "{now}\n{}", f.describe());
    assert_eq!(f.stdout.last().map(String::as_str), Some("bye"), "{}", f.describe());
}

#[test]
fn sntp_time_plain() {
    sntp_time(Flavor::Plain);
}

#[test]
fn sntp_time_sanitized() {
    sntp_time(Flavor::Sanitized);
}

fn mdns_responder(flavor: Flavor) {
    let port = free_port();
    let url = format!("udp://127.0.0.1:{port}");
    let mut child = Child::start(&example("mdns-responder", flavor), &["meerkat-test", &url]);
    child.wait_line("listening", |l| {
        l == format!("mDNS responder for meerkat-test.local on {url}")
    });
    let py = python();
    for (name, want) in [
        ("meerkat-test.local", "answer meerkat-test.local 127.0.0.1 10"),
        ("someone-else.local", "no answer"),
    ] {
        let f = Child::start(&py, &[&netproto_script("mdns_query.py"), &port.to_string(), name]).finish();
        assert!(f.status.success(), "{}", f.describe());
        assert_eq!(f.stdout, [want], "{name}: {}", f.describe());
    }
    child.wait_line("request", |l| l == "request meerkat-test");
    let f = child.stop();
    f.assert_no_sanitizer_report();
    assert_eq!(
        f.stdout.iter().filter(|l| l.starts_with("request")).count(),
        1,
        "{}",
        f.describe()
    );
}

#[test]
fn mdns_responder_plain() {
    mdns_responder(Flavor::Plain);
}

#[test]
fn mdns_responder_sanitized() {
    mdns_responder(Flavor::Sanitized);
}

fn modbus_server(flavor: Flavor) {
    let (child, port) = Child::server_with(&example("modbus-server", flavor), "tcp", None, &[]);
    let f = Child::start(&python(), &[&netproto_script("modbus_client.py"), &port.to_string()]).finish();
    assert!(f.status.success(), "{}", f.describe());
    common::data::assert_modbus_transcript(&f.stdout, &|| f.describe());
    let s = child.stop();
    s.assert_no_sanitizer_report();
    let writes: Vec<&str> = s
        .stdout
        .iter()
        .filter(|l| l.starts_with("write"))
        .map(|l| l.as_str())
        .collect();
    assert_eq!(
        writes,
        [
            "write regs 5: 4242",
            "write regs 20: 1 2 3",
            "write coils 3: 1",
            "write coils 8: 1 0 1 1 0 0 0 0 1"
        ],
        "{}",
        s.describe()
    );
}

#[test]
fn modbus_server_plain() {
    modbus_server(Flavor::Plain);
}

#[test]
fn modbus_server_sanitized() {
    modbus_server(Flavor::Sanitized);
}
