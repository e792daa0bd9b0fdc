//! DNS, SNTP, mDNS and Modbus TCP on the manager (Rust API), each against a real peer on
//! 127.0.0.1 that the test starts: a small Python DNS server (including forged replies that
//! must be ignored), a Python SNTP responder (including replies that must be refused), a
//! Python mDNS query, and pymodbus as the Modbus client (installed into target/pyenv).
//! What is asserted is what a user sees: the events, in order, the address connected to,
//! the bytes the peer got, and the live connection count back to where it was.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::cbuild::root;
use common::example::Child;
use meerkat::{ConnId, Event, Mgr};

type Log = Rc<RefCell<Vec<String>>>;

fn python() -> std::path::PathBuf {
    common::tools::python_with("pymodbus", "pymodbus==3.*")
}

fn script(name: &str) -> String {
    root().join("tests/netproto").join(name).display().to_string()
}

/// Start a Python peer and read the port from its "port N" line.
fn peer(args: &[&str]) -> (Child, u16) {
    let py = python();
    let mut child = Child::start(&py, args);
    let line = child.wait_line("port", |l| l.starts_with("port "));
    (child, line[5..].parse().unwrap())
}

fn poll_until(mgr: &Mgr, secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        mgr.poll(10).unwrap();
    }
}

fn live(mgr: &Mgr) -> usize {
    mgr.stats().1
}

fn name(ev: &Event<'_>) -> String {
    match ev {
        Event::Error(e) => format!("error {e}"),
        Event::Open => "open".into(),
        Event::Resolve => "resolve".into(),
        Event::Connect => "connect".into(),
        Event::Accept => "accept".into(),
        Event::Close => "close".into(),
        Event::SntpTime(t) => format!("time {t}"),
        _ => "other".into(),
    }
}

fn recorder(log: &Log) -> impl Fn(&Mgr, ConnId, Event<'_>) + 'static {
    let log = log.clone();
    move |_: &Mgr, _: ConnId, ev: Event<'_>| {
        if !matches!(ev, Event::Poll(_) | Event::Read(_) | Event::Write(_)) {
            log.borrow_mut().push(name(&ev));
        }
    }
}

// ---- DNS -------------------------------------------------------------------------------

