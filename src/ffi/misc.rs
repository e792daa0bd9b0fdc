//! Small Mongoose 7.22 helpers firmware calls: `mg_casecmp`, `mg_path_is_sane`, byte order
//! (`mg_ntohs` ...), `mg_hexdump`. Pure functions (except `mg_hexdump`, which writes to the
//! log sink): any thread, nothing retained.

use core::ffi::{c_char, c_int, c_void};

use super::cast;
use super::guard;
use super::types::mg_str;
use crate::util::codec;

/// The Mongoose API version whose names and semantics meerkat follows (`MG_VERSION` in
/// `mongoose.h`; cbindgen cannot emit string constants).
pub const MG_VERSION: &str = "7.22";

/// `mg_casecmp(s1, s2)`: compare NUL-terminated strings with ASCII letters folded to lower
/// case: < 0, 0 or > 0 (the difference of the first differing folded bytes, as unsigned).
/// A NULL argument compares as the empty string (Mongoose would crash). Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_casecmp(s1: *const c_char, s2: *const c_char) -> c_int {
    guard(|| {
        let a = cast::cstr_bytes_or_empty(s1);
        let b = cast::cstr_bytes_or_empty(s2);
        codec::casecmp(a, b)
    })
}

/// `mg_path_is_sane(path)`: false for a path that could climb out of the directory it is
/// resolved in: starting with `~` or `..`, containing `/..` or `\..` (even as in `/..x`), or
/// containing a NUL byte. An empty path (or one starting with NUL) is sane; a `(NULL, n > 0)`
/// path is not. As Mongoose 7.22. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_path_is_sane(path: mg_str) -> bool {
    guard(|| cast::mg_str_bytes(path).is_ok_and(codec::path_is_sane))
}

/// `mg_ntohs(net)`: a 16-bit value from network (big-endian) to host order. `mg_htons` is the
/// same operation. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_ntohs(net: u16) -> u16 {
    guard(|| u16::from_be(net))
}

/// `mg_ntohl(net)`: a 32-bit value from network to host order. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_ntohl(net: u32) -> u32 {
    guard(|| u32::from_be(net))
}

/// `mg_ntohll(net)`: a 64-bit value from network to host order. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_ntohll(net: u64) -> u64 {
    guard(|| u64::from_be(net))
}

/// `mg_htons(host)`: a 16-bit value from host to network order (a macro in Mongoose; a
/// function here). Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_htons(host: u16) -> u16 {
    guard(|| host.to_be())
}

/// `mg_htonl(host)`: a 32-bit value from host to network order. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_htonl(host: u32) -> u32 {
    guard(|| host.to_be())
}

/// `mg_htonll(host)`: a 64-bit value from host to network order. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_htonll(host: u64) -> u64 {
    guard(|| host.to_be())
}

/// `mg_hexdump(buf, len)`: write a hex dump of `len` bytes at `buf` to the log sink (the
/// `mg_log_set_fn` printer), whatever the log level, as Mongoose 7.22 does: per 16 bytes, the
/// offset, the bytes in hex and as ASCII, CRLF. `len` 0 or `(NULL, len > 0)` prints nothing.
/// Not retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_hexdump(buf: *const c_void, len: usize) {
    guard(|| {
        let Ok(data) = cast::slice(buf, len) else {
            return;
        };
        let mut line = [0u8; codec::HEXDUMP_LINE];
        for (k, chunk) in data.chunks(16).enumerate() {
            codec::hexdump_line(k * 16, chunk, &mut line);
            crate::log::write(&line);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order() {
        assert_eq!(mg_ntohs(u16::from_ne_bytes([0x12, 0x34])), 0x1234);
        assert_eq!(mg_ntohl(u32::from_ne_bytes([1, 2, 3, 4])), 0x0102_0304);
        assert_eq!(
            mg_ntohll(u64::from_ne_bytes([1, 2, 3, 4, 5, 6, 7, 8])),
            0x0102_0304_0506_0708
        );
        assert_eq!(mg_htons(0x1234).to_ne_bytes(), [0x12, 0x34]);
        assert_eq!(mg_htonl(0x0102_0304).to_ne_bytes(), [1, 2, 3, 4]);
        assert_eq!(mg_htonll(0x0102_0304_0506_0708).to_ne_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn casecmp_and_path() {
        assert_eq!(mg_casecmp(c"Content-Type".as_ptr(), c"content-type".as_ptr()), 0);
        assert!(mg_casecmp(c"a".as_ptr(), c"b".as_ptr()) < 0);
        assert!(mg_casecmp(c"ab".as_ptr(), core::ptr::null()) > 0);
        assert!(mg_path_is_sane(mg_str::from_bytes(b"/a/b.txt")));
        assert!(!mg_path_is_sane(mg_str::from_bytes(b"/a/../etc/passwd")));
        assert!(!mg_path_is_sane(mg_str {
            buf: core::ptr::null_mut(),
            len: 2
        }));
        assert!(mg_path_is_sane(mg_str::EMPTY));
    }
}
