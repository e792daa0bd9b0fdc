//! `Range: bytes=...` (RFC 9110 §14.1.1, §14.2).
//!
//! One range is honoured (206). A header with several ranges is ignored and the whole file
//! is sent with 200, which RFC 9110 §14.2 allows ("a server MAY ignore the Range header
//! field"); multipart/byteranges is not implemented. A header that is not valid `bytes`
//! syntax, or uses another unit, is ignored the same way. A single syntactically valid range
//! that does not overlap the file is 416.

use crate::util::str::{piece, EqCi};

/// What to send for a `Range` header and a representation of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// Ignore the header: send the whole representation (200).
    Whole,
    /// Send bytes `start..=end` (206). `end < len`.
    Part { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Decimal digits; saturates at `u64::MAX` (an absurd position is then simply out of range).
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .fold(0u64, |a, &c| a.saturating_mul(10).saturating_add(u64::from(c - b'0'))),
    )
}

/// Evaluate a `Range` header value against a representation of `len` bytes.
pub fn evaluate(value: &[u8], len: u64) -> Ranged {
    let value = value.trim_ascii();
    let Some(eq) = value.iter().position(|&c| c == b'=') else {
        return Ranged::Whole;
    };
    if !value[..eq].trim_ascii().eq_ci(b"bytes") {
        return Ranged::Whole;
    }
    let mut specs = &value[eq + 1..];
    let mut one = None;
    while let Some(s) = piece(&mut specs, b',') {
        if s.is_empty() {
            continue;
        }
        if one.is_some() {
            return Ranged::Whole; // several: not supported, send it all
        }
        one = Some(s);
    }
    let Some(spec) = one else {
        return Ranged::Whole; // none
    };
    let Some(dash) = spec.iter().position(|&c| c == b'-') else {
        return Ranged::Whole;
    };
    let (first, last) = (&spec[..dash], &spec[dash + 1..]);
    if first.is_empty() {
        // suffix-range: the last n bytes
        let Some(n) = digits(last) else { return Ranged::Whole };
        if n == 0 || len == 0 {
            return Ranged::Unsatisfiable;
        }
        return Ranged::Part {
            start: len - n.min(len),
            end: len - 1,
        };
    }
    let Some(start) = digits(first) else {
        return Ranged::Whole;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match digits(last) {
            Some(e) if e >= start => e,
            _ => return Ranged::Whole, // invalid range-spec
        }
    };
    if start >= len {
        return Ranged::Unsatisfiable;
    }
    Ranged::Part {
        start,
        end: end.min(len - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ranged::*;

    #[test]
    fn single_ranges() {
        assert_eq!(evaluate(b"bytes=0-499", 1000), Part { start: 0, end: 499 });
        assert_eq!(evaluate(b"bytes=500-", 1000), Part { start: 500, end: 999 });
        assert_eq!(evaluate(b"bytes=-200", 1000), Part { start: 800, end: 999 });
        assert_eq!(evaluate(b"bytes=-2000", 1000), Part { start: 0, end: 999 });
        assert_eq!(evaluate(b"bytes=900-5000", 1000), Part { start: 900, end: 999 });
        assert_eq!(evaluate(b"Bytes = 1-1", 1000), Part { start: 1, end: 1 });
        assert_eq!(
            evaluate(b"bytes=0-99999999999999999999999", 10),
            Part { start: 0, end: 9 }
        );
        assert_eq!(evaluate(b"bytes=1-2,", 10), Part { start: 1, end: 2 });
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(evaluate(b"bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(evaluate(b"bytes=1000-1001", 1000), Unsatisfiable);
        assert_eq!(evaluate(b"bytes=-0", 1000), Unsatisfiable);
        assert_eq!(evaluate(b"bytes=0-", 0), Unsatisfiable);
        assert_eq!(evaluate(b"bytes=-5", 0), Unsatisfiable);
        assert_eq!(evaluate(b"bytes=99999999999999999999999-", 10), Unsatisfiable);
    }

    #[test]
    fn ignored() {
        for v in [
            &b""[..],
            b"bytes",
            b"bytes=",
            b"items=0-1",
            b"bytes=5-1",
            b"bytes=a-b",
            b"bytes=1",
            b"bytes=--1",
            b"bytes=0-1,5-6",
            b"bytes=0-1, -1",
            b"bytes=1 - 2",
        ] {
            assert_eq!(evaluate(v, 1000), Whole, "{:?}", String::from_utf8_lossy(v));
        }
    }
}
