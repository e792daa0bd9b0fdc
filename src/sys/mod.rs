//! The OS backend: the only module that talks to the operating system (mio's `sys/` layout).
//!
//! # The seam
//!
//! Everything the rest of the crate needs from a platform is listed here; a backend provides
//! each item with the same name and signature. Two backends exist:
//!
//! - `unix.rs`, the **libc backend**: BSD sockets over raw descriptors through the `libc`
//!   crate, no std. It serves Linux (epoll, `sendfile`, `getrandom`, `MSG_NOSIGNAL`) and other
//!   Unix-likes, and is written to the subset lwIP/newlib offer (as on ESP-IDF): the
//!   Linux-only calls are `cfg`'d, with portable fallbacks (poll(2); read + write instead of
//!   sendfile). Both the std and the no_std build use it; std only adds [`resolve`] (the
//!   blocking `getaddrinfo` a resolver thread runs).
//! - `stub.rs`, the **stub backend** (feature `sys-stub`): every operation fails with
//!   [`Errno::UNSUPPORTED`]. It proves the seam compiles on its own and is where a port to
//!   a new platform starts (`tests/no_std.rs` builds the crate with it).
//!
//! Required items:
//!
//! | item | what |
//! |---|---|
//! | [`Errno`], `Result<T>` | an errno-style error (instead of `std::io::Error`); [`would_block`] |
//! | `RawFd`, `Fd` | a descriptor number; an owned descriptor, closed on drop |
//! | `Sock` | a connection's socket: `Listener(Fd)`, `Stream(Fd)`, `Udp(Fd)`, with `fd`, `local_addr`, `peer_addr`, `take_error` |
//! | `tcp_listen`, `tcp_connect`, `accept` | non-blocking TCP (connect completes on writability) |
//! | `read`, `write` | stream I/O; writes never raise SIGPIPE (`MSG_NOSIGNAL` / `SO_NOSIGPIPE`); a pipe works too |
//! | `adopt_stream`, `Fd::into_raw` | an application's descriptor as a connection's stream (`mg_wrapfd`) |
//! | `set_dscp` | the DSCP code point of an IP socket's packets (`mg_dscp`) |
//! | `udp_bind`, `udp_connect`, `udp_send`, `udp_send_to`, `udp_recv_from` | datagrams |
//! | `udp_join_multicast_v4`, `local_ip_for` | mDNS: join a group; the local address a peer is reached from |
//! | `Poller` (`open`, `begin`, `update`, `wait`), `POLLIN`.. | readiness: epoll on Linux, poll(2) elsewhere |
//! | `Waker` (`new`, `fd`, `wake`, `drain`) | wakes a `wait` from another thread |
//! | `memchr` | the first occurrence of a byte: the platform C library's where there is one (the parsers' line and field search) |
//! | `monotonic_millis` | the platform clock; read only by `Mgr::poll`, which passes it to `Mgr::poll_at` |
//! | `random_bytes` | a CSPRNG (weaker fallback where there is none, documented there) |
//! | `ThreadId`, `thread_id` | the calling thread's identity (`pthread_self`), for G2 |
//! | `write_stdout` | the default log sink |
//! | `PosixFs` | the OS file system behind [`crate::fs::Fs`] (open/fstat/read/lseek/opendir/realpath) |
//! | `sendfile`, `HAS_SENDFILE` | file → socket without a copy where the OS has it |
//! | `resolve` (std only) | blocking name resolution, run on a helper thread |
//!
//! Readiness contract (as mio documents its own): polling is level-triggered; a descriptor
//! reported readable or writable may still return `WouldBlock` (spurious wakeups are allowed),
//! and callers handle that by trying again on the next poll. Sockets are always non-blocking
//! and close-on-exec. Writes never raise SIGPIPE, so applications need not ignore it: every
//! byte goes out through `write`, `writer` (std: an `io::Write` for rustls, whose vectored
//! writes become `sendmsg`, never `writev`), `udp_send`/`udp_send_to` and `sendfile`, with
//! `MSG_NOSIGNAL` (or `SO_NOSIGPIPE` on the socket where that is the means, as on Apple
//! systems); `sendfile`, which takes no flags, runs with SIGPIPE blocked for the thread.

use core::fmt;
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

/// An OS error number (`errno`), the backend's error type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The backend does not implement the operation (the stub backend's only answer).
    pub const UNSUPPORTED: Errno = Errno(i32::MIN);
    /// How [`Errno::UNSUPPORTED`] shows.
    pub const UNSUPPORTED_TEXT: &'static str = "operation not supported by this platform backend";
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Errno::UNSUPPORTED {
            return f.write_str(Errno::UNSUPPORTED_TEXT);
        }
        #[cfg(feature = "std")]
        {
            fmt::Display::fmt(&std::io::Error::from_raw_os_error(self.0), f)
        }
        #[cfg(not(feature = "std"))]
        {
            write!(f, "os error {}", self.0)
        }
    }
}

/// A backend call's result.
pub type Result<T> = core::result::Result<T, Errno>;

#[cfg(all(unix, not(feature = "sys-stub")))]
mod unix;
#[cfg(all(unix, not(feature = "sys-stub")))]
pub use unix::*;

#[cfg(any(feature = "sys-stub", not(unix)))]
mod stub;
#[cfg(any(feature = "sys-stub", not(unix)))]
pub use stub::*;
