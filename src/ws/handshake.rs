//! The opening handshake (RFC 6455 §4) as plain functions over already-parsed HTTP data.
//!
//! The HTTP framers (`crate::http`) parse the request or response head; these functions take
//! its method, version and `(name, value)` header pairs, so they do not depend on any HTTP
//! parser type. Header iterators must be `Clone` because a few checks look at the list again.
//!
//! Server: [`validate_request`] → `Ok(`[`Upgrade`]`)` or a [`Reject`] (400, or 426 with
//! `Sec-WebSocket-Version: 13`) that [`Reject::write_response`] renders; then
//! [`select_protocol`], `deflate::negotiate_server` and [`write_accept`].
//! Client: [`client_key`] from 16 caller-supplied random bytes, [`write_request`], then
//! [`validate_response`] on the answer.
//!
//! SHA-1 is RustCrypto's `sha1` and base64 the `base64` crate, both without default features
//! (no_std, no alloc): well-kept, widely used, and the accept key is their only use here.

use super::alloc::vec::Vec;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID of RFC 6455 §1.3.
pub const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (as sent, base64 text).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    let digest = h.finalize();
    let mut out = [0u8; 28];
    // 20 bytes always encode to exactly 28 characters.
    let _ = B64.encode_slice(digest, &mut out);
    out
}

/// A client's `Sec-WebSocket-Key` from 16 random bytes (the caller's entropy source).
pub fn client_key(random: [u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let _ = B64.encode_slice(random, &mut out);
    out
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether the comma-separated list `value` contains `token` (ASCII case-insensitive).
pub fn list_contains(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| trim(t).eq_ignore_ascii_case(token))
}

fn values<'h, I>(headers: I, name: &'static [u8]) -> impl Iterator<Item = &'h [u8]>
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])>,
{
    headers
        .into_iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Why an upgrade request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Not a WebSocket upgrade: not `GET`, not HTTP/1.1 or later, no `Upgrade: websocket` or
    /// no `Connection: upgrade` (400).
    NotUpgrade,
    /// `Sec-WebSocket-Version` missing or not 13 (426 with `Sec-WebSocket-Version: 13`).
    Version,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 of 16 bytes (400).
    Key,
}

impl Reject {
    /// HTTP status to answer with.
    pub const fn status(&self) -> u16 {
        match self {
            Reject::Version => 426,
            _ => 400,
        }
    }

    /// Appends a complete response (empty body, `Connection: close`).
    pub fn write_response(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self {
            Reject::Version => {
                &b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                   Content-Length: 0\r\nConnection: close\r\n\r\n"[..]
            }
            _ => b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        });
    }
}

/// An acceptable upgrade request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upgrade {
    /// The `Sec-WebSocket-Accept` value to answer with.
    pub accept: [u8; 28],
}

/// Checks a server-side upgrade request (RFC 6455 §4.2.1). `http_minor` is the `x` of
/// `HTTP/1.x` (HTTP/1.0 cannot upgrade).
pub fn validate_request<'h, I>(method: &[u8], http_minor: u8, headers: I) -> Result<Upgrade, Reject>
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])> + Clone,
{
    if method != b"GET" || http_minor < 1 {
        return Err(Reject::NotUpgrade);
    }
    if !values(headers.clone(), b"upgrade").any(|v| list_contains(v, b"websocket")) {
        return Err(Reject::NotUpgrade);
    }
    if !values(headers.clone(), b"connection").any(|v| list_contains(v, b"upgrade")) {
        return Err(Reject::NotUpgrade);
    }
    let mut version = values(headers.clone(), b"sec-websocket-version");
    match (version.next(), version.next()) {
        (Some(v), None) if trim(v) == b"13" => {}
        _ => return Err(Reject::Version),
    }
    let mut keys = values(headers, b"sec-websocket-key");
    let key = match (keys.next(), keys.next()) {
        (Some(k), None) => trim(k),
        _ => return Err(Reject::Key),
    };
    let mut raw = [0u8; 24];
    match B64.decode_slice(key, &mut raw) {
        Ok(16) if key.len() == 24 => Ok(Upgrade {
            accept: accept_key(key),
        }),
        _ => Err(Reject::Key),
    }
}