#[test]
fn dns_resolver_connects_and_ignores_forged_replies() {
    let (server, dns_port) = peer(&[&script("dns_server.py")]);
    let mgr = Mgr::new().unwrap();
    let mut l = mgr.limits();
    l.dns_timeout_ms = 900; // three tries, 300 ms apart
    mgr.set_limits(l).unwrap();
    mgr.set_dns(Some(&format!("udp://127.0.0.1:{dns_port}")), None, false)
        .unwrap();
    assert!(mgr.uses_udp_resolver());
    let accepted: Log = Rc::new(RefCell::new(Vec::new()));
    let acc = accepted.clone();
    let listener = mgr
        .listen("tcp://127.0.0.1:0", move |_: &Mgr, _: ConnId, ev: Event<'_>| {
            if matches!(ev, Event::Accept) {
                acc.borrow_mut().push("accept".into());
            }
        })
        .unwrap();
    let port = mgr.info(listener).unwrap().local.unwrap().port();
    let base = live(&mgr);

    // Every name that resolves resolves to 127.0.0.1 (the listener); the forged replies say
    // 127.0.0.66, where nothing listens: connecting there would fail the test.
    for host in ["host", "cname", "slow", "spoof", "HoSt", "localhost"] {
        let log: Log = Rc::new(RefCell::new(Vec::new()));
        // "localhost" is never asked of the server.
        let url = match host {
            "localhost" => format!("tcp://localhost:{port}"),
            _ => format!("tcp://{host}.test:{port}"),
        };
        let c = mgr.connect(&url, recorder(&log)).unwrap();
        poll_until(&mgr, 5, &format!("{host}: connect"), || {
            log.borrow().iter().any(|e| e == "connect" || e.starts_with("error"))
        });
        assert_eq!(*log.borrow(), ["open", "resolve", "connect"], "{host}");
        let remote = mgr.info(c).unwrap().remote.unwrap();
        assert_eq!(remote, format!("127.0.0.1:{port}").parse().unwrap(), "{host}");
        mgr.close(c).unwrap();
        poll_until(&mgr, 5, "close", || log.borrow().last().is_some_and(|e| e == "close"));
    }
    poll_until(&mgr, 5, "accepts", || accepted.borrow().len() == 6);

    // Failures: each one error, then close.
    for (host, err) in [
        ("none", "error host name lookup failed: no such name"),
        ("trunc", "error host name lookup failed: truncated reply"),
        ("silent", "error host name lookup timed out"),
    ] {
        let log: Log = Rc::new(RefCell::new(Vec::new()));
        let t = Instant::now();
        mgr.connect(&format!("tcp://{host}.test:{port}"), recorder(&log))
            .unwrap();
        poll_until(&mgr, 5, host, || log.borrow().last().is_some_and(|e| e == "close"));
        assert_eq!(*log.borrow(), ["open", err, "close"], "{host}");
        if host == "silent" {
            assert!(t.elapsed() >= Duration::from_millis(800), "{host} gave up early");
        }
    }
    poll_until(&mgr, 5, "DNS sockets closed", || live(&mgr) == base);

    // Cancelling a lookup in flight: the connection fails and the DNS socket goes.
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let c = mgr.connect(&format!("tcp://hold.test:{port}"), recorder(&log)).unwrap();
    mgr.poll(10).unwrap();
    mgr.resolve_cancel(c).unwrap();
    poll_until(&mgr, 5, "cancel", || log.borrow().last().is_some_and(|e| e == "close"));
    assert_eq!(*log.borrow(), ["open", "error host name lookup cancelled", "close"]);
    poll_until(&mgr, 5, "live back", || live(&mgr) == base);

    // What the server saw: one query for most names, two for "slow" (the retry), three
    // for "silent" (every try), each an A query.
    drop(mgr);
    let f = {
        server.signal(libc::SIGTERM);
        server.finish()
    };
    let count = |n: &str| {
        f.stdout
            .iter()
            .filter(|l| l.starts_with(&format!("query {n}.test 1 ")))
            .count()
    };
    assert_eq!(count("host"), 2, "{}", f.describe()); // "host" and "HoSt"
    assert_eq!(count("slow"), 2, "{}", f.describe());
    assert_eq!(count("spoof"), 1, "{}", f.describe());
    assert!(!f.stdout.iter().any(|l| l.contains("localhost")), "{}", f.describe());
    assert_eq!(count("silent"), 3, "{}", f.describe());
    // The cancelled lookup's first try, unless the server was stopped before it read that
    // datagram (seen under load).
    assert!(count("hold") <= 1, "{}", f.describe());
}

// ---- SNTP ------------------------------------------------------------------------------

const T_MS: u64 = 1_700_000_000_123;

#[test]
fn sntp_takes_only_a_checked_reply() {
    let (_server, port) = peer(&[&script("sntp_server.py"), "good"]);
    let mgr = Mgr::new().unwrap();
    let base = live(&mgr);
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    mgr.sntp_connect(Some(&format!("udp://127.0.0.1:{port}")), Rc::new(recorder(&log)))
        .unwrap();
    poll_until(&mgr, 5, "SNTP", || log.borrow().last().is_some_and(|e| e == "close"));
    let evs = log.borrow().clone();
    assert_eq!(evs.len(), 4, "{evs:?}");
    assert_eq!(evs[..2], ["open", "connect"]);
    // The four bad replies came first (wrong mode, stratum 0, wrong origin, leap 3, each
    // with another time): only the good one's time, plus at most half the round trip.
    let t: u64 = evs[2].strip_prefix("time ").expect("one SNTP time").parse().unwrap();
    assert!((T_MS..T_MS + 1000).contains(&t), "{t}");
    assert_eq!(evs[3], "close");
    let now = meerkat::util::clock::now_ms();
    assert!((T_MS..T_MS + 5000).contains(&now), "mg_now {now}");
    assert_eq!(live(&mgr), base);
}

#[test]
fn sntp_with_only_bad_replies_times_out() {
    let (_server, port) = peer(&[&script("sntp_server.py"), "bad"]);
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    mgr.sntp_connect(Some(&format!("udp://127.0.0.1:{port}")), Rc::new(recorder(&log)))
        .unwrap();
    poll_until(&mgr, 6, "SNTP timeout", || {
        log.borrow().last().is_some_and(|e| e == "close")
    });
    assert_eq!(
        *log.borrow(),
        ["open", "connect", "error SNTP request timed out", "close"]
    );
}

// ---- mDNS ------------------------------------------------------------------------------

