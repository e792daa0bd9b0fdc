//! Logging: a global level and a pluggable sink, as in Mongoose (`mg_log_set`,
//! `mg_log_set_fn`, adapted in `ffi::log`). Rust code logs through [`emit`] (or the
//! [`mlog!`](crate::mlog) macro); the C macros `MG_ERROR(("..."))` etc. call `mg_log_prefix`
//! and then `mg_log` (C shim), which writes through `mg_log_write`.
#![forbid(unsafe_code)]

use alloc::string::String;
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;

/// Nothing is logged.
pub const LL_NONE: i32 = 0;
/// Errors only (the default).
pub const LL_ERROR: i32 = 1;
/// Errors and information.
pub const LL_INFO: i32 = 2;
/// Debugging detail.
pub const LL_DEBUG: i32 = 3;
/// Everything.
pub const LL_VERBOSE: i32 = 4;

/// The global log level. Its storage is `sys::mg_log_level`, a C-visible symbol (Mongoose's
/// `int mg_log_level`), so that firmware that reads or sets it directly keeps working; the
/// core only reads and writes it as an atomic.
use crate::sys::mg_log_level as LEVEL;

/// Where log output goes: called with each piece of a line (a prefix, a message, the line
/// end), from whichever thread logs.
pub type Sink = fn(&[u8]);

static SINK: spin::Mutex<Option<Sink>> = spin::Mutex::new(None);

/// Set the global log level (`LL_*`). Out-of-range values are clamped.
pub fn set_level(level: i32) {
    LEVEL.store(level.clamp(LL_NONE, LL_VERBOSE), Ordering::Relaxed);
}

/// The global log level.
pub fn level() -> i32 {
    LEVEL.load(Ordering::Relaxed)
}

/// Whether a message at `level` is written.
pub fn enabled(level: i32) -> bool {
    level > LL_NONE && level <= LEVEL.load(Ordering::Relaxed)
}

/// Install a sink; `None` restores the default (standard output).
pub fn set_sink(f: Option<Sink>) {
    *SINK.lock() = f;
}

/// Write raw bytes to the sink.
pub fn write(bytes: &[u8]) {
    let sink = *SINK.lock(); // copied out: the sink runs without our lock held
    match sink {
        Some(f) => f(bytes),
        // Straight to fd 1, never raising SIGPIPE (a closed stdout loses the line).
        None => crate::sys::write_stdout(bytes),
    }
}

const LINE_MAX: usize = 512;

/// Where the pieces of a text go: a log line (cut at 510 bytes, see [`Line`]) or a `String`
/// (for an [`Event::Error`](crate::mgr::Event::Error) message, [`string`]).
pub trait Out {
    /// Append `s`.
    fn text(&mut self, s: &str);

    /// Append ASCII bytes (digits, escapes, padding), each its own character: what a
    /// `&str` of them would append, without making one (`core::str::from_utf8`) nor a
    /// `char` at a time (`char::encode_utf8`, ~120 B of code).
    fn ascii(&mut self, b: &[u8]) {
        for &c in b {
            self.text(char::from(c).encode_utf8(&mut [0; 4]))
        }
    }
}

/// A value that writes itself into a log line or a message without `core::fmt`: texts,
/// decimal numbers, [`Escaped`] bytes, the core's error types (their static texts). Its
/// output is what `{}` would show (`Dbg` and `Disp` go through `core::fmt` for what has no
/// such form). `core::fmt` (`Formatter::pad`, `pad_integral`, the integer `Display`s,
/// `fmt::write`) is about 3 KB of a firmware image that nothing else in a plain HTTP server
/// needs: log lines and the poll loop's error texts are written with this instead.
pub trait Put {
    /// Write `self` into `out`.
    fn put(&self, out: &mut dyn Out);
}

impl Put for &str {
    fn put(&self, out: &mut dyn Out) {
        out.text(self)
    }
}

use crate::util::str::HEX_LOWER as HEX;

use crate::util::str::digits;

impl Put for u64 {
    fn put(&self, out: &mut dyn Out) {
        out.ascii(digits(*self, 10, &mut [0; 20]).as_bytes())
    }
}

impl Put for i64 {
    fn put(&self, out: &mut dyn Out) {
        if *self < 0 {
            out.text("-");
        }
        self.unsigned_abs().put(out)
    }
}

/// Unsigned integers as `{}` shows them (through `u64`: one copy of the digit loop).
macro_rules! put_via {
    ($wide:ty: $($t:ty),*) => {$(
        impl Put for $t {
            fn put(&self, out: &mut dyn Out) {
                <$wide>::from(*self).put(out)
            }
        }
    )*};
}
put_via!(u64: u8, u16, u32);
put_via!(i64: i32);

