//! Validators and conditional requests (RFC 9110 §8.8, §13), and `Accept-Encoding`.
//!
//! The entity tag is strong: `"<mtime seconds, hex>.<mtime nanoseconds, hex>-<size, hex>"`,
//! with `-gz` appended inside the quotes for the precompressed representation, so the two
//! representations of one file never share a tag. Preconditions are evaluated in the order of
//! RFC 9110 §13.2.2: If-Match, If-Unmodified-Since (only without If-Match), If-None-Match,
//! If-Modified-Since (only without If-None-Match, GET/HEAD only); If-Range is in
//! [`if_range_allows`].

use crate::prelude::*;
use crate::util::str::{piece, EqCi};
/// The strong entity tag (with quotes) of a representation.
pub fn etag(size: u64, mtime_secs: i64, mtime_nanos: u32, gzip: bool) -> String {
    let gz = if gzip { "-gz" } else { "" };
    // Negative times (before 1970) print as two's complement: still unique and stable.
    format!("\"{:x}.{:x}-{:x}{gz}\"", mtime_secs as u64, mtime_nanos, size)
}

/// [`etag`] in a buffer on the stack: `"<hex>.<hex>-<hex>[-gz]"`, at most 47 bytes.
pub struct ETag {
    buf: [u8; 48],
    len: usize,
}

