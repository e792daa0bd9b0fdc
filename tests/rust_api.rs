//! The manager through its Rust API (no C): event order, G1 stale handles, G2 cross-thread
//! messages and undelivered payloads, G3 one `Close` per connection, G7 re-entrant handlers,
//! timers as closures, and the HTTP view. The C ABI keeps its own tests (tests/api.rs, ...).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use meerkat::{ConnId, Error, Event, Mgr, TimerOpts};

type Log = Rc<RefCell<Vec<String>>>;
type Returned = Rc<RefCell<Vec<(ConnId, Vec<u8>)>>>;
type Messages = Rc<RefCell<Vec<(u8, Vec<u8>)>>>;
type BoxedHandler = Box<dyn Fn(&Mgr, ConnId, Event<'_>)>;

fn name(ev: &Event<'_>) -> String {
    match ev {
        Event::Error(e) => format!("error {e}"),
        Event::Open => "open".into(),
        Event::Poll(_) => "poll".into(),
        Event::Resolve => "resolve".into(),
        Event::Connect => "connect".into(),
        Event::Accept => "accept".into(),
        Event::TlsHandshake => "tls".into(),
        Event::Read(_) => "read".into(),
        Event::Write(_) => "write".into(),
        Event::Close => "close".into(),
        Event::HttpHeaders(_) => "hdrs".into(),
        Event::HttpMessage(m) => format!("msg {}", String::from_utf8_lossy(m.uri())),
        Event::HttpChunk(_) => "chunk".into(),
        Event::Wakeup(d) => format!("wakeup {}", String::from_utf8_lossy(d)),
        _ => "other".into(),
    }
}

fn poll_until(mgr: &Mgr, what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        mgr.poll(10).unwrap();
    }
}

fn port_of(mgr: &Mgr, l: ConnId) -> u16 {
    mgr.info(l).unwrap().local.unwrap().port()
}

#[test]
fn echo_on_one_manager_events_in_order_and_live_count_back_to_zero() {
    let mgr = Mgr::new().unwrap();
    let closes = Rc::new(Cell::new(0));
    let n = closes.clone();
    let l = mgr
        .listen(
            "tcp://127.0.0.1:0",
            move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::Read(_) => {
                    let mut buf = Vec::new();
                    mgr.read(c, &mut buf).unwrap();
                    mgr.send(c, &buf).unwrap();
                }
                Event::Close => n.set(n.get() + 1),
                _ => {}
            },
        )
        .unwrap();
    let url = format!("tcp://127.0.0.1:{}", port_of(&mgr, l));
    let log: Log = Rc::default();
    let got = Rc::new(RefCell::new(Vec::new()));
    let (lg, g) = (log.clone(), got.clone());
    let c = mgr
        .connect(&url, move |mgr: &Mgr, c: ConnId, ev: Event<'_>| {
            if !matches!(ev, Event::Poll(_) | Event::Write(_) | Event::Read(_)) {
                lg.borrow_mut().push(name(&ev));
            }
            match ev {
                Event::Connect => mgr.send(c, b"ping").unwrap(),
                Event::Read(_) => {
                    mgr.read(c, &mut g.borrow_mut()).unwrap();
                    if g.borrow().len() == 4 {
                        mgr.close(c).unwrap();
                    }
                }
                _ => {}
            }
        })
        .unwrap();
    poll_until(&mgr, "the client's close", || {
        log.borrow().last().is_some_and(|e| e == "close")
    });
    assert_eq!(*got.borrow(), b"ping");
    assert_eq!(*log.borrow(), ["open", "connect", "close"]);
    // G1: the closed connection's handle is stale everywhere, and never comes back.
    assert_eq!(mgr.send(c, b"x"), Err(Error::Stale));
    assert_eq!(mgr.info(c).err(), Some(Error::Stale));
    assert_eq!(mgr.close(c), Err(Error::Stale));
    // The server side sees EOF and closes once.
    poll_until(&mgr, "the server side's close", || closes.get() == 1);
    mgr.close(l).unwrap();
    poll_until(&mgr, "the listener's close", || closes.get() == 2);
    mgr.poll(0).unwrap();
    assert_eq!(mgr.stats().1, 0, "live connections back to zero");
    assert_eq!(closes.get(), 2, "one Close per connection");
}

#[test]
fn handlers_reenter_the_manager() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let lg = log.clone();
    // A UDP listener is open at once: its handler opens another connection, fails itself
    // (a nested Error event to this same handler before fail returns), and frees a timer.
    let h = mgr
        .listen("udp://127.0.0.1:0", move |mgr: &Mgr, c: ConnId, ev: Event<'_>| {
            lg.borrow_mut().push(name(&ev));
            if let Event::Open = ev {
                let other = mgr
                    .listen("tcp://127.0.0.1:0", |_: &Mgr, _: ConnId, _: Event<'_>| {})
                    .unwrap();
                let t = mgr.timer_add(1000, TimerOpts::once(), |_: &Mgr| {}).unwrap();
                mgr.timer_free(t).unwrap();
                mgr.close(other).unwrap();
                mgr.fail(c, "given up");
                lg.borrow_mut().push("after fail".into());
            }
        })
        .unwrap();
    assert_eq!(*log.borrow(), ["open", "error given up", "after fail"]);
    assert_eq!(mgr.poll(0), Ok(()));
    assert!(log.borrow().ends_with(&["close".to_string()]));
    assert_eq!(mgr.send(h, b"x"), Err(Error::Stale));
    // poll from inside a handler is refused, not re-entered.
    let busy = Rc::new(Cell::new(None));
    let b = busy.clone();
    mgr.listen("udp://127.0.0.1:0", move |mgr: &Mgr, _: ConnId, ev: Event<'_>| {
        if let Event::Open = ev {
            b.set(Some(mgr.poll(0)));
        }
    })
    .unwrap();
    assert_eq!(busy.get(), Some(Err(Error::Busy)));
}

