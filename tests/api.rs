//! The C API's contracts for timers, wakeups, limits, threads and bad input, exercised through
//! the exported functions exactly as C calls them.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::error::*;
use meerkat::ffi::http::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::serve::*;
use meerkat::ffi::timer::*;
#[cfg(feature = "tls")]
use meerkat::ffi::tls::*;
use meerkat::ffi::*;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

// ---- timers --------------------------------------------------------------------------

thread_local! {
    static FIRED: RefCell<Vec<(usize, u64)>> = const { RefCell::new(Vec::new()) };
    static TO_FREE: RefCell<Vec<mg_timer>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn note(arg: *mut c_void) {
    FIRED.with(|f| f.borrow_mut().push((arg as usize, meerkat::util::clock::millis())));
}

unsafe extern "C" fn note_and_free_listed(arg: *mut c_void) {
    note(arg);
    for t in TO_FREE.with(|l| l.borrow_mut().drain(..).collect::<Vec<_>>()) {
        assert_eq!(mg_timer_free(t), 0);
    }
}

fn fired(id: usize) -> usize {
    FIRED.with(|f| f.borrow().iter().filter(|(a, _)| *a == id).count())
}

/// `mg_timer_free(t)` called from a new thread (that owns no manager).
fn timer_free_elsewhere(t: mg_timer) -> c_int {
    std::thread::spawn(move || mg_timer_free(t)).join().unwrap()
}

fn tag(n: usize) -> *mut c_void {
    n as *mut c_void
}

#[test]
fn timers_once_repeat_run_now_and_free_inside_callback() {
    let mut m = Mgr::new();
    let once = mg_timer_add(m.ptr(), 30, MG_TIMER_ONCE, Some(note), tag(1));
    let rep = mg_timer_add(m.ptr(), 20, MG_TIMER_REPEAT, Some(note), tag(2));
    let now = mg_timer_add(m.ptr(), 10_000, MG_TIMER_RUN_NOW, Some(note), tag(3));
    assert!(once.h != 0 && rep.h != 0 && now.h != 0);
    m.poll(0);
    assert_eq!(fired(3), 1, "RUN_NOW fires at the first poll");
    m.poll_until(5, "repeat fires 4 times", |_| fired(2) >= 4);
    assert_eq!(fired(1), 1, "one-shot fired once");
    assert_eq!(
        timer_free_elsewhere(rep),
        MG_ERR_WRONG_THREAD,
        "alive, in another thread's manager"
    );
    assert_eq!(timer_free_elsewhere(once), MG_ERR_STALE, "gone for every thread");
    assert_eq!(mg_timer_free(once), MG_ERR_STALE, "a fired one-shot timer is gone");
    assert_eq!(mg_timer_free(rep), 0);
    assert_eq!(mg_timer_free(rep), MG_ERR_STALE);
    assert_eq!(timer_free_elsewhere(rep), MG_ERR_STALE);
    let n = fired(2);
    std::thread::sleep(Duration::from_millis(50));
    m.poll(0);
    assert_eq!(fired(2), n, "a freed timer never fires again");

    // A repeating timer that frees itself and another timer due in the same poll. The
    // RUN_NOW one is added first, so it is due first however long the machine takes between
    // the two calls (added second, a loaded machine could take over 1 ms and make the victim
    // due first).
    let selfish = mg_timer_add(
        m.ptr(),
        1,
        MG_TIMER_REPEAT | MG_TIMER_RUN_NOW,
        Some(note_and_free_listed),
        tag(4),
    );
    let victim = mg_timer_add(m.ptr(), 1, MG_TIMER_ONCE, Some(note), tag(5));
    TO_FREE.with(|l| l.borrow_mut().extend([selfish, victim]));
    std::thread::sleep(Duration::from_millis(5));
    m.poll(0);
    m.poll(20);
    assert_eq!(fired(4), 1);
    assert_eq!(fired(5), 0, "freed by the other timer's callback before its turn");
    assert_eq!(
        m.stats().live_timers,
        0,
        "one-shot timers (RUN_NOW included) are freed after firing"
    );
}

#[test]
fn timer_bad_input() {
    let mut m = Mgr::new();
    assert_eq!(mg_timer_add(m.ptr(), 10, 0, None, std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_ERR_INVALID);
    assert_eq!(mg_timer_add(m.ptr(), 10, 0x80, Some(note), std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_ERR_INVALID);
    assert_eq!(
        mg_timer_add(std::ptr::null_mut(), 10, 0, Some(note), std::ptr::null_mut()).h,
        0
    );
    assert_eq!(mg_last_error(), MG_ERR_INVALID);
    assert_eq!(mg_timer_free(mg_timer { h: 0 }), MG_ERR_STALE);
    assert_eq!(mg_timer_free(mg_timer { h: u64::MAX }), MG_ERR_STALE);
    assert_eq!(
        mg_timer_add_conn(mg_conn { h: 12345 << 16 }, 10, 0, None, std::ptr::null_mut()).h,
        0
    );
}

unsafe extern "C" fn conn_tick(c: mg_conn, arg: *mut c_void) {
    let n = unsafe { &mut *(arg as *mut u32) };
    *n += 1;
    assert_ne!(mg_conn_id(c), 0, "the owner is alive whenever its timer fires");
}

#[test]
fn connection_timers_die_with_their_connection() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let mut ticks = [0u32; 3];
    let timers: Vec<mg_timer> = (0..3)
        .map(|i| {
            mg_timer_add_conn(
                l,
                5,
                MG_TIMER_REPEAT,
                Some(conn_tick),
                &mut ticks[i] as *mut u32 as *mut c_void,
            )
        })
        .collect();
    assert_eq!(m.stats().live_timers, 3);
    m.poll_until(5, "ticks", |_| ticks.iter().all(|t| *t >= 2));
    let at_close = ticks;
    std::thread::sleep(Duration::from_millis(20)); // all three are due now
    mg_close(l);
    m.poll(0);
    assert_eq!(ticks, at_close, "a closing connection's timers do not fire");
    assert_eq!(m.stats().live_timers, 0, "closing the connection freed its timers");
    for t in timers {
        assert_eq!(mg_timer_free(t), MG_ERR_STALE);
        assert_eq!(timer_free_elsewhere(t), MG_ERR_STALE, "gone for other threads too");
    }
    let before = ticks;
    std::thread::sleep(Duration::from_millis(20));
    m.poll(0);
    assert_eq!(ticks, before);
    assert_eq!(mg_timer_add_conn(l, 5, 0, Some(conn_tick), std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_ERR_STALE);
}

// ---- wakeups ---------------------------------------------------------------------------

unsafe extern "C" fn count_undelivered(_c: mg_conn, data: *mut mg_str, arg: *mut c_void) {
    let v = unsafe { &mut *(arg as *mut Vec<Vec<u8>>) };
    let s = unsafe { &*data };
    v.push(unsafe { std::slice::from_raw_parts(s.buf as *const u8, s.len) }.to_vec());
}

struct SendPtr(*mut mg_mgr);
unsafe impl Send for SendPtr {}

#[test]
fn wakeups_from_threads_arrive_in_order_only_to_their_target() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let port = port(l);
    let clients: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    m.poll_until(5, "accept 4", |_| srv.count(MG_EV_ACCEPT) == 4);
    let conns: Vec<mg_conn> = srv
        .events
        .borrow()
        .iter()
        .filter(|e| e.ev == MG_EV_ACCEPT)
        .map(|e| mg_conn { h: e.conn })
        .collect();

    let threads: Vec<_> = conns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = *c;
            let mp = SendPtr(m.ptr());
            std::thread::spawn(move || {
                let mp = mp;
                for j in 0..200u32 {
                    let msg = format!("{i}:{j};");
                    loop {
                        match mg_wakeup(mp.0, c, msg.as_ptr().cast(), msg.len()) {
                            0 => break,
                            MG_ERR_FULL => std::thread::yield_now(),
                            e => panic!("mg_wakeup: {e}"),
                        }
                    }
                }
                // Calls other than the wakeups are refused on this thread.
                assert_eq!(mg_send(c, b"x".as_ptr().cast(), 1), MG_ERR_WRONG_THREAD);
                assert_eq!(mg_close(c), MG_ERR_WRONG_THREAD);
                assert_eq!(mg_mgr_poll(mp.0, 0), MG_ERR_WRONG_THREAD);
                assert_eq!(mg_timer_add(mp.0, 1, 0, Some(note), std::ptr::null_mut()).h, 0);
                assert_eq!(mg_last_error(), MG_ERR_WRONG_THREAD);
            })
        })
        .collect();
    m.poll_until(10, "all wakeups", |_| srv.count(MG_EV_WAKEUP) == 800);
    for t in threads {
        t.join().unwrap();
    }
    for (i, c) in conns.iter().enumerate() {
        let got = String::from_utf8(srv.data(*c, MG_EV_WAKEUP)).unwrap();
        let want: String = (0..200).map(|j| format!("{i}:{j};")).collect();
        assert_eq!(
            got, want,
            "conn {i}: FIFO, complete, nothing from other threads' targets"
        );
    }
    drop(clients);
}

