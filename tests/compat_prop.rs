//! Property tests for the third utility slice: base64url against the `base64` crate's
//! encoding, CRC-16 continuation, `mg_timegm` against a day-by-day count, JWTs (what is signed
//! verifies, any changed byte does not), `mg_http_parse` on any bytes (no panic, spans inside
//! the input) and on generated requests (the fields come back).

use std::ffi::c_char;

use meerkat::ffi::compat::*;
use meerkat::ffi::types::{mg_http_message, mg_str};
use meerkat::util::{codec, jwt};
use proptest::prelude::*;

fn b64url_ref(data: &[u8]) -> String {
    // RFC 4648 §5 without padding, written out.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn timegm_ref(y: u32, m: u32, d: u32) -> u64 {
    let mdays = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut days: u64 = (1970..y).map(|yy| if is_leap(yy) { 366 } else { 365 }).sum();
    days += mdays[..(m - 1) as usize].iter().sum::<u64>();
    (days + u64::from(d) - 1) * 86_400
}

proptest! {
    #[test]
    fn base64url_round_trip(data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let mut enc = vec![0u8; 200];
        let n = mg_base64url_encode(data.as_ptr(), data.len(), enc.as_mut_ptr().cast(), enc.len());
        let want = b64url_ref(&data);
        prop_assert_eq!(&enc[..n], want.as_bytes());
        prop_assert_eq!(enc[n], 0);
        let mut dec = vec![0u8; 120];
        let k = mg_base64url_decode(enc.as_ptr().cast(), n, dec.as_mut_ptr().cast(), dec.len());
        prop_assert_eq!(&dec[..k], &data[..]);
    }

    #[test]
    fn crc16_continues(a in proptest::collection::vec(any::<u8>(), 0..64),
                       b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let whole: Vec<u8> = a.iter().chain(&b).copied().collect();
        prop_assert_eq!(codec::crc16(codec::crc16(0, &a), &b), codec::crc16(0, &whole));
    }

    #[test]
    fn timegm_counts_days(y in 1970u32..2400, m in 1u32..=12, d in 1u32..=28,
                          h in 0u32..24, mi in 0u32..60, s in 0u32..60) {
        let want = timegm_ref(y, m, d) + u64::from(h) * 3600 + u64::from(mi) * 60 + u64::from(s);
        prop_assert_eq!(mg_timegm(y, m, d, h, mi, s), want);
    }

    #[test]
    fn jwt_hs256_signed_verifies_and_tampering_fails(
        claims in "\\{\"[a-z]{1,8}\":[0-9]{1,6}\\}",
        secret in proptest::collection::vec(any::<u8>(), 0..80),
        flip in any::<prop::sample::Index>(),
    ) {
        let c = jwt::Claims { claims: claims.as_bytes(), header: b"", kid: b"" };
        let t = jwt::sign(&c, jwt::Key::Hs256(&secret)).unwrap();
        prop_assert_eq!(jwt::verify(&t, jwt::Key::Hs256(&secret)).unwrap(), claims.as_bytes());
        let mut bad = t.clone();
        let i = flip.index(bad.len());
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        // A changed byte in the header, payload or signature: refused (the last character of
        // a part may carry unused bits, so a change there can decode to the same bytes).
        if jwt::verify(&bad, jwt::Key::Hs256(&secret)).is_ok() {
            let part_end = bad[i..].iter().position(|&b| b == b'.').map_or(bad.len(), |p| i + p);
            prop_assert_eq!(part_end, i + 1);
        }
    }

    #[test]
    fn http_parse_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut hm: mg_http_message = unsafe { std::mem::zeroed() };
        let r = mg_http_parse(data.as_ptr().cast(), data.len(), &mut hm);
        let n = mg_http_get_request_len(data.as_ptr(), data.len());
        // The same head length, or -1 for a complete head that is not a request or response.
        prop_assert!(r == n || (n > 0 && r == -1));
        if r > 0 {
            let end = data.as_ptr() as usize + data.len();
            for s in [hm.method, hm.uri, hm.query, hm.proto, hm.head] {
                prop_assert!(s.len == 0 || (s.buf as usize >= data.as_ptr() as usize && s.buf as usize + s.len <= end));
            }
        }
    }

    #[test]
    fn http_parse_generated_requests(method in "GET|POST|PUT|DELETE", path in "/[a-z0-9/]{0,20}",
                                     query in proptest::option::of("[a-z]=[0-9]{1,3}"),
                                     names in proptest::collection::vec("[A-Za-z][A-Za-z-]{0,10}", 0..6),
                                     body in "[a-z]{0,20}") {
        let target = match &query { Some(q) => format!("{path}?{q}"), None => path.clone() };
        let mut req = format!("{method} {target} HTTP/1.1\r\n");
        for (i, n) in names.iter().enumerate() {
            req.push_str(&format!("X-{n}: v{i}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let mut hm: mg_http_message = unsafe { std::mem::zeroed() };
        let r = mg_http_parse(req.as_ptr() as *const c_char, req.len(), &mut hm);
        prop_assert_eq!(r as usize, req.len() - body.len());
        let get = |s: mg_str| unsafe { std::slice::from_raw_parts(s.buf as *const u8, s.len) }.to_vec();
        prop_assert_eq!(get(hm.method), method.as_bytes());
        prop_assert_eq!(get(hm.uri), path.as_bytes());
        prop_assert_eq!(get(hm.query), query.unwrap_or_default().into_bytes());
        prop_assert_eq!(get(hm.body), body.as_bytes());
        prop_assert_eq!(hm.num_headers, names.len() + 1);
        for (i, n) in names.iter().enumerate() {
            let h = unsafe { *hm.headers.add(i) };
            prop_assert_eq!(get(h.name), format!("X-{n}").into_bytes());
            prop_assert_eq!(get(h.value), format!("v{i}").into_bytes());
        }
    }
}
