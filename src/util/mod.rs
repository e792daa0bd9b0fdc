//! Pure helpers with no I/O: string matching, URL parsing, JSON lookup, hash padding and
//! encodings, MD5, address parsing and ACLs, JSON-RPC framing, the SPSC queue arithmetic,
//! caller-driven timers, the clock and random hooks, the device dashboard's protocol.
#![forbid(unsafe_code)]
pub mod clock;
pub mod codec;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod dash;
pub mod json;
pub mod jwt;
pub mod md5;
pub mod net;
pub mod packed;
pub mod queue;
pub mod rpc;
pub mod ssi;
pub mod str;
pub mod timer;
pub mod url;
