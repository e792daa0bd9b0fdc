//! Incremental UTF-8 validation that fails fast (RFC 6455 §8.1, Autobahn 6.x).
//!
//! Text arrives in pieces (fragments, partial frames, inflater output). [`Utf8Validator::feed`]
//! returns an error as soon as the bytes seen so far cannot be the prefix of any valid UTF-8
//! string: exactly when `core::str::from_utf8` on the concatenation would report an error with
//! `error_len() == Some(_)`. A sequence cut at a piece boundary is carried over in three bytes of
//! state. Bulk input goes through `core::str::from_utf8` (fast, and exact about overlongs,
//! surrogates and values above U+10FFFF); only the bytes around piece boundaries go through the
//! byte-wise automaton below, whose second-byte ranges are those of the Unicode standard's
//! "well-formed byte sequences" table (Table 3-7).

/// State of an incremental UTF-8 check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// Continuation bytes still expected for the current sequence.
    need: u8,
    /// Allowed range of the next continuation byte.
    lo: u8,
    hi: u8,
}

/// The input can no longer be completed into valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a string.
    pub const fn new() -> Self {
        Utf8Validator {
            need: 0,
            lo: 0x80,
            hi: 0xbf,
        }
    }

    /// Whether everything fed so far is complete, valid UTF-8 (no sequence cut off at the end).
    pub const fn is_complete(&self) -> bool {
        self.need == 0
    }

    /// Validates the next piece. After an error the validator must not be used again.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), Utf8Error> {
        // Finish a sequence left open by the previous piece.
        while self.need != 0 {
            let Some((&b, rest)) = input.split_first() else {
                return Ok(());
            };
            self.step(b)?;
            input = rest;
        }
        match core::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) => match e.error_len() {
                Some(_) => Err(Utf8Error),
                None => {
                    // A valid but unfinished sequence at the end: remember it.
                    for &b in &input[e.valid_up_to()..] {
                        self.step(b)?;
                    }
                    Ok(())
                }
            },
        }
    }

    fn step(&mut self, b: u8) -> Result<(), Utf8Error> {
        if self.need == 0 {
            let (need, lo, hi) = match b {
                0x00..=0x7f => return Ok(()),
                0xc2..=0xdf => (1, 0x80, 0xbf),
                0xe0 => (2, 0xa0, 0xbf),
                0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
                0xed => (2, 0x80, 0x9f),
                0xf0 => (3, 0x90, 0xbf),
                0xf1..=0xf3 => (3, 0x80, 0xbf),
                0xf4 => (3, 0x80, 0x8f),
                _ => return Err(Utf8Error),
            };
            *self = Utf8Validator { need, lo, hi };
            Ok(())
        } else if b < self.lo || b > self.hi {
            Err(Utf8Error)
        } else {
            *self = Utf8Validator {
                need: self.need - 1,
                lo: 0x80,
                hi: 0xbf,
            };
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::alloc;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// What the validator must say about a prefix: Err iff from_utf8 found a certain error.
    fn expected_fail(bytes: &[u8]) -> bool {
        matches!(core::str::from_utf8(bytes), Err(e) if e.error_len().is_some())
    }

    fn run(pieces: &[&[u8]]) -> (bool, bool) {
        let mut v = Utf8Validator::new();
        for p in pieces {
            if v.feed(p).is_err() {
                return (true, false);
            }
        }
        (false, v.is_complete())
    }

    fn check_all_splits(bytes: &[u8]) {
        let whole_ok = core::str::from_utf8(bytes).is_ok();
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let (failed, complete) = run(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
                assert_eq!(failed, expected_fail(bytes), "{bytes:02x?} split {i},{j}");
                if !failed {
                    assert_eq!(complete, whole_ok, "{bytes:02x?} split {i},{j}");
                }
            }
        }
    }

    #[test]
    fn every_sequence_up_to_three_bytes() {
        // Exhaustive over all 1- and 2-byte inputs and over 3-byte inputs whose bytes come
        // from the interesting boundary values.
        for a in 0..=255u8 {
            check_all_splits(&[a]);
            for b in 0..=255u8 {
                let (failed, _) = run(&[&[a], &[b]]);
                assert_eq!(failed, expected_fail(&[a, b]), "{a:02x} {b:02x}");
                let (failed, complete) = run(&[&[a, b]]);
                assert_eq!(failed, expected_fail(&[a, b]));
                if !failed {
                    assert_eq!(complete, core::str::from_utf8(&[a, b]).is_ok());
                }
            }
        }
        let edges = [
            0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
            0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        ];
        for &a in &edges {
            for &b in &edges {
                for &c in &edges {
                    check_all_splits(&[a, b, c]);
                    for &d in &[0x80u8, 0x8f, 0xbf, 0x41] {
                        check_all_splits(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn fails_fast_autobahn_style() {
        // "κόσμε" then U+D800 encoded (ED A0 80): invalid at the A0.
        let mut v = Utf8Validator::new();
        assert!(v.feed("κόσμε".as_bytes()).is_ok());
        assert!(v.feed(&[0xed]).is_ok());
        assert_eq!(v.feed(&[0xa0]), Err(Utf8Error));
        // F4 90: above U+10FFFF, known at the second byte.
        assert_eq!(Utf8Validator::new().feed(&[0xf4, 0x90]), Err(Utf8Error));
        // Overlong '/' (C0 AF): invalid at the first byte.
        assert_eq!(Utf8Validator::new().feed(&[0xc0]), Err(Utf8Error));
    }

    fn near_utf8() -> impl Strategy<Value = Vec<u8>> {
        // Valid strings with some bytes flipped, truncated or inserted.
        (
            any::<String>(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        )
            .prop_map(|(s, edits)| {
                let mut v = s.into_bytes();
                for (at, b) in edits {
                    if v.is_empty() {
                        v.push(b);
                    } else {
                        let i = at % v.len();
                        if b & 1 == 0 {
                            v[i] = b;
                        } else {
                            v.truncate(i.max(1));
                        }
                    }
                }
                v
            })
    }

    proptest! {
        #[test]
        fn equals_from_utf8_random(bytes in proptest::collection::vec(any::<u8>(), 0..64),
                                   cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            check_pieces(&bytes, &cuts);
        }

        #[test]
        fn equals_from_utf8_near_valid(bytes in near_utf8(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            check_pieces(&bytes, &cuts);
        }
    }

    fn check_pieces(bytes: &[u8], cuts: &[usize]) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut v = Utf8Validator::new();
        let mut prev = 0;
        for &c in cuts.iter().chain(core::iter::once(&bytes.len())) {
            let r = v.feed(&bytes[prev..c]);
            // Fails exactly at the first piece after which the prefix is certainly invalid.
            assert_eq!(r.is_err(), expected_fail(&bytes[..c]), "{bytes:02x?} cut at {c}");
            if r.is_err() {
                return;
            }
            prev = c;
        }
        assert_eq!(v.is_complete(), core::str::from_utf8(bytes).is_ok());
    }
}
