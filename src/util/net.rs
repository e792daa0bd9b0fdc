//! Address text for `mg_aton` and Mongoose's IPv4 access-control lists (`mg_check_ip_acl`).
//! Pure parsers over bytes: no allocation, total on any input.
#![forbid(unsafe_code)]

/// A parsed address: 16 bytes in network order (IPv4 in the first 4), as `struct mg_addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip {
    pub ip: [u8; 16],
    pub is_ip6: bool,
    pub scope_id: u8,
}

impl Ip {
    fn v4(b: [u8; 4]) -> Ip {
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&b);
        Ip {
            ip,
            is_ip6: false,
            scope_id: 0,
        }
    }
}

/// Dotted-quad IPv4: exactly four decimal parts of at least one digit, each at most 255.
/// Leading zeros are decimal (`010` is 10), as in Mongoose, not octal as in `inet_aton`.
pub fn parse_ipv4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for o in out.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() {
            return None;
        }
        let mut v: u32 = 0;
        for &c in part {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
            if v > 255 {
                return None;
            }
        }
        *o = v as u8;
    }
    parts.next().is_none().then_some(out)
}

// The IPv6 and IP literal parsers below read what `core::net`'s parsers read, the same way
// (its grammar, transcribed: a cursor over the bytes, each piece read whole or not at all),
// in a fraction of its code, which the footprint build would otherwise carry for `Mgr::listen`.

/// A number at `s[*i..]`, as `core::net` reads one: 1 to `max` digits of `radix` (more is an
/// error), at most `limit`; in decimal, no leading zero before another digit. Moves `*i`
/// past the digits (callers read from a copy of their cursor, so a failure moves nothing).
#[cfg(feature = "ipv6")]
fn number(s: &[u8], i: &mut usize, radix: u32, max: usize, limit: u32) -> Option<u32> {
    let start = *i;
    let mut v = 0u32;
    while let Some(d) = s.get(*i).and_then(|&c| digit(c, radix)) {
        v = v * radix + d;
        *i += 1;
        if *i - start > max {
            return None;
        }
    }
    let n = *i - start;
    if n == 0 || v > limit || (radix == 10 && n > 1 && s[start] == b'0') {
        return None;
    }
    Some(v)
}

/// The value of `c` as a digit of `radix` (10 or 16), as `char::to_digit` gives it, in a
/// few instructions where radix 10 is known (core's is a call).
#[cfg(feature = "ipv6")]
fn digit(c: u8, radix: u32) -> Option<u32> {
    let d = match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' | b'A'..=b'F' => (c | 0x20) - b'a' + 10,
        _ => return None,
    };
    Some(u32::from(d)).filter(|&d| d < radix)
}

