//! Memory for C: `mg_calloc`/`mg_free`, `mg_bzero`, and `struct mg_iobuf`, Mongoose's
//! growable byte buffer, as a value type firmware uses for its own data (meerkat's connections
//! keep their own buffers and do not expose an `mg_iobuf`).
//!
//! All of these may be called from any thread; an `mg_iobuf` belongs to its caller, who must
//! not use one from two threads at once.

use crate::prelude::*;
use core::ffi::{c_uchar, c_void};

use super::cast;
use super::guard;

/// `mg_calloc(count, size)`: `calloc`. Memory meerkat hands out (`mg_json_get_str`,
/// `mg_strdup`, ...) comes from the same allocator, so `mg_free` and `free` are
/// interchangeable. NULL on overflow or when memory runs out. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_calloc(count: usize, size: usize) -> *mut c_void {
    guard(|| cast::c_calloc(count, size))
}

/// `mg_free(ptr)`: `free`. NULL does nothing. `ptr` must come from `mg_calloc`, `malloc`
/// or a meerkat call documented as returning memory the caller frees. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_free(ptr: *mut c_void) {
    guard(|| cast::c_free(ptr))
}

/// `mg_bzero(buf, len)`: zero `len` bytes at `buf` with writes the compiler cannot remove
/// (for keys and passwords). NULL does nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_bzero(buf: *mut c_uchar, len: usize) {
    guard(|| {
        if let Ok(b) = cast::slice_mut(buf.cast(), len) {
            cast::bzero_volatile(b);
        }
    })
}

/// A growable byte buffer (Mongoose 7.22 layout): `len` bytes used of `size` allocated at
/// `buf`, capacity always a multiple of `align` (when non-zero).
///
/// Ownership: the caller owns the struct and, through it, `buf`, which comes from
/// `mg_calloc`; release it with `mg_iobuf_free`. Initialise with `mg_iobuf_init` or `{0}`.
/// The functions check the struct they are given: a `buf` that is NULL with `size > 0` is
/// refused, and `len` is never taken beyond `size`.
#[repr(C)]
#[derive(Debug)]
pub struct mg_iobuf {
    pub buf: *mut c_uchar,
    pub size: usize,
    pub len: usize,
    pub align: usize,
}

fn roundup(size: usize, align: usize) -> Option<usize> {
    if align == 0 {
        Some(size)
    } else {
        size.checked_next_multiple_of(align)
    }
}

/// The allocation of `io`, or `None` for an inconsistent struct.
fn storage<'a>(io: &mg_iobuf) -> Option<&'a mut [u8]> {
    cast::slice_mut(io.buf.cast(), io.size).ok()
}

/// Release `io.buf` (wiped first) and leave `io` empty.
fn release(io: &mut mg_iobuf) {
    if let Some(old) = storage(io) {
        cast::bzero_volatile(old);
        cast::c_free(io.buf.cast());
    }
    io.buf = core::ptr::null_mut();
    io.size = 0;
    io.len = 0;
}

fn resize(io: &mut mg_iobuf, new_size: usize) -> bool {
    let Some(new_size) = roundup(new_size, io.align) else {
        return false;
    };
    let Some(old) = storage(io) else {
        return false;
    };
    if new_size == 0 {
        release(io);
        return true;
    }
    if new_size == io.size {
        return true;
    }
    // A fresh zeroed allocation and a wiped old one, never realloc: stale bytes of a shrunk
    // or moved buffer stay out of the heap (as Mongoose).
    let p = cast::c_calloc(1, new_size);
    let Ok(new) = cast::slice_mut(p, new_size) else {
        return false;
    };
    let keep = io.len.min(io.size).min(new_size);
    new[..keep].copy_from_slice(&old[..keep]);
    release(io);
    io.buf = p.cast();
    io.size = new_size;
    io.len = keep;
    true
}

/// `mg_iobuf_init(io, size, align)`: make `io` empty with the given alignment (0: none), then
/// allocate `size` bytes (rounded up to `align`). Whatever `io` held before is overwritten,
/// not freed. Returns false (leaving `io` empty) when memory runs out or `io` is NULL.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_iobuf_init(io: *mut mg_iobuf, size: usize, align: usize) -> bool {
    guard(|| {
        let Ok(io) = cast::as_mut(io) else {
            return false;
        };
        *io = mg_iobuf {
            buf: core::ptr::null_mut(),
            size: 0,
            len: 0,
            align,
        };
        resize(io, size)
    })
}

