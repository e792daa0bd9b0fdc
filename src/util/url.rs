//! URL parsing: the endpoint parser behind `mg_listen`/`mg_connect`, the Mongoose `mg_url_*`
//! helpers, and URL encoding.
//!
//! Everything here is a total function over bytes: no input makes it panic, and no input makes
//! it allocate.

use crate::util::str::EqCi;
use core::ops::Range;

use crate::error::Error;

/// The transport a URL scheme selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// What `mg_listen` / `mg_connect` need from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint<'a> {
    pub transport: Transport,
    /// The scheme asks for TLS (`https`, `wss`, `tls`, `ssl`, `mqtts`).
    pub tls: bool,
    /// The scheme as written in the URL (without `://`).
    pub scheme: &'a str,
    /// host without IPv6 brackets, may be empty
    pub host: &'a str,
    /// port from the URL or the scheme's default; 0 when neither
    pub port: u16,
    /// The URL had an explicit `:port`.
    pub port_given: bool,
}

/// The scheme names `parse_endpoint` accepts, one after the other in one literal (alone,
/// `"http"` and `"mqtt"` would be 4-byte literals, which LLVM puts with every other 4-byte
/// constant of the library into one `.rodata.cst4` that GNU ld keeps whole when one piece is
/// used, scripts/merge_pools.py).
const NAMES: &[u8] = b"tcpudphttpwshttpswsstlssslmqttmqtts";

/// Each scheme: (end of its name in [`NAMES`], where the previous one ends; transport; TLS;
/// default port). 6 bytes an entry where a `&[u8]` name made 24.
const SCHEMES: [(u8, Transport, bool, u16); 10] = [
    (3, Transport::Tcp, false, 0),     // tcp
    (6, Transport::Udp, false, 0),     // udp
    (10, Transport::Tcp, false, 80),   // http
    (12, Transport::Tcp, false, 80),   // ws
    (17, Transport::Tcp, true, 443),   // https
    (20, Transport::Tcp, true, 443),   // wss
    (23, Transport::Tcp, true, 0),     // tls
    (26, Transport::Tcp, true, 0),     // ssl
    (30, Transport::Tcp, false, 1883), // mqtt
    (35, Transport::Tcp, true, 8883),  // mqtts
];

/// The entry of `scheme` (any case) in [`SCHEMES`]: (transport, TLS, default port).
fn scheme_entry(scheme: &[u8]) -> Option<(Transport, bool, u16)> {
    let mut at = 0;
    for &(end, transport, tls, port) in &SCHEMES {
        let end = usize::from(end);
        if NAMES.get(at..end).unwrap_or_default().eq_ci(scheme) {
            return Some((transport, tls, port));
        }
        at = end;
    }
    None
}

