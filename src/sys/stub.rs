//! The stub backend (feature `sys-stub`): every item of the seam (listed in `sys/mod.rs`),
//! each operation failing with [`Errno::UNSUPPORTED`]. It proves the seam is complete and
//! compiles on its own (`tests/no_std.rs` builds the crate with it), and it is the file to
//! copy when porting to a platform the libc backend does not fit. No unsafe code.
#![forbid(unsafe_code)]

use crate::prelude::*;
use core::net::SocketAddr;

use super::{Errno, Result};

/// poll(2)-style readiness bits (the values the manager passes around).
pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

/// A descriptor number.
pub type RawFd = i32;

/// Is `e` "try again later"?
pub fn would_block(_e: &Errno) -> bool {
    false
}

/// Is `e` about the address rather than the socket?
pub fn is_addr_error(_e: &Errno) -> bool {
    false
}

/// An owned descriptor.
#[derive(Debug)]
pub struct Fd(RawFd);

impl Fd {
    pub fn raw(&self) -> RawFd {
        self.0
    }
    pub fn into_raw(self) -> RawFd {
        self.0
    }
}

/// The calling thread's identity: a stub platform has one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreadId(usize);

pub fn thread_id() -> ThreadId {
    ThreadId(0)
}

/// The first `b` in `hay` (a platform with a C library gives its `memchr` here).
pub fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == b)
}

/// No clock: always 0 (the manager is driven through `Mgr::poll_at` on such a platform).
pub fn monotonic_millis() -> u64 {
    0
}

/// No entropy source: fills with a fixed pattern (firmware installs `mg_set_random_fn`).
pub fn random_bytes(out: &mut [u8]) {
    out.fill(0x5a);
}

/// A connection's socket.
#[derive(Debug)]
pub enum Sock {
    Listener(Fd),
    Stream(Fd),
    Udp(Fd),
}

impl Sock {
    pub fn fd(&self) -> RawFd {
        match self {
            Sock::Listener(s) | Sock::Stream(s) | Sock::Udp(s) => s.0,
        }
    }
    pub fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }
    pub fn take_error(&self) -> Result<Option<Errno>> {
        Err(Errno::UNSUPPORTED)
    }
}

pub fn tcp_listen(_addr: SocketAddr, _backlog: i32) -> Result<Sock> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_bind(_addr: SocketAddr) -> Result<Sock> {
    Err(Errno::UNSUPPORTED)
}
pub fn tcp_connect(_addr: SocketAddr) -> Result<Sock> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_connect(_addr: SocketAddr) -> Result<Sock> {
    Err(Errno::UNSUPPORTED)
}
pub fn accept(_l: &Fd) -> Result<Option<(Fd, SocketAddr)>> {
    Err(Errno::UNSUPPORTED)
}
pub fn read(_s: &Fd, _buf: &mut [u8]) -> Result<usize> {
    Err(Errno::UNSUPPORTED)
}
pub fn adopt_stream(_fd: RawFd) -> Result<Sock> {
    Err(Errno::UNSUPPORTED)
}
pub fn set_dscp(_s: &Sock, _dscp: u8) -> Result<()> {
    Err(Errno::UNSUPPORTED)
}

pub fn write(_s: &Fd, _buf: &[u8]) -> Result<usize> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_send(_s: &Fd, _buf: &[u8]) -> Result<usize> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_send_to(_s: &Fd, _buf: &[u8], _to: SocketAddr) -> Result<usize> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_recv_from(_s: &Fd, _buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
    Err(Errno::UNSUPPORTED)
}
pub fn udp_join_multicast_v4(_s: &Sock, _group: core::net::Ipv4Addr) -> Result<()> {
    Err(Errno::UNSUPPORTED)
}
pub fn local_ip_for(_peer: SocketAddr) -> Option<core::net::IpAddr> {
    None
}

/// std's `io::Error` for an [`Errno`].
#[cfg(feature = "std")]
pub fn io_error(_e: Errno) -> std::io::Error {
    std::io::ErrorKind::Unsupported.into()
}

/// A writer for rustls (std builds).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct SockWriter;

#[cfg(feature = "std")]
pub fn writer(_s: &Fd) -> SockWriter {
    SockWriter
}

#[cfg(feature = "std")]
impl std::io::Write for SockWriter {
    fn write(&mut self, _buf: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Name resolution (std builds).
#[cfg(feature = "std")]
pub fn resolve(_host: &str, _port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Wakes a wait from another thread.
#[derive(Debug)]
pub struct Waker;

impl Waker {
    pub fn new() -> Result<Waker> {
        Err(Errno::UNSUPPORTED)
    }
    pub fn fd(&self) -> RawFd {
        -1
    }
    pub fn wake(&self) {}
    pub fn drain(&self) {}
}

pub const HAS_SENDFILE: bool = false;

pub fn sendfile(_sock: &Fd, _fd: RawFd, _offset: &mut u64, _count: usize) -> Result<usize> {
    Err(Errno::UNSUPPORTED)
}

/// No file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct PosixFs;

impl crate::fs::Fs for PosixFs {
    fn stat(&self, _path: &[u8]) -> Option<crate::fs::Stat> {
        None
    }
    fn list(&self, _dir: &[u8], _f: &mut dyn FnMut(&[u8])) {}
    fn open(&self, _path: &[u8], _flags: u32) -> core::result::Result<Box<dyn crate::fs::File>, crate::Error> {
        Err(crate::Error::Unsupported)
    }
}

pub fn write_stdout(_bytes: &[u8]) {}

/// One ready descriptor: its token and poll(2)-style bits.
#[derive(Debug, Clone, Copy)]
pub struct Ready(u64, i16);

impl Ready {
    pub fn token(&self) -> u64 {
        self.0
    }
    pub fn bits(&self) -> i16 {
        self.1
    }
}

/// Readiness notification.
#[derive(Debug)]
pub struct Poller;

pub(crate) const WAKER_TOKEN: u64 = 0;

impl Poller {
    pub fn open(_waker: RawFd) -> Result<Poller> {
        Err(Errno::UNSUPPORTED)
    }
    /// Whether interest asked for stays asked for (epoll), or every socket is passed
    /// before every wait (poll(2)): a new backend's answer decides whether the loop may
    /// skip the sockets that did not change.
    pub fn keeps_interest(&self) -> bool {
        false
    }
    pub fn begin(&mut self) {}
    pub fn update(&mut self, _fd: RawFd, _token: u64, _have: &mut i16, _want: i16) -> Result<()> {
        Err(Errno::UNSUPPORTED)
    }
    pub fn wait(&mut self, _timeout_ms: i32, _ready: &mut Vec<Ready>) -> Result<()> {
        Err(Errno::UNSUPPORTED)
    }
}
