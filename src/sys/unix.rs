//! The libc backend: BSD sockets over raw descriptors, poll(2) (epoll on Linux), a wakeup
//! pipe, POSIX files; through the `libc` crate only, so it builds without std. Written to
//! the subset lwIP/newlib offer (as on ESP-IDF): what only Linux has (epoll, sendfile,
//! getrandom, pipe2, accept4) is `cfg`'d and has a portable fallback.

use crate::prelude::*;
use core::ffi::c_int;
use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
#[cfg(feature = "ipv6")]
use core::net::{Ipv6Addr, SocketAddrV6};

use super::{Errno, Result};

pub use libc::pollfd as PollFd;
pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;
pub const POLLERR: i16 = libc::POLLERR;
pub const POLLHUP: i16 = libc::POLLHUP;
pub const POLLNVAL: i16 = libc::POLLNVAL;

/// A descriptor number.
pub type RawFd = c_int;

extern "C" {
    /// `errno` of the calling thread (src/shim/meerkat_shim.c: the C library knows where it
    /// lives, which differs between glibc, musl, newlib and the BSDs).
    fn mk_errno() -> c_int;
}

impl Errno {
    /// `errno` now.
    pub fn last() -> Errno {
        // SAFETY: reads the calling thread's errno; no arguments.
        Errno(unsafe { mk_errno() })
    }
}

/// Is `e` "try again later" (EAGAIN/EWOULDBLOCK, or EINTR)?
pub fn would_block(e: &Errno) -> bool {
    e.0 == libc::EAGAIN || e.0 == libc::EWOULDBLOCK || e.0 == libc::EINTR
}

/// Is `e` about the address (in use, not available, not permitted), not the socket?
pub fn is_addr_error(e: &Errno) -> bool {
    e.0 == libc::EADDRINUSE || e.0 == libc::EADDRNOTAVAIL || e.0 == libc::EACCES || e.0 == libc::EPERM
}

/// `Ok(r)` when `r >= 0`, else `errno`.
fn cvt(r: isize) -> Result<usize> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r as usize)
    }
}

fn cvt_i(r: c_int) -> Result<c_int> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// An owned descriptor, closed when dropped.
#[derive(Debug)]
pub struct Fd(RawFd);

impl Fd {
    pub fn raw(&self) -> RawFd {
        self.0
    }
    /// Give the descriptor back without closing it.
    pub fn into_raw(self) -> RawFd {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a descriptor this value owns; nothing uses it after this.
        unsafe { libc::close(self.0) };
    }
}

/// The calling thread's identity (G2): `pthread_self()` as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreadId(usize);

/// The calling thread's [`ThreadId`].
pub fn thread_id() -> ThreadId {
    // SAFETY: pthread_self has no preconditions.
    ThreadId(unsafe { libc::pthread_self() } as usize)
}

/// The first `b` in `hay`: the C library's `memchr` (vectorised in glibc; in ROM on ESP-IDF,
/// whose newlib the firmware links anyway), as std itself searches on Unix. A program that
/// searches bytes then carries no second search of its own (the `memchr` crate's SSE2 pair
/// was ~0.7 KB of http-hello).
#[inline]
pub fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    if hay.is_empty() {
        return None;
    }
    let base = hay.as_ptr();
    // SAFETY: `base..base + len` is `hay`, readable for its length; memchr reads no further
    // and returns NULL or a pointer into that range.
    let p = unsafe { libc::memchr(base.cast(), b.into(), hay.len()) };
    (!p.is_null()).then(|| p as usize - base as usize)
}

/// Milliseconds from CLOCK_MONOTONIC.
pub fn monotonic_millis() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always supported.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000)
}

/// Fill `out` from the kernel's CSPRNG (`getrandom` on Linux). Where there is none (or it
/// fails), a time-seeded xorshift generator fills it instead rather than failing: not
/// cryptographic, documented as such (firmware installs its own with `mg_set_random_fn`).
pub fn random_bytes(out: &mut [u8]) {
    let mut done = 0;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    while done < out.len() {
        let rest = &mut out[done..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            done += n as usize;
        } else if Errno::last().0 != libc::EINTR {
            break;
        }
    }
    let rest = &mut out[done..];
    let mut x = monotonic_millis() ^ (rest.as_ptr() as usize as u64) ^ 0x9E37_79B9_7F4A_7C15;
    for b in rest.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}

/// Wait for readiness on `fds` for at most `timeout_ms` (negative: forever).
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> Result<usize> {
    // SAFETY: `fds` is a valid, writable array of `fds.len()` pollfd structs.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    match cvt_i(n) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.0 == libc::EINTR => Ok(0),
        Err(e) => Err(e),
    }
}

pub fn pollfd(fd: RawFd, events: i16) -> PollFd {
    PollFd { fd, events, revents: 0 }
}

// ---- addresses --------------------------------------------------------------------------

/// Room for a socket address of the families the library makes sockets of: a
/// `sockaddr_in6` (which a `sockaddr_in` fits in: both start with the family), or without the
/// feature `ipv6` a `sockaddr_in`. Not a `sockaddr_storage`: that is 128 bytes, zeroed for
/// each accept, `getsockname` and datagram. An address of another family (a Unix socket given
/// to `mg_wrapfd`) is cut to this size by the kernel, and [`from_sockaddr`] says `None` for
/// its family as before.
#[cfg(feature = "ipv6")]
type SockAddrBuf = libc::sockaddr_in6;
/// See above.
#[cfg(not(feature = "ipv6"))]
type SockAddrBuf = libc::sockaddr_in;

/// An all-zero [`SockAddrBuf`] and its size, for the kernel to write an address into.
fn sockaddr_buf() -> (SockAddrBuf, libc::socklen_t) {
    // SAFETY: sockaddr_in and sockaddr_in6 are plain data; all-zero is a valid value.
    (
        unsafe { core::mem::zeroed() },
        core::mem::size_of::<SockAddrBuf>() as libc::socklen_t,
    )
}

/// `a` as a sockaddr and its length. Without the feature `ipv6` an IPv6 address is length
/// 0, which every call refuses (EINVAL); none gets here: [`new_socket`] makes no IPv6
/// socket, and the addresses the others are given come from IPv4 sockets.
fn to_sockaddr(a: &SocketAddr) -> (SockAddrBuf, libc::socklen_t) {
    let (mut ss, _) = sockaddr_buf();
    let len = match a {
        SocketAddr::V4(v4) => {
            // SAFETY: SockAddrBuf is sockaddr_in or the larger sockaddr_in6, aligned alike.
            let sin = unsafe { &mut *(&mut ss as *mut SockAddrBuf).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(v4.ip().octets()),
            };
            core::mem::size_of::<libc::sockaddr_in>()
        }
        #[cfg(not(feature = "ipv6"))]
        SocketAddr::V6(_) => 0,
        #[cfg(feature = "ipv6")]
        SocketAddr::V6(v6) => {
            let sin6: &mut libc::sockaddr_in6 = &mut ss;
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_scope_id = v6.scope_id();
            core::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// The address in `ss` (IPv4, or IPv6 with the feature `ipv6`). Out of line: accept, the
/// socket-name calls and UDP receive share one copy (http-hello −4 B, tcp-echo −36 B).
#[inline(never)]
fn from_sockaddr(ss: &SockAddrBuf) -> Option<SocketAddr> {
    // SAFETY: as in `to_sockaddr`; the family is the first field of both.
    let sin = unsafe { &*(ss as *const SockAddrBuf).cast::<libc::sockaddr_in>() };
    match c_int::from(sin.sin_family) {
        libc::AF_INET => {
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
        }
        #[cfg(feature = "ipv6")]
        libc::AF_INET6 => {
            let sin6: &libc::sockaddr_in6 = ss;
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

type NameFn = unsafe extern "C" fn(c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> c_int;

fn sock_name(fd: RawFd, f: NameFn) -> Option<SocketAddr> {
    let (mut ss, mut len) = sockaddr_buf();
    // SAFETY: `ss` has room for `len` bytes; `f` writes at most that.
    let r = unsafe { f(fd, (&mut ss as *mut SockAddrBuf).cast(), &mut len) };
    if r < 0 {
        return None;
    }
    from_sockaddr(&ss)
}

// ---- sockets ----------------------------------------------------------------------------

/// A socket owned by a connection.
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
        sock_name(self.fd(), libc::getsockname)
    }
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Sock::Listener(_) => None,
            _ => sock_name(self.fd(), libc::getpeername),
        }
    }
    /// The pending socket error (SO_ERROR), e.g. the outcome of a non-blocking connect.
    pub fn take_error(&self) -> Result<Option<Errno>> {
        let mut v: c_int = 0;
        let mut len = core::mem::size_of::<c_int>() as libc::socklen_t;
        // SAFETY: `v` is a writable int of `len` bytes.
        cvt_i(unsafe {
            libc::getsockopt(
                self.fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut v as *mut c_int).cast(),
                &mut len,
            )
        })?;
        Ok((v != 0).then_some(Errno(v)))
    }
}

fn set_int_opt(fd: RawFd, level: c_int, name: c_int, v: c_int) -> Result<()> {
    // SAFETY: `v` is a readable int of the size passed.
    cvt_i(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const c_int).cast(),
            core::mem::size_of::<c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// Non-blocking and close-on-exec, for a descriptor that was not created so.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn set_nonblock_cloexec(fd: RawFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments.
    unsafe {
        let fl = cvt_i(libc::fcntl(fd, libc::F_GETFL))?;
        cvt_i(libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK))?;
        #[cfg(not(target_os = "espidf"))]
        {
            let fd_fl = cvt_i(libc::fcntl(fd, libc::F_GETFD))?;
            cvt_i(libc::fcntl(fd, libc::F_SETFD, fd_fl | libc::FD_CLOEXEC))?;
        }
    }
    Ok(())
}

/// `SO_NOSIGPIPE` on the platforms that have it instead of `MSG_NOSIGNAL`.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn no_sigpipe(_fd: RawFd) -> Result<()> {
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "tvos",
        target_os = "watchos",
        target_os = "visionos",
    ))]
    set_int_opt(_fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1)?;
    Ok(())
}

