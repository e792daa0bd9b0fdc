//! Sans-IO HTTP/1.1 (RFC 9110 / RFC 9112) protocol machines: bytes in, events and bytes out.
//!
//! Nothing here touches a socket or the manager. The connection code feeds received bytes
//! to a framer and acts on the [`Step`]s it returns; every position in a step is a [`Span`]
//! (offsets into the slice given to that call), so the FFI layer can build Mongoose's
//! `struct mg_http_message` pointing straight into its receive buffer.
//!
//! - [`request`]: [`RequestParser`] (server side, streaming, pipelining-aware).
//! - [`response`]: [`ResponseParser`] (client side).
//! - [`message`]: helpers behind `mg_http_get_header`, `mg_url_decode`, `mg_http_get_var`,
//!   `mg_http_creds`, `mg_http_next_multipart`, `mg_http_write_chunk`, ...
//!
//! Request lines, status lines and fields are parsed by the framers' own one-pass walks
//! (word-at-a-time over the usual bytes); the `httparse` crate (well kept, fuzzed) that
//! parsed them before is their oracle: [`oracle`] keeps the old httparse path, and the
//! property tests and the `http_request`/`http_response` fuzz targets assert the same verdict
//! (head, spans, or status and diagnostic) on any bytes. The framers add the strictness
//! RFC 9112 asks for against request smuggling (guarantee G4): they reject Content-Length
//! with Transfer-Encoding, several or malformed Content-Lengths, bad chunk framing, obs-fold,
//! whitespace before the colon, bare CR or LF, control characters in values, a missing or
//! repeated Host on HTTP/1.1, and they enforce the [`Limits`] (guarantee G5).
//!
//! Choices where the RFCs leave room (each has a test):
//! - Lines end with CRLF only: a bare LF is rejected like a bare CR (RFC 9112 §2.2 lets a
//!   recipient accept bare LF; rejecting it leaves no parser disagreement to exploit), and
//!   as soon as it is seen: a head ending in `\n\n` is a 400 at once, not a wait for a
//!   CRLF CRLF that never comes. The same holds for chunk-size lines and trailers.
//! - A malformed request line (a stray space, a missing part) is a 400; 505 only for a
//!   well-formed `HTTP/x.y` other than 1.0 and 1.1.
//! - Any second Content-Length value is a 400, even an identical one (RFC 9110 §8.6).
//! - A transfer coding other than `chunked` is a 501; `chunked` repeated or not last, or
//!   Transfer-Encoding in HTTP/1.0, is a 400.
//! - `max_body` applies to streamed bodies as well; set it to `u64::MAX` for no cap.
//! - Trailer fields are checked like header fields, then discarded.
//! - A request-target that is not UTF-8 is a 400 (httparse's rule, kept); browsers
//!   percent-encode.
//! - After an error a framer stays failed; after a non-keep-alive message it reads nothing.
//!
//! Only `core` and `alloc` are used, so the module can build without `std`.
#![forbid(unsafe_code)]

extern crate alloc;
use self::alloc::vec::Vec;

mod common;
#[doc(hidden)]
pub mod drive;
pub mod message;
#[doc(hidden)]
pub mod oracle;
pub mod request;
pub mod response;

pub(crate) use common::{is_field_vchar_byte, is_token_byte, Bad};
pub use common::{Body, Eof, Header, HttpError, Limits, Span, Step, Version};
pub use message::{
    base64_decode, base64_encode, check_header_lines, creds, find_var, get_header, get_header_var, get_var,
    get_var_into, next_multipart, status_reason, status_reason_bytes, url_decode, url_decode_vec, write_chunk,
    Credentials, DecodeError, Part, VarError,
};
pub use request::{RequestHead, RequestParser, RequestStep};
pub use response::{ResponseHead, ResponseParser, ResponseStep};