#[test]
fn timers_are_closures_and_die_with_their_connection() {
    let mgr = Mgr::new().unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let repeat = mgr
        .timer_add(1, TimerOpts::repeat(), move |_: &Mgr| f.set(f.get() + 1))
        .unwrap();
    poll_until(&mgr, "three ticks", || fired.get() >= 3);
    mgr.timer_free(repeat).unwrap();
    assert_eq!(mgr.timer_free(repeat), Err(Error::Stale));

    let c = mgr
        .listen("udp://127.0.0.1:0", |_: &Mgr, _: ConnId, _: Event<'_>| {})
        .unwrap();
    let owned = Rc::new(Cell::new(0));
    let o = owned.clone();
    let t = mgr
        .timer_add_conn(c, 1, TimerOpts::repeat(), move |_: &Mgr, owner: ConnId| {
            assert_eq!(owner, c);
            o.set(o.get() + 1);
        })
        .unwrap();
    poll_until(&mgr, "the connection's timer", || owned.get() >= 1);
    mgr.close(c).unwrap();
    mgr.poll(0).unwrap();
    let after = owned.get();
    assert_eq!(mgr.timer_free(t), Err(Error::Stale), "freed with its connection");
    std::thread::sleep(Duration::from_millis(5));
    mgr.poll(0).unwrap();
    assert_eq!(owned.get(), after);
    assert_eq!(
        mgr.timer_add_conn(c, 1, TimerOpts::once(), |_: &Mgr, _: ConnId| {}),
        Err(Error::Stale)
    );

    // A one-shot timer that frees itself from its own callback.
    let slot: Rc<Cell<Option<ConnId>>> = Rc::default();
    let result = Rc::new(Cell::new(None));
    let (s, r) = (slot.clone(), result.clone());
    let t = mgr
        .timer_add(0, TimerOpts::once(), move |mgr: &Mgr| {
            r.set(Some(mgr.timer_free(s.get().unwrap())))
        })
        .unwrap();
    slot.set(Some(t));
    poll_until(&mgr, "the one-shot", || result.get().is_some());
    assert_eq!(result.get(), Some(Ok(())));
}

#[test]
fn sender_delivers_by_handle_and_hands_back_what_it_cannot() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let lg = log.clone();
    let c = mgr
        .listen("udp://127.0.0.1:0", move |_: &Mgr, _: ConnId, ev: Event<'_>| {
            if let Event::Wakeup(_) = ev {
                lg.borrow_mut().push(name(&ev));
            }
        })
        .unwrap();
    let back: Returned = Rc::default();
    let b = back.clone();
    mgr.set_undelivered(Some(Box::new(move |_: &Mgr, h: ConnId, data: Vec<u8>| {
        b.borrow_mut().push((h, data))
    })));
    let sender = mgr.sender();
    std::thread::spawn(move || {
        sender.send(c, b"one").unwrap();
        sender.send(c, b"two").unwrap();
    })
    .join()
    .unwrap();
    poll_until(&mgr, "two wakeups", || log.borrow().len() == 2);
    assert_eq!(*log.borrow(), ["wakeup one", "wakeup two"], "FIFO per connection");

    // Accepted, then the connection closes before delivery: handed back, never delivered.
    let sender = mgr.sender();
    sender.send(c, b"late").unwrap();
    mgr.close(c).unwrap();
    mgr.poll(0).unwrap();
    assert_eq!(*back.borrow(), [(c, b"late".to_vec())]);
    assert_eq!(log.borrow().len(), 2);
    assert_eq!(sender.send(c, b"x"), Err(Error::Stale));
    drop(mgr);
    assert_eq!(sender.send(c, b"x"), Err(Error::Closing), "the manager is gone");
}

#[test]
fn http_server_and_client_through_the_message_view() {
    let mgr = Mgr::new().unwrap();
    let l = mgr
        .http_listen("http://127.0.0.1:0", |mgr: &Mgr, c: ConnId, ev: Event<'_>| {
            if let Event::HttpMessage(req) = ev {
                assert_eq!(req.method(), b"POST");
                assert_eq!(req.uri(), b"/echo");
                assert_eq!(req.query(), b"a=1");
                assert_eq!(req.proto(), b"HTTP/1.1");
                assert_eq!(req.header(b"x-test"), Some(&b"yes"[..]));
                assert_eq!(req.headers().count(), req.num_headers());
                let body = req.body().to_vec();
                mgr.http_reply(c, 201, b"X-Reply: 1\r\n", &body).unwrap();
            }
        })
        .unwrap();
    let url = format!("http://127.0.0.1:{}", port_of(&mgr, l));
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    mgr.http_connect(&url, move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
        Event::Connect => {
            let req = b"POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello";
            mgr.send(c, req).unwrap();
        }
        Event::HttpMessage(resp) => {
            *g.borrow_mut() = Some((
                resp.uri().to_vec(),
                resp.header(b"X-REPLY").map(<[u8]>::to_vec),
                resp.body().to_vec(),
            ));
            mgr.close(c).unwrap();
        }
        _ => {}
    })
    .unwrap();
    poll_until(&mgr, "the response", || got.borrow().is_some());
    assert_eq!(
        got.borrow().clone().unwrap(),
        (b"201".to_vec(), Some(b"1".to_vec()), b"hello".to_vec())
    );
}

