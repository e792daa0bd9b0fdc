//! meerkat: a memory-safe, Mongoose-compatible embedded networking library.
//!
//! The crate is built as `libmeerkat.a` with a C ABI (`include/meerkat.h`) and as an
//! rlib for Rust tests. See `shared/DESIGN.md` in the steering repository for the
//! guarantees G1–G7 this code is held to.
//!
//! Layout (data flows one way: socket -> sys -> connection buffer -> protocol -> event -> ffi):
//! - [`handle`]: generational slot table (G1), no unsafe.
//! - [`mgr`]: event manager: connections, poll loop, timers, wakeup queue, dispatch.
//! - [`sys`]: the OS backend (BSD sockets, poll, wakeup pipe). The only place with libc calls.
//! - [`http`]: sans-IO HTTP/1.1 machines.
//! - [`ws`]: sans-IO WebSocket machine (RFC 6455, permessage-deflate RFC 7692).
//! - [`util`]: pure helpers (`mg_str`, `mg_match`, URLs).
//! - [`ffi`]: the C boundary. Every exported function lives there, behind one panic boundary.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

pub mod error;
pub mod ffi;
pub mod handle;
pub mod http;
pub mod log;
pub mod mgr;
pub mod serve;
pub mod sys;
pub mod tls;
pub mod util;
pub mod ws;
