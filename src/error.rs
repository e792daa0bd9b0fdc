//! The core's error type. It knows nothing of C: the numbered `MG_ERR_*` codes and their
//! messages for C live at the boundary (`ffi::error`), which maps each variant to its stable
//! number with one function.
#![forbid(unsafe_code)]

use core::fmt;

use crate::util::packed::Packed;

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
    /// as it is (`mg_strerror`): entry `self as usize + 1` of [`TEXTS`].
    pub fn as_cstr_bytes(self) -> &'static [u8] {
        TEXTS.get(self as usize + 1)
    }

    /// A short, static description.
    pub fn as_str(self) -> &'static str {
        let t = self.as_cstr_bytes();
        core::str::from_utf8(t.get(..t.len().saturating_sub(1)).unwrap_or_default()).unwrap_or("")
    }
}

/// The messages of the C codes by number (`-code`), each with its NUL: 0 is success, 1..=16
/// the variants in [`Error::ALL`] order (`MG_ERR_*` -1..-16), 17 an unknown code. One
/// table of bytes (with its ends) rather than a `match` over `c"..."` literals: LLVM pools
/// NUL-terminated literals into one `.rodata.str1.1` section of the whole library, which
/// a linker keeps whole (GNU ld) as soon as one of them is used, with every other
/// protocol's texts in it; a table of its own is one section, dropped or kept alone, and
/// its ends take 2 bytes a message where the `match` took a pointer and a length.
pub static TEXTS: Packed<18, TEXTS_LEN> = pack();

const LIST: [&[u8]; 18] = [
    b"success\0",
    b"invalid argument\0",
    b"stale or unknown handle\0",
    b"called from a thread that does not own the manager\0",
    b"buffer or queue full\0",
    b"capacity limit reached\0",
    b"malformed or unsupported URL\0",
    b"port missing or out of range\0",
    b"address unavailable or unresolved\0",
    b"socket or OS error\0",
    b"connection is closing\0",
    b"manager busy: inside its event handler, or already initialised\0",
    b"handle space exhausted\0",
    b"out of memory\0",
    b"internal error\0",
    b"operation not supported on this connection\0",
    b"value too large\0",
    b"unknown error code\0",
];

const TEXTS_LEN: usize = {
    let (mut n, mut i) = (0, 0);
    while i < LIST.len() {
        n += LIST[i].len();
        i += 1;
    }
    n
};

/// [`LIST`] packed, checking at compile time that every entry ends with its only NUL (what
/// the C boundary relies on), and that the variants are numbered in [`Error::ALL`] order.
const fn pack() -> Packed<18, TEXTS_LEN> {
    let mut i = 0;
    while i < Error::ALL.len() {
        assert!(Error::ALL[i] as usize == i, "as_cstr_bytes indexes by discriminant");
        i += 1;
    }
    let mut p = Packed::empty();
    i = 0;
    while i < LIST.len() {
        let t = LIST[i];
        let mut k = 0;
        while k < t.len() {
            assert!((t[k] == 0) == (k + 1 == t.len()), "one NUL, at the end");
            k += 1;
        }
        p = p.with(t);
        i += 1;
    }
    p
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

/// The result type of the core's fallible calls.
pub type Result<T, E = Error> = core::result::Result<T, E>;
