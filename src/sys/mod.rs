//! The OS backend: the only module that talks to the operating system.
//!
//! Readiness contract (as mio documents its own): [`poll`] is level-triggered; a descriptor
//! reported readable or writable may still return `WouldBlock` (spurious wakeups are allowed),
//! and callers handle that by trying again on the next poll. Sockets are always non-blocking
//! and close-on-exec. Writes never raise SIGPIPE, so applications need not ignore it: every
//! byte goes out through `write`, `writer` (an `io::Write` for rustls, whose vectored writes
//! become `sendmsg`, never `writev`), `udp_send`/`udp_send_to` and `sendfile`, with
//! `MSG_NOSIGNAL` (or `SO_NOSIGPIPE` on the socket where that is the means, as on Apple
//! systems); `sendfile`, which takes no flags, runs with SIGPIPE blocked for the thread.
//!
//! A bare-metal or lwIP port replaces this module (same function names) and nothing else.

use core::sync::atomic::AtomicI32;

/// The global log level (`crate::log`), exported to C as Mongoose's `int mg_log_level`
/// (declared in the header trailer): firmware that reads it, or sets it directly instead of
/// calling `mg_log_set`, keeps working. `AtomicI32` has the size and alignment of `int`. A
/// direct C write is a plain store: do it before other threads log, or use `mg_log_set`.
///
/// It lives here, with the other process-wide items a host addresses by symbol, because
/// exporting an unmangled symbol is unsafe code, which the core modules forbid.
///
/// cbindgen:ignore
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mg_log_level: AtomicI32 = AtomicI32::new(1); // LL_ERROR

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;
