//! Logging for C: the level, the output sink, and the two entry points the C logging macros
//! (`MG_ERROR`, `MG_INFO`, `MG_DEBUG`, `MG_VERBOSE`) and the C shim's variadic `mg_log` use.
//! Thin wrappers over [`crate::log`].

use core::ffi::{c_char, c_int, c_void};

use super::cast;
use super::guard;
use super::types::mg_pfn_t;

/// `mg_log_set(level)`: set the global log level: `MG_LL_NONE` (0), `MG_LL_ERROR` (1, the
/// default), `MG_LL_INFO` (2), `MG_LL_DEBUG` (3), `MG_LL_VERBOSE` (4). Values outside
/// 0..=4 are clamped into that range. Thread: any thread (takes effect for messages logged
/// after it returns, on every thread).
#[no_mangle]
pub extern "C" fn mg_log_set(level: c_int) {
    guard(|| crate::log::set_level(level))
}

/// `mg_log_set_fn(fn, param)`: send log output to `fn`, called once per character as
/// `fn(ch, param)`; a NULL `fn` restores the default, standard output.
///
/// Ownership: meerkat keeps `fn` and `param` until the next `mg_log_set_fn`; `param` must
/// stay valid that long, and a little longer if other threads log: a line being written
/// while the sink is replaced finishes on the old sink. `fn` is called from whichever thread
/// logs (the manager's thread, or any thread using the logging macros), so it must be
/// thread-safe if several threads log. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_log_set_fn(f: mg_pfn_t, param: *mut c_void) {
    guard(|| {
        *C_SINK.lock() = CSink { f, param };
        crate::log::set_sink(f.map(|_| c_sink as crate::log::Sink));
    })
}

/// The C sink and its parameter, as given to `mg_log_set_fn`.
#[derive(Copy, Clone)]
struct CSink {
    f: mg_pfn_t,
    param: *mut c_void,
}
// SAFETY: the sink is a C function pointer and an opaque parameter the application gave us;
// the application promises (header docs) that its sink may be called from any thread that logs.
unsafe impl Send for CSink {}

static C_SINK: spin::Mutex<CSink> = spin::Mutex::new(CSink {
    f: None,
    param: core::ptr::null_mut(),
});

/// The core's log sink while C has one installed: one call of the C sink per byte.
fn c_sink(bytes: &[u8]) {
    let sink = *C_SINK.lock(); // copied out: the sink runs without our lock held
                               // None: replaced by NULL on another thread while this line was written; dropped.
    if let Some(f) = sink.f {
        for &b in bytes {
            // SAFETY: the application installed `f` with `param` through mg_log_set_fn.
            unsafe { f(b as c_char, sink.param) };
        }
    }
}

/// `mg_log_prefix(level, file, line, fname)`: called first by the C logging macros. Returns
/// whether `level` is enabled; if it is, writes the line prefix (time, level, base name of
/// `file`, `line`, `fname`) to the log sink, and the macro then writes the message with
/// `mg_log`.
///
/// `file` and `fname` may be NULL (printed as empty); they are not retained. Text that is not
/// UTF-8 is printed as `?`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_log_prefix(level: c_int, file: *const c_char, line: c_int, fname: *const c_char) -> bool {
    guard(|| {
        let text = |p: *const c_char| match cast::cstr_bytes(p) {
            Ok(b) => cast::utf8(b).unwrap_or("?"),
            Err(_) => "",
        };
        crate::log::prefix(level, text(file), line, text(fname))
    })
}

