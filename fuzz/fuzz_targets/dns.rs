//! `meerkat::dns` (names with compression, records, whole messages, the query machine's
//! reply check, the mDNS responder) over arbitrary datagrams: no panic, no hang, every
//! offset returned lies inside the datagram.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meerkat::dns::drive(data, 12, false);
    meerkat::dns::drive(data, 12, true);
    if let Some(&first) = data.first() {
        meerkat::dns::drive(data, usize::from(first), first & 1 == 0);
    }
});
