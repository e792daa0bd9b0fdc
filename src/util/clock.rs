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

/// Unix milliseconds at `millis() == 0` once a time source (SNTP) has set the wall clock;
/// 0 before (Mongoose's `mg_boot_timestamp_ms`).
static BOOT_TIMESTAMP_MS: spin::Mutex<u64> = spin::Mutex::new(0);

/// The wall clock is `unix_ms` at monotonic time `at` (from [`millis`]).
pub fn set_wall_clock(unix_ms: u64, at: u64) {
    *BOOT_TIMESTAMP_MS.lock() = unix_ms.saturating_sub(at);
}

/// Unix milliseconds at boot (monotonic 0), 0 until the wall clock was set.
pub fn boot_timestamp_ms() -> u64 {
    *BOOT_TIMESTAMP_MS.lock()
}

/// Wall-clock Unix milliseconds once set by [`set_wall_clock`]; until then the same as
/// [`millis`] (Mongoose's `mg_now`).
pub fn now_ms() -> u64 {
    millis().saturating_add(boot_timestamp_ms())
}
