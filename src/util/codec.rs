//! Pure byte helpers behind the C hash, encoding and utility calls: Merkle–Damgård buffering
//! and padding around the crates' compression functions, Mongoose's streaming base64 encoder,
//! CRC-32, hex dumps, path sanity and case-insensitive comparison. No allocation.
#![forbid(unsafe_code)]

/// Feed `data` to a Merkle–Damgård hash whose state has seen `total` bytes so far; `buf`
/// holds the `total % B` bytes not yet compressed. `compress` is given each full block.
/// The caller adds `data.len()` to its total afterwards.
pub fn md_update<const B: usize>(buf: &mut [u8; B], total: u128, mut data: &[u8], mut compress: impl FnMut(&[u8; B])) {
    let pos = (total % B as u128) as usize;
    if pos > 0 {
        let take = (B - pos).min(data.len());
        buf[pos..pos + take].copy_from_slice(&data[..take]);
        data = &data[take..];
        if pos + take < B {
            return;
        }
        compress(buf);
    }
    let mut blocks = data.chunks_exact(B);
    for block in &mut blocks {
        if let Ok(block) = block.try_into() {
            compress(block);
        }
    }
    let rest = blocks.remainder();
    buf[..rest.len()].copy_from_slice(rest);
}

/// Pad and compress the last block(s) of a big-endian Merkle–Damgård hash (SHA-1, SHA-2):
/// `0x80`, zeros, and the message length in bits in the last `len_bytes` bytes.
pub fn md_finish_be<const B: usize>(
    buf: &mut [u8; B],
    total: u128,
    len_bytes: usize,
    mut compress: impl FnMut(&[u8; B]),
) {
    let pos = (total % B as u128) as usize;
    buf[pos] = 0x80;
    buf[pos + 1..].fill(0);
    if pos + 1 > B - len_bytes {
        compress(buf);
        buf.fill(0);
    }
    let bits = total.wrapping_mul(8).to_be_bytes();
    buf[B - len_bytes..].copy_from_slice(&bits[16 - len_bytes..]);
    compress(buf);
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `mg_base64_update`: add one input byte to a base64 text of `n` characters in `buf`, in
/// Mongoose's representation: `n` complete characters, and while `n % 4` is 1 or 2, the
/// pending bits in `buf[n]`. Returns the new `n`. `buf` must hold at least `n + 2` bytes
/// (`None` otherwise, nothing written).
pub fn base64_update(ch: u8, buf: &mut [u8], n: usize) -> Option<usize> {
    let out = buf.get_mut(n..n.checked_add(2)?)?;
    let pending = out[0] & 0x3f;
    match n % 4 {
        0 | 3 => {
            out[0] = B64[usize::from(ch >> 2)];
            out[1] = (ch & 3) << 4;
            Some(n + 1)
        }
        1 => {
            out[0] = B64[usize::from(pending | (ch >> 4))];
            out[1] = (ch & 15) << 2;
            Some(n + 1)
        }
        _ => {
            out[0] = B64[usize::from(pending | (ch >> 6))];
            out[1] = B64[usize::from(ch & 63)];
            Some(n + 2)
        }
    }
}

/// `mg_base64_final`: flush the pending bits, pad with `=` and NUL-terminate. Returns the text
/// length. `buf` must hold `n` rounded up to a multiple of 4, plus 1, bytes.
pub fn base64_final(buf: &mut [u8], n: usize) -> Option<usize> {
    let padded = n.checked_add(3)? / 4 * 4;
    if buf.len() <= padded {
        return None;
    }
    let mut len = n;
    if !n.is_multiple_of(4) {
        let before = n % 4;
        len = base64_update(0, buf, n)?;
        if before == 2 {
            len -= 1;
        }
    }
    buf[len..padded].fill(b'=');
    buf[padded] = 0;
    Some(padded)
}

/// CRC-32 (ISO-HDLC: zlib, Ethernet, PNG) with a 1 KiB table.
const CRC32: crc::Crc<u32, crc::Table<1>> = crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

/// `mg_crc32(crc, buf, len)`: the CRC-32 of `data` continued from `crc`, the CRC of the data
/// before it (0 to start).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    // The crate takes the initial register value unreflected; the register after `crc` is !crc.
    let mut d = CRC32.digest_with_initial((!crc).reverse_bits());
    d.update(data);
    d.finalize()
}

/// CRC-16/IBM-SDLC (X.25: polynomial 0x1021 reflected, all-ones start and final XOR), as
/// Mongoose's `mg_crc16` computes it; the 16-entry table variant keeps flash small.
const CRC16: crc::Crc<u16, crc::Table<1>> = crc::Crc::<u16, crc::Table<1>>::new(&crc::CRC_16_IBM_SDLC);

