//! Monotonic millisecond clock and random bytes, both replaceable by an embedded host
//! (`mg_set_millis_fn`, `mg_set_random_fn`).

use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Host clock: `uint64_t fn(void)`, monotonic milliseconds.
pub type MillisFn = unsafe extern "C" fn() -> u64;
/// Host random source: fills `len` bytes at `buf`.
pub type RandomFn = unsafe extern "C" fn(buf: *mut c_void, len: usize);

static MILLIS_FN: AtomicUsize = AtomicUsize::new(0);
static RANDOM_FN: AtomicUsize = AtomicUsize::new(0);

pub fn set_millis_fn(f: Option<MillisFn>) {
    MILLIS_FN.store(f.map_or(0, |f| f as usize), Ordering::Release);
}

pub fn set_random_fn(f: Option<RandomFn>) {
    RANDOM_FN.store(f.map_or(0, |f| f as usize), Ordering::Release);
}

/// Milliseconds from a monotonic clock (the host's, when one is installed).
pub fn millis() -> u64 {
    let f = MILLIS_FN.load(Ordering::Acquire);
    if f != 0 {
        // SAFETY: only values stored by `set_millis_fn` from a valid `MillisFn` are non-zero.
        let f: MillisFn = unsafe { core::mem::transmute::<usize, MillisFn>(f) };
        // SAFETY: the host promised a callable clock function.
        return unsafe { f() };
    }
    crate::sys::monotonic_millis()
}

/// Fill `out` with random bytes (the host's source, when one is installed).
pub fn random(out: &mut [u8]) {
    let f = RANDOM_FN.load(Ordering::Acquire);
    if f != 0 {
        // SAFETY: only values stored by `set_random_fn` from a valid `RandomFn` are non-zero.
        let f: RandomFn = unsafe { core::mem::transmute::<usize, RandomFn>(f) };
        // SAFETY: `out` is a valid writable buffer of `out.len()` bytes.
        unsafe { f(out.as_mut_ptr().cast(), out.len()) };
        return;
    }
    crate::sys::random_bytes(out);
}