impl Put for usize {
    fn put(&self, out: &mut dyn Out) {
        (*self as u64).put(out) // usize is at most 64 bits on every target Rust supports
    }
}

impl Put for crate::error::Error {
    fn put(&self, out: &mut dyn Out) {
        out.text(self.as_str())
    }
}

impl Put for crate::http::HttpError {
    /// `"<status> <reason>"`, as its `Display` shows it.
    fn put(&self, out: &mut dyn Out) {
        self.status.put(out);
        out.text(" ");
        out.text(self.reason);
    }
}

impl Put for crate::sys::Errno {
    /// As its `Display` shows it: with std, the C library's text and number
    /// (`std::io::Error`'s, through `core::fmt`, which std links anyway); without,
    /// `os error N`.
    fn put(&self, out: &mut dyn Out) {
        if *self == crate::sys::Errno::UNSUPPORTED {
            return out.text(crate::sys::Errno::UNSUPPORTED_TEXT);
        }
        #[cfg(feature = "std")]
        Disp(self).put(out);
        #[cfg(not(feature = "std"))]
        os_error(self.0, out);
    }
}

/// `os error N`: how an [`Errno`](crate::sys::Errno) shows without std.
#[cfg_attr(feature = "std", allow(dead_code))] // tested with std
fn os_error(n: i32, out: &mut dyn Out) {
    out.text("os error ");
    n.put(out);
}

/// A `Display` value through `core::fmt` (for what has no fmt-free form, e.g. addresses):
/// links `core::fmt` into the programs that reach it.
pub struct Disp<'a>(pub &'a dyn fmt::Display);

/// A `Debug` value through `core::fmt` (`{:?}`), for the protocol layers' log lines:
/// links `core::fmt` into the programs that reach it.
pub struct Dbg<'a>(pub &'a dyn fmt::Debug);

/// `core::fmt` output into an [`Out`], piece by piece.
struct FmtOut<'a>(&'a mut dyn Out);

impl fmt::Write for FmtOut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.text(s);
        Ok(())
    }
}

impl Put for Disp<'_> {
    fn put(&self, out: &mut dyn Out) {
        let _ = write!(FmtOut(out), "{}", self.0);
    }
}

impl Put for Dbg<'_> {
    fn put(&self, out: &mut dyn Out) {
        let _ = write!(FmtOut(out), "{:?}", self.0);
    }
}

impl Put for fmt::Arguments<'_> {
    fn put(&self, out: &mut dyn Out) {
        let _ = FmtOut(out).write_fmt(*self);
    }
}

impl Out for String {
    fn text(&mut self, s: &str) {
        self.push_str(s)
    }

    fn ascii(&mut self, b: &[u8]) {
        for &c in b {
            debug_assert!(c.is_ascii());
            self.push(char::from(c & 0x7f));
        }
    }
}

/// The pieces joined into a `String` (an error message for [`Mgr::fail`](crate::mgr::Mgr::fail)).
pub fn string(parts: &[&dyn Put]) -> String {
    let mut s = String::new();
    for p in parts {
        p.put(&mut s);
    }
    s
}

/// One log line on the stack: UTF-8 text (every piece is a `&str` or ASCII). Over-long text
/// is cut rather than allocated, leaving room for the "\r\n" that ends the line: each piece
/// keeps the whole characters that fit.
struct Line(heapless::Vec<u8, LINE_MAX>);

impl Out for Line {
    fn text(&mut self, s: &str) {
        // Whole characters that fit.
        let mut n = s.len().min(self.room());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.ascii(s.as_bytes().get(..n).unwrap_or_default())
    }

    fn ascii(&mut self, b: &[u8]) {
        let _ = self.0.extend_from_slice(b.get(..self.room()).unwrap_or(b));
    }
}

impl Line {
    /// Bytes left before the room kept for the line end.
    fn room(&self) -> usize {
        (LINE_MAX - 2).saturating_sub(self.0.len())
    }

    /// An empty line. The lines are filled in place (`&mut self`): a 514-byte `Line`
    /// returned by value is copied.
    fn new() -> Line {
        Line(heapless::Vec::new())
    }

    /// Start the line with the time `now` in hexadecimal, left-aligned in 8 columns
    /// (`{:<8x}`), and the level's name: `"2a       INFO "`.
    fn start(&mut self, level: i32, now: u64) {
        let mut buf = [0; 20];
        let hex = digits(now, 16, &mut buf);
        self.ascii(hex.as_bytes());
        // The padding to 8 columns and the space after them (from 9 bytes: an 8-byte literal
        // would be pooled, see [`LINE_TEXTS`]).
        self.ascii(b"         ".get(hex.len().min(8)..).unwrap_or_default());
        self.text(level_name(level));
        self.ascii(b" ");
    }
}

