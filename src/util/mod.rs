//! Pure helpers with no I/O: string matching, URL parsing, JSON lookup, hash padding and
//! encodings, MD5, address parsing and ACLs, JSON-RPC framing, the SPSC queue arithmetic,
//! caller-driven timers, the clock and random hooks, the device dashboard's protocol.
#![forbid(unsafe_code)]
pub mod clock;
pub mod codec;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod dash;
pub mod json;
pub mod jwt;
pub mod md5;
pub mod net;
pub mod packed;
pub mod queue;
pub mod rpc;
pub mod ssi;
pub mod str;
pub mod timer;
pub mod url;

/// The first `b` in `hay`: the platform's `memchr` ([`crate::sys::memchr`]; the C
/// library's on the libc backend), the one byte search of the parsers and path checks.
#[inline]
pub fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    crate::sys::memchr(b, hay)
}

/// The first `a` or `b` in `hay` (a line's CR or LF): the first `b`, then the first `a`
/// before it. Two searches of the C library's instead of a second search routine; the
/// first stops at the line's end, so the second walks one line.
#[inline]
pub fn memchr2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    let at_b = memchr(b, hay);
    memchr(a, &hay[..at_b.unwrap_or(hay.len())]).or(at_b)
}

/// `v.push(b)` for the byte vectors of the footprint build's code, through
/// `extend_from_slice`: a byte `Vec::push` grows through std's own precompiled
/// `RawVec<u8>::grow_one` and its `finish_grow` (~200 B that no other vector shares), where
/// `extend_from_slice` grows through the code every vector links anyway. Out of line, so
/// that the byte is an argument: a `&[0]` at a call site would be a pooled 1-byte constant
/// (see [`str::cut`]).
#[inline(never)]
pub(crate) fn push_byte(v: &mut alloc::vec::Vec<u8>, b: u8) {
    v.extend_from_slice(&[b]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Bytes drawn mostly from the searched ones, so that hits, misses, CRLF pairs and
    /// empty slices all come up.
    fn bytes() -> impl Strategy<Value = alloc::vec::Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), any::<u8>()], 0..80)
    }

    proptest! {
        /// The platform search and the two-byte search built on it agree with the `memchr`
        /// crate's (what the framers called before), at every offset into the slice.
        #[test]
        fn memchr_and_memchr2_are_the_crates(hay in bytes(), a in any::<u8>(), b in any::<u8>(), from in 0usize..80) {
            let hay = hay.get(from..).unwrap_or_default();
            prop_assert_eq!(super::memchr(a, hay), memchr::memchr(a, hay));
            prop_assert_eq!(super::memchr2(a, b, hay), memchr::memchr2(a, b, hay));
            prop_assert_eq!(super::memchr2(b'\r', b'\n', hay), memchr::memchr2(b'\r', b'\n', hay));
        }
    }

    #[test]
    fn memchr_edges() {
        assert_eq!(super::memchr(b'x', b""), None);
        assert_eq!(super::memchr(0, b"\0"), Some(0));
        assert_eq!(super::memchr2(b'\r', b'\n', b"ab\n\r"), Some(2));
        assert_eq!(super::memchr2(b'\r', b'\n', b"ab\r\n"), Some(2));
        assert_eq!(super::memchr2(b'\r', b'\n', b"abc"), None);
        // Past a 4 KiB page and a 64-byte vector: the C library's wide loads stay in bounds.
        let long = [b'a'; 5000];
        assert_eq!(super::memchr(b'b', &long[1..]), None);
        let mut long = long;
        long[4999] = b'\n';
        assert_eq!(super::memchr2(b'\r', b'\n', &long[3..]), Some(4996));
    }
}