/// Parse a Mongoose-style URL for `mg_listen` / `mg_connect`.
///
/// Accepted schemes (case-insensitive): `tcp`, `udp`, `http`, `ws`, `https`, `wss`, `tls`,
/// `ssl`, `mqtt`, `mqtts`; `tls` is true for `https`, `wss`, `tls`, `ssl`, `mqtts`.
/// Forms: `tcp://0.0.0.0:1234`, `tcp://[::1]:1234`, `http://localhost:8000/path`,
/// `udp://127.0.0.1:53`, `http://user:pass@host:80/x`. An empty host (`tcp://:1234`) is not an
/// error: for a listener it means "any address"; the caller decides whether it needs a host.
///
/// Errors:
/// - `Error::Url`: no `://`, unknown scheme, unbalanced or misplaced IPv6 brackets, empty
///   brackets, a host with characters that cannot be in a host name or address (space,
///   control bytes, non-ASCII, `[`, `]`, `@`, `\`, ...).
/// - `Error::Port`: a `:` with nothing after it, a port that is not all digits, or a port
///   over 65535. `:0` is accepted (`port_given` true, `port` 0).
pub fn parse_endpoint(url: &str) -> Result<Endpoint<'_>, Error> {
    let b = url.as_bytes();
    let sep = crate::util::str::find(b, b"://").ok_or(Error::Url)?;
    // `sep` is where the ASCII `://` starts, hence a char boundary: `get` never fails here,
    // and unlike `&url[..sep]` it links no panic path (whose message formatting, with char
    // escaping and Unicode tables, is about 4 KB of flash).
    let scheme = url.get(..sep).ok_or(Error::Url)?;
    let (transport, tls, default_port) = scheme_entry(scheme.as_bytes()).ok_or(Error::Url)?;
    // The authority: after `://`, up to the first `/`, `?` or `#`; the host (and port) after
    // its last `@`. What `parse` finds, read here alone: this is all `mg_listen` and
    // `mg_connect` need, in a third of `parse`'s code.
    let start = sep + 3;
    let auth = b.get(start..).unwrap_or_default();
    let auth = &auth[..auth
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(auth.len())];
    let at = auth.iter().rposition(|&c| c == b'@').map_or(0, |i| i + 1);
    let hp = &auth[at..];
    // The host (a range of `hp`) and what follows it: nothing or `:port`.
    let (host, rest) = if let [b'[', tail @ ..] = hp {
        let close = tail.iter().position(|&c| c == b']').ok_or(Error::Url)?;
        let inner = &tail[..close];
        if inner.is_empty() || !host_ok(inner, true) {
            return Err(Error::Url);
        }
        (1..close + 1, &tail[close + 1..])
    } else {
        let end = hp.iter().position(|&c| c == b':').unwrap_or(hp.len());
        // No bracket anywhere: the host part has none when `host_ok` holds, so this looks
        // at the `:port` part.
        if !host_ok(&hp[..end], false) || hp.iter().any(|&c| c == b'[' || c == b']') {
            return Err(Error::Url);
        }
        (0..end, &hp[end..])
    };
    let (port, port_given) = match rest.split_first() {
        None => (default_port, false),
        Some((b':', digits)) => (parse_port(digits).ok_or(Error::Port)?, true),
        // Text between `]` and `:port`.
        Some(_) => return Err(Error::Url),
    };
    let host = start + at + host.start..start + at + host.end;
    Ok(Endpoint {
        transport,
        tls,
        scheme,
        // `host` is a range of ASCII bytes (checked above), hence on char boundaries.
        host: url.get(host).ok_or(Error::Url)?,
        port,
        port_given,
    })
}

/// Every byte of `s` may be in a host: ASCII letters and digits, `.`, `-`, `_`, `%` (a
/// percent-encoded name, an IPv6 zone id), and `~` in an unbracketed host (a DNS name or an
/// IPv4 address) or `:` inside `[...]` (IPv6 groups, `fe80::1%eth0`). Anything else (space,
/// controls, non-ASCII, delimiters) is junk. One loop for both forms.
#[inline(never)]
fn host_ok(s: &[u8], bracketed: bool) -> bool {
    let extra = if bracketed { b':' } else { b'~' };
    s.iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'%') || c == extra)
}

/// A byte that may appear in an unbracketed host (the oracle's test, as it was written).
#[cfg(test)]
fn is_host_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'~' | b'%')
}

/// A byte that may appear inside `[...]` (the oracle's test, as it was written).
#[cfg(test)]
fn is_ip6_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'%' | b'-' | b'_')
}

/// A port: 1 to 5 ASCII digits, value at most 65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut v = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(d - b'0');
    }
    u16::try_from(v).ok()
}

/// The pieces of a URL, as byte ranges into it. Produced by [`parse`] for any input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlParts {
    /// Scheme without `://`; empty when the URL has no `://`.
    pub scheme: Range<usize>,
    /// User name from `user[:pass]@`; empty when absent.
    pub user: Range<usize>,
    /// Password from `user:pass@`; empty when absent.
    pub pass: Range<usize>,
    /// Host as written, IPv6 brackets included (as Mongoose's `mg_url_host` returns it).
    pub host: Range<usize>,
    /// The host is a `[...]` literal (then `host` starts with `[` and ends with `]`).
    pub bracketed: bool,
    /// The authority has an unclosed `[`, text between `]` and `:port`, or a stray `]`.
    pub bad_brackets: bool,
    /// Text after the host's `:`, when there is one (may be empty or not digits).
    pub port: Option<Range<usize>>,
    /// Start of the path, query or fragment (at `/`, `?` or `#`); `len` when absent.
    pub rest: usize,
}

