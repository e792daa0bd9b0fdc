//! SNTP and the wall clock: Mongoose 7.22's `mg_sntp_connect`, `mg_sntp_request`,
//! `mg_sntp_parse` and `mg_now`.

use core::ffi::{c_char, c_int, c_void};

use super::callback::CHandler;
use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::util::clock;

/// `mg_sntp_connect(mgr, url, fn, fn_data)`: ask the SNTP server at `url` (NULL:
/// `udp://time.google.com:123`) for the time. The request goes out on `MG_EV_CONNECT`; a
/// reply is taken only if it is a server reply (mode 4) of version 3 or 4 from a
/// synchronised server (stratum 1..15, leap indicator not 3) echoing the request's
/// timestamp; others are ignored. Then the wall clock (`mg_now`) is set, `fn` gets
/// `MG_EV_SNTP_TIME` with `ev_data` a `uint64_t *` (Unix milliseconds), and the connection
/// closes. Without a good reply within 3 s: `MG_EV_ERROR` ("SNTP request timed out") and
/// close. `fn` may be NULL (only the clock is set). Returns the handle, or `{0}` with
/// `mg_last_error()` set (`MG_ERR_URL` for a non-`udp://` URL). Owner thread.
#[no_mangle]
pub extern "C" fn mg_sntp_connect(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let url = if url.is_null() {
                None
            } else {
                Some(cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?)
            };
            super::callback::install_proto_events();
            Ok(m.sntp_connect(url, alloc::rc::Rc::new(CHandler::new(f, fn_data)))?)
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// `mg_sntp_request(c)`: send a new time request on the SNTP connection `c` (its reply
/// must echo this request). Returns 0, `MG_ERR_UNSUPPORTED` (not an SNTP connection),
/// `MG_ERR_STALE`, or `mg_send`'s errors. Owner thread.
#[no_mangle]
pub extern "C" fn mg_sntp_request(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.sntp_request(h)?;
        Ok(MG_OK)
    })
}

/// `mg_sntp_parse(buf, len)`: check an SNTP reply's header (at least 48 bytes, mode 4,
/// version 3 or 4, stratum 1..15, leap indicator not 3) and return its transmit time in
/// Unix milliseconds, or -1. It cannot check the origin timestamp (it has no request to
/// compare with; `mg_sntp_connect` does) and does not set the clock. Any thread.
#[no_mangle]
pub extern "C" fn mg_sntp_parse(buf: *const u8, len: usize) -> i64 {
    guard(|| {
        let Ok(b) = cast::slice(buf as *const c_void, len) else {
            return -1;
        };
        crate::sntp::parse(b).map_or(-1, |t| i64::try_from(t).unwrap_or(-1))
    })
}

/// `mg_now()`: wall-clock Unix milliseconds once an SNTP reply set the clock; until then
/// the same as `mg_millis()` (as in Mongoose). Any thread.
#[no_mangle]
pub extern "C" fn mg_now() -> u64 {
    guard(clock::now_ms)
}
