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

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;