/// WebSocket through the Rust API: a server upgraded in `HttpMessage`, a client from
/// `ws_connect` on the same manager; text, binary, a 300 KB message (compressed: deflate is
/// negotiated both ways), `ws_wrap` of bytes queued with `send`, a ping answered
/// automatically, then the client's close: echoed, and each side closes once.
#[test]
fn websocket_server_and_client_on_one_manager() {
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let slog = log.clone();
    let l = mgr
        .http_listen(
            "http://127.0.0.1:0",
            move |m: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::HttpMessage(hm) => {
                    let ext = hm.header(b"Sec-WebSocket-Extensions").unwrap_or_default();
                    slog.borrow_mut()
                        .push(format!("s offer {}", String::from_utf8_lossy(ext)));
                    m.ws_upgrade(c, hm, b"X-Hello: 1\r\n").unwrap();
                    // Not a second time: the connection speaks WebSocket now.
                    assert_eq!(m.ws_upgrade(c, hm, b""), Err(Error::Unsupported));
                }
                Event::WsOpen(hm) => slog
                    .borrow_mut()
                    .push(format!("s open {}", String::from_utf8_lossy(hm.uri()))),
                Event::WsMessage(wm) => {
                    m.ws_send(c, wm.opcode(), wm.data).unwrap();
                }
                Event::WsControl(wm) => slog.borrow_mut().push(format!("s ctl {}", wm.opcode())),
                Event::Close if m.info(c).is_ok_and(|i| i.is_accepted) => slog.borrow_mut().push("s close".into()),
                _ => {}
            },
        )
        .unwrap();
    let port = port_of(&mgr, l);
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let got: Messages = Rc::default();
    let (clog, cgot) = (log.clone(), got.clone());
    let big2 = big.clone();
    let c = mgr
        .ws_connect(
            &format!("ws://127.0.0.1:{port}/chat?x=1"),
            move |m: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::WsOpen(hm) => {
                    let ext = hm.header(b"Sec-WebSocket-Extensions").unwrap_or_default();
                    clog.borrow_mut().push(format!(
                        "c open {} {} {}",
                        String::from_utf8_lossy(hm.uri()),
                        String::from_utf8_lossy(hm.header(b"X-Hello").unwrap_or_default()),
                        String::from_utf8_lossy(ext)
                    ));
                    m.ws_send(c, meerkat::ws::WEBSOCKET_OP_TEXT, b"hello").unwrap();
                    m.ws_send(c, meerkat::ws::WEBSOCKET_OP_BINARY, &big2).unwrap();
                    m.send(c, b"wrapped").unwrap();
                    m.ws_wrap(c, 7, meerkat::ws::WEBSOCKET_OP_TEXT).unwrap();
                    m.ws_send(c, meerkat::ws::WEBSOCKET_OP_PING, b"p").unwrap();
                    assert_eq!(m.ws_send(c, 3, b"x"), Err(Error::Invalid));
                }
                Event::WsMessage(wm) => {
                    cgot.borrow_mut().push((wm.opcode(), wm.data.to_vec()));
                    if cgot.borrow().len() == 3 {
                        m.ws_send(c, meerkat::ws::WEBSOCKET_OP_CLOSE, &[0x0f, 0xa0]).unwrap();
                        assert_eq!(m.ws_send(c, 1, b"late"), Err(Error::Closing));
                    }
                }
                Event::WsControl(wm) => clog
                    .borrow_mut()
                    .push(format!("c ctl {} {:?}", wm.opcode(), wm.close_code())),
                Event::Close => clog.borrow_mut().push("c close".into()),
                _ => {}
            },
            b"",
        )
        .unwrap();
    poll_until(&mgr, "both closes", || {
        let l = log.borrow();
        l.iter().any(|e| e == "c close") && l.iter().any(|e| e == "s close")
    });
    assert!(!mgr.contains(c));
    let got = got.borrow();
    assert_eq!(got[0], (1, b"hello".to_vec()));
    assert_eq!(got[1], (2, big));
    assert_eq!(got[2], (1, b"wrapped".to_vec()));
    let log = log.borrow();
    let want = [
        "s offer permessage-deflate; client_max_window_bits",
        "s open /chat",
        "c open 101 1 permessage-deflate",
        "s ctl 9",
        "c ctl 10 None",
        "s ctl 8",
        "c ctl 8 Some(4000)",
    ];
    for w in want {
        assert!(log.iter().any(|e| e == w), "{w} not in {log:?}");
    }
    assert_eq!(log.iter().filter(|e| *e == "s close").count(), 1, "{log:?}");
    assert_eq!(log.iter().filter(|e| *e == "c close").count(), 1, "{log:?}");
    assert_eq!(mgr.stats().1, 1, "only the listener is left");
}