#[test]
fn wakeup_stale_full_undelivered_and_bad_input() {
    let mut m = Mgr::new();
    let mut undelivered: Vec<Vec<u8>> = Vec::new();
    mg_mgr_set_undelivered_fn(
        m.ptr(),
        Some(count_undelivered),
        &mut undelivered as *mut _ as *mut c_void,
    );
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let limits = {
        let mut l = mg_limits::default();
        assert_eq!(mg_mgr_get_limits(m.ptr(), &mut l), 0);
        l.wakeup_msgs = 3;
        l
    };
    assert_eq!(mg_mgr_set_limits(m.ptr(), &limits), 0);
    for i in 0..3u8 {
        assert_eq!(mg_wakeup(m.ptr(), l, [i].as_ptr().cast(), 1), 0);
    }
    assert_eq!(mg_wakeup(m.ptr(), l, b"x".as_ptr().cast(), 1), MG_ERR_FULL);
    // Accepted, then the target closes before delivery: handed back, not delivered.
    mg_close(l);
    m.poll(0);
    assert_eq!(undelivered, vec![vec![0], vec![1], vec![2]]);
    assert_eq!(srv.count(MG_EV_WAKEUP), 0);
    assert_eq!(mg_wakeup(m.ptr(), l, b"x".as_ptr().cast(), 1), MG_ERR_STALE);
    assert_eq!(
        mg_wakeup(m.ptr(), mg_conn { h: 0 }, b"x".as_ptr().cast(), 1),
        MG_ERR_STALE
    );
    assert_eq!(mg_wakeup(m.ptr(), l, std::ptr::null(), 5), MG_ERR_INVALID);
    assert_eq!(
        mg_wakeup(std::ptr::null_mut(), l, b"x".as_ptr().cast(), 1),
        MG_ERR_INVALID
    );
    let s = m.stats();
    assert_eq!(
        (s.wakeups_accepted, s.wakeups_rejected_full, s.wakeups_undelivered),
        (3, 1, 3)
    );
}

#[test]
fn wakeup_all_and_wakeup_loop() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let a = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let b = m.listen("udp://127.0.0.1:0", Some(record), srv.ptr());
    assert_eq!(mg_wakeup_all(m.ptr(), b"all".as_ptr().cast(), 3), 0);
    m.poll(1000);
    assert_eq!(srv.data(a, MG_EV_WAKEUP), b"all");
    assert_eq!(srv.data(b, MG_EV_WAKEUP), b"all");
    let mp = SendPtr(m.ptr());
    let t = std::thread::spawn(move || {
        let mp = mp;
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(mg_wakeup_loop(mp.0), 0);
    });
    let start = std::time::Instant::now();
    m.poll(5000);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "mg_wakeup_loop ended the poll early"
    );
    t.join().unwrap();
}

/// The undelivered callback's view: (connection, payload), in the order handed back.
unsafe extern "C" fn note_undelivered(c: mg_conn, data: *mut mg_str, arg: *mut c_void) {
    let v = unsafe { &mut *(arg as *mut Vec<(u64, Vec<u8>)>) };
    let s = unsafe { &*data };
    v.push((
        c.h,
        unsafe { std::slice::from_raw_parts(s.buf as *const u8, s.len) }.to_vec(),
    ));
}

fn set_wakeup_caps(m: &mut Mgr, msgs: u32, bytes: usize) {
    let mut l = mg_limits::default();
    assert_eq!(mg_mgr_get_limits(m.ptr(), &mut l), 0);
    l.wakeup_msgs = msgs;
    l.wakeup_bytes = bytes;
    assert_eq!(mg_mgr_set_limits(m.ptr(), &l), 0);
}

fn wakeup(m: *mut mg_mgr, c: mg_conn, data: &[u8]) -> c_int {
    mg_wakeup(m, c, data.as_ptr().cast(), data.len())
}