/// A non-blocking, close-on-exec socket for `addr`'s family. Without the feature `ipv6`
/// (Mongoose's `MG_ENABLE_IPV6`) an IPv6 address fails with EAFNOSUPPORT.
fn new_socket(addr: &SocketAddr, ty: c_int) -> Result<Fd> {
    #[cfg(feature = "ipv6")]
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    #[cfg(not(feature = "ipv6"))]
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        return Err(Errno(libc::EAFNOSUPPORT));
    };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: plain syscall; the result is checked.
        let fd = cvt_i(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
        Ok(Fd(fd))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        // SAFETY: plain syscall; the result is checked.
        let fd = Fd(cvt_i(unsafe { libc::socket(domain, ty, 0) })?);
        set_nonblock_cloexec(fd.0)?;
        no_sigpipe(fd.0)?;
        Ok(fd)
    }
}

fn bind(fd: &Fd, addr: &SocketAddr) -> Result<()> {
    let (ss, len) = to_sockaddr(addr);
    // SAFETY: `ss` holds a sockaddr of `len` bytes.
    cvt_i(unsafe { libc::bind(fd.0, (&ss as *const SockAddrBuf).cast(), len) }).map(|_| ())
}

pub fn tcp_listen(addr: SocketAddr, backlog: i32) -> Result<Sock> {
    let s = new_socket(&addr, libc::SOCK_STREAM)?;
    set_int_opt(s.0, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    bind(&s, &addr)?;
    // SAFETY: plain syscall on a descriptor we own.
    cvt_i(unsafe { libc::listen(s.0, backlog) })?;
    Ok(Sock::Listener(s))
}

pub fn udp_bind(addr: SocketAddr) -> Result<Sock> {
    let s = new_socket(&addr, libc::SOCK_DGRAM)?;
    set_int_opt(s.0, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    bind(&s, &addr)?;
    Ok(Sock::Udp(s))
}

fn connect(fd: &Fd, addr: &SocketAddr) -> Result<()> {
    let (ss, len) = to_sockaddr(addr);
    // SAFETY: `ss` holds a sockaddr of `len` bytes.
    cvt_i(unsafe { libc::connect(fd.0, (&ss as *const SockAddrBuf).cast(), len) }).map(|_| ())
}

/// Start a non-blocking connect; completion is signalled by writability + `take_error`.
pub fn tcp_connect(addr: SocketAddr) -> Result<Sock> {
    let s = new_socket(&addr, libc::SOCK_STREAM)?;
    let _ = set_int_opt(s.0, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    match connect(&s, &addr) {
        Ok(()) => {}
        Err(e) if e.0 == libc::EINPROGRESS || would_block(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(Sock::Stream(s))
}

pub fn udp_connect(addr: SocketAddr) -> Result<Sock> {
    let s = new_socket(&addr, libc::SOCK_DGRAM)?;
    connect(&s, &addr)?;
    Ok(Sock::Udp(s))
}

/// Accept one pending connection, if any.
pub fn accept(l: &Fd) -> Result<Option<(Fd, SocketAddr)>> {
    let (mut ss, mut len) = sockaddr_buf();
    let p = (&mut ss as *mut SockAddrBuf).cast();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: `p` points to `len` writable bytes.
    let r = unsafe { libc::accept4(l.0, p, &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: `p` points to `len` writable bytes.
    let r = unsafe { libc::accept(l.0, p, &mut len) };
    let fd = match cvt_i(r) {
        Ok(fd) => Fd(fd),
        Err(e) if would_block(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        set_nonblock_cloexec(fd.0)?;
        no_sigpipe(fd.0)?;
    }
    let _ = set_int_opt(fd.0, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    let addr = from_sockaddr(&ss).unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    Ok(Some((fd, addr)))
}

/// Read into `buf`: `Ok(0)` is end of stream; WouldBlock is an `Err` (check [`would_block`]).
/// A descriptor that is not a socket (a pipe adopted by [`adopt_stream`]) is read with
/// read(2).
///
/// Inlined into the loop's read (one call site per program that matters): out of line its
/// frame cost each read about 20 instructions; the pipe case stays out of line.
#[inline]
pub fn read(s: &Fd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes.
    match cvt(unsafe { libc::recv(s.0, buf.as_mut_ptr().cast(), buf.len(), 0) }) {
        Err(e) if e.0 == libc::ENOTSOCK => read_not_socket(s, buf),
        r => r,
    }
}

#[cold]
fn read_not_socket(s: &Fd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes.
    cvt(unsafe { libc::read(s.0, buf.as_mut_ptr().cast(), buf.len()) })
}

/// Adopt `fd`, an open descriptor of a stream (a socket, one end of a `socketpair`, a pipe)
/// as a connection's socket (Mongoose's `mg_wrapfd`): made non-blocking and close-on-exec;
/// closed when the returned value is dropped ([`Fd::into_raw`] gives it back). A descriptor
/// that is not open fails with EBADF.
pub fn adopt_stream(fd: RawFd) -> Result<Sock> {
    if fd < 0 {
        return Err(Errno(libc::EBADF));
    }
    set_nonblock_cloexec(fd)?;
    Ok(Sock::Stream(Fd(fd)))
}

/// Set the DSCP code point (0..=63) of the IP packets the socket sends: `IP_TOS` (IPv4)
/// or `IPV6_TCLASS` (IPv6) with the two ECN bits left 0. Fails with EAFNOSUPPORT on what
/// is not an IP socket (a pipe, a Unix socket; IPv6 on ESP-IDF).
pub fn set_dscp(s: &Sock, dscp: u8) -> Result<()> {
    let (level, name) = dscp_option(s)?;
    set_int_opt(s.fd(), level, name, c_int::from(dscp & 0x3f) << 2)
}

/// The (level, option) that holds the traffic class of socket `s`. newlib (ESP-IDF) has
/// no `IPV6_TCLASS`: there IPv6 sockets are refused.
fn dscp_option(s: &Sock) -> Result<(c_int, c_int)> {
    match sock_name(s.fd(), libc::getsockname) {
        Some(SocketAddr::V4(_)) => Ok((libc::IPPROTO_IP, libc::IP_TOS)),
        #[cfg(all(feature = "ipv6", not(target_os = "espidf")))]
        Some(SocketAddr::V6(_)) => Ok((libc::IPPROTO_IPV6, libc::IPV6_TCLASS)),
        _ => Err(Errno(libc::EAFNOSUPPORT)),
    }
}

/// Flags for every send on a socket: `MSG_NOSIGNAL` where the OS has it, so that writing to
/// a peer that reset the connection returns `EPIPE` instead of killing the process with
/// SIGPIPE. Apple systems have no such flag; there every socket gets `SO_NOSIGPIPE` instead.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
))]
const SEND_FLAGS: c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
)))]
const SEND_FLAGS: c_int = 0;

/// Write to a connected stream socket; never raises SIGPIPE (see [`SEND_FLAGS`]). A
/// descriptor that is not a socket (a pipe adopted by [`adopt_stream`]) is written with
/// write(2), with SIGPIPE blocked for the call on Linux (as for [`sendfile`]).
pub fn write(s: &Fd, buf: &[u8]) -> Result<usize> {
    // SAFETY: `buf` is a valid readable buffer of `buf.len()` bytes.
    match cvt(unsafe { libc::send(s.0, buf.as_ptr().cast(), buf.len(), SEND_FLAGS) }) {
        Err(e) if e.0 == libc::ENOTSOCK => write_not_socket(s, buf),
        r => r,
    }
}

#[cold]
fn write_not_socket(s: &Fd, buf: &[u8]) -> Result<usize> {
    #[cfg(target_os = "linux")]
    let guard = SigpipeBlock::new();
    // SAFETY: `buf` is a valid readable buffer of `buf.len()` bytes.
    let r = cvt(unsafe { libc::write(s.0, buf.as_ptr().cast(), buf.len()) });
    #[cfg(target_os = "linux")]
    if matches!(r, Err(Errno(libc::EPIPE))) {
        guard.consume_pending();
    }
    r
}

/// Send one datagram on a connected UDP socket (see [`SEND_FLAGS`]).
pub fn udp_send(s: &Fd, buf: &[u8]) -> Result<usize> {
    write(s, buf)
}

/// Send one datagram to `to` (see [`SEND_FLAGS`]).
pub fn udp_send_to(s: &Fd, buf: &[u8], to: SocketAddr) -> Result<usize> {
    let (ss, len) = to_sockaddr(&to);
    // SAFETY: `buf` is readable for its length; `ss` holds a sockaddr of `len` bytes.
    cvt(unsafe {
        libc::sendto(
            s.0,
            buf.as_ptr().cast(),
            buf.len(),
            SEND_FLAGS,
            (&ss as *const SockAddrBuf).cast(),
            len,
        )
    })
}

/// Receive one datagram and its sender.
pub fn udp_recv_from(s: &Fd, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
    let (mut ss, mut len) = sockaddr_buf();
    // SAFETY: `buf` is writable for its length; `ss` has room for `len` bytes.
    let n = cvt(unsafe {
        libc::recvfrom(
            s.0,
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&mut ss as *mut SockAddrBuf).cast(),
            &mut len,
        )
    })?;
    let from = from_sockaddr(&ss).unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    Ok((n, from))
}

/// The one way rustls writes to a socket: an `io::Write` whose `write` is `send(2)` and
/// whose `write_vectored` is `sendmsg(2)`, both with [`SEND_FLAGS`] (a plain `writev(2)` has
/// no `MSG_NOSIGNAL` and kills a program that leaves SIGPIPE at its default when the peer
/// has reset the connection). std only, as TLS is.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct SockWriter<'a>(&'a Fd);

/// A [`SockWriter`] on `s`.
#[cfg(feature = "std")]
pub fn writer(s: &Fd) -> SockWriter<'_> {
    SockWriter(s)
}

