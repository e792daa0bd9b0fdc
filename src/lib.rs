//! meerkat: a memory-safe, Mongoose-compatible embedded networking library.
//!
//! The crate is built as `libmeerkat.a` with a C ABI (`include/meerkat.h`, the [`ffi`]
//! module) and as an rlib with a Rust API, which the C ABI is a thin adapter over. See
//! `docs/architecture.md` for the layers and the guarantees G1–G7 this code is held to.
//!
//! # The Rust API
//!
//! A [`Mgr`] (event manager) belongs to the thread that created it (it is neither `Send` nor
//! `Sync`). It owns connections, named by [`ConnId`] handles that go stale, never dangling,
//! when the connection closes (G1). [`Mgr::poll`] waits for I/O and delivers every due
//! [`Event`] to the connection's [`Handler`] (any `Fn(&Mgr, ConnId, Event)` closure is one).
//! A handler may call any `Mgr` method on any connection (G7). Other threads talk to the
//! loop through a [`Sender`] (G2).
//!
//! ```no_run
//! use meerkat::{ConnId, Event, Mgr};
//!
//! let mgr = Mgr::new()?;
//! // An HTTP server: every request gets a small reply.
//! mgr.http_listen("http://127.0.0.1:8000", |mgr: &Mgr, c: ConnId, ev: Event<'_>| {
//!     if let Event::HttpMessage(req) = ev {
//!         let body = if req.uri() == b"/" { &b"hello\n"[..] } else { &b"not here\n"[..] };
//!         let status = if req.uri() == b"/" { 200 } else { 404 };
//!         let _ = mgr.http_reply(c, status, b"Content-Type: text/plain\r\n", body);
//!     }
//! })?;
//! loop {
//!     mgr.poll(1000)?;
//! }
//! # Ok::<(), meerkat::Error>(())
//! ```
//!
//! Timers ([`Mgr::timer_add`], [`Mgr::timer_add_conn`]) are closures; a connection's timers
//! die with it. Errors are [`Error`]; the C API maps each to its stable `MG_ERR_*` number.
//! See `examples/echo.rs` and `examples/http_server.rs`.
//!
//! # Layout
//!
//! Data flows one way: socket → [`sys`] → connection buffer → protocol machine → [`Event`]
//! → handler (a Rust closure, or [`ffi`]'s adapter to a C function).
//! - [`handle`]: generational slot table (G1).
//! - [`mgr`]: event manager: connections, poll loop, timers, wakeup queue, dispatch.
//! - [`http`], [`ws`], [`mqtt`]: sans-IO HTTP/1.1, WebSocket and MQTT 3.1.1/5 machines; [`serve`]: static files;
//!   [`tls`]: rustls glue; [`util`]: pure helpers (string matching, URLs, clock hooks).
//! - [`dns`] (with mDNS), [`sntp`], [`modbus`]: sans-IO DNS/mDNS, SNTP and Modbus TCP
//!   machines; the manager drives them (`Mgr::set_dns`, `Mgr::sntp_connect`,
//!   `Mgr::mdns_listen`, `Mgr::modbus_listen`).
//! - [`fs`]: the file-system seam (Mongoose's `struct mg_fs` as a trait).
//! - [`sys`]: the OS backend (BSD sockets, poll, wakeup pipe). With [`ffi`], the only place
//!   with `unsafe`; every other module says `#![forbid(unsafe_code)]`.
//! - [`ffi`]: the C boundary. Every exported function lives there, behind one panic
//!   boundary. Nothing else imports it.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// Internal docs link to private helpers on purpose (read with --document-private-items).
#![allow(rustdoc::private_intra_doc_links)]
#![allow(non_camel_case_types)]

extern crate alloc;

mod prelude;

pub mod dns;
pub mod error;
pub mod ffi;
pub mod fs;
pub mod handle;
pub mod http;
pub mod log;
pub mod mgr;
pub mod modbus;
pub mod mqtt;
pub mod serve;
pub mod sntp;
pub mod sys;
pub mod tls;
pub mod util;
pub mod ws;

pub use error::Error;
pub use handle::Handle;
pub use mgr::event::{Event, Handler, HttpMessage, WsMessage};
pub use mgr::timer::TimerOpts;
pub use mgr::wakeup::Sender;
pub use mgr::{ConnInfo, Limits, Mgr, Stats};

/// A connection's handle (slot + generation): cheap to copy, never reissued, stale once the
/// connection has closed.
pub type ConnId = Handle;
/// A timer's handle.
pub type TimerId = Handle;
