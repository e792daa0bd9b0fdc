//! Sans-IO SNTP client (RFC 4330): build a request, check and read the reply.
//!
//! [`Request`] remembers the transmit timestamp it put in its datagram (random low bits, so
//! that an off-path attacker cannot guess it) and the local time it was sent; a reply is
//! taken only if it is a server reply (mode 4), from a synchronised server (stratum 1..=15,
//! leap indicator not 3), version 3 or 4, whose origin timestamp echoes ours
//! ([`Request::on_reply`]). The wall-clock time is the server's transmit time plus half the
//! round trip minus the server's own processing time. Time comes in as an argument (local
//! monotonic milliseconds); nothing here reads a clock. Only `core`.
#![forbid(unsafe_code)]

/// Length of an SNTP packet without extensions.
pub const PACKET_LEN: usize = 48;
/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Why a reply was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SntpError {
    /// Shorter than 48 bytes.
    Short,
    /// Not mode 4 (server).
    Mode,
    /// Version other than 3 or 4.
    Version,
    /// Stratum 0 (kiss-o'-death) or above 15.
    Stratum,
    /// Leap indicator 3: the server's clock is not synchronised.
    Unsynchronised,
    /// The origin timestamp is not the one we sent (a stale or spoofed reply).
    Origin,
    /// Transmit timestamp zero or before 1970.
    BadTime,
}

fn ts(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(v)
}

/// An NTP timestamp (32.32 fixed point seconds since 1900; era 1 from 2036 on, for values
/// with the top bit clear) as Unix milliseconds. `None` for zero or before 1970.
pub fn ntp_to_unix_ms(t: u64) -> Option<u64> {
    if t == 0 {
        return None;
    }
    let mut secs = t >> 32;
    if secs < 0x8000_0000 {
        secs += 1 << 32; // era 1 (after 2036-02-07)
    }
    let frac_ms = ((t & 0xffff_ffff) * 1000) >> 32;
    (secs.checked_sub(NTP_UNIX_OFFSET)?)
        .checked_mul(1000)?
        .checked_add(frac_ms)
}

/// Check a reply's header fields (everything but the origin echo) and return its transmit
/// time in Unix milliseconds: what Mongoose's `mg_sntp_parse` reports.
pub fn parse(buf: &[u8]) -> Result<u64, SntpError> {
    if buf.len() < PACKET_LEN {
        return Err(SntpError::Short);
    }
    let (li, vn, mode) = (buf[0] >> 6, (buf[0] >> 3) & 7, buf[0] & 7);
    if mode != 4 {
        return Err(SntpError::Mode);
    }
    if vn != 3 && vn != 4 {
        return Err(SntpError::Version);
    }
    if buf[1] == 0 || buf[1] > 15 {
        return Err(SntpError::Stratum);
    }
    if li == 3 {
        return Err(SntpError::Unsynchronised);
    }
    ntp_to_unix_ms(ts(buf, 40)).ok_or(SntpError::BadTime)
}

/// One request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    origin: [u8; 8],
    sent_at: u64,
}

impl Request {
    /// A request sent at local time `now` (ms); `nonce` (random bytes from the caller) makes
    /// the transmit timestamp unguessable. Returns the request and the datagram to send.
    pub fn new(now: u64, nonce: [u8; 8]) -> (Request, [u8; PACKET_LEN]) {
        let mut p = [0u8; PACKET_LEN];
        p[0] = (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
        let origin = nonce;
        p[40..48].copy_from_slice(&origin);
        (Request { origin, sent_at: now }, p)
    }

    /// Check `buf` as the reply to this request, received at local time `now`, and return
    /// the wall-clock time at `now` in Unix milliseconds.
    pub fn on_reply(&self, buf: &[u8], now: u64) -> Result<u64, SntpError> {
        let transmit = parse(buf)?;
        if buf[24..32] != self.origin {
            return Err(SntpError::Origin);
        }
        let receive = ntp_to_unix_ms(ts(buf, 32)).unwrap_or(transmit);
        let server_time = transmit.saturating_sub(receive);
        let rtt = now.saturating_sub(self.sent_at).saturating_sub(server_time);
        Ok(transmit.saturating_add(rtt / 2))
    }
}

/// The logic of the `sntp` fuzz target (also run by the property tests): every entry point
/// over `data`, none may panic.
pub fn drive(data: &[u8], now: u64, sent: u64) {
    let _ = parse(data);
    let nonce = data.get(24..32).and_then(|s| s.try_into().ok()).unwrap_or([0; 8]);
    let (req, p) = Request::new(sent, nonce);
    assert_eq!(p.len(), PACKET_LEN);
    let _ = req.on_reply(data, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(req: &[u8; PACKET_LEN], first: u8, stratum: u8, unix_ms: u64) -> [u8; PACKET_LEN] {
        let mut r = [0u8; PACKET_LEN];
        r[0] = first;
        r[1] = stratum;
        r[24..32].copy_from_slice(&req[40..48]);
        let secs = unix_ms / 1000 + NTP_UNIX_OFFSET;
        let frac = ((unix_ms % 1000) << 32) / 1000 + 1;
        let t = ((secs & 0xffff_ffff) << 32) | frac;
        r[32..40].copy_from_slice(&t.to_be_bytes());
        r[40..48].copy_from_slice(&t.to_be_bytes());
        r
    }

    #[test]
    fn good_and_bad_replies() {
        let (req, p) = Request::new(1000, [1, 2, 3, 4, 5, 6, 7, 8]);
        let t = 1_765_000_000_123;
        assert_eq!(req.on_reply(&reply(&p, 0x24, 2, t), 1040), Ok(t + 20));
        assert_eq!(parse(&reply(&p, 0x24, 2, t)), Ok(t));
        assert_eq!(req.on_reply(&reply(&p, 0x23, 2, t), 1040), Err(SntpError::Mode));
        assert_eq!(req.on_reply(&reply(&p, 0x24, 0, t), 1040), Err(SntpError::Stratum));
        assert_eq!(req.on_reply(&reply(&p, 0x24, 16, t), 1040), Err(SntpError::Stratum));
        assert_eq!(
            req.on_reply(&reply(&p, 0xe4, 2, t), 1040),
            Err(SntpError::Unsynchronised)
        );
        assert_eq!(req.on_reply(&reply(&p, 0x14, 2, t), 1040), Err(SntpError::Version));
        let mut r = reply(&p, 0x24, 2, t);
        r[30] ^= 1;
        assert_eq!(req.on_reply(&r, 1040), Err(SntpError::Origin));
        assert_eq!(req.on_reply(&r[..47], 1040), Err(SntpError::Short));
        // A 2036+ timestamp (era 1).
        assert_eq!(
            ntp_to_unix_ms(1 << 32),
            Some(((1u64 << 32) + 1 - NTP_UNIX_OFFSET) * 1000)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
                        now in proptest::prelude::any::<u64>(), sent in proptest::prelude::any::<u64>()) {
            drive(&data, now, sent);
        }
    }
}
