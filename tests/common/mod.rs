//! Helpers shared by the integration tests: a manager owned by the test thread, and
//! handlers that record the events they see (here), and in the submodules:
//!
//! - `cbuild`: building C programs and the C examples against `libmeerkat.a`;
//! - `example`: running an example as a process (`Child::server_with` starts a server on a
//!   free port), output collected, killed when a test fails;
//! - `proc`: running a tool with a time limit;
//! - `tools`: installing the outside tools (apt, npm, pip) under one lock, and running the
//!   Chromium scripts (which share `page.mjs`);
//! - `data`: deterministic bytes, scratch directories, numbers from one-line JSON;
//! - `tls`: a trust-anything rustls client and its ClientHello, for clients that misbehave.
#![allow(dead_code)]

pub mod cbuild;
pub mod data;
pub mod example;
pub mod proc;
pub mod tls;
pub mod tools;

use meerkat::ffi::*;
use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};
use std::time::{Duration, Instant};

pub struct Mgr(pub Box<mg_mgr>);

impl Mgr {
    pub fn new() -> Mgr {
        let mut m = Box::new(mg_mgr {
            internal: std::ptr::null_mut(),
            userdata: std::ptr::null_mut(),
        });
        assert_eq!(meerkat::ffi::mgr::mg_mgr_init(&mut *m), 0);
        Mgr(m)
    }
    pub fn ptr(&mut self) -> *mut mg_mgr {
        &mut *self.0
    }
    pub fn poll(&mut self, ms: i32) {
        assert_eq!(meerkat::ffi::mgr::mg_mgr_poll(self.ptr(), ms), 0);
    }
    /// Poll until `cond` holds, failing the test after `secs` seconds.
    pub fn poll_until(&mut self, secs: u64, what: &str, mut cond: impl FnMut(&mut Mgr) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        while !cond(self) {
            assert!(Instant::now() < end, "timed out waiting for: {what}");
            self.poll(10);
        }
    }
    pub fn stats(&mut self) -> mg_stats {
        let mut s = mg_stats::default();
        assert_eq!(meerkat::ffi::mgr::mg_mgr_stats(self.ptr(), &mut s), 0);
        s
    }
    pub fn live(&mut self) -> u32 {
        self.stats().live_conns
    }
    pub fn listen(&mut self, url: &str, f: mg_event_handler_t, data: *mut c_void) -> mg_conn {
        let u = CString::new(url).unwrap();
        meerkat::ffi::conn::mg_listen(self.ptr(), u.as_ptr(), f, data)
    }
    pub fn connect(&mut self, url: &str, f: mg_event_handler_t, data: *mut c_void) -> mg_conn {
        let u = CString::new(url).unwrap();
        meerkat::ffi::conn::mg_connect(self.ptr(), u.as_ptr(), f, data)
    }
}

impl Drop for Mgr {
    fn drop(&mut self) {
        let _ = meerkat::ffi::mgr::mg_mgr_free(self.ptr());
    }
}

pub fn info(c: mg_conn) -> mg_conn_info {
    let mut i = std::mem::MaybeUninit::<mg_conn_info>::zeroed();
    assert_eq!(
        meerkat::ffi::conn::mg_conn_info(c, i.as_mut_ptr()),
        0,
        "mg_conn_info on a live conn"
    );
    // SAFETY: written on success.
    unsafe { i.assume_init() }
}

/// Port (host order) a listener is bound to.
pub fn port(c: mg_conn) -> u16 {
    u16::from_be(info(c).loc.port)
}

pub fn recv_bytes(c: mg_conn) -> Vec<u8> {
    let s = meerkat::ffi::conn::mg_recv(c);
    if s.len == 0 {
        return Vec::new();
    }
    // SAFETY: mg_recv returns a view valid until the next poll.
    unsafe { std::slice::from_raw_parts(s.buf as *const u8, s.len) }.to_vec()
}

/// An event as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ev {
    pub conn: u64,
    pub ev: c_int,
    pub data: Vec<u8>,
}

/// Records every event except POLL; READ consumes and records the bytes.
#[derive(Default)]
pub struct Recorder {
    pub events: RefCell<Vec<Ev>>,
    /// Echo READ data back.
    pub echo: bool,
}

impl Recorder {
    /// A recorder that outlives the manager (whose teardown still delivers MG_EV_CLOSE to it).
    pub fn new() -> &'static Recorder {
        Box::leak(Box::default())
    }
    pub fn echo() -> &'static Recorder {
        Box::leak(Box::new(Recorder {
            echo: true,
            ..Default::default()
        }))
    }
    pub fn evs(&self, conn: mg_conn) -> Vec<c_int> {
        self.events
            .borrow()
            .iter()
            .filter(|e| e.conn == conn.h)
            .map(|e| e.ev)
            .collect()
    }
    pub fn count(&self, ev: c_int) -> usize {
        self.events.borrow().iter().filter(|e| e.ev == ev).count()
    }
    pub fn data(&self, conn: mg_conn, ev: c_int) -> Vec<u8> {
        self.events
            .borrow()
            .iter()
            .filter(|e| e.conn == conn.h && e.ev == ev)
            .flat_map(|e| e.data.clone())
            .collect()
    }
    pub fn ptr(&self) -> *mut c_void {
        self as *const Recorder as *mut c_void
    }
}

pub unsafe extern "C" fn record(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_POLL {
        return;
    }
    let p = meerkat::ffi::conn::mg_fn_data(c) as *const Recorder;
    if p.is_null() {
        return;
    }
    let r = unsafe { &*p };
    let mut data = Vec::new();
    if ev == MG_EV_READ {
        data = recv_bytes(c);
        // Fails (harmlessly) on HTTP connections, whose bytes belong to the HTTP machine.
        meerkat::ffi::conn::mg_recv_consume(c, data.len());
        if r.echo {
            assert_eq!(meerkat::ffi::conn::mg_send(c, data.as_ptr().cast(), data.len()), 0);
        }
    } else if ev == MG_EV_WAKEUP {
        let s = unsafe { &*(ev_data as *const mg_str) };
        data = unsafe { std::slice::from_raw_parts(s.buf as *const u8, s.len) }.to_vec();
    } else if ev == MG_EV_ERROR {
        data = unsafe { std::ffi::CStr::from_ptr(ev_data as *const std::ffi::c_char) }
            .to_bytes()
            .to_vec();
    }
    r.events.borrow_mut().push(Ev { conn: c.h, ev, data });
}

/// Send `req` on a new connection to 127.0.0.1:`port`, read until the server closes (or
/// `timeout` passes with nothing read); what came back and whether the server closed.
pub fn exchange(port: u16, req: &[u8], timeout: std::time::Duration) -> (String, bool) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(req).unwrap();
    c.set_read_timeout(Some(timeout)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match c.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}
