//! Drives `meerkat::http::ResponseParser` over arbitrary bytes fed in arbitrary splits
//! (see `meerkat::http::drive::fuzz_response`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meerkat::http::drive::fuzz_response(data);
});
