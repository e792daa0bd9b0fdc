//! Clock and randomness for C: `mg_millis`, `mg_random`, `mg_random_str`, and the hooks an
//! embedded host uses to supply its own clock and entropy source.

use core::ffi::{c_char, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

use super::cast;
use super::guard;
use crate::util::clock;

/// `mg_millis()`: milliseconds from a monotonic clock (the host's, if one was installed with
/// `mg_set_millis_fn`). Only differences between two values are meaningful.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_millis() -> u64 {
    guard(clock::millis)
}

/// `mg_set_millis_fn(fn)`: use `fn` as the millisecond clock for `mg_millis` and for every
/// timer and timeout in meerkat; NULL restores the default monotonic clock. This replaces
/// Mongoose's build-time `MG_ENABLE_CUSTOM_MILLIS` hook for embedded hosts.
///
/// `fn` must be monotonic (never go backwards), cheap, and callable from any thread that
/// calls `mg_millis` or runs a manager. Call this before `mg_mgr_init`: switching clocks under
/// running timers makes their deadlines jump. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_set_millis_fn(f: Option<unsafe extern "C" fn() -> u64>) {
    guard(|| {
        C_MILLIS.store(f.map_or(0, |f| f as usize), Ordering::Release);
        clock::set_millis_fn(f.map(|_| c_millis as clock::MillisFn));
    })
}

/// The C clock and random source, as function addresses (0: none).
static C_MILLIS: AtomicUsize = AtomicUsize::new(0);
static C_RANDOM: AtomicUsize = AtomicUsize::new(0);

type CMillisFn = unsafe extern "C" fn() -> u64;
type CRandomFn = unsafe extern "C" fn(buf: *mut c_void, len: usize);

/// The core's clock when C installed one: calls it.
fn c_millis() -> u64 {
    let f = C_MILLIS.load(Ordering::Acquire);
    if f == 0 {
        return crate::sys::monotonic_millis(); // replaced concurrently
    }
    // SAFETY: only addresses of `CMillisFn`s are stored in C_MILLIS (mg_set_millis_fn).
    let f: CMillisFn = unsafe { core::mem::transmute::<usize, CMillisFn>(f) };
    // SAFETY: the host promised a callable clock function.
    unsafe { f() }
}

/// The core's random source when C installed one: calls it.
fn c_random(out: &mut [u8]) {
    let f = C_RANDOM.load(Ordering::Acquire);
    if f == 0 {
        return crate::sys::random_bytes(out);
    }
    // SAFETY: only addresses of `CRandomFn`s are stored in C_RANDOM (mg_set_random_fn).
    let f: CRandomFn = unsafe { core::mem::transmute::<usize, CRandomFn>(f) };
    // SAFETY: `out` is a valid writable buffer of `out.len()` bytes.
    unsafe { f(out.as_mut_ptr().cast(), out.len()) }
}

/// `mg_random(buf, len)`: fill `len` bytes at `buf` with random bytes (from the source set by
/// `mg_set_random_fn`, else the operating system's). Returns true when filled; false for a
/// `(NULL, len > 0)` buffer. `len` 0 returns true. Nothing is retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_random(buf: *mut c_void, len: usize) -> bool {
    guard(|| match cast::slice_mut(buf, len) {
        Ok(out) => {
            clock::random(out);
            true
        }
        Err(_) => false,
    })
}

/// `mg_set_random_fn(fn)`: use `fn(buf, len)`, which must fill `len` bytes at `buf`, as the
/// random source for `mg_random`, `mg_random_str` and meerkat's internal needs (WebSocket
/// masks and keys); NULL restores the operating system's source. For embedded hosts with a
/// hardware RNG. `fn` must be callable from any thread. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_set_random_fn(f: Option<unsafe extern "C" fn(buf: *mut c_void, len: usize)>) {
    guard(|| {
        C_RANDOM.store(f.map_or(0, |f| f as usize), Ordering::Release);
        clock::set_random_fn(f.map(|_| c_random as clock::RandomFn));
    })
}