/// Split a URL into ranges. Never fails and never panics: missing parts are empty ranges.
///
/// Grammar (lenient, as Mongoose's helpers are): `[scheme "://"] [user [":" pass] "@"]
/// host [":" port] [("/" | "?" | "#") rest]`. The authority ends at the first `/`, `?` or
/// `#` after the scheme; the user info ends at the authority's last `@`; the host is `[...]`
/// or runs up to the first `:`.
pub fn parse(url: &[u8]) -> UrlParts {
    let mut p = UrlParts::default();
    let auth_start = match crate::util::str::find(url, b"://") {
        Some(i) => {
            p.scheme = 0..i;
            i + 3
        }
        None => 0,
    };
    let auth_end = url[auth_start..]
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .map_or(url.len(), |i| auth_start + i);
    p.rest = auth_end;
    p.user = auth_start..auth_start;
    p.pass = auth_start..auth_start;

    let mut host_start = auth_start;
    if let Some(at) = url[auth_start..auth_end].iter().rposition(|&c| c == b'@') {
        let at = auth_start + at;
        match url[auth_start..at].iter().position(|&c| c == b':') {
            Some(colon) => {
                p.user = auth_start..auth_start + colon;
                p.pass = auth_start + colon + 1..at;
            }
            None => {
                p.user = auth_start..at;
                p.pass = at..at;
            }
        }
        host_start = at + 1;
    }

    let hp = &url[host_start..auth_end];
    let host_end;
    if hp.first() == Some(&b'[') {
        match hp.iter().position(|&c| c == b']') {
            Some(close) => {
                host_end = host_start + close + 1;
                p.bracketed = true;
            }
            None => {
                // Unclosed bracket: the whole rest of the authority is the (bad) host.
                p.host = host_start..auth_end;
                p.bad_brackets = true;
                return p;
            }
        }
        if host_end < auth_end && url[host_end] != b':' {
            p.bad_brackets = true;
        }
    } else {
        host_end = hp.iter().position(|&c| c == b':').map_or(auth_end, |i| host_start + i);
        if hp.iter().any(|&c| c == b']' || c == b'[') {
            p.bad_brackets = true;
        }
    }
    p.host = host_start..host_end;
    if host_end < auth_end && url[host_end] == b':' {
        p.port = Some(host_end + 1..auth_end);
    } else if host_end < auth_end {
        // Junk after `]` that is not `:port`: keep it out of the host, flag it.
        p.bad_brackets = true;
    }
    p
}

fn scheme_is(url: &[u8], p: &UrlParts, names: &[&str]) -> bool {
    let s = &url[p.scheme.clone()];
    names.iter().any(|n| n.as_bytes().eq_ci(s))
}

/// `mg_url_port`: the explicit port, else the scheme's default (http/ws 80, https/wss 443,
/// mqtt 1883, mqtts 8883), else 0. An explicit port that is not a valid number gives 0.
pub fn url_port(url: &[u8]) -> u16 {
    let p = parse(url);
    match p.port {
        Some(r) => parse_port(&url[r]).unwrap_or(0),
        None => {
            if scheme_is(url, &p, &["http", "ws"]) {
                80
            } else if scheme_is(url, &p, &["https", "wss"]) {
                443
            } else if scheme_is(url, &p, &["mqtt"]) {
                1883
            } else if scheme_is(url, &p, &["mqtts"]) {
                8883
            } else {
                0
            }
        }
    }
}

/// `mg_url_is_ssl`: the scheme is one of https, wss, mqtts, ssl, tls, rtsps.
pub fn url_is_ssl(url: &[u8]) -> bool {
    let p = parse(url);
    scheme_is(url, &p, &["https", "wss", "mqtts", "ssl", "tls", "rtsps"])
}

/// `mg_url_host`: the host as written; an IPv6 literal keeps its brackets (`[::1]`), as in
/// Mongoose.
pub fn url_host(url: &[u8]) -> &[u8] {
    &url[parse(url).host]
}

/// `mg_url_user`: the user name, or empty.
pub fn url_user(url: &[u8]) -> &[u8] {
    &url[parse(url).user]
}

/// `mg_url_pass`: the password, or empty.
pub fn url_pass(url: &[u8]) -> &[u8] {
    &url[parse(url).pass]
}

