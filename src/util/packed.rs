//! Strings packed back to back at compile time, found by index: the tables whose text
//! would otherwise be a slice of `&str` (two pointers' worth of read-only data per entry)
//! or a `match` (code beside the strings): the status reason phrases and the MIME types.

/// `N` strings of `B` bytes in all, built in a `const` by [`Packed::empty`] and
/// [`Packed::with`] (one call per string, in index order).
pub struct Packed<const N: usize, const B: usize> {
    text: [u8; B],
    /// Where string `i` ends in `text` (it starts where `i - 1` ends).
    ends: [u16; N],
    /// Strings added so far.
    n: usize,
}

impl<const N: usize, const B: usize> Packed<N, B> {
    /// None yet.
    pub const fn empty() -> Self {
        assert!(B <= u16::MAX as usize, "ends are kept as u16");
        Packed {
            text: [0; B],
            ends: [0; N],
            n: 0,
        }
    }

    /// `self` with `s` added as the next string (a compile-time error past `N` or `B`).
    pub const fn with(mut self, s: &[u8]) -> Self {
        let at = if self.n == 0 { 0 } else { self.ends[self.n - 1] as usize };
        let mut k = 0;
        while k < s.len() {
            self.text[at + k] = s[k];
            k += 1;
        }
        self.ends[self.n] = (at + s.len()) as u16;
        self.n += 1;
        self
    }

    /// String `i` (empty past the last).
    pub fn get(&self, i: usize) -> &[u8] {
        nth(&self.text, &self.ends, i)
    }
}

/// [`Packed::get`] on slices: one copy of the code for every `N` and `B`.
fn nth<'t>(text: &'t [u8], ends: &[u16], i: usize) -> &'t [u8] {
    let start = match i.checked_sub(1) {
        Some(p) => ends.get(p).copied().unwrap_or(0),
        None => 0,
    };
    let end = ends.get(i).copied().unwrap_or(0);
    text.get(usize::from(start)..usize::from(end)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::Packed;

    const P: Packed<3, 6> = Packed::empty().with(b"ab").with(b"").with(b"cdef");

    #[test]
    fn strings_come_back_by_index() {
        assert_eq!(P.get(0), b"ab");
        assert_eq!(P.get(1), b"");
        assert_eq!(P.get(2), b"cdef");
        assert_eq!(P.get(3), b"");
        assert_eq!(P.get(usize::MAX), b"");
    }
}
