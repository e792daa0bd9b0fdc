//! String helpers on byte slices, with Mongoose's semantics: `mg_strcmp`, `mg_strcasecmp`,
//! `mg_match`, `mg_span`, `mg_str_to_num`.
//!
//! All functions are total: no input makes them panic. [`match_glob`] runs in O(n·m) time
//! for any pattern, without recursion.

use crate::prelude::*;
use core::cmp::Ordering;

/// The hex digits, for every table lookup of the library (indexed by a nibble). Not 16-byte
/// literals nor 16-byte statics: LLVM puts every 16-byte constant of the library (other
/// protocols' texts, SIMD constants), and a constant static identical to one, into one
/// `.rodata.cst16`, which GNU ld keeps whole (~1 KB) as soon as one piece is used
/// (scripts/merge_pools.py). Two NULs of padding make an 18-byte static, a section of its
/// own (one NUL would make it a C string, pooled in `.rodata.str1.1`).
pub static HEX_LOWER: [u8; 18] = *b"0123456789abcdef\0\0";
/// Uppercase, as percent-encoding writes them (see [`HEX_LOWER`]).
pub static HEX_UPPER: [u8; 18] = *b"0123456789ABCDEF\0\0";

/// `text[at..end]`, at compile time: for short texts sliced out of one longer literal. A
/// literal of exactly 4, 8, 16 or 32 bytes, or a NUL-terminated one, is an `unnamed_addr`
/// constant that LLVM puts with every other such constant of the library (other protocols'
/// texts, SIMD constants) into one `.rodata.cst4/8/16/32` or `.rodata.str1.1`, which GNU ld
/// keeps whole as soon as one piece is used (scripts/merge_pools.py); a slice of a longer
/// literal is no such constant.
pub(crate) const fn cut(text: &'static str, at: usize, end: usize) -> &'static str {
    text.split_at(end).0.split_at(at).1
}

/// The digits of `n` in base `radix` (10 or 16, lowercase; taken into 10..=16, so that
/// 20 bytes always hold them), written at the end of `buf`. Without core's formatting, which
/// a firmware image would otherwise link for its log lines and listings alone.
pub fn digits(mut n: u64, radix: u64, buf: &mut [u8; 20]) -> Digits<'_> {
    let radix = radix.clamp(10, 16);
    let mut i = buf.len();
    while let Some(b) = i.checked_sub(1).and_then(|j| buf.get_mut(j)) {
        *b = HEX_LOWER[(n % radix) as usize & 15];
        i -= 1;
        n /= radix;
        if n == 0 {
            break;
        }
    }
    Digits(buf.get(i..).unwrap_or_default())
}

/// What [`digits`] wrote: ASCII digits, as bytes. Not a `&str`: making one in safe code
/// means `core::str::from_utf8`, 500 bytes of a plain server's code (footprint build) when
/// nothing else needs it; a log line takes them a character at a time (`log::put_ascii`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digits<'a>(pub &'a [u8]);

impl<'a> Digits<'a> {
    /// The digits.
    pub fn as_bytes(self) -> &'a [u8] {
        self.0
    }

    /// How many digits.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(self) -> usize {
        self.0.len()
    }
}

/// Whether `b` is UTF-8, exactly as `core::str::from_utf8(b).is_ok()` says (no overlong
/// forms, no surrogates, nothing above U+10FFFF): one byte at a time, in a tenth of the
/// size of core's validator (~500 bytes, word-at-a-time for ASCII), which a plain server
/// would link for the rare request target with bytes above 0x7f alone.
#[inline(never)] // cold (obs-text targets, C strings): kept out of the request parser
pub fn is_utf8(b: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        if c < 0x80 {
            continue;
        }
        // Continuation bytes that follow, and the range of the first of them (which
        // excludes the overlong forms, the surrogates and what is above U+10FFFF); the
        // others are 0x80..=0xbf.
        let (mut n, mut lo, mut hi) = match c {
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0..=0xef => (
                2,
                if c == 0xe0 { 0xa0 } else { 0x80 },
                if c == 0xed { 0x9f } else { 0xbf },
            ),
            0xf0..=0xf4 => (
                3,
                if c == 0xf0 { 0x90 } else { 0x80 },
                if c == 0xf4 { 0x8f } else { 0xbf },
            ),
            _ => return false,
        };
        while n > 0 {
            match b.get(i) {
                Some(&d) if (lo..=hi).contains(&d) => {}
                _ => return false,
            }
            (i, n, lo, hi) = (i + 1, n - 1, 0x80, 0xbf);
        }
    }
    true
}

/// ASCII case-insensitive equality, as `<[u8]>::eq_ignore_ascii_case` (the header names,
/// tokens and schemes the HTTP code compares): a byte loop, where core's links a word-at-a-time
/// `eq_ignore_ascii_case_chunks` and a fallback (~250 B) for strings this short.
pub fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// [`eq_ci`] as a method, to read like the core one it stands for.
pub trait EqCi {
    /// `eq_ci(self, other)`.
    fn eq_ci(&self, other: &[u8]) -> bool;
}

