//! Content types by file name extension.
//!
//! The application's `mime_types` option (`"ext1=type1,ext2=type2"`) is consulted first, then
//! the built-in table; anything else is `application/octet-stream`. Matching is on the end of
//! the file name, ASCII case-insensitive, on a `.` boundary, so an option entry may name a
//! compound extension (`tar.gz=application/x-gtar`). Text types carry `charset=utf-8`.

use crate::prelude::*;
use crate::util::packed::Packed;
use crate::util::str::{piece, EqCi};

/// Type for names that match nothing.
const DEFAULT: &str = "application/octet-stream";

/// The built-in table, by last extension (lower case, at most 8 bytes), as written; only
/// the packed form below ([`ENTRIES`], [`TYPES`]) is in the program.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("shtml", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
    ("log", "text/plain; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("ics", "text/calendar; charset=utf-8"),
    ("xml", "application/xml"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("toml", "application/toml"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("apng", "image/apng"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("ico", "image/x-icon"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
    ("rtf", "application/rtf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("bz2", "application/x-bzip2"),
    ("xz", "application/x-xz"),
    ("zst", "application/zstd"),
    ("7z", "application/x-7z-compressed"),
    ("bin", "application/octet-stream"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("ogv", "video/ogg"),
    ("mov", "video/quicktime"),
    ("avi", "video/x-msvideo"),
    ("mpeg", "video/mpeg"),
    ("mpg", "video/mpeg"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("wav", "audio/wav"),
    ("flac", "audio/flac"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("eot", "application/vnd.ms-fontobject"),
    ("pem", "application/x-pem-file"),
    ("crt", "application/x-x509-ca-cert"),
    ("der", "application/x-x509-ca-cert"),
];

/// The one built-in extension longer than [`KEY_MAX`] bytes, and its type.
const LONG: (&str, &str) = ("webmanifest", "application/manifest+json");

const N: usize = TABLE.len();

/// The longest extension that has a [`key`].
const KEY_MAX: usize = 5;

/// An extension of 1..=[`KEY_MAX`] letters and digits (ASCII, either case) as a number: its
/// bytes (`a`..`z` 1..=26, `0`..`9` 27..=36) as the digits of a bijective base-36 numeral, so
/// no two extensions share one and a key is below 36 + 36^2 + ... + 36^5 < 2^26, leaving the
/// low bits of an [`ENTRIES`] word to its type. `None` for any other byte or length: no
/// built-in extension has it.
const fn key(ext: &[u8]) -> Option<u32> {
    if ext.is_empty() || ext.len() > KEY_MAX {
        return None;
    }
    let mut k = 0u32;
    let mut i = 0;
    while i < ext.len() {
        let c = ext[i].to_ascii_lowercase();
        let code = match c {
            b'a'..=b'z' => c - b'a' + 1,
            b'0'..=b'9' => c - b'0' + 27,
            _ => return None,
        };
        k = k * 36 + code as u32;
        i += 1;
    }
    Some(k)
}

const fn str_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && begins(a.as_bytes(), b.as_bytes())
}

/// The type of entry `i` of [`TABLE`], [`LONG`]'s type at `N`.
const fn type_at(i: usize) -> &'static str {
    if i == N {
        LONG.1
    } else {
        TABLE[i].1
    }
}

/// Index of the first entry (of [`TABLE`], then [`LONG`]) with the same type as entry `i`.
const fn first_of(i: usize) -> usize {
    let mut j = 0;
    while !str_eq(type_at(j), type_at(i)) {
        j += 1;
    }
    j
}

/// The types' shared beginnings: the first [`TYPES`], by number (a stored type names one by
/// its first byte).
const PREFIXES: [&str; 6] = ["text/", "application/", "image/", "video/", "audio/", "font/"];
/// Number of [`PREFIXES`]: the first type number of a whole type.
const NP: usize = PREFIXES.len();
/// The ending of every text type (bit 3 of a stored type's first byte).
const CHARSET: &[u8] = b"; charset=utf-8";
/// Bit of a stored type's first byte saying that it ends with [`CHARSET`].
const WITH_CHARSET: u8 = 8;

/// Whether `s` begins with `p`.
const fn begins(s: &[u8], p: &[u8]) -> bool {
    if s.len() < p.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if s[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `ty` as stored: a byte (prefix number, [`WITH_CHARSET`]), then the rest of the type
/// without its prefix and [`CHARSET`], in `buf`; the stored length.
const fn encode(ty: &str, buf: &mut [u8; 64]) -> usize {
    let mut t = ty.as_bytes();
    let mut code = 0u8;
    let mut p = 0;
    while p < PREFIXES.len() {
        if begins(t, PREFIXES[p].as_bytes()) {
            code = p as u8;
            t = t.split_at(PREFIXES[p].len()).1;
            break;
        }
        p += 1;
    }
    assert!(p < PREFIXES.len(), "every built-in type has one of the prefixes");
    if t.len() > CHARSET.len() {
        let (head, tail) = t.split_at(t.len() - CHARSET.len());
        let mut k = 0;
        let mut same = true;
        while k < CHARSET.len() {
            if tail[k] != CHARSET[k] {
                same = false;
            }
            k += 1;
        }
        if same {
            code |= WITH_CHARSET;
            t = head;
        }
    }
    buf[0] = code;
    let mut k = 0;
    while k < t.len() {
        buf[1 + k] = t[k];
        k += 1;
    }
    1 + t.len()
}

/// Number of [`TYPES`] (prefixes and distinct types), and their stored bytes together.
const fn distinct() -> (usize, usize) {
    let (mut n, mut bytes, mut i) = (NP, 0, 0);
    while i < NP {
        bytes += PREFIXES[i].len();
        i += 1;
    }
    i = 0;
    while i <= N {
        if first_of(i) == i {
            n += 1;
            bytes += encode(type_at(i), &mut [0; 64]);
        }
        i += 1;
    }
    (n, bytes)
}

const NT: usize = distinct().0;
const NB: usize = distinct().1;

/// The [`PREFIXES`], then the distinct types, stored ([`encode`]), in order of first
/// appearance; and the type number of each entry of [`TABLE`] (and [`LONG`] at `N`).
const fn pack() -> (Packed<NT, NB>, [u8; N + 1]) {
    let mut types = Packed::empty();
    let mut no = [0u8; N + 1];
    let mut t = 0;
    while t < NP {
        types = types.with(PREFIXES[t].as_bytes());
        t += 1;
    }
    let mut i = 0;
    while i <= N {
        let f = first_of(i);
        if f == i {
            let mut buf = [0u8; 64];
            let n = encode(type_at(i), &mut buf);
            types = types.with(buf.split_at(n).0);
            no[i] = t as u8;
            t += 1;
        } else {
            no[i] = no[f];
        }
        i += 1;
    }
    (types, no)
}

const PACKED: (Packed<NT, NB>, [u8; N + 1]) = pack();
/// The prefixes, then the distinct types stored as [`encode`] writes them, by number.
static TYPES: Packed<NT, NB> = PACKED.0;
/// The type number of [`LONG`].
const LONG_TYPE: u8 = PACKED.1[N];
/// The type number of [`DEFAULT`] (the built-in `bin`).
const DEFAULT_TYPE: u8 = PACKED.1[first_of_type(DEFAULT)];

/// Index of the first entry of [`TABLE`] with type `ty`.
const fn first_of_type(ty: &str) -> usize {
    let mut j = 0;
    while !str_eq(TABLE[j].1, ty) {
        j += 1;
    }
    j
}

/// Bits of an [`ENTRIES`] word that hold the type number.
const TYPE_BITS: u32 = 6;

/// The extensions' [`key`]s shifted left by [`TYPE_BITS`], each with its type number in the
/// low bits, ascending.
const fn sorted() -> [u32; N] {
    let mut entries = [0u32; N];
    let mut i = 0;
    while i < N {
        let e = TABLE[i].0.as_bytes();
        let Some(k) = key(e) else {
            panic!("built-in extensions have 1..=KEY_MAX letters and digits");
        };
        assert!(k < 1 << (32 - TYPE_BITS), "a key leaves room for the type");
        let t = PACKED.1[i] as u32;
        assert!(t < 1 << TYPE_BITS, "a type number fits in TYPE_BITS");
        let w = k << TYPE_BITS | t;
        // Insertion sort.
        let mut j = i;
        while j > 0 && entries[j - 1] > w {
            entries[j] = entries[j - 1];
            j -= 1;
        }
        assert!(
            j == 0 || entries[j - 1] >> TYPE_BITS != k,
            "an extension is listed twice"
        );
        entries[j] = w;
        i += 1;
    }
    entries
}

/// Built-in extensions: each a [`key`] and its type number (into [`TYPES`]) in one word
/// (see [`sorted`]), ascending; one table searched by key, no separate array of types.
static ENTRIES: [u32; N] = sorted();

/// Whether `name` ends with `.ext` (ASCII case-insensitive); `ext` is non-empty.
fn has_ext(name: &[u8], ext: &[u8]) -> bool {
    name.len() > ext.len() && name[name.len() - ext.len() - 1] == b'.' && name[name.len() - ext.len()..].eq_ci(ext)
}

/// A media type from the application is used only if it cannot break the response head.
fn valid_type(t: &[u8]) -> bool {
    !t.is_empty() && t.iter().all(|&c| c == b' ' || c == b'\t' || (0x21..0x7f).contains(&c))
}

/// The built-in type number for `name`'s last extension, if any: a binary search of the
/// extension's [`key`].
fn builtin(name: &[u8]) -> Option<u8> {
    let dot = name.iter().rposition(|&c| c == b'.')?;
    let ext = name.get(dot + 1..)?;
    if ext.len() > KEY_MAX {
        return ext.eq_ci(LONG.0.as_bytes()).then_some(LONG_TYPE);
    }
    let k = key(ext)?;
    let i = ENTRIES.binary_search_by(|w| (w >> TYPE_BITS).cmp(&k)).ok()?;
    Some(ENTRIES[i] as u8 & ((1 << TYPE_BITS) - 1))
}

/// Append the type of `name` (a file name or path; only its end matters) to `out`: the
/// first matching entry of `extra` (`"ext=type,..."`, entries with an empty or
/// control-character type are skipped; an extension may be written with a leading dot),
/// else the built-in table, else [`DEFAULT`].
pub fn push(name: &[u8], extra: &[u8], out: &mut Vec<u8>) {
    let mut rest = extra;
    while let Some(mut entry) = piece(&mut rest, b',') {
        // `ext=type`, both trimmed, by the same splitter; an entry without `=` leaves no
        // type, so it is skipped like one with an empty type.
        let Some(ext) = piece(&mut entry, b'=') else {
            continue;
        };
        let ext = ext.strip_prefix(b".").unwrap_or(ext);
        let ty = entry.trim_ascii();
        if !ext.is_empty() && valid_type(ty) && has_ext(name, ext) {
            out.extend_from_slice(ty);
            return;
        }
    }
    let no = builtin(name).unwrap_or(DEFAULT_TYPE);
    // By value: a `&0` default would be a 1-byte constant, pooled as an empty C string.
    let (code, rest) = match TYPES.get(usize::from(no)).split_first() {
        Some((&code, rest)) => (code, rest),
        None => (0, &[][..]),
    };
    out.extend_from_slice(TYPES.get(usize::from(code & 7)));
    out.extend_from_slice(rest);
    if code & WITH_CHARSET != 0 {
        out.extend_from_slice(CHARSET);
    }
}

/// The type [`push`] writes, as bytes.
pub fn lookup(name: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    push(name, extra, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_types() {
        assert_eq!(lookup(b"/a/index.html", b""), b"text/html; charset=utf-8");
        assert_eq!(lookup(b"STYLE.CSS", b""), b"text/css; charset=utf-8");
        assert_eq!(lookup(b"app.mjs", b""), b"text/javascript; charset=utf-8");
        assert_eq!(lookup(b"x.wasm", b""), b"application/wasm");
        assert_eq!(lookup(b"x.woff2", b""), b"font/woff2");
        assert_eq!(lookup(b"x.tar.gz", b""), b"application/gzip");
        assert_eq!(lookup(b"photo.JPeG", b""), b"image/jpeg");
        assert_eq!(lookup(b"x.svg", b""), b"image/svg+xml");
    }

    #[test]
    fn packed_table_answers_as_the_written_one() {
        for (ext, ty) in TABLE
            .iter()
            .copied()
            .chain([("webmanifest", "application/manifest+json")])
        {
            for name in [format!("a.{ext}"), format!("/d/x.y.{}", ext.to_ascii_uppercase())] {
                assert_eq!(lookup(name.as_bytes(), b""), ty.as_bytes(), "{name}");
            }
            // A byte more or less is another extension.
            for near in [format!("a.{ext}x"), format!("a.x{ext}"), format!("a.{}", &ext[1..])] {
                let want = TABLE
                    .iter()
                    .chain([&("webmanifest", "")])
                    .find(|(e, _)| near.ends_with(&format!(".{e}")));
                if want.is_none() {
                    assert_eq!(lookup(near.as_bytes(), b""), DEFAULT.as_bytes(), "{near}");
                }
            }
        }
        assert_eq!(lookup(b"a.WebManifest", b""), b"application/manifest+json");
        assert_eq!(lookup(b"a.webmanifests", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"a.gz\0", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"a.\0", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"a.tarball12", b""), DEFAULT.as_bytes());
    }

    /// The built-in table searched the plain way: the last extension compared with each.
    fn model(name: &[u8]) -> &'static [u8] {
        let ext = name.rsplit(|&c| c == b'.').next().filter(|_| name.contains(&b'.'));
        ext.and_then(|ext| {
            TABLE
                .iter()
                .copied()
                .chain([("webmanifest", "application/manifest+json")])
                .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(ext))
        })
        .map_or(DEFAULT.as_bytes(), |(_, t)| t.as_bytes())
    }

    #[test]
    fn keys_answer_as_the_model() {
        // Every built-in extension with each byte replaced by every byte value, and cut.
        for (ext, _) in TABLE {
            for i in 0..ext.len() {
                for b in 0..=255u8 {
                    let mut name = b"f.".to_vec();
                    name.extend_from_slice(ext.as_bytes());
                    name[2 + i] = b;
                    assert_eq!(
                        lookup(&name, b""),
                        model(&name),
                        "{:?}",
                        name.escape_ascii().to_string()
                    );
                    name.truncate(2 + i + 1);
                    assert_eq!(
                        lookup(&name, b""),
                        model(&name),
                        "{:?}",
                        name.escape_ascii().to_string()
                    );
                }
            }
        }
        // Every extension of up to two bytes from letters, digits and a few others.
        let bytes: Vec<u8> = (b'a'..=b'z').chain(b'0'..=b'9').chain(*b"AZ-_.\0 \xff`{/:@[").collect();
        for &a in &bytes {
            for &b in &bytes {
                for name in [
                    vec![b'x', b'.', a],
                    vec![b'x', b'.', a, b],
                    vec![b'x', b'.', a, b, b'z', b'z', b'z', b'z'],
                ] {
                    assert_eq!(
                        lookup(&name, b""),
                        model(&name),
                        "{:?}",
                        name.escape_ascii().to_string()
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_and_extensionless_names_are_octet_stream() {
        assert_eq!(lookup(b"README", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"a.unknownext", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"dir.html/file", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"", b""), DEFAULT.as_bytes());
        assert_eq!(lookup(b"trailingdot.", b""), DEFAULT.as_bytes());
    }

    #[test]
    fn extra_types_override_and_extend() {
        let extra = b"txt=text/x-mine, .foo = application/foo ,tar.gz=application/x-gtar,bad=,evil=a\r\nX: y";
        assert_eq!(lookup(b"a.txt", extra), b"text/x-mine");
        assert_eq!(lookup(b"a.FOO", extra), b"application/foo");
        assert_eq!(lookup(b"a.tar.gz", extra), b"application/x-gtar");
        assert_eq!(lookup(b"a.gz", extra), b"application/gzip");
        assert_eq!(lookup(b"a.bad", extra), DEFAULT.as_bytes());
        assert_eq!(lookup(b"a.evil", extra), DEFAULT.as_bytes());
        // Only whole extensions match.
        assert_eq!(lookup(b"a.xtxt", extra), DEFAULT.as_bytes());
        assert_eq!(lookup(b"txt", extra), DEFAULT.as_bytes());
        // An entry without `=` (or with nothing before it) is skipped.
        let extra = b"txt, =text/x-none,foo=application/foo";
        assert_eq!(lookup(b"a.txt", extra), b"text/plain; charset=utf-8");
        assert_eq!(lookup(b"a.foo", extra), b"application/foo");
        assert_eq!(lookup(b"a.", extra), DEFAULT.as_bytes());
    }
}
