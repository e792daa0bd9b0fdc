//! Drives `meerkat::http::RequestParser` over arbitrary bytes fed in arbitrary splits: no
//! panic, consumption within the input, spans within bounds, and the same events whether
//! the stream arrives whole or in pieces (see `meerkat::http::drive::fuzz_request`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    meerkat::http::drive::fuzz_request(data);
});
