//! Strings packed back to back at compile time, found by index: the tables whose text
//! would otherwise be a slice of `&str` (two pointers' worth of read-only data per entry)
//! or a `match` (code beside the strings): the status reason phrases and the MIME types.
//! [`Words`]: texts that repeat their words (the HTTP parsers' error texts, the reason
//! phrases), each word kept once and the texts as lists of word numbers, written out into a
//! buffer when read (cold paths only).

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

/// Longest text a [`Words`] table holds (the buffer [`Words::get`] writes into).
pub(crate) const MAX_TEXT: usize = 64;

/// Texts of ASCII words joined by single spaces, each word kept once: `words` holds the
/// distinct words back to back, the last byte of each with bit 7 set; `codes` each text's
/// word numbers in order (at most 128 words), the last of each text with bit 7 set. No
/// offsets: a text is found by counting the runs before it, for tables read only on cold
/// paths (error replies, status lines other than `200 OK`). Built at compile time by
/// [`Words::new`] from the texts of a `(u16, &str)` list (the numbers are the caller's),
/// with [`words_sizes`] giving its two sizes.
pub(crate) struct Words<const W: usize, const C: usize> {
    words: [u8; W],
    codes: [u8; C],
}

/// A [`Words`] table built in arrays of the largest size it may take, with the lengths
/// used.
struct Built {
    words: [u8; 2048],
    nwords: usize,
    codes: [u8; 512],
    ncodes: usize,
}

/// Whether `t[a..b]` is the word run `words[s..=e]` (bit 7 of its last byte aside).
const fn same_word(words: &[u8], s: usize, e: usize, t: &[u8], a: usize, b: usize) -> bool {
    if e + 1 - s != b - a {
        return false;
    }
    let mut k = 0;
    while k < b - a {
        if words[s + k] & 0x7f != t[a + k] {
            return false;
        }
        k += 1;
    }
    true
}

/// The number of the word `t[a..b]` among the first `count` words of `words`; `count` if it
/// is not there.
const fn find_word(words: &[u8], count: usize, t: &[u8], a: usize, b: usize) -> usize {
    let (mut k, mut s) = (0, 0);
    while k < count {
        let mut e = s;
        while words[e] < 0x80 {
            e += 1;
        }
        if same_word(words, s, e, t, a, b) {
            return k;
        }
        s = e + 1;
        k += 1;
    }
    count
}

/// The end of the word of `t` that starts at `a`.
const fn word_end(t: &[u8], a: usize) -> usize {
    let mut b = a;
    while b < t.len() && t[b] != b' ' {
        assert!(t[b] > b' ' && t[b] < 0x7f, "printable ASCII");
        b += 1;
    }
    assert!(b > a, "one space between words");
    b
}

/// The table of `list`'s texts. The words are numbered as they first appear in text
/// `first`, then in the others in order (the words of the text read most are the first
/// ones, found at once); the codes are in the list's order.
const fn build(list: &[(u16, &str)], first: usize) -> Built {
    let mut w = Built {
        words: [0; 2048],
        nwords: 0,
        codes: [0; 512],
        ncodes: 0,
    };
    let mut count = 0;
    let mut step = 0;
    while step <= list.len() {
        let i = match step {
            0 => first,
            s if s <= first => s - 1,
            s => s,
        };
        step += 1;
        if i >= list.len() {
            continue;
        }
        let t = list[i].1.as_bytes();
        assert!(!t.is_empty() && t.len() <= MAX_TEXT, "a text of 1..=MAX_TEXT bytes");
        assert!(t[0] != b' ' && t[t.len() - 1] != b' ', "no space first or last");
        let mut a = 0;
        while a < t.len() {
            let b = word_end(t, a);
            if find_word(&w.words, count, t, a, b) == count {
                let mut k = a;
                while k < b {
                    w.words[w.nwords] = t[k];
                    w.nwords += 1;
                    k += 1;
                }
                w.words[w.nwords - 1] |= 0x80;
                count += 1;
                assert!(count <= 128, "word numbers take 7 bits");
            }
            a = b + 1;
        }
    }
    let mut i = 0;
    while i < list.len() {
        let t = list[i].1.as_bytes();
        let mut a = 0;
        while a < t.len() {
            let b = word_end(t, a);
            w.codes[w.ncodes] = find_word(&w.words, count, t, a, b) as u8;
            w.ncodes += 1;
            a = b + 1;
        }
        w.codes[w.ncodes - 1] |= 0x80;
        i += 1;
    }
    w
}

