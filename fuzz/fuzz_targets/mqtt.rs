//! Drives `meerkat::mqtt` over arbitrary bytes as the manager does: frame packets one after
//! another (3.1.1 or 5, chosen by the first byte, with a size limit), answer them with a
//! session, walk their properties. No panic; a framed packet is within the limit and the
//! input, decodes, and re-encodes to bytes that decode to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meerkat::mqtt::{self, props, session::Session, Packet, Parsed};

const MAX: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let version = if sel & 1 == 0 { 4 } else { 5 };
    let mut s = Session::new(version);
    s.set_keepalive(u16::from(sel), sel & 2 == 0, 0);
    let mut out = Vec::new();
    while let Ok(Parsed::Packet(m)) = mqtt::parse(rest, version, MAX) {
        assert!(m.dgram.len() <= MAX && m.dgram.len() <= rest.len() && !m.dgram.is_empty());
        assert!(m.props_start + m.props_size <= m.dgram.len());
        let p = Packet::decode(m.dgram, version).expect("a framed packet decodes");
        let mut again = Vec::new();
        p.encode(version, &mut again);
        assert_eq!(Packet::decode(&again, version).expect("re-encoded"), p);
        let mut at = 0;
        while let Ok(Some((_, next))) = props::next(m.props(), at) {
            assert!(next > at);
            at = next;
        }
        s.on_packet(&p, &mut out);
        let _ = s.due(u64::from(sel) * 1000);
        rest = &rest[m.dgram.len()..];
    }
    s.retransmit(&mut out);
});
