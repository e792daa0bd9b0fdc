//! Logging: a global level and a pluggable character sink, as in Mongoose (`mg_log_set`,
//! `mg_log_set_fn`). Rust code logs through [`emit`]; the C macros `MG_ERROR(("..."))` etc.
//! call `mg_log_prefix` and then `mg_log` (C shim), which writes through `mg_log_write`.

use core::ffi::{c_char, c_int, c_void};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicI32, Ordering};

use crate::ffi::types::mg_pfn_t;

// The levels are the C API's `MG_LL_*`, under shorter names for Rust code.
pub use crate::ffi::types::{
    MG_LL_DEBUG as LL_DEBUG, MG_LL_ERROR as LL_ERROR, MG_LL_INFO as LL_INFO, MG_LL_NONE as LL_NONE,
    MG_LL_VERBOSE as LL_VERBOSE,
};

/// The global log level, exported to C as Mongoose's `int mg_log_level` (declared in the
/// header trailer): firmware that reads it, or sets it directly instead of calling
/// `mg_log_set`, keeps working. `AtomicI32` has the size and alignment of `int`. A direct
/// C write is a plain store: do it before other threads log, or use `mg_log_set`.
///
/// cbindgen:ignore
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mg_log_level: AtomicI32 = AtomicI32::new(LL_ERROR);
use mg_log_level as LEVEL;

#[derive(Copy, Clone)]
struct Sink {
    f: mg_pfn_t,
    param: *mut c_void,
}
// SAFETY: the sink is a C function pointer and an opaque parameter the application gave us;
// the application promises (header docs) that its sink may be called from any thread that logs.
unsafe impl Send for Sink {}

static SINK: spin::Mutex<Sink> = spin::Mutex::new(Sink {
    f: None,
    param: core::ptr::null_mut(),
});

/// Set the global log level (`MG_LL_*`). Out-of-range values are clamped.
pub fn set_level(level: c_int) {
    LEVEL.store(level.clamp(LL_NONE, LL_VERBOSE), Ordering::Relaxed);
}

pub fn level() -> c_int {
    LEVEL.load(Ordering::Relaxed)
}

pub fn enabled(level: c_int) -> bool {
    level > LL_NONE && level <= LEVEL.load(Ordering::Relaxed)
}

/// Install a character sink; `None` restores the default (standard output).
pub fn set_sink(f: mg_pfn_t, param: *mut c_void) {
    *SINK.lock() = Sink { f, param };
}

/// Write raw bytes to the sink.
pub fn write(bytes: &[u8]) {
    let sink = *SINK.lock(); // copied out: the sink runs without our lock held
    match sink.f {
        Some(f) => {
            for &b in bytes {
                // SAFETY: the application installed `f` with `param` through mg_log_set_fn.
                unsafe { f(b as c_char, sink.param) };
            }
        }
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            if bytes.ends_with(b"\n") {
                let _ = out.flush();
            }
        }
    }
}

const LINE_MAX: usize = 512;

/// One log line on the stack. Over-long text is cut rather than allocated, leaving room for
/// the "\r\n" that ends the line.
struct Line(heapless::String<LINE_MAX>);

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            if self.0.len() + ch.len_utf8() > LINE_MAX - 2 || self.0.push(ch).is_err() {
                break;
            }
        }
        Ok(())
    }
}

fn level_name(level: c_int) -> &'static str {
    match level {
        LL_ERROR => "ERROR",
        LL_INFO => "INFO",
        LL_DEBUG => "DEBUG",
        _ => "VERBOSE",
    }
}

/// Write the line prefix (time, level, source location) if `level` is enabled.
pub fn prefix(level: c_int, file: &str, line: c_int, func: &str) -> bool {
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
pub fn emit(level: c_int, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let mut l = Line(heapless::String::new());
    let _ = write!(l, "{:<8x} {} meerkat ", crate::util::clock::millis(), level_name(level));
    let _ = l.write_fmt(args);
    let _ = l.0.push_str("\r\n");
    write(l.0.as_bytes());
}

/// `log!(LL_DEBUG, "fmt", args..)`.
#[macro_export]
macro_rules! mlog {
    ($lvl:expr, $($arg:tt)*) => {
        $crate::log::emit($lvl, format_args!($($arg)*))
    };
}
