//! The per-connection WebSocket machine (RFC 6455 §5–§7, RFC 7692 §6).

use super::alloc::vec::Vec;
use super::close_code as cc;
#[cfg(feature = "ws-deflate")]
use super::deflate::{Codec, DeflateConfig, DeflateParams, InflateError};
use super::frame::{apply_mask, encode_frame, parse_header};
use super::utf8::Utf8Validator;
use super::{
    FLAG_FIN, WEBSOCKET_OP_BINARY, WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_PING, WEBSOCKET_OP_PONG, WEBSOCKET_OP_TEXT,
};
use sha1::{Digest, Sha1};

/// Which end of the connection we are: servers receive masked frames and send unmasked ones,
/// clients the reverse (RFC 6455 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepted connection.
    Server,
    /// Connection we opened.
    Client,
}

/// Per-connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest message (after reassembly and decompression) we accept; beyond it: close 1009.
    /// Also bounds the reassembly buffer. Mongoose-compatible default: 1 MiB
    /// (`mg_limits.ws_max_message`).
    pub max_message: usize,
    /// Client role only: 16 bytes from a strong entropy source. Masking keys are SHA-1 of this
    /// seed and a counter, so they are unpredictable to the network as RFC 6455 §5.3 asks.
    pub mask_seed: [u8; 16],
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message: 1 << 20,
            mask_seed: [0; 16],
        }
    }
}

/// Where the closing handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a Close and wait for the peer's (incoming messages are still delivered).
    CloseSent,
    /// Both Close frames are exchanged (any reply is in the output): flush, then close the
    /// transport. Input is ignored from now on.
    Closed,
    /// A protocol error ended the connection (its Close, if we could still send one, is in the
    /// output): flush, then close the transport. Input is ignored from now on.
    Failed,
}

/// A message or control frame, in Mongoose's `struct mg_ws_message` shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsMessage<'a> {
    /// Payload: unmasked, reassembled and decompressed.
    pub data: &'a [u8],
    /// `FIN | opcode` (RSV bits cleared); the opcode is `flags & 15` as in Mongoose.
    pub flags: u8,
}

impl<'a> WsMessage<'a> {
    /// `WEBSOCKET_OP_*` of the message (text/binary) or control frame.
    pub const fn opcode(&self) -> u8 {
        self.flags & 0x0f
    }

    /// For a Close frame: its status code, if it carried one.
    pub fn close_code(&self) -> Option<u16> {
        match self.data {
            [a, b, ..] if self.opcode() == WEBSOCKET_OP_CLOSE => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        }
    }

    /// For a Close frame: its reason (valid UTF-8, checked on receipt), else empty.
    pub fn close_reason(&self) -> &'a [u8] {
        match self.data {
            [_, _, rest @ ..] if self.opcode() == WEBSOCKET_OP_CLOSE => rest,
            _ => &[],
        }
    }
}

/// What [`WsConn::feed`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete text or binary message (Mongoose's `MG_EV_WS_MSG`).
    Message(WsMessage<'a>),
    /// A ping, pong or close frame (Mongoose's `MG_EV_WS_CTL`). Pings are already answered and
    /// a peer's Close already replied to, in the output.
    Control(WsMessage<'a>),
}

/// Result of one [`WsConn::feed`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress<'a> {
    /// Bytes of the input used up: drop them before the next call. They may have been
    /// modified (unmasked in place); the bytes after them are untouched.
    pub consumed: usize,
    /// At most one event. `None`: everything usable was consumed; call again with more input.
    pub event: Option<Event<'a>>,
}

/// Which rule a peer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsErrorKind {
    /// 64-bit length with its top bit set.
    LengthMsb,
    /// RSV bit set without an extension that defines it.
    ReservedBits,
    /// Opcode 3–7 or 0xB–0xF.
    ReservedOpcode,
    /// A client frame without mask (server role).
    Unmasked,
    /// A server frame with mask (client role).
    Masked,
    /// Control frame without FIN.
    FragmentedControl,
    /// Control frame payload over 125 bytes.
    ControlTooLong,
    /// Continuation frame outside a fragmented message.
    UnexpectedContinuation,
    /// New text/binary frame inside a fragmented message.
    ExpectedContinuation,
    /// Message over `max_message` (1009).
    TooBig,
    /// Text that is not UTF-8, or a Close reason that is not (1007).
    InvalidUtf8,
    /// Compressed data that does not inflate (1007).
    BadCompressedData,
    /// Close payload of 1 byte.
    BadClosePayload,
    /// Close code that may not be sent.
    BadCloseCode,
}

