//! Multicast DNS (RFC 6762), the part a device needs: answer A queries for its own
//! `name.local`, send a one-shot query, and read A answers. Mongoose's behaviour: only the
//! first question of a query is looked at; a query for another name, class or type is left
//! to the application (`MG_EV_MDNS_REQ`) or ignored.

use super::*;

/// The standard mDNS group and port.
pub const MDNS_ADDR: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// The mDNS port.
pub const MDNS_PORT: u16 = 5353;
/// TTL of our A records (RFC 6762 §10: 120 s for host records).
pub const TTL: u32 = 120;
/// TTL in answers to legacy unicast queries (RFC 6762 §6.7: at most 10 s).
pub const LEGACY_TTL: u32 = 10;

/// The first question of a query.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub header: Header,
    /// Type and class (the QU bit cleared) of the question; `nlen` is its name's length.
    pub rr: Rr,
    pub name: Name,
    /// The QU bit: the asker wants a unicast reply.
    pub unicast: bool,
    /// Bytes the whole question takes after the header.
    pub len: usize,
}

/// Parse a query's first question. `Err` for a response or anything malformed.
pub fn parse_query(msg: &[u8]) -> Result<Question, ParseError> {
    let header = Header::parse(msg)?;
    if header.flags & FLAG_QR != 0 || header.opcode() != 0 || header.qdcount == 0 {
        return Err(ParseError::BadName);
    }
    let (mut rr, name, len) = parse_rr(msg, HEADER_LEN, true)?;
    let unicast = rr.rclass & 0x8000 != 0;
    rr.rclass &= 0x7fff;
    Ok(Question {
        header,
        rr,
        name,
        unicast,
        len,
    })
}

/// The host part of `name` if it ends in `.local` (`dev.local` → `dev`).
pub fn local_host(name: &Name) -> Option<&[u8]> {
    let b = name.as_bytes();
    let n = b.len().checked_sub(6)?;
    if n == 0 || !b[n..].eq_ignore_ascii_case(b".local") {
        return None;
    }
    Some(&b[..n])
}

/// Append the answer to query `q` (of `msg`): an A record `host.local` → `ip`. A legacy
/// unicast query (from a port other than 5353) gets its id and question echoed and a short
/// TTL (RFC 6762 §6.7); a proper mDNS query gets id 0, no question, and the cache-flush
/// bit.
pub fn answer_a(
    msg: &[u8],
    q: &Question,
    host: &[u8],
    ip: Ipv4Addr,
    legacy: bool,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    let start = out.len();
    Header {
        id: if legacy { q.header.id } else { 0 },
        flags: FLAG_QR | FLAG_AA,
        qdcount: u16::from(legacy),
        ancount: 1,
        ..Header::default()
    }
    .write(out);
    if legacy {
        // The question as asked, uncompressed.
        if let Err(e) = encode_name(q.name.as_bytes(), out) {
            out.truncate(start);
            return Err(e);
        }
        out.extend_from_slice(&q.rr.rtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
    }
    let mut full = Vec::with_capacity(host.len() + 6);
    full.extend_from_slice(host);
    full.extend_from_slice(b".local");
    if let Err(e) = encode_name(&full, out) {
        out.truncate(start);
        return Err(e);
    }
    let _ = msg;
    out.extend_from_slice(&TYPE_A.to_be_bytes());
    let class = if legacy { CLASS_IN } else { CLASS_IN | 0x8000 };
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&(if legacy { LEGACY_TTL } else { TTL }).to_be_bytes());
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&ip.octets());
    Ok(())
}

/// What [`respond`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Responded {
    /// An answer is in `out`.
    Answered,
    /// A query, but not an A (or ANY) question for `host.local` in class IN.
    NotForUs,
}

/// The whole responder for a device called `host`: if `msg` is an A/ANY query for
/// `host.local`, append the answer to `out`.
pub fn respond(
    msg: &[u8],
    host: &[u8],
    ip: Ipv4Addr,
    legacy: bool,
    out: &mut Vec<u8>,
) -> Result<Responded, ParseError> {
    let q = parse_query(msg)?;
    let ours = local_host(&q.name).is_some_and(|h| h.eq_ignore_ascii_case(host));
    if !ours || q.rr.rclass != CLASS_IN || !(q.rr.rtype == TYPE_A || q.rr.rtype == TYPE_ANY) {
        return Ok(Responded::NotForUs);
    }
    answer_a(msg, &q, host, ip, legacy, out)?;
    Ok(Responded::Answered)
}

/// Append an mDNS query (id 0, no recursion, RFC 6762 §18) for `name` of type `rtype`.
pub fn encode_mdns_query(name: &[u8], rtype: u16, out: &mut Vec<u8>) -> Result<(), ParseError> {
    let start = out.len();
    Header {
        qdcount: 1,
        ..Header::default()
    }
    .write(out);
    if let Err(e) = encode_name(name, out) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(())
}

/// The first A record of a response: (the record, its owner name, the address).
pub fn parse_a_response(msg: &[u8]) -> Option<(Rr, Name, Ipv4Addr)> {
    let h = Header::parse(msg).ok()?;
    if h.flags & FLAG_QR == 0 {
        return None;
    }
    let mut off = HEADER_LEN;
    for _ in 0..h.qdcount {
        off += parse_rr(msg, off, true).ok()?.2;
    }
    for _ in 0..h.ancount.saturating_add(h.arcount) {
        let (rr, name, len) = parse_rr(msg, off, false).ok()?;
        off += len;
        if let Some(IpAddr::V4(a)) = rr_addr(msg, &rr) {
            if rr.rclass & 0x7fff == CLASS_IN {
                return Some((rr, name, a));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_own_name_only() {
        let mut q = Vec::new();
        encode_mdns_query(b"Dev.local", TYPE_A, &mut q).unwrap();
        let mut out = Vec::new();
        let ip = Ipv4Addr::new(10, 1, 2, 3);
        assert_eq!(respond(&q, b"dev", ip, false, &mut out), Ok(Responded::Answered));
        let (rr, name, a) = parse_a_response(&out).unwrap();
        assert_eq!((a, rr.rclass, rr.ttl), (ip, 0x8001, TTL));
        assert!(name.eq_name(b"dev.local"));
        assert_eq!(Header::parse(&out).unwrap().id, 0);
        out.clear();
        assert_eq!(respond(&q, b"other", ip, false, &mut out), Ok(Responded::NotForUs));
        assert!(out.is_empty());
        // Legacy unicast: id and question echoed.
        let mut q = Vec::new();
        encode_query(0x4242, b"dev.local", TYPE_A, &mut q).unwrap();
        assert_eq!(respond(&q, b"dev", ip, true, &mut out), Ok(Responded::Answered));
        let mut dq = Query::new(b"dev.local", TYPE_A, 0x4242, 0, 100, 1).unwrap();
        assert_eq!(dq.on_reply(&out), Ok(Outcome::Answer(IpAddr::V4(ip))));
        // A response is never answered.
        assert!(respond(&out, b"dev", ip, true, &mut Vec::new()).is_err());
    }
}