/// An upgraded connection is under none of the HTTP timeouts: with head, idle and body
/// timeouts of 100 ms, a WebSocket that stays silent for 600 ms is still open and echoes.
#[test]
fn websocket_is_not_under_http_timeouts() {
    let mgr = Mgr::new().unwrap();
    let mut l = mgr.limits();
    l.http_head_timeout_ms = 100;
    l.http_idle_timeout_ms = 100;
    l.http_body_timeout_ms = 100;
    mgr.set_limits(l).unwrap();
    let lsn = mgr
        .http_listen("http://127.0.0.1:0", |m: &Mgr, c: ConnId, ev: Event<'_>| match ev {
            Event::HttpMessage(hm) => m.ws_upgrade(c, hm, b"").unwrap(),
            Event::WsMessage(wm) => {
                m.ws_send(c, wm.opcode(), wm.data).unwrap();
            }
            _ => {}
        })
        .unwrap();
    let port = port_of(&mgr, lsn);
    let echoes = Rc::new(Cell::new(0));
    let closed = Rc::new(Cell::new(false));
    let (e2, c2) = (echoes.clone(), closed.clone());
    let c = mgr
        .ws_connect(
            &format!("ws://127.0.0.1:{port}/"),
            move |_: &Mgr, _: ConnId, ev: Event<'_>| match ev {
                Event::WsMessage(_) => e2.set(e2.get() + 1),
                Event::Close => c2.set(true),
                _ => {}
            },
            b"",
        )
        .unwrap();
    poll_until(&mgr, "open", || mgr.info(c).is_ok_and(|i| i.is_websocket));
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(600) {
        mgr.poll(20).unwrap();
    }
    assert!(!closed.get(), "the WebSocket was closed by an HTTP timeout");
    mgr.ws_send(c, meerkat::ws::WEBSOCKET_OP_TEXT, b"still here").unwrap();
    poll_until(&mgr, "echo", || echoes.get() == 1);
    assert_eq!(mgr.stats().1, 3);
}