#[test]
fn wakeup_byte_cap_holds_exactly_at_its_boundary() {
    let mut m = Mgr::new();
    set_wakeup_caps(&mut m, 100, 40);
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    assert_eq!(wakeup(m.ptr(), l, &[b'a'; 41]), MG_ERR_FULL, "one byte over the cap");
    assert_eq!(
        wakeup(m.ptr(), l, &[b'a'; 40]),
        0,
        "a payload that fills the cap exactly"
    );
    assert_eq!(wakeup(m.ptr(), l, b"b"), MG_ERR_FULL, "one byte more");
    assert_eq!(
        mg_wakeup_all(m.ptr(), b"b".as_ptr().cast(), 1),
        MG_ERR_FULL,
        "broadcasts count too"
    );
    m.poll_until(5, "delivered", |_| srv.count(MG_EV_WAKEUP) == 1);
    assert_eq!(srv.data(l, MG_EV_WAKEUP), [b'a'; 40]);
    // Delivered: the whole budget is back, exactly.
    assert_eq!(wakeup(m.ptr(), l, &[b'c'; 25]), 0);
    assert_eq!(wakeup(m.ptr(), l, &[b'd'; 16]), MG_ERR_FULL, "41 of 40");
    assert_eq!(wakeup(m.ptr(), l, &[b'd'; 15]), 0, "40 of 40");
    assert_eq!(wakeup(m.ptr(), l, b""), 0, "an empty message costs no bytes");
    assert_eq!(wakeup(m.ptr(), l, b"e"), MG_ERR_FULL);
    let s = m.stats();
    assert_eq!((s.wakeups_accepted, s.wakeups_rejected_full), (4, 5));
}

/// What the timer callback of the next test does and sees.
struct DieWithQueued {
    mgr: *mut mg_mgr,
    dying: mg_conn,
    other: mg_conn,
    codes: Vec<c_int>,
}

/// Runs on the loop thread after this poll delivered its wakeups: fill the queue to both
/// caps (4 messages, 40 bytes) with one message for `other` and three for `dying`, then
/// close `dying`, which ends at the end of this poll with its three still queued.
unsafe extern "C" fn fill_then_close(arg: *mut c_void) {
    let d = unsafe { &mut *(arg as *mut DieWithQueued) };
    d.codes = vec![
        wakeup(d.mgr, d.other, b"other-0..."),
        wakeup(d.mgr, d.dying, b"dying-0..."),
        wakeup(d.mgr, d.dying, b"dying-1..."),
        wakeup(d.mgr, d.dying, b"dying-2..."),
        wakeup(d.mgr, d.other, b""),
    ];
    assert_eq!(mg_close(d.dying), 0);
}

/// G2 + G5: a connection that closes with messages still queued hands them back (payloads
/// intact, only its own), and returns exactly their share of the caps: no less (the queue
/// would stay full for ever) and no more (the caps would stop holding).
#[test]
fn a_connection_dying_with_queued_wakeups_gives_back_exactly_their_budget() {
    let mut m = Mgr::new();
    set_wakeup_caps(&mut m, 4, 40);
    let mut undelivered: Vec<(u64, Vec<u8>)> = Vec::new();
    mg_mgr_set_undelivered_fn(
        m.ptr(),
        Some(note_undelivered),
        &mut undelivered as *mut _ as *mut c_void,
    );
    let srv = Recorder::new();
    let dying = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let other = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let mut d = DieWithQueued {
        mgr: m.ptr(),
        dying,
        other,
        codes: Vec::new(),
    };
    let t = mg_timer_add(
        m.ptr(),
        60_000,
        MG_TIMER_RUN_NOW,
        Some(fill_then_close),
        &mut d as *mut DieWithQueued as *mut c_void,
    );
    assert_ne!(t.h, 0);
    m.poll(0); // RUN_NOW without REPEAT: fires once, in this poll
    assert_eq!(
        d.codes,
        vec![0, 0, 0, 0, MG_ERR_FULL],
        "4 messages, 40 bytes: both caps full"
    );
    assert_eq!(srv.evs(dying).last(), Some(&MG_EV_CLOSE), "closed in that poll");
    assert_eq!(
        undelivered,
        vec![
            (dying.h, b"dying-0...".to_vec()),
            (dying.h, b"dying-1...".to_vec()),
            (dying.h, b"dying-2...".to_vec()),
        ],
        "its own three, in order, nothing of the other's"
    );
    assert_eq!(srv.count(MG_EV_WAKEUP), 0, "nothing delivered yet");
    // One message (10 bytes) for `other` is still queued: exactly 3 messages and 30 bytes
    // are free, before the loop takes the queue.
    assert_eq!(wakeup(m.ptr(), other, b"other-1..."), 0);
    assert_eq!(wakeup(m.ptr(), other, &[b'x'; 21]), MG_ERR_FULL, "41 of 40 bytes");
    assert_eq!(wakeup(m.ptr(), other, b"other-2..."), 0);
    assert_eq!(wakeup(m.ptr(), other, &[b'x'; 11]), MG_ERR_FULL, "41 of 40 bytes");
    assert_eq!(wakeup(m.ptr(), other, b"other-3..."), 0, "40 of 40 bytes");
    assert_eq!(wakeup(m.ptr(), other, b""), MG_ERR_FULL, "5 of 4 messages");
    m.poll_until(5, "delivered", |_| srv.count(MG_EV_WAKEUP) == 4);
    assert_eq!(
        srv.data(other, MG_EV_WAKEUP),
        b"other-0...other-1...other-2...other-3...",
        "in order"
    );
    assert_eq!(undelivered.len(), 3, "nothing more handed back");
    let s = m.stats();
    assert_eq!(
        (s.wakeups_accepted, s.wakeups_undelivered, s.wakeups_delivered),
        (7, 3, 4)
    );
}

/// `fn_data` is the manager: queue a wakeup for itself from its own `MG_EV_CLOSE`.
unsafe extern "C" fn wakeup_self_in_close(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_CLOSE {
        let mgr = mg_fn_data(c) as *mut mg_mgr;
        assert_eq!(wakeup(mgr, c, b"sent in its own MG_EV_CLOSE"), 0);
    }
}

