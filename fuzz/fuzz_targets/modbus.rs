//! `meerkat::modbus` (MBAP framing, request checks, responses) over an arbitrary byte
//! stream: no panic, every response a well-formed frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meerkat::modbus::drive(data);
});
