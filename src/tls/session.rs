//! A sans-IO TLS session: a byte pump between the socket and the connection's plaintext
//! buffers. It never touches a socket; the event manager moves the bytes.
//!
//! Receive path: socket bytes → [`TlsSession::feed`] → [`TlsSession::take_plaintext`] → the
//! connection's receive buffer (bounded by the caller's `max`).
//! Send path: the connection's send buffer → [`TlsSession::write_plaintext`] (accepts what fits
//! under the send limit: backpressure) → [`TlsSession::take_ciphertext`] or
//! [`TlsSession::write_tls_to`] → socket.
//!
//! Failures are sticky: after an error every call returns the same [`TlsError`], but
//! [`TlsSession::take_ciphertext`] still yields the fatal alert rustls queued for the peer
//! (send it, best effort, before closing).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::io::{self, BufRead, Read, Write};

use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::error::{TlsError, TlsErrorKind};

extern crate alloc;

/// Default cap on ciphertext (and pre-handshake plaintext) buffered inside the session: one
/// full TLS record plus overhead. [`TlsSession::write_plaintext`] accepts no more until
/// [`TlsSession::take_ciphertext`] has drained it.
pub(crate) const DEFAULT_SEND_LIMIT: usize = 16 * 1024 + 512;

/// Ciphertext that `feed` accepted but rustls could not take yet (its plaintext buffer, 16 KiB,
/// was full) is kept here, at most this much. A caller that reads the socket only while
/// [`TlsSession::wants_read`] is true never comes near it.
pub(crate) const MAX_STASH: usize = 64 * 1024;

/// A TLS session over one connection, server or client side.
pub struct TlsSession {
    /// Boxed: rustls's connection state is large, and `Option<TlsSession>` sits in every
    /// connection slot.
    conn: Box<Connection>,
    stash: Vec<u8>,
    failed: Option<TlsError>,
    hs_reported: bool,
    peer_closed: bool,
    sent_close: bool,
}

impl core::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsSession")
            .field("client", &self.is_client())
            .field("handshaking", &self.conn.is_handshaking())
            .field("stash", &self.stash.len())
            .field("failed", &self.failed)
            .field("peer_closed", &self.peer_closed)
            .field("sent_close", &self.sent_close)
            .finish()
    }
}

/// A reader that always says "would block": used to let rustls shrink its input buffer.
struct WouldBlock;
impl Read for WouldBlock {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl TlsSession {
    fn new(conn: Connection) -> TlsSession {
        let mut s = TlsSession {
            conn: Box::new(conn),
            stash: Vec::new(),
            failed: None,
            hs_reported: false,
            peer_closed: false,
            sent_close: false,
        };
        s.set_send_limit(DEFAULT_SEND_LIMIT);
        s
    }

    /// The server side of a connection accepted by a listener.
    pub fn server(config: Arc<ServerConfig>) -> Result<TlsSession, TlsError> {
        let c = ServerConnection::new(config).map_err(|e| TlsError::from_rustls(&e))?;
        Ok(TlsSession::new(Connection::Server(c)))
    }

    /// The client side of an outbound connection; `name` (DNS name or IP address) is sent as
    /// SNI (DNS names only) and the server's certificate must be valid for it.
    pub fn client(config: Arc<ClientConfig>, name: &str) -> Result<TlsSession, TlsError> {
        let name = super::config::server_name(name)?;
        let c = ClientConnection::new(config, name).map_err(|e| TlsError::from_rustls(&e))?;
        Ok(TlsSession::new(Connection::Client(c)))
    }

    pub fn is_client(&self) -> bool {
        matches!(*self.conn, Connection::Client(_))
    }

    /// Cap the bytes buffered for sending inside the session (see [`DEFAULT_SEND_LIMIT`]).
    pub fn set_send_limit(&mut self, limit: usize) {
        self.conn.set_buffer_limit(Some(limit.max(1024)));
    }

    fn fail(&mut self, e: TlsError) -> TlsError {
        if self.failed.is_none() {
            self.failed = Some(e.clone());
        }
        e
    }