/// `mg_iobuf_resize(io, new_size)`: reallocate to `new_size` rounded up to `io->align`,
/// keeping the first `min(len, new size)` bytes; 0 frees the buffer. The old memory is
/// zeroed before it is freed. Returns false (and `io` unchanged) when memory runs out or `io`
/// is NULL or inconsistent. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_iobuf_resize(io: *mut mg_iobuf, new_size: usize) -> bool {
    guard(|| cast::as_mut(io).is_ok_and(|io| resize(io, new_size)))
}

/// `mg_iobuf_free(io)`: zero and free the buffer; `buf`, `size` and `len` become 0 (`align`
/// is kept). NULL does nothing. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_iobuf_free(io: *mut mg_iobuf) {
    guard(|| {
        if let Ok(io) = cast::as_mut(io) {
            resize(io, 0);
        }
    })
}

/// `mg_iobuf_add(io, ofs, buf, len)`: insert `len` bytes at offset `ofs`, moving what was
/// there to the right; the buffer is resized to the new length rounded up to `align` (so,
/// as in Mongoose, with `align` 0 it shrinks to fit). A NULL `buf` reserves `len` zeroed
/// bytes. `buf` may point into `io`'s own data. An `ofs` beyond `len` is taken as `len`
/// (Mongoose would write past its allocation there). Returns `len`, or 0 when nothing was
/// added (out of memory, NULL or inconsistent `io`). Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_iobuf_add(io: *mut mg_iobuf, ofs: usize, buf: *const c_void, len: usize) -> usize {
    guard(|| {
        let Ok(io) = cast::as_mut(io) else {
            return 0;
        };
        let used = io.len.min(io.size);
        let ofs = ofs.min(used);
        // Copy the source first: it may be inside the allocation that the resize frees.
        let src: Option<Vec<u8>> = if buf.is_null() {
            None
        } else {
            match cast::slice(buf, len) {
                Ok(s) => Some(s.to_vec()),
                Err(_) => return 0,
            }
        };
        let Some(new_len) = used.checked_add(len) else {
            return 0;
        };
        io.len = used;
        if !roundup(new_len, io.align).is_some_and(|n| resize(io, n)) {
            return 0;
        }
        let Some(data) = storage(io) else {
            return 0;
        };
        if data.len() < new_len {
            return 0;
        }
        data.copy_within(ofs..used, ofs + len);
        match src {
            Some(s) => data[ofs..ofs + len].copy_from_slice(&s),
            None => data[ofs..ofs + len].fill(0),
        }
        io.len = new_len;
        len
    })
}