/// Timer callbacks are dropped when their timers go, and what they captured with them: a
/// connection's at its close, every other one at shutdown.
#[test]
fn timer_callbacks_are_released_at_close_and_at_shutdown() {
    let mgr = Mgr::new().unwrap();
    let token = Rc::new(());
    let (a, b) = (token.clone(), token.clone());
    mgr.timer_add(60_000, TimerOpts::repeat(), move |_: &Mgr| {
        let _ = &a;
    })
    .unwrap();
    let c = mgr
        .listen("tcp://127.0.0.1:0", |_: &Mgr, _: ConnId, _: Event<'_>| {})
        .unwrap();
    mgr.timer_add_conn(c, 60_000, TimerOpts::repeat(), move |_: &Mgr, _: ConnId| {
        let _ = &b;
    })
    .unwrap();
    assert_eq!((Rc::strong_count(&token), mgr.stats().2), (3, 2));
    mgr.close(c).unwrap();
    mgr.poll(0).unwrap();
    assert_eq!(
        (Rc::strong_count(&token), mgr.stats().2),
        (2, 1),
        "the connection's timer went with it"
    );
    mgr.shutdown().unwrap();
    assert_eq!(
        (Rc::strong_count(&token), mgr.stats().2),
        (1, 0),
        "shutdown freed the rest"
    );
}

/// A manager's first timers are added by handlers while every poll may wait 5 s: a
/// connection's timer from its first `Event::Poll` (after that poll's timer step, in a poll
/// that began with no timer on the manager), then a global one from that timer's callback.
/// Each bounds the next poll's wait: both fire after their delay, not at the next I/O (there
/// is none: the client stays silent).
#[test]
fn timers_added_by_handlers_during_long_polls_fire_on_time() {
    let mgr = Mgr::new().unwrap();
    type Fired = Rc<RefCell<Vec<(&'static str, Duration)>>>;
    let fired: Fired = Rc::default();
    let accepted: Rc<Cell<Option<ConnId>>> = Rc::default();
    let (f, a) = (fired.clone(), accepted.clone());
    let l = mgr
        .listen(
            "tcp://127.0.0.1:0",
            move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::Accept => a.set(Some(c)),
                Event::Poll(_) if a.get() == Some(c) => {
                    a.set(None);
                    let f = f.clone();
                    let added = Instant::now();
                    mgr.timer_add_conn(c, 150, TimerOpts::once(), move |mgr: &Mgr, _: ConnId| {
                        f.borrow_mut().push(("conn", added.elapsed()));
                        let f = f.clone();
                        let added = Instant::now();
                        mgr.timer_add(100, TimerOpts::once(), move |_: &Mgr| {
                            f.borrow_mut().push(("global", added.elapsed()))
                        })
                        .unwrap();
                    })
                    .unwrap();
                }
                _ => {}
            },
        )
        .unwrap();
    let _client = std::net::TcpStream::connect(("127.0.0.1", port_of(&mgr, l))).unwrap();
    let start = Instant::now();
    while fired.borrow().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "timers late: {:?}",
            fired.borrow()
        );
        mgr.poll(5000).unwrap();
    }
    let fired = fired.borrow();
    assert_eq!(fired.iter().map(|f| f.0).collect::<Vec<_>>(), ["conn", "global"]);
    // The loop's clock counts whole milliseconds (as Mongoose's does): a timer added at
    // 1000.9 ms with a 100 ms delay is due at 1100 ms, 99.1 ms of real time later. So the
    // real delay is at least `ms - 1` (a run once saw 99.6 ms); what matters here is that
    // neither timer waited for the 5 s poll.
    assert!(fired[0].1 >= Duration::from_millis(149), "{fired:?}");
    assert!(fired[1].1 >= Duration::from_millis(99), "{fired:?}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}

/// Time is passed in (smoltcp's `poll(now)`): a manager driven by `poll_at` runs its timers
/// on the caller's clock only, whatever the platform clock says.
#[test]
fn poll_at_runs_timers_on_the_callers_clock() {
    let mgr = Mgr::new().unwrap();
    // A clock far from the platform's: timers must follow it, not the real time.
    let base = 5_000_000_000u64;
    mgr.poll_at(base, 0).unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    mgr.timer_add(500, TimerOpts::repeat(), move |_: &Mgr| f.set(f.get() + 1))
        .unwrap();
    mgr.poll_at(base + 499, 0).unwrap();
    assert_eq!(fired.get(), 0, "not due at +499 ms");
    mgr.poll_at(base + 500, 0).unwrap();
    assert_eq!(fired.get(), 1, "due at +500 ms");
    // Real time passing does not matter; the caller's clock standing still means no firing.
    std::thread::sleep(Duration::from_millis(30));
    mgr.poll_at(base + 500, 0).unwrap();
    assert_eq!(fired.get(), 1);
    mgr.poll_at(base + 1000, 0).unwrap();
    assert_eq!(fired.get(), 2, "repeats on the caller's clock");
}

/// WebSocket sends from another thread by handle (`Sender::ws_send`, `ws_broadcast`): a
/// worker streams 200 numbered text messages to one client and broadcasts twice; they arrive
/// whole and in order, the broadcast reaches every WebSocket (accepted and client ones, not
/// the HTTP listener) and says how many; a handle that is not a WebSocket is refused with `Unsupported`, a bad opcode with
/// `Invalid`; after the client closes, its handle is `Stale`, and messages accepted just
/// before it went are handed to the undelivered callback, so accepted == received + returned.
#[test]
fn websocket_sends_from_a_thread_by_handle() {
    use meerkat::ws::{WEBSOCKET_OP_CONTINUE, WEBSOCKET_OP_TEXT};
    let mgr = Mgr::new().unwrap();
    let opened: Rc<RefCell<Vec<ConnId>>> = Rc::default();
    let o2 = opened.clone();
    let l = mgr
        .http_listen(
            "http://127.0.0.1:0",
            move |m: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::HttpMessage(hm) => m.ws_upgrade(c, hm, b"").unwrap(),
                Event::WsOpen(_) => o2.borrow_mut().push(c),
                _ => {}
            },
        )
        .unwrap();
    let port = port_of(&mgr, l);
    let got: Messages = Rc::default();
    let client_open = Rc::new(Cell::new(0));
    let mut clients = Vec::new();
    for _ in 0..2 {
        let g = got.clone();
        let co = client_open.clone();
        clients.push(
            mgr.ws_connect(
                &format!("ws://127.0.0.1:{port}/"),
                move |_: &Mgr, _: ConnId, ev: Event<'_>| match ev {
                    Event::WsMessage(wm) => g.borrow_mut().push((wm.opcode(), wm.data.to_vec())),
                    Event::WsOpen(_) => co.set(co.get() + 1),
                    _ => {}
                },
                b"",
            )
            .unwrap(),
        );
    }
    // Both ends of both: the broadcast below counts the clients too, which are WebSockets
    // only once their 101 arrived.
    poll_until(&mgr, "two WebSockets", || {
        opened.borrow().len() == 2 && client_open.get() == 2
    });
    let returned: Returned = Rc::default();
    let r2 = returned.clone();
    mgr.set_undelivered(Some(Box::new(move |_: &Mgr, h: ConnId, data: Vec<u8>| {
        r2.borrow_mut().push((h, data));
    })));
    let sender = mgr.sender();
    assert_eq!(
        sender.ws_send(l, WEBSOCKET_OP_TEXT, b"x"),
        Err(Error::Unsupported),
        "a listener"
    );
    let target = opened.borrow()[0];
    assert_eq!(sender.ws_send(target, WEBSOCKET_OP_CONTINUE, b"x"), Err(Error::Invalid));
    let s2 = sender.clone();
    let worker = std::thread::spawn(move || {
        let mut n = 0;
        for i in 0..200 {
            let msg = format!("m{i:03} {}", "a".repeat(i));
            while let Err(e) = s2.ws_send(target, WEBSOCKET_OP_TEXT, msg.as_bytes()) {
                assert_eq!(e, Error::Full);
                std::thread::yield_now();
            }
            n += 1;
            if i == 50 || i == 150 {
                // Four WebSockets: two accepted, two clients (all on this manager). The
                // wakeup queue may be full of the messages above: that is said, not lost.
                loop {
                    match s2.ws_broadcast(WEBSOCKET_OP_TEXT, b"to all") {
                        Err(Error::Full) => std::thread::yield_now(),
                        r => break assert_eq!(r, Ok(4)),
                    }
                }
            }
        }
        n
    });
    poll_until(&mgr, "everything", || got.borrow().len() == 200 + 4);
    assert_eq!(worker.join().unwrap(), 200);
    // The server sent to the accepted side; both clients are on this manager. The one whose
    // server side is `target` got the 200 in order (and its two broadcasts among them).
    let got = got.borrow();
    let numbered: Vec<&Vec<u8>> = got.iter().map(|(_, d)| d).filter(|d| d.starts_with(b"m")).collect();
    assert_eq!(numbered.len(), 200);
    for (i, d) in numbered.iter().enumerate() {
        assert_eq!(
            **d,
            format!("m{i:03} {}", "a".repeat(i)).into_bytes(),
            "message {i} whole and in order"
        );
    }
    // The clients got the server sides' copies (what the clients sent is not recorded).
    assert_eq!(
        got.iter().filter(|(_, d)| d == b"to all").count(),
        4,
        "two broadcasts, two clients"
    );
    drop(got);
    // The other server-side WebSocket goes away with messages accepted for it just before.
    let other = opened.borrow()[1];
    for i in 0..3 {
        sender
            .ws_send(other, WEBSOCKET_OP_TEXT, format!("late {i}").as_bytes())
            .unwrap();
    }
    mgr.close(other).unwrap();
    poll_until(&mgr, "the three returned", || returned.borrow().len() == 3);
    assert_eq!(sender.ws_send(other, WEBSOCKET_OP_TEXT, b"x"), Err(Error::Stale));
    let returned = returned.borrow();
    assert!(returned.iter().all(|(h, _)| *h == other));
    assert_eq!(
        returned.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
        vec![b"late 0".to_vec(), b"late 1".to_vec(), b"late 2".to_vec()]
    );
    let _ = clients;
}

