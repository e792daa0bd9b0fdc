//! permessage-deflate (RFC 7692): negotiation of its parameters and the per-connection codec.
//!
//! Deflate itself is `miniz_oxide` (pure Rust, `no_std` + `alloc`, the backend of `flate2`,
//! maintained in the rust-lang ecosystem): raw DEFLATE streams, streaming in both directions.
//!
//! Window bits. Decompression always keeps a 32 KiB window, which decodes any stream made with
//! a window of 2^8..2^15, so `client_max_window_bits` (for a server) or
//! `server_max_window_bits` (for a client) never needs to be asked for. For compression,
//! `miniz_oxide` has no true small-window mode (its "fast" level may still emit distances up to
//! 32 KiB), so when the peer limits our window below 15 bits we compress with run-length
//! matches only (every back-reference has distance 1), which is valid for any window size.
//!
//! Memory (per connection, allocated on first use): the inflater is one ~43 KiB block; the
//! compressor is ~300 KiB (`miniz_oxide`'s hash chains and code buffer), which is why
//! compression of outgoing messages is a separate switch ([`DeflateConfig::compress`]): a small
//! device can accept compressed messages from browsers and answer uncompressed, which RFC 7692
//! allows per message. When a direction has no context takeover, its state is freed after every
//! message.
//!
//! Decompressed output is bounded by the connection's `max_message` without allocating beyond
//! it: a deflate bomb ends with 1009 after at most `max_message` bytes of output.
//!
//! Known limit: a peer that ends a message with a final (BFINAL) block while using context
//! takeover loses its history (miniz_oxide cannot restart a stream on an old window); the next
//! message is decoded without it. Browsers and zlib-based peers never do this (they end with a
//! sync flush, RFC 7692 §7.2.1).

use super::alloc::boxed::Box;
use super::alloc::vec::Vec;
use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressionStrategy, CompressorOxide};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// The extension token.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The four bytes a sync flush ends with; stripped by senders, appended by receivers (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Our side's settings for permessage-deflate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Offer (client) or accept (server) permessage-deflate at all.
    pub enabled: bool,
    /// Compress outgoing data messages. Off: the extension is still negotiated and incoming
    /// compressed messages are decoded, but we send uncompressed (saves the ~300 KiB compressor).
    pub compress: bool,
    /// Outgoing messages shorter than this go out uncompressed.
    pub min_compress_len: usize,
    /// Compression level 1..=10 (miniz_oxide's scale; 6 is zlib's default).
    pub level: u8,
    /// Reset our compressor after every message (server: `server_no_context_takeover` in the
    /// response; client: `client_no_context_takeover` in the offer). Frees it between messages.
    pub no_context_takeover: bool,
    /// Ask the peer not to keep its context (server: `client_no_context_takeover` in the
    /// response; client: `server_no_context_takeover` in the offer). Lets us free the 43 KiB
    /// inflater between messages.
    pub request_peer_no_context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: true,
            compress: true,
            min_compress_len: 32,
            level: 6,
            no_context_takeover: false,
            request_peer_no_context_takeover: false,
        }
    }
}

/// Negotiated parameters (RFC 7692 §7.1), from the server's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server compresses with a window of at most 2^bits (8..=15).
    pub server_max_window_bits: u8,
    /// The client compresses with a window of at most 2^bits (8..=15).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Why a server's extension response is unacceptable to us (the client fails the connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionError {
    /// Header syntax error.
    Syntax,
    /// An extension we did not offer, or more than one.
    NotOffered,
    /// Unknown, repeated or malformed permessage-deflate parameter.
    BadParam,
    /// We asked for `server_no_context_takeover` and the server did not agree.
    MissingParam,
}

// ---------------------------------------------------------------------------------------------
// Header syntax: extension-list = 1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Splits at `sep` outside double quotes.
struct SplitTop<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> Iterator for SplitTop<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in s.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else if b == self.sep && !quoted {
                self.rest = Some(&s[i + 1..]);
                return Some(&s[..i]);
            }
        }
        self.rest = None;
        Some(s)
    }
}

