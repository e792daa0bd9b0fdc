//! BSD sockets + poll(2) backend for Linux and other Unix-likes (also the shape of lwIP's API).

use crate::prelude::*;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use socket2::{Domain, Protocol, Socket, Type};

pub use libc::pollfd as PollFd;
pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;
pub const POLLERR: i16 = libc::POLLERR;
pub const POLLHUP: i16 = libc::POLLHUP;
pub const POLLNVAL: i16 = libc::POLLNVAL;

/// Milliseconds from CLOCK_MONOTONIC.
pub fn monotonic_millis() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000)
}

/// Fill `out` from the kernel's CSPRNG.
pub fn random_bytes(out: &mut [u8]) {
    let mut done = 0;
    while done < out.len() {
        let rest = &mut out[done..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            done += n as usize;
        } else if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            // No CSPRNG: fall back to a time-seeded generator rather than fail (documented).
            let mut x = monotonic_millis() ^ (rest.as_ptr() as u64) ^ 0x9E37_79B9_7F4A_7C15;
            for b in rest.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            return;
        }
    }
}

/// Wait for readiness on `fds` for at most `timeout_ms` (negative: forever).
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: `fds` is a valid, writable array of `fds.len()` pollfd structs.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(n as usize)
}

pub fn pollfd(fd: RawFd, events: i16) -> PollFd {
    PollFd { fd, events, revents: 0 }
}

/// A socket owned by a connection.
#[derive(Debug)]
pub enum Sock {
    Listener(TcpListener),
    Stream(TcpStream),
    Udp(UdpSocket),
}

impl Sock {
    pub fn fd(&self) -> RawFd {
        match self {
            Sock::Listener(s) => s.as_raw_fd(),
            Sock::Stream(s) => s.as_raw_fd(),
            Sock::Udp(s) => s.as_raw_fd(),
        }
    }
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Sock::Listener(s) => s.local_addr().ok(),
            Sock::Stream(s) => s.local_addr().ok(),
            Sock::Udp(s) => s.local_addr().ok(),
        }
    }
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Sock::Stream(s) => s.peer_addr().ok(),
            Sock::Udp(s) => s.peer_addr().ok(),
            Sock::Listener(_) => None,
        }
    }
    /// The pending socket error (SO_ERROR), e.g. the outcome of a non-blocking connect.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Sock::Listener(s) => s.take_error(),
            Sock::Stream(s) => s.take_error(),
            Sock::Udp(s) => s.take_error(),
        }
    }
}

fn new_socket(addr: &SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(*addr), ty, Some(proto))?;
    s.set_nonblocking(true)?;
    no_sigpipe(&s)?;
    Ok(s)
}

pub fn tcp_listen(addr: SocketAddr, backlog: i32) -> io::Result<Sock> {
    let s = new_socket(&addr, Type::STREAM, Protocol::TCP)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(Sock::Listener(s.into()))
}

pub fn udp_bind(addr: SocketAddr) -> io::Result<Sock> {
    let s = new_socket(&addr, Type::DGRAM, Protocol::UDP)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    Ok(Sock::Udp(s.into()))
}

/// Start a non-blocking connect; completion is signalled by writability + `take_error`.
pub fn tcp_connect(addr: SocketAddr) -> io::Result<Sock> {
    let s = new_socket(&addr, Type::STREAM, Protocol::TCP)?;
    s.set_tcp_nodelay(true)?;
    match s.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    Ok(Sock::Stream(s.into()))
}

pub fn udp_connect(addr: SocketAddr) -> io::Result<Sock> {
    let any: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let s = new_socket(&any, Type::DGRAM, Protocol::UDP)?;
    s.connect(&addr.into())?;
    Ok(Sock::Udp(s.into()))
}