impl EqCi for [u8] {
    fn eq_ci(&self, other: &[u8]) -> bool {
        eq_ci(self, other)
    }
}

/// The first position of `needle` in `hay` (none for an empty `needle`): for the short
/// separators looked for in short texts (`://` in a URL, CRLFCRLF in an interim response's
/// head). A plain walk: smaller than `memchr::memmem`, whose searchers (two-way, Rabin-Karp,
/// prefilters) cost about 8 KiB of code in the footprint build for needles this short, and
/// than a `memchr` for the first byte and a compare.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let mut at = 0;
    while let Some(rest) = hay.get(at..) {
        if rest.starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

fn ordering_to_int(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// `mg_strcmp`: compare bytes as unsigned values; when one string is a prefix of the other,
/// the shorter is less. Returns -1, 0 or 1.
pub fn strcmp(a: &[u8], b: &[u8]) -> i32 {
    ordering_to_int(a.cmp(b))
}

/// `mg_strcasecmp`: like [`strcmp`], with ASCII letters compared case-insensitively.
pub fn strcasecmp(a: &[u8], b: &[u8]) -> i32 {
    let la = a.iter().map(u8::to_ascii_lowercase);
    let lb = b.iter().map(u8::to_ascii_lowercase);
    ordering_to_int(la.cmp(lb))
}

fn is_star(c: u8) -> bool {
    c == b'*' || c == b'#'
}

fn is_wildcard(c: u8) -> bool {
    c == b'?' || is_star(c)
}

/// Number of wildcard characters (`?`, `*`, `#`) in a pattern: the number of captures
/// [`match_glob`] fills on success.
pub fn wildcard_count(pattern: &[u8]) -> usize {
    pattern.iter().filter(|&&c| is_wildcard(c)).count()
}

/// Memo words [`glob`] keeps on the stack; a pattern and subject that need more use the
/// heap.
const STACK_WORDS: usize = 32;

/// `mg_match`: does the whole of `s` match `pattern`?
///
/// Pattern syntax: `?` matches any one byte, `*` zero or more bytes except `/`, `#` zero or
/// more bytes including `/`; any other byte matches itself.
///
/// Captures: every wildcard in the pattern (`?`, `*` and `#` alike, in pattern order) has
/// one capture, an `(offset, len)` range of `s`. On a match, `caps[i]` receives the capture
/// of the `i`-th wildcard for every `i < min(caps.len(), wildcard_count(pattern))`, and, if
/// `caps` has room after them, `caps[wildcard_count(pattern)]` is set to `(0, 0)` to end
/// the list. On no match, `caps` is left untouched. A short `caps` is never overrun.
///
/// When several splits match, each `*`/`#` takes as few bytes as it can, the leftmost
/// wildcard first (the "lazy" captures Mongoose produces, e.g. `/#.txt` on `/a.txt/b.txt`
/// captures `a.txt/b`).
///
/// Complexity: O(len(s) · len(pattern)) time; memory: one bit per (`*`/`#` wildcard,
/// position in `s`). That memory is on the stack for up to 2048 bits (for instance 4
/// `*`/`#` against 511 bytes of `s`), so routing patterns never allocate; beyond, it is
/// allocated, and if that fails the result is `false`.
pub fn match_glob(s: &[u8], pattern: &[u8], caps: Option<&mut [(usize, usize)]>) -> bool {
    let Some(caps) = caps else {
        return glob(s, pattern, &mut |_, _, _| {});
    };
    let mut n = 0;
    let matched = glob(s, pattern, &mut |i, off, len| {
        if let Some(c) = caps.get_mut(i) {
            *c = (off, len);
        }
        n = i + 1;
    });
    if matched {
        if let Some(end) = caps.get_mut(n) {
            *end = (0, 0);
        }
    }
    matched
}

/// [`match_glob`] handing the captures to `cap` (`cap(i, offset, len)` for the `i`-th
/// wildcard, in order, once the match is known): one copy of the matcher for the callers
/// that keep `(offset, len)` ranges and for `mg_match`, which writes `mg_str`s.
///
/// No backtracking: one pass from the pattern's end back to its first `*`/`#` computes, for
/// every `*`/`#`, the positions of `s` from which the rest of the pattern after it matches
/// the rest of `s` (a row of bits); then a walk from the start gives each `*`/`#` the
/// fewest bytes that reach such a position, which is the lazy, leftmost-first split.
pub fn glob(s: &[u8], pattern: &[u8], cap: &mut dyn FnMut(usize, usize, usize)) -> bool {
    // The literal bytes before the first wildcard first, so that a route differing early
    // (`/hello` against `/static/#`) is refused after a few bytes, before any set-up.
    let mut w = 0;
    while let Some(&c) = pattern.get(w) {
        if is_wildcard(c) {
            break;
        }
        if s.get(w) != Some(&c) {
            return false;
        }
        w += 1;
    }
    // One wildcard (at `w`) and literals after it (`/api/#`, `*.txt`), the usual route: no rows.
    // (`s` has the `w` bytes of the prefix; `strip_suffix` checks the length: no panics.)
    if let Some((&wc, tail)) = pattern.get(w..).and_then(<[u8]>::split_first) {
        if !tail.iter().any(|&c| is_wildcard(c)) {
            let Some(sub) = s.get(w..).and_then(|r| r.strip_suffix(tail)) else {
                return false;
            };
            let matched = match wc {
                b'#' => true,
                // A loop, not `contains`: that links core's `memchr` (~240 B).
                b'*' => sub.iter().all(|&c| c != b'/'),
                _ => sub.len() == 1,
            };
            if matched {
                cap(0, w, sub.len());
            }
            return matched;
        }
    }
    let n = s.len();
    let cols = n + 1;
    let nstars = pattern.iter().filter(|&&c| is_star(c)).count();
    let words = nstars.saturating_mul(cols) / 64 + 1;
    let mut stack = [0u64; STACK_WORDS];
    let mut heap = Vec::new();
    let bits: &mut [u64] = if words <= STACK_WORDS {
        &mut stack
    } else {
        if heap.try_reserve_exact(words).is_err() {
            return false;
        }
        heap.resize(words, 0);
        &mut heap
    };
    let get = |bits: &[u64], b: usize| bits.get(b / 64).is_some_and(|w| w >> (b % 64) & 1 != 0);
    let set = |bits: &mut [u64], b: usize, v: bool| {
        if let Some(w) = bits.get_mut(b / 64) {
            *w = *w & !(1 << (b % 64)) | u64::from(v) << (b % 64);
        }
    };
    // Row `j` (bits `j * cols ..`): where the pattern after the `j`-th `*`/`#` can start.
    // Built from the end: the last row starts as "at the end of `s`" (zeroed, one bit set)
    // and goes back through the literals after the last star; at star `j` the row before
    // it is derived, and so on down to the first star.
    let mut j = nstars;
    if let Some(last) = j.checked_sub(1) {
        set(bits, last * cols + n, true);
    }
    for &pc in pattern.iter().rev() {
        let Some(row) = j.checked_sub(1) else { break };
        let at = row * cols;
        let star = is_star(pc);
        if star {
            if row == 0 {
                break;
            }
            j = row;
        }
        // One loop, downwards from the end of `s`. A star derives the row before it: from
        // si, either the rest starts here or this star takes s[si] too (`carry`: the new bit
        // si + 1). A literal or `?` rewrites its row in place (`carry`: the old bit si + 1).
        // `ok`: s[si] may be taken: by `#` or `?` any byte, by `*` any but '/', by a
        // literal itself.
        let to = if star { at - cols } else { at };
        let (any, want) = (pc == b'#' || pc == b'?', if star { b'/' } else { pc });
        let mut carry = false;
        for si in (0..cols).rev() {
            let here = get(bits, at + si);
            let ok = s.get(si).is_some_and(|&b| any || (b == want) != star);
            let v = (star && here) || (carry && ok);
            set(bits, to + si, v);
            carry = if star { v } else { here };
        }
    }
    // The walk: once to know, once to report (nothing is reported on no match). Once the
    // first star has its bytes, the rows say that the rest matches: the first walk stops
    // there.
    let mut report = false;
    loop {
        let (mut si, mut j, mut i) = (0, 0, 0);
        for &pc in pattern {
            let start = si;
            if is_star(pc) {
                while !get(bits, j * cols + si) {
                    if si >= n || (pc == b'*' && s[si] == b'/') {
                        return false;
                    }
                    si += 1;
                }
                if !report {
                    si = n;
                    break;
                }
                j += 1;
            } else {
                match s.get(si) {
                    Some(&b) if pc == b'?' || pc == b => si += 1,
                    _ => return false,
                }
                if pc != b'?' {
                    continue;
                }
            }
            if report {
                cap(i, start, si - start);
            }
            i += 1;
        }
        if si != n {
            return false;
        }
        if report {
            return true;
        }
        report = true;
    }
}

/// The next piece of the list `rest` up to `sep` (or its end), without surrounding
/// whitespace, `rest` moved past it and the separator; `None` once `rest` is empty (so an
/// empty last piece is not seen: no caller minds). One function for every comma (or
/// semicolon) list meerkat reads: the static server's `Accept-Encoding`, `Range` and
/// `mime_types`, and the `Connection` tokens of a response head. Core's `split` with
/// `trim_ascii`, inlined at each loop, was ~500 bytes more of a static server's code.
#[inline(never)]
pub fn piece<'a>(rest: &mut &'a [u8], sep: u8) -> Option<&'a [u8]> {
    if rest.is_empty() {
        return None;
    }
    let i = rest.iter().position(|&c| c == sep).unwrap_or(rest.len());
    let (p, r) = rest.split_at(i);
    *rest = r.get(1..).unwrap_or_default();
    Some(p.trim_ascii())
}