#[test]
fn poll_reaches_the_connections_open_when_it_began_and_still_open_at_their_turn() {
    let mgr = Mgr::new().unwrap();
    // Per name: Poll events seen, and the events after the first poll in order.
    let polls: Rc<RefCell<std::collections::HashMap<&'static str, u32>>> = Rc::default();
    let log: Log = Rc::default();
    let counter = |who: &'static str| -> BoxedHandler {
        let (p, lg) = (polls.clone(), log.clone());
        Box::new(move |_: &Mgr, _: ConnId, ev: Event<'_>| match ev {
            Event::Poll(_) => *p.borrow_mut().entry(who).or_default() += 1,
            Event::Close => lg.borrow_mut().push(format!("{who} close")),
            _ => {}
        })
    };
    let listen = |h: BoxedHandler| mgr.listen("tcp://127.0.0.1:0", h).unwrap();
    let _x0 = listen(counter("x0"));
    // `a` is polled before `gap`'s slot, `b` and `c`: on its first poll it opens `d` (which
    // takes the slot `gap` leaves, after `a` in the walk) and closes `c`.
    let c_id: Rc<Cell<Option<ConnId>>> = Rc::default();
    let armed = Rc::new(Cell::new(false));
    let (cc, on_d, arm) = (c_id.clone(), counter("d"), armed.clone());
    let on_d = RefCell::new(Some(on_d));
    let on_a = counter("a");
    let a = listen(Box::new(move |mgr: &Mgr, id: ConnId, ev: Event<'_>| {
        if matches!(ev, Event::Poll(_)) && arm.get() {
            if let Some(h) = on_d.borrow_mut().take() {
                mgr.listen("tcp://127.0.0.1:0", h).unwrap();
                mgr.close(cc.get().unwrap()).unwrap();
            }
        }
        on_a(mgr, id, ev);
    }));
    let gap = listen(counter("gap"));
    let _b = listen(counter("b"));
    c_id.set(Some(listen(counter("c"))));
    mgr.close(gap).unwrap();
    poll_until(&mgr, "gap closed", || log.borrow().iter().any(|e| e == "gap close"));
    polls.borrow_mut().clear();
    log.borrow_mut().clear();

    armed.set(true);
    mgr.poll(0).unwrap();
    let got = |who| polls.borrow().get(who).copied().unwrap_or(0);
    assert_eq!((got("x0"), got("a"), got("b")), (1, 1, 1), "{:?}", polls.borrow());
    assert_eq!(got("c"), 0, "closed by an earlier handler in the same poll, yet polled");
    assert_eq!(got("d"), 0, "opened during the poll, yet polled in it");
    assert_eq!(*log.borrow(), ["c close"]);
    mgr.poll(0).unwrap();
    assert_eq!((got("a"), got("d")), (2, 1), "{:?}", polls.borrow());
    mgr.close(a).unwrap();
    mgr.poll(0).unwrap();
}

/// A connection closed by a handler earlier in the same poll gets no `Read` for the bytes
/// that poll found on it (after close only `Close` is delivered): both clients' bytes are
/// waiting when the poll begins, and whichever connection reads first closes the other.
#[test]
fn a_connection_closed_earlier_in_the_poll_gets_no_read() {
    use std::io::Write;
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let conns: Rc<RefCell<Vec<ConnId>>> = Rc::default();
    let (lg, cs) = (log.clone(), conns.clone());
    let l = mgr
        .listen(
            "tcp://127.0.0.1:0",
            move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::Accept => cs.borrow_mut().push(c),
                Event::Read(_) => {
                    lg.borrow_mut().push(format!("read {}", c.serial()));
                    for &o in cs.borrow().iter().filter(|&&o| o != c) {
                        mgr.close(o).unwrap();
                    }
                }
                Event::Close => lg.borrow_mut().push(format!("close {}", c.serial())),
                _ => {}
            },
        )
        .unwrap();
    let port = port_of(&mgr, l);
    let mut a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    poll_until(&mgr, "both accepted", || conns.borrow().len() == 2);
    a.write_all(b"x").unwrap();
    b.write_all(b"y").unwrap();
    std::thread::sleep(Duration::from_millis(100)); // both readable before the next wait
    mgr.poll(0).unwrap();
    let events = log.borrow().clone();
    assert_eq!(events.iter().filter(|e| e.starts_with("read")).count(), 1, "{events:?}");
    assert_eq!(
        events.iter().filter(|e| e.starts_with("close")).count(),
        1,
        "{events:?}"
    );
    mgr.close(l).unwrap();
    let ids: Vec<ConnId> = conns.borrow().clone();
    for c in ids {
        let _ = mgr.close(c);
    }
    mgr.poll(0).unwrap();
}