/// A protocol violation: the connection failed with close code `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsError {
    /// Close code sent to the peer (1002, 1007 or 1009).
    pub code: u16,
    /// The rule that was broken.
    pub kind: WsErrorKind,
}

impl WsErrorKind {
    const fn code(self) -> u16 {
        match self {
            WsErrorKind::TooBig => cc::TOO_BIG,
            WsErrorKind::InvalidUtf8 | WsErrorKind::BadCompressedData => cc::INVALID_DATA,
            _ => cc::PROTOCOL_ERROR,
        }
    }
}

/// Why a send was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// A Close was already sent (or the connection failed): RFC 6455 §5.5.1 forbids more.
    Closed,
    /// Not a `WEBSOCKET_OP_*` we can send this way, or a control payload over 125 bytes.
    BadFrame,
}

/// The data frame whose payload is being streamed in.
#[derive(Clone, Copy, Debug)]
struct InFrame {
    remaining: u64,
    mask: Option<[u8; 4]>,
    offset: usize,
    fin: bool,
}

/// The message being reassembled in `WsConn::buf`.
#[derive(Clone, Copy, Debug)]
struct InMsg {
    opcode: u8,
    compressed: bool,
}

enum Ready {
    None,
    Input {
        start: usize,
        end: usize,
        flags: u8,
        control: bool,
    },
    Buf {
        flags: u8,
    },
}

/// Unpredictable masking keys: SHA-1(seed ‖ counter), five keys per hash.
struct Masker {
    seed: [u8; 16],
    counter: u64,
    pool: [u8; 20],
    used: usize,
}

impl Masker {
    fn next(&mut self) -> [u8; 4] {
        if self.used + 4 > self.pool.len() {
            let mut h = Sha1::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter = self.counter.wrapping_add(1);
            self.pool.copy_from_slice(&h.finalize());
            self.used = 0;
        }
        let k = [
            self.pool[self.used],
            self.pool[self.used + 1],
            self.pool[self.used + 2],
            self.pool[self.used + 3],
        ];
        self.used += 4;
        k
    }
}

/// Reassembly buffers larger than this are freed after their message was delivered.
const KEEP_BUF: usize = 16 * 1024;

/// One WebSocket connection's protocol state. See the module docs for the calling pattern.
pub struct WsConn {
    role: Role,
    max_message: usize,
    state: State,
    frame: Option<InFrame>,
    msg: Option<InMsg>,
    buf: Vec<u8>,
    /// `buf` holds a delivered message: clear it on the next call.
    delivered: bool,
    utf8: Utf8Validator,
    masker: Masker,
    #[cfg(feature = "ws-deflate")]
    deflate: Option<Codec>,
}

impl WsConn {
    /// A connection right after a successful opening handshake.
    pub fn new(role: Role, config: Config) -> WsConn {
        WsConn {
            role,
            max_message: config.max_message,
            state: State::Open,
            frame: None,
            msg: None,
            buf: Vec::new(),
            delivered: false,
            utf8: Utf8Validator::new(),
            masker: Masker {
                seed: config.mask_seed,
                counter: 0,
                pool: [0; 20],
                used: 20,
            },
            #[cfg(feature = "ws-deflate")]
            deflate: None,
        }
    }

    /// Turns on permessage-deflate with the parameters the handshake negotiated.
    #[cfg(feature = "ws-deflate")]
    pub fn enable_deflate(&mut self, config: &DeflateConfig, params: &DeflateParams) {
        self.deflate = Some(Codec::new(config, params, self.role == Role::Server));
    }

    /// Capacity of the reassembly buffer (for tests of the memory bound).
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Our role.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Closing-handshake state; in `Closed` and `Failed` the transport should be closed once
    /// the output is flushed.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Whether [`feed`](Self::feed) with no input would do nothing at all: no delivered
    /// message to let go of (the caller may skip that call).
    pub const fn is_idle(&self) -> bool {
        !self.delivered
    }

    /// Whether permessage-deflate is in use.
    pub const fn is_compressed(&self) -> bool {
        #[cfg(feature = "ws-deflate")]
        {
            self.deflate.is_some()
        }
        #[cfg(not(feature = "ws-deflate"))]
        {
            false
        }
    }