/// The sizes `(W, C)` of the [`Words`] table of `list`'s texts.
pub(crate) const fn words_sizes(list: &[(u16, &str)]) -> (usize, usize) {
    let w = build(list, 0);
    (w.nwords, w.ncodes)
}

impl<const W: usize, const C: usize> Words<W, C> {
    /// The table of `list`'s texts, in order (a compile-time error unless `(W, C)` is
    /// [`words_sizes`] of it), the words of text `first` numbered first (the text read
    /// most: its words are found without counting through the others).
    pub(crate) const fn new(list: &[(u16, &str)], first: usize) -> Self {
        let b = build(list, first);
        assert!(b.nwords == W && b.ncodes == C, "sizes from words_sizes");
        let mut t = Words {
            words: [0; W],
            codes: [0; C],
        };
        let mut k = 0;
        while k < W {
            t.words[k] = b.words[k];
            k += 1;
        }
        k = 0;
        while k < C {
            t.codes[k] = b.codes[k];
            k += 1;
        }
        t
    }

    /// Text `i`, written into `buf` (empty past the last).
    pub(crate) fn get<'b>(&self, i: usize, buf: &'b mut [u8; MAX_TEXT]) -> &'b [u8] {
        decode(&self.words, &self.codes, i, buf)
    }
}

/// `t` after its first `i` runs, the runs ending at a byte with bit 7 set (empty past the
/// last).
fn after_runs(t: &[u8], mut i: usize) -> &[u8] {
    let mut rest = t;
    while i > 0 && !rest.is_empty() {
        let end = rest.iter().position(|&b| b >= 0x80).map_or(rest.len(), |k| k + 1);
        rest = &rest[end..];
        i -= 1;
    }
    rest
}

/// [`Words::get`] on slices: one copy of the code for every table.
fn decode<'b>(words: &[u8], codes: &[u8], i: usize, buf: &'b mut [u8; MAX_TEXT]) -> &'b [u8] {
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b & 0x7f;
            n += 1;
        }
    };
    for &c in after_runs(codes, i) {
        for &b in after_runs(words, usize::from(c & 0x7f)) {
            put(b);
            if b >= 0x80 {
                break;
            }
        }
        if c >= 0x80 {
            break;
        }
        put(b' ');
    }
    &buf[..n]
}

#[cfg(test)]
mod tests {
    use super::Packed;

    const P: Packed<3, 6> = Packed::empty().with(b"ab").with(b"").with(b"cdef");

    const LIST: &[(u16, &str)] = &[
        (0, "bare CR in head"),
        (1, "bare LF in head"),
        (2, "x"),
        (3, "head x head"),
        (4, "a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5"),
    ];
    const SIZES: (usize, usize) = super::words_sizes(LIST);
    static W: super::Words<{ SIZES.0 }, { SIZES.1 }> = super::Words::new(LIST, 0);
    static W3: super::Words<{ SIZES.0 }, { SIZES.1 }> = super::Words::new(LIST, 3);

    #[test]
    fn word_coded_texts_come_back_by_index() {
        // Each word once: bare CR in head LF x a..z 0..5.
        assert_eq!(SIZES.0, "bareCRinheadLFx".len() + 25 + 6);
        assert_eq!(SIZES.1, 4 + 4 + 1 + 3 + 32);
        let mut buf = [0; super::MAX_TEXT];
        for (i, (_, t)) in LIST.iter().enumerate() {
            assert_eq!(W.get(i, &mut buf), t.as_bytes());
            assert_eq!(W3.get(i, &mut buf), t.as_bytes());
        }
        // Text 3's words first in W3.
        assert!(W3.words.starts_with(b"hea\xe4\xf8bar\xe5"));
        assert!(W.words.starts_with(b"bar\xe5C\xd2"));
        assert_eq!(W.get(LIST.len(), &mut buf), b"");
        assert_eq!(W.get(usize::MAX, &mut buf), b"");
    }

    #[test]
    fn strings_come_back_by_index() {
        assert_eq!(P.get(0), b"ab");
        assert_eq!(P.get(1), b"");
        assert_eq!(P.get(2), b"cdef");
        assert_eq!(P.get(3), b"");
        assert_eq!(P.get(usize::MAX), b"");
    }
}