fn split_top(s: &[u8], sep: u8) -> SplitTop<'_> {
    SplitTop { rest: Some(s), sep }
}

/// One extension of a `Sec-WebSocket-Extensions` list: its name and raw parameter list.
#[derive(Clone, Copy, Debug)]
pub struct Extension<'a> {
    /// Extension token.
    pub name: &'a [u8],
    params: &'a [u8],
}

type Param<'a> = (&'a [u8], Option<&'a [u8]>);

impl<'a> Extension<'a> {
    /// Parameters as (name, value); quoted values are unquoted (`Err` on bad syntax).
    pub fn params(&self) -> impl Iterator<Item = Result<Param<'a>, ExtensionError>> + 'a {
        let p = self.params;
        split_top(p, b';').filter(move |_| !p.is_empty()).map(|raw| {
            let (name, value) = match raw.iter().position(|&b| b == b'=') {
                Some(i) => (trim(&raw[..i]), Some(trim(&raw[i + 1..]))),
                None => (trim(raw), None),
            };
            if !is_token(name) {
                return Err(ExtensionError::Syntax);
            }
            let value = match value {
                None => None,
                Some([b'"', inner @ .., b'"']) if is_token(inner) => Some(inner),
                Some(v) if is_token(v) => Some(v),
                Some(_) => return Err(ExtensionError::Syntax),
            };
            Ok((name, value))
        })
    }
}

/// Iterates over the extensions of one header value (empty list elements are skipped).
pub fn parse_extensions(value: &[u8]) -> impl Iterator<Item = Result<Extension<'_>, ExtensionError>> {
    split_top(value, b',').filter(|e| !trim(e).is_empty()).map(|e| {
        let mut parts = split_top(e, b';');
        let name = trim(parts.next().unwrap_or(b""));
        if !is_token(name) {
            return Err(ExtensionError::Syntax);
        }
        let params = parts.rest.unwrap_or(b"");
        Ok(Extension { name, params })
    })
}

/// Parses "8".."15" exactly (RFC 7692 §7.1.2: no leading zeros, no sign).
fn window_bits(v: &[u8]) -> Option<u8> {
    let n = match v {
        [d @ b'8'..=b'9'] => d - b'0',
        [b'1', d @ b'0'..=b'5'] => 10 + (d - b'0'),
        _ => return None,
    };
    Some(n)
}

/// What a client's offer asks for, after validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the client supports the parameter without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn parse_params<'a>(ext: &Extension<'a>, response: bool) -> Result<Offer, ExtensionError> {
    let mut o = Offer::default();
    let mut seen = 0u8;
    for p in ext.params() {
        let (name, value) = p?;
        let bit = match name {
            b"server_no_context_takeover" => 1,
            b"client_no_context_takeover" => 2,
            b"server_max_window_bits" => 4,
            b"client_max_window_bits" => 8,
            _ => return Err(ExtensionError::BadParam),
        };
        if seen & bit != 0 {
            return Err(ExtensionError::BadParam);
        }
        seen |= bit;
        match (bit, value) {
            (1, None) => o.server_no_context_takeover = true,
            (2, None) => o.client_no_context_takeover = true,
            (4, Some(v)) => o.server_max_window_bits = Some(window_bits(v).ok_or(ExtensionError::BadParam)?),
            (8, None) if !response => o.client_max_window_bits = Some(None),
            (8, Some(v)) => o.client_max_window_bits = Some(Some(window_bits(v).ok_or(ExtensionError::BadParam)?)),
            _ => return Err(ExtensionError::BadParam),
        }
    }
    Ok(o)
}