/// `mg_url_uri`: the offset of the path (starting at `/`), or `None` when the URL has no
/// path (Mongoose then returns `"/"`).
pub fn url_uri(url: &[u8]) -> Option<usize> {
    let rest = parse(url).rest;
    (url.get(rest) == Some(&b'/')).then_some(rest)
}

/// A byte that `url_encode` leaves alone: RFC 3986 unreserved characters.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// `mg_url_encode`: percent-encode `src` (every byte except RFC 3986 unreserved ones, as
/// `%XX` with upper-case hex) into `out`, NUL-terminated. Returns the encoded length without
/// the NUL, or 0 when the result and its NUL do not fit (then the content of `out` is
/// unspecified but stays within `out`).
pub fn url_encode(src: &[u8], out: &mut [u8]) -> usize {
    use crate::util::str::HEX_UPPER as HEX;
    let mut n = 0;
    for &c in src {
        let need = if is_unreserved(c) { 1 } else { 3 };
        // Room for these bytes plus the final NUL.
        if out.len() < n + need + 1 {
            return 0;
        }
        if need == 1 {
            out[n] = c;
        } else {
            out[n] = b'%';
            out[n + 1] = HEX[usize::from(c >> 4)];
            out[n + 2] = HEX[usize::from(c & 15)];
        }
        n += need;
    }
    match out.get_mut(n) {
        Some(slot) => {
            *slot = 0;
            n
        }
        None => 0,
    }
}

