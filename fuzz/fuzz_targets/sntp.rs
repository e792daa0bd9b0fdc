//! `meerkat::sntp` (reply checks, timestamp conversion) over arbitrary datagrams: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = data.get(48..56).map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap()));
    meerkat::sntp::drive(data, now, now / 2);
});