/// `mg_span`: split `s` at the first `delim`. Returns `None` when `s` is empty; otherwise
/// `(before, after)`, both without the delimiter. Without a delimiter, `before` is all of
/// `s` and `after` is the empty slice at its end.
pub fn span(s: &[u8], delim: u8) -> Option<(&[u8], &[u8])> {
    if s.is_empty() {
        return None;
    }
    Some(match s.iter().position(|&c| c == delim) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[s.len()..]),
    })
}

/// `mg_str_to_num`: parse an unsigned integer that must fit in `width` bytes (1, 2, 4 or 8).
///
/// `base` is 2, 10 or 16, or 0 to choose from a prefix: `0x`/`0X` hex, `0b`/`0B` binary,
/// else decimal. The whole string must be digits of the base (after the prefix, for base 0);
/// no sign, no spaces, at least one digit. Returns `None` on bad input, an unsupported base
/// or width, or overflow.
pub fn str_to_num(s: &[u8], base: i32, width: usize) -> Option<u64> {
    let max = match width {
        1 => u64::from(u8::MAX),
        2 => u64::from(u16::MAX),
        4 => u64::from(u32::MAX),
        8 => u64::MAX,
        _ => return None,
    };
    let (radix, digits) = match base {
        0 => match s {
            [b'0', b'x' | b'X', rest @ ..] => (16, rest),
            [b'0', b'b' | b'B', rest @ ..] => (2, rest),
            _ => (10, s),
        },
        2 => (2, s),
        10 => (10, s),
        16 => (16, s),
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = u64::from((c as char).to_digit(radix)?);
        v = v.checked_mul(u64::from(radix))?.checked_add(d)?;
        if v > max {
            return None;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_ci_is_core_eq_ignore_ascii_case() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(
                    eq_ci(&[a, b'x'], &[b, b'X']),
                    [a, b'x'].eq_ignore_ascii_case(&[b, b'X'])
                );
            }
        }
        assert!(eq_ci(b"", b""));
        assert!(!eq_ci(b"host", b"hos"));
        assert!(b"Content-Length".eq_ci(b"content-length"));
    }

    #[test]
    fn digits_are_what_format_writes() {
        for n in [0, 1, 9, 10, 15, 16, 255, 1 << 32, u64::MAX - 1, u64::MAX] {
            assert_eq!(digits(n, 10, &mut [0; 20]).as_bytes(), format!("{n}").as_bytes());
            assert_eq!(digits(n, 16, &mut [0; 20]).as_bytes(), format!("{n:x}").as_bytes());
            assert_eq!(digits(n, 10, &mut [0; 20]).len(), format!("{n}").len());
        }
        assert_eq!(
            digits(u64::MAX, 2, &mut [0; 20]).as_bytes(),
            format!("{}", u64::MAX).as_bytes(),
            "under 10 is 10"
        );
        assert_eq!(digits(255, 99, &mut [0; 20]).as_bytes(), b"ff", "over 16 is 16");
    }

    #[test]
    fn is_utf8_is_core_from_utf8() {
        // Every sequence of up to 3 bytes from the bytes where the verdict turns, and
        // every 4-byte one that starts with a 4-byte lead.
        let edges = [
            0x00u8, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
            0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        ];
        let mut v = Vec::new();
        for &a in &edges {
            for &b in &edges {
                for &c in &edges {
                    for s in [&[a][..], &[a, b], &[a, b, c]] {
                        assert_eq!(is_utf8(s), core::str::from_utf8(s).is_ok(), "{s:x?}");
                    }
                    if a >= 0xf0 {
                        for &d in &edges {
                            v.clear();
                            v.extend_from_slice(&[a, b, c, d]);
                            assert_eq!(is_utf8(&v), core::str::from_utf8(&v).is_ok(), "{v:x?}");
                        }
                    }
                }
            }
        }
        for c in ['a', 'é', '€', '😀', '\u{10ffff}', '\u{d7ff}', '\u{e000}'] {
            assert!(is_utf8(c.to_string().as_bytes()));
        }
    }

    proptest::proptest! {
        #[test]
        fn is_utf8_agrees_with_core(b in proptest::collection::vec(proptest::sample::select(vec![
            0x00u8, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1,
            0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff]), 0..12)) {
            proptest::prop_assert_eq!(is_utf8(&b), core::str::from_utf8(&b).is_ok());
        }

        #[test]
        fn is_utf8_agrees_with_core_any(b in proptest::collection::vec(proptest::num::u8::ANY, 0..12)) {
            proptest::prop_assert_eq!(is_utf8(&b), core::str::from_utf8(&b).is_ok());
        }

        #[test]
        fn find_is_the_first_match(hay in proptest::collection::vec(proptest::sample::select(b"ab\r\n:/".to_vec()), 0..40),
                                   needle in proptest::collection::vec(proptest::sample::select(b"ab\r\n:/".to_vec()), 1..5)) {
            let want = hay.windows(needle.len()).position(|w| w == &needle[..]);
            proptest::prop_assert_eq!(find(&hay, &needle), want);
        }
    }

    #[test]
    fn find_examples() {
        assert_eq!(find(b"http://x", b"://"), Some(4));
        assert_eq!(find(b"a\r\n\r\nb", b"\r\n\r\n"), Some(1));
        assert_eq!(find(b"\r\n\r", b"\r\n\r\n"), None);
        assert_eq!(find(b"", b"x"), None);
    }

    fn caps_of<'a>(s: &'a [u8], pattern: &[u8]) -> Option<Vec<&'a [u8]>> {
        let mut caps = vec![(usize::MAX, usize::MAX); wildcard_count(pattern) + 1];
        if !match_glob(s, pattern, Some(&mut caps)) {
            assert!(caps.iter().all(|&c| c == (usize::MAX, usize::MAX)));
            return None;
        }
        assert_eq!(caps.last(), Some(&(0, 0)));
        caps.pop();
        Some(caps.iter().map(|&(o, l)| &s[o..o + l]).collect())
    }

    /// The allocating implementation `match_glob` replaced, kept as an oracle.
    mod oracle {
        use super::super::{is_star, wildcard_count};

        /// A wildcard on the current match path: at pattern index `pi`, it matched `s[start..end]`.
        #[derive(Clone, Copy)]
        struct Frame {
            pi: usize,
            /// Index among the `*`/`#` wildcards (for the memo); unused for `?`.
            star: usize,
            start: usize,
            end: usize,
        }

        pub fn match_glob(s: &[u8], pattern: &[u8], caps: Option<&mut [(usize, usize)]>) -> bool {
            let stars = pattern.iter().filter(|&&c| is_star(c)).count();
            let wilds = wildcard_count(pattern);
            let cols = s.len() + 1;
            // Visited (star, si) states: a state that failed once fails again, whatever the path.
            let mut seen: Vec<u64> = Vec::new();
            let cells = stars.saturating_mul(cols);
            if cells > 0 {
                if cells == usize::MAX || seen.try_reserve_exact(cells / 64 + 1).is_err() {
                    return false;
                }
                seen.resize(cells / 64 + 1, 0);
            }
            let mut frames: Vec<Frame> = Vec::new();
            if frames.try_reserve_exact(wilds).is_err() {
                return false;
            }
            // Returns true if (star, si) was already visited, marking it otherwise.
            let mut visit = |star: usize, si: usize| -> bool {
                let bit = star * cols + si;
                let (w, m) = (bit / 64, 1u64 << (bit % 64));
                let was = seen[w] & m != 0;
                seen[w] |= m;
                was
            };

            let (mut pi, mut si, mut star) = (0usize, 0usize, 0usize);
            let matched = 'search: loop {
                // Walk forward from (pi, si) until the pattern ends or something fails.
                let ok = loop {
                    let Some(&pc) = pattern.get(pi) else {
                        break si == s.len();
                    };
                    if is_star(pc) {
                        if visit(star, si) {
                            break false;
                        }
                        // Lazy: first try to let this wildcard match nothing more.
                        frames.push(Frame {
                            pi,
                            star,
                            start: si,
                            end: si,
                        });
                        pi += 1;
                        star += 1;
                    } else if si < s.len() && (pc == b'?' || pc == s[si]) {
                        if pc == b'?' {
                            frames.push(Frame {
                                pi,
                                star,
                                start: si,
                                end: si + 1,
                            });
                        }
                        pi += 1;
                        si += 1;
                    } else {
                        break false;
                    }
                };
                if ok {
                    break 'search true;
                }
                // Backtrack: grow the most recent `*`/`#` that can take one more byte.
                loop {
                    let Some(mut f) = frames.pop() else {
                        break 'search false;
                    };
                    let pc = pattern[f.pi];
                    if pc == b'?' || f.end >= s.len() || (pc == b'*' && s[f.end] == b'/') {
                        continue;
                    }
                    f.end += 1;
                    if visit(f.star, f.end) {
                        continue;
                    }
                    frames.push(f);
                    pi = f.pi + 1;
                    star = f.star + 1;
                    si = f.end;
                    continue 'search;
                }
            };

            if matched {
                if let Some(caps) = caps {
                    // `frames` holds exactly one frame per wildcard, in pattern order.
                    for (cap, f) in caps.iter_mut().zip(frames.iter()) {
                        *cap = (f.start, f.end - f.start);
                    }
                    if let Some(last) = caps.get_mut(wilds) {
                        *last = (0, 0);
                    }
                }
            }
            matched
        }
    }

    #[test]
    fn strcmp_semantics() {
        assert_eq!(strcmp(b"", b""), 0);
        assert_eq!(strcmp(b"a", b"a"), 0);
        assert_eq!(strcmp(b"a", b"b"), -1);
        assert_eq!(strcmp(b"b", b"a"), 1);
        assert_eq!(strcmp(b"ab", b"a"), 1);
        assert_eq!(strcmp(b"a", b"ab"), -1);
        assert_eq!(strcmp(b"", b"a"), -1);
        assert_eq!(strcmp(b"\xff", b"a"), 1, "bytes compare unsigned");
        assert_eq!(strcasecmp(b"HeLLo", b"hello"), 0);
        assert_eq!(strcasecmp(b"Content-Length", b"content-length"), 0);
        assert_eq!(strcasecmp(b"a", b"B"), -1);
        assert_eq!(strcasecmp(b"B", b"a"), 1);
        assert_eq!(strcasecmp(b"ab", b"A"), 1);
        assert_eq!(strcasecmp(b"", b""), 0);
    }

    #[test]
    fn match_doc_examples() {
        // Mongoose docs: hm->uri "/foo/bar" against "/*/*".
        assert_eq!(caps_of(b"/foo/bar", b"/*/*"), Some(vec![&b"foo"[..], b"bar"]));
        assert_eq!(caps_of(b"/api/foo/bar", b"/api/*/*"), Some(vec![&b"foo"[..], b"bar"]));
        assert!(match_glob(b"/api/foo/bar", b"/api/#", None));
        assert!(match_glob(b"/api/", b"/api/#", None));
        assert!(!match_glob(b"/api", b"/api/#", None));
        assert!(!match_glob(b"/api/foo/bar", b"/api/*", None));
        assert!(match_glob(b"/api/foo", b"/api/*", None));
    }

    #[test]
    fn match_semantics() {
        assert!(match_glob(b"", b"", None));
        assert!(match_glob(b"", b"*", None));
        assert!(match_glob(b"", b"#", None));
        assert!(!match_glob(b"", b"?", None));
        assert!(!match_glob(b"a", b"", None));
        assert!(match_glob(b"abc", b"a?c", None));
        assert!(match_glob(b"a/c", b"a?c", None), "? matches /");
        assert!(!match_glob(b"a/c", b"a*c", None));
        assert!(match_glob(b"a/c", b"a#c", None));
        assert!(match_glob(b"a.txt", b"*.txt", None));
        assert!(!match_glob(b"a.txt", b"*.TXT", None), "case-sensitive");
        assert_eq!(caps_of(b"abc", b"?#"), Some(vec![&b"a"[..], b"bc"]));
        assert_eq!(caps_of(b"abc", b"**"), Some(vec![&b""[..], b"abc"]));
        assert_eq!(caps_of(b"/a.txt/b.txt", b"/#.txt"), Some(vec![&b"a.txt/b"[..]]));
        assert_eq!(caps_of(b"x", b"x*"), Some(vec![&b""[..]]));
        // Complete matching where a single-backtrack-point matcher gives up.
        assert_eq!(caps_of(b"xa/ya", b"#a*"), Some(vec![&b"xa/y"[..], b""]));
        assert_eq!(caps_of(b"ab", b"a*c"), None);
    }

    #[test]
    fn match_caps_short_or_exact() {
        let mut caps = [(9, 9); 2];
        assert!(match_glob(b"/a/b/c", b"/*/*/*", Some(&mut caps)));
        assert_eq!(caps, [(1, 1), (3, 1)]);
        let mut caps = [(9, 9); 3];
        assert!(match_glob(b"/a/b/c", b"/*/*/*", Some(&mut caps)));
        assert_eq!(caps, [(1, 1), (3, 1), (5, 1)]);
        let mut caps = [(9, 9); 5];
        assert!(match_glob(b"/a/b/c", b"/*/*/*", Some(&mut caps)));
        assert_eq!(caps, [(1, 1), (3, 1), (5, 1), (0, 0), (9, 9)]);
        let mut none: [(usize, usize); 0] = [];
        assert!(match_glob(b"/a", b"/*", Some(&mut none)));
    }

    #[test]
    fn match_adversarial_is_fast() {
        let s = vec![b'a'; 4000];
        let mut p = b"*".repeat(200);
        p.push(b'b');
        let t = std::time::Instant::now();
        assert!(!match_glob(&s, &p, None));
        let mut p = b"#a".repeat(100);
        p.extend_from_slice(b"b");
        assert!(!match_glob(&s, &p, None));
        let p = b"#".repeat(1000);
        let mut caps = vec![(0, 0); 1001];
        assert!(match_glob(&s, &p, Some(&mut caps)));
        assert_eq!(caps[999], (0, 4000));
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn span_semantics() {
        assert_eq!(span(b"", b','), None);
        assert_eq!(span(b"a=1,b=2", b','), Some((&b"a=1"[..], &b"b=2"[..])));
        assert_eq!(span(b"hello", b','), Some((&b"hello"[..], &b""[..])));
        assert_eq!(span(b",x", b','), Some((&b""[..], &b"x"[..])));
        assert_eq!(span(b"x,", b','), Some((&b"x"[..], &b""[..])));
        // The documented loop: a=333,b=777,hello.
        let mut s: &[u8] = b"a=333,b=777,hello";
        let mut out = Vec::new();
        while let Some((entry, rest)) = span(s, b',') {
            let (k, v) = span(entry, b'=').unwrap();
            out.push((k, v));
            s = rest;
        }
        assert_eq!(
            out,
            vec![
                (&b"a"[..], &b"333"[..]),
                (&b"b"[..], &b"777"[..]),
                (&b"hello"[..], &b""[..])
            ]
        );
    }

    #[test]
    fn str_to_num_semantics() {
        assert_eq!(str_to_num(b"123", 10, 4), Some(123));
        assert_eq!(str_to_num(b"123", 0, 1), Some(123));
        assert_eq!(str_to_num(b"256", 10, 1), None);
        assert_eq!(str_to_num(b"255", 10, 1), Some(255));
        assert_eq!(str_to_num(b"0xff", 0, 1), Some(255));
        assert_eq!(str_to_num(b"0XFF", 0, 2), Some(255));
        assert_eq!(str_to_num(b"0b101", 0, 8), Some(5));
        assert_eq!(str_to_num(b"ff", 16, 8), Some(255));
        assert_eq!(str_to_num(b"0xff", 16, 8), None);
        assert_eq!(str_to_num(b"102", 2, 8), None);
        assert_eq!(str_to_num(b"0x", 0, 8), None);
        assert_eq!(str_to_num(b"", 10, 8), None);
        assert_eq!(str_to_num(b"-1", 10, 8), None);
        assert_eq!(str_to_num(b" 1", 10, 8), None);
        assert_eq!(str_to_num(b"1", 8, 8), None);
        assert_eq!(str_to_num(b"1", 10, 3), None);
        assert_eq!(str_to_num(b"18446744073709551615", 10, 8), Some(u64::MAX));
        assert_eq!(str_to_num(b"18446744073709551616", 10, 8), None);
        assert_eq!(str_to_num(b"4294967296", 10, 4), None);
        assert_eq!(str_to_num(b"65535", 10, 2), Some(65535));
    }

    mod props {
        use super::super::*;
        use super::oracle;
        use proptest::prelude::*;

        /// Reference matcher: plain recursion, exponential, used only on tiny inputs. Tries
        /// shorter wildcard matches first, leftmost wildcard first.
        fn reference(s: &[u8], p: &[u8], base: usize, caps: &mut Vec<(usize, usize)>) -> bool {
            match p.first() {
                None => s.is_empty(),
                Some(b'?') => {
                    if s.is_empty() {
                        return false;
                    }
                    caps.push((base, 1));
                    if reference(&s[1..], &p[1..], base + 1, caps) {
                        return true;
                    }
                    caps.pop();
                    false
                }
                Some(&c @ (b'*' | b'#')) => {
                    for k in 0..=s.len() {
                        if k > 0 && c == b'*' && s[k - 1] == b'/' {
                            break;
                        }
                        caps.push((base, k));
                        if reference(&s[k..], &p[1..], base + k, caps) {
                            return true;
                        }
                        caps.pop();
                    }
                    false
                }
                Some(&c) => !s.is_empty() && s[0] == c && reference(&s[1..], &p[1..], base + 1, caps),
            }
        }

        /// What `glob` answers and every capture it reports, in order.
        fn calls(s: &[u8], p: &[u8]) -> (bool, Vec<(usize, usize, usize)>) {
            let mut got = Vec::new();
            let m = glob(s, p, &mut |i, o, l| got.push((i, o, l)));
            (m, got)
        }

        /// What `glob` must report, from the old implementation (`oracle`): on a match, each
        /// wildcard's capture once, in pattern order; nothing otherwise.
        fn oracle_calls(s: &[u8], p: &[u8]) -> (bool, Vec<(usize, usize, usize)>) {
            let mut caps = vec![(0, 0); wildcard_count(p)];
            let m = oracle::match_glob(s, p, Some(&mut caps));
            let got = if m {
                caps.iter().enumerate().map(|(i, &(o, l))| (i, o, l)).collect()
            } else {
                Vec::new()
            };
            (m, got)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(100_000))]

            /// The same answer and the same captures, reported once each in pattern order,
            /// as the old implementation, on random patterns and subjects. (`match_glob`'s
            /// `caps` writes for every `caps` length are checked by
            /// `matches_old_implementation`.)
            #[test]
            fn reports_the_old_captures(s in "[ab/.]{0,20}", p in "[ab/.*#?]{0,12}") {
                let (s, p) = (s.as_bytes(), p.as_bytes());
                let want = oracle_calls(s, p);
                prop_assert_eq!(calls(s, p), want.clone());
                prop_assert_eq!(match_glob(s, p, None), want.0);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn matches_reference(s in "[ab/]{0,8}", p in "[ab/*#?]{0,7}") {
                let (s, p) = (s.as_bytes(), p.as_bytes());
                let mut want = Vec::new();
                let expect = reference(s, p, 0, &mut want);
                let mut caps = vec![(usize::MAX, 0); wildcard_count(p) + 1];
                prop_assert_eq!(match_glob(s, p, Some(&mut caps)), expect);
                prop_assert_eq!(match_glob(s, p, None), expect);
                if expect {
                    want.push((0, 0));
                    prop_assert_eq!(caps, want);
                }
            }

            /// Same answer and same `caps` writes as the old implementation, for every
            /// `caps` length from none to one past the end mark.
            #[test]
            fn matches_old_implementation(s in "[ab/.]{0,24}", p in "[ab/.*#?]{0,10}", extra in 0usize..3) {
                let (s, p) = (s.as_bytes(), p.as_bytes());
                let expect = oracle::match_glob(s, p, None);
                prop_assert_eq!(match_glob(s, p, None), expect);
                for n in 0..=wildcard_count(p) + extra {
                    let mut want = vec![(usize::MAX, 7); n];
                    let mut got = want.clone();
                    prop_assert_eq!(oracle::match_glob(s, p, Some(&mut want)), expect);
                    prop_assert_eq!(match_glob(s, p, Some(&mut got)), expect);
                    prop_assert_eq!(got, want);
                }
            }

            /// Literal heads and tails around the wildcards, and inputs large enough for the
            /// heap memo (more than 16 stars, or more than 2048 memo bits).
            #[test]
            fn matches_old_implementation_large(head in "[ab/]{0,3}", s in "[ab/]{0,700}", tail in "[ab/]{0,3}",
                                                p in "[ab/*#?]{1,40}") {
                let s = [head.as_bytes(), s.as_bytes(), tail.as_bytes()].concat();
                let p = [head.as_bytes(), p.as_bytes(), tail.as_bytes()].concat();
                let mut want = vec![(usize::MAX, 7); wildcard_count(&p) + 1];
                let mut got = want.clone();
                let expect = oracle::match_glob(&s, &p, Some(&mut want));
                prop_assert_eq!(match_glob(&s, &p, Some(&mut got)), expect);
                prop_assert_eq!(got, want);
            }

            /// Large subjects and many stars, reported captures against the old
            /// implementation.
            #[test]
            fn reports_the_old_captures_large(head in "[ab/]{0,3}", s in "[ab/]{0,700}", tail in "[ab/]{0,3}",
                                  p in "[ab/*#?]{1,40}") {
                let s = [head.as_bytes(), s.as_bytes(), tail.as_bytes()].concat();
                let p = [head.as_bytes(), p.as_bytes(), tail.as_bytes()].concat();
                prop_assert_eq!(calls(&s, &p), oracle_calls(&s, &p));
            }

            /// Any bytes: `glob` and the old implementation agree (stars, `/` and literals
            /// drawn often).
            #[test]
            fn reports_the_old_captures_any_bytes(s in proptest::collection::vec(prop_oneof![Just(b'/'), Just(b'a'), any::<u8>()], 0..16),
                                      p in proptest::collection::vec(prop_oneof![Just(b'*'), Just(b'#'), Just(b'?'), Just(b'/'), Just(b'a'), any::<u8>()], 0..10)) {
                prop_assert_eq!(calls(&s, &p), oracle_calls(&s, &p));
            }

            #[test]
            fn match_never_panics(s in proptest::collection::vec(any::<u8>(), 0..40),
                                  p in proptest::collection::vec(any::<u8>(), 0..20),
                                  ncaps in 0usize..6) {
                let mut caps = vec![(0, 0); ncaps];
                if match_glob(&s, &p, Some(&mut caps)) {
                    for &(o, l) in caps.iter() {
                        prop_assert!(o + l <= s.len());
                    }
                }
            }

            #[test]
            fn span_reassembles(s in "[a,b]{0,10}") {
                let b = s.as_bytes();
                match span(b, b',') {
                    None => prop_assert!(b.is_empty()),
                    Some((x, y)) => {
                        prop_assert!(!x.contains(&b','));
                        if x.len() < b.len() {
                            prop_assert_eq!([x, b",", y].concat(), b.to_vec());
                        } else {
                            prop_assert!(y.is_empty());
                        }
                    }
                }
            }

            #[test]
            fn str_to_num_matches_std(v in any::<u64>(), width in prop_oneof![Just(1usize), Just(2), Just(4), Just(8)]) {
                let max = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
                let expect = (v <= max).then_some(v);
                prop_assert_eq!(str_to_num(v.to_string().as_bytes(), 10, width), expect);
                prop_assert_eq!(str_to_num(format!("{v:x}").as_bytes(), 16, width), expect);
                prop_assert_eq!(str_to_num(format!("0x{v:X}").as_bytes(), 0, width), expect);
                prop_assert_eq!(str_to_num(format!("0b{v:b}").as_bytes(), 0, width), expect);
            }
        }
    }
}