#[cfg(feature = "std")]
impl std::io::Write for SockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write(self.0, buf).map_err(|e| std::io::Error::from_raw_os_error(e.0))
    }
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        // sendmsg refuses more than IOV_MAX (1024 on Linux) pieces: send the first ones.
        let bufs = &bufs[..bufs.len().min(1024)];
        // SAFETY: zeroed msghdr is valid; IoSlice is ABI-compatible with iovec on Unix.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len() as _;
        // SAFETY: `msg` describes readable buffers that outlive the call.
        let n = unsafe { libc::sendmsg(self.0 .0, &msg, SEND_FLAGS) };
        cvt(n).map_err(|e| std::io::Error::from_raw_os_error(e.0))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// std's `io::Error` for an [`Errno`] (std builds: rustls and the resolver speak it).
#[cfg(feature = "std")]
pub fn io_error(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e.0)
}

/// Join the IPv4 multicast group `group` on the default interface (mDNS listeners), with
/// multicast loopback on so that other programs on this host hear our answers.
pub fn udp_join_multicast_v4(s: &Sock, group: core::net::Ipv4Addr) -> Result<()> {
    let Sock::Udp(u) = s else {
        return Err(Errno(libc::EINVAL));
    };
    let mreq = libc::ip_mreq {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from_ne_bytes(group.octets()),
        },
        imr_interface: libc::in_addr { s_addr: 0 },
    };
    // SAFETY: `mreq` is a readable ip_mreq of the size passed.
    cvt_i(unsafe {
        libc::setsockopt(
            u.0,
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            (&mreq as *const libc::ip_mreq).cast(),
            core::mem::size_of::<libc::ip_mreq>() as libc::socklen_t,
        )
    })?;
    set_int_opt(u.0, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, 1)
}

/// The local address the system would send from to reach `peer` (no packet is sent).
pub fn local_ip_for(peer: SocketAddr) -> Option<core::net::IpAddr> {
    let s = udp_connect(peer).ok()?;
    s.local_addr().map(|a| a.ip())
}

/// Blocking name resolution (run on a resolver thread, never on the event loop). std only:
/// without std, names go to the sans-IO DNS client (see `Mgr::resolve_without_std`).
#[cfg(feature = "std")]
pub fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    Ok((host, port).to_socket_addrs()?.collect())
}

// ---- waker ------------------------------------------------------------------------------

/// The self-pipe that wakes `poll` from other threads. (lwIP has no pipes: an ESP-IDF port
/// uses its eventfd VFS or a loopback UDP pair here.)
#[derive(Debug)]
pub struct Waker {
    rx: Fd,
    tx: Fd,
}

impl Waker {
    pub fn new() -> Result<Waker> {
        let mut fds = [0 as c_int; 2];
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: `fds` has room for the two descriptors.
        cvt_i(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        // SAFETY: `fds` has room for the two descriptors.
        cvt_i(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
        let w = Waker {
            rx: Fd(fds[0]),
            tx: Fd(fds[1]),
        };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            set_nonblock_cloexec(w.rx.0)?;
            set_nonblock_cloexec(w.tx.0)?;
        }
        Ok(w)
    }
    pub fn fd(&self) -> RawFd {
        self.rx.0
    }
    /// Make the next (or current) `poll` return. Any thread.
    pub fn wake(&self) {
        // A full pipe already guarantees a wakeup, so EAGAIN is fine to ignore. Both ends
        // live as long as `self`, so EPIPE (and SIGPIPE) cannot happen.
        // SAFETY: writes one byte from a valid buffer.
        let _ = unsafe { libc::write(self.tx.0, [1u8].as_ptr().cast(), 1) };
    }
    /// Consume pending wake signals. Loop thread.
    pub fn drain(&self) {
        // Never read back: no need to zero it first.
        let mut buf = core::mem::MaybeUninit::<[u8; 64]>::uninit();
        loop {
            // SAFETY: `buf` is writable for its 64 bytes (`read` only writes them).
            let n = unsafe { libc::read(self.rx.0, buf.as_mut_ptr().cast(), 64) };
            if n < 64 {
                break;
            }
        }
    }
}

// ---- files ------------------------------------------------------------------------------

/// `sendfile(2)` is available: [`sendfile`] moves file bytes without a copy.
pub const HAS_SENDFILE: bool = cfg!(target_os = "linux");

/// Send up to `count` bytes of the file `fd` from `*offset` to the socket without copying
/// them through user space (Linux `sendfile`); advances `*offset`. WouldBlock is an `Err`
/// (check [`would_block`]). Elsewhere ([`HAS_SENDFILE`] false) it fails with ENOSYS and the
/// manager reads and writes instead.
pub fn sendfile(sock: &Fd, fd: RawFd, offset: &mut u64, count: usize) -> Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut off = *offset as libc::off_t;
        // sendfile has no MSG_NOSIGNAL: to a peer that reset the connection it raises
        // SIGPIPE, which kills a C program that did not ignore it. Block the signal for this
        // thread around the call and take back the one it raised; the process-wide
        // disposition is the application's and stays untouched.
        let guard = SigpipeBlock::new();
        // SAFETY: both descriptors are open for the duration of the call and `off` is a
        // valid, writable off_t.
        let n = unsafe { libc::sendfile(sock.0, fd, &mut off, count) };
        if n < 0 {
            let e = Errno::last();
            if e.0 == libc::EPIPE {
                guard.consume_pending();
            }
            return Err(e);
        }
        *offset = off as u64;
        Ok(n as usize)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (sock, fd, offset, count);
        Err(Errno(libc::ENOSYS))
    }
}

