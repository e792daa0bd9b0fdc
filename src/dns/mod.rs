//! Sans-IO DNS (RFC 1035) and mDNS (RFC 6762) messages, and a stub-resolver query machine.
//!
//! - [`read_name`], [`parse_rr`], [`Header::parse`], [`parse_summary`]: parsing, with name
//!   compression followed only backwards (a pointer must point before the label that holds
//!   it, so every chain ends; at most [`MAX_HOPS`] pointers per name) and every offset
//!   checked against the message.
//! - [`encode_query`], [`encode_name`]: building messages.
//! - [`Query`]: one outstanding question (A or AAAA) sent to one server: it says when to
//!   (re)send its datagram ([`Query::poll`], with the time passed in), and checks every reply
//!   against the question ([`Query::on_reply`]): transaction id, response bit, opcode, the
//!   single question's name, type and class. A datagram that does not match is ignored (so a
//!   spoofed reply with a guessed id but another question, or the right question and a wrong
//!   id, cannot poison the answer); the caller also checks the source address (the manager's
//!   UDP socket is connected to the server, so the kernel drops others).
//! - [`mdns`]: the responder side of multicast DNS.
//!
//! Nothing here touches a socket, a clock or a random source: the transaction id and `now`
//! come from the caller. Only `core` and `alloc`.
//!
//! Written here rather than taken from a DNS crate: what is needed is small (one question,
//! A/AAAA/CNAME answers, an mDNS A responder), Mongoose's `mg_dns_parse_rr` reports the
//! owner name's length at its offset (`nlen`), which the no_std crates (`simple-dns`,
//! `dns-parser`) do not expose, and the anti-poisoning checks and the backward-only
//! compression rule are the point of the module; a general parser would add flash for
//! record types a device never reads.
#![forbid(unsafe_code)]

extern crate alloc;

pub mod mdns;

use crate::prelude::*;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record type A (IPv4 address): Mongoose's `MG_DNS_RTYPE_A`.
pub const TYPE_A: u16 = 1;
/// Record type CNAME (alias).
pub const TYPE_CNAME: u16 = 5;
/// Record type PTR.
pub const TYPE_PTR: u16 = 12;
/// Record type TXT.
pub const TYPE_TXT: u16 = 16;
/// Record type AAAA (IPv6 address).
pub const TYPE_AAAA: u16 = 28;
/// Record type SRV.
pub const TYPE_SRV: u16 = 33;
/// Query type ANY.
pub const TYPE_ANY: u16 = 255;
/// Class IN.
pub const CLASS_IN: u16 = 1;
/// Most compression pointers followed while reading one name.
pub const MAX_HOPS: usize = 32;
/// Longest name in presentation form (RFC 1035: 255 octets on the wire).
pub const MAX_NAME: usize = 253;
/// Header length.
pub const HEADER_LEN: usize = 12;

/// Flag bits of [`Header::flags`].
pub const FLAG_QR: u16 = 0x8000;
/// Authoritative answer.
pub const FLAG_AA: u16 = 0x0400;
/// Truncated.
pub const FLAG_TC: u16 = 0x0200;
/// Recursion desired.
pub const FLAG_RD: u16 = 0x0100;

/// Why a message or a part of it does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// It ends before the part being read does.
    Short,
    /// A label type other than a plain label or a pointer (0x40, 0x80).
    BadLabel,
    /// A compression pointer that points forward or to itself, or too many of them.
    BadPointer,
    /// A name longer than 255 octets, or a label longer than 63 when encoding.
    TooLong,
    /// A name to encode is empty or has an empty label.
    BadName,
}

/// The fixed 12-byte header, fields in host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

fn be16(b: &[u8], at: usize) -> Result<u16, ParseError> {
    match b.get(at..at.checked_add(2).ok_or(ParseError::Short)?) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]])),
        None => Err(ParseError::Short),
    }
}