    /// A masking key for a frame we send (client role), `None` for a server. For callers that
    /// build frames themselves (`frame::encode_header` + `frame::apply_mask`, `mg_ws_wrap`).
    pub fn mask_key(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => Some(self.masker.next()),
            Role::Server => None,
        }
    }

    /// Processes received bytes. Returns how many were used and at most one event, which
    /// borrows `input` (an unfragmented, uncompressed frame that arrived whole: unmasked in
    /// place, no copy) or the connection's reassembly buffer (fragmented, compressed, or split
    /// across reads). Automatic replies (pong, close echo, close on error) go to `out`.
    ///
    /// Call in a loop, dropping `consumed` bytes each time, until `event` is `None`.
    /// `Err`: the peer broke the protocol; the state is `Failed` and a Close with the error's
    /// code is in `out`.
    pub fn feed<'a>(&'a mut self, input: &'a mut [u8], out: &mut Vec<u8>) -> Result<Progress<'a>, WsError> {
        if self.delivered {
            self.delivered = false;
            self.buf.clear();
            if self.buf.capacity() > KEEP_BUF {
                self.buf = Vec::new();
            }
        }
        if matches!(self.state, State::Closed | State::Failed) {
            return Ok(Progress {
                consumed: input.len(),
                event: None,
            });
        }
        let mut pos = 0;
        let ready = loop {
            if let Some(mut f) = self.frame {
                let n = f.remaining.min((input.len() - pos) as u64) as usize;
                if n == 0 && f.remaining != 0 {
                    break Ready::None;
                }
                let chunk = &mut input[pos..pos + n];
                if let Some(k) = f.mask {
                    apply_mask(chunk, k, f.offset);
                }
                pos += n;
                f.offset = (f.offset + n) % 4;
                f.remaining -= n as u64;
                self.frame = Some(f);
                self.absorb(&input[pos - n..pos], out)?;
                if f.remaining == 0 {
                    self.frame = None;
                    if f.fin {
                        let flags = self.finish_message(out)?;
                        self.delivered = true;
                        break Ready::Buf { flags };
                    }
                }
                continue;
            }
            let h = match parse_header(&input[pos..]) {
                Ok(Some(h)) => h,
                Ok(None) => break Ready::None,
                Err(_) => return Err(self.fail(out, WsErrorKind::LengthMsb)),
            };
            let rsv1_ok = self.is_compressed();
            if h.rsv & !(if rsv1_ok { 0b100 } else { 0 }) != 0 {
                return Err(self.fail(out, WsErrorKind::ReservedBits));
            }
            match (self.role, h.mask.is_some()) {
                (Role::Server, false) => return Err(self.fail(out, WsErrorKind::Unmasked)),
                (Role::Client, true) => return Err(self.fail(out, WsErrorKind::Masked)),
                _ => {}
            }
            let compressed = h.rsv & 0b100 != 0;
            match h.opcode {
                WEBSOCKET_OP_CLOSE | WEBSOCKET_OP_PING | WEBSOCKET_OP_PONG => {
                    if !h.fin {
                        return Err(self.fail(out, WsErrorKind::FragmentedControl));
                    }
                    if h.payload_len > 125 {
                        return Err(self.fail(out, WsErrorKind::ControlTooLong));
                    }
                    if compressed {
                        return Err(self.fail(out, WsErrorKind::ReservedBits));
                    }
                    let start = pos + h.header_len;
                    let end = start + h.payload_len as usize;
                    if end > input.len() {
                        break Ready::None;
                    }
                    if let Some(k) = h.mask {
                        apply_mask(&mut input[start..end], k, 0);
                    }
                    pos = end;
                    self.control(h.opcode, &input[start..end], out)?;
                    break Ready::Input {
                        start,
                        end,
                        flags: FLAG_FIN | h.opcode,
                        control: true,
                    };
                }
                WEBSOCKET_OP_TEXT | WEBSOCKET_OP_BINARY => {
                    if self.msg.is_some() {
                        return Err(self.fail(out, WsErrorKind::ExpectedContinuation));
                    }
                    if !compressed && h.payload_len > self.max_message as u64 {
                        return Err(self.fail(out, WsErrorKind::TooBig));
                    }
                    let start = pos + h.header_len;
                    let whole = (input.len() - start) as u64 >= h.payload_len;
                    if h.fin && !compressed && whole {
                        // The zero-copy path: the message is this one frame, here in full.
                        let end = start + h.payload_len as usize;
                        if let Some(k) = h.mask {
                            apply_mask(&mut input[start..end], k, 0);
                        }
                        if h.opcode == WEBSOCKET_OP_TEXT && core::str::from_utf8(&input[start..end]).is_err() {
                            return Err(self.fail(out, WsErrorKind::InvalidUtf8));
                        }
                        pos = end;
                        break Ready::Input {
                            start,
                            end,
                            flags: FLAG_FIN | h.opcode,
                            control: false,
                        };
                    }
                    self.msg = Some(InMsg {
                        opcode: h.opcode,
                        compressed,
                    });
                    self.utf8 = Utf8Validator::new();
                    self.buf.clear();
                }
                0 => {
                    let Some(m) = self.msg else {
                        return Err(self.fail(out, WsErrorKind::UnexpectedContinuation));
                    };
                    if compressed {
                        return Err(self.fail(out, WsErrorKind::ReservedBits));
                    }
                    let total = (self.buf.len() as u64).saturating_add(h.payload_len);
                    if !m.compressed && total > self.max_message as u64 {
                        return Err(self.fail(out, WsErrorKind::TooBig));
                    }
                }
                _ => return Err(self.fail(out, WsErrorKind::ReservedOpcode)),
            }
            pos += h.header_len;
            self.frame = Some(InFrame {
                remaining: h.payload_len,
                mask: h.mask,
                offset: 0,
                fin: h.fin,
            });
        };
        let event = match ready {
            Ready::None => None,
            Ready::Input {
                start,
                end,
                flags,
                control,
            } => {
                let m = WsMessage {
                    data: &input[start..end],
                    flags,
                };
                Some(if control { Event::Control(m) } else { Event::Message(m) })
            }
            Ready::Buf { flags } => Some(Event::Message(WsMessage { data: &self.buf, flags })),
        };
        Ok(Progress { consumed: pos, event })
    }

    /// Appends one unmasked piece of the current message's payload to the reassembly buffer.
    fn absorb(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        let Some(m) = self.msg else { return Ok(()) };
        let old = self.buf.len();
        if m.compressed {
            #[cfg(feature = "ws-deflate")]
            if let Some(codec) = self.deflate.as_mut() {
                if let Err(e) = codec.inflate(chunk, &mut self.buf, self.max_message) {
                    return Err(self.fail(out, inflate_kind(e)));
                }
            }
        } else {
            if old + chunk.len() > self.max_message {
                return Err(self.fail(out, WsErrorKind::TooBig));
            }
            super::reserve_bounded(&mut self.buf, old + chunk.len(), self.max_message);
            self.buf.extend_from_slice(chunk);
        }
        if m.opcode == WEBSOCKET_OP_TEXT && self.utf8.feed(&self.buf[old..]).is_err() {
            return Err(self.fail(out, WsErrorKind::InvalidUtf8));
        }
        Ok(())
    }

    /// The last frame of the message arrived: finish inflating and validating it.
    fn finish_message(&mut self, out: &mut Vec<u8>) -> Result<u8, WsError> {
        let Some(m) = self.msg.take() else { return Ok(FLAG_FIN) };
        #[cfg(feature = "ws-deflate")]
        if m.compressed {
            let old = self.buf.len();
            if let Some(codec) = self.deflate.as_mut() {
                if let Err(e) = codec.finish_inflate(&mut self.buf, self.max_message) {
                    return Err(self.fail(out, inflate_kind(e)));
                }
            }
            if m.opcode == WEBSOCKET_OP_TEXT && self.utf8.feed(&self.buf[old..]).is_err() {
                return Err(self.fail(out, WsErrorKind::InvalidUtf8));
            }
        }
        if m.opcode == WEBSOCKET_OP_TEXT && !self.utf8.is_complete() {
            return Err(self.fail(out, WsErrorKind::InvalidUtf8));
        }
        Ok(FLAG_FIN | m.opcode)
    }

    /// Acts on a complete, unmasked control frame.
    fn control(&mut self, opcode: u8, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        match opcode {
            WEBSOCKET_OP_PING if self.state == State::Open => {
                let mask = self.mask_key();
                encode_frame(out, WEBSOCKET_OP_PONG, payload, true, mask, false);
            }
            WEBSOCKET_OP_CLOSE => {
                match payload {
                    [] => {}
                    [_] => return Err(self.fail(out, WsErrorKind::BadClosePayload)),
                    [a, b, reason @ ..] => {
                        if !cc::is_valid_received(u16::from_be_bytes([*a, *b])) {
                            return Err(self.fail(out, WsErrorKind::BadCloseCode));
                        }
                        if core::str::from_utf8(reason).is_err() {
                            return Err(self.fail(out, WsErrorKind::InvalidUtf8));
                        }
                    }
                }
                if self.state == State::Open {
                    // Echo the status code (RFC 6455 §5.5.1), or an empty Close for an empty one.
                    let mask = self.mask_key();
                    encode_frame(
                        out,
                        WEBSOCKET_OP_CLOSE,
                        payload.get(..2).unwrap_or(&[]),
                        true,
                        mask,
                        false,
                    );
                }
                self.state = State::Closed;
            }
            _ => {}
        }
        Ok(())
    }

    /// Fails the connection: Close with the error's code (unless one was sent), state `Failed`.
    fn fail(&mut self, out: &mut Vec<u8>, kind: WsErrorKind) -> WsError {
        let code = kind.code();
        if self.state == State::Open {
            let mask = self.mask_key();
            encode_frame(out, WEBSOCKET_OP_CLOSE, &code.to_be_bytes(), true, mask, false);
        }
        self.state = State::Failed;
        self.frame = None;
        self.msg = None;
        self.buf = Vec::new();
        #[cfg(feature = "ws-deflate")]
        {
            self.deflate = None;
        }
        WsError { code, kind }
    }

    /// Sends a whole message or control frame (Mongoose's `mg_ws_send`). Text and binary
    /// messages are compressed when permessage-deflate is on and they are long enough; pings,
    /// pongs and closes must fit in 125 bytes. Sending `WEBSOCKET_OP_CLOSE` starts (or answers)
    /// the closing handshake with `payload` as-is; see also [`close`](Self::close).
    pub fn send(&mut self, out: &mut Vec<u8>, opcode: u8, payload: &[u8]) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        match opcode {
            WEBSOCKET_OP_TEXT | WEBSOCKET_OP_BINARY => {
                #[cfg(feature = "ws-deflate")]
                if let Some(codec) = self.deflate.as_mut() {
                    if codec.should_compress(payload.len()) {
                        let mut z = Vec::new();
                        codec.compress(payload, &mut z);
                        let mask = self.mask_key();
                        encode_frame(out, opcode, &z, true, mask, true);
                        return Ok(());
                    }
                }
                let mask = self.mask_key();
                encode_frame(out, opcode, payload, true, mask, false);
            }
            WEBSOCKET_OP_PING | WEBSOCKET_OP_PONG | WEBSOCKET_OP_CLOSE if payload.len() <= 125 => {
                let mask = self.mask_key();
                encode_frame(out, opcode, payload, true, mask, false);
                if opcode == WEBSOCKET_OP_CLOSE {
                    self.state = State::CloseSent;
                }
            }
            _ => return Err(SendError::BadFrame),
        }
        Ok(())
    }

    /// Sends one frame of a message the caller fragments itself (no compression): the first
    /// with `WEBSOCKET_OP_TEXT`/`BINARY`, the rest with `WEBSOCKET_OP_CONTINUE`, the last with
    /// `fin`. Control frames may be sent between them with [`send`](Self::send).
    pub fn send_frame(&mut self, out: &mut Vec<u8>, opcode: u8, payload: &[u8], fin: bool) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        if opcode > WEBSOCKET_OP_BINARY {
            return Err(SendError::BadFrame);
        }
        let mask = self.mask_key();
        encode_frame(out, opcode, payload, fin, mask, false);
        Ok(())
    }

    /// Starts the closing handshake with `code` and a reason (cut to 123 bytes at a character
    /// boundary). Messages from the peer are still delivered until its Close arrives.
    pub fn close(&mut self, out: &mut Vec<u8>, code: u16, reason: &str) -> Result<(), SendError> {
        let mut cut = reason.len().min(123);
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut p = [0u8; 125];
        p[..2].copy_from_slice(&code.to_be_bytes());
        p[2..2 + cut].copy_from_slice(&reason.as_bytes()[..cut]);
        self.send(out, WEBSOCKET_OP_CLOSE, &p[..2 + cut])
    }
}

#[cfg(feature = "ws-deflate")]
fn inflate_kind(e: InflateError) -> WsErrorKind {
    match e {
        InflateError::TooBig => WsErrorKind::TooBig,
        InflateError::Data => WsErrorKind::BadCompressedData,
    }
}