/// `mg_crc16(crc, buf, len)`: the CRC-16/IBM-SDLC of `data` continued from `crc`, the CRC of
/// the data before it (0 to start). `crc16(0, b"123456789") == 0x906E`.
pub fn crc16(crc: u16, data: &[u8]) -> u16 {
    let mut d = CRC16.digest_with_initial((!crc).reverse_bits());
    d.update(data);
    d.finalize()
}

/// `mg_timegm(year, month, day, hour, min, sec)`: seconds since 1970-01-01 00:00:00 UTC of a
/// proleptic Gregorian date, `month` 1-12 and `day` 1-31. 0 for a year before 1970 (as
/// Mongoose) or a month outside 1-12 (Mongoose reads out of bounds there). Days and times
/// beyond their range carry over arithmetically (day 32 of January is 1 February).
pub fn timegm(year: u32, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> u64 {
    if year < 1970 || !(1..=12).contains(&month) {
        return 0;
    }
    // Days from 1970-01-01 to the first of the month: count years from March so that the
    // leap day is the last day of the counted year.
    let (y, m) = if month <= 2 {
        (u64::from(year) - 1, u64::from(month) + 9)
    } else {
        (u64::from(year), u64::from(month) - 3)
    };
    let days_to_year = 365 * y + y / 4 - y / 100 + y / 400;
    let days_in_year = (153 * m + 2) / 5;
    // 719_468: the same count for 1970-03-01 minus the 59 days of January and February 1970.
    let days = days_to_year + days_in_year + u64::from(day) - 1 - 719_468;
    days * 86_400 + u64::from(hour) * 3600 + u64::from(min) * 60 + u64::from(sec)
}

fn nibble(v: u8) -> u8 {
    crate::util::str::HEX_LOWER[usize::from(v & 15)]
}

/// Width of one [`hexdump_line`].
pub const HEXDUMP_LINE: usize = 4 + 3 + 16 * 3 + 2 + 16 + 2;

/// One line of `mg_hexdump` as Mongoose prints it: the offset as 4 hex digits, three spaces,
/// up to 16 bytes as `xx `, padding, two spaces, the bytes as ASCII (`.` for unprintable),
/// CRLF. `chunk` holds at most 16 bytes.
pub fn hexdump_line(offset: usize, chunk: &[u8], out: &mut [u8; HEXDUMP_LINE]) {
    out.fill(b' ');
    for (k, o) in out[..4].iter_mut().enumerate() {
        *o = nibble((offset >> (12 - 4 * k)) as u8);
    }
    for (k, &b) in chunk.iter().take(16).enumerate() {
        out[7 + 3 * k] = nibble(b >> 4);
        out[8 + 3 * k] = nibble(b);
        out[7 + 48 + 2 + k] = if (b' '..=b'~').contains(&b) { b } else { b'.' };
    }
    out[HEXDUMP_LINE - 2..].copy_from_slice(b"\r\n");
}

/// `mg_path_is_sane`: false for a path that could leave the directory it is resolved in: one
/// starting with `~` or `..`, one with a `/..` or `\..` anywhere (conservatively, even when
/// the component goes on, as in `/..x`), and one with a NUL byte inside. A path that is empty
/// or starts with NUL (an empty C string) is sane. As Mongoose 7.22.
pub fn path_is_sane(p: &[u8]) -> bool {
    if p.first().is_none_or(|&c| c == 0) {
        return true;
    }
    if p[0] == b'~' || p.starts_with(b"..") || p.contains(&0) {
        return false;
    }
    !p.windows(3)
        .any(|w| (w[0] == b'/' || w[0] == b'\\') && w[1] == b'.' && w[2] == b'.')
}

/// `mg_casecmp`: compare two strings with ASCII letters folded to lower case; the sign of the
/// first difference of the folded bytes (as unsigned), a shorter string first.
pub fn casecmp(a: &[u8], b: &[u8]) -> i32 {
    let fold = |c: Option<&u8>| c.map_or(0, |c| i32::from(c.to_ascii_lowercase()));
    for k in 0..=a.len().max(b.len()) {
        let (x, y) = (fold(a.get(k)), fold(b.get(k)));
        if x != y || x == 0 {
            return x - y;
        }
    }
    0
}

#[cfg(test)]
mod tests {

    #[test]
    fn crc16_check_value_and_continuation() {
        // The catalogue's check value of CRC-16/IBM-SDLC.
        assert_eq!(crc16(0, b"123456789"), 0x906E);
        assert_eq!(crc16(crc16(0, b"1234"), b"56789"), 0x906E);
        assert_eq!(crc16(0, b""), 0);
    }

    #[test]
    fn timegm_known_dates() {
        assert_eq!(timegm(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(timegm(2000, 2, 29, 12, 0, 0), 951_825_600);
        assert_eq!(timegm(2038, 1, 19, 3, 14, 8), 2_147_483_648);
        assert_eq!(timegm(2024, 12, 31, 23, 59, 59), 1_735_689_599);
        assert_eq!(timegm(2100, 3, 1, 0, 0, 0), 4_107_542_400);
        assert_eq!(timegm(1969, 12, 31, 0, 0, 0), 0);
        assert_eq!(timegm(2020, 13, 1, 0, 0, 0), 0);
        assert_eq!(timegm(2020, 0, 1, 0, 0, 0), 0);
    }
    use super::*;

    #[test]
    fn crc32_check_value_and_continuation() {
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(0, b""), 0);
        assert_eq!(crc32(crc32(0, b"12345"), b"6789"), 0xCBF4_3926);
        assert_eq!(crc32(0, b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    fn stream_b64(input: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; input.len() * 4 / 3 + 8];
        let mut n = 0;
        for &c in input {
            n = base64_update(c, &mut buf, n).unwrap();
        }
        let len = base64_final(&mut buf, n).unwrap();
        assert_eq!(buf[len], 0);
        buf.truncate(len);
        buf
    }

    #[test]
    fn base64_streaming_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(stream_b64(i.as_bytes()), o.as_bytes(), "{i}");
        }
        let all: Vec<u8> = (0..=255).collect();
        use base64::Engine;
        let want = base64::engine::general_purpose::STANDARD.encode(&all);
        assert_eq!(stream_b64(&all), want.as_bytes());
        // Too small a buffer is refused, not overrun.
        let mut tiny = [0u8; 1];
        assert_eq!(base64_update(b'a', &mut tiny, 0), None);
        let mut three = [0u8; 3];
        let n = base64_update(b'a', &mut three, 0).unwrap();
        assert_eq!(base64_final(&mut three, n), None);
    }

    #[test]
    fn md_padding_boundaries_match_sha256() {
        use sha2::Digest;
        for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 200] {
            let msg: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            for split in [0, len / 3, len] {
                let mut state = [
                    0x6a09e667u32,
                    0xbb67ae85,
                    0x3c6ef372,
                    0xa54ff53a,
                    0x510e527f,
                    0x9b05688c,
                    0x1f83d9ab,
                    0x5be0cd19,
                ];
                let mut buf = [0u8; 64];
                let mut total = 0u128;
                for part in [&msg[..split], &msg[split..]] {
                    md_update(&mut buf, total, part, |b| sha2::compress256(&mut state, &[(*b).into()]));
                    total += part.len() as u128;
                }
                md_finish_be(&mut buf, total, 8, |b| sha2::compress256(&mut state, &[(*b).into()]));
                let got: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
                assert_eq!(got, sha2::Sha256::digest(&msg).to_vec(), "len {len} split {split}");
            }
        }
    }

    #[test]
    fn hexdump_matches_mongoose_layout() {
        let mut line = [0u8; HEXDUMP_LINE];
        hexdump_line(0x10, b"AB\x00", &mut line);
        let want = format!("0010   41 42 00 {}  AB.{}\r\n", " ".repeat(39), " ".repeat(13));
        assert_eq!(std::str::from_utf8(&line).unwrap(), want);
    }

    #[test]
    fn path_sanity() {
        for ok in [
            "",
            "a/b",
            "/a/b.c",
            "a/.b",
            "a/b..",
            "...x"[1..].trim_start_matches('.'),
            "\0../x",
        ] {
            assert!(path_is_sane(ok.as_bytes()), "{ok:?}");
        }
        for bad in ["..", "../a", "~/x", "a/../b", "a\\..\\b", "/..", "a/..x", "a\0b"] {
            assert!(!path_is_sane(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn casecmp_signs() {
        assert_eq!(casecmp(b"Hello", b"hELLO"), 0);
        assert!(casecmp(b"a", b"B") < 0);
        assert!(casecmp(b"b", b"A") > 0);
        assert!(casecmp(b"ab", b"abc") < 0);
        assert!(casecmp(b"abc", b"ab") > 0);
        assert_eq!(casecmp(b"", b""), 0);
    }
}
