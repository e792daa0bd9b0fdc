//! The OS backend: the only module that talks to the operating system.
//!
//! Readiness contract (as mio documents its own): [`poll`] is level-triggered; a descriptor
//! reported readable or writable may still return `WouldBlock` (spurious wakeups are allowed),
//! and callers handle that by trying again on the next poll. Sockets are always non-blocking
//! and close-on-exec. Writes never raise SIGPIPE (`MSG_NOSIGNAL` on Linux; `sendfile`
//! runs with SIGPIPE blocked for the thread), so applications need not ignore it.
//!
//! A bare-metal or lwIP port replaces this module (same function names) and nothing else.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;