/// A decimal part of an IPv4 address at `s[*i..]`, as `core::net` reads one: 1 to 3 digits,
/// at most 255, no leading zero before another digit. A loop of its own (no hex digits to
/// tell apart, no bounds check). Moves `*i` past what it read.
fn octet(s: &[u8], i: &mut usize) -> Option<u8> {
    let mut v = 0u32;
    let mut n = 0;
    while let Some(&c) = s.get(*i).filter(|c| c.is_ascii_digit()) {
        // A leading zero before another digit; over 255 (a fourth digit is over 999).
        if n > 0 && v == 0 {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
        if v > 255 {
            return None;
        }
        n += 1;
        *i += 1;
    }
    (n > 0).then_some(v as u8)
}

/// A dotted-quad IPv4 address at `s[*i..]` as `core::net` reads it (four decimal parts of
/// one to three digits, at most 255, no leading zero); `*i` moves past it only if it is one.
fn v4_at(s: &[u8], i: &mut usize) -> Option<[u8; 4]> {
    let mut j = *i;
    let mut out = [0u8; 4];
    for (k, o) in out.iter_mut().enumerate() {
        if k > 0 {
            if s.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        *o = octet(s, &mut j)?;
    }
    *i = j;
    Some(out)
}

/// IPv6 in any RFC 4291 text form (`::` for one or more zero groups, a dotted IPv4 tail),
/// accepting exactly what `core::net::Ipv6Addr`'s parser accepts: groups of 1 to 4 hex
/// digits separated by `:`, at most one `::`, the last group possibly a dotted IPv4 address
/// (worth two), eight groups in all or at most seven with the `::`. One pass: the groups go
/// to the front, then those after the `::` move to the end.
#[cfg(feature = "ipv6")]
pub fn parse_ipv6(s: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut n = 0; // bytes written
    let mut gap = None; // where the `::` is, in bytes
    let mut i = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    while i < s.len() || gap != Some(n) {
        let mut after = i;
        if let Some(v4) = v4_at(s, &mut after) {
            // An IPv4 address ends the text.
            out.get_mut(n..n + 4)?.copy_from_slice(&v4);
            n += 4;
            i = after;
            break;
        }
        let g = number(s, &mut i, 16, 4, 0xffff)? as u16;
        out.get_mut(n..n + 2)?.copy_from_slice(&g.to_be_bytes());
        n += 2;
        if i == s.len() {
            break;
        }
        if s[i] != b':' {
            return None;
        }
        i += 1;
        if s.get(i) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(n);
            i += 1;
        }
    }
    if i != s.len() {
        return None;
    }
    match gap {
        None if n == 16 => {}
        Some(g) if n <= 14 => {
            // The groups after the `::` go to the end; zeros where they were.
            let tail = n - g;
            out.copy_within(g..n, 16 - tail);
            out[g..16 - tail].fill(0);
        }
        _ => return None,
    }
    Some(out)
}

/// An IPv4 (dotted quad, as `core::net` reads it) or IPv6 address literal, without brackets,
/// port or scope: `core::net::IpAddr::from_str` without its code size. Without the feature
/// `ipv6`, IPv4 only (an IPv6 text is `None`, as any text that is no address).
pub fn parse_ip(s: &str) -> Option<core::net::IpAddr> {
    let b = s.as_bytes();
    let mut i = 0;
    match v4_at(b, &mut i) {
        // An address that starts with an IPv4 one is no IPv6 one: the whole text or nothing.
        Some(v4) => (i == b.len()).then(|| core::net::IpAddr::from(v4)),
        #[cfg(feature = "ipv6")]
        None => parse_ipv6(b).map(core::net::IpAddr::from),
        #[cfg(not(feature = "ipv6"))]
        None => None,
    }
}

/// `mg_aton`: the empty string (0.0.0.0, IPv4), `localhost` (any case; 127.0.0.1),
/// dotted-quad IPv4, or IPv6 in any RFC 4291 text form (with `::`, with a trailing dotted
/// IPv4 part such as `::ffff:1.2.3.4`), optionally in brackets, optionally followed by
/// `%N`, a decimal scope id 0..=255. No port. Without the feature `ipv6` every IPv6 text
/// is `None`, as Mongoose's `mg_aton` built with `MG_ENABLE_IPV6=0`.
pub fn aton(s: &[u8]) -> Option<Ip> {
    if s.is_empty() {
        return Some(Ip::v4([0; 4]));
    }
    if s.eq_ignore_ascii_case(b"localhost") {
        return Some(Ip::v4([127, 0, 0, 1]));
    }
    if let Some(b) = parse_ipv4(s) {
        return Some(Ip::v4(b));
    }
    aton6(s)
}

/// [`aton`] of a text that is no IPv4 address.
#[cfg(not(feature = "ipv6"))]
fn aton6(_: &[u8]) -> Option<Ip> {
    None
}

/// [`aton`] of a text that is no IPv4 address.
#[cfg(feature = "ipv6")]
fn aton6(s: &[u8]) -> Option<Ip> {
    let s = match s {
        [b'[', inner @ .., b']'] => inner,
        _ => s,
    };
    let (text, scope_id) = match s.iter().position(|&c| c == b'%') {
        Some(i) => {
            let digits = &s[i + 1..];
            if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = digits.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
            (&s[..i], u8::try_from(v).ok()?)
        }
        None => (s, 0),
    };
    Some(Ip {
        ip: parse_ipv6(text)?,
        is_ip6: true,
        scope_id,
    })
}

/// Why an access-control list could not be applied (`mg_check_ip_acl`'s -1 and -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclError {
    /// An entry does not start with `+` or `-` (Mongoose: -1), or the address is IPv6.
    Syntax,
    /// An entry's network is not `a.b.c.d` or `a.b.c.d/n` with n in 0..=32 (Mongoose: -2).
    Network,
}

