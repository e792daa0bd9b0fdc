//! TLS on a connection: rustls as a sans-IO byte pump between the socket and the
//! connection's plaintext buffers (`recv`, `send`), so HTTP and everything else run over it
//! unchanged. Every path to the end of a TLS connection (RST, FIN with or without
//! close_notify, errors, handshake timeout, `mg_close`) goes through the same marking as
//! plain TCP, so it ends with exactly one `Event::Close` (G3).
#![cfg(feature = "tls")]

use crate::prelude::*;
use alloc::vec::Vec;

use super::Event;
use super::{Conn, Mgr, State, READS_PER_POLL};
use crate::handle::Handle;
use crate::sys::{self, Sock};
use crate::tls::{TlsErrorKind, TlsSetup};
use crate::util::url::Transport;

extern crate alloc;

impl Conn {
    pub(super) fn tls_wants_write(&self) -> bool {
        self.tls_session.as_ref().is_some_and(|s| s.wants_write())
    }
}

impl Mgr {
    /// Put TLS on connection `h` (`mg_tls_init`): on a listener, for every connection it
    /// accepts from now on; otherwise on this connection, which must not have exchanged
    /// plaintext yet.
    pub fn attach_tls(&self, h: Handle, setup: TlsSetup) -> Result<(), String> {
        let now = self.now();
        let mut core = self.core.borrow_mut();
        let timeout = core.limits.tls_handshake_timeout_ms;
        let Some(c) = core.conns.get_mut(h) else {
            return Err("stale connection".into());
        };
        if c.closing || c.close_started || c.transport == Transport::Udp {
            return Err("TLS is not available on this connection".into());
        }
        if c.state == State::Listening {
            c.tls = true;
            c.tls_setup = Some(setup);
            return Ok(());
        }
        if c.tls_session.is_some() {
            return Err("TLS is already set up on this connection".into());
        }
        let mut session = setup.into_session(c.url_host.as_deref()).map_err(|e| e.message)?;
        // Bytes that arrived before the set-up are the start of the TLS stream.
        let early: Vec<u8> = c.recv_pending().to_vec();
        c.recv_off = c.recv.len();
        if !early.is_empty() {
            session.feed(&early).map_err(|e| e.message)?;
        }
        c.tls_session = Some(session);
        c.tls = true;
        c.tls_deadline = now.saturating_add(timeout);
        core.tls_seen = true;
        core.mark_dirty(h);
        Ok(())
    }

    /// Give an accepted connection the listener's TLS set-up.
    pub(super) fn tls_on_accept(&self, h: Handle, setup: TlsSetup) {
        if let Err(msg) = self.attach_tls(h, setup) {
            self.fail(h, &msg);
        }
    }

    /// Read ciphertext, decrypt into `recv`, deliver `Event::TlsHandshake` / `Event::Read`.
    pub(super) fn tls_read(&self, h: Handle) {
        let (got, hs, err) = {
            let mut core = self.core.borrow_mut();
            let core = &mut *core;
            let max_recv = core.limits.max_recv;
            core.mark_dirty(h);
            let Some(c) = core.conns.get_mut(h) else { return };
            c.compact_recv();
            let Conn {
                sock: Some(Sock::Stream(s)),
                tls_session: Some(sess),
                eof,
                recv,
                ..
            } = c
            else {
                return;
            };
            let mut err = None;
            for _ in 0..READS_PER_POLL {
                if !sess.wants_read() {
                    break;
                }
                match sys::read(s, &mut core.scratch) {
                    Ok(0) => {
                        *eof = true;
                        match sess.feed_eof() {
                            Ok(()) => {}
                            // A peer that just closes after the handshake is the common case
                            // (no close_notify): treat it as an ordinary end of stream.
                            Err(e) if e.kind == TlsErrorKind::Truncated && !sess.is_handshaking() => {}
                            Err(e) => err = Some(e.message),
                        }
                        break;
                    }
                    Ok(n) => {
                        if let Err(e) = sess.feed(&core.scratch[..n]) {
                            err = Some(e.message);
                            break;
                        }
                    }
                    Err(e) if sys::would_block(&e) => break,
                    Err(e) => {
                        err = Some(format!("TLS connection: {e}"));
                        break;
                    }
                }
            }
            let room = max_recv.saturating_sub(recv.len());
            let got = match sess.take_plaintext(recv, room) {
                Ok(n) => n,
                Err(e) => {
                    err.get_or_insert(e.message);
                    0
                }
            };
            if sess.peer_closed() {
                *eof = true;
            }
            if recv.len() >= max_recv {
                core.http_quiet_until = 0; // reading paused (see `Core::http_quiet_until`)
            }
            (got, sess.handshake_just_completed(), err)
        };
        self.tls_deliver(h, got, hs, err);
    }

    fn tls_deliver(&self, h: Handle, got: usize, hs: bool, err: Option<String>) {
        if hs {
            self.dispatch(h, Event::TlsHandshake);
        }
        if got > 0 {
            self.dispatch(h, Event::Read(got));
        }
        if let Some(msg) = err {
            // The alert rustls queued (if any) goes out before the close.
            self.tls_flush(h);
            self.fail(h, &msg);
        }
    }

