//! Content types by file name extension.
//!
//! The application's `mime_types` option (`"ext1=type1,ext2=type2"`) is consulted first, then
//! the built-in table; anything else is `application/octet-stream`. Matching is on the end of
//! the file name, ASCII case-insensitive, on a `.` boundary, so an option entry may name a
//! compound extension (`tar.gz=application/x-gtar`). Text types carry `charset=utf-8`.

/// Type for names that match nothing.
const DEFAULT: &str = "application/octet-stream";

/// The built-in table, by last extension (lower case).
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("shtml", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
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

/// Whether `name` ends with `.ext` (ASCII case-insensitive); `ext` is non-empty.
fn has_ext(name: &[u8], ext: &[u8]) -> bool {
    name.len() > ext.len()
        && name[name.len() - ext.len() - 1] == b'.'
        && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
}

/// A media type from the application is used only if it cannot break the response head.
fn valid_type(t: &[u8]) -> bool {
    !t.is_empty() && t.iter().all(|&c| c == b' ' || c == b'\t' || (0x21..0x7f).contains(&c))
}

/// The built-in type for `name`'s last extension, if any.
fn builtin(name: &[u8]) -> Option<&'static str> {
    let dot = name.iter().rposition(|&c| c == b'.')?;
    let ext = &name[dot + 1..];
    let first = ext.first()?.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(e, _)| e.len() == ext.len() && e.as_bytes()[0] == first && e.as_bytes().eq_ignore_ascii_case(ext))
        .map(|(_, t)| *t)
}

/// The type of `name` (a file name or path; only its end matters): the first matching entry
/// of `extra` (`"ext=type,..."`, entries with an empty or control-character type are
/// skipped; an extension may be written with a leading dot), else the built-in table, else
/// [`DEFAULT`].
pub fn lookup<'a>(name: &[u8], extra: &'a [u8]) -> &'a [u8] {
    for entry in extra.split(|&c| c == b',') {
        let Some(eq) = entry.iter().position(|&c| c == b'=') else {
            continue;
        };
        let ext = entry[..eq].trim_ascii();
        let ext = ext.strip_prefix(b".").unwrap_or(ext);
        let ty = entry[eq + 1..].trim_ascii();
        if !ext.is_empty() && valid_type(ty) && has_ext(name, ext) {
            return ty;
        }
    }
    builtin(name).unwrap_or(DEFAULT).as_bytes()
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
    }
}