const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fill `out` with random alphanumeric characters, without modulo bias: bytes 248..=255 are
/// skipped, except that a random source that returns only such bytes still terminates.
fn random_alnum(out: &mut [u8]) {
    let mut i = 0;
    let mut chunk = [0u8; 64];
    while i < out.len() {
        clock::random(&mut chunk);
        let before = i;
        for &b in chunk.iter().filter(|&&b| b < 248) {
            if i == out.len() {
                break;
            }
            out[i] = ALNUM[usize::from(b % 62)];
            i += 1;
        }
        if i == before {
            // A degenerate source: accept the bias rather than loop for ever.
            for &b in &chunk {
                if i == out.len() {
                    break;
                }
                out[i] = ALNUM[usize::from(b % 62)];
                i += 1;
            }
        }
    }
}

/// `mg_random_str(buf, len)`: fill `buf` with `len - 1` random characters from `[0-9A-Za-z]`
/// and a terminating NUL; returns `buf`.
///
/// `len` 0 writes nothing and returns `buf`; NULL `buf` with `len > 0` writes nothing and
/// returns NULL. Nothing is retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_random_str(buf: *mut c_char, len: usize) -> *mut c_char {
    guard(|| match cast::slice_mut(buf.cast(), len) {
        Ok(out) => {
            if let Some((nul, chars)) = out.split_last_mut() {
                random_alnum(chars);
                *nul = 0;
            }
            buf
        }
        Err(_) => core::ptr::null_mut(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;

    /// Serialises the tests that swap the process-wide clock and random hooks.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    unsafe extern "C" fn fixed_clock() -> u64 {
        123_456
    }

    unsafe extern "C" fn all_ff(buf: *mut c_void, len: usize) {
        if let Ok(out) = cast::slice_mut(buf, len) {
            out.fill(0xff);
        }
    }

    #[test]
    fn clock_hook() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        mg_set_millis_fn(Some(fixed_clock));
        assert_eq!(mg_millis(), 123_456);
        mg_set_millis_fn(None);
        let a = mg_millis();
        let b = mg_millis();
        assert!(b >= a);
    }

    #[test]
    fn random_and_nulls() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut buf = [0u8; 64];
        assert!(mg_random(buf.as_mut_ptr().cast(), buf.len()));
        assert!(buf.iter().any(|&b| b != 0));
        assert!(mg_random(null_mut(), 0));
        assert!(!mg_random(null_mut(), 8));

        let mut s = [0x55 as c_char; 17];
        let r = mg_random_str(s.as_mut_ptr(), s.len());
        assert_eq!(r, s.as_mut_ptr());
        assert_eq!(s[16], 0);
        assert!(s[..16].iter().all(|&c| (c as u8).is_ascii_alphanumeric()));
        let mut one = [0x55 as c_char; 1];
        assert_eq!(mg_random_str(one.as_mut_ptr(), 1), one.as_mut_ptr());
        assert_eq!(one[0], 0);
        let mut untouched = [0x55 as c_char; 1];
        assert_eq!(mg_random_str(untouched.as_mut_ptr(), 0), untouched.as_mut_ptr());
        assert_eq!(untouched[0], 0x55);
        assert!(mg_random_str(null_mut(), 0).is_null());
        assert!(mg_random_str(null_mut(), 5).is_null());
    }

    #[test]
    fn degenerate_random_source_terminates() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        mg_set_random_fn(Some(all_ff));
        let mut s = [0 as c_char; 200];
        mg_random_str(s.as_mut_ptr(), s.len());
        let mut b = [0u8; 4];
        assert!(mg_random(b.as_mut_ptr().cast(), 4));
        mg_set_random_fn(None);
        assert_eq!(b, [0xff; 4]);
        assert_eq!(s[199], 0);
        assert!(s[..199].iter().all(|&c| (c as u8).is_ascii_alphanumeric()));
    }
}