#[test]
fn mdns_answers_its_own_name_only() {
    let mgr = Mgr::new().unwrap();
    let reqs: Log = Rc::new(RefCell::new(Vec::new()));
    let r = reqs.clone();
    let l = mgr
        .mdns_listen(
            Some("udp://127.0.0.1:0"),
            Some("meerkat-dev"),
            Rc::new(move |_: &Mgr, _: ConnId, ev: Event<'_>| {
                if let Event::MdnsReq(q) = ev {
                    r.borrow_mut().push(format!(
                        "req {} type {} resp {}",
                        String::from_utf8_lossy(q.reqname),
                        q.rr.rtype,
                        q.is_resp.get()
                    ));
                } else if let Event::MdnsResp(a) = ev {
                    r.borrow_mut()
                        .push(format!("resp {} {}", String::from_utf8_lossy(a.name), a.addr));
                }
            }),
        )
        .unwrap();
    let port = mgr.info(l).unwrap().local.unwrap().port().to_string();
    let py = python();
    for (name, want) in [
        ("meerkat-dev.local", "answer meerkat-dev.local 127.0.0.1 10"),
        ("MEERKAT-DEV.local", "answer meerkat-dev.local 127.0.0.1 10"),
        ("other.local", "no answer"),
    ] {
        let mut q = Child::start(&py, &[&script("mdns_query.py"), &port, name]);
        let t = Instant::now();
        let got = loop {
            mgr.poll(10).unwrap();
            if let Ok(l) = q.try_line() {
                break l;
            }
            assert!(t.elapsed() < Duration::from_secs(5), "mdns_query {name}");
        };
        assert_eq!(got, want, "{name}");
        let f = q.finish();
        assert!(f.status.success(), "{}", f.describe());
    }
    assert_eq!(
        *reqs.borrow(),
        ["req meerkat-dev type 1 resp true", "req MEERKAT-DEV type 1 resp true"]
    );

    // An mDNS response (another device announcing itself) reaches the handler as
    // MdnsResp; a forged one that is cut short does not.
    let resp = r#"
import socket, struct, sys
name = b"\x07printer\x05local\x00"
rr = name + struct.pack("!HHIH", 1, 0x8001, 120, 4) + bytes([10, 9, 8, 7])
good = struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + rr
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(good[:-2], ("127.0.0.1", int(sys.argv[1])))
s.sendto(good, ("127.0.0.1", int(sys.argv[1])))
"#;
    let f = Child::start(&py, &["-c", resp, &port]).finish();
    assert!(f.status.success(), "{}", f.describe());
    poll_until(&mgr, 5, "mDNS response", || reqs.borrow().len() == 3);
    for _ in 0..10 {
        mgr.poll(10).unwrap();
    }
    assert_eq!(reqs.borrow()[2..], ["resp printer 10.9.8.7"], "the cut one is dropped");
}

// ---- Modbus ----------------------------------------------------------------------------

#[test]
fn modbus_server_against_pymodbus() {
    let mgr = Mgr::new().unwrap();
    let writes: Log = Rc::new(RefCell::new(Vec::new()));
    let w = writes.clone();
    // A device with 100 holding registers (value 1000 + address until written), input
    // registers 7, 8, ..., coils all off until written, discrete inputs 1, 0, 1.
    let regs = Rc::new(RefCell::new((0..100u16).map(|a| 1000 + a).collect::<Vec<_>>()));
    let coils = Rc::new(RefCell::new(vec![false; 100]));
    let l = mgr
        .modbus_listen(
            "tcp://127.0.0.1:0",
            Rc::new(move |_: &Mgr, _: ConnId, ev: Event<'_>| {
                let Event::ModbusReq(req) = ev else { return };
                let mut r = req.borrow_mut();
                let (a, n) = (r.addr as usize, r.len as usize);
                if a + n > 100 {
                    r.error = meerkat::modbus::ERR_ILLEGAL_ADDRESS;
                    return;
                }
                match r.func {
                    meerkat::modbus::READ_HOLDING_REGISTERS => r.regs.copy_from_slice(&regs.borrow()[a..a + n]),
                    meerkat::modbus::READ_INPUT_REGISTERS => {
                        for (i, v) in r.regs.iter_mut().enumerate() {
                            *v = 7 + i as u16;
                        }
                    }
                    meerkat::modbus::READ_COILS => r.bits.copy_from_slice(&coils.borrow()[a..a + n]),
                    meerkat::modbus::READ_DISCRETE_INPUTS => {
                        for (i, b) in r.bits.iter_mut().enumerate() {
                            *b = i % 2 == 0;
                        }
                    }
                    meerkat::modbus::WRITE_SINGLE_REGISTER | meerkat::modbus::WRITE_MULTIPLE_REGISTERS => {
                        regs.borrow_mut()[a..a + n].copy_from_slice(&r.regs);
                        w.borrow_mut().push(format!("regs {a} {:?}", r.regs));
                    }
                    _ => {
                        coils.borrow_mut()[a..a + n].copy_from_slice(&r.bits);
                        w.borrow_mut().push(format!("coils {a} {:?}", r.bits));
                    }
                }
            }),
        )
        .unwrap();
    let port = mgr.info(l).unwrap().local.unwrap().port().to_string();
    let base = live(&mgr);
    let mut client = Child::start(&python(), &[&script("modbus_client.py"), &port]);
    let t = Instant::now();
    loop {
        mgr.poll(10).unwrap();
        if client.try_line().is_ok_and(|l| l == "done") || client.exited() {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "pymodbus client");
    }
    let f = client.finish();
    assert!(f.status.success(), "{}", f.describe());
    common::data::assert_modbus_transcript(&f.stdout, &|| f.describe());
    assert_eq!(
        *writes.borrow(),
        [
            "regs 5 [4242]",
            "regs 20 [1, 2, 3]",
            "coils 3 [true]",
            "coils 8 [true, false, true, true, false, false, false, false, true]"
        ]
    );
    poll_until(&mgr, 5, "connections closed", || live(&mgr) == base);
}