/// The level names, [`rust_line`]'s `"meerkat "` and the log texts of 4, 8, 16 or 32 bytes
/// that a plain server logs, sliced out of one literal at compile time: alone, each would be
/// a literal of that size, which LLVM puts with every other constant of that size of the
/// library (other protocols' texts, SIMD constants) into one `.rodata.cst4/8/16/32` that GNU
/// ld keeps whole when one piece is used (scripts/merge_pools.py).
const LINE_TEXTS: &str = "ERRORINFODEBUGVERBOSEmeerkat accept: ";

/// `LINE_TEXTS[at..end]`, at compile time.
const fn line_text(at: usize, end: usize) -> &'static str {
    crate::util::str::cut(LINE_TEXTS, at, end)
}

const MEERKAT: &str = line_text(21, 29);
/// `"accept: "` (see [`LINE_TEXTS`]).
pub(crate) const ACCEPT: &str = line_text(29, 37);

fn level_name(level: i32) -> &'static str {
    match level {
        LL_ERROR => const { line_text(0, 5) },
        LL_INFO => const { line_text(5, 9) },
        LL_DEBUG => const { line_text(9, 14) },
        _ => const { line_text(14, 21) },
    }
}

/// Write the line prefix (time, level, source location) if `level` is enabled.
pub fn prefix(level: i32, file: &str, line: i32, func: &str) -> bool {
    if !enabled(level) {
        return false;
    }
    let mut l = Line::new();
    prefix_line(&mut l, level, crate::util::clock::millis(), file, line, func);
    write(&l.0);
    true
}

/// `"<time> <LEVEL> <file's base name>:<line>:<func> "` (Mongoose's prefix), into `l`.
fn prefix_line(l: &mut Line, level: i32, now: u64, file: &str, line: i32, func: &str) {
    // After the last separator (ASCII, so a character boundary). Bytes, not
    // `str::rsplit(['/', '\\'])`, whose reverse char search is ~340 bytes of code.
    let cut = file.bytes().rposition(|b| b == b'/' || b == b'\\').map_or(0, |i| i + 1);
    let base = file.get(cut..).unwrap_or(file);
    l.start(level, now);
    l.text(base);
    l.ascii(b":");
    line.put(l);
    l.ascii(b":");
    l.text(func);
    l.ascii(b" ");
}

/// Log one line from Rust code: `"<time> <LEVEL> meerkat "`, the pieces, `"\r\n"`. The
/// [`mlog!`](crate::mlog) macro calls it.
pub fn put_line(level: i32, parts: &[&dyn Put]) {
    if !enabled(level) {
        return;
    }
    let mut l = Line::new();
    rust_line(&mut l, level, crate::util::clock::millis(), parts);
    write(&l.0);
}

/// `"<time> <LEVEL> meerkat "`, the pieces, `"\r\n"`, into `l`.
fn rust_line(l: &mut Line, level: i32, now: u64, parts: &[&dyn Put]) {
    l.start(level, now);
    l.text(MEERKAT);
    for p in parts {
        p.put(l);
    }
    let _ = l.0.extend_from_slice(b"\r\n");
}

/// Log one line from Rust code formatted with `core::fmt` (`format_args!`), as [`put_line`]
/// does: links `core::fmt` into the program; [`put_line`] and [`mlog!`](crate::mlog) do not.
pub fn emit(level: i32, args: fmt::Arguments<'_>) {
    put_line(level, &[&args]);
}

/// Bytes in a log line, escaped as `<[u8]>::escape_ascii` (and `{:?}` of a byte string) shows
/// them: printable ASCII as it is, `\t` `\r` `\n` `\\` `\'` `\"`, anything else `\xNN`
/// (lowercase hex). Its own loop rather than core's `EscapeAscii` display, which is 534 bytes
/// of a static server's text (http-hello, footprint build) for log lines alone.
#[derive(Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl Put for Escaped<'_> {
    fn put(&self, out: &mut dyn Out) {
        // The escaped bytes and, at the same place, what follows their backslash.
        const FROM: &[u8; 6] = b"\t\r\n\\'\"";
        const TO: &[u8; 6] = b"trn\\'\"";
        for &b in self.0 {
            let mut e = [b'\\', b'x', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
            let n = match FROM.iter().position(|&c| c == b) {
                Some(i) => {
                    e[1] = TO[i];
                    2
                }
                None if (0x20..0x7f).contains(&b) => {
                    e[0] = b;
                    1
                }
                None => 4,
            };
            out.ascii(e.get(..n).unwrap_or_default());
        }
    }
}

