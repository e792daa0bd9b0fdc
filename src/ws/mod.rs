//! Sans-IO WebSocket (RFC 6455) protocol machine, with permessage-deflate (RFC 7692) behind
//! the `ws-deflate` feature: bytes in, events and bytes out.
//!
//! Nothing here touches a socket, a clock or the manager. The connection code:
//! 1. checks the HTTP upgrade with [`handshake`] (server: [`handshake::validate_request`],
//!    [`handshake::write_accept`]; client: [`handshake::write_request`],
//!    [`handshake::validate_response`]) and builds a [`WsConn`] from the outcome;
//! 2. hands every received byte range to [`WsConn::feed`], which unmasks in place, answers pings
//!    and closes into the caller's output `Vec`, and returns at most one [`Event`] per call,
//!    borrowing either the caller's buffer (zero-copy) or the connection's reassembly buffer;
//! 3. sends with [`WsConn::send`] / [`WsConn::close`] (or the low-level [`frame::encode_frame`]);
//! 4. drives [`keepalive::KeepAlive`] with the time it reads from its own clock.
//!
//! A protocol violation is an `Err(`[`WsError`]`)` carrying the close code; the close frame is
//! already in the output, the connection is dead from then on (every later call is a no-op),
//! and the manager flushes and closes the transport.
//!
//! Only `core` and `alloc` are used (plus `sha1`, `base64` and, with `ws-deflate`,
//! `miniz_oxide`, all `no_std`), so the module builds without `std`.
#![forbid(unsafe_code)]

extern crate alloc;

mod conn;
#[cfg(feature = "ws-deflate")]
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod keepalive;
pub mod utf8;

pub use conn::{Config, Event, Progress, Role, SendError, State, WsConn, WsError, WsErrorKind, WsMessage};
pub use frame::{apply_mask, encode_frame, encode_header, parse_header, FrameHeader, MAX_HEADER_LEN};

/// Continuation frame (Mongoose's `WEBSOCKET_OP_CONTINUE`).
pub const WEBSOCKET_OP_CONTINUE: u8 = 0;
/// Text frame (`WEBSOCKET_OP_TEXT`).
pub const WEBSOCKET_OP_TEXT: u8 = 1;
/// Binary frame (`WEBSOCKET_OP_BINARY`).
pub const WEBSOCKET_OP_BINARY: u8 = 2;
/// Close frame (`WEBSOCKET_OP_CLOSE`).
pub const WEBSOCKET_OP_CLOSE: u8 = 8;
/// Ping frame (`WEBSOCKET_OP_PING`).
pub const WEBSOCKET_OP_PING: u8 = 9;
/// Pong frame (`WEBSOCKET_OP_PONG`).
pub const WEBSOCKET_OP_PONG: u8 = 10;

/// FIN bit of the first header byte, as in [`WsMessage::flags`].
pub const FLAG_FIN: u8 = 0x80;
/// RSV1 bit of the first header byte ("per-message compressed" under permessage-deflate).
pub const FLAG_RSV1: u8 = 0x40;

/// Close status codes (RFC 6455 §7.4.1) used by this module.
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// Endpoint going away.
    pub const GOING_AWAY: u16 = 1001;
    /// Protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Unacceptable data type.
    pub const UNSUPPORTED: u16 = 1003;
    /// Data inconsistent with the message type (bad UTF-8, bad compressed data).
    pub const INVALID_DATA: u16 = 1007;
    /// Policy violation.
    pub const POLICY: u16 = 1008;
    /// Message too big.
    pub const TOO_BIG: u16 = 1009;
    /// Client expected an extension the server did not negotiate.
    pub const EXTENSION: u16 = 1010;
    /// Unexpected condition on the server.
    pub const INTERNAL: u16 = 1011;

    /// Whether `code` may appear in a received Close frame.
    ///
    /// Valid: 1000–1003, 1007–1014 (1012–1014 are registered with IANA: service restart, try
    /// again later, bad gateway), 3000–4999 (libraries and applications). Invalid: below 1000,
    /// 1004–1006 and 1015 (reserved, never on the wire), 1016–2999 (unassigned, reserved for
    /// the protocol), 5000 and up. Autobahn's 7.7.x/7.9.x cases agree; they do not test
    /// 1012–1014 either way.
    pub const fn is_valid_received(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// Whether `opcode` is a control opcode (close, ping, pong and the reserved 0xB–0xF).
pub const fn is_control(opcode: u8) -> bool {
    opcode & 0x08 != 0
}

/// Makes room for `needed` bytes in total, growing geometrically but never past `cap` (unless
/// `needed` itself is larger), so a buffer bounded by `max_message` never has a capacity above
/// it either (guarantee G5).
pub(crate) fn reserve_bounded(v: &mut alloc::vec::Vec<u8>, needed: usize, cap: usize) {
    if needed > v.capacity() {
        let target = needed.max(v.capacity().saturating_mul(2)).min(cap.max(needed));
        v.reserve_exact(target - v.len());
    }
}

#[cfg(test)]
mod tests;