// ---- the C ABI -------------------------------------------------------------------------

mod c_abi {
    use super::*;
    use common::{record, Recorder};
    use meerkat::ffi::dns::*;
    use meerkat::ffi::sntp::*;
    use meerkat::ffi::*;
    use std::ffi::CString;

    /// `mg_mgr_set_dns` switches `mg_connect` to the UDP resolver: a C handler sees
    /// OPEN, RESOLVE, CONNECT, and `mg_fn_data` works on SNTP connections (a layer over it).
    #[test]
    fn connect_through_mg_mgr_set_dns_and_sntp_from_c() {
        let (_server, dns_port) = peer(&[&script("dns_server.py")]);
        let (_sntp, sntp_port) = peer(&[&script("sntp_server.py"), "good"]);
        let mut m = common::Mgr::new();
        let dns = CString::new(format!("udp://127.0.0.1:{dns_port}")).unwrap();
        assert_eq!(
            meerkat::ffi::dns::mg_mgr_set_dns(m.ptr(), dns.as_ptr(), std::ptr::null(), false),
            0
        );
        let bad = CString::new("udp://dns.example:53").unwrap();
        assert_eq!(
            mg_mgr_set_dns(m.ptr(), bad.as_ptr(), std::ptr::null(), false),
            MG_ERR_URL
        );
        let rec = Recorder::new();
        let l = m.listen("tcp://127.0.0.1:0", None, std::ptr::null_mut());
        let port = common::port(l);
        let c = m.connect(&format!("tcp://cname.test:{port}"), Some(record), rec.ptr());
        m.poll_until(5, "connect", |_| rec.evs(c).contains(&MG_EV_CONNECT));
        assert_eq!(rec.evs(c), [MG_EV_OPEN, MG_EV_RESOLVE, MG_EV_CONNECT]);
        // Not an SNTP connection; stale and NULL arguments.
        assert_eq!(mg_sntp_request(c), MG_ERR_UNSUPPORTED);
        assert_eq!(mg_resolve(c, std::ptr::null()), MG_ERR_URL);
        let url = CString::new(format!("tcp://host.test:{port}")).unwrap();
        assert_eq!(mg_resolve(c, url.as_ptr()), MG_ERR_UNSUPPORTED); // already connected
        assert_eq!(mg_resolve(mg_conn { h: 12345 }, url.as_ptr()), MG_ERR_STALE);
        assert_eq!(mg_resolve_cancel(mg_conn { h: 0 }), MG_ERR_STALE);

        let srec = Recorder::new();
        let surl = CString::new(format!("udp://127.0.0.1:{sntp_port}")).unwrap();
        let s = mg_sntp_connect(m.ptr(), surl.as_ptr(), Some(record), srec.ptr());
        assert_ne!(s.h, 0);
        m.poll_until(5, "SNTP", |_| srec.evs(s).contains(&MG_EV_CLOSE));
        assert_eq!(srec.evs(s), [MG_EV_OPEN, MG_EV_CONNECT, MG_EV_SNTP_TIME, MG_EV_CLOSE]);
        let now = mg_now();
        assert!((1_700_000_000_123..1_700_000_010_000).contains(&now), "{now}");
        let tcp = CString::new("tcp://127.0.0.1:123").unwrap();
        assert_eq!(mg_sntp_connect(m.ptr(), tcp.as_ptr(), None, std::ptr::null_mut()).h, 0);
        assert_eq!(meerkat::ffi::mgr::mg_last_error(), MG_ERR_URL);
    }

