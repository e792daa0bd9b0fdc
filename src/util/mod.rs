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
