//! HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate, parsing all three forms a
//! recipient must accept (IMF-fixdate, RFC 850, asctime). Times are seconds since the Unix
//! epoch, UTC; leap seconds do not exist here (a `:60` second is read as `:59`).

use crate::prelude::*;

/// Day names by days since 1970-01-01 modulo 7 (it was a Thursday), as bytes: formatting
/// copies them without bounds checks, parsing compares them.
const DAYS: [[u8; 3]; 7] = [*b"Thu", *b"Fri", *b"Sat", *b"Sun", *b"Mon", *b"Tue", *b"Wed"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [[u8; 3]; 12] = [
    *b"Jan", *b"Feb", *b"Mar", *b"Apr", *b"May", *b"Jun", *b"Jul", *b"Aug", *b"Sep", *b"Oct", *b"Nov", *b"Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let mp = (i64::from(m) + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// The date of a day number from `days_from_civil` (its inverse), shared with the directory
// listing's dates.
use crate::fs::civil_from_days;

/// The first and the last second an HTTP-date can show (its year has four digits):
/// 0000-01-01 00:00:00 and 9999-12-31 23:59:59.
const FIRST: i64 = -62_167_219_200;
const LAST: i64 = 253_402_300_799;

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `secs` since the epoch (negative: before 1970),
/// clamped to the years 0000..=9999 that the format can show.
pub fn format(secs: i64) -> String {
    let mut out = Vec::with_capacity(29);
    format_to(secs, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`format()`], appended to `out` without `fmt` or an allocation of its own. A time
/// outside the years 0000..=9999 is shown as the nearest one inside: a later time as the
/// last second of 9999 (a client's `If-Modified-Since` with it then never yields a `304`
/// for the file), rather than a five-digit year that no recipient parses.
pub fn format_to(secs: i64, out: &mut Vec<u8>) {
    let secs = secs.clamp(FIRST, LAST);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    // A template, patched: the names copied in, the numbers written digit by digit (one
    // loop each, not fourteen inlined divisions).
    let mut text = *b"Thu, 00 Jan 0000 00:00:00 GMT";
    let put = |text: &mut [u8; 29], at: usize, name: &[u8; 3]| {
        if let Some(t) = text.get_mut(at..at + 3) {
            t.copy_from_slice(name);
        }
    };
    put(&mut text, 0, &DAYS[days.rem_euclid(7) as usize % 7]);
    put(&mut text, 8, &MONTHS[(m as usize + 11) % 12]);
    // (last digit's place, value, digits): year, day, hours, minutes, seconds.
    for (end, v, n) in [
        (15, y as u32, 4),
        (6, d, 2),
        (18, rem / 3600, 2),
        (21, rem / 60 % 60, 2),
        (24, rem % 60, 2),
    ] {
        let mut v = v;
        for i in 0..n {
            if let Some(t) = text.get_mut(end - i) {
                *t = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    }
    out.extend_from_slice(&text);
}

fn assemble(y: i64, m: u32, d: u32, t: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d == 0 || d > max {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + t)
}

/// The three forms an HTTP-date may take, as patterns for [`parse_form`]: `' '` is one or
/// more spaces; `w` a day name (`Sun`), `W` a long one (`Sunday`), `b` a month name; `Y` a
/// year of four digits, `y` one of two; `D` a day of two digits, `E` of one or two; `h`,
/// `m`, `s` the time's two-digit fields; any other byte stands for itself.
const FORMS: [&[u8]; 3] = [
    b"w, D b Y h:m:s GMT", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    b"W, D-b-y h:m:s GMT", // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    b"w b E h:m:s Y",      // asctime: Sun Nov  6 08:49:37 1994
];

/// Parse an HTTP-date in any of the three forms; `None` when it is not one (the caller then
/// ignores the header field, as RFC 9110 §13.1.3 and §13.1.4 require).
pub fn parse(s: &[u8]) -> Option<i64> {
    let s = s.trim_ascii();
    FORMS.iter().find_map(|f| parse_form(s, f))
}

/// `s` read as the pattern `form` (one of [`FORMS`]): one loop over the pattern, its fields
/// (year, month, day, hour, minute, second) checked and assembled at the end.
fn parse_form(s: &[u8], form: &[u8]) -> Option<i64> {
    let mut f = [0u32; 6];
    let mut i = 0;
    for &p in form {
        let rest = s.get(i..)?;
        // Numbers: (field, fewest digits, most digits).
        let (slot, min, max) = match p {
            b'Y' => (0, 4, 4),
            b'y' => (0, 2, 2),
            b'D' => (2, 2, 2),
            b'E' => (2, 1, 2),
            b'h' => (3, 2, 2),
            b'm' => (4, 2, 2),
            b's' => (5, 2, 2),
            _ => {
                let n = match p {
                    b' ' => rest.iter().take_while(|&&c| c == b' ').count(),
                    b'w' => DAYS.iter().find(|d| rest.starts_with(&d[..]))?.len(),
                    b'W' => LONG_DAYS.iter().find(|d| rest.starts_with(d.as_bytes()))?.len(),
                    b'b' => {
                        let m = MONTHS.iter().position(|m| rest.starts_with(m))?;
                        f[1] = m as u32 + 1;
                        3
                    }
                    _ => usize::from(rest.first() == Some(&p)),
                };
                if n == 0 {
                    return None;
                }
                i += n;
                continue;
            }
        };
        let n = rest.iter().take(max).take_while(|c| c.is_ascii_digit()).count();
        if n < min {
            return None;
        }
        let mut v = rest.iter().take(n).fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
        if p == b'y' {
            // Two-digit years: RFC 9110 says to read them as within 50 years of now; a fixed
            // pivot is enough for conditional requests.
            v += if v < 70 { 2000 } else { 1900 };
        }
        f[slot] = v;
        i += n;
    }
    let [y, m, d, hh, mm, ss] = f;
    if i != s.len() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // No leap seconds here: `:60` is read as `:59`.
    let t = i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss.min(59));
    assemble(i64::from(y), m, d, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(format(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(format(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
        assert_eq!(format(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        // Four-digit years only: the ends of 0000..=9999 and beyond them.
        assert_eq!(format(FIRST), "Sat, 01 Jan 0000 00:00:00 GMT");
        assert_eq!(format(FIRST - 1), "Sat, 01 Jan 0000 00:00:00 GMT");
        assert_eq!(format(LAST), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(format(LAST + 1), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(format(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(format(i64::MIN), "Sat, 01 Jan 0000 00:00:00 GMT");
    }

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(parse(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse(b"Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse(b" Tue, 29 Feb 2000 00:00:00 GMT "), Some(951_782_400));
        // Runs of spaces separate like one; anything else out of shape is no date.
        assert_eq!(parse(b"Sun,  06   Nov 1994 08:49:37    GMT"), Some(784_111_777));
        // RFC 850's two-digit years: 70..=99 are 19xx, 00..=69 20xx; the other forms need four.
        assert_eq!(parse(b"Saturday, 01-Jan-00 00:00:00 GMT"), Some(946_684_800));
        assert_eq!(parse(b"Wednesday, 31-Dec-69 23:59:59 GMT"), Some(3_155_759_999));
        assert_eq!(parse(b"Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(parse(b"Sun, 06 Nov 94 08:49:37 GMT"), None);
        assert_eq!(parse(b"Sun Nov 06 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse(b"Sun Nov 006 08:49:37 1994"), None);
        for bad in [
            &b"Sun, 06 Nov 1994 08:49:37 GMT x"[..],
            b"Sun, 06 Nov 1994 08:49:37 GMT x y z",
            b"Sun, 06 Nov 1994 08:49:37",
            b"Sunday, 06--Nov-94 08:49:37 GMT",
            b"Sunday, 06-Nov-94- 08:49:37 GMT",
            b"Sunday, 06-Nov 08:49:37 GMT",
            b"Sunday, -06-Nov-94 08:49:37 GMT",
            b"Sun Nov 6 08:49:37 1994 x",
            b"",
            b" ",
        ] {
            assert_eq!(parse(bad), None, "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn round_trips() {
        for t in [
            0i64,
            1,
            59,
            86_399,
            86_400,
            1_700_000_000,
            2_000_000_000,
            253_402_300_799,
        ] {
            assert_eq!(parse(format(t).as_bytes()), Some(t), "{}", format(t));
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            &b""[..],
            b"yesterday",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 31 Feb 1994 08:49:37 GMT",
            b"Sun, 06 Foo 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Xyz, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49 GMT",
            b"Sunday, 06-Nov-1994 08:49:37 GMT",
            b"Sun Nov 6 08:49:37 94",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }
}