/// `{}` in `format_args!` (for [`emit`]'s callers).
impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct ToFmt<'a, 'b>(&'a mut fmt::Formatter<'b>, fmt::Result);
        impl Out for ToFmt<'_, '_> {
            fn text(&mut self, s: &str) {
                if self.1.is_ok() {
                    self.1 = self.0.write_str(s);
                }
            }
        }
        let mut o = ToFmt(f, Ok(()));
        self.put(&mut o);
        o.1
    }
}

/// `mlog!(LEVEL; piece, piece, ...)`: one log line of the pieces (each a [`Put`]: `"text"`,
/// numbers, [`Escaped`], errors; [`Dbg`]/[`Disp`] for `core::fmt`), without `core::fmt`.
/// The level is checked first: the pieces are not evaluated for a line that is not written.
/// (A `;` after the level, so that a `format!`-style call does not compile.)
#[macro_export]
macro_rules! mlog {
    ($lvl:expr; $($part:expr),+ $(,)?) => {{
        let lvl = $lvl;
        if $crate::log::enabled(lvl) {
            $crate::log::put_line(lvl, &[$(&$part as &dyn $crate::log::Put),+])
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    fn show(p: &dyn Put) -> String {
        string(&[p])
    }

    impl Line {
        /// The line as text (it is UTF-8: made of `&str` pieces and ASCII).
        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.0).unwrap()
        }

        /// A line started by [`Line::start`].
        fn started(level: i32, now: u64) -> Line {
            let mut l = Line::new();
            l.start(level, now);
            l
        }
    }

    /// What [`super::prefix_line`] writes, as a line.
    fn prefix_line(level: i32, now: u64, file: &str, line: i32, func: &str) -> Line {
        let mut l = Line::new();
        super::prefix_line(&mut l, level, now, file, line, func);
        l
    }

    /// What [`super::rust_line`] writes, as a line.
    fn rust_line(level: i32, now: u64, parts: &[&dyn Put]) -> Line {
        let mut l = Line::new();
        super::rust_line(&mut l, level, now, parts);
        l
    }

    #[test]
    fn escaped_bytes_show_as_escape_ascii_shows_them() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(show(&Escaped(&all)), all.escape_ascii().to_string());
        assert_eq!(Escaped(&all).to_string(), all.escape_ascii().to_string());
        for s in [
            &b""[..],
            b"GET /a b",
            b"\"q\" 'x' \\ \t\r\n\0\x7f\x80\xff",
            "\u{e9}t\u{e9}".as_bytes(),
        ] {
            assert_eq!(show(&Escaped(s)), s.escape_ascii().to_string(), "{s:?}");
            assert_eq!(Escaped(s).to_string(), s.escape_ascii().to_string(), "{s:?}");
        }
        assert_eq!(show(&Escaped(b"a\x01\"")), "a\\x01\\\"");
    }

    #[test]
    fn numbers_and_errors_show_as_display_shows_them() {
        for v in [0, 1, 9, 10, 99, 100, 65_535, 1 << 32, u64::MAX - 1, u64::MAX] {
            assert_eq!(show(&v), v.to_string());
            assert_eq!(show(&(v as usize)), (v as usize).to_string());
            assert_eq!(show(&(v as u32)), (v as u32).to_string());
            assert_eq!(show(&(v as u16)), (v as u16).to_string());
            assert_eq!(show(&(v as u8)), (v as u8).to_string());
        }
        for v in [0, 1, -1, 10, -10, i64::MIN, i64::MAX] {
            assert_eq!(show(&v), v.to_string());
            assert_eq!(show(&(v as i32)), (v as i32).to_string());
        }
        for n in [0, 2, 104, -1, i32::MIN, i32::MAX] {
            let mut s = String::new();
            os_error(n, &mut s);
            assert_eq!(s, format!("os error {n}"));
            let e = crate::sys::Errno(n);
            assert_eq!(show(&e), e.to_string());
        }
        let e = crate::sys::Errno::UNSUPPORTED;
        assert_eq!(show(&e), e.to_string());
        for e in crate::error::Error::ALL {
            assert_eq!(show(&e), e.to_string());
        }
        let e = crate::http::HttpError::new(431, "too many headers");
        assert_eq!(show(&e), e.to_string());
        assert_eq!(show(&e), "431 too many headers");
        assert_eq!(show(&Dbg(&Some(3))), "Some(3)");
        assert_eq!(show(&Disp(&"x")), "x");
        assert_eq!(show(&format_args!("{}-{:?}", 1, "q")), "1-\"q\"");
    }

    #[test]
    fn the_time_is_hex_left_aligned_in_eight_columns() {
        for now in [0, 1, 0xf, 0x10, 0x2a, 0xfff_ffff, 0xffff_ffff, 0x1_0000_0000, u64::MAX] {
            for level in [LL_ERROR, LL_INFO, LL_DEBUG, LL_VERBOSE] {
                let want = format!("{:<8x} {} ", now, level_name(level));
                assert_eq!(Line::started(level, now).as_str(), want);
            }
        }
        assert_eq!(Line::started(LL_INFO, 0x2a).as_str(), "2a       INFO ");
        assert_eq!(Line::started(LL_ERROR, 0x1_2345_6789).as_str(), "123456789 ERROR ");
    }

    #[test]
    fn prefixes_and_lines_are_the_bytes_the_format_strings_made() {
        // The C prefix, as `"{:<8x} {} {}:{}:{} "` made it.
        assert_eq!(
            prefix_line(LL_INFO, 0x1b3, "/a/b\\main.c", 42, "main").as_str(),
            "1b3      INFO main.c:42:main "
        );
        for (file, line, func) in [
            ("x.c", 0, "f"),
            ("", -7, ""),
            ("d/\u{e9}.c", i32::MAX, "\u{20ac}"),
            ("\u{e9}\\\u{20ac}/", 1, "g"),
            ("a\\b\u{e9}", 2, "h"),
            ("/", 3, ""),
        ] {
            let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
            let want = format!("{:<8x} {} {}:{}:{} ", 77u64, "DEBUG", base, line, func);
            assert_eq!(prefix_line(LL_DEBUG, 77, file, line, func).as_str(), want);
        }
        // Rust lines: "{:<8x} {} meerkat " + the message + "\r\n".
        let e = crate::http::HttpError::new(400, "bad header name");
        let l = rust_line(LL_DEBUG, 0xabc, &[&"conn ", &7u64, &": bad request: ", &e]);
        assert_eq!(
            l.as_str(),
            "abc      DEBUG meerkat conn 7: bad request: 400 bad header name\r\n"
        );
        let raw = b"X-A: \x01\"\r\n";
        let l = rust_line(
            LL_ERROR,
            0,
            &[
                &"mg_http_reply: malformed headers (",
                &"bad",
                &"), nothing sent: \"",
                &Escaped(raw),
                &"\"",
            ],
        );
        assert_eq!(
            l.as_str(),
            "0        ERROR meerkat mg_http_reply: malformed headers (bad), nothing sent: \"X-A: \\x01\\\"\\r\\n\"\r\n"
        );
        let l = rust_line(
            LL_ERROR,
            5,
            &[&123u64, &" ", &"connect failed: ", &crate::sys::Errno(111)],
        );
        let want = format!(
            "5        ERROR meerkat 123 connect failed: {}\r\n",
            crate::sys::Errno(111)
        );
        assert_eq!(l.as_str(), want);
    }

    #[test]
    fn lines_keep_whole_characters_and_room_for_the_line_end() {
        let mut l = Line::new();
        l.text("ab");
        7u8.put(&mut l);
        assert_eq!(l.as_str(), "ab7");
        // 3-byte characters from an odd offset: the cut falls inside one of them.
        let long = "€".repeat(LINE_MAX);
        l.text(&long);
        assert!(l.0.len() <= LINE_MAX - 2 && l.0.len() > LINE_MAX - 5, "{}", l.0.len());
        assert!(l.as_str()[3..].chars().all(|c| c == '€'));
        // A later, shorter piece still fills the room left.
        let before = l.0.len();
        l.text("xyz");
        assert_eq!(l.0.len(), (before + 3).min(LINE_MAX - 2));
        assert!(l.0.extend_from_slice(b"\r\n").is_ok());
        l.text("more");
        assert!(l.0.ends_with(b"\r\n"));
        // A whole over-long line: cut, still ended; the same bytes through `core::fmt`.
        let big = "x".repeat(2000);
        let a = rust_line(LL_ERROR, 1, &[&"é", &big.as_str(), &"€"]);
        let b = rust_line(LL_ERROR, 1, &[&format_args!("é{}€", big)]);
        assert_eq!(a.0.len(), LINE_MAX);
        assert!(a.0.ends_with(b"xx\r\n"));
        assert_eq!(a.0, b.0);
    }
}