/// `mg_url_decode`: decode `%XX` sequences (and `+` as space when `form`) from `src` into
/// `out`, NUL-terminated. Returns the decoded length without the NUL, or `None` when a `%` is
/// not followed by two hex digits or the result and its NUL do not fit in `out`.
pub fn url_decode(src: &[u8], out: &mut [u8], form: bool) -> Option<usize> {
    let n = crate::http::url_decode(src, out, form)?;
    *out.get_mut(n)? = 0;
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schemes as the oracle knows them: (name, transport, tls, default port).
    const ORACLE_SCHEMES: &[(&[u8], Transport, bool, u16)] = &[
        (b"tcp", Transport::Tcp, false, 0),
        (b"udp", Transport::Udp, false, 0),
        (b"http", Transport::Tcp, false, 80),
        (b"ws", Transport::Tcp, false, 80),
        (b"https", Transport::Tcp, true, 443),
        (b"wss", Transport::Tcp, true, 443),
        (b"tls", Transport::Tcp, true, 0),
        (b"ssl", Transport::Tcp, true, 0),
        (b"mqtt", Transport::Tcp, false, 1883),
        (b"mqtts", Transport::Tcp, true, 8883),
    ];

    #[test]
    fn scheme_table_matches_the_oracle() {
        for &(name, transport, tls, port) in ORACLE_SCHEMES {
            assert_eq!(scheme_entry(name), Some((transport, tls, port)), "{name:?}");
            assert_eq!(scheme_entry(&name.to_ascii_uppercase()), Some((transport, tls, port)));
            assert_eq!(
                scheme_entry(&name[1..]),
                ORACLE_SCHEMES
                    .iter()
                    .find(|e| e.0 == &name[1..])
                    .map(|e| (e.1, e.2, e.3))
            );
        }
        for bad in [&b""[..], b"tcpudp", b"http ", b"mqttss", b"wsss", b"h"] {
            assert_eq!(scheme_entry(bad), None, "{bad:?}");
        }
    }

    /// `parse_endpoint` as it was written over [`parse`] (its oracle in the property tests).
    fn endpoint_by_parts(url: &str) -> Result<Endpoint<'_>, Error> {
        let b = url.as_bytes();
        let sep = crate::util::str::find(b, b"://").ok_or(Error::Url)?;
        let scheme = url.get(..sep).ok_or(Error::Url)?;
        let &(_, transport, tls, default_port) = ORACLE_SCHEMES
            .iter()
            .find(|(name, ..)| name.eq_ignore_ascii_case(scheme.as_bytes()))
            .ok_or(Error::Url)?;
        let parts = parse(b);
        if parts.bad_brackets {
            return Err(Error::Url);
        }
        let mut host = parts.host.clone();
        if parts.bracketed {
            host = host.start + 1..host.end - 1;
            if host.is_empty() || !b[host.clone()].iter().all(|&c| is_ip6_char(c)) {
                return Err(Error::Url);
            }
        } else if !b[host.clone()].iter().all(|&c| is_host_char(c)) {
            return Err(Error::Url);
        }
        let (port, port_given) = match parts.port {
            None => (default_port, false),
            Some(r) => (parse_port(&b[r]).ok_or(Error::Port)?, true),
        };
        Ok(Endpoint {
            transport,
            tls,
            scheme,
            host: url.get(host).ok_or(Error::Url)?,
            port,
            port_given,
        })
    }

    fn ep(url: &str) -> Endpoint<'_> {
        parse_endpoint(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn endpoint_forms() {
        let e = ep("tcp://0.0.0.0:1234");
        assert_eq!(e.transport, Transport::Tcp);
        assert!(!e.tls);
        assert_eq!((e.scheme, e.host, e.port, e.port_given), ("tcp", "0.0.0.0", 1234, true));

        let e = ep("tcp://[::1]:1234");
        assert_eq!((e.host, e.port), ("::1", 1234));

        let e = ep("http://localhost:8000/path");
        assert_eq!((e.host, e.port, e.port_given), ("localhost", 8000, true));

        let e = ep("udp://127.0.0.1:53");
        assert_eq!(e.transport, Transport::Udp);
        assert_eq!((e.host, e.port), ("127.0.0.1", 53));

        let e = ep("http://user:pass@host:80/x");
        assert_eq!((e.host, e.port), ("host", 80));

        let e = ep("http://example.org");
        assert_eq!((e.port, e.port_given), (80, false));
        let e = ep("HTTPS://example.org/");
        assert!(e.tls);
        assert_eq!((e.scheme, e.port, e.port_given), ("HTTPS", 443, false));
        assert_eq!(ep("ws://h").port, 80);
        assert_eq!(ep("wss://h").port, 443);
        assert_eq!(ep("mqtt://h").port, 1883);
        assert_eq!(ep("mqtts://h").port, 8883);
        assert!(ep("mqtts://h").tls && ep("tls://h:1").tls && ep("ssl://h:1").tls);
        let e = ep("tcp://h");
        assert_eq!((e.port, e.port_given), (0, false));
        let e = ep("tls://h");
        assert_eq!((e.port, e.port_given), (0, false));
    }

    #[test]
    fn endpoint_empty_host_and_zero_port() {
        let e = ep("tcp://:1234");
        assert_eq!((e.host, e.port), ("", 1234));
        let e = ep("http://");
        assert_eq!((e.host, e.port, e.port_given), ("", 80, false));
        let e = ep("tcp://127.0.0.1:0");
        assert_eq!((e.port, e.port_given), (0, true));
        let e = ep("tcp://[fe80::1%eth0]:80");
        assert_eq!(e.host, "fe80::1%eth0");
        assert_eq!(ep("http://h:65535").port, 65535);
        assert_eq!(ep("http://h:00080").port, 80);
        assert_eq!(ep("http://h:1?q=1").port, 1);
    }

    #[test]
    fn endpoint_errors() {
        for url in [
            "",
            "0.0.0.0:1234",
            "localhost",
            "foo://h:1",
            "://h:1",
            "http:/h:1",
            "tcp://[::1:1234",
            "tcp://[]:1",
            "tcp://[::1]x:1",
            "tcp://[::1]x",
            "tcp://::1]:1",
            "tcp://a[b:1",
            "tcp://ho st:1",
            "tcp://h\u{e9}:1",
            "tcp://h\\x:1",
            "tcp://[::1 ]:1",
        ] {
            assert_eq!(parse_endpoint(url), Err(Error::Url), "{url:?}");
        }
        for url in [
            "tcp://h:",
            "tcp://h:x",
            "tcp://h:12a",
            "tcp://h:65536",
            "tcp://h:100000",
            "tcp://h:-1",
            "tcp://h:+1",
            "tcp://h: 1",
            "tcp://[::1]:",
            "tcp://h:1:2",
            "tcp://h:99999999999999999999999",
        ] {
            assert_eq!(parse_endpoint(url), Err(Error::Port), "{url:?}");
        }
    }

    #[test]
    fn mongoose_doc_examples() {
        assert_eq!(url_port(b"https://myhost.com"), 443);
        assert_eq!(url_port(b"127.0.0.1:567"), 567);
        assert!(url_is_ssl(b"https://example.org"));
        assert!(!url_is_ssl(b"http://example.org"));
        assert_eq!(url_host(b"https://my.example.org:1234"), b"my.example.org");
        assert_eq!(url_host(b"tcp://[::1]"), b"[::1]");
        assert_eq!(url_user(b"https://user:password@my.example.org"), b"user");
        assert_eq!(url_pass(b"https://user:password@my.example.org"), b"password");
        let u = b"https://example.org/subdir/subsubdir";
        assert_eq!(&u[url_uri(u).unwrap()..], b"/subdir/subsubdir");
        assert_eq!(url_uri(b"https://example.org"), None);
        let mut buf = [0u8; 64];
        let n = url_encode(b"example.org/test", &mut buf);
        assert_eq!(&buf[..n + 1], b"example.org%2Ftest\0");
        let n = url_decode(b"example.org%2Ftest", &mut buf, false).unwrap();
        assert_eq!(&buf[..n + 1], b"example.org/test\0");
    }

    #[test]
    fn helpers_edge_cases() {
        assert_eq!(url_port(b""), 0);
        assert_eq!(url_port(b"tcp://h"), 0);
        assert_eq!(url_port(b"http://h:x"), 0);
        assert_eq!(url_port(b"ws://[::1]"), 80);
        assert_eq!(url_port(b"mqtt://h"), 1883);
        assert_eq!(url_port(b"mqtts://h"), 8883);
        for s in ["wss://x", "mqtts://x", "ssl://x", "tls://x", "rtsps://x", "HTTPS://x"] {
            assert!(url_is_ssl(s.as_bytes()), "{s}");
        }
        for s in ["", "https", "https:/x", "ws://x", "xhttps://x"] {
            assert!(!url_is_ssl(s.as_bytes()), "{s}");
        }
        assert_eq!(url_host(b""), b"");
        assert_eq!(url_host(b"u:p@h:1/x"), b"h");
        assert_eq!(url_host(b"http://a@b@c:1/x@y"), b"c");
        assert_eq!(url_user(b"http://a@b@c:1/x@y"), b"a@b");
        assert_eq!(url_user(b"http://h/x@y"), b"");
        assert_eq!(url_pass(b"http://u@h"), b"");
        assert_eq!(url_pass(b"http://u:p:q@h"), b"p:q");
        assert_eq!(url_uri(b"http://h?x=/"), None);
        assert_eq!(url_uri(b"/x"), Some(0));
    }

    #[test]
    fn encode_decode_edges() {
        let mut buf = [0u8; 4];
        assert_eq!(url_encode(b"abc", &mut buf), 3);
        assert_eq!(url_encode(b"abcd", &mut buf), 0);
        assert_eq!(url_encode(b"a/", &mut buf), 0);
        assert_eq!(url_encode(b"/", &mut buf), 3);
        assert_eq!(&buf, b"%2F\0");
        assert_eq!(url_encode(b"", &mut []), 0);
        assert_eq!(url_encode(b"", &mut buf), 0);
        assert_eq!(buf[0], 0);

        assert_eq!(url_decode(b"a+b", &mut buf, true), Some(3));
        assert_eq!(&buf, b"a b\0");
        assert_eq!(url_decode(b"a+b", &mut buf, false), Some(3));
        assert_eq!(&buf, b"a+b\0");
        assert_eq!(url_decode(b"abcd", &mut buf, false), None);
        assert_eq!(url_decode(b"%", &mut buf, false), None);
        assert_eq!(url_decode(b"%4", &mut buf, false), None);
        assert_eq!(url_decode(b"%4g", &mut buf, false), None);
        assert_eq!(url_decode(b"%4a%4A", &mut buf, false), Some(2));
        assert_eq!(&buf[..3], b"JJ\0");
        assert_eq!(url_decode(b"", &mut [], false), None);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn host_strategy() -> impl Strategy<Value = (String, bool)> {
            prop_oneof![
                "[a-z0-9][a-z0-9.-]{0,20}".prop_map(|h| (h, false)),
                (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
                    .prop_map(|(a, b, c, d)| (format!("{a}.{b}.{c}.{d}"), false)),
                "[0-9a-f:]{1,20}".prop_map(|h| (h, true)),
                Just((String::new(), false)),
            ]
        }

        proptest! {
            #[test]
            fn parse_never_panics(s in proptest::collection::vec(any::<u8>(), 0..64)) {
                let p = parse(&s);
                let _ = (&s[p.scheme.clone()], &s[p.user.clone()], &s[p.pass.clone()], &s[p.host.clone()]);
                if let Some(r) = p.port { let _ = &s[r]; }
                prop_assert!(p.rest <= s.len());
                let _ = (url_port(&s), url_is_ssl(&s), url_host(&s), url_user(&s), url_pass(&s), url_uri(&s));
                if let Ok(text) = core::str::from_utf8(&s) {
                    prop_assert_eq!(parse_endpoint(text), super::endpoint_by_parts(text));
                }
            }

            /// The endpoint parser agrees with `parse` (as it was written over it) on
            /// URL-like text after every scheme.
            #[test]
            fn endpoint_agrees_with_parts(s in "(tcp|udp|http|ws|https|wss|tls|ssl|mqtt|mqtts|TCP|x)://[\\[\\]:@/?#a-z0-9%. ]{0,30}") {
                prop_assert_eq!(parse_endpoint(&s), super::endpoint_by_parts(&s));
            }

            #[test]
            fn parse_never_panics_urlish(s in "[a-z]{0,5}(://)?[\\[\\]:@/?#a-z0-9%.]{0,30}") {
                prop_assert_eq!(parse_endpoint(&s), super::endpoint_by_parts(&s));
                let _ = (url_port(s.as_bytes()), url_host(s.as_bytes()), url_uri(s.as_bytes()));
            }

            #[test]
            fn endpoint_roundtrips(
                si in 0usize..10,
                (host, v6) in host_strategy(),
                port in proptest::option::of(any::<u16>()),
                user in proptest::option::of("[a-z]{1,5}(:[a-z]{0,5})?"),
                path in "(/[a-z0-9]{0,8}){0,3}",
            ) {
                let (scheme, transport, tls, default_port) = super::ORACLE_SCHEMES[si];
                let h = if v6 { format!("[{host}]") } else { host.clone() };
                let mut url = format!("{}://", std::str::from_utf8(scheme).unwrap());
                if let Some(u) = &user { url.push_str(u); url.push('@'); }
                url.push_str(&h);
                if let Some(p) = port { url.push_str(&format!(":{p}")); }
                url.push_str(&path);
                let e = parse_endpoint(&url).unwrap();
                prop_assert_eq!(e.host, host.as_str());
                prop_assert_eq!(e.port, port.unwrap_or(default_port));
                prop_assert_eq!(e.port_given, port.is_some());
                prop_assert_eq!(e.transport, transport);
                prop_assert_eq!(e.tls, tls);
                prop_assert_eq!(url_host(url.as_bytes()), h.as_bytes());
                prop_assert_eq!(url_port(url.as_bytes()), port.unwrap_or(default_port));
            }

            #[test]
            fn encode_decode_roundtrip(s in proptest::collection::vec(any::<u8>(), 0..64), form in any::<bool>()) {
                let mut enc = vec![0u8; s.len() * 3 + 1];
                let n = url_encode(&s, &mut enc);
                prop_assert!(n > 0 || s.is_empty());
                prop_assert_eq!(enc[n], 0);
                prop_assert!(enc[..n].iter().all(|&c| is_unreserved(c) || c == b'%'));
                let mut dec = vec![0u8; s.len() + 1];
                let m = url_decode(&enc[..n], &mut dec, form).unwrap();
                prop_assert_eq!(&dec[..m], &s[..]);
                // One byte short of room for the NUL: both report "does not fit".
                if !s.is_empty() {
                    prop_assert_eq!(url_encode(&s, &mut enc[..n]), 0);
                    prop_assert_eq!(url_decode(&enc[..n], &mut dec[..m], form), None);
                }
            }

            #[test]
            fn decode_never_panics(s in proptest::collection::vec(any::<u8>(), 0..32), cap in 0usize..40, form in any::<bool>()) {
                let mut out = vec![0u8; cap];
                if let Some(n) = url_decode(&s, &mut out, form) {
                    prop_assert!(n < cap);
                    prop_assert_eq!(out[n], 0);
                }
            }
        }
    }
}