/// `openat2` is not available (`ENOSYS` before Linux 5.6 and under tools that do not know
/// it, such as valgrind before 3.21; `EPERM` from a seccomp filter): [`open_beneath`] walks.
#[cfg(target_os = "linux")]
static NO_OPENAT2: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// [`PosixFs`]'s `open_beneath` on Linux: `root/rel` opened for reading (non-blocking, as
/// `open`: a FIFO put where a file was expected must not hang the loop) only if the kernel
/// met no symbolic link in `root` or `rel`, so that `root/rel` is its own canonical path and
/// lies under `root`; done again on every request, so a root moved, replaced or turned into
/// a link is seen as `realpath` sees it. Links, including those that stay inside the root,
/// are left to the caller's `realpath` path ([`Beneath::Unknown`]), as is every error
/// except a name that is not there ([`Beneath::Absent`]: `realpath` would fail too).
///
/// With [`openat2`] (Linux 5.6 on): the root opened with `RESOLVE_NO_SYMLINKS`, the file
/// below it with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` (`ELOOP` on any link, `EXDEV` on
/// any escape). Without it: [`open_walk`]. Either saves `realpath`'s `readlink` of every
/// component.
#[cfg(target_os = "linux")]
fn open_beneath(root: &[u8], rel: &[u8]) -> crate::fs::Beneath {
    use crate::fs::Beneath;
    use core::sync::atomic::Ordering::Relaxed;
    const NO_LINKS: u64 = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    let mut b = [0u8; CPATH_STACK];
    let Some((r, n)) = root_rel(&mut b, root, rel) else {
        return Beneath::Unknown;
    };
    if NO_OPENAT2.load(Relaxed) {
        return open_walk(&mut b, n);
    }
    // The root, NUL-terminated in place (`/` itself: a static one).
    b[r] = 0;
    let root_c: &[u8] = if r == 0 { &ROOT_C } else { &b };
    let dir = match openat2(
        libc::AT_FDCWD,
        root_c,
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        NO_LINKS,
    ) {
        Ok(fd) => fd,
        Err(e) if e.0 == libc::ENOSYS || e.0 == libc::EPERM => {
            NO_OPENAT2.store(true, Relaxed);
            if r < n {
                b[r] = b'/';
            }
            return open_walk(&mut b, n);
        }
        Err(_) => return Beneath::Unknown,
    };
    let rel_c: &[u8] = if r == n {
        &DOT_C
    } else {
        b.get(r + 1..).unwrap_or_default()
    };
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC;
    // ENOTDIR: a component is not a directory (a link would have been ELOOP first).
    match openat2(dir.0, rel_c, flags, NO_LINKS | libc::RESOLVE_BENEATH) {
        Ok(fd) => opened(fd),
        Err(e) if e.0 == libc::ENOENT || e.0 == libc::ENOTDIR => Beneath::Absent,
        Err(_) => Beneath::Unknown,
    }
}

/// Writes `root/rel` (`root` alone when `rel` is empty) into `b`, NUL-terminated: the
/// length of the root part (0 for `/`) and of the whole. `None` when it does not fit, is
/// `/` itself, is not absolute or holds a NUL.
#[cfg(target_os = "linux")]
fn root_rel(b: &mut [u8; CPATH_STACK], root: &[u8], rel: &[u8]) -> Option<(usize, usize)> {
    // `root` is canonical: it starts with `/` and ends with one only when it is `/`.
    let root = root.strip_suffix(b"/").unwrap_or(root);
    let n = if rel.is_empty() {
        root.len()
    } else {
        root.len() + 1 + rel.len()
    };
    if n >= CPATH_STACK || n == 0 || !(root.is_empty() || root.starts_with(b"/")) {
        return None;
    }
    b[..root.len()].copy_from_slice(root);
    if !rel.is_empty() {
        b[root.len()] = b'/';
        b[root.len() + 1..n].copy_from_slice(rel);
    }
    // No NUL inside the path (`b` is zeroed past `n`, so it stays NUL-terminated).
    memchr(0, &b[..n]).is_none().then_some((root.len(), n))
}

/// `fd` as [`crate::fs::Beneath::Opened`], with its `fstat`.
#[cfg(target_os = "linux")]
fn opened(fd: Fd) -> crate::fs::Beneath {
    let f = PosixFile(fd);
    match crate::fs::File::stat(&f) {
        Some(st) => crate::fs::Beneath::Opened(Box::new(f), st),
        None => crate::fs::Beneath::Unknown,
    }
}

/// [`open_beneath`] without `openat2`: the path `b[..n]` ([`root_rel`]) opened one
/// component at a time from `/`, each with `O_NOFOLLOW` below the directory opened before it
/// (directories as `O_PATH`, which needs no read permission, like `realpath`). A link as the
/// last component fails with `ELOOP`, one before it is opened as itself and the next step
/// fails with `ENOTDIR`: both [`crate::fs::Beneath::Unknown`], like every error but
/// `ENOENT`, and a `.` or `..` component.
#[cfg(target_os = "linux")]
fn open_walk(b: &mut [u8; CPATH_STACK], n: usize) -> crate::fs::Beneath {
    use crate::fs::Beneath;
    let at = |dir: RawFd, name: &[u8], flags: c_int| -> Result<Fd> {
        // SAFETY: `name` ends with a NUL (the walk writes one at the end of each name).
        cvt_i(unsafe { libc::openat(dir, name.as_ptr().cast(), flags) }).map(Fd)
    };
    let dir_flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let Ok(mut dir) = at(libc::AT_FDCWD, &ROOT_C, dir_flags | libc::O_DIRECTORY) else {
        return Beneath::Unknown;
    };
    // b[0] is the leading `/`; each name ends at a `/` or at the NUL at `n`.
    let mut start = 1;
    loop {
        let i = name_end(b, start, n);
        let last = i == n;
        if matches!(b.get(start..i), None | Some(b"" | b"." | b"..")) {
            return Beneath::Unknown; // not in normal form
        }
        b[i] = 0;
        let flags = if last {
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC
        } else {
            dir_flags
        };
        let fd = match at(dir.0, b.get(start..).unwrap_or_default(), flags) {
            Ok(fd) => fd,
            Err(e) if e.0 == libc::ENOENT => return Beneath::Absent,
            Err(_) => return Beneath::Unknown,
        };
        if last {
            return opened(fd);
        }
        dir = fd;
        start = i + 1;
    }
}

/// [`open_walk`] of `root/rel`, for the tests that compare it with `openat2` and with
/// `realpath`.
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn open_walk_for_tests(root: &[u8], rel: &[u8]) -> crate::fs::Beneath {
    let mut b = [0u8; CPATH_STACK];
    match root_rel(&mut b, root, rel) {
        Some((_, n)) => open_walk(&mut b, n),
        None => crate::fs::Beneath::Unknown,
    }
}

/// The index of the first `/` in `b[i..n]`, else `n` (the path's end).
#[cfg(target_os = "linux")]
fn name_end(b: &[u8; CPATH_STACK], i: usize, n: usize) -> usize {
    let name = b.get(i..n).unwrap_or_default();
    i + memchr(b'/', name).unwrap_or(name.len())
}