impl Header {
    pub fn parse(msg: &[u8]) -> Result<Header, ParseError> {
        Ok(Header {
            id: be16(msg, 0)?,
            flags: be16(msg, 2)?,
            qdcount: be16(msg, 4)?,
            ancount: be16(msg, 6)?,
            nscount: be16(msg, 8)?,
            arcount: be16(msg, 10)?,
        })
    }
    pub fn write(&self, out: &mut Vec<u8>) {
        for v in [
            self.id,
            self.flags,
            self.qdcount,
            self.ancount,
            self.nscount,
            self.arcount,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    /// The response code (low 4 bits of the flags).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
    /// The opcode (0: standard query).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
}

/// A name in presentation form (`www.example.com`, no trailing dot), at most
/// [`MAX_NAME`] bytes, held inline. Labels are kept as received (a label holding a `.` byte
/// is not escaped: compare names with [`Name::eq_name`], which compares labels).
#[derive(Clone, Copy)]
pub struct Name {
    buf: [u8; MAX_NAME + 2],
    len: u8,
    /// Label boundaries are in `buf` as-is; the wire form is rebuilt on demand.
    labels: u8,
}

impl Default for Name {
    fn default() -> Self {
        Name {
            buf: [0; MAX_NAME + 2],
            len: 0,
            labels: 0,
        }
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", alloc::string::String::from_utf8_lossy(self.as_bytes()))
    }
}

impl Name {
    /// The dotted form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
    /// Number of labels (0 for the root).
    pub fn labels(&self) -> usize {
        self.labels as usize
    }
    /// Same name, ASCII case-insensitively (RFC 4343).
    pub fn eq_name(&self, other: &[u8]) -> bool {
        let a = self.as_bytes();
        let b = other.strip_suffix(b".").unwrap_or(other);
        a.eq_ignore_ascii_case(b)
    }
    fn push_label(&mut self, label: &[u8]) -> Result<(), ParseError> {
        let extra = label.len() + usize::from(self.len > 0);
        if self.len as usize + extra > MAX_NAME {
            return Err(ParseError::TooLong);
        }
        let mut at = self.len as usize;
        if self.len > 0 {
            self.buf[at] = b'.';
            at += 1;
        }
        self.buf[at..at + label.len()].copy_from_slice(label);
        self.len = (at + label.len()) as u8;
        self.labels += 1;
        Ok(())
    }
}

/// Read the name at `off` of `msg` into `out`. Returns the number of bytes the name takes at
/// `off` (up to and including its terminating zero or its first pointer): Mongoose's
/// `mg_dns_rr.nlen`.
pub fn read_name(msg: &[u8], off: usize, out: &mut Name) -> Result<usize, ParseError> {
    *out = Name::default();
    let mut pos = off;
    let mut consumed = None;
    let mut hops = 0;
    // Every pointer must go strictly below the start of the run of labels it ends, so
    // the walk terminates; the hop cap bounds the work on top of that.
    let mut run_start = off;
    loop {
        let len = *msg.get(pos).ok_or(ParseError::Short)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok(consumed.unwrap_or_else(|| pos + 1 - off));
                }
                let label = msg.get(pos + 1..pos + 1 + len as usize).ok_or(ParseError::Short)?;
                out.push_label(label)?;
                pos += 1 + len as usize;
            }
            0xc0 => {
                let target = (be16(msg, pos)? & 0x3fff) as usize;
                if consumed.is_none() {
                    consumed = Some(pos + 2 - off);
                }
                hops += 1;
                if target >= run_start || hops > MAX_HOPS {
                    return Err(ParseError::BadPointer);
                }
                pos = target;
                run_start = target;
            }
            _ => return Err(ParseError::BadLabel),
        }
    }
}

/// Append `name` (dotted; a trailing dot is allowed) in wire form, uncompressed.
pub fn encode_name(name: &[u8], out: &mut Vec<u8>) -> Result<(), ParseError> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() {
        return Err(ParseError::BadName);
    }
    if name.len() > MAX_NAME {
        return Err(ParseError::TooLong);
    }
    for label in name.split(|&b| b == b'.') {
        if label.is_empty() {
            return Err(ParseError::BadName);
        }
        if label.len() > 63 {
            return Err(ParseError::TooLong);
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    Ok(())
}

/// A resource record (or, for a question, its name, type and class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rr {
    /// Bytes the owner name takes at the record's offset (Mongoose's `nlen`).
    pub nlen: u16,
    pub rtype: u16,
    pub rclass: u16,
    pub ttl: u32,
    /// Offset of the RDATA in the message.
    pub rdata_off: usize,
    /// RDATA length (Mongoose's `alen`).
    pub rdlen: u16,
}