/// `mg_check_ip_acl`: whether the IPv4 address `ip` (network order) is allowed by `acl`, a
/// comma-separated list of `+a.b.c.d[/n]` (allow) and `-a.b.c.d[/n]` (deny) entries. The last
/// entry that matches decides. With no match, an empty list allows and any other denies.
/// Every entry is checked for syntax, also after the deciding one.
pub fn check_acl(acl: &[u8], ip: [u8; 4]) -> Result<bool, AclError> {
    let addr = u32::from_be_bytes(ip);
    let mut allowed = acl.is_empty();
    let mut rest = acl;
    while !rest.is_empty() {
        let (entry, tail) = match rest.iter().position(|&c| c == b',') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        rest = tail;
        let (allow, net) = match entry.split_first() {
            Some((b'+', net)) => (true, net),
            Some((b'-', net)) => (false, net),
            _ => return Err(AclError::Syntax),
        };
        let (net, bits) = match net.iter().position(|&c| c == b'/') {
            Some(i) => {
                let b = &net[i + 1..];
                if b.is_empty() || b.len() > 2 || !b.iter().all(u8::is_ascii_digit) {
                    return Err(AclError::Network);
                }
                let bits = b.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
                if bits > 32 {
                    return Err(AclError::Network);
                }
                (&net[..i], bits)
            }
            None => (net, 32),
        };
        let net = u32::from_be_bytes(parse_ipv4(net).ok_or(AclError::Network)?);
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        if addr & mask == net & mask {
            allowed = allow;
        }
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ipv6")]
    fn v6(s: &str) -> [u8; 16] {
        s.parse::<core::net::Ipv6Addr>().unwrap().octets()
    }

    #[test]
    #[cfg(feature = "ipv6")]
    fn ip_parsers_agree_with_core_net_on_examples() {
        for s in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::8",
            "::ffff:1.2.3.4",
            "64:ff9b::10.0.0.1",
            "1:2:3:4:5:6:1.2.3.4",
            "fe80::1%1",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1::",
            "1:::2",
            "12345::",
            "::1.2.3",
            "::01.2.3.4",
            "::256.1.1.1",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3.4.5",
            "",
            ":",
            "::g",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3.4:1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.0",
            "1..2.3",
            "ABCD:ef01::",
            "1:2:3:4:5:6:7:8::",
        ] {
            assert_eq!(parse_ip(s), s.parse::<core::net::IpAddr>().ok(), "{s:?}");
        }
    }

    proptest::proptest! {
        /// Dotted decimal texts (leading zeros, parts over 255, of 4 digits, too few or
        /// too many parts): `octet` reads what `core::net` reads.
        #[test]
        fn ipv4_parts_agree_with_core_net(s in "[0-9]{0,4}(\\.[0-9]{0,4}){0,4}\\.?") {
            proptest::prop_assert_eq!(parse_ip(&s), s.parse::<core::net::IpAddr>().ok());
        }
    }

    #[cfg(feature = "ipv6")]
    proptest::proptest! {
        #[test]
        fn ip_parsers_agree_with_core_net(s in "[0-9a-fA-F:.]{0,24}") {
            proptest::prop_assert_eq!(parse_ip(&s), s.parse::<core::net::IpAddr>().ok());
        }

        #[test]
        fn ipv6_text_round_trips(w in proptest::array::uniform8(proptest::prelude::any::<u16>()),
                                 v4 in proptest::prelude::any::<bool>()) {
            let a = core::net::Ipv6Addr::from(w);
            let text = if v4 { a.to_canonical().to_string() } else { a.to_string() };
            let long = format!("{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
            for t in [text, long] {
                proptest::prop_assert_eq!(parse_ip(&t), t.parse::<core::net::IpAddr>().ok());
            }
        }
    }

    #[test]
    #[cfg(feature = "ipv6")]
    fn aton_forms() {
        assert_eq!(aton(b""), Some(Ip::v4([0, 0, 0, 0])));
        assert_eq!(aton(b"LocalHost"), Some(Ip::v4([127, 0, 0, 1])));
        assert_eq!(aton(b"1.2.3.4"), Some(Ip::v4([1, 2, 3, 4])));
        assert_eq!(aton(b"010.0.0.255"), Some(Ip::v4([10, 0, 0, 255])));
        for bad in [
            &b"1.2.3"[..],
            b"1.2.3.4.5",
            b"1..2.3",
            b"256.1.1.1",
            b"1.2.3.4 ",
            b"x",
            b"[]",
            b"::1%",
            b"::1%256",
            b"1:2",
            b"[::1",
        ] {
            assert_eq!(aton(bad), None, "{:?}", core::str::from_utf8(bad));
        }
        let a = aton(b"[::1]").unwrap();
        assert!(a.is_ip6);
        assert_eq!(a.ip, v6("::1"));
        let a = aton(b"fe80::1%3").unwrap();
        assert_eq!((a.ip, a.scope_id), (v6("fe80::1"), 3));
        let a = aton(b"::ffff:1.2.3.4").unwrap();
        assert_eq!(&a.ip[10..], &[255, 255, 1, 2, 3, 4]);
        assert_eq!(aton(b"2001:DB8::A:b").unwrap().ip, v6("2001:db8::a:b"));
    }

    #[test]
    fn acl_cases() {
        let ip = [10, 0, 0, 1];
        assert_eq!(check_acl(b"", ip), Ok(true));
        assert_eq!(check_acl(b"+10.0.0.1", ip), Ok(true));
        assert_eq!(check_acl(b"+10.0.0.2", ip), Ok(false));
        assert_eq!(check_acl(b"-0.0.0.0/0,+10.0.0.0/8", ip), Ok(true));
        assert_eq!(check_acl(b"+10.0.0.0/8,-10.0.0.1", ip), Ok(false));
        assert_eq!(check_acl(b"-10.0.0.0/8", ip), Ok(false));
        assert_eq!(check_acl(b"+192.168.0.0/16", ip), Ok(false));
        assert_eq!(check_acl(b"+0.0.0.0/0", [1, 2, 3, 4]), Ok(true));
        // A network written with host bits set still matches its network.
        assert_eq!(check_acl(b"+10.9.9.9/8", ip), Ok(true));
        assert_eq!(check_acl(b"10.0.0.1", ip), Err(AclError::Syntax));
        assert_eq!(check_acl(b",+10.0.0.1", ip), Err(AclError::Syntax));
        assert_eq!(check_acl(b"+10.0.0.1,", ip), Ok(true));
        assert_eq!(check_acl(b"+10.0.0.0/33", ip), Err(AclError::Network));
        assert_eq!(check_acl(b"+10.0.0", ip), Err(AclError::Network));
        assert_eq!(check_acl(b"+10.0.0.0/", ip), Err(AclError::Network));
        assert_eq!(check_acl(b"+10.0.0.1,-bad", ip), Err(AclError::Network));
    }
}