/// What the application changes between polls on connections that were idle for several
/// polls takes effect at the next poll, without waiting for its timeout: the loop skips
/// the connections that did not change since it last looked at them (every change marks
/// one), so a change it did not see would leave a socket watched for what it was before
/// (no `POLLOUT` for queued bytes, no `POLLIN` after a pause ends) or a close undone until
/// the wait's end. Each step is one `poll(2000)` that must end well before 2 s.
#[test]
fn changes_between_polls_to_idle_connections_take_effect_at_the_next_poll() {
    use std::io::{Read, Write};
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let conns: Rc<RefCell<Vec<ConnId>>> = Rc::default();
    let (lg, cs) = (log.clone(), conns.clone());
    let l = mgr
        .listen(
            "tcp://127.0.0.1:0",
            move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
                Event::Accept => cs.borrow_mut().push(c),
                Event::Read(_) => {
                    let mut buf = Vec::new();
                    mgr.read(c, &mut buf).unwrap();
                    lg.borrow_mut().push(format!("read {}", String::from_utf8_lossy(&buf)));
                }
                Event::Close => lg.borrow_mut().push(format!("close {}", c.serial())),
                _ => {}
            },
        )
        .unwrap();
    let port = port_of(&mgr, l);
    let mut a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    poll_until(&mgr, "both accepted", || conns.borrow().len() == 2);
    let (ca, cb) = (conns.borrow()[0], conns.borrow()[1]);
    let idle = || {
        for _ in 0..3 {
            mgr.poll(1).unwrap();
        }
    };
    let one_poll = |what: &str| {
        let t = Instant::now();
        mgr.poll(2000).unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(1000),
            "{what}: the poll waited {:?}",
            t.elapsed()
        );
    };

    // Bytes queued between polls go out in the next one.
    idle();
    mgr.send(ca, b"ping").unwrap();
    one_poll("send");
    let mut got = [0u8; 4];
    a.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");

    // Reading paused between polls: the bytes stay unread; resumed: read at the next poll.
    idle();
    mgr.recv_pause(cb, true).unwrap();
    b.write_all(b"x").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    mgr.poll(50).unwrap();
    assert!(
        !log.borrow().iter().any(|e| e.starts_with("read")),
        "{:?}",
        log.borrow()
    );
    idle();
    mgr.recv_pause(cb, false).unwrap();
    one_poll("recv_pause(false)");
    assert!(log.borrow().iter().any(|e| e == "read x"), "{:?}", log.borrow());

    // Closed between polls: closed in the next one, the peer sees EOF.
    idle();
    mgr.close(ca).unwrap();
    one_poll("close");
    assert!(
        log.borrow().iter().any(|e| *e == format!("close {}", ca.serial())),
        "{:?}",
        log.borrow()
    );
    assert_eq!(a.read(&mut got).unwrap(), 0, "EOF after the close");

    mgr.close(cb).unwrap();
    mgr.close(l).unwrap();
    mgr.poll(0).unwrap();
    assert_eq!(mgr.stats().1, 0);
}