/// Accept one pending connection, if any.
pub fn accept(l: &TcpListener) -> io::Result<Option<(TcpStream, SocketAddr)>> {
    match l.accept() {
        Ok((s, a)) => {
            s.set_nonblocking(true)?;
            no_sigpipe(&s)?;
            let _ = s.set_nodelay(true);
            Ok(Some((s, a)))
        }
        Err(e) if would_block(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// Read into `buf`: `Ok(0)` is end of stream; WouldBlock is an `Err` (check [`would_block`]).
pub fn read(s: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    (&*s).read(buf)
}

/// Write to a connected stream socket; never raises SIGPIPE (see [`SockWriter`]).
pub fn write(s: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    writer(s).write(buf)
}

/// Flags for every send on a socket: `MSG_NOSIGNAL` where the OS has it, so that writing to
/// a peer that reset the connection returns `EPIPE` instead of killing the process with
/// SIGPIPE. Apple systems have no such flag; there every socket gets `SO_NOSIGPIPE` instead
/// (socket2 sets it on the sockets it creates, [`accept`] on accepted ones).
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
)))]
const SEND_FLAGS: libc::c_int = 0;

/// `SO_NOSIGPIPE` on the platforms that have it instead of `MSG_NOSIGNAL`.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
))]
fn no_sigpipe<S: std::os::fd::AsFd>(s: &S) -> io::Result<()> {
    socket2::SockRef::from(s).set_nosigpipe(true)
}
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
)))]
fn no_sigpipe<S: std::os::fd::AsFd>(_s: &S) -> io::Result<()> {
    Ok(())
}

/// The one way bytes go out on a socket: an [`io::Write`] whose `write` is `send(2)` and
/// whose `write_vectored` is `sendmsg(2)`, both with [`SEND_FLAGS`]. Hand it to code that
/// wants a writer (rustls's `write_tls`, which writes with `write_vectored`): a plain
/// `&TcpStream` would use `writev(2)` there, which has no `MSG_NOSIGNAL` and kills a
/// program that leaves SIGPIPE at its default when the peer has reset the connection.
#[derive(Debug)]
pub struct SockWriter<'a>(socket2::SockRef<'a>);

/// A [`SockWriter`] on `s`.
pub fn writer(s: &TcpStream) -> SockWriter<'_> {
    SockWriter(socket2::SockRef::from(s))
}

impl Write for SockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send_with_flags(buf, SEND_FLAGS)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // sendmsg refuses more than IOV_MAX (1024 on Linux) pieces: send the first ones.
        let bufs = &bufs[..bufs.len().min(1024)];
        self.0.send_vectored_with_flags(bufs, SEND_FLAGS)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Send one datagram on a connected UDP socket (see [`SEND_FLAGS`]).
pub fn udp_send(s: &UdpSocket, buf: &[u8]) -> io::Result<usize> {
    socket2::SockRef::from(s).send_with_flags(buf, SEND_FLAGS)
}

/// Send one datagram to `to` (see [`SEND_FLAGS`]).
pub fn udp_send_to(s: &UdpSocket, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
    socket2::SockRef::from(s).send_to_with_flags(buf, &to.into(), SEND_FLAGS)
}

/// Join the IPv4 multicast group `group` on the default interface (mDNS listeners), with
/// multicast loopback on so that other programs on this host hear our answers.
pub fn udp_join_multicast_v4(s: &Sock, group: std::net::Ipv4Addr) -> io::Result<()> {
    let Sock::Udp(u) = s else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    u.join_multicast_v4(&group, &std::net::Ipv4Addr::UNSPECIFIED)?;
    u.set_multicast_loop_v4(true)
}

/// The local address the system would send from to reach `peer` (no packet is sent).
pub fn local_ip_for(peer: SocketAddr) -> Option<std::net::IpAddr> {
    let any: SocketAddr = if peer.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let s = UdpSocket::bind(any).ok()?;
    s.connect(peer).ok()?;
    s.local_addr().ok().map(|a| a.ip())
}