impl Rr {
    /// The RDATA (empty for a question).
    pub fn rdata<'a>(&self, msg: &'a [u8]) -> &'a [u8] {
        msg.get(self.rdata_off..self.rdata_off + self.rdlen as usize)
            .unwrap_or(&[])
    }
}

/// Parse the record at `off` (a question when `is_question`: no TTL and RDATA). Returns the
/// record, its owner name, and its length in bytes (`off + len` is the next record).
pub fn parse_rr(msg: &[u8], off: usize, is_question: bool) -> Result<(Rr, Name, usize), ParseError> {
    let mut name = Name::default();
    let nlen = read_name(msg, off, &mut name)?;
    let p = off + nlen;
    let mut rr = Rr {
        nlen: nlen as u16,
        rtype: be16(msg, p)?,
        rclass: be16(msg, p + 2)?,
        ..Rr::default()
    };
    if is_question {
        return Ok((rr, name, nlen + 4));
    }
    rr.ttl = (u32::from(be16(msg, p + 4)?) << 16) | u32::from(be16(msg, p + 6)?);
    rr.rdlen = be16(msg, p + 8)?;
    rr.rdata_off = p + 10;
    if rr.rdata_off + rr.rdlen as usize > msg.len() {
        return Err(ParseError::Short);
    }
    Ok((rr, name, nlen + 10 + rr.rdlen as usize))
}

/// The address in an A or AAAA record's RDATA.
pub fn rr_addr(msg: &[u8], rr: &Rr) -> Option<IpAddr> {
    let d = rr.rdata(msg);
    match (rr.rtype, d.len()) {
        (TYPE_A, 4) => Some(IpAddr::V4(Ipv4Addr::new(d[0], d[1], d[2], d[3]))),
        (TYPE_AAAA, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(d);
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// What Mongoose's `mg_dns_parse` reports: the id, the first question's name (or, with
/// no question, the first answer's owner), and the first A/AAAA answer.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub header: Header,
    pub name: Name,
    pub addr: Option<IpAddr>,
}

/// Parse a whole message: header, every question and answer record (authority and
/// additional sections are not needed for a summary and are not walked).
pub fn parse_summary(msg: &[u8]) -> Result<Summary, ParseError> {
    let header = Header::parse(msg)?;
    let mut s = Summary {
        header,
        name: Name::default(),
        addr: None,
    };
    let mut off = HEADER_LEN;
    for i in 0..header.qdcount {
        let (_, name, len) = parse_rr(msg, off, true)?;
        if i == 0 {
            s.name = name;
        }
        off += len;
    }
    for i in 0..header.ancount {
        let (rr, name, len) = parse_rr(msg, off, false)?;
        if i == 0 && header.qdcount == 0 {
            s.name = name;
        }
        if s.addr.is_none() && rr.rclass & 0x7fff == CLASS_IN {
            s.addr = rr_addr(msg, &rr);
        }
        off += len;
    }
    Ok(s)
}

/// Append a standard query for (`name`, `qtype`, IN) with transaction `id` (recursion
/// desired).
pub fn encode_query(id: u16, name: &[u8], qtype: u16, out: &mut Vec<u8>) -> Result<(), ParseError> {
    let start = out.len();
    Header {
        id,
        flags: FLAG_RD,
        qdcount: 1,
        ..Header::default()
    }
    .write(out);
    if let Err(e) = encode_name(name, out) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(())
}

/// Why a reply was not taken as the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Not a parseable DNS message.
    Malformed,
    /// Not a response, or another transaction id, opcode or question: not ours (spoofed,
    /// late, or for an earlier query). The query keeps waiting.
    NotOurs,
}

/// What the query machine concluded from a reply that matches its question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The name has this address.
    Answer(IpAddr),
    /// The server says the name does not exist (NXDOMAIN) or another error code.
    Rcode(u8),
    /// The reply matches but has no address of the asked type (NODATA).
    NoData,
    /// The reply was truncated before an address (no TCP fallback here).
    Truncated,
}

