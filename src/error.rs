//! The core's error type. It knows nothing of C: the numbered `MG_ERR_*` codes and their
//! messages for C live at the boundary (`ffi::error`), which maps each variant to its stable
//! number with one function.
#![forbid(unsafe_code)]

use core::fmt;

/// Why a call into the manager (or one of its helpers) did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// An argument is invalid (bad limits, unknown flags, more bytes than are pending...).
    Invalid,
    /// The handle does not refer to a live connection or timer (it closed, fired, or never
    /// existed). Nothing was done.
    Stale,
    /// The call was made from a thread that does not own the manager.
    WrongThread,
    /// A bounded buffer or queue is full (backpressure): nothing was queued, try again later.
    Full,
    /// A configured capacity is reached (connections, timers).
    Limit,
    /// A URL does not parse or names an unsupported scheme.
    Url,
    /// A port number is missing or out of range.
    Port,
    /// An address could not be used: bind failed, or a name did not resolve.
    Addr,
    /// A socket or OS call failed.
    Io,
    /// The connection (or the manager) is closing; nothing more is accepted for it.
    Closing,
    /// The manager is in use: not allowed while one of its event handlers runs (`poll`,
    /// `shutdown`), or (C API) initialising a manager that is already initialised.
    Busy,
    /// The handle space is exhausted (never reached in practice; see [`crate::handle`]).
    Exhausted,
    /// Memory allocation failed.
    NoMem,
    /// An internal error; the call had no effect that can be relied on.
    Internal,
    /// The operation is not supported for this kind of connection.
    Unsupported,
    /// A value is too large for its destination.
    TooLarge,
}

impl Error {
    /// Every variant, in the order of their C codes (`MG_ERR_*` -1, -2, ...).
    pub const ALL: [Error; 16] = [
        Error::Invalid,
        Error::Stale,
        Error::WrongThread,
        Error::Full,
        Error::Limit,
        Error::Url,
        Error::Port,
        Error::Addr,
        Error::Io,
        Error::Closing,
        Error::Busy,
        Error::Exhausted,
        Error::NoMem,
        Error::Internal,
        Error::Unsupported,
        Error::TooLarge,
    ];

    /// A short, static description, NUL-terminated so that the C boundary can hand it out
    /// as it is (`mg_strerror`).
    pub fn as_cstr(self) -> &'static core::ffi::CStr {
        match self {
            Error::Invalid => c"invalid argument",
            Error::Stale => c"stale or unknown handle",
            Error::WrongThread => c"called from a thread that does not own the manager",
            Error::Full => c"buffer or queue full",
            Error::Limit => c"capacity limit reached",
            Error::Url => c"malformed or unsupported URL",
            Error::Port => c"port missing or out of range",
            Error::Addr => c"address unavailable or unresolved",
            Error::Io => c"socket or OS error",
            Error::Closing => c"connection is closing",
            Error::Busy => c"manager busy: inside its event handler, or already initialised",
            Error::Exhausted => c"handle space exhausted",
            Error::NoMem => c"out of memory",
            Error::Internal => c"internal error",
            Error::Unsupported => c"operation not supported on this connection",
            Error::TooLarge => c"value too large",
        }
    }

    /// A short, static description.
    pub fn as_str(self) -> &'static str {
        self.as_cstr().to_str().unwrap_or("")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

/// The result type of the core's fallible calls.
pub type Result<T, E = Error> = core::result::Result<T, E>;
