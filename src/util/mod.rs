//! Pure helpers with no I/O: string matching, URL parsing, the clock and random hooks.
#![forbid(unsafe_code)]
pub mod clock;
pub mod str;
pub mod url;