/// What to do next for a [`Query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStep<'a> {
    /// Send this datagram to the server now, then call [`Query::poll`] again at `next`.
    Send(&'a [u8], u64),
    /// Nothing to send; call [`Query::poll`] again at this time (or when a datagram arrives).
    Wait(u64),
    /// Every try went unanswered until the deadline.
    TimedOut,
    /// The query has its outcome (see [`Query::on_reply`]).
    Done,
}

/// One question to one server. `tries` datagrams are spread evenly over `timeout_ms`
/// (the first at once, the others at fixed offsets from the start, however late the
/// polls come); after the last interval the query times out.
#[derive(Debug, Clone)]
pub struct Query {
    id: u16,
    qtype: u16,
    packet: Vec<u8>,
    name: Name,
    sent: u32,
    tries: u32,
    start: u64,
    interval: u64,
    deadline: u64,
    done: bool,
}

impl Query {
    /// A query for `name` (dotted) of type `qtype` (A or AAAA) with transaction id `id`
    /// (random: the caller draws it from a good source), started at `now`.
    pub fn new(name: &[u8], qtype: u16, id: u16, now: u64, timeout_ms: u64, tries: u32) -> Result<Query, ParseError> {
        let mut packet = Vec::with_capacity(HEADER_LEN + name.len() + 6);
        encode_query(id, name, qtype, &mut packet)?;
        let mut n = Name::default();
        read_name(&packet, HEADER_LEN, &mut n)?;
        let tries = tries.max(1);
        Ok(Query {
            id,
            qtype,
            packet,
            name: n,
            sent: 0,
            tries,
            start: now,
            interval: (timeout_ms / u64::from(tries)).max(1),
            deadline: now.saturating_add(timeout_ms),
            done: false,
        })
    }

    /// The transaction id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The name asked for.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// What to do at `now`.
    pub fn poll(&mut self, now: u64) -> QueryStep<'_> {
        if self.done {
            return QueryStep::Done;
        }
        if now >= self.deadline {
            self.done = true;
            return QueryStep::TimedOut;
        }
        if self.sent < self.tries && now >= self.next_send() {
            self.sent += 1;
            return QueryStep::Send(&self.packet, self.next_wake());
        }
        QueryStep::Wait(self.next_wake())
    }

    /// When try number `sent + 1` is due: on the schedule fixed at the start, so a late poll
    /// does not push the remaining tries past the deadline.
    fn next_send(&self) -> u64 {
        let at = self
            .start
            .saturating_add(self.interval.saturating_mul(u64::from(self.sent)));
        at.min(self.deadline)
    }

    /// The next time `poll` has something to do: the next try, or the deadline after the last.
    fn next_wake(&self) -> u64 {
        if self.sent < self.tries {
            self.next_send()
        } else {
            self.deadline
        }
    }

    /// Look at a datagram from the server. `Err` when it is not the answer to this query
    /// (the query keeps waiting); `Ok` is final.
    pub fn on_reply(&mut self, msg: &[u8]) -> Result<Outcome, Ignored> {
        if self.done {
            return Err(Ignored::NotOurs);
        }
        let h = Header::parse(msg).map_err(|_| Ignored::Malformed)?;
        if h.id != self.id || h.flags & FLAG_QR == 0 || h.opcode() != 0 || h.qdcount != 1 {
            return Err(Ignored::NotOurs);
        }
        let (q, qname, qlen) = parse_rr(msg, HEADER_LEN, true).map_err(|_| Ignored::Malformed)?;
        if q.rtype != self.qtype || q.rclass != CLASS_IN || !qname.eq_name(self.name.as_bytes()) {
            return Err(Ignored::NotOurs);
        }
        let out = self.outcome(msg, &h, HEADER_LEN + qlen);
        self.done = true;
        Ok(out)
    }

    fn outcome(&self, msg: &[u8], h: &Header, mut off: usize) -> Outcome {
        if h.rcode() != 0 {
            return Outcome::Rcode(h.rcode());
        }
        // Follow CNAMEs in answer order, from the name asked for.
        let mut target = self.name;
        for _ in 0..h.ancount {
            let Ok((rr, owner, len)) = parse_rr(msg, off, false) else {
                return if h.flags & FLAG_TC != 0 {
                    Outcome::Truncated
                } else {
                    Outcome::NoData
                };
            };
            off += len;
            if rr.rclass != CLASS_IN || !owner.eq_name(target.as_bytes()) {
                continue;
            }
            if rr.rtype == TYPE_CNAME {
                let mut alias = Name::default();
                if read_name(msg, rr.rdata_off, &mut alias).is_ok() {
                    target = alias;
                }
            } else if rr.rtype == self.qtype {
                if let Some(a) = rr_addr(msg, &rr) {
                    return Outcome::Answer(a);
                }
            }
        }
        if h.flags & FLAG_TC != 0 {
            Outcome::Truncated
        } else {
            Outcome::NoData
        }
    }
}

