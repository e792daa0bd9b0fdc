//! Arbitrary bytes as an SSI page whose every include is the page itself (`util::ssi`: no
//! panic, output and reads bounded by `ssi::MAX_INCLUDES`), as a JWT (`meerkat::util::jwt::verify`, HS256 and ES256) and as an HTTP
//! head for `mg_http_parse` / `mg_http_get_request_len`: no panic, and every string
//! `mg_http_parse` returns (but the body, which is the declared length as in Mongoose) lies
//! inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meerkat::ffi::compat::{mg_http_get_request_len, mg_http_parse};
use meerkat::ffi::*;
use meerkat::util::{jwt, ssi};

// RFC 7515 A.3's public key (x || y).
const PUB: [u8; 64] = [
    0x7f, 0xcd, 0xce, 0x27, 0x70, 0xf6, 0xc4, 0x5d, 0x41, 0x83, 0xcb, 0xee, 0x6f, 0xdb, 0x4b, 0x7b, 0x58, 0x07,
    0x33, 0x35, 0x7b, 0xe9, 0xef, 0x13, 0xba, 0xcf, 0x6e, 0x3c, 0x7b, 0xd1, 0x54, 0x45, 0xc7, 0xf1, 0x44, 0xcd,
    0x1b, 0xbd, 0x9b, 0x7e, 0x87, 0x2c, 0xdf, 0xed, 0xb9, 0xee, 0xb9, 0xf4, 0xb3, 0x69, 0x5d, 0x6e, 0xa9, 0x0b,
    0x24, 0xad, 0x8a, 0x46, 0x23, 0x28, 0x85, 0x88, 0xe5, 0xad,
];

fuzz_target!(|data: &[u8]| {
    let mut reads = 0usize;
    let out = ssi::expand(b"/p", b"", &mut |_| {
        reads += 1;
        Some(data.to_vec())
    });
    // At most MAX_INCLUDES copies of the page are pasted in.
    assert!(out.is_some_and(|o| o.len() <= data.len() * (ssi::MAX_INCLUDES + 1)));
    assert!(reads <= ssi::MAX_INCLUDES + 1);
    let _ = jwt::verify(data, jwt::Key::Hs256(b"secret"));
    let _ = jwt::verify(data, jwt::Key::Es256(&PUB));

    let n = mg_http_get_request_len(data.as_ptr(), data.len());
    assert!(n <= data.len() as i32);
    let mut hm: mg_http_message = unsafe { std::mem::zeroed() };
    let r = mg_http_parse(data.as_ptr().cast(), data.len(), &mut hm);
    // The same head length, or -1 for a complete head that is not a request or response.
    assert!(r == n || (n > 0 && r == -1));
    if r > 0 {
        let range = data.as_ptr_range();
        for s in [hm.method, hm.uri, hm.query, hm.proto, hm.head] {
            if s.len > 0 {
                assert!(range.contains(&(s.buf as *const u8)));
                assert!(s.buf as usize + s.len <= range.end as usize);
            }
        }
        for i in 0..hm.num_headers {
            let h = unsafe { *hm.headers.add(i) };
            assert!(h.name.buf as usize + h.name.len <= range.end as usize);
            assert!(h.value.len == 0 || h.value.buf as usize + h.value.len <= range.end as usize);
        }
    }
});
