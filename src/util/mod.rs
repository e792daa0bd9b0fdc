//! Pure helpers with no I/O: string matching, URL parsing, JSON lookup, hash padding and
//! encodings, the clock and random hooks.
#![forbid(unsafe_code)]
pub mod clock;
pub mod codec;
pub mod json;
pub mod str;
pub mod url;