    /// Plaintext can wait inside the session when `recv` was full; hand it over once there
    /// is room, without waiting for the socket.
    pub(super) fn tls_drain_all(&self) {
        if !self.core.borrow().tls_seen {
            return;
        }
        let max_recv = self.limits().max_recv;
        let candidates = self
            .handles_where(|c| c.tls_session.is_some() && !c.closing && !c.paused && c.recv_pending().len() < max_recv);
        for &h in candidates.iter() {
            let got = {
                let mut core = self.core.borrow_mut();
                let core = &mut *core;
                let max_recv = core.limits.max_recv;
                let Some(c) = core.conns.get_mut(h) else { continue };
                c.compact_recv();
                let Conn {
                    tls_session: Some(sess),
                    recv,
                    ..
                } = c
                else {
                    continue;
                };
                let room = max_recv.saturating_sub(recv.len());
                let got = sess.take_plaintext(recv, room).unwrap_or(0);
                if recv.len() >= max_recv {
                    core.http_quiet_until = 0; // reading paused (see `Core::http_quiet_until`)
                }
                got
            };
            if got > 0 {
                self.core.borrow_mut().mark_dirty(h);
                self.tls_deliver(h, got, false, None);
            }
        }
        self.recycle(candidates);
    }

    /// Encrypt queued plaintext (and file segments) and write ciphertext to the socket.
    pub(super) fn tls_flush(&self, h: Handle) {
        let (written, err) = {
            let mut core = self.core.borrow_mut();
            let Some(c) = core.conns.get_mut(h) else { return };
            if c.state != State::Open {
                return;
            }
            let Conn {
                sock: Some(Sock::Stream(s)),
                tls_session: Some(sess),
                send,
                send_off,
                files,
                ..
            } = c
            else {
                return;
            };
            let mut written = 0usize;
            let mut err: Option<String> = None;
            let mut filebuf = Vec::new();
            loop {
                let mut progressed = false;
                if *send_off < send.len() {
                    match sess.write_plaintext(&send[*send_off..]) {
                        Ok(n) => {
                            *send_off += n;
                            written += n;
                            progressed |= n > 0;
                        }
                        Err(e) => {
                            err = Some(e.message);
                            break;
                        }
                    }
                } else if let Some(f) = files.front_mut() {
                    if f.remaining == 0 {
                        let f = files.pop_front().expect("front exists");
                        // `send` is drained: it keeps its allocation unless bytes were
                        // queued after the file.
                        if f.after.is_empty() {
                            send.clear();
                        } else {
                            *send = f.after;
                        }
                        *send_off = 0;
                        continue;
                    }
                    filebuf.resize(f.remaining.min(16 * 1024) as usize, 0);
                    let got = f.file.seek(f.offset).and_then(|()| f.file.read(&mut filebuf));
                    match got {
                        Ok(0) => {
                            err = Some("file shrank while sending".into());
                            break;
                        }
                        Ok(n) => match sess.write_plaintext(&filebuf[..n]) {
                            Ok(k) => {
                                f.offset += k as u64;
                                f.remaining -= k as u64;
                                written += k;
                                progressed |= k > 0;
                            }
                            Err(e) => {
                                err = Some(e.message);
                                break;
                            }
                        },
                        Err(e) => {
                            err = Some(format!("reading file: {e:?}"));
                            break;
                        }
                    }
                }
                match sess.write_tls_to(&mut sys::writer(s)) {
                    Ok(n) => progressed |= n > 0,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                        ) =>
                    {
                        break
                    }
                    Err(e) => {
                        err = Some(format!("TLS connection: {e}"));
                        break;
                    }
                }
                if !progressed {
                    break;
                }
            }
            if *send_off == send.len() {
                send.clear();
                *send_off = 0;
            }
            (written, err)
        };
        if written > 0 {
            self.dispatch(h, Event::Write(written));
        }
        if let Some(msg) = err {
            self.fail(h, &msg);
        }
    }

    /// Our close_notify, written once and best effort, before the socket closes.
    pub(super) fn tls_goodbye(c: &mut Conn) {
        let Conn {
            sock: Some(Sock::Stream(s)),
            tls_session: Some(sess),
            ..
        } = c
        else {
            return;
        };
        if sess.error().is_none() {
            sess.send_close_notify();
            let _ = sess.write_tls_to(&mut sys::writer(s));
        }
    }

    /// Handshakes that stall are ended.
    pub(super) fn tls_timeouts(&self, now: u64) {
        if !self.core.borrow().tls_seen {
            return;
        }
        let expired = self.handles_where(|c| {
            !c.closing && c.tls_deadline <= now && c.tls_session.as_ref().is_some_and(|s| s.is_handshaking())
        });
        for &h in expired.iter() {
            self.fail(h, "TLS handshake timed out");
        }
        self.recycle(expired);
    }

    /// Idle sessions give back their buffers.
    pub(super) fn tls_shrink(c: &mut Conn) {
        if c.recv_pending().is_empty() && c.send_pending() == 0 {
            if let Some(s) = c.tls_session.as_mut() {
                if !s.wants_write() && !s.is_handshaking() {
                    s.shrink_idle();
                }
            }
        }
    }
}
