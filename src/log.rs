//! Logging: a global level and a pluggable sink, as in Mongoose (`mg_log_set`,
//! `mg_log_set_fn`, adapted in `ffi::log`). Rust code logs through [`emit`] (or the
//! [`mlog!`](crate::mlog) macro); the C macros `MG_ERROR(("..."))` etc. call `mg_log_prefix`
//! and then `mg_log` (C shim), which writes through `mg_log_write`.
#![forbid(unsafe_code)]

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

/// One log line on the stack. Over-long text is cut rather than allocated, leaving room for
/// the "\r\n" that ends the line.
struct Line(heapless::String<LINE_MAX>);

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Whole characters that fit, copied at once (`get`, not indexing: a str slice's
        // panic path links core's character-escaping tables).
        let mut n = s.len().min((LINE_MAX - 2).saturating_sub(self.0.len()));
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        if let Some(part) = s.get(..n) {
            let _ = self.0.push_str(part);
        }
        Ok(())
    }
}

fn level_name(level: i32) -> &'static str {
    match level {
        LL_ERROR => "ERROR",
        LL_INFO => "INFO",
        LL_DEBUG => "DEBUG",
        _ => "VERBOSE",
    }
}

/// Write the line prefix (time, level, source location) if `level` is enabled.
pub fn prefix(level: i32, file: &str, line: i32, func: &str) -> bool {
    if !enabled(level) {
        return false;
    }
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let mut l = Line(heapless::String::new());
    let _ = write!(
        l,
        "{:<8x} {} {}:{}:{} ",
        crate::util::clock::millis(),
        level_name(level),
        base,
        line,
        func
    );
    write(l.0.as_bytes());
    true
}

/// Log one line from Rust code.
pub fn emit(level: i32, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let mut l = Line(heapless::String::new());
    let _ = write!(l, "{:<8x} {} meerkat ", crate::util::clock::millis(), level_name(level));
    let _ = l.write_fmt(args);
    let _ = l.0.push_str("\r\n");
    write(l.0.as_bytes());
}

/// Bytes in a log line, escaped as `<[u8]>::escape_ascii` (and `{:?}` of a byte string) shows
/// them: printable ASCII as it is, `\t` `\r` `\n` `\\` `\'` `\"`, anything else `\xNN`
/// (lowercase hex). Its own loop rather than core's `EscapeAscii` display, which is 534 bytes
/// of a static server's text (http-hello, footprint build) for log lines alone.
#[derive(Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in self.0 {
            let esc = match b {
                b'\t' => 't',
                b'\r' => 'r',
                b'\n' => 'n',
                b'\\' | b'\'' | b'"' => b as char,
                0x20..=0x7e => {
                    f.write_char(b as char)?;
                    continue;
                }
                _ => {
                    f.write_str("\\x")?;
                    f.write_char(HEX[usize::from(b >> 4)] as char)?;
                    f.write_char(HEX[usize::from(b & 15)] as char)?;
                    continue;
                }
            };
            f.write_char('\\')?;
            f.write_char(esc)?;
        }
        Ok(())
    }
}

/// `log!(LL_DEBUG, "fmt", args..)`. The level is checked first: the arguments are not
/// evaluated for a line that is not written.
#[macro_export]
macro_rules! mlog {
    ($lvl:expr, $($arg:tt)*) => {{
        let lvl = $lvl;
        if $crate::log::enabled(lvl) {
            $crate::log::emit(lvl, format_args!($($arg)*))
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_bytes_show_as_escape_ascii_shows_them() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(Escaped(&all).to_string(), all.escape_ascii().to_string());
        for s in [
            &b""[..],
            b"GET /a b",
            b"\"q\" 'x' \\ \t\r\n\0\x7f\x80\xff",
            "\u{e9}t\u{e9}".as_bytes(),
        ] {
            assert_eq!(Escaped(s).to_string(), s.escape_ascii().to_string(), "{s:?}");
        }
        assert_eq!(Escaped(b"a\x01\"").to_string(), "a\\x01\\\"");
    }

    #[test]
    fn lines_keep_whole_characters_and_room_for_the_line_end() {
        let mut l = Line(heapless::String::new());
        let _ = write!(l, "ab{}", 7);
        assert_eq!(l.0.as_str(), "ab7");
        // 3-byte characters from an odd offset: the cut falls inside one of them.
        let long = "€".repeat(LINE_MAX);
        let _ = l.write_str(&long);
        assert!(l.0.len() <= LINE_MAX - 2 && l.0.len() > LINE_MAX - 5, "{}", l.0.len());
        assert!(l.0.as_str()[3..].chars().all(|c| c == '€'));
        assert!(l.0.push_str("\r\n").is_ok());
        let _ = l.write_str("more");
        assert!(l.0.ends_with("€\r\n"));
    }
}