/// Server side: picks the first acceptable permessage-deflate offer among the values of the
/// request's `Sec-WebSocket-Extensions` headers and appends the response value (without the
/// header name) to `response`. `None`: nothing acceptable, answer without the extension
/// (offers with unknown, repeated or malformed parameters are declined, RFC 7692 §5).
pub fn negotiate_server<'h, I>(cfg: &DeflateConfig, headers: I, response: &mut Vec<u8>) -> Option<DeflateParams>
where
    I: IntoIterator<Item = &'h [u8]>,
{
    if !cfg.enabled {
        return None;
    }
    let offer = headers
        .into_iter()
        .flat_map(parse_extensions)
        .filter_map(Result::ok)
        .filter(|e| e.name == EXTENSION_NAME.as_bytes())
        .find_map(|e| parse_params(&e, false).ok())?;
    let p = DeflateParams {
        server_no_context_takeover: offer.server_no_context_takeover || cfg.no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover || cfg.request_peer_no_context_takeover,
        server_max_window_bits: offer.server_max_window_bits.unwrap_or(15),
        // We never limit the client: our inflater always has the full window.
        client_max_window_bits: 15,
    };
    response.extend_from_slice(EXTENSION_NAME.as_bytes());
    if p.server_no_context_takeover {
        response.extend_from_slice(b"; server_no_context_takeover");
    }
    if p.client_no_context_takeover {
        response.extend_from_slice(b"; client_no_context_takeover");
    }
    if let Some(bits) = offer.server_max_window_bits {
        response.extend_from_slice(b"; server_max_window_bits=");
        push_bits(response, bits);
    }
    Some(p)
}

fn push_bits(out: &mut Vec<u8>, bits: u8) {
    if bits >= 10 {
        out.push(b'1');
    }
    out.push(b'0' + bits % 10);
}

/// Client side: appends our offer (the value of `Sec-WebSocket-Extensions`) to `out`.
pub fn client_offer(cfg: &DeflateConfig, out: &mut Vec<u8>) {
    out.extend_from_slice(EXTENSION_NAME.as_bytes());
    // We can honour any limit the server puts on our window (run-length matches below 15).
    out.extend_from_slice(b"; client_max_window_bits");
    if cfg.no_context_takeover {
        out.extend_from_slice(b"; client_no_context_takeover");
    }
    if cfg.request_peer_no_context_takeover {
        out.extend_from_slice(b"; server_no_context_takeover");
    }
}