/// For a request without a body, what the handler does in `HttpHeaders` decides what
/// follows, as the HTTP step's next round would (the manager delivers `HttpMessage` in the
/// same look when nothing stops it): nothing or an early reply, then `HttpMessage`; a
/// replaced handler gets it; paused, no `HttpMessage` until reading resumes; closed, none;
/// upgraded to a WebSocket, `WsOpen` instead. Each response goes out once.
#[test]
fn what_a_handler_does_in_the_headers_of_a_bodyless_request_decides_what_follows() {
    use std::io::{Read, Write};
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let paused: Rc<RefCell<Vec<ConnId>>> = Rc::default();
    let (lg, ps) = (log.clone(), paused.clone());
    let l = mgr
        .http_listen("http://127.0.0.1:0", move |m: &Mgr, c: ConnId, ev: Event<'_>| {
            let uri = match ev {
                Event::HttpHeaders(hm) | Event::HttpMessage(hm) | Event::WsOpen(hm) => {
                    String::from_utf8_lossy(hm.uri()).into_owned()
                }
                _ => return,
            };
            let kind = match ev {
                Event::HttpHeaders(_) => "hdrs",
                Event::HttpMessage(_) => "msg",
                _ => "wsopen",
            };
            lg.borrow_mut().push(format!("{kind} {uri}"));
            match (ev, uri.as_str()) {
                (Event::HttpHeaders(_), "/early") => m.http_reply(c, 200, b"", b"early").unwrap(),
                (Event::HttpHeaders(_), "/pause") => {
                    m.recv_pause(c, true).unwrap();
                    ps.borrow_mut().push(c);
                }
                (Event::HttpHeaders(_), "/close") => m.close(c).unwrap(),
                (Event::HttpHeaders(hm), "/ws") => m.ws_upgrade(c, hm, b"").unwrap(),
                (Event::HttpHeaders(_), "/swap") => {
                    let lg = lg.clone();
                    let f = move |m: &Mgr, c: ConnId, ev: Event<'_>| {
                        if let Event::HttpMessage(hm) = ev {
                            lg.borrow_mut()
                                .push(format!("new msg {}", String::from_utf8_lossy(hm.uri())));
                            m.http_reply(c, 200, b"", b"swapped").unwrap();
                        }
                    };
                    m.set_handler(c, Rc::new(f)).unwrap();
                }
                (Event::HttpMessage(_), "/early") => {}
                (Event::HttpMessage(_), _) => m.http_reply(c, 200, b"", uri.as_bytes()).unwrap(),
                _ => {}
            }
        })
        .unwrap();
    let port = port_of(&mgr, l);
    let ask = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let extra = if path == "/ws" {
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        } else {
            ""
        };
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    };
    // Reads what has come so far; true once the peer closed.
    let drain = |s: &mut std::net::TcpStream, got: &mut Vec<u8>| {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => return false,
            }
        }
    };
    let paths = ["/plain", "/early", "/swap", "/close", "/ws", "/pause"];
    let mut socks: Vec<_> = paths.iter().map(|p| (ask(p), Vec::new(), false)).collect();
    let complete = |got: &[u8]| {
        let t = String::from_utf8_lossy(got);
        t.find("\r\n\r\n").is_some_and(|i| {
            let len = t
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            t.len() >= i + 4 + len
        })
    };
    poll_until(&mgr, "the answers", || {
        for (s, got, eof) in socks.iter_mut() {
            *eof |= drain(s, got);
        }
        let s = &socks;
        complete(&s[0].1) && complete(&s[1].1) && complete(&s[2].1) && s[3].2 && s[4].1.starts_with(b"HTTP/1.1 101")
    });
    // The paused request gets no HttpMessage while paused, whatever the polls.
    for _ in 0..5 {
        mgr.poll(10).unwrap();
    }
    assert!(!log.borrow().iter().any(|e| e == "msg /pause"), "{:?}", log.borrow());
    assert!(socks[5].1.is_empty());
    let c = paused.borrow()[0];
    mgr.recv_pause(c, false).unwrap();
    poll_until(&mgr, "the paused request's answer", || {
        let (s, got, _) = &mut socks[5];
        drain(s, got);
        complete(got)
    });
    for _ in 0..3 {
        mgr.poll(10).unwrap();
    }
    let body = |got: &[u8]| {
        let t = String::from_utf8_lossy(got).into_owned();
        assert_eq!(t.matches("HTTP/1.1 200").count(), 1, "one response: {t}");
        t[t.find("\r\n\r\n").unwrap() + 4..].to_string()
    };
    assert_eq!(body(&socks[0].1), "/plain");
    assert_eq!(body(&socks[1].1), "early");
    assert_eq!(body(&socks[2].1), "swapped");
    assert!(socks[3].1.is_empty(), "closed in HttpHeaders: no response");
    assert_eq!(body(&socks[5].1), "/pause");
    let mut log = log.borrow().clone();
    log.sort();
    let mut want = vec![
        "hdrs /plain",
        "msg /plain",
        "hdrs /early",
        "msg /early",
        "hdrs /swap",
        "new msg /swap",
        "hdrs /close",
        "hdrs /ws",
        "wsopen /ws",
        "hdrs /pause",
        "msg /pause",
    ];
    want.sort();
    assert_eq!(log, want);
}

/// A descriptor epoll refuses to watch (`/dev/null`: EPERM) fails with "cannot watch the
/// socket" and closes; so does each of several refused in the same pass (one is reported
/// a poll, the next pass asks again for the others at once). poll(2) watches it: it reads
/// end of file and closes without an error.
#[cfg(target_os = "linux")]
#[test]
fn each_descriptor_the_poller_refuses_fails_and_closes() {
    use std::os::fd::IntoRawFd;
    let epoll = std::env::var_os("MEERKAT_POLLER").is_none_or(|v| v != "poll");
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let mut conns = Vec::new();
    for _ in 0..3 {
        let fd = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
        let lg = log.clone();
        let handler = move |_: &Mgr, c: ConnId, ev: Event<'_>| {
            if !matches!(ev, Event::Poll(_)) {
                lg.borrow_mut().push(format!("{} {}", c.raw(), name(&ev)));
            }
        };
        conns.push(mgr.wrap_fd(fd, Rc::new(handler)).unwrap());
    }
    poll_until(&mgr, "every close", || {
        log.borrow().iter().filter(|s| s.ends_with(" close")).count() == conns.len()
    });
    for c in &conns {
        let mine: Vec<String> = log
            .borrow()
            .iter()
            .filter_map(|s| s.strip_prefix(&format!("{} ", c.raw())).map(String::from))
            .collect();
        let (first, rest) = mine.split_first().unwrap();
        assert_eq!(first, "open");
        assert_eq!(rest.last().map(String::as_str), Some("close"), "{mine:?}");
        let errors: Vec<&String> = rest.iter().filter(|s| s.starts_with("error")).collect();
        if epoll {
            assert_eq!(errors.len(), 1, "{mine:?}");
            assert!(errors[0].starts_with("error cannot watch the socket: "), "{mine:?}");
        } else {
            assert!(errors.is_empty(), "{mine:?}");
        }
    }
    assert_eq!(mgr.stats().1, 0, "every connection freed");
}
