//! Stable, numbered error codes of the C API, and the one mapping from the core's
//! [`Error`] to them ([`code`]).
//!
//! Codes are negative `int`s; `MG_OK` (0) is success. Numbers never change once
//! released; new codes take new numbers. [`strerror`] is the one place that turns a code
//! into a message, and any integer (including unknown ones) maps safely.

use core::ffi::c_int;

use crate::error::Error;

/// The stable number of a core error.
pub fn code(e: Error) -> c_int {
    match e {
        Error::Invalid => MG_ERR_INVALID,
        Error::Stale => MG_ERR_STALE,
        Error::WrongThread => MG_ERR_WRONG_THREAD,
        Error::Full => MG_ERR_FULL,
        Error::Limit => MG_ERR_LIMIT,
        Error::Url => MG_ERR_URL,
        Error::Port => MG_ERR_PORT,
        Error::Addr => MG_ERR_ADDR,
        Error::Io => MG_ERR_IO,
        Error::Closing => MG_ERR_CLOSING,
        Error::Busy => MG_ERR_BUSY,
        Error::Exhausted => MG_ERR_EXHAUSTED,
        Error::NoMem => MG_ERR_NOMEM,
        Error::Internal => MG_ERR_INTERNAL,
        Error::Unsupported => MG_ERR_UNSUPPORTED,
        Error::TooLarge => MG_ERR_TOO_LARGE,
    }
}

/// So that `?` on a core result works in the bodies of exported functions.
impl From<Error> for c_int {
    fn from(e: Error) -> c_int {
        code(e)
    }
}

/// Success.
pub const MG_OK: c_int = 0;
/// An argument is invalid: a NULL pointer where one is required, a (NULL, n > 0) buffer,
/// an uninitialised manager, unknown flags.
pub const MG_ERR_INVALID: c_int = -1;
/// The handle does not refer to a live object: it is zero, forged, from another manager,
/// or its connection/timer has already been freed. Nothing was done.
pub const MG_ERR_STALE: c_int = -2;
/// The call was made from a thread that does not own the manager. Only the calls marked
/// "any thread" in the header may be made from other threads.
pub const MG_ERR_WRONG_THREAD: c_int = -3;
/// A bounded buffer or queue is full (backpressure): nothing was queued, try again later.
pub const MG_ERR_FULL: c_int = -4;
/// A configured capacity is reached (connections, timers).
pub const MG_ERR_LIMIT: c_int = -5;
/// A URL does not parse or names an unsupported scheme.
pub const MG_ERR_URL: c_int = -6;
/// A port number is missing or out of range (1..=65535 to connect, 0..=65535 to listen).
pub const MG_ERR_PORT: c_int = -7;
/// An address could not be used: bind failed (in use, not available) or a name did not resolve.
pub const MG_ERR_ADDR: c_int = -8;
/// A socket or OS call failed.
pub const MG_ERR_IO: c_int = -9;
/// The connection is closing; no more data is accepted for it.
pub const MG_ERR_CLOSING: c_int = -10;
/// The manager is in use: the call is not allowed while an event handler of this manager is
/// running (`mg_mgr_poll` and `mg_mgr_free` from inside a handler), or `mg_mgr_init` was
/// given a manager that is already initialised (call `mg_mgr_free` first).
pub const MG_ERR_BUSY: c_int = -11;
/// The handle space is exhausted (see the bound documented on `mg_conn`); never reached in practice.
pub const MG_ERR_EXHAUSTED: c_int = -12;
/// Memory allocation failed.
pub const MG_ERR_NOMEM: c_int = -13;
/// An internal error was caught at the C boundary; the call had no effect that can be relied on.
pub const MG_ERR_INTERNAL: c_int = -14;
/// The operation is not supported for this kind of connection (e.g. `mg_send` on a listener).
pub const MG_ERR_UNSUPPORTED: c_int = -15;
/// A value is too large for the destination (a buffer too small, a size over a limit).
pub const MG_ERR_TOO_LARGE: c_int = -16;

/// The message for an error code, NUL-terminated for C (`.to_str()` for Rust). Unknown codes
/// (including positive numbers) get a generic text.
pub fn strerror(c: c_int) -> &'static core::ffi::CStr {
    // TEXTS: 0 success, 1..=16 MG_ERR_INVALID..MG_ERR_TOO_LARGE, 17 unknown.
    // A pattern, not `RangeInclusive::contains` (an out-of-line call at opt-level z).
    let i = match c {
        MG_ERR_TOO_LARGE..=MG_OK => c.unsigned_abs(),
        _ => 17,
    };
    let t = crate::error::TEXTS.get(i as usize);
    // SAFETY: `i` is 0..=17 by the match above, each an entry of TEXTS (an index past the
    // last would give an empty slice, which this call must never see); every entry ends
    // with its only NUL (checked when it is built, at compile time, in crate::error), and
    // `get` returns a whole entry, NUL included.
    unsafe { core::ffi::CStr::from_bytes_with_nul_unchecked(t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_message() {
        let unknown = strerror(i32::MIN);
        assert_eq!(unknown, c"unknown error code");
        assert_eq!(strerror(1), unknown);
        // Just outside the range at both ends, and far out on either side.
        for c in [
            MG_ERR_TOO_LARGE - 1,
            MG_ERR_TOO_LARGE - 2,
            MG_OK + 1,
            i32::MAX,
            i32::MIN + 1,
            -100,
        ] {
            assert_eq!(strerror(c), unknown, "{c}");
        }
        let codes = MG_ERR_TOO_LARGE..=MG_OK;
        let known: Vec<_> = codes.clone().map(strerror).collect();
        for (code, m) in codes.zip(&known) {
            assert_ne!(*m, unknown, "code {code} has no message");
            assert_eq!(known.iter().filter(|k| *k == m).count(), 1, "{m:?} is shared");
        }
        assert_eq!(strerror(MG_ERR_STALE), c"stale or unknown handle");
    }

    #[test]
    fn every_core_error_has_its_own_code_and_the_same_text() {
        let all = Error::ALL;
        for (i, e) in all.iter().enumerate() {
            assert_eq!(code(*e), -(i as c_int) - 1, "{e:?}");
            assert_eq!(strerror(code(*e)).to_str().unwrap(), e.as_str());
        }
    }
}