/// `mg_iobuf_del(io, ofs, len)`: remove `len` bytes at offset `ofs` (both clamped to the
/// data), moving the rest left and zeroing the freed tail. The allocation is kept. Returns the
/// number of bytes removed; 0 for a NULL or inconsistent `io`. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_iobuf_del(io: *mut mg_iobuf, ofs: usize, len: usize) -> usize {
    guard(|| {
        let Ok(io) = cast::as_mut(io) else {
            return 0;
        };
        let Some(data) = storage(io) else {
            return 0;
        };
        let used = io.len.min(io.size);
        let ofs = ofs.min(used);
        let n = len.min(used - ofs);
        data.copy_within(ofs + n..used, ofs);
        cast::bzero_volatile(&mut data[used - n..used]);
        io.len = used - n;
        n
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;

    fn contents(io: &mg_iobuf) -> &[u8] {
        cast::slice(io.buf.cast(), io.len).unwrap()
    }

    #[test]
    fn iobuf_mongoose_semantics() {
        let mut io = mg_iobuf {
            buf: null_mut(),
            size: 0,
            len: 0,
            align: 0,
        };
        assert!(mg_iobuf_init(&mut io, 10, 16));
        assert_eq!((io.size, io.len, io.align), (16, 0, 16));
        assert_eq!(mg_iobuf_add(&mut io, 0, b"world".as_ptr().cast(), 5), 5);
        assert_eq!(mg_iobuf_add(&mut io, 0, b"hello ".as_ptr().cast(), 6), 6);
        assert_eq!(contents(&io), b"hello world");
        assert_eq!(io.size, 16);
        assert_eq!(mg_iobuf_add(&mut io, 99, b"!!!!!!".as_ptr().cast(), 6), 6);
        assert_eq!(contents(&io), b"hello world!!!!!!");
        assert_eq!(io.size, 32);
        // Reserve without data, and insert from the buffer itself.
        assert_eq!(mg_iobuf_add(&mut io, 5, core::ptr::null(), 2), 2);
        assert_eq!(contents(&io), b"hello\0\0 world!!!!!!");
        let own = io.buf as *const c_void;
        assert_eq!(mg_iobuf_add(&mut io, 0, own, 5), 5);
        assert_eq!(contents(&io), b"hellohello\0\0 world!!!!!!");
        assert_eq!(mg_iobuf_del(&mut io, 5, 7), 7);
        assert_eq!(contents(&io), b"hello world!!!!!!");
        assert_eq!(mg_iobuf_del(&mut io, 11, 100), 6);
        assert_eq!(contents(&io), b"hello world");
        assert_eq!(mg_iobuf_del(&mut io, 100, 1), 0);
        assert!(mg_iobuf_resize(&mut io, 3));
        assert_eq!((io.size, contents(&io)), (16, &b"hello world"[..]));
        assert!(mg_iobuf_resize(&mut io, 40));
        assert_eq!((io.size, contents(&io)), (48, &b"hello world"[..]));
        mg_iobuf_free(&mut io);
        assert!(io.buf.is_null());
        assert_eq!((io.size, io.len, io.align), (0, 0, 16));

        // align 0: sized to fit, as Mongoose.
        let mut io = mg_iobuf {
            buf: null_mut(),
            size: 0,
            len: 0,
            align: 0,
        };
        assert!(mg_iobuf_init(&mut io, 100, 0));
        assert_eq!(mg_iobuf_add(&mut io, 0, b"ab".as_ptr().cast(), 2), 2);
        assert_eq!(io.size, 2);
        mg_iobuf_free(&mut io);
    }

    #[test]
    fn iobuf_refuses_bad_input() {
        assert!(!mg_iobuf_init(null_mut(), 1, 1));
        assert_eq!(mg_iobuf_add(null_mut(), 0, b"x".as_ptr().cast(), 1), 0);
        assert_eq!(mg_iobuf_del(null_mut(), 0, 1), 0);
        mg_iobuf_free(null_mut());
        let mut bad = mg_iobuf {
            buf: null_mut(),
            size: 8,
            len: 4,
            align: 0,
        };
        assert_eq!(mg_iobuf_add(&mut bad, 0, b"x".as_ptr().cast(), 1), 0);
        assert_eq!(mg_iobuf_del(&mut bad, 0, 1), 0);
        assert!(!mg_iobuf_resize(&mut bad, 4));
        let mut io = mg_iobuf {
            buf: null_mut(),
            size: 0,
            len: 0,
            align: 0,
        };
        assert_eq!(mg_iobuf_add(&mut io, 0, core::ptr::null(), 0), 0);
        assert_eq!(mg_iobuf_add(&mut io, 0, b"x".as_ptr().cast(), usize::MAX), 0);
        assert!(!mg_iobuf_resize(&mut mg_iobuf { align: 7, ..io }, usize::MAX));
    }

    #[test]
    fn calloc_free_bzero() {
        let p = mg_calloc(4, 4).cast::<u8>();
        assert!(!p.is_null());
        let s = cast::slice_mut(p.cast(), 16).unwrap();
        assert!(s.iter().all(|&b| b == 0));
        s.fill(7);
        mg_bzero(p, 16);
        assert!(cast::slice(p.cast(), 16).unwrap().iter().all(|&b| b == 0));
        mg_free(p.cast());
        mg_free(null_mut());
        mg_bzero(null_mut(), 0);
        mg_bzero(null_mut(), 5);
    }
}