/// Client side: checks the server's `Sec-WebSocket-Extensions` values against the offer made by
/// [`client_offer`] with the same `cfg`. `Ok(None)`: the server declined.
pub fn accept_response<'h, I>(cfg: &DeflateConfig, headers: I) -> Result<Option<DeflateParams>, ExtensionError>
where
    I: IntoIterator<Item = &'h [u8]>,
{
    let mut found: Option<DeflateParams> = None;
    for h in headers {
        for e in parse_extensions(h) {
            let e = e?;
            if !cfg.enabled || e.name != EXTENSION_NAME.as_bytes() || found.is_some() {
                return Err(ExtensionError::NotOffered);
            }
            let o = parse_params(&e, true)?;
            if cfg.request_peer_no_context_takeover && !o.server_no_context_takeover {
                return Err(ExtensionError::MissingParam);
            }
            found = Some(DeflateParams {
                server_no_context_takeover: o.server_no_context_takeover,
                client_no_context_takeover: o.client_no_context_takeover || cfg.no_context_takeover,
                server_max_window_bits: o.server_max_window_bits.unwrap_or(15),
                client_max_window_bits: o.client_max_window_bits.flatten().unwrap_or(15),
            });
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// The codec

/// Why decompression stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// Output would exceed the cap (1009).
    TooBig,
    /// Corrupt deflate data (1007).
    Data,
}

/// Per-connection deflate state, from our side's point of view.
pub(crate) struct Codec {
    compress: bool,
    min_len: usize,
    flags: u32,
    own_no_takeover: bool,
    peer_no_takeover: bool,
    deflater: Option<Box<CompressorOxide>>,
    inflater: Option<Box<InflateState>>,
    /// The current incoming message's stream ended with a final block.
    stream_ended: bool,
}

impl Codec {
    pub(crate) fn new(cfg: &DeflateConfig, params: &DeflateParams, is_server: bool) -> Codec {
        let (own_bits, own_nt, peer_nt) = if is_server {
            (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            )
        } else {
            (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            )
        };
        let strategy = if own_bits < 15 {
            CompressionStrategy::RLE
        } else {
            CompressionStrategy::Default
        };
        let level = i32::from(cfg.level.clamp(1, 10));
        Codec {
            compress: cfg.compress,
            min_len: cfg.min_compress_len,
            flags: create_comp_flags_from_zip_params(level, -15, strategy as i32),
            own_no_takeover: own_nt,
            peer_no_takeover: peer_nt,
            deflater: None,
            inflater: None,
            stream_ended: false,
        }
    }

    pub(crate) fn should_compress(&self, len: usize) -> bool {
        self.compress && len >= self.min_len
    }

    /// Appends the compressed form of one whole message (sync-flushed, tail stripped).
    pub(crate) fn compress(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        let flags = self.flags;
        let c = self
            .deflater
            .get_or_insert_with(|| Box::new(CompressorOxide::new(flags)));
        let start = out.len();
        loop {
            let at = out.len();
            // Stored blocks cost 5 bytes per 64 KiB; this room is enough for one pass.
            let room = input.len() + input.len() / 64 + 64;
            out.resize(at + room, 0);
            let r = miniz_oxide::deflate::stream::deflate(c, input, &mut out[at..], MZFlush::Sync);
            out.truncate(at + r.bytes_written);
            input = &input[r.bytes_consumed..];
            let progress = r.bytes_written != 0 || r.bytes_consumed != 0;
            if r.status.is_err() || !progress || (input.is_empty() && r.bytes_written < room) {
                break;
            }
        }
        if out.len() >= start + 4 && out[out.len() - 4..] == TAIL {
            out.truncate(out.len() - 4);
        }
        if out.len() == start {
            // RFC 7692 §7.2.3.6: an empty block.
            out.push(0x00);
        }
        if self.own_no_takeover {
            self.deflater = None;
        }
    }

    /// Decompresses one piece of a compressed message's payload, appending to `out` without
    /// letting it grow beyond `cap`.
    pub(crate) fn inflate(&mut self, mut input: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<(), InflateError> {
        const STEP: usize = 16 * 1024;
        let st = self
            .inflater
            .get_or_insert_with(|| InflateState::new_boxed(DataFormat::Raw));
        loop {
            let at = out.len();
            let mut probe = [0u8; 1];
            let room = (cap - at.min(cap)).min(STEP);
            let r = if room == 0 {
                // At the cap: any further output byte means the message is too big.
                let r = miniz_oxide::inflate::stream::inflate(st, input, &mut probe, MZFlush::None);
                if r.bytes_written != 0 {
                    return Err(InflateError::TooBig);
                }
                r
            } else {
                super::reserve_bounded(out, at + room, cap);
                out.resize(at + room, 0);
                let r = miniz_oxide::inflate::stream::inflate(st, input, &mut out[at..], MZFlush::None);
                out.truncate(at + r.bytes_written);
                r
            };
            input = &input[r.bytes_consumed..];
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.stream_ended = true;
                    return Ok(());
                }
                Ok(_) => {}
                // No input left and nothing pending.
                Err(MZError::Buf) => return Ok(()),
                Err(_) => return Err(InflateError::Data),
            }
            let filled = room != 0 && r.bytes_written == room;
            if (input.is_empty() && !filled) || (r.bytes_consumed == 0 && r.bytes_written == 0) {
                return Ok(());
            }
        }
    }

    /// Ends an incoming compressed message: feeds the stripped tail, resets as negotiated.
    pub(crate) fn finish_inflate(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<(), InflateError> {
        let r = if self.stream_ended {
            Ok(())
        } else {
            self.inflate(&TAIL, out, cap)
        };
        if self.peer_no_takeover || self.stream_ended || r.is_err() {
            self.inflater = None;
        }
        self.stream_ended = false;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::alloc;
    use alloc::vec;

    fn params(cfg: &DeflateConfig, offer: &str) -> (Option<DeflateParams>, Vec<u8>) {
        let mut resp = Vec::new();
        let p = negotiate_server(cfg, [offer.as_bytes()], &mut resp);
        (p, resp)
    }

    #[test]
    fn server_negotiation() {
        let cfg = DeflateConfig::default();
        let (p, r) = params(&cfg, "permessage-deflate; client_max_window_bits");
        assert_eq!(p, Some(DeflateParams::default()));
        assert_eq!(r, b"permessage-deflate");
        let (p, r) = params(&cfg, "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10; client_no_context_takeover; server_no_context_takeover");
        let p = p.unwrap();
        assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        assert_eq!(p.server_max_window_bits, 10);
        assert_eq!(
            r,
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        );
        // Quoted value, odd whitespace.
        let (p, _) = params(&cfg, "permessage-deflate ;server_max_window_bits = \"9\"");
        assert_eq!(p.unwrap().server_max_window_bits, 9);
        // Bad offers are declined; the next acceptable one wins.
        for bad in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=1x",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; foo",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; =",
            "foo",
            "",
        ] {
            assert_eq!(params(&cfg, bad).0, None, "{bad}");
            let both = alloc::format!("{bad}, permessage-deflate; server_max_window_bits=12");
            assert_eq!(
                params(&cfg, &both).0.map(|p| p.server_max_window_bits),
                Some(12),
                "{both}"
            );
        }
        let off = DeflateConfig { enabled: false, ..cfg };
        assert_eq!(params(&off, "permessage-deflate").0, None);
        let ours = DeflateConfig {
            no_context_takeover: true,
            request_peer_no_context_takeover: true,
            ..cfg
        };
        let (p, r) = params(&ours, "permessage-deflate");
        assert!(p.unwrap().server_no_context_takeover && p.unwrap().client_no_context_takeover);
        assert_eq!(
            r,
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
    }

    #[test]
    fn client_negotiation() {
        let cfg = DeflateConfig::default();
        let mut offer = Vec::new();
        client_offer(&cfg, &mut offer);
        assert_eq!(offer, b"permessage-deflate; client_max_window_bits");
        let ok = |h: &str| accept_response(&cfg, [h.as_bytes()]);
        assert_eq!(ok("permessage-deflate"), Ok(Some(DeflateParams::default())));
        assert_eq!(
            ok("permessage-deflate; client_max_window_bits=9; server_no_context_takeover")
                .unwrap()
                .unwrap(),
            DeflateParams {
                client_max_window_bits: 9,
                server_no_context_takeover: true,
                ..Default::default()
            }
        );
        assert_eq!(accept_response(&cfg, core::iter::empty()), Ok(None));
        assert_eq!(
            ok("permessage-deflate; client_max_window_bits"),
            Err(ExtensionError::BadParam)
        );
        assert_eq!(
            ok("permessage-deflate, permessage-deflate"),
            Err(ExtensionError::NotOffered)
        );
        assert_eq!(ok("x-foo"), Err(ExtensionError::NotOffered));
        assert_eq!(ok("permessage-deflate; bar"), Err(ExtensionError::BadParam));
        let strict = DeflateConfig {
            request_peer_no_context_takeover: true,
            ..cfg
        };
        assert_eq!(
            accept_response(&strict, [&b"permessage-deflate"[..]]),
            Err(ExtensionError::MissingParam)
        );
        let off = DeflateConfig { enabled: false, ..cfg };
        assert_eq!(
            accept_response(&off, [&b"permessage-deflate"[..]]),
            Err(ExtensionError::NotOffered)
        );
    }

    fn roundtrip(window: u8, nt: bool, msgs: &[&[u8]]) {
        let cfg = DeflateConfig {
            min_compress_len: 0,
            ..Default::default()
        };
        let p = DeflateParams {
            server_max_window_bits: window,
            server_no_context_takeover: nt,
            client_no_context_takeover: nt,
            ..Default::default()
        };
        let mut tx = Codec::new(&cfg, &p, true);
        let mut rx = Codec::new(&cfg, &p, false);
        for m in msgs {
            let mut z = Vec::new();
            tx.compress(m, &mut z);
            let mut out = Vec::new();
            // Fed in small pieces.
            for piece in z.chunks(7) {
                rx.inflate(piece, &mut out, m.len()).unwrap();
            }
            rx.finish_inflate(&mut out, m.len()).unwrap();
            assert_eq!(&out[..], *m);
        }
    }

    #[test]
    fn codec_roundtrip() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        let msgs: [&[u8]; 4] = [b"Hello", b"Hello", &big, b""];
        for w in [8, 9, 12, 15] {
            roundtrip(w, false, &msgs);
            roundtrip(w, true, &msgs);
        }
    }

    // RFC 7692 §7.2.3.1/§7.2.3.2: "Hello" compressed, twice with context takeover.
    #[test]
    fn rfc7692_examples() {
        let cfg = DeflateConfig::default();
        let p = DeflateParams::default();
        let mut rx = Codec::new(&cfg, &p, true);
        let mut out = Vec::new();
        rx.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        rx.finish_inflate(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        // Second message refers back to the first one.
        let mut out = Vec::new();
        rx.inflate(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 100).unwrap();
        rx.finish_inflate(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.3: a stored block ("Hello" uncompressed in DEFLATE).
        let mut rx = Codec::new(&cfg, &p, true);
        let mut out = Vec::new();
        rx.inflate(
            &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00],
            &mut out,
            100,
        )
        .unwrap();
        rx.finish_inflate(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        // Our encoder gives the RFC's bytes for the first "Hello", and for the second with context.
        let mut tx = Codec::new(
            &DeflateConfig {
                min_compress_len: 0,
                ..cfg
            },
            &p,
            true,
        );
        let mut z = Vec::new();
        tx.compress(b"Hello", &mut z);
        assert_eq!(z, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    }

    #[test]
    fn bomb_is_capped() {
        let cfg = DeflateConfig {
            min_compress_len: 0,
            ..Default::default()
        };
        let p = DeflateParams::default();
        let zeros = vec![0u8; 4 << 20];
        let mut z = Vec::new();
        Codec::new(&cfg, &p, false).compress(&zeros, &mut z);
        assert!(z.len() < 8 << 10, "{}", z.len());
        let mut rx = Codec::new(&cfg, &p, true);
        let mut out = Vec::new();
        let cap = 64 << 10;
        let r = rx.inflate(&z, &mut out, cap);
        assert_eq!(r, Err(InflateError::TooBig));
        assert_eq!(out.len(), cap);
        assert!(out.capacity() <= cap, "{}", out.capacity());
        // Exactly at the cap is fine.
        let mut rx = Codec::new(&cfg, &p, true);
        let mut out = Vec::new();
        rx.inflate(&z, &mut out, zeros.len()).unwrap();
        rx.finish_inflate(&mut out, zeros.len()).unwrap();
        assert_eq!(out.len(), zeros.len());
    }

    #[test]
    fn corrupt_data() {
        let mut rx = Codec::new(&DeflateConfig::default(), &DeflateParams::default(), true);
        let mut out = Vec::new();
        let r = rx.inflate(&[0xff, 0xff, 0xff, 0xff], &mut out, 100);
        assert_eq!(r, Err(InflateError::Data));
    }
}
