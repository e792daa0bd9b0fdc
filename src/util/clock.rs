//! Monotonic millisecond clock and random bytes, both replaceable by an embedded host
//! (in C: `mg_set_millis_fn`, `mg_set_random_fn`, adapted in `ffi::util`).

/// A host clock: monotonic milliseconds.
pub type MillisFn = fn() -> u64;
/// A host random source: fills the slice.
pub type RandomFn = fn(&mut [u8]);

static MILLIS_FN: spin::Mutex<Option<MillisFn>> = spin::Mutex::new(None);
static RANDOM_FN: spin::Mutex<Option<RandomFn>> = spin::Mutex::new(None);

/// Use `f` as the clock for [`millis`] and every timer and timeout; `None` restores the
/// default monotonic clock. Install it before creating a manager.
pub fn set_millis_fn(f: Option<MillisFn>) {
    *MILLIS_FN.lock() = f;
}

/// Use `f` as the random source for [`random`]; `None` restores the operating system's.
pub fn set_random_fn(f: Option<RandomFn>) {
    *RANDOM_FN.lock() = f;
}

/// Milliseconds from a monotonic clock (the host's, when one is installed).
pub fn millis() -> u64 {
    let f = *MILLIS_FN.lock(); // copied out: the host's clock runs without our lock held
    match f {
        Some(f) => f(),
        None => crate::sys::monotonic_millis(),
    }
}

/// Fill `out` with random bytes (the host's source, when one is installed).
pub fn random(out: &mut [u8]) {
    let f = *RANDOM_FN.lock();
    match f {
        Some(f) => f(out),
        None => crate::sys::random_bytes(out),
    }
}