    fn check(&self) -> Result<(), TlsError> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The error that ended the session, if any.
    pub fn error(&self) -> Option<&TlsError> {
        self.failed.as_ref()
    }

    /// Give rustls bytes from `input` until it has taken them all or its plaintext buffer is
    /// full. Advances `input` past what was taken. Bytes after the peer's close_notify are
    /// dropped (taken).
    fn pump(&mut self, input: &mut &[u8]) -> Result<(), TlsError> {
        while !input.is_empty() {
            if self.peer_closed {
                *input = &[];
                break;
            }
            match self.conn.read_tls(input) {
                Ok(0) => {
                    // Only after close_notify (rustls takes nothing more): drop the rest.
                    *input = &[];
                }
                Ok(_) => {}
                // "received plaintext buffer full": backpressure, not an error.
                Err(e) if e.kind() == io::ErrorKind::Other => break,
                Err(e) => return Err(self.fail(TlsError::from_io(&e))),
            }
            match self.conn.process_new_packets() {
                Ok(st) => {
                    if st.peer_has_closed() {
                        self.peer_closed = true;
                    }
                }
                Err(e) => return Err(self.fail(TlsError::from_rustls(&e))),
            }
        }
        Ok(())
    }

    fn pump_stash(&mut self) -> Result<(), TlsError> {
        if self.stash.is_empty() {
            return Ok(());
        }
        let mut stash = core::mem::take(&mut self.stash);
        let mut rest: &[u8] = &stash;
        let r = self.pump(&mut rest);
        let taken = stash.len() - rest.len();
        stash.drain(..taken);
        self.stash = stash;
        r
    }

    /// Consume ciphertext read from the socket: records are decrypted and handshake messages
    /// processed (which may queue bytes to send: check [`Self::wants_write`]). Returns how
    /// many bytes were taken: all of them, unless more than [`MAX_STASH`] is waiting because
    /// the plaintext was not taken (then feed the rest again later).
    ///
    /// On error the session is dead: send what [`Self::take_ciphertext`] gives (the alert),
    /// report the error, close.
    pub fn feed(&mut self, ciphertext: &[u8]) -> Result<usize, TlsError> {
        self.check()?;
        if !self.stash.is_empty() {
            // Keep the order: older bytes first.
            let n = MAX_STASH.saturating_sub(self.stash.len()).min(ciphertext.len());
            self.stash.extend_from_slice(&ciphertext[..n]);
            self.pump_stash()?;
            return Ok(n);
        }
        let mut rest = ciphertext;
        self.pump(&mut rest)?;
        let n = rest.len().min(MAX_STASH);
        self.stash.extend_from_slice(&rest[..n]);
        Ok(ciphertext.len() - rest.len() + n)
    }

    /// The transport reached end-of-file (FIN, or an RST). `Ok` when the peer had closed
    /// cleanly (close_notify). Otherwise `Err(Truncated)`: during the handshake the session is
    /// dead; after it, plaintext already received can still be taken (deliver it, then close).
    pub fn feed_eof(&mut self) -> Result<(), TlsError> {
        self.check()?;
        if self.peer_closed {
            return Ok(());
        }
        if self.conn.is_handshaking() {
            return Err(self.fail(TlsError::new(
                TlsErrorKind::Truncated,
                "TLS: handshake failed: the peer closed the connection",
            )));
        }
        Err(TlsError::new(
            TlsErrorKind::Truncated,
            "TLS: connection closed without close_notify: received data may be truncated",
        ))
    }