impl core::ops::Deref for ETag {
    type Target = str;
    fn deref(&self) -> &str {
        // Only ASCII is ever written.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl AsRef<[u8]> for ETag {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// `n` in lower-case hex without leading zeros, written into `buf` from `at`; returns where
/// it ends (at most 16 digits: the caller leaves room).
fn hex_at(buf: &mut [u8; 48], at: usize, n: u64) -> usize {
    let end = at + (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    let (mut n, mut i) = (n, end);
    while i > at {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = crate::util::str::HEX_LOWER[(n & 0xf) as usize];
        }
        n >>= 4;
    }
    end
}

/// [`etag`] without an allocation.
pub fn etag_buf(size: u64, mtime_secs: i64, mtime_nanos: u32, gzip: bool) -> ETag {
    // At most 1 + 16 + 1 + 8 + 1 + 16 + 3 + 1 = 47 bytes.
    // Zeroed, the quotes put in by hand: `[b'"'; 48]` is filled from a 16-byte splat of `"`
    // in LLVM's `.rodata.cst16` pool (see `crate::util::str::HEX_LOWER`).
    let mut buf = [0u8; 48];
    buf[0] = b'"';
    // Positions are bounded as above; `get_mut` keeps panics out all the same.
    let put = |buf: &mut [u8; 48], at: usize, s: &[u8]| {
        if let Some(d) = buf.get_mut(at..at + s.len()) {
            d.copy_from_slice(s);
        }
        at + s.len()
    };
    let mut at = hex_at(&mut buf, 1, mtime_secs as u64);
    at = put(&mut buf, at, b".");
    at = hex_at(&mut buf, at, u64::from(mtime_nanos));
    at = put(&mut buf, at, b"-");
    at = hex_at(&mut buf, at, size);
    if gzip {
        at = put(&mut buf, at, b"-gz");
    }
    if let Some(b) = buf.get_mut(at) {
        *b = b'"';
    }
    ETag { buf, len: at + 1 }
}

/// Whether `list` (an If-Match / If-None-Match value) matches our strong `tag`. `weak`
/// selects weak comparison (If-None-Match) over strong comparison (If-Match). `*` matches.
/// The members are entity-tags (`"..."` or `W/"..."`, commas allowed inside the quotes);
/// a malformed member is skipped to the next comma, and an unclosed quote ends the list.
/// One pass, nothing collected.
fn list_matches(list: &[u8], tag: &[u8], weak: bool) -> bool {
    if list.trim_ascii() == b"*" {
        return true;
    }
    let mut i = 0;
    while let Some(&c) = list.get(i) {
        if c == b' ' || c == b'\t' || c == b',' {
            i += 1;
            continue;
        }
        let rest = list.get(i..).unwrap_or_default();
        let is_weak = rest.starts_with(b"W/");
        let open = if is_weak { i + 2 } else { i };
        if list.get(open) != Some(&b'"') {
            // Not an entity-tag: skip to the next comma.
            i = rest.iter().position(|&c| c == b',').map_or(list.len(), |p| i + p + 1);
            continue;
        }
        let Some(p) = list.get(open + 1..).and_then(|r| r.iter().position(|&c| c == b'"')) else {
            break;
        };
        let close = open + 1 + p;
        if (weak || !is_weak) && list.get(open..=close).is_some_and(|t| t == tag) {
            return true;
        }
        i = close + 1;
    }
    false
}

/// The outcome of the preconditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Go on with the request (and maybe a range).
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// The conditional header fields of a request (values combined when a field repeats).
#[derive(Debug, Default, Clone, Copy)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a [u8]>,
    /// Without the `http-dates` feature the date fields are not looked at (nor kept).
    #[cfg(feature = "http-dates")]
    pub if_unmodified_since: Option<&'a [u8]>,
    pub if_none_match: Option<&'a [u8]>,
    #[cfg(feature = "http-dates")]
    pub if_modified_since: Option<&'a [u8]>,
}

/// Evaluate preconditions for a GET or HEAD of a representation with `tag` and last
/// modification `mtime` (whole seconds). Unparseable dates are ignored, as RFC 9110 requires
/// (without the `http-dates` feature, all dates are).
pub fn evaluate(c: &Conditions<'_>, tag: &[u8], mtime: i64) -> Outcome {
    if let Some(v) = c.if_match {
        if !list_matches(v, tag, false) {
            return Outcome::Failed;
        }
    } else {
        #[cfg(feature = "http-dates")]
        if let Some(d) = c.if_unmodified_since.and_then(super::date::parse) {
            if mtime > d {
                return Outcome::Failed;
            }
        }
    }
    if let Some(v) = c.if_none_match {
        if list_matches(v, tag, true) {
            return Outcome::NotModified;
        }
    } else {
        #[cfg(feature = "http-dates")]
        if let Some(d) = c.if_modified_since.and_then(super::date::parse) {
            if mtime <= d {
                return Outcome::NotModified;
            }
        }
    }
    #[cfg(not(feature = "http-dates"))]
    let _ = mtime;
    Outcome::Proceed
}

/// `If-Range` (RFC 9110 §13.1.5): whether the Range header may be honoured. An entity-tag
/// must match strongly; a date must equal Last-Modified exactly (without the `http-dates`
/// feature there is no Last-Modified, so a date never does). Anything else: no.
pub fn if_range_allows(value: &[u8], tag: &[u8], mtime: i64) -> bool {
    let v = value.trim_ascii();
    if v.starts_with(b"\"") || v.starts_with(b"W/") {
        // Our tag is strong: a weak tag never equals it.
        return v == tag;
    }
    #[cfg(not(feature = "http-dates"))]
    return {
        let _ = mtime;
        false
    };
    #[cfg(feature = "http-dates")]
    return super::date::parse(v) == Some(mtime);
}

/// Whether an `Accept-Encoding` value admits gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip`
/// with a non-zero weight, or `*` with a non-zero weight when gzip is not listed. An absent
/// header admits only the identity coding here (serving gzip to a client that did not ask
/// for it breaks too many clients).
pub fn accepts_gzip(value: Option<&[u8]>) -> bool {
    let Some(mut rest) = value else { return false };
    let mut star = false;
    while let Some(mut item) = piece(&mut rest, b',') {
        let coding = piece(&mut item, b';').unwrap_or_default();
        let mut q = true;
        while let Some(p) = piece(&mut item, b';') {
            if p.len() >= 2 && p[..2].eq_ci(b"q=") {
                q = qvalue_nonzero(p[2..].trim_ascii());
            }
        }
        // "gzip" from "x-gzip": a 4-byte literal would be pooled (see `super::TEXTS`).
        const X_GZIP: &[u8] = b"x-gzip";
        if coding.eq_ci(X_GZIP.split_at(2).1) || coding.eq_ci(X_GZIP) {
            return q;
        }
        if coding == b"*" {
            star = q;
        }
    }
    star
}

/// A qvalue is non-zero unless it is `0`, `0.`, `0.0`, `0.00` or `0.000`. Malformed: zero.
fn qvalue_nonzero(q: &[u8]) -> bool {
    match q.split_first() {
        Some((b'1', rest)) => rest.is_empty() || (rest[0] == b'.' && rest[1..].iter().all(|&c| c == b'0')),
        Some((b'0', rest)) => match rest.split_first() {
            None => false,
            Some((b'.', frac)) => {
                frac.len() <= 3 && frac.iter().all(u8::is_ascii_digit) && frac.iter().any(|&c| c != b'0')
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &[u8] = b"\"5f.0-10\"";

    #[test]
    fn etag_form() {
        assert_eq!(etag(16, 95, 0, false).as_bytes(), TAG);
        assert_eq!(etag(16, 95, 7, true), "\"5f.7-10-gz\"");
        assert_ne!(etag(16, 95, 0, false), etag(16, 95, 1, false));
    }

    #[test]
    fn entity_tag_lists() {
        assert!(list_matches(b"*", TAG, true));
        assert!(list_matches(b"\"x\", \"5f.0-10\"", TAG, true));
        assert!(list_matches(b"W/\"5f.0-10\"", TAG, true), "weak comparison");
        assert!(!list_matches(b"W/\"5f.0-10\"", TAG, false), "strong comparison");
        assert!(list_matches(b"\"a,b\",\"5f.0-10\"", TAG, false), "commas inside tags");
        assert!(!list_matches(b"5f.0-10", TAG, true), "unquoted is not a tag");
        assert!(!list_matches(b"\"5f.0-10", TAG, true));
        assert!(list_matches(b"junk, \"5f.0-10\"", TAG, true));
        assert!(!list_matches(b"", TAG, true));
        assert!(list_matches(b" * ", TAG, false));
        assert!(!list_matches(b"*, \"x\"", TAG, true), "* only alone");
        assert!(
            !list_matches(b"\"x\", \"5f.0-", TAG, true),
            "an unclosed quote ends the list"
        );
        assert!(
            !list_matches(b"\"x, \"5f.0-10\"", TAG, true),
            "the quote opened first closes first"
        );
        assert!(
            list_matches(b"\"x\"W/\"5f.0-10\"", TAG, true),
            "members need no comma between them"
        );
        assert!(!list_matches(b"W/\"x\", W/", TAG, true));
    }

    /// The list matcher before it was one pass: the tags collected, then compared.
    fn model(list: &[u8], tag: &[u8], weak: bool) -> bool {
        if list.trim_ascii() == b"*" {
            return true;
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < list.len() {
            let c = list[i];
            if c == b' ' || c == b'\t' || c == b',' {
                i += 1;
                continue;
            }
            let w = list[i..].starts_with(b"W/");
            let open = if w { i + 2 } else { i };
            if list.get(open) != Some(&b'"') {
                i = list[i..]
                    .iter()
                    .position(|&c| c == b',')
                    .map_or(list.len(), |p| i + p + 1);
                continue;
            }
            match list[open + 1..].iter().position(|&c| c == b'"') {
                Some(p) => {
                    let close = open + 1 + p;
                    out.push((w, &list[open..=close]));
                    i = close + 1;
                }
                None => break,
            }
        }
        out.iter().any(|&(w, opaque)| (weak || !w) && opaque == tag)
    }

    #[test]
    fn entity_tag_lists_match_as_the_model() {
        // Every list of up to five pieces from these, both comparisons.
        let pieces: [&[u8]; 9] = [b"\"5f.0-10\"", b"W/", b"\"", b",", b" ", b"*", b"x", b"\"x\"", b"\t"];
        let mut lists: Vec<Vec<u8>> = vec![Vec::new()];
        let mut n = 0;
        for _ in 0..5 {
            let end = lists.len();
            for i in n..end {
                for p in pieces {
                    let mut l = lists[i].clone();
                    l.extend_from_slice(p);
                    lists.push(l);
                }
            }
            n = end;
        }
        for l in &lists {
            for weak in [false, true] {
                assert_eq!(
                    list_matches(l, TAG, weak),
                    model(l, TAG, weak),
                    "{:?} {weak}",
                    l.escape_ascii().to_string()
                );
            }
        }
    }

    #[cfg(feature = "http-dates")]
    #[test]
    fn precondition_order() {
        let lm = super::super::date::format(1000);
        let earlier = super::super::date::format(999);
        let c = |inm: Option<&'static [u8]>, ims: Option<&[u8]>| {
            evaluate(
                &Conditions {
                    if_none_match: inm,
                    if_modified_since: ims,
                    ..Default::default()
                },
                TAG,
                1000,
            )
        };
        assert_eq!(c(None, None), Outcome::Proceed);
        assert_eq!(c(Some(b"\"5f.0-10\""), None), Outcome::NotModified);
        assert_eq!(c(None, Some(lm.as_bytes())), Outcome::NotModified);
        assert_eq!(c(None, Some(earlier.as_bytes())), Outcome::Proceed);
        assert_eq!(c(None, Some(b"not a date")), Outcome::Proceed);
        // If-None-Match takes precedence over If-Modified-Since.
        assert_eq!(c(Some(b"\"other\""), Some(lm.as_bytes())), Outcome::Proceed);
        assert_eq!(c(Some(b"\"5f.0-10\""), Some(earlier.as_bytes())), Outcome::NotModified);

        let m = |im: Option<&'static [u8]>, ius: Option<&[u8]>| {
            evaluate(
                &Conditions {
                    if_match: im,
                    if_unmodified_since: ius,
                    ..Default::default()
                },
                TAG,
                1000,
            )
        };
        assert_eq!(m(Some(b"\"5f.0-10\""), None), Outcome::Proceed);
        assert_eq!(m(Some(b"*"), None), Outcome::Proceed);
        assert_eq!(m(Some(b"W/\"5f.0-10\""), None), Outcome::Failed);
        assert_eq!(m(None, Some(earlier.as_bytes())), Outcome::Failed);
        assert_eq!(m(None, Some(lm.as_bytes())), Outcome::Proceed);
        assert_eq!(m(Some(b"\"5f.0-10\""), Some(earlier.as_bytes())), Outcome::Proceed);
    }

    #[test]
    fn if_range() {
        #[cfg(feature = "http-dates")]
        let lm = super::super::date::format(1000);
        #[cfg(not(feature = "http-dates"))]
        let lm = "Thu, 01 Jan 1970 00:16:40 GMT";
        assert!(if_range_allows(TAG, TAG, 1000));
        assert!(!if_range_allows(b"\"other\"", TAG, 1000));
        assert!(!if_range_allows(b"W/\"5f.0-10\"", TAG, 1000));
        // Without the feature there is no Last-Modified: a date never matches.
        assert_eq!(if_range_allows(lm.as_bytes(), TAG, 1000), cfg!(feature = "http-dates"));
        assert!(!if_range_allows(lm.as_bytes(), TAG, 1001));
        assert!(!if_range_allows(b"garbage", TAG, 1000));
    }

    /// Without the `http-dates` feature only the entity-tag fields count.
    #[cfg(not(feature = "http-dates"))]
    #[test]
    fn preconditions_by_entity_tag_alone() {
        let c = |im: Option<&'static [u8]>, inm: Option<&'static [u8]>| {
            evaluate(
                &Conditions {
                    if_match: im,
                    if_none_match: inm,
                },
                TAG,
                1000,
            )
        };
        assert_eq!(c(None, None), Outcome::Proceed);
        assert_eq!(c(None, Some(b"\"5f.0-10\"")), Outcome::NotModified);
        assert_eq!(c(Some(b"\"other\""), None), Outcome::Failed);
        assert_eq!(c(Some(b"*"), Some(b"\"other\"")), Outcome::Proceed);
    }

    #[test]
    fn gzip_negotiation() {
        assert!(!accepts_gzip(None));
        assert!(accepts_gzip(Some(b"gzip")));
        assert!(accepts_gzip(Some(b"gzip, deflate, br")));
        assert!(accepts_gzip(Some(b"br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(Some(b"x-gzip")));
        assert!(accepts_gzip(Some(b"*")));
        assert!(accepts_gzip(Some(b"*;q=0.1")));
        assert!(!accepts_gzip(Some(b"gzip;q=0")));
        assert!(!accepts_gzip(Some(b"gzip;q=0.000")));
        assert!(!accepts_gzip(Some(b"gzip;q=0, *")), "explicit refusal beats *");
        assert!(!accepts_gzip(Some(b"*;q=0")));
        assert!(!accepts_gzip(Some(b"identity")));
        assert!(!accepts_gzip(Some(b"")));
        assert!(!accepts_gzip(Some(b"gzipper")));
        assert!(accepts_gzip(Some(b"deflate, gzip ; q=0.001")));
    }
}