/// Subprotocol selection: the first of `supported` (the server's preference order) that the
/// client listed in any `Sec-WebSocket-Protocol` header. Names compare case-sensitively
/// (RFC 6455 §4.1: they are tokens registered as given).
pub fn select_protocol<'h, 's, I>(headers: I, supported: &[&'s [u8]]) -> Option<&'s [u8]>
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])> + Clone,
{
    supported.iter().copied().find(|want| {
        values(headers.clone(), b"sec-websocket-protocol").any(|v| v.split(|&b| b == b',').any(|t| trim(t) == *want))
    })
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends the 101 response head. `extra_headers` are whole header lines in the form
/// `Name: value\r\n` (Mongoose's `mg_ws_upgrade` format argument); a missing final CRLF is
/// added.
pub fn write_accept(
    out: &mut Vec<u8>,
    upgrade: &Upgrade,
    protocol: Option<&[u8]>,
    extensions: Option<&[u8]>,
    extra_headers: &[u8],
) {
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    push_header(out, b"Sec-WebSocket-Accept", &upgrade.accept);
    if let Some(p) = protocol {
        push_header(out, b"Sec-WebSocket-Protocol", p);
    }
    if let Some(e) = extensions {
        push_header(out, b"Sec-WebSocket-Extensions", e);
    }
    out.extend_from_slice(extra_headers);
    if !extra_headers.is_empty() && !extra_headers.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a client's upgrade request. `protocols` is the `Sec-WebSocket-Protocol` value
/// (comma-separated), `extensions` the `Sec-WebSocket-Extensions` value (see
/// `deflate::client_offer`), `extra_headers` as in [`write_accept`].
pub fn write_request(
    out: &mut Vec<u8>,
    host: &[u8],
    path: &[u8],
    key: &[u8; 24],
    protocols: Option<&[u8]>,
    extensions: Option<&[u8]>,
    extra_headers: &[u8],
) {
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(if path.is_empty() { b"/" } else { path });
    out.extend_from_slice(b" HTTP/1.1\r\n");
    push_header(out, b"Host", host);
    out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
    push_header(out, b"Sec-WebSocket-Key", key);
    out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
    if let Some(p) = protocols {
        push_header(out, b"Sec-WebSocket-Protocol", p);
    }
    if let Some(e) = extensions {
        push_header(out, b"Sec-WebSocket-Extensions", e);
    }
    out.extend_from_slice(extra_headers);
    if !extra_headers.is_empty() && !extra_headers.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Why a client refuses the server's handshake response (it must fail the connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// Status other than 101.
    Status(u16),
    /// No `Upgrade: websocket` or no `Connection: upgrade`.
    NotUpgrade,
    /// `Sec-WebSocket-Accept` missing, repeated or wrong.
    Accept,
    /// A subprotocol we did not offer, or several.
    Protocol,
    /// An extension we did not offer, or bad permessage-deflate parameters.
    Extension,
}

/// What the server agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted<'h> {
    /// The selected subprotocol, if any.
    pub protocol: Option<&'h [u8]>,
    /// Negotiated permessage-deflate parameters, if any.
    #[cfg(feature = "ws-deflate")]
    pub deflate: Option<super::deflate::DeflateParams>,
}

/// Checks the server's response (RFC 6455 §4.1, RFC 7692 §5). `offered_protocols` are the
/// subprotocols we sent; `deflate` the config our extension offer was made with (`None`: we
/// offered no extension).
pub fn validate_response<'h, I>(
    status: u16,
    headers: I,
    key: &[u8; 24],
    offered_protocols: &[&[u8]],
    #[cfg(feature = "ws-deflate")] deflate: Option<&super::deflate::DeflateConfig>,
) -> Result<Accepted<'h>, ClientError>
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])> + Clone,
{
    if status != 101 {
        return Err(ClientError::Status(status));
    }
    if !values(headers.clone(), b"upgrade").any(|v| list_contains(v, b"websocket"))
        || !values(headers.clone(), b"connection").any(|v| list_contains(v, b"upgrade"))
    {
        return Err(ClientError::NotUpgrade);
    }
    let mut acc = values(headers.clone(), b"sec-websocket-accept");
    match (acc.next(), acc.next()) {
        (Some(a), None) if trim(a) == accept_key(key) => {}
        _ => return Err(ClientError::Accept),
    }
    let mut protos = values(headers.clone(), b"sec-websocket-protocol");
    let protocol = match (protos.next(), protos.next()) {
        (None, _) => None,
        (Some(p), None) if offered_protocols.contains(&trim(p)) => Some(trim(p)),
        _ => return Err(ClientError::Protocol),
    };
    let exts = values(headers, b"sec-websocket-extensions");
    #[cfg(feature = "ws-deflate")]
    {
        let off = super::deflate::DeflateConfig {
            enabled: false,
            ..Default::default()
        };
        let deflate =
            super::deflate::accept_response(deflate.unwrap_or(&off), exts).map_err(|_| ClientError::Extension)?;
        Ok(Accepted { protocol, deflate })
    }
    #[cfg(not(feature = "ws-deflate"))]
    {
        let mut exts = exts;
        if exts.any(|v| !trim(v).is_empty()) {
            return Err(ClientError::Extension);
        }
        Ok(Accepted { protocol })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::alloc;

    type H<'a> = [(&'a [u8], &'a [u8])];

    fn good() -> alloc::vec::Vec<(&'static [u8], &'static [u8])> {
        alloc::vec![
            (&b"Host"[..], &b"server.example.com"[..]),
            (b"upgrade", b"WebSocket"),
            (b"Connection", b"keep-alive, Upgrade"),
            (b"Sec-WebSocket-Key", b" dGhlIHNhbXBsZSBub25jZQ== "),
            (b"Sec-WebSocket-Version", b"13"),
            (b"Sec-WebSocket-Protocol", b"chat, superchat"),
        ]
    }

    fn check(h: &H<'_>) -> Result<Upgrade, Reject> {
        validate_request(b"GET", 1, h.iter().copied())
    }

    #[test]
    fn rfc_accept_key() {
        // RFC 6455 §1.3 and §4.2.2. (The value "s3pPLMBiTxaQ9kYGzzzo+xK0XOo=" sometimes quoted is
        // not what SHA-1 gives; python3 hashlib agrees with the RFC.)
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(&client_key(*b"the sample nonce"), b"dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn server_validation() {
        let h = good();
        let up = check(&h).unwrap();
        assert_eq!(&up.accept, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(validate_request(b"POST", 1, h.iter().copied()), Err(Reject::NotUpgrade));
        assert_eq!(validate_request(b"GET", 0, h.iter().copied()), Err(Reject::NotUpgrade));
        let without = |name: &[u8]| -> alloc::vec::Vec<_> { h.iter().copied().filter(|(n, _)| *n != name).collect() };
        let with = |name: &'static [u8], v: &'static [u8]| -> alloc::vec::Vec<_> {
            let mut x = without(name);
            x.push((name, v));
            x
        };
        assert_eq!(check(&without(b"upgrade")), Err(Reject::NotUpgrade));
        assert_eq!(check(&with(b"upgrade", b"h2c")), Err(Reject::NotUpgrade));
        assert_eq!(check(&without(b"Connection")), Err(Reject::NotUpgrade));
        assert_eq!(check(&with(b"Connection", b"keep-alive")), Err(Reject::NotUpgrade));
        assert_eq!(check(&without(b"Sec-WebSocket-Version")), Err(Reject::Version));
        assert_eq!(check(&with(b"Sec-WebSocket-Version", b"8")), Err(Reject::Version));
        assert_eq!(check(&without(b"Sec-WebSocket-Key")), Err(Reject::Key));
        for bad in [
            &b"abc"[..],
            b"dGhlIHNhbXBsZSBub25jZQ=",
            b"dGhlIHNhbXBsZSBub25jZR==",
            b"dGhlIHNhbXBsZSBub25jZQ",
            b"!GhlIHNhbXBsZSBub25jZQ==",
            b"dGhlIHNhbXBsZSBub25jZXh4eA==",
        ] {
            assert_eq!(check(&with(b"Sec-WebSocket-Key", bad)), Err(Reject::Key), "{bad:?}");
        }
        let mut twice = good();
        twice.push((b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(check(&twice), Err(Reject::Key));

        let mut out = Vec::new();
        Reject::Version.write_response(&mut out);
        assert!(out.starts_with(b"HTTP/1.1 426 "));
        assert!(out.windows(25).any(|w| w == b"Sec-WebSocket-Version: 13"));
        assert_eq!(Reject::Key.status(), 400);
    }

    #[test]
    fn protocols_and_response() {
        let h = good();
        assert_eq!(
            select_protocol(h.iter().copied(), &[b"superchat", b"chat"]),
            Some(&b"superchat"[..])
        );
        assert_eq!(select_protocol(h.iter().copied(), &[b"mqtt"]), None);
        assert_eq!(select_protocol(h.iter().copied(), &[b"Chat"]), None);
        let up = check(&h).unwrap();
        let mut out = Vec::new();
        write_accept(&mut out, &up, Some(b"chat"), Some(b"permessage-deflate"), b"X-A: 1");
        assert_eq!(
            core::str::from_utf8(&out).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate\r\nX-A: 1\r\n\r\n"
        );
    }

    #[test]
    fn client_side() {
        let key = client_key(*b"the sample nonce");
        let mut req = Vec::new();
        write_request(&mut req, b"h:1", b"", &key, Some(b"chat"), None, b"");
        assert_eq!(
            core::str::from_utf8(&req).unwrap(),
            "GET / HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: chat\r\n\r\n"
        );
        let base: [(&[u8], &[u8]); 3] = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ];
        let v = |extra: &[(&'static [u8], &'static [u8])], status: u16| {
            let mut h: alloc::vec::Vec<(&[u8], &[u8])> = base.to_vec();
            h.extend_from_slice(extra);
            #[cfg(feature = "ws-deflate")]
            let cfg = super::super::deflate::DeflateConfig::default();
            validate_response(
                status,
                h.iter().copied(),
                &key,
                &[b"chat"],
                #[cfg(feature = "ws-deflate")]
                Some(&cfg),
            )
            .map(|a| a.protocol)
        };
        assert_eq!(v(&[], 101), Ok(None));
        assert_eq!(v(&[], 200), Err(ClientError::Status(200)));
        assert_eq!(v(&[(b"Sec-WebSocket-Protocol", b"chat")], 101), Ok(Some(&b"chat"[..])));
        assert_eq!(
            v(&[(b"Sec-WebSocket-Protocol", b"mqtt")], 101),
            Err(ClientError::Protocol)
        );
        assert_eq!(v(&[(b"Sec-WebSocket-Accept", b"x")], 101), Err(ClientError::Accept));
        assert_eq!(
            v(&[(b"Sec-WebSocket-Extensions", b"x-foo")], 101),
            Err(ClientError::Extension)
        );
        #[cfg(feature = "ws-deflate")]
        assert_eq!(
            v(&[(b"Sec-WebSocket-Extensions", b"permessage-deflate")], 101),
            Ok(None)
        );
        let mut bad = base;
        bad[0].1 = b"h2c";
        assert_eq!(
            validate_response(
                101,
                bad.iter().copied(),
                &key,
                &[],
                #[cfg(feature = "ws-deflate")]
                None
            ),
            Err(ClientError::NotUpgrade)
        );
    }
}
