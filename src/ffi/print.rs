//! Output functions for the printf family (`mg_pfn_t`), with Mongoose 7.22's names:
//! `mg_pfn_iobuf` and `mg_pfn_iobuf_noresize` print into an `mg_iobuf`. (`mg_pfn_stdout` and
//! the `%M` printers are in the C shim.) Also the one place Rust code prints through a C
//! output function ([`emit`]).

use core::ffi::{c_char, c_void};

use super::cast;
use super::guard;
use super::mem::{mg_iobuf, mg_iobuf_resize};
use super::types::mg_pfn_t;

/// Print `bytes` through the C output function `pfn(ch, param)`; a NULL `pfn` prints nothing.
pub(crate) fn emit(pfn: mg_pfn_t, param: *mut c_void, bytes: &[u8]) {
    if let Some(f) = pfn {
        for &b in bytes {
            // SAFETY: `pfn` and `param` were given together by the C caller (an mg_rpc_req,
            // an mg_xprintf call); the caller promised a callable output function.
            unsafe { f(b as c_char, param) };
        }
    }
}

/// Append `ch` to `io` and keep the data NUL-terminated (the NUL is not counted in `len`).
/// With `grow`, the buffer is enlarged (at least doubled) when it is full.
fn put(io: *mut mg_iobuf, ch: c_char, grow: bool) {
    let Ok(b) = cast::as_mut(io) else {
        return;
    };
    let (len, size) = (b.len, b.size);
    if grow && len.checked_add(2).is_some_and(|need| need > size) {
        let want = (len + 2).max(size.saturating_mul(2)).max(16);
        if !mg_iobuf_resize(io, want) {
            mg_iobuf_resize(io, len + 2);
        }
    }
    let Ok(b) = cast::as_mut(io) else {
        return;
    };
    let Ok(data) = cast::slice_mut(b.buf.cast(), b.size) else {
        return;
    };
    let len = b.len.min(data.len());
    if len + 2 <= data.len() {
        data[len] = ch as u8;
        data[len + 1] = 0;
        b.len = len + 1;
    } else if let Some(last) = data.get_mut(len) {
        *last = 0;
    }
}

/// `mg_pfn_iobuf(ch, param)`: output function that appends `ch` to the `struct mg_iobuf *`
/// `param`, growing it as needed (with `mg_iobuf_resize`, so the caller frees it with
/// `mg_iobuf_free`), and keeps the text NUL-terminated after `len`. Example:
/// `struct mg_iobuf io = {0}; mg_xprintf(mg_pfn_iobuf, &io, "%d", 42);` gives `io.buf`
/// "42", `io.len` 2. When memory runs out the character is dropped. NULL `param` does
/// nothing. Thread: any thread (one thread at a time per buffer).
#[no_mangle]
pub extern "C" fn mg_pfn_iobuf(ch: c_char, param: *mut c_void) {
    guard(|| put(param.cast(), ch, true))
}

/// `mg_pfn_iobuf_noresize(ch, param)`: like `mg_pfn_iobuf` into a fixed buffer: characters
/// that do not fit (with the NUL) are dropped, the text stays NUL-terminated. Mongoose also
/// counts the terminating NUL in `len` once the buffer is full; meerkat does not.
/// Thread: any thread (one thread at a time per buffer).
#[no_mangle]
pub extern "C" fn mg_pfn_iobuf_noresize(ch: c_char, param: *mut c_void) {
    guard(|| put(param.cast(), ch, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::mem::{mg_iobuf_free, mg_iobuf_init};

    #[test]
    fn iobuf_printing() {
        let mut io = mg_iobuf {
            buf: core::ptr::null_mut(),
            size: 0,
            len: 0,
            align: 0,
        };
        for &c in b"hello, world" {
            mg_pfn_iobuf(c as c_char, (&mut io as *mut mg_iobuf).cast());
        }
        assert_eq!(io.len, 12);
        let data = cast::slice(io.buf.cast(), io.size).unwrap();
        assert_eq!(&data[..13], b"hello, world\0");
        mg_iobuf_free(&mut io);

        assert!(mg_iobuf_init(&mut io, 4, 0));
        for &c in b"abcdef" {
            mg_pfn_iobuf_noresize(c as c_char, (&mut io as *mut mg_iobuf).cast());
        }
        assert_eq!((io.len, io.size), (3, 4));
        let data = cast::slice(io.buf.cast(), io.size).unwrap();
        assert_eq!(&data[..4], b"abc\0");
        mg_iobuf_free(&mut io);
        mg_pfn_iobuf(b'x' as c_char, core::ptr::null_mut());
    }
}