    #[test]
    fn parsers_refuse_bad_input_without_crashing() {
        let mut dm = std::mem::MaybeUninit::<mg_dns_message>::zeroed();
        assert!(!mg_dns_parse(std::ptr::null(), 10, dm.as_mut_ptr()));
        assert!(!mg_dns_parse(b"\0\x01".as_ptr(), 2, dm.as_mut_ptr()));
        assert!(!mg_dns_parse([0u8; 12].as_ptr(), 12, std::ptr::null_mut()));
        // A reply for a.b with one A answer, its owner a pointer to the question.
        let msg = b"\x12\x34\x81\x80\0\x01\0\x01\0\0\0\0\x01a\x01b\0\0\x01\0\x01\xc0\x0c\0\x01\0\x01\0\0\0\x3c\0\x04\x0a\0\0\x01";
        assert!(mg_dns_parse(msg.as_ptr(), msg.len(), dm.as_mut_ptr()));
        // SAFETY: written on success.
        let dm = unsafe { dm.assume_init() };
        assert_eq!(dm.txnid, 0x1234);
        assert!(dm.resolved);
        assert_eq!(&dm.addr.ip[..4], &[10, 0, 0, 1]);
        let name: Vec<u8> = dm.name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        assert_eq!(name, b"a.b");
        let mut big = msg.to_vec();
        big.resize(513, 0);
        let mut dm2 = std::mem::MaybeUninit::<mg_dns_message>::zeroed();
        assert!(
            !mg_dns_parse(big.as_ptr(), big.len(), dm2.as_mut_ptr()),
            "over 512 bytes"
        );
        let mut rr = mg_dns_rr::default();
        assert_eq!(mg_dns_parse_rr(msg.as_ptr(), msg.len(), 12, true, &mut rr), 9);
        assert_eq!((rr.nlen, rr.atype, rr.aclass), (5, 1, 1));
        assert_eq!(mg_dns_parse_rr(msg.as_ptr(), msg.len(), 21, false, &mut rr), 16);
        assert_eq!((rr.nlen, rr.alen), (2, 4));
        assert_eq!(mg_dns_parse_rr(msg.as_ptr(), msg.len(), 30, false, &mut rr), 0);
        assert_eq!(mg_dns_parse_rr(msg.as_ptr(), msg.len(), 9999, false, &mut rr), 0);
        assert_eq!(mg_dns_parse_rr(std::ptr::null(), 5, 0, false, &mut rr), 0);
        assert_eq!(
            mg_dns_parse_rr(msg.as_ptr(), msg.len(), 12, true, std::ptr::null_mut()),
            0
        );
        assert_eq!(mg_sntp_parse(std::ptr::null(), 48), -1);
        assert_eq!(mg_sntp_parse([0u8; 47].as_ptr(), 47), -1);
        let mut p = [0u8; 48];
        p[0] = 0x24;
        p[1] = 1;
        p[40..44].copy_from_slice(&(1_700_000_000u32 + 2_208_988_800u32).to_be_bytes());
        assert_eq!(mg_sntp_parse(p.as_ptr(), 48), 1_700_000_000_000);
        p[1] = 0;
        assert_eq!(mg_sntp_parse(p.as_ptr(), 48), -1);
    }
}

/// A byte stream that is not Modbus TCP closes the connection: one error, one close.
#[test]
fn modbus_framing_error_closes_the_connection() {
    use std::io::{Read, Write};
    let mgr = Mgr::new().unwrap();
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let l = mgr.modbus_listen("tcp://127.0.0.1:0", Rc::new(recorder(&log))).unwrap();
    let port = mgr.info(l).unwrap().local.unwrap().port();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    poll_until(&mgr, 5, "close", || log.borrow().last().is_some_and(|e| e == "close"));
    // The listener's OPEN, then the connection's OPEN, ACCEPT, ERROR, CLOSE.
    assert_eq!(
        *log.borrow(),
        ["open", "open", "accept", "error Modbus framing error", "close"]
    );
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap_or(0), 0, "nothing sent back");
}