/// Everything still queued when the owner calls `mg_mgr_free` reaches the undelivered
/// callback with its connection and payload: every message, every byte, once.
#[test]
fn everything_queued_at_mgr_free_reaches_the_undelivered_callback() {
    let mut m = Mgr::new();
    let mut undelivered: Vec<(u64, Vec<u8>)> = Vec::new();
    mg_mgr_set_undelivered_fn(
        m.ptr(),
        Some(note_undelivered),
        &mut undelivered as *mut _ as *mut c_void,
    );
    let srv = Recorder::new();
    let a = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let b = m.listen("udp://127.0.0.1:0", Some(record), srv.ptr());
    let cli = Recorder::new();
    let c = m.connect(&format!("tcp://127.0.0.1:{}", port(a)), Some(record), cli.ptr());
    m.poll_until(5, "connected and accepted", |_| {
        cli.count(MG_EV_CONNECT) == 1 && srv.count(MG_EV_ACCEPT) == 1
    });
    let accepted = mg_conn {
        h: srv.events.borrow().iter().find(|e| e.ev == MG_EV_ACCEPT).unwrap().conn,
    };
    let mp = m.ptr();
    let d = m.listen("tcp://127.0.0.1:0", Some(wakeup_self_in_close), mp.cast());
    let mut want: Vec<(u64, Vec<u8>)> = Vec::new();
    for i in 0..5usize {
        for (k, conn) in [a, b, c, accepted].into_iter().enumerate() {
            let payload = vec![b'0' + k as u8; 1 + i * 7 + k * 100];
            assert_eq!(wakeup(mp, conn, &payload), 0);
            want.push((conn.h, payload));
        }
    }
    assert_eq!(mg_wakeup_all(mp, b"to all".as_ptr().cast(), 6), 0);
    want.push((d.h, b"sent in its own MG_EV_CLOSE".to_vec()));
    assert_eq!(mg_mgr_free(mp), 0);
    assert_eq!(
        srv.count(MG_EV_WAKEUP) + cli.count(MG_EV_WAKEUP),
        0,
        "nothing delivered"
    );
    let bytes = |v: &[(u64, Vec<u8>)]| v.iter().map(|(_, p)| p.len()).sum::<usize>();
    assert_eq!(
        (undelivered.len(), bytes(&undelivered)),
        (want.len(), bytes(&want)),
        "count and bytes"
    );
    for conn in [a, b, c, accepted, d] {
        let of = |v: &[(u64, Vec<u8>)]| v.iter().filter(|(h, _)| *h == conn.h).cloned().collect::<Vec<_>>();
        assert_eq!(of(&undelivered), of(&want), "conn {:x}: its own, in order", conn.h);
    }
    assert_eq!(wakeup(mp, a, b"late"), MG_ERR_INVALID, "after mg_mgr_free");
}

/// The wake signal: a wakeup from another thread ends a long `mg_mgr_poll` at once, every
/// time (not only the first), for `mg_wakeup` and `mg_wakeup_all` alike.
#[test]
fn a_wakeup_from_another_thread_ends_a_long_poll_at_once() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    for round in 0..6usize {
        let mp = SendPtr(m.ptr());
        let t = std::thread::spawn(move || {
            let mp = mp;
            std::thread::sleep(Duration::from_millis(30));
            let msg = format!("round {round}");
            let code = if round % 2 == 0 {
                wakeup(mp.0, l, msg.as_bytes())
            } else {
                mg_wakeup_all(mp.0, msg.as_ptr().cast(), msg.len())
            };
            assert_eq!(code, 0);
        });
        let start = std::time::Instant::now();
        while srv.count(MG_EV_WAKEUP) <= round {
            m.poll(10_000);
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "round {round}: the wakeup did not end mg_mgr_poll(10000) ({:?})",
                start.elapsed()
            );
        }
        t.join().unwrap();
    }
    let want: String = (0..6).map(|r| format!("round {r}")).collect();
    assert_eq!(srv.data(l, MG_EV_WAKEUP), want.as_bytes());
}

/// The same for the loop's internal messages: a name lookup finished on the resolver
/// thread ends a long `mg_mgr_poll` at once (well before the 3 s DNS deadline).
#[test]
fn a_finished_name_lookup_ends_a_long_poll_at_once() {
    let mut m = Mgr::new();
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    for _ in 0..3 {
        let cli = Recorder::new();
        let start = std::time::Instant::now();
        let c = m.connect(&format!("tcp://localhost:{}", port(l)), Some(record), cli.ptr());
        assert_ne!(c.h, 0);
        while cli.count(MG_EV_RESOLVE) == 0 {
            m.poll(10_000);
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "the lookup did not end mg_mgr_poll(10000) ({:?}): {:?}",
                start.elapsed(),
                cli.evs(c)
            );
        }
        assert_eq!(mg_close(c), 0);
        m.poll(0);
    }
}

// ---- limits ----------------------------------------------------------------------------

#[test]
fn send_buffer_cap_gives_backpressure() {
    let mut m = Mgr::new();
    let mut lim = mg_limits::default();
    mg_mgr_get_limits(m.ptr(), &mut lim);
    lim.max_send = 1000;
    assert_eq!(mg_mgr_set_limits(m.ptr(), &lim), 0);
    let srv = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let cli = Recorder::new();
    let c = m.connect(&format!("tcp://127.0.0.1:{}", port(l)), Some(record), cli.ptr());
    let chunk = [7u8; 600];
    assert_eq!(mg_send(c, chunk.as_ptr().cast(), 600), 0);
    assert_eq!(
        mg_send(c, chunk.as_ptr().cast(), 600),
        MG_ERR_FULL,
        "all or nothing at the cap"
    );
    assert_eq!(info(c).send_len, 600);
    m.poll_until(5, "delivered", |_| {
        srv.events
            .borrow()
            .iter()
            .filter(|e| e.ev == MG_EV_READ)
            .map(|e| e.data.len())
            .sum::<usize>()
            == 600
    });
    assert_eq!(mg_send(c, chunk.as_ptr().cast(), 600), 0, "room again after the flush");
}

#[test]
fn connection_cap_pauses_accept_without_failing() {
    let mut m = Mgr::new();
    let mut lim = mg_limits::default();
    mg_mgr_get_limits(m.ptr(), &mut lim);
    lim.max_conns = 3; // the listener + 2
    assert_eq!(mg_mgr_set_limits(m.ptr(), &lim), 0);
    let srv = Recorder::echo();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), srv.ptr());
    let port = port(l);
    let mut clients: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    m.poll_until(5, "two accepted", |_| srv.count(MG_EV_ACCEPT) == 2);
    for _ in 0..10 {
        m.poll(5);
    }
    assert_eq!(srv.count(MG_EV_ACCEPT), 2, "at the cap nothing more is accepted");
    assert!(m.stats().accept_paused > 0);
    let cli = Recorder::new();
    assert_eq!(
        m.connect(&format!("tcp://127.0.0.1:{port}"), Some(record), cli.ptr()).h,
        0
    );
    assert_eq!(mg_last_error(), MG_ERR_LIMIT);
    // Two clients leave: the waiting ones are accepted and served.
    clients.drain(..2);
    m.poll_until(5, "the others accepted", |_| srv.count(MG_EV_ACCEPT) == 4);
    for c in clients.iter_mut() {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"hi").unwrap();
    }
    let t = std::thread::spawn(move || {
        for mut c in clients {
            let mut b = [0u8; 2];
            c.read_exact(&mut b).unwrap();
            assert_eq!(&b, b"hi");
        }
    });
    m.poll_until(5, "served", |_| t.is_finished());
    t.join().unwrap();
}