/// Blocking name resolution (run on a resolver thread, never on the event loop).
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// The self-pipe that wakes `poll` from other threads.
#[derive(Debug)]
pub struct Waker {
    rx: UnixStream,
    tx: UnixStream,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        no_sigpipe(&tx)?;
        Ok(Waker { rx, tx })
    }
    pub fn fd(&self) -> RawFd {
        self.rx.as_raw_fd()
    }
    /// Make the next (or current) `poll` return. Any thread.
    pub fn wake(&self) {
        // A full pipe already guarantees a wakeup, so WouldBlock is fine to ignore.
        // Both ends live as long as `self`, so EPIPE cannot happen; the flags say so anyway.
        let _ = socket2::SockRef::from(&self.tx).send_with_flags(&[1], SEND_FLAGS);
    }
    /// Consume pending wake signals. Loop thread.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.rx).read(&mut buf) {
            if n < buf.len() {
                break;
            }
        }
    }
}

/// Send up to `count` bytes of `file` from `*offset` to the socket without copying them
/// through user space where the OS can (Linux `sendfile`); advances `*offset`.
/// WouldBlock is an `Err` (check [`would_block`]).
pub fn sendfile(sock: &TcpStream, file: &std::fs::File, offset: &mut u64, count: usize) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut off = *offset as libc::off_t;
        // sendfile has no MSG_NOSIGNAL: to a peer that reset the connection it raises
        // SIGPIPE, which kills a C program that did not ignore it. Block the signal for this
        // thread around the call and take back the one it raised; the process-wide
        // disposition is the application's and stays untouched.
        let _guard = SigpipeBlock::new();
        // SAFETY: both descriptors are open for the duration of the call and `off` is a
        // valid, writable off_t.
        let n = unsafe { libc::sendfile(sock.as_raw_fd(), file.as_raw_fd(), &mut off, count) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EPIPE) {
                _guard.consume_pending();
            }
            return Err(e);
        }
        *offset = off as u64;
        Ok(n as usize)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; count.min(64 * 1024)];
        let n = file.read_at(&mut buf, *offset)?;
        let w = write(sock, &buf[..n])?;
        *offset += w as u64;
        Ok(w)
    }
}

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
        let e = io::Error::last_os_error();
        if n < 0 && e.kind() == io::ErrorKind::Interrupted {
            continue;
        }
        #[cfg(target_os = "linux")]
        if e.raw_os_error() == Some(libc::EPIPE) {
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
            let mut set: libc::sigset_t = core::mem::zeroed();
            let mut old: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SigpipeBlock { old, set }
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

/// Readiness notification, one interface over two mechanisms. Each poll: [`begin`], then
/// [`update`] for every socket with the interest it has now, then [`wait`].
///
/// - epoll (Linux): registrations persist between polls and `epoll_ctl` runs only when a
///   socket's interest changes, so a poll costs the kernel work for the ready sockets only.
/// - poll(2) (elsewhere, when epoll cannot be had, or when the environment variable
///   `MEERKAT_POLLER=poll` is set at `mg_mgr_init`; the tests run both): the set is built
///   anew for each call.
///
/// The waker is part of the set from the start, with token [`WAKER_TOKEN`]; connection
/// tokens are handles, never 0.
///
/// [`begin`]: Poller::begin
/// [`update`]: Poller::update
/// [`wait`]: Poller::wait
#[derive(Debug)]
pub enum Poller {
    #[cfg(target_os = "linux")]
    Epoll {
        ep: std::os::fd::OwnedFd,
        events: Vec<libc::epoll_event>,
    },
    Poll {
        waker: RawFd,
        fds: Vec<PollFd>,
        tokens: Vec<u64>,
    },
}

/// Token of the waker (connection tokens are handles, never 0).
pub(crate) const WAKER_TOKEN: u64 = 0;

impl Poller {
    /// A poller whose set holds `waker` (readable: wake up).
    pub fn open(waker: RawFd) -> io::Result<Poller> {
        #[cfg(target_os = "linux")]
        if std::env::var_os("MEERKAT_POLLER").is_none_or(|v| v != "poll") {
            // SAFETY: plain syscall; the result is checked.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd >= 0 {
                // SAFETY: `fd` is a new descriptor that nothing else owns.
                let ep = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
                let mut p = Poller::Epoll { ep, events: Vec::new() };
                p.update(waker, WAKER_TOKEN, &mut 0, POLLIN)?;
                return Ok(p);
            }
        }
        Ok(Poller::Poll {
            waker,
            fds: Vec::new(),
            tokens: Vec::new(),
        })
    }

    /// Start describing the set for the next [`wait`](Poller::wait).
    pub fn begin(&mut self) {
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
    pub fn update(&mut self, fd: RawFd, token: u64, have: &mut i16, want: i16) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll { ep, .. } => epoll_update(ep.as_raw_fd(), fd, token, have, want),
            Poller::Poll { fds, tokens, .. } => {
                if want != 0 {
                    fds.push(pollfd(fd, want));
                    tokens.push(token);
                }
                Ok(())
            }
        }
    }

    /// Wait up to `timeout_ms` (negative: no limit) and append (token, poll-style revents)
    /// of every ready socket to `ready`.
    pub fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<(u64, i16)>) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll { ep, events } => epoll_wait(ep.as_raw_fd(), events, timeout_ms, ready),
            Poller::Poll { fds, tokens, .. } => {
                poll(fds, timeout_ms)?;
                for (pfd, &token) in fds.iter().zip(tokens.iter()) {
                    if pfd.revents != 0 {
                        ready.push((token, pfd.revents));
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn epoll_update(epfd: RawFd, fd: RawFd, token: u64, have: &mut i16, want: i16) -> io::Result<()> {
    if *have == want {
        return Ok(());
    }
    let mut ev = libc::epoll_event {
        events: ((if want & POLLIN != 0 { libc::EPOLLIN } else { 0 })
            | (if want & POLLOUT != 0 { libc::EPOLLOUT } else { 0 })) as u32,
        u64: token,
    };
    let ctl = |op: libc::c_int, ev: &mut libc::epoll_event| {
        // SAFETY: `epfd` and `fd` are open descriptors; `ev` is a valid event.
        if unsafe { libc::epoll_ctl(epfd, op, fd, ev) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    let errno = |e: &io::Error| e.raw_os_error();
    let r = match (*have, want) {
        // A descriptor already gone from the set (closed) is as good as removed.
        (_, 0) => ctl(libc::EPOLL_CTL_DEL, &mut ev).or_else(|e| match errno(&e) {
            Some(libc::ENOENT) | Some(libc::EBADF) => Ok(()),
            _ => Err(e),
        }),
        (0, _) => ctl(libc::EPOLL_CTL_ADD, &mut ev).or_else(|e| match errno(&e) {
            Some(libc::EEXIST) => ctl(libc::EPOLL_CTL_MOD, &mut ev),
            _ => Err(e),
        }),
        // The socket may have been replaced by a new one under the same registration.
        _ => ctl(libc::EPOLL_CTL_MOD, &mut ev).or_else(|e| match errno(&e) {
            Some(libc::ENOENT) => ctl(libc::EPOLL_CTL_ADD, &mut ev),
            _ => Err(e),
        }),
    };
    if r.is_ok() {
        *have = want;
    }
    r
}

#[cfg(target_os = "linux")]
fn epoll_wait(
    epfd: RawFd,
    events: &mut Vec<libc::epoll_event>,
    timeout_ms: i32,
    ready: &mut Vec<(u64, i16)>,
) -> io::Result<()> {
    if events.capacity() < 256 {
        events.reserve_exact(256);
    }
    let cap = events.capacity().min(i32::MAX as usize);
    // SAFETY: `events` has room for `cap` entries, which the kernel fills; `len` is set to
    // what it reports.
    let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), cap as i32, timeout_ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(())
        } else {
            Err(e)
        };
    }
    // SAFETY: the kernel initialised the first `n` (<= cap) entries.
    unsafe { events.set_len(n as usize) };
    for ev in events.iter() {
        let (bits, token) = (ev.events, ev.u64);
        let mut revents = 0;
        for (e, p) in [
            (libc::EPOLLIN, POLLIN),
            (libc::EPOLLOUT, POLLOUT),
            (libc::EPOLLERR, POLLERR),
            (libc::EPOLLHUP, POLLHUP),
        ] {
            if bits & e as u32 != 0 {
                revents |= p;
            }
        }
        ready.push((token, revents));
    }
    events.clear();
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// An epoll poller (whatever MEERKAT_POLLER says) with a waker nobody wakes.
    fn epoll() -> (Poller, (UnixStream, UnixStream)) {
        let waker = UnixStream::pair().expect("pair");
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1: {}", io::Error::last_os_error());
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let ep = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let mut p = Poller::Epoll { ep, events: Vec::new() };
        p.update(waker.0.as_raw_fd(), WAKER_TOKEN, &mut 0, POLLIN)
            .expect("waker");
        (p, waker)
    }

    #[test]
    fn epoll_reports_readiness_by_token_and_forgets_removed_descriptors() {
        let (mut p, _w) = epoll();
        let (a, b) = UnixStream::pair().expect("pair");
        let mut have = 0;
        let mut ready = Vec::new();
        p.update(a.as_raw_fd(), 42, &mut have, POLLIN).expect("add");
        assert_eq!(have, POLLIN);
        p.wait(0, &mut ready).expect("wait");
        assert!(ready.is_empty(), "nothing to read yet: {ready:?}");
        (&b).write_all(b"x").expect("write");
        p.wait(1000, &mut ready).expect("wait");
        assert_eq!(ready, [(42, POLLIN)]);
        // Level-triggered: still readable, reported again; asking for POLLOUT too adds it.
        ready.clear();
        p.update(a.as_raw_fd(), 42, &mut have, POLLIN | POLLOUT).expect("mod");
        p.wait(0, &mut ready).expect("wait");
        assert_eq!(ready, [(42, POLLIN | POLLOUT)]);
        // Interest 0 removes the registration: a hung-up peer no longer wakes the loop.
        ready.clear();
        p.update(a.as_raw_fd(), 42, &mut have, 0).expect("del");
        assert_eq!(have, 0);
        drop(b);
        p.wait(0, &mut ready).expect("wait");
        assert!(ready.is_empty(), "{ready:?}");
        // Registering again works, and the hang-up shows.
        p.update(a.as_raw_fd(), 7, &mut have, POLLIN).expect("re-add");
        p.wait(1000, &mut ready).expect("wait");
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].0, 7);
        assert!(ready[0].1 & (POLLIN | POLLHUP) != 0);
    }

    #[test]
    fn a_closed_descriptor_leaves_the_set() {
        let (mut p, _w) = epoll();
        let (a, b) = UnixStream::pair().expect("pair");
        let mut have = 0;
        p.update(a.as_raw_fd(), 1, &mut have, POLLIN).expect("add");
        drop(a);
        (&b).write_all(b"x").ok();
        let mut ready = Vec::new();
        p.wait(0, &mut ready).expect("wait");
        assert!(ready.is_empty(), "{ready:?}");
        // Removing what the kernel already dropped is not an error.
        let (c, _d) = UnixStream::pair().expect("pair");
        let mut stale = POLLIN;
        p.update(c.as_raw_fd(), 2, &mut stale, 0).expect("del of unregistered");
        assert_eq!(stale, 0);
    }

    #[test]
    fn poll_mode_reports_the_set_built_for_this_wait() {
        let (wr, ww) = UnixStream::pair().expect("pair");
        let (a, b) = UnixStream::pair().expect("pair");
        let mut p = Poller::Poll {
            waker: wr.as_raw_fd(),
            fds: Vec::new(),
            tokens: Vec::new(),
        };
        let mut ready = Vec::new();
        (&b).write_all(b"x").expect("write");
        p.begin();
        p.update(a.as_raw_fd(), 5, &mut 0, POLLIN).expect("update");
        p.wait(1000, &mut ready).expect("wait");
        assert_eq!(ready, [(5, POLLIN)]);
        // Not asked for this time: not reported; the waker always is.
        ready.clear();
        (&ww).write_all(b"w").expect("wake");
        p.begin();
        p.update(a.as_raw_fd(), 5, &mut 0, 0).expect("update");
        p.wait(1000, &mut ready).expect("wait");
        assert_eq!(ready, [(WAKER_TOKEN, POLLIN)]);
    }
}
