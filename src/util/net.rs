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

/// The dotted IPv4 tail of an IPv6 address, as `core::net` reads it: four decimal parts of
/// one to three digits, at most 255, no leading zero.
fn parse_v4_tail(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for o in out.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut v: u32 = 0;
        for &c in part {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        *o = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Groups of an IPv6 address between `::`s, into `out` (16-bit words); the last group of
/// the address (`last`) may be a dotted IPv4 tail worth two words. Returns the words written.
fn v6_groups(s: &[u8], out: &mut [u16; 8], last: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut groups = s.split(|&c| c == b':').peekable();
    while let Some(g) = groups.next() {
        if last && groups.peek().is_none() && g.contains(&b'.') {
            let v4 = parse_v4_tail(g)?;
            if n + 2 > out.len() {
                return None;
            }
            out[n] = u16::from_be_bytes([v4[0], v4[1]]);
            out[n + 1] = u16::from_be_bytes([v4[2], v4[3]]);
            return Some(n + 2);
        }
        if g.is_empty() || g.len() > 4 || n == out.len() {
            return None;
        }
        let mut v: u16 = 0;
        for &c in g {
            v = (v << 4) | u16::from((c as char).to_digit(16)? as u8);
        }
        out[n] = v;
        n += 1;
    }
    Some(n)
}

/// IPv6 in any RFC 4291 text form (`::` for one or more zero groups, a dotted IPv4 tail),
/// accepting exactly what `core::net::Ipv6Addr`'s parser accepts, in a fraction of its code
/// (which the footprint build would otherwise carry for this and `Mgr::listen`).
pub fn parse_ipv6(s: &[u8]) -> Option<[u8; 16]> {
    let mut words = [0u16; 8];
    match crate::util::str::find(s, b"::") {
        None => {
            if v6_groups(s, &mut words, true)? != 8 {
                return None;
            }
        }
        Some(i) => {
            // The head's groups go straight to the front; the tail's are moved to the end
            // (by iterators: no index arithmetic, so no bounds-check panics).
            let nh = v6_groups(s.get(..i)?, &mut words, false)?;
            let mut t = [0u16; 8];
            let nt = v6_groups(s.get(i + 2..)?, &mut t, true)?;
            if nh + nt > 7 {
                return None;
            }
            for (w, x) in words.iter_mut().rev().zip(t.iter().take(nt).rev()) {
                *w = *x;
            }
        }
    }
    let mut out = [0u8; 16];
    for (o, w) in out.chunks_exact_mut(2).zip(words) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    Some(out)
}

/// An IPv4 (dotted quad, as `core::net` reads it) or IPv6 address literal, without brackets,
/// port or scope: `core::net::IpAddr::from_str` without its code size.
pub fn parse_ip(s: &str) -> Option<core::net::IpAddr> {
    let b = s.as_bytes();
    if let Some(v4) = parse_v4_tail(b) {
        return Some(core::net::IpAddr::from(v4));
    }
    parse_ipv6(b).map(core::net::IpAddr::from)
}

/// `mg_aton`: the empty string (0.0.0.0, IPv4), `localhost` (any case; 127.0.0.1),
/// dotted-quad IPv4, or IPv6 in any RFC 4291 text form (with `::`, with a trailing dotted
/// IPv4 part such as `::ffff:1.2.3.4`), optionally in brackets, optionally followed by
/// `%N`, a decimal scope id 0..=255. No port.
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

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<core::net::Ipv6Addr>().unwrap().octets()
    }

    #[test]
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
