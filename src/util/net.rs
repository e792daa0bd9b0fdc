//! Address text for `mg_aton` and Mongoose's IPv4 access-control lists (`mg_check_ip_acl`).
//! Pure parsers over bytes: no allocation, total on any input.
#![forbid(unsafe_code)]

use core::str::FromStr;

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
    let text = core::str::from_utf8(text).ok()?;
    let v6 = core::net::Ipv6Addr::from_str(text).ok()?;
    Some(Ip {
        ip: v6.octets(),
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