/// `mg_log_write(buf, len)`: write `len` raw bytes to the log sink, unfiltered by level (the
/// caller checked `mg_log_prefix` first). Used by the C shim's `mg_log`.
///
/// Not retained. `(NULL, 0)` writes nothing; `(NULL, len > 0)` is ignored. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_log_write(buf: *const c_char, len: usize) {
    guard(|| {
        if let Ok(bytes) = cast::slice(buf.cast(), len) {
            crate::log::write(bytes);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_levels_are_the_core_levels() {
        use super::super::types::*;
        use crate::log::*;
        assert_eq!(
            [MG_LL_NONE, MG_LL_ERROR, MG_LL_INFO, MG_LL_DEBUG, MG_LL_VERBOSE],
            [LL_NONE, LL_ERROR, LL_INFO, LL_DEBUG, LL_VERBOSE]
        );
        // sys::mg_log_level starts at LL_ERROR, written there as a literal.
        assert_eq!(LL_ERROR, 1);
    }
    use core::ptr::{null, null_mut};

    static CAPTURED: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
    /// Serialises the tests that change the process-wide log level and sink.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Records what it receives; never panics (it is called from Rust through C's ABI).
    unsafe extern "C" fn capture(ch: c_char, param: *mut c_void) {
        if let Ok(mut v) = CAPTURED.lock() {
            v.push(if param as usize == 0x1234 { ch as u8 } else { b'!' });
        }
    }

    #[test]
    fn sink_level_prefix_write() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        CAPTURED.lock().unwrap().clear();
        mg_log_set_fn(Some(capture), 0x1234 as *mut c_void);
        mg_log_set(crate::log::LL_INFO);
        assert!(!mg_log_prefix(crate::log::LL_DEBUG, c"x.c".as_ptr(), 1, c"f".as_ptr()));
        assert!(mg_log_prefix(
            crate::log::LL_INFO,
            c"/a/b/main.c".as_ptr(),
            42,
            c"main".as_ptr()
        ));
        mg_log_write(b"hello\n".as_ptr().cast(), 6);
        let out = String::from_utf8(CAPTURED.lock().unwrap().clone()).unwrap();
        assert!(out.contains("main.c:42:main "), "{out}");
        assert!(out.contains("hello\n"), "{out}");
        assert!(!out.contains('!'), "param passed through: {out}");

        // NULLs: no crash, documented results.
        assert!(mg_log_prefix(crate::log::LL_ERROR, null(), 0, null()));
        assert!(mg_log_prefix(
            crate::log::LL_ERROR,
            c"\xff.c".as_ptr(),
            0,
            c"f".as_ptr()
        ));
        assert!(!mg_log_prefix(crate::log::LL_NONE, null(), 0, null()));
        assert!(!mg_log_prefix(-1, null(), 0, null()));
        mg_log_write(null(), 0);
        mg_log_write(null(), 10);

        // Level clamping and restoring stdout.
        mg_log_set(99);
        assert_eq!(crate::log::level(), crate::log::LL_VERBOSE);
        mg_log_set(-5);
        assert_eq!(crate::log::level(), crate::log::LL_NONE);
        mg_log_set_fn(None, null_mut());
        mg_log_set(crate::log::LL_ERROR);
        let n = CAPTURED.lock().unwrap().len();
        mg_log_write(b"\n".as_ptr().cast(), 1);
        assert_eq!(CAPTURED.lock().unwrap().len(), n, "sink restored to stdout");
    }

    #[test]
    fn an_over_long_rust_line_is_cut_but_still_ends_the_line() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        CAPTURED.lock().unwrap().clear();
        mg_log_set_fn(Some(capture), 0x1234 as *mut c_void);
        mg_log_set(crate::log::LL_ERROR);
        crate::log::emit(crate::log::LL_ERROR, format_args!("{}", "x".repeat(2000)));
        crate::log::emit(crate::log::LL_ERROR, format_args!("next"));
        mg_log_set_fn(None, null_mut());
        let out = String::from_utf8(CAPTURED.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = out.split_inclusive("\r\n").collect();
        assert_eq!(lines.len(), 2, "{out:?}");
        assert!(lines[0].len() <= 512 && lines[0].contains("xxx"), "{:?}", lines[0]);
        assert!(lines[1].ends_with("meerkat next\r\n"), "{:?}", lines[1]);
    }
}