/// Linux's `struct open_how` (`linux/openat2.h`; the libc crate's is `non_exhaustive`).
#[cfg(target_os = "linux")]
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(dirfd, path, {flags, resolve})`, by its system call number (not every C
/// library wraps it). Retried on `EINTR`.
#[cfg(target_os = "linux")]
fn openat2(dirfd: RawFd, path: &[u8], flags: c_int, resolve: u64) -> Result<Fd> {
    let how = OpenHow {
        flags: flags as u64,
        mode: 0,
        resolve,
    };
    loop {
        // SAFETY: `path` holds a NUL (the callers' paths are NUL-terminated), `how` is a
        // valid `open_how` of the size passed; the kernel only reads both.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd,
                path.as_ptr(),
                &how as *const OpenHow,
                core::mem::size_of::<OpenHow>(),
            )
        };
        if r >= 0 {
            return Ok(Fd(r as RawFd));
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// The OS file system (Mongoose's `mg_fs_posix`) behind [`crate::fs::Fs`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PosixFs;

/// Paths shorter than this (NUL included) are copied on the stack.
const CPATH_STACK: usize = 256;

/// Calls `f` with a NUL-terminated copy of `path` (`None`: `path` holds a NUL). The copy is
/// on the stack when it is short (the paths a static file request names: a request makes
/// several of these, and a heap copy each cost more than the call's own user-space work),
/// on the heap beyond. Built in this frame and lent to `f`: a returned copy would be moved
/// (a 256-byte memcpy) on its way out. The copying is [`cpath`], one function for every
/// caller (inlined into each, it was one copy per file system call a program links).
#[inline(always)]
fn with_cpath<R>(path: &[u8], f: impl FnOnce(*const libc::c_char) -> R) -> Option<R> {
    let mut b = [0u8; CPATH_STACK];
    let mut heap = Vec::new();
    let p = cpath(path, &mut b, &mut heap);
    (!p.is_null()).then(|| f(p))
}

/// [`with_cpath`]'s copy, not generic: `path` NUL-terminated in `b` when it fits (`b` is
/// zeroed), else in `heap`; NULL when `path` holds a NUL.
#[inline(never)]
fn cpath(path: &[u8], b: &mut [u8; CPATH_STACK], heap: &mut Vec<u8>) -> *const libc::c_char {
    if path.len() < CPATH_STACK {
        b[..path.len()].copy_from_slice(path);
        // A NUL inside `path` ends the C string early. The C library's strlen finds that
        // in a fraction of what a generic byte search costs on these short paths.
        // SAFETY: `b` is NUL-terminated: it is zeroed past `path`.
        if unsafe { libc::strlen(b.as_ptr().cast()) } != path.len() {
            return core::ptr::null();
        }
        return b.as_ptr().cast();
    }
    if memchr(0, path).is_some() {
        return core::ptr::null();
    }
    heap.reserve_exact(path.len() + 1);
    heap.extend_from_slice(path);
    crate::util::push_byte(heap, 0);
    heap.as_ptr().cast()
}

// The field types differ between C libraries and word sizes: the casts are needed elsewhere.
#[allow(clippy::unnecessary_cast)]
fn stat_of(st: &libc::stat) -> crate::fs::Stat {
    let dir = (st.st_mode & libc::S_IFMT) == libc::S_IFDIR;
    #[cfg(not(target_os = "espidf"))]
    let nanos = st.st_mtime_nsec as u32;
    #[cfg(target_os = "espidf")]
    let nanos = 0;
    crate::fs::Stat {
        size: if dir { 0 } else { st.st_size as u64 },
        mtime: st.st_mtime as i64,
        mtime_nanos: nanos,
        dir,
        regular: (st.st_mode & libc::S_IFMT) == libc::S_IFREG,
        id: (st.st_ino as u64) ^ (st.st_dev as u64).rotate_left(32),
    }
}

fn fs_err(e: Errno) -> crate::Error {
    if e.0 == libc::EACCES || e.0 == libc::EPERM {
        crate::Error::Unsupported // "refused": serve answers 403
    } else {
        crate::Error::Io
    }
}

/// An open POSIX file.
#[derive(Debug)]
pub struct PosixFile(Fd);

impl crate::fs::File for PosixFile {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, crate::Error> {
        loop {
            // SAFETY: `buf` is writable for its length.
            match cvt(unsafe { libc::read(self.0 .0, buf.as_mut_ptr().cast(), buf.len()) }) {
                Err(e) if e.0 == libc::EINTR => continue,
                r => return r.map_err(fs_err),
            }
        }
    }
    fn write(&mut self, buf: &[u8]) -> core::result::Result<usize, crate::Error> {
        // SAFETY: `buf` is readable for its length.
        cvt(unsafe { libc::write(self.0 .0, buf.as_ptr().cast(), buf.len()) }).map_err(fs_err)
    }
    fn seek(&mut self, offset: u64) -> core::result::Result<(), crate::Error> {
        // SAFETY: plain syscall on a descriptor we own.
        let r = unsafe { libc::lseek(self.0 .0, offset as libc::off_t, libc::SEEK_SET) };
        if r < 0 {
            Err(fs_err(Errno::last()))
        } else {
            Ok(())
        }
    }
    fn raw_fd(&self) -> Option<i32> {
        Some(self.0 .0)
    }
    fn stat(&self) -> Option<crate::fs::Stat> {
        // SAFETY: zeroed stat is valid and fstat writes into it.
        let mut st: libc::stat = unsafe { core::mem::zeroed() };
        // SAFETY: see above.
        (unsafe { libc::fstat(self.0 .0, &mut st) } == 0).then(|| stat_of(&st))
    }
}

impl crate::fs::Fs for PosixFs {
    fn stat(&self, path: &[u8]) -> Option<crate::fs::Stat> {
        with_cpath(path, |p| {
            // SAFETY: zeroed stat is valid; `p` is NUL-terminated.
            let mut st: libc::stat = unsafe { core::mem::zeroed() };
            // SAFETY: see above.
            (unsafe { libc::stat(p, &mut st) } == 0).then(|| stat_of(&st))
        })?
    }
    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8])) {
        // SAFETY: `p` is NUL-terminated.
        let Some(d) = with_cpath(dir, |p| unsafe { libc::opendir(p) }) else {
            return;
        };
        if d.is_null() {
            return;
        }
        loop {
            // SAFETY: `d` is an open DIR stream.
            let e = unsafe { libc::readdir(d) };
            if e.is_null() {
                break;
            }
            // SAFETY: readdir returns an entry whose d_name is NUL-terminated.
            let name = unsafe { core::ffi::CStr::from_ptr((*e).d_name.as_ptr()) }.to_bytes();
            if name != b"." && name != b".." {
                f(name);
            }
        }
        // SAFETY: `d` is open and closed once.
        unsafe { libc::closedir(d) };
    }
    fn open(&self, path: &[u8], flags: u32) -> core::result::Result<Box<dyn crate::fs::File>, crate::Error> {
        // Non-blocking: a FIFO put where a file was expected must not hang the loop.
        let mode = if flags & crate::fs::FS_WRITE != 0 {
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC
        } else {
            libc::O_RDONLY | libc::O_NONBLOCK
        };
        #[cfg(not(target_os = "espidf"))]
        let mode = if flags & crate::fs::FS_NOFOLLOW != 0 {
            mode | libc::O_NOFOLLOW
        } else {
            mode
        };
        #[cfg(not(target_os = "espidf"))]
        let mode = mode | libc::O_CLOEXEC;
        // SAFETY: `p` is NUL-terminated.
        let fd =
            with_cpath(path, |p| unsafe { libc::open(p, mode, 0o644 as libc::c_uint) }).ok_or(crate::Error::Invalid)?;
        let fd = cvt_i(fd).map_err(fs_err)?;
        Ok(Box::new(PosixFile(Fd(fd))))
    }
    fn rename(&self, from: &[u8], to: &[u8]) -> core::result::Result<(), crate::Error> {
        // SAFETY: both are NUL-terminated.
        let r = with_cpath(from, |a| with_cpath(to, |b| unsafe { libc::rename(a, b) }))
            .flatten()
            .ok_or(crate::Error::Invalid)?;
        cvt_i(r).map(|_| ()).map_err(fs_err)
    }
    fn remove(&self, path: &[u8]) -> core::result::Result<(), crate::Error> {
        // SAFETY: NUL-terminated.
        cvt_i(with_cpath(path, |p| unsafe { libc::unlink(p) }).ok_or(crate::Error::Invalid)?)
            .map(|_| ())
            .map_err(fs_err)
    }
    fn mkdir(&self, path: &[u8]) -> core::result::Result<(), crate::Error> {
        // SAFETY: NUL-terminated.
        cvt_i(with_cpath(path, |p| unsafe { libc::mkdir(p, 0o755) }).ok_or(crate::Error::Invalid)?)
            .map(|_| ())
            .map_err(fs_err)
    }
    fn has_links(&self) -> bool {
        true
    }
    /// Linux: the kernel resolves the path and refuses any symbolic link on the way, so an
    /// open file is proven to be at its canonical path, under the root ([`open_beneath`]).
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, root: &[u8], rel: &[u8]) -> crate::fs::Beneath {
        open_beneath(root, rel)
    }
    /// On Linux the result is resolved into a `PATH_MAX` buffer on the stack (not
    /// initialised: realpath writes the NUL-terminated path), saving the C library's heap
    /// copy of it on each static file request; elsewhere (small task stacks) realpath
    /// allocates the result.
    #[cfg(target_os = "linux")]
    fn canonical(&self, path: &[u8]) -> Option<Vec<u8>> {
        let mut buf = core::mem::MaybeUninit::<[libc::c_char; libc::PATH_MAX as usize]>::uninit();
        // SAFETY: `p` is NUL-terminated and `buf` has the PATH_MAX bytes realpath may write;
        // on success it returns `buf`, holding a NUL-terminated path.
        unsafe {
            let r = with_cpath(path, |p| libc::realpath(p, buf.as_mut_ptr().cast()))?;
            if r.is_null() {
                return None;
            }
            Some(core::ffi::CStr::from_ptr(r).to_bytes().to_vec())
        }
    }
    #[cfg(not(target_os = "linux"))]
    fn canonical(&self, path: &[u8]) -> Option<Vec<u8>> {
        // SAFETY: `p` is NUL-terminated; a NULL buffer makes realpath allocate the result,
        // which is copied and freed here.
        unsafe {
            let r = with_cpath(path, |p| libc::realpath(p, core::ptr::null_mut()))?;
            if r.is_null() {
                return None;
            }
            let v = core::ffi::CStr::from_ptr(r).to_bytes().to_vec();
            libc::free(r.cast());
            Some(v)
        }
    }
}

// ---- stdout and SIGPIPE -----------------------------------------------------------------

/// Write `bytes` (a log line) to standard output, all of it unless stdout fails. A closed
/// pipe or terminal must not kill the program: like every other write of the library this
/// never raises SIGPIPE (on Linux the signal is blocked for the thread around the write and
/// the one it raised is taken back); the line is lost instead. Interrupted writes are
/// retried; a non-blocking stdout that is full drops the rest of the line.
pub fn write_stdout(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    let guard = SigpipeBlock::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: `rest` is a valid readable buffer of `rest.len()` bytes; fd 1 may be closed,
        // which write(2) reports as EBADF.
        let n = unsafe { libc::write(1, rest.as_ptr().cast(), rest.len()) };
        if n > 0 {
            rest = &rest[n as usize..];
            continue;
        }
        let e = Errno::last();
        if n < 0 && e.0 == libc::EINTR {
            continue;
        }
        #[cfg(target_os = "linux")]
        if e.0 == libc::EPIPE {
            guard.consume_pending();
        }
        break;
    }
}

/// SIGPIPE blocked for the current thread while alive (see [`sendfile`]).
#[cfg(target_os = "linux")]
struct SigpipeBlock {
    old: libc::sigset_t,
    set: libc::sigset_t,
}

#[cfg(target_os = "linux")]
impl SigpipeBlock {
    fn new() -> SigpipeBlock {
        // SAFETY: sigset_t is plain data; the libc calls only write into the two sets.
        unsafe {
            // Built where it is returned (one zeroing, no copy of the two sets).
            let mut b: SigpipeBlock = core::mem::zeroed();
            libc::sigemptyset(&mut b.set);
            libc::sigaddset(&mut b.set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &b.set, &mut b.old);
            b
        }
    }

    /// Take the SIGPIPE the failed write left pending, so unblocking does not deliver it.
    fn consume_pending(&self) {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `set` holds SIGPIPE only; a NULL info pointer is allowed.
        unsafe { libc::sigtimedwait(&self.set, core::ptr::null_mut(), &zero) };
    }
}

#[cfg(target_os = "linux")]
impl Drop for SigpipeBlock {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, core::ptr::null_mut()) };
    }
}

// ---- poller -----------------------------------------------------------------------------

/// Readiness notification, one interface over two mechanisms. Each poll: [`begin`], then
/// [`update`] for every socket with the interest it has now, then [`wait`].
///
/// - epoll (Linux): registrations persist between polls and `epoll_ctl` runs only when a
///   socket's interest changes, so a poll costs the kernel work for the ready sockets only.
/// - poll(2) (elsewhere; on Linux with the feature `poller-switch` when epoll cannot be had
///   or when the environment variable `MEERKAT_POLLER=poll` is set at `mg_mgr_init`, the
///   tests run both; or built with `--cfg meerkat_poll`): the set is built anew for each call.
///
/// Which are compiled in: with `poller-switch` (a default feature) both on Linux, chosen at
/// run time; without it one, chosen at compile time as Mongoose chooses (`MG_ENABLE_EPOLL`):
/// epoll on Linux, poll(2) elsewhere or with `--cfg meerkat_poll`.
///
/// The waker is part of the set from the start, with token [`WAKER_TOKEN`]; connection
/// tokens are handles, never 0.
///
/// [`begin`]: Poller::begin
/// [`update`]: Poller::update
/// [`wait`]: Poller::wait
#[derive(Debug)]
pub enum Poller {
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    Epoll { ep: Fd },
    #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
    Poll {
        waker: RawFd,
        fds: Vec<PollFd>,
        tokens: Vec<u64>,
    },
}

/// What [`Poller::wait`] reports of one ready descriptor: its token ([`Ready::token`]) and
/// poll(2)-style bits ([`Ready::bits`]). With epoll compiled in, the kernel's own record,
/// which `epoll_wait` writes straight into the loop's buffer (no copy into another list).
#[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Ready(libc::epoll_event);

/// See above.
#[cfg(not(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll)))))]
#[derive(Clone, Copy, Debug)]
pub struct Ready(u64, i16);

impl Ready {
    #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
    fn new(token: u64, bits: i16) -> Ready {
        #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
        return Ready(libc::epoll_event {
            events: bits as u16 as u32,
            u64: token,
        });
        #[cfg(not(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll)))))]
        Ready(token, bits)
    }
    /// The token the descriptor was registered with.
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    #[inline]
    pub fn token(&self) -> u64 {
        self.0.u64
    }
    /// The token the descriptor was registered with.
    #[cfg(not(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll)))))]
    #[inline]
    pub fn token(&self) -> u64 {
        self.0
    }
    /// `POLLIN` / `POLLOUT` / `POLLERR` / `POLLHUP` bits.
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    #[inline]
    pub fn bits(&self) -> i16 {
        // Linux gives the epoll bits the values of the poll(2) ones (checked below).
        const MASK: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32;
        const _: () = assert!(
            libc::EPOLLIN as i16 == POLLIN
                && libc::EPOLLOUT as i16 == POLLOUT
                && libc::EPOLLERR as i16 == POLLERR
                && libc::EPOLLHUP as i16 == POLLHUP
        );
        (self.0.events & MASK) as i16
    }
    /// `POLLIN` / `POLLOUT` / `POLLERR` / `POLLHUP` bits.
    #[cfg(not(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll)))))]
    #[inline]
    pub fn bits(&self) -> i16 {
        self.1
    }
}

#[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
impl core::fmt::Debug for Ready {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Ready").field(&self.token()).field(&self.bits()).finish()
    }
}

/// Token of the waker (connection tokens are handles, never 0).
pub(crate) const WAKER_TOKEN: u64 = 0;

/// `MEERKAT_POLLER=poll` is set in the environment.
/// NUL-terminated names as statics rather than `b"..\0"`/`c".."` literals: LLVM pools every
/// NUL-terminated literal of the library into one `.rodata.str1.1`, which GNU ld keeps whole as
/// soon as one is used, other protocols' texts included (scripts/merge_pools.py lists it).
static ROOT_C: [u8; 2] = *b"/\0";
static DOT_C: [u8; 2] = *b".\0";
#[cfg(all(target_os = "linux", feature = "poller-switch"))]
static POLLER_VAR: [u8; 15] = *b"MEERKAT_POLLER\0";

#[cfg(all(target_os = "linux", feature = "poller-switch"))]
fn poll_forced() -> bool {
    // SAFETY: the name is NUL-terminated; the result is read at once, not kept.
    unsafe {
        let v = libc::getenv(POLLER_VAR.as_ptr().cast());
        !v.is_null() && core::ffi::CStr::from_ptr(v).to_bytes() == b"poll"
    }
}

impl Poller {
    /// A poller whose set holds `waker` (readable: wake up).
    pub fn open(waker: RawFd) -> Result<Poller> {
        // With both compiled in, poll(2) also where epoll cannot be had.
        #[cfg(all(target_os = "linux", feature = "poller-switch"))]
        if !poll_forced() {
            if let Ok(ep) = epoll_create() {
                return Poller::epoll(ep, waker);
            }
        }
        #[cfg(all(
            all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))),
            not(feature = "poller-switch")
        ))]
        return Poller::epoll(epoll_create()?, waker);
        #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
        Ok(Poller::Poll {
            waker,
            fds: Vec::new(),
            tokens: Vec::new(),
        })
    }

    /// An epoll poller on `ep` whose set holds `waker`.
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    fn epoll(ep: Fd, waker: RawFd) -> Result<Poller> {
        let mut p = Poller::Epoll { ep };
        p.update(waker, WAKER_TOKEN, &mut 0, POLLIN)?;
        Ok(p)
    }

    /// Whether what [`update`](Poller::update) asked for stays asked for without being
    /// asked again (epoll's registrations); false when every socket must be passed to
    /// `update` before every wait (poll(2)'s set, rebuilt by [`begin`](Poller::begin)).
    #[inline]
    pub fn keeps_interest(&self) -> bool {
        match self {
            #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
            Poller::Epoll { .. } => true,
            #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
            Poller::Poll { .. } => false,
        }
    }

    /// Start describing the set for the next [`wait`](Poller::wait).
    pub fn begin(&mut self) {
        #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
        #[allow(irrefutable_let_patterns)]
        if let Poller::Poll { waker, fds, tokens } = self {
            fds.clear();
            tokens.clear();
            fds.push(pollfd(*waker, POLLIN));
            tokens.push(WAKER_TOKEN);
        }
    }

    /// Ask for `want` (`POLLIN` / `POLLOUT` bits; 0: nothing) on `fd` in the next wait.
    /// `*have` is what epoll has registered for it (0: nothing) and follows the change;
    /// interest 0 removes the registration, so that a socket nobody reads cannot keep
    /// reporting HUP to a level-triggered set.
    ///
    /// Inlined, so that the usual case (epoll already has what is wanted) costs the caller
    /// a comparison instead of a call per socket per poll.
    #[inline]
    #[cfg_attr(
        not(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll)))),
        allow(unused_variables)
    )]
    pub fn update(&mut self, fd: RawFd, token: u64, have: &mut i16, want: i16) -> Result<()> {
        match self {
            #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
            Poller::Epoll { .. } if *have == want => Ok(()),
            #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
            Poller::Epoll { ep, .. } => epoll_update(ep.0, fd, token, have, want),
            #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
            Poller::Poll { fds, tokens, .. } => {
                if want != 0 {
                    fds.push(pollfd(fd, want));
                    tokens.push(token);
                }
                Ok(())
            }
        }
    }

    /// Wait up to `timeout_ms` (negative: no limit) and put what is ready in `ready` (which
    /// must be empty; its capacity is kept for the next call).
    pub fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<Ready>) -> Result<()> {
        match self {
            #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
            Poller::Epoll { ep } => epoll_wait(ep.0, timeout_ms, ready),
            #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
            Poller::Poll { fds, tokens, .. } => {
                poll(fds, timeout_ms)?;
                for (pfd, &token) in fds.iter().zip(tokens.iter()) {
                    if pfd.revents != 0 {
                        ready.push(Ready::new(token, pfd.revents));
                    }
                }
                Ok(())
            }
        }
    }
}

/// A new epoll instance.
#[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
fn epoll_create() -> Result<Fd> {
    // SAFETY: plain syscall; the result is checked.
    cvt_i(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }).map(Fd)
}

#[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
#[inline(never)]
fn epoll_update(epfd: RawFd, fd: RawFd, token: u64, have: &mut i16, want: i16) -> Result<()> {
    if *have == want {
        return Ok(());
    }
    // `want` holds POLLIN / POLLOUT only, which are EPOLLIN / EPOLLOUT (see `epoll_wait`).
    let mut ev = libc::epoll_event {
        events: (want & (POLLIN | POLLOUT)) as u16 as u32,
        u64: token,
    };
    let ctl = |op: c_int, ev: &mut libc::epoll_event| {
        // SAFETY: `epfd` and `fd` are open descriptors; `ev` is a valid event.
        cvt_i(unsafe { libc::epoll_ctl(epfd, op, fd, ev) }).map(|_| ())
    };
    let r = match (*have, want) {
        // A descriptor already gone from the set (closed) is as good as removed.
        (_, 0) => ctl(libc::EPOLL_CTL_DEL, &mut ev).or_else(|e| match e.0 {
            libc::ENOENT | libc::EBADF => Ok(()),
            _ => Err(e),
        }),
        (0, _) => ctl(libc::EPOLL_CTL_ADD, &mut ev).or_else(|e| match e.0 {
            libc::EEXIST => ctl(libc::EPOLL_CTL_MOD, &mut ev),
            _ => Err(e),
        }),
        // The socket may have been replaced by a new one under the same registration.
        _ => ctl(libc::EPOLL_CTL_MOD, &mut ev).or_else(|e| match e.0 {
            libc::ENOENT => ctl(libc::EPOLL_CTL_ADD, &mut ev),
            _ => Err(e),
        }),
    };
    if r.is_ok() {
        *have = want;
    }
    r
}

#[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
fn epoll_wait(epfd: RawFd, timeout_ms: i32, ready: &mut Vec<Ready>) -> Result<()> {
    if ready.capacity() < 256 {
        ready.reserve_exact(256);
    }
    let cap = ready.capacity().min(i32::MAX as usize);
    // SAFETY: `ready` has room for `cap` entries (`Ready` is an `epoll_event`), which the
    // kernel fills; `len` is set to what it reports.
    let n = unsafe { libc::epoll_wait(epfd, ready.as_mut_ptr().cast(), cap as i32, timeout_ms) };
    let n = match cvt_i(n) {
        Ok(n) => n,
        Err(e) if e.0 == libc::EINTR => return Ok(()),
        Err(e) => return Err(e),
    };
    // SAFETY: the kernel initialised the first `n` (<= cap) entries.
    unsafe { ready.set_len(n as usize) };
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{self, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// Paths reach the system calls whole whether they are copied on the stack (short) or
    /// on the heap (from `CPATH_STACK` bytes on), and one with a NUL is refused.
    #[test]
    fn paths_short_and_long_name_the_same_file() {
        use crate::fs::Fs;
        let dir = std::env::temp_dir().join(format!("meerkat-cpath-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f"), b"12345").unwrap();
        let short = dir.join("f").into_os_string().into_encoded_bytes();
        let mut long = dir.clone().into_os_string().into_encoded_bytes();
        while long.len() < CPATH_STACK + 10 {
            long.extend_from_slice(b"/.");
        }
        long.extend_from_slice(b"/f");
        for p in [&short, &long] {
            assert_eq!(PosixFs.stat(p).map(|s| s.size), Some(5), "{} bytes", p.len());
            assert!(PosixFs.open(p, crate::fs::FS_READ).is_ok());
        }
        let edge = [&long[..CPATH_STACK - 1], &long[..CPATH_STACK]];
        for p in edge {
            // Ends inside the "/." padding: the directory itself.
            let p = p.strip_suffix(b"/").unwrap_or(p);
            assert!(PosixFs.stat(p).is_some_and(|s| s.dir), "{} bytes", p.len());
        }
        assert!(PosixFs.stat(b"/tmp\0x").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `Waker::drain` empties the pipe however many wakes piled up (more than one 64-byte
    /// read's worth, and exactly one), so the next wait blocks; a wake after it is seen.
    #[test]
    fn drain_empties_the_pipe_of_any_number_of_wakes() {
        let readable = |w: &Waker| {
            let mut p = libc::pollfd {
                fd: w.fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 0) == 1 }
        };
        let w = Waker::new().expect("waker");
        assert!(!readable(&w));
        for wakes in [1, 63, 64, 65, 128, 1000] {
            for _ in 0..wakes {
                w.wake();
            }
            assert!(readable(&w), "{wakes}");
            w.drain();
            assert!(!readable(&w), "{wakes} wakes left bytes behind");
        }
        w.drain(); // nothing pending: returns at once
        w.wake();
        assert!(readable(&w));
    }

    /// What `open_beneath` answered, in short: `Opened` with the file's kind, or the verdict.
    fn kind(b: crate::fs::Beneath) -> &'static str {
        use crate::fs::Beneath;
        match b {
            Beneath::Opened(_, st) if st.regular => "file",
            Beneath::Opened(_, st) if st.dir => "dir",
            Beneath::Opened(..) => "other",
            Beneath::Absent => "absent",
            Beneath::Unknown => "unknown",
        }
    }

    /// Both ways of opening below a root (`openat2`, and the walk used without it) open only
    /// paths with no symbolic link on the way and leave every link (inside the root or out)
    /// to `realpath`; a missing name is absent. A FIFO opens without blocking.
    #[test]
    fn open_beneath_opens_only_link_free_paths() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("meerkat-beneath-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("www/sub")).unwrap();
        std::fs::create_dir_all(base.join("real")).unwrap();
        std::fs::write(base.join("www/f.txt"), b"in").unwrap();
        std::fs::write(base.join("www/sub/g.txt"), b"in").unwrap();
        std::fs::write(base.join("secret"), b"out").unwrap();
        symlink("f.txt", base.join("www/rel-in")).unwrap();
        symlink(base.join("www/f.txt"), base.join("www/abs-in")).unwrap();
        symlink("../secret", base.join("www/rel-out")).unwrap();
        symlink(base.join("secret"), base.join("www/abs-out")).unwrap();
        symlink("sub", base.join("www/dir-in")).unwrap();
        symlink("nowhere", base.join("www/dangling")).unwrap();
        symlink(base.join("real"), base.join("linked-root")).unwrap();
        let fifo = std::ffi::CString::new(base.join("www/fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let root = std::fs::canonicalize(base.join("www"))
            .unwrap()
            .into_os_string()
            .into_encoded_bytes();
        let linked = std::fs::canonicalize(&base)
            .unwrap()
            .join("linked-root")
            .into_os_string()
            .into_encoded_bytes();
        type Tier = fn(&[u8], &[u8]) -> crate::fs::Beneath;
        let openat2_tier: Tier = |root, rel| {
            NO_OPENAT2.store(false, core::sync::atomic::Ordering::Relaxed);
            open_beneath(root, rel)
        };
        // Where the kernel or a seccomp filter refuses openat2 (ENOSYS/EPERM), `open_beneath`
        // walks too: only the walk's answers can be checked then.
        let have_openat2 = !matches!(
            openat2(libc::AT_FDCWD, &ROOT_C, libc::O_PATH | libc::O_CLOEXEC, 0),
            Err(e) if e.0 == libc::ENOSYS || e.0 == libc::EPERM
        );
        let tiers = [("openat2", openat2_tier), ("walk", open_walk_for_tests as Tier)];
        for (name, tier) in tiers.into_iter().filter(|(n, _)| have_openat2 || *n == "walk") {
            for (rel, want) in [
                ("f.txt", "file"),
                ("sub/g.txt", "file"),
                ("sub", "dir"),
                ("", "dir"),
                ("fifo", "other"),
                ("nope", "absent"),
                ("sub/nope", "absent"),
                ("nope/g.txt", "absent"),
                ("rel-in", "unknown"),
                ("abs-in", "unknown"),
                ("rel-out", "unknown"),
                ("abs-out", "unknown"),
                ("dir-in", "unknown"),
                ("dir-in/g.txt", "unknown"),
                ("dangling", "unknown"),
                ("../secret", "unknown"),
                ("sub/../../secret", "unknown"),
                ("f.txt\0x", "unknown"),
            ] {
                // Run apart: a FIFO opened blocking would hang its caller.
                let (tx, rx) = std::sync::mpsc::channel();
                let (root, rel2) = (root.clone(), rel.as_bytes().to_vec());
                std::thread::spawn(move || tx.send(kind(tier(&root, &rel2))));
                let got = rx
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .expect("open blocked");
                assert_eq!(got, want, "{name}: {rel:?}");
            }
            // A file as a directory: absent to openat2 (ENOTDIR), left to realpath by the
            // walk (where ENOTDIR may also be a link); both end in 404.
            let got = kind(tier(&root, b"f.txt/x"));
            assert_eq!(got, if name == "walk" { "unknown" } else { "absent" });
            // The root itself behind a link: not decided here (realpath decides).
            std::fs::write(base.join("real/h.txt"), b"x").unwrap();
            assert_eq!(kind(tier(&linked, b"h.txt")), "unknown", "{name}");
            assert_eq!(kind(tier(&linked, b"")), "unknown", "{name}");
        }
        // The walk splits names at each `/` up to the path's end: a path not in normal form
        // (an empty, `.` or `..` name, a trailing `/`) is left to realpath, and so is one
        // too long for the stack copy; a name that ends the copy at its last byte opens.
        for rel in [
            "sub/",
            "sub//g.txt",
            "./f.txt",
            "sub/./g.txt",
            "sub/..",
            "/f.txt",
            "f.txt/",
            "sub/g.txt/",
        ] {
            assert_eq!(kind(open_walk_for_tests(&root, rel.as_bytes())), "unknown", "{rel:?}");
        }
        // root/name: 255 bytes (none where the temp directory's path is too long for it).
        let fill = (CPATH_STACK - 2).saturating_sub(root.len());
        let boundary = if fill > 8 {
            vec![(fill, "file"), (fill + 1, "unknown")]
        } else {
            Vec::new()
        };
        for (len, want) in boundary {
            let name = "n".repeat(len);
            std::fs::write(base.join("www").join(&name), b"x").unwrap();
            assert_eq!(kind(open_walk_for_tests(&root, name.as_bytes())), want, "{len}");
            if have_openat2 {
                assert_eq!(kind(openat2_tier(&root, name.as_bytes())), want, "{len}");
            }
        }
        if fill > 8 {
            let sub = format!("sub/{}", "g".repeat(fill - 4));
            std::fs::write(base.join("www").join(&sub), b"x").unwrap();
            assert_eq!(kind(open_walk_for_tests(&root, sub.as_bytes())), "file");
        }
        // The root `/`.
        assert_eq!(kind(open_walk_for_tests(b"/", b"")), "unknown");
        let rel = root.strip_prefix(b"/").unwrap().to_vec();
        let mut f = rel.clone();
        f.extend_from_slice(b"/f.txt");
        assert_eq!(kind(open_walk_for_tests(b"/", &f)), "file");
        assert_eq!(kind(open_beneath(b"/", &f)), "file");
        let _ = std::fs::remove_dir_all(&base);
    }

    /// What one wait of `p` reports, as (token, bits).
    fn wait(p: &mut Poller, ms: i32) -> Vec<(u64, i16)> {
        let mut ready = Vec::new();
        p.wait(ms, &mut ready).expect("wait");
        ready.iter().map(|r| (r.token(), r.bits())).collect()
    }

    /// An epoll poller (whatever MEERKAT_POLLER says) with a waker nobody wakes.
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    fn epoll() -> (Poller, (UnixStream, UnixStream)) {
        let waker = UnixStream::pair().expect("pair");
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1: {}", io::Error::last_os_error());
        let mut p = Poller::Epoll { ep: Fd(fd) };
        p.update(waker.0.as_raw_fd(), WAKER_TOKEN, &mut 0, POLLIN)
            .expect("waker");
        (p, waker)
    }

    #[test]
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    fn epoll_reports_readiness_by_token_and_forgets_removed_descriptors() {
        let (mut p, _w) = epoll();
        let (a, b) = UnixStream::pair().expect("pair");
        let mut have = 0;
        p.update(a.as_raw_fd(), 42, &mut have, POLLIN).expect("add");
        assert_eq!(have, POLLIN);
        let ready = wait(&mut p, 0);
        assert!(ready.is_empty(), "nothing to read yet: {ready:?}");
        (&b).write_all(b"x").expect("write");
        let ready = wait(&mut p, 1000);
        assert_eq!(ready, [(42, POLLIN)]);
        // Level-triggered: still readable, reported again; asking for POLLOUT too adds it.
        p.update(a.as_raw_fd(), 42, &mut have, POLLIN | POLLOUT).expect("mod");
        let ready = wait(&mut p, 0);
        assert_eq!(ready, [(42, POLLIN | POLLOUT)]);
        // Interest 0 removes the registration: a hung-up peer no longer wakes the loop.
        p.update(a.as_raw_fd(), 42, &mut have, 0).expect("del");
        assert_eq!(have, 0);
        drop(b);
        let ready = wait(&mut p, 0);
        assert!(ready.is_empty(), "{ready:?}");
        // Registering again works, and the hang-up shows.
        p.update(a.as_raw_fd(), 7, &mut have, POLLIN).expect("re-add");
        let ready = wait(&mut p, 1000);
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].0, 7);
        assert!(ready[0].1 & (POLLIN | POLLHUP) != 0);
    }

    #[test]
    #[cfg(all(target_os = "linux", any(feature = "poller-switch", not(meerkat_poll))))]
    fn a_closed_descriptor_leaves_the_set() {
        let (mut p, _w) = epoll();
        let (a, b) = UnixStream::pair().expect("pair");
        let mut have = 0;
        p.update(a.as_raw_fd(), 1, &mut have, POLLIN).expect("add");
        drop(a);
        (&b).write_all(b"x").ok();
        let ready = wait(&mut p, 0);
        assert!(ready.is_empty(), "{ready:?}");
        // Removing what the kernel already dropped is not an error.
        let (c, _d) = UnixStream::pair().expect("pair");
        let mut stale = POLLIN;
        p.update(c.as_raw_fd(), 2, &mut stale, 0).expect("del of unregistered");
        assert_eq!(stale, 0);
    }

    #[test]
    #[cfg(any(not(target_os = "linux"), feature = "poller-switch", meerkat_poll))]
    fn poll_mode_reports_the_set_built_for_this_wait() {
        let (wr, ww) = UnixStream::pair().expect("pair");
        let (a, b) = UnixStream::pair().expect("pair");
        let mut p = Poller::Poll {
            waker: wr.as_raw_fd(),
            fds: Vec::new(),
            tokens: Vec::new(),
        };
        (&b).write_all(b"x").expect("write");
        p.begin();
        p.update(a.as_raw_fd(), 5, &mut 0, POLLIN).expect("update");
        let ready = wait(&mut p, 1000);
        assert_eq!(ready, [(5, POLLIN)]);
        // Not asked for this time: not reported; the waker always is.
        (&ww).write_all(b"w").expect("wake");
        p.begin();
        p.update(a.as_raw_fd(), 5, &mut 0, 0).expect("update");
        let ready = wait(&mut p, 1000);
        assert_eq!(ready, [(WAKER_TOKEN, POLLIN)]);
    }
}