/// Run every DNS parser over `data` and check what they return lies inside it: the logic
/// of the `dns` fuzz target, also run by the property tests.
pub fn drive(data: &[u8], off: usize, is_question: bool) {
    let mut n = Name::default();
    if let Ok(len) = read_name(data, off, &mut n) {
        assert!(off + len <= data.len() && n.as_bytes().len() <= MAX_NAME);
    }
    if let Ok((rr, _, len)) = parse_rr(data, off, is_question) {
        assert!(off + len <= data.len());
        let _ = rr.rdata(data);
        let _ = rr_addr(data, &rr);
    }
    let _ = parse_summary(data);
    if let Ok(h) = Header::parse(data) {
        if let Ok(mut q) = Query::new(b"a.example", TYPE_A, h.id, 0, 100, 1) {
            let _ = q.on_reply(data);
        }
    }
    let mut out = Vec::new();
    let _ = mdns::respond(data, b"dev", core::net::Ipv4Addr::LOCALHOST, false, &mut out);
    let _ = mdns::parse_query(data);
    let _ = mdns::parse_a_response(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn reply(id: u16, flags: u16, qname: &[u8], qtype: u16, answers: &[(&[u8], u16, &[u8])]) -> Vec<u8> {
        let mut m = Vec::new();
        Header {
            id,
            flags,
            qdcount: 1,
            ancount: answers.len() as u16,
            ..Header::default()
        }
        .write(&mut m);
        encode_name(qname, &mut m).unwrap();
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        for (owner, t, data) in answers {
            if owner.is_empty() {
                m.extend_from_slice(&[0xc0, 12]);
            } else {
                encode_name(owner, &mut m).unwrap();
            }
            m.extend_from_slice(&t.to_be_bytes());
            m.extend_from_slice(&CLASS_IN.to_be_bytes());
            m.extend_from_slice(&60u32.to_be_bytes());
            m.extend_from_slice(&(data.len() as u16).to_be_bytes());
            m.extend_from_slice(data);
        }
        m
    }

    #[test]
    fn query_bytes() {
        let mut out = Vec::new();
        encode_query(0x1234, b"a.bc.", TYPE_A, &mut out).unwrap();
        assert_eq!(
            out,
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x02bc\x00\x00\x01\x00\x01"
        );
        assert_eq!(encode_query(1, b"a..b", TYPE_A, &mut out), Err(ParseError::BadName));
        assert_eq!(encode_query(1, &[b'x'; 64], TYPE_A, &mut out), Err(ParseError::TooLong));
    }

    #[test]
    fn answer_via_compression_and_cname() {
        let mut q = Query::new(b"Host.Example", TYPE_A, 7, 0, 3000, 3).unwrap();
        assert!(matches!(q.poll(0), QueryStep::Send(_, 1000)));
        assert_eq!(q.poll(10), QueryStep::Wait(1000));
        let m = reply(
            7,
            FLAG_QR | FLAG_RD,
            b"host.example",
            TYPE_A,
            &[
                (b"", TYPE_CNAME, b"\x03www\xc0\x11"),
                (b"www.example", TYPE_A, &[10, 0, 0, 9]),
            ],
        );
        assert_eq!(q.on_reply(&m), Ok(Outcome::Answer("10.0.0.9".parse().unwrap())));
        assert_eq!(q.poll(20), QueryStep::Done);
    }

    #[test]
    fn spoofed_replies_are_ignored() {
        let mut q = Query::new(b"host.example", TYPE_A, 7, 0, 3000, 3).unwrap();
        let _ = q.poll(0);
        let a: &[u8] = &[6, 6, 6, 6];
        // Wrong id, wrong name, wrong type, not a response.
        assert_eq!(
            q.on_reply(&reply(8, FLAG_QR, b"host.example", TYPE_A, &[(b"", TYPE_A, a)])),
            Err(Ignored::NotOurs)
        );
        assert_eq!(
            q.on_reply(&reply(7, FLAG_QR, b"evil.example", TYPE_A, &[(b"", TYPE_A, a)])),
            Err(Ignored::NotOurs)
        );
        assert_eq!(
            q.on_reply(&reply(7, FLAG_QR, b"host.example", TYPE_AAAA, &[])),
            Err(Ignored::NotOurs)
        );
        assert_eq!(
            q.on_reply(&reply(7, 0, b"host.example", TYPE_A, &[(b"", TYPE_A, a)])),
            Err(Ignored::NotOurs)
        );
        assert_eq!(q.on_reply(b"\x00\x07"), Err(Ignored::Malformed));
        // An answer for another owner name in the right reply is not taken.
        assert_eq!(
            q.on_reply(&reply(
                7,
                FLAG_QR,
                b"host.example",
                TYPE_A,
                &[(b"other.example", TYPE_A, a)]
            )),
            Ok(Outcome::NoData)
        );
    }

    #[test]
    fn rcode_truncation_and_retries() {
        let mut q = Query::new(b"x.y", TYPE_A, 1, 100, 300, 3).unwrap();
        assert!(matches!(q.poll(100), QueryStep::Send(_, 200)));
        assert!(matches!(q.poll(200), QueryStep::Send(_, 300)));
        assert!(matches!(q.poll(300), QueryStep::Send(_, 400)));
        assert_eq!(q.poll(350), QueryStep::Wait(400));
        assert!(matches!(q.poll(400), QueryStep::TimedOut));
        // Late polls (a loaded host) do not push the last try past the deadline: the
        // tries keep their offsets from the start.
        let mut q = Query::new(b"x.y", TYPE_A, 1, 0, 900, 3).unwrap();
        assert!(matches!(q.poll(0), QueryStep::Send(_, 300)));
        assert!(matches!(q.poll(450), QueryStep::Send(_, 600)));
        assert!(matches!(q.poll(700), QueryStep::Send(_, 900)));
        assert!(matches!(q.poll(900), QueryStep::TimedOut));
        let mut q = Query::new(b"x.y", TYPE_A, 1, 0, 300, 3).unwrap();
        assert_eq!(
            q.on_reply(&reply(1, FLAG_QR | 3, b"x.y", TYPE_A, &[])),
            Ok(Outcome::Rcode(3))
        );
        let mut q = Query::new(b"x.y", TYPE_A, 1, 0, 300, 3).unwrap();
        let mut m = reply(1, FLAG_QR | FLAG_TC, b"x.y", TYPE_A, &[(b"", TYPE_A, &[1, 2, 3, 4])]);
        m.truncate(m.len() - 3);
        assert_eq!(q.on_reply(&m), Ok(Outcome::Truncated));
    }

    #[test]
    fn pointer_loops_and_forward_pointers_fail() {
        let mut n = Name::default();
        // Points to itself.
        let m = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0\x0c";
        assert_eq!(read_name(m, 12, &mut n), Err(ParseError::BadPointer));
        // Two names pointing at each other.
        let m = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01a\xc0\x10\x01b\xc0\x0c";
        assert_eq!(read_name(m, 16, &mut n), Err(ParseError::BadPointer));
        assert_eq!(read_name(m, 12, &mut n), Err(ParseError::BadPointer));
        // Label type 0x40, truncated label, truncated pointer.
        assert_eq!(read_name(b"\x41", 0, &mut n), Err(ParseError::BadLabel));
        assert_eq!(read_name(b"\x05ab", 0, &mut n), Err(ParseError::Short));
        assert_eq!(read_name(b"\x01a\xc0", 0, &mut n), Err(ParseError::Short));
        // A backward pointer is fine.
        let m = b"\x01a\x00\x01b\xc0\x00";
        assert_eq!(read_name(m, 3, &mut n), Ok(4));
        assert_eq!(n.as_bytes(), b"b.a");
    }

    #[test]
    fn long_names_are_refused() {
        let mut m = Vec::new();
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.push(0);
        let mut n = Name::default();
        assert_eq!(read_name(&m, 0, &mut n), Err(ParseError::TooLong));
    }

    #[test]
    fn summary_like_mongoose() {
        let m = reply(9, FLAG_QR, b"h.local", TYPE_A, &[(b"", TYPE_A, &[192, 168, 1, 2])]);
        let s = parse_summary(&m).unwrap();
        assert_eq!(s.header.id, 9);
        assert_eq!(s.name.as_bytes(), b"h.local");
        assert_eq!(s.addr, Some("192.168.1.2".parse().unwrap()));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        fn label() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(prop_oneof![b'a'..=b'z', b'0'..=b'9', Just(b'-')], 1..20)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600),
                                           off in 0usize..600, q in any::<bool>()) {
                drive(&data, off, q);
            }

            #[test]
            fn mutated_replies_never_panic(labels in proptest::collection::vec(label(), 1..5),
                                           flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
                let name = labels.join(&b'.');
                prop_assume!(name.len() <= MAX_NAME);
                let mut m = Vec::new();
                encode_query(3, &name, TYPE_A, &mut m).unwrap();
                m[2] |= 0x80;
                m[7] = 1;
                m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
                let mut q = Query::new(&name, TYPE_A, 3, 0, 1000, 2).unwrap();
                let _ = q.poll(0);
                let intact = m.clone();
                for (at, v) in &flips {
                    let i = at % m.len();
                    m[i] = *v;
                }
                let r = q.on_reply(&m);
                if m == intact {
                    prop_assert_eq!(r, Ok(Outcome::Answer("1.2.3.4".parse().unwrap())));
                }
                drive(&m, 12, true);
            }

            #[test]
            fn forged_replies_never_answer(id in any::<u16>(), fid in any::<u16>(), same_id in any::<bool>(),
                                           name in label(), fname in label(), same_name in any::<bool>(),
                                           ftype in prop_oneof![Just(TYPE_A), Just(TYPE_AAAA), any::<u16>()],
                                           addr in any::<[u8; 4]>()) {
                // A reply that differs from the query in id, name or type is never taken,
                // whatever it answers; one that matches in all three is.
                let fid = if same_id { id } else { fid };
                let fname = if same_name { name.to_ascii_uppercase() } else { fname };
                let mut q = Query::new(&name, TYPE_A, id, 0, 1000, 1).unwrap();
                let _ = q.poll(0);
                let mut m = Vec::new();
                Header { id: fid, flags: FLAG_QR, qdcount: 1, ancount: 1, ..Header::default() }.write(&mut m);
                encode_name(&fname, &mut m).unwrap();
                m.extend_from_slice(&ftype.to_be_bytes());
                m.extend_from_slice(&CLASS_IN.to_be_bytes());
                m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                m.extend_from_slice(&addr);
                let same = fid == id && fname.eq_ignore_ascii_case(&name) && ftype == TYPE_A;
                let r = q.on_reply(&m);
                if same {
                    prop_assert_eq!(r, Ok(Outcome::Answer(IpAddr::from(addr))));
                } else {
                    prop_assert_eq!(r, Err(Ignored::NotOurs));
                }
            }

            #[test]
            fn names_round_trip(labels in proptest::collection::vec(label(), 1..8)) {
                let name = labels.join(&b'.');
                prop_assume!(name.len() <= MAX_NAME);
                let mut m = Vec::new();
                encode_name(&name, &mut m).unwrap();
                let mut n = Name::default();
                prop_assert_eq!(read_name(&m, 0, &mut n), Ok(m.len()));
                prop_assert_eq!(n.as_bytes(), &name[..]);
            }
        }
    }
}