    /// Append up to `max` bytes of decrypted application data to `out`; returns how many.
    /// Taking plaintext lets stashed ciphertext through, which can fail (hence the `Result`).
    pub fn take_plaintext(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize, TlsError> {
        let mut got = 0;
        loop {
            while got < max {
                let mut r = self.conn.reader();
                let n = match r.fill_buf() {
                    Ok(b) if !b.is_empty() => {
                        let n = b.len().min(max - got);
                        out.extend_from_slice(&b[..n]);
                        n
                    }
                    // Empty after close_notify, WouldBlock when nothing is buffered,
                    // UnexpectedEof after a truncated stream: nothing to take in any case.
                    _ => break,
                };
                r.consume(n);
                got += n;
            }
            if got >= max || self.stash.is_empty() || self.failed.is_some() {
                break;
            }
            let before = self.stash.len();
            self.pump_stash()?;
            if self.stash.len() == before {
                break;
            }
        }
        Ok(got)
    }

    /// Queue application data for encryption. Returns how many bytes were accepted (0 when
    /// the send limit is reached: drain with [`Self::take_ciphertext`] and retry). Before
    /// the handshake completes the data waits inside the session.
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<usize, TlsError> {
        self.check()?;
        if self.sent_close {
            return Err(TlsError::new(
                TlsErrorKind::Other,
                "TLS: cannot send after close_notify",
            ));
        }
        self.conn
            .writer()
            .write(data)
            .map_err(|e| self.fail(TlsError::new(TlsErrorKind::Other, alloc::format!("TLS write: {e}"))))
    }

    /// Move every byte waiting to be sent (handshake, records, alerts) to `out`; returns
    /// how many.
    pub fn take_ciphertext(&mut self, out: &mut Vec<u8>) -> usize {
        // Writing into a Vec cannot fail or block.
        self.write_tls_to(out).unwrap_or(0)
    }

    /// Write waiting ciphertext straight to `w` (a non-blocking socket). Returns the bytes
    /// written; `Err(WouldBlock)` only when nothing could be written.
    pub fn write_tls_to<W: Write>(&mut self, w: &mut W) -> io::Result<usize> {
        let mut total = 0;
        while self.conn.wants_write() {
            match self.conn.write_tls(w) {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && total > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }

    /// The handshake has not completed yet.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// True exactly once, the first time it is called after the handshake completed: the edge
    /// for `MG_EV_TLS_HS`.
    pub fn handshake_just_completed(&mut self) -> bool {
        if self.hs_reported || self.failed.is_some() || self.conn.is_handshaking() {
            return false;
        }
        self.hs_reported = true;
        true
    }

    /// The peer sent close_notify: it will send nothing more. Deliver what
    /// [`Self::take_plaintext`] still gives, then close (our close_notify first).
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Queue our close_notify (once). Flush [`Self::take_ciphertext`] afterwards, then close.
    pub fn send_close_notify(&mut self) {
        if !self.sent_close && self.failed.is_none() {
            self.sent_close = true;
            self.conn.send_close_notify();
        }
    }

    /// Whether reading the socket is useful now: false once the session failed or the peer
    /// closed, and while decrypted data or stashed ciphertext waits to be taken (backpressure).
    pub fn wants_read(&self) -> bool {
        self.failed.is_none() && !self.peer_closed && self.stash.is_empty() && self.conn.wants_read()
    }

    /// Bytes are waiting to be sent to the socket.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Release buffer memory while the connection is idle: rustls's input buffer goes back to
    /// 4 KiB when it holds no partial record, and the stash is freed when empty.
    pub fn shrink_idle(&mut self) {
        if self.stash.is_empty() {
            self.stash = Vec::new();
        } else {
            self.stash.shrink_to_fit();
        }
        if self.failed.is_none() && !self.peer_closed {
            // rustls resizes its deframer buffer at the start of each read; a read that
            // "would block" changes nothing else.
            let _ = self.conn.read_tls(&mut WouldBlock);
        }
    }

    /// The ALPN protocol agreed on, if any (e.g. `b"http/1.1"`).
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Server side: the name the client asked for (SNI), once received.
    pub fn sni_name(&self) -> Option<&str> {
        match &*self.conn {
            Connection::Server(s) => s.server_name(),
            Connection::Client(_) => None,
        }
    }

    /// The negotiated version as its wire number (0x0304 for TLS 1.3, 0x0303 for TLS 1.2).
    pub fn protocol_version(&self) -> Option<u16> {
        self.conn.protocol_version().map(u16::from)
    }

    /// The certificates the peer presented (leaf first), once the handshake got that far.
    pub fn peer_certificates(&self) -> Option<&[rustls_pki_types::CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }
}