// ---- bad input -----------------------------------------------------------------------

#[test]
fn bad_urls_and_ports_get_their_codes() {
    let mut m = Mgr::new();
    let cases: &[(&str, c_int)] = &[
        ("nonsense", MG_ERR_URL),
        ("gopher://1.2.3.4:70", MG_ERR_URL),
        ("tcp://127.0.0.1:99999", MG_ERR_PORT),
        ("tcp://127.0.0.1:-1", MG_ERR_PORT),
        ("tcp://127.0.0.1:", MG_ERR_PORT),
        ("tcp://[::1:80", MG_ERR_URL),
    ];
    for (url, code) in cases {
        assert_eq!(m.listen(url, Some(record), std::ptr::null_mut()).h, 0, "{url}");
        assert_eq!(mg_last_error(), *code, "listen {url}");
        assert_eq!(m.connect(url, Some(record), std::ptr::null_mut()).h, 0, "{url}");
        assert_eq!(mg_last_error(), *code, "connect {url}");
    }
    assert_eq!(m.connect("tcp://127.0.0.1:0", Some(record), std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_ERR_PORT, "port 0 cannot be connected to");
    assert_eq!(m.listen("tcp://8.8.8.8:80", Some(record), std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_ERR_ADDR, "not a local address");
    assert_eq!(
        mg_listen(m.ptr(), std::ptr::null(), Some(record), std::ptr::null_mut()).h,
        0
    );
    assert_eq!(mg_last_error(), MG_ERR_URL);
    let taken = m.listen("tcp://127.0.0.1:0", Some(record), std::ptr::null_mut());
    assert_eq!(
        m.listen(
            &format!("tcp://127.0.0.1:{}", port(taken)),
            Some(record),
            std::ptr::null_mut()
        )
        .h,
        0
    );
    assert_eq!(mg_last_error(), MG_ERR_ADDR, "port in use");
    assert_eq!(mg_close(taken), 0);
    assert_eq!(mg_last_error(), MG_ERR_ADDR, "calls that return a code leave it alone");
    assert_ne!(m.listen("tcp://127.0.0.1:0", Some(record), std::ptr::null_mut()).h, 0);
    assert_eq!(mg_last_error(), MG_OK, "a success resets it");
    let bad = CString::new(vec![0xffu8, 0xfe]).unwrap();
    assert_eq!(
        mg_connect(m.ptr(), bad.as_ptr(), Some(record), std::ptr::null_mut()).h,
        0
    );
    assert_eq!(mg_last_error(), MG_ERR_URL, "not UTF-8");
    m.poll(0);
    assert_eq!(m.live(), 1, "only the last listener: no failed call left a connection");
}

#[test]
fn null_zero_forged_and_foreign_handles_are_refused() {
    let mut a = Mgr::new();
    let mut b = Mgr::new();
    let rec = Recorder::new();
    let la = a.listen("tcp://127.0.0.1:0", Some(record), rec.ptr());
    let lb = b.listen("tcp://127.0.0.1:0", Some(record), rec.ptr());
    // Handles of manager a are not live in manager b's table (and vice versa), but each
    // manager resolves its own; forged ones resolve nowhere.
    for forged in [
        0u64,
        1,
        u64::MAX,
        la.h ^ (1 << 20),
        la.h + 1,
        (la.h & 0xffff) | (999_999_999 << 16),
    ] {
        let c = mg_conn { h: forged };
        every_conn_call_is_refused(c, MG_ERR_STALE, &format!("forged {forged:#x}"));
        assert_eq!(mg_wakeup(a.ptr(), c, b"x".as_ptr().cast(), 1), MG_ERR_STALE);
    }
    assert_eq!(a.live(), 1, "nothing was opened or closed");
    assert_eq!(
        mg_wakeup(a.ptr(), lb, b"x".as_ptr().cast(), 1),
        MG_ERR_STALE,
        "b's handle is not a's"
    );
    assert_eq!(mg_wakeup(b.ptr(), lb, b"x".as_ptr().cast(), 1), 0);
    assert_eq!(mg_send(la, std::ptr::null(), 3), MG_ERR_INVALID);
    assert_eq!(
        mg_send(la, std::ptr::null(), 0),
        MG_ERR_UNSUPPORTED,
        "(NULL, 0) is empty; listeners cannot send"
    );
    assert_eq!(mg_recv_consume(la, 1), MG_ERR_INVALID, "more than pending");
    assert_eq!(mg_conn_info(la, std::ptr::null_mut()), MG_ERR_INVALID);
    // NULL and uninitialised managers.
    assert_eq!(mg_mgr_poll(std::ptr::null_mut(), 0), MG_ERR_INVALID);
    assert_eq!(mg_mgr_free(std::ptr::null_mut()), MG_ERR_INVALID);
    assert_eq!(mg_mgr_init(std::ptr::null_mut()), MG_ERR_INVALID);
    assert_eq!(mg_mgr_stats(a.ptr(), std::ptr::null_mut()), MG_ERR_INVALID);
    assert_eq!(mg_mgr_set_limits(a.ptr(), std::ptr::null()), MG_ERR_INVALID);
    let mut zeroed = mg_mgr {
        internal: std::ptr::null_mut(),
        userdata: std::ptr::null_mut(),
    };
    assert_eq!(mg_mgr_poll(&mut zeroed, 0), MG_ERR_INVALID);
    let mut garbage = mg_mgr {
        internal: 0xdead_bee0 as *mut c_void,
        userdata: std::ptr::null_mut(),
    };
    assert_eq!(
        mg_mgr_poll(&mut garbage, 0),
        MG_ERR_INVALID,
        "an unknown internal pointer is never dereferenced"
    );
    assert_eq!(mg_wakeup(&mut garbage, la, b"x".as_ptr().cast(), 1), MG_ERR_INVALID);
    let mut lim = mg_limits::default();
    mg_mgr_get_limits(a.ptr(), &mut lim);
    lim.max_conns = 0;
    assert_eq!(mg_mgr_set_limits(a.ptr(), &lim), MG_ERR_INVALID);
    lim.max_conns = 70_000;
    assert_eq!(mg_mgr_set_limits(a.ptr(), &lim), MG_ERR_INVALID);
    mg_mgr_get_limits(a.ptr(), &mut lim);
    lim.wakeup_msgs = 0;
    assert_eq!(
        mg_mgr_set_limits(a.ptr(), &lim),
        MG_ERR_INVALID,
        "a wakeup queue of 0 messages"
    );
    mg_mgr_get_limits(a.ptr(), &mut lim);
    lim.wakeup_bytes = 0;
    assert_eq!(
        mg_mgr_set_limits(a.ptr(), &lim),
        MG_ERR_INVALID,
        "a wakeup queue of 0 bytes"
    );
    // Freed manager: calls fail cleanly, its connections are stale, the struct can be
    // initialised again.
    let mut c = Mgr::new();
    let p = c.ptr();
    let lc = c.listen("tcp://127.0.0.1:0", Some(record), rec.ptr());
    assert_eq!(mg_mgr_free(p), 0);
    every_conn_call_is_refused(lc, MG_ERR_STALE, "connection of a freed manager");
    assert_eq!(mg_mgr_poll(p, 0), MG_ERR_INVALID);
    assert_eq!(mg_wakeup(p, la, b"x".as_ptr().cast(), 1), MG_ERR_INVALID);
    assert_eq!(mg_mgr_free(p), MG_ERR_INVALID);
    assert_eq!(mg_mgr_init(p), 0);
    assert!(!mg_strerror(MG_ERR_STALE).is_null());
}

// ---- G1/G2: every call that takes a connection handle --------------------------------

// The C shim's variadic calls, declared as C declares them.
extern "C" {
    fn mg_printf(c: mg_conn, fmt: *const c_char, ...) -> c_int;
    fn mg_http_reply(c: mg_conn, status: c_int, headers: *const c_char, fmt: *const c_char, ...) -> c_int;
    fn mg_http_printf_chunk(c: mg_conn, fmt: *const c_char, ...) -> c_int;
}

/// What a call that returns a value instead of an error code gave: the zero handle, NULL, 0
/// or an empty `mg_str`. No call returns this number itself.
const NOTHING: c_int = c_int::MIN;

fn nothing_if(empty: bool) -> c_int {
    if empty {
        NOTHING
    } else {
        0
    }
}

unsafe extern "C" fn conn_tick_noop(_c: mg_conn, _arg: *mut c_void) {}

/// An exported function's name, and a call of it on a connection (see [`conn_calls`]).
type ConnCall = (&'static str, fn(mg_conn) -> c_int);

/// Every exported function that takes an `mg_conn`, with valid other arguments, so that the
/// handle is the only thing that can make it fail. Error-code calls return their code;
/// value calls return [`NOTHING`] for the empty value and 0 for anything else.
fn conn_calls() -> Vec<ConnCall> {
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut calls: Vec<ConnCall> = vec![
        ("mg_send", |c| mg_send(c, b"x".as_ptr().cast(), 1)),
        ("mg_recv", |c| nothing_if(mg_recv(c).len == 0)),
        ("mg_recv_consume", |c| mg_recv_consume(c, 0)),
        ("mg_recv_pause", |c| mg_recv_pause(c, true)),
        ("mg_close", |c| mg_close(c)),
        ("mg_drain", |c| mg_drain(c)),
        ("mg_fn_data", |c| nothing_if(mg_fn_data(c).is_null())),
        ("mg_set_handler", |c| mg_set_handler(c, None, std::ptr::null_mut())),
        ("mg_conn_data", |c| nothing_if(mg_conn_data(c).is_null())),
        ("mg_conn_id", |c| nothing_if(mg_conn_id(c) == 0)),
        ("mg_conn_info", |c| {
            let mut i = std::mem::MaybeUninit::<mg_conn_info>::zeroed();
            mg_conn_info(c, i.as_mut_ptr())
        }),
        ("mg_timer_add_conn", |c| {
            let t = mg_timer_add_conn(c, 10, MG_TIMER_ONCE, Some(conn_tick_noop), std::ptr::null_mut());
            if t.h == 0 {
                mg_last_error()
            } else {
                0
            }
        }),
        ("mg_http_reply_n", |c| {
            mg_http_reply_n(c, 200, std::ptr::null(), c"ok".as_ptr(), 2)
        }),
        ("mg_http_write_chunk", |c| {
            mg_http_write_chunk(c, b"x".as_ptr().cast(), 1)
        }),
        ("mg_http_bauth", |c| mg_http_bauth(c, c"u".as_ptr(), c"p".as_ptr())),
        ("mg_http_stream", |c| mg_http_stream(c)),
        ("mg_http_serve_dir", |c| {
            let mut hm = get_slash();
            let opts = serve_opts();
            mg_http_serve_dir(c, &mut hm, &opts)
        }),
        ("mg_http_serve_file", |c| {
            let mut hm = get_slash();
            mg_http_serve_file(c, &mut hm, c"Cargo.toml".as_ptr(), std::ptr::null())
        }),
        // SAFETY (the three below): the format and its arguments match.
        ("mg_printf", |c| unsafe { mg_printf(c, c"%d".as_ptr(), 1 as c_int) }),
        ("mg_http_reply", |c| unsafe {
            mg_http_reply(c, 200, std::ptr::null(), c"%s".as_ptr(), c"ok".as_ptr())
        }),
        ("mg_http_printf_chunk", |c| unsafe {
            mg_http_printf_chunk(c, c"%d".as_ptr(), 1 as c_int)
        }),
    ];
    #[cfg(feature = "tls")]
    calls.push(("mg_tls_init", |c| {
        let opts = mg_tls_opts {
            ca: mg_str::EMPTY,
            cert: mg_str::EMPTY,
            key: mg_str::EMPTY,
            name: mg_str::EMPTY,
            skip_verification: 1,
        };
        mg_tls_init(c, &opts)
    }));
    #[cfg(feature = "tls-ffi")]
    calls.extend([
        ("mg_tls_init_server_config", |c| {
            mg_tls_init_server_config(c, std::ptr::null())
        }),
        ("mg_tls_init_client_config", |c| {
            mg_tls_init_client_config(c, std::ptr::null(), mg_str::EMPTY)
        }),
    ] as [ConnCall; 2]);
    calls
}

fn get_slash() -> mg_http_message {
    let s = |b: &'static [u8]| mg_str::from_bytes(b);
    mg_http_message {
        method: s(b"GET"),
        uri: s(b"/"),
        query: mg_str::EMPTY,
        proto: s(b"HTTP/1.1"),
        headers: std::ptr::null_mut(),
        num_headers: 0,
        body: mg_str::EMPTY,
        head: mg_str::EMPTY,
        message: mg_str::EMPTY,
    }
}

fn serve_opts() -> mg_http_serve_opts {
    mg_http_serve_opts {
        root_dir: c".".as_ptr(),
        ssi_pattern: std::ptr::null(),
        extra_headers: std::ptr::null(),
        mime_types: std::ptr::null(),
        page404: std::ptr::null(),
        fs: std::ptr::null_mut(),
    }
}

/// Call everything in [`conn_calls`] on `c`; each must refuse with `code` (or give nothing).
fn every_conn_call_is_refused(c: mg_conn, code: c_int, what: &str) {
    for (name, call) in conn_calls() {
        let rc = call(c);
        assert!(rc == code || rc == NOTHING, "{what}: {name} returned {rc}, want {code}");
    }
}

/// G2: from a thread that does not own the manager, every connection call returns
/// MG_ERR_WRONG_THREAD (or nothing) and does nothing, whether or not that thread owns a
/// manager of its own; so do the manager and timer calls.
#[test]
fn every_owner_thread_call_refuses_other_threads() {
    let mut m = Mgr::new();
    let rec = Recorder::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(record), rec.ptr());
    let hl = {
        let u = CString::new("http://127.0.0.1:0").unwrap();
        mg_http_listen(m.ptr(), u.as_ptr(), Some(record), rec.ptr())
    };
    let t = mg_timer_add(m.ptr(), 60_000, MG_TIMER_REPEAT, Some(note), std::ptr::null_mut());
    assert!(l.h != 0 && hl.h != 0 && t.h != 0);
    let before = (m.live(), m.stats().live_timers);

    for own_manager in [false, true] {
        let mp = SendPtr(m.ptr());
        std::thread::spawn(move || {
            let mp = mp;
            let mut mine = own_manager.then(Mgr::new);
            let what = if own_manager {
                "thread with its own manager"
            } else {
                "other thread"
            };
            for c in [l, hl] {
                for (name, call) in conn_calls() {
                    let rc = call(c);
                    assert!(
                        rc == MG_ERR_WRONG_THREAD || rc == NOTHING,
                        "{what}: {name} returned {rc}"
                    );
                }
            }
            assert_eq!(mg_mgr_poll(mp.0, 0), MG_ERR_WRONG_THREAD);
            assert_eq!(mg_mgr_free(mp.0), MG_ERR_WRONG_THREAD);
            assert_eq!(mg_wakeup_init(mp.0), MG_ERR_WRONG_THREAD);
            let mut lim = mg_limits::default();
            assert_eq!(mg_mgr_get_limits(mp.0, &mut lim), MG_ERR_WRONG_THREAD);
            assert_eq!(mg_mgr_set_limits(mp.0, &lim), MG_ERR_WRONG_THREAD);
            let mut st = mg_stats::default();
            assert_eq!(mg_mgr_stats(mp.0, &mut st), MG_ERR_WRONG_THREAD);
            assert_eq!(
                mg_mgr_set_undelivered_fn(mp.0, None, std::ptr::null_mut()),
                MG_ERR_WRONG_THREAD
            );
            assert_eq!(mg_conn_next(mp.0, mg_conn { h: 0 }).h, 0);
            let u = c"tcp://127.0.0.1:0".as_ptr();
            for open in [mg_listen, mg_connect, mg_http_listen, mg_http_connect] {
                assert_eq!(open(mp.0, u, Some(record), std::ptr::null_mut()).h, 0);
                assert_eq!(mg_last_error(), MG_ERR_WRONG_THREAD);
            }
            assert_eq!(mg_timer_add(mp.0, 1, 0, Some(note), std::ptr::null_mut()).h, 0);
            assert_eq!(mg_last_error(), MG_ERR_WRONG_THREAD);
            assert_eq!(mg_timer_free(t), MG_ERR_WRONG_THREAD, "{what}: mg_timer_free");
            if let Some(mine) = mine.as_mut() {
                assert_eq!(mine.live(), 0, "nothing landed in this thread's manager");
            }
            assert_eq!(
                mg_wakeup(mp.0, l, b"ok".as_ptr().cast(), 2),
                0,
                "wakeups are for any thread"
            );
        })
        .join()
        .unwrap();
    }

    // Nothing happened on the owner's side: all still open, unchanged, working.
    m.poll(0);
    assert_eq!((m.live(), m.stats().live_timers), before);
    assert_eq!(rec.count(MG_EV_CLOSE), 0);
    assert_eq!(rec.data(l, MG_EV_WAKEUP), b"okok");
    for c in [l, hl] {
        let i = info(c);
        assert!(!i.is_closing && !i.is_draining, "{i:?}");
        assert_eq!(mg_fn_data(c), rec.ptr(), "handler data unchanged");
    }
    assert_eq!(mg_timer_free(t), 0, "the timer is still there");
}

// ---- re-entrancy from Rust handlers ----------------------------------------------------

thread_local! {
    static MGR: RefCell<*mut mg_mgr> = const { RefCell::new(std::ptr::null_mut()) };
}

unsafe extern "C" fn closes_everything_in_close(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    unsafe { record(c, ev, ev_data) };
    let mgr = MGR.with(|m| *m.borrow());
    if ev == MG_EV_CLOSE {
        assert_eq!(mg_mgr_free(mgr), MG_ERR_BUSY);
        assert_eq!(mg_mgr_poll(mgr, 0), MG_ERR_BUSY);
        assert_eq!(mg_send(c, b"x".as_ptr().cast(), 1), MG_ERR_CLOSING);
        let mut it = mg_conn_next(mgr, mg_conn { h: 0 });
        while it.h != 0 {
            mg_close(it);
            it = mg_conn_next(mgr, it);
        }
    }
}

#[test]
fn closing_the_last_connections_inside_close() {
    let mut m = Mgr::new();
    MGR.with(|x| *x.borrow_mut() = m.ptr());
    let rec = Recorder::new();
    let ls: Vec<mg_conn> = (0..5)
        .map(|_| m.listen("tcp://127.0.0.1:0", Some(closes_everything_in_close), rec.ptr()))
        .collect();
    assert_eq!(m.live(), 5);
    mg_close(ls[2]);
    m.poll(0);
    assert_eq!(m.live(), 0);
    assert_eq!(rec.count(MG_EV_CLOSE), 5, "exactly one CLOSE each");
}

// ---- MG_EV_POLL ----------------------------------------------------------------------

thread_local! {
    /// (connection, the u64 `MG_EV_POLL` carried) for every `MG_EV_POLL` seen.
    static POLLS: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
    /// A connection to close from the next `MG_EV_POLL` that `poll_and_close` gets.
    static TO_CLOSE: RefCell<Option<mg_conn>> = const { RefCell::new(None) };
}

unsafe extern "C" fn poll_and_close(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_POLL {
        let t = unsafe { *(ev_data as *const u64) };
        POLLS.with(|p| p.borrow_mut().push((c.h, t)));
        if let Some(victim) = TO_CLOSE.with(|v| v.borrow_mut().take()) {
            assert_eq!(mg_close(victim), 0);
        }
    }
}

/// C handlers get `MG_EV_POLL` through the poll walk's direct call: once per poll for every
/// open connection, in the order they were opened, each with the poll's time in
/// milliseconds; not a connection closed by an earlier handler in the same poll, nor one
/// without a handler; the next poll, the same for what is left.
#[test]
fn every_open_connection_gets_one_poll_event_per_poll_with_its_time() {
    let mut m = Mgr::new();
    let url = "tcp://127.0.0.1:0";
    let a = m.listen(url, Some(poll_and_close), std::ptr::null_mut());
    let b = m.listen(url, Some(poll_and_close), std::ptr::null_mut());
    let none = m.listen(url, None, std::ptr::null_mut());
    let c = m.listen(url, Some(poll_and_close), std::ptr::null_mut());
    assert!(a.h != 0 && b.h != 0 && none.h != 0 && c.h != 0);
    let take = || POLLS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let before = meerkat::util::clock::millis();
    m.poll(0);
    let after = meerkat::util::clock::millis();
    let got = take();
    assert_eq!(got.iter().map(|e| e.0).collect::<Vec<_>>(), vec![a.h, b.h, c.h]);
    let t = got[0].1;
    assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
    assert!(got.iter().all(|e| e.1 == t), "one time for the whole poll: {got:?}");
    // `a` closes `b` in its MG_EV_POLL: `b` gets none in that poll, `c` still does.
    TO_CLOSE.with(|v| *v.borrow_mut() = Some(b));
    m.poll(0);
    assert_eq!(take().iter().map(|e| e.0).collect::<Vec<_>>(), vec![a.h, c.h]);
    m.poll(0);
    assert_eq!(take().iter().map(|e| e.0).collect::<Vec<_>>(), vec![a.h, c.h]);
    assert_eq!(m.live(), 3, "b closed");
}

// ---- MG_EV_READ / MG_EV_WRITE ev_data --------------------------------------------------

/// Every `*(long *) ev_data` of MG_EV_READ with `mg_recv`'s length then, and every one of
/// MG_EV_WRITE.
type Counts = (Vec<(i64, usize)>, Vec<i64>);

thread_local! {
    static COUNTS: RefCell<Counts> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Reads `ev_data` as a Mongoose handler does (`long n = *(long *) ev_data;`); consumes
/// nothing, and echoes the whole of what came once 5000 bytes are there.
// `long` is `i64` here, `i32` on other targets.
#[allow(clippy::unnecessary_cast)]
unsafe extern "C" fn count_bytes(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_READ {
        let n = unsafe { *(ev_data as *const std::ffi::c_long) } as i64;
        let have = mg_recv(c).len;
        COUNTS.with(|k| k.borrow_mut().0.push((n, have)));
        if have == 5000 {
            let data = recv_bytes(c);
            assert_eq!(mg_send(c, data.as_ptr().cast(), data.len()), 0);
            mg_recv_consume(c, data.len());
        }
    } else if ev == MG_EV_WRITE {
        let n = unsafe { *(ev_data as *const std::ffi::c_long) } as i64;
        COUNTS.with(|k| k.borrow_mut().1.push(n));
    }
}

/// MG_EV_READ's `long *` is the number of bytes that read added to `mg_recv` (so they add
/// up to what the peer sent), MG_EV_WRITE's the number of bytes that write sent (so they
/// add up to what the handler queued): checked with a real client over 127.0.0.1, in two
/// writes that arrive as separate reads.
#[test]
fn read_and_write_events_carry_the_byte_counts_as_long() {
    let mut m = Mgr::new();
    let l = m.listen("tcp://127.0.0.1:0", Some(count_bytes), std::ptr::null_mut());
    let mut cli = TcpStream::connect(("127.0.0.1", port(l))).unwrap();
    cli.write_all(&[b'a'; 1000]).unwrap();
    m.poll_until(5, "the first 1000 bytes", |_| {
        COUNTS.with(|k| k.borrow().0.last().is_some_and(|e| e.1 == 1000))
    });
    cli.write_all(&[b'b'; 4000]).unwrap();
    m.poll_until(5, "the echo flushed", |_| {
        COUNTS.with(|k| k.borrow().1.iter().sum::<i64>() >= 5000)
    });
    let (reads, writes) = COUNTS.with(|k| k.borrow().clone());
    let mut have = 0;
    for &(n, len) in &reads {
        assert!(n > 0, "a read of nothing: {reads:?}");
        have += n as usize;
        assert_eq!(len, have, "mg_recv grew by the read's count: {reads:?}");
    }
    assert_eq!(have, 5000, "{reads:?}");
    assert!(writes.iter().all(|&n| n > 0), "{writes:?}");
    assert_eq!(writes.iter().sum::<i64>(), 5000, "{writes:?}");
    let mut back = vec![0u8; 5000];
    cli.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    cli.read_exact(&mut back).unwrap();
    assert!(back[..1000].iter().all(|&b| b == b'a') && back[1000..].iter().all(|&b| b == b'b'));
}

thread_local! {
    /// Every `*(uint64_t *) ev_data` of MG_EV_POLL that `sntp_polls` got.
    static SNTP_POLLS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn sntp_polls(_c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_POLL {
        let t = unsafe { *(ev_data as *const u64) };
        SNTP_POLLS.with(|p| p.borrow_mut().push(t));
    }
}

/// A handler behind a protocol layer (SNTP's) gets MG_EV_POLL through the adapter's event
/// dispatch rather than the poll walk's direct call: the same `uint64_t *` to the poll's
/// time in milliseconds, once per poll.
#[test]
fn a_layered_c_handler_gets_poll_events_with_the_time() {
    let mut m = Mgr::new();
    // A UDP socket that never answers: the request stays pending over the polls.
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = CString::new(format!("udp://127.0.0.1:{}", quiet.local_addr().unwrap().port())).unwrap();
    let c = meerkat::ffi::sntp::mg_sntp_connect(m.ptr(), url.as_ptr(), Some(sntp_polls), std::ptr::null_mut());
    assert!(c.h != 0);
    for _ in 0..3 {
        let before = meerkat::util::clock::millis();
        m.poll(0);
        let after = meerkat::util::clock::millis();
        let got = SNTP_POLLS.with(|p| std::mem::take(&mut *p.borrow_mut()));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(before <= got[0] && got[0] <= after, "{before} <= {got:?} <= {after}");
    }
    assert_eq!(mg_close(c), 0);
}
