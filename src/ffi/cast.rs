//! Every conversion of C-supplied memory into Rust values happens here.
//!
//! The contract for the caller (documented in the header preamble): a non-NULL pointer
//! passed with a length points to at least that many readable bytes for the duration of
//! the call; strings are NUL-terminated. Within that contract, nothing a C caller passes can
//! make these helpers misbehave: NULL with a non-zero length is rejected, NULL with zero
//! is an empty slice, and lengths over `isize::MAX` are rejected.

use core::ffi::{c_char, c_int, c_void, CStr};

use super::types::{mg_http_header, mg_http_message, mg_str};
use crate::ffi::error::MG_ERR_INVALID;

/// A byte slice from a (pointer, length) pair.
pub(crate) fn slice<'a>(ptr: *const c_void, len: usize) -> Result<&'a [u8], c_int> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: the caller promised `len` readable bytes at the non-NULL `ptr` for the
    // duration of this call; the returned lifetime is bounded by the exported call.
    Ok(unsafe { core::slice::from_raw_parts(ptr as *const u8, len) })
}

/// A mutable byte slice from a (pointer, length) pair, for output buffers.
pub(crate) fn slice_mut<'a>(ptr: *mut c_void, len: usize) -> Result<&'a mut [u8], c_int> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: the caller promised `len` writable bytes at `ptr`, not aliased during the call.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr as *mut u8, len) })
}

/// An output buffer of `cap` bytes of which a call writes at most `need`: the slice covers
/// `min(cap, need)` bytes. C callers pass "big enough" sizes such as `SIZE_MAX` (Mongoose
/// treats the size only as a bound); the bytes past what can be written are not claimed, so
/// such a size is accepted instead of failing the `isize::MAX` check of [`slice_mut`].
pub(crate) fn out_buf<'a>(ptr: *mut c_void, cap: usize, need: usize) -> Result<&'a mut [u8], c_int> {
    slice_mut(ptr, cap.min(need))
}

/// A NUL-terminated C string as bytes (without the NUL); NULL is an error. (The one place
/// that reads a C string: the others are made from it.)
pub(crate) fn cstr_bytes<'a>(ptr: *const c_char) -> Result<&'a [u8], c_int> {
    if ptr.is_null() {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: the caller promised a NUL-terminated string at the non-NULL `ptr`.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// An optional NUL-terminated C string as bytes: NULL is empty (so it cannot fail).
pub(crate) fn cstr_bytes_or_empty<'a>(ptr: *const c_char) -> &'a [u8] {
    cstr_bytes(ptr).unwrap_or_default()
}

/// A NUL-terminated C string as UTF-8 text; NULL or invalid UTF-8 is an error.
pub(crate) fn cstr_utf8<'a>(ptr: *const c_char) -> Result<&'a str, c_int> {
    utf8(cstr_bytes(ptr)?).ok_or(MG_ERR_INVALID)
}

/// `b` as text if it is UTF-8 (`core::str::from_utf8(b).ok()`), checked by the library's
/// own small validator ([`crate::util::str::is_utf8`]): core's is 500 bytes of a plain
/// server's code (footprint build) for the C strings of a listener's URL and log prefix.
pub(crate) fn utf8(b: &[u8]) -> Option<&str> {
    // SAFETY: `is_utf8` accepts exactly what `core::str::from_utf8` accepts (tested).
    crate::util::str::is_utf8(b).then(|| unsafe { core::str::from_utf8_unchecked(b) })
}

/// A shared reference to a C struct; NULL is an error.
pub(crate) fn as_ref<'a, T>(ptr: *const T) -> Result<&'a T, c_int> {
    // SAFETY: non-NULL pointers from C point to a valid, initialised T for the call.
    unsafe { ptr.as_ref() }.ok_or(MG_ERR_INVALID)
}

/// An exclusive reference to a C struct; NULL is an error. For the value types C owns and
/// passes by pointer (`mg_iobuf`, hash contexts) whose fields are all integers or pointers
/// checked again before use, so any bytes the caller left in them are a valid value.
pub(crate) fn as_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, c_int> {
    // SAFETY: non-NULL pointers from C point to a valid T, not aliased during the call.
    unsafe { ptr.as_mut() }.ok_or(MG_ERR_INVALID)
}

/// Write an out-parameter. NULL is an error; the value is written only on success paths,
/// because callers invoke this last.
pub(crate) fn write_out<T>(ptr: *mut T, value: T) -> Result<(), c_int> {
    if ptr.is_null() {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: non-NULL out-pointers from C point to writable storage for a T.
    unsafe { ptr.write(value) };
    Ok(())
}

/// Write an out-parameter if the pointer is not NULL (optional outputs).
pub(crate) fn write_opt<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: as in `write_out`.
        unsafe { ptr.write(value) };
    }
}

/// Bytes of an `mg_str` passed by value.
pub(crate) fn mg_str_bytes<'a>(s: mg_str) -> Result<&'a [u8], c_int> {
    slice(s.buf as *const c_void, s.len)
}

/// Bytes of an `mg_str`, treating (NULL, n) as empty instead of an error. For the string
/// helpers that Mongoose defines as total functions (`mg_strcmp` and friends).
pub(crate) fn mg_str_lenient<'a>(s: mg_str) -> &'a [u8] {
    slice(s.buf as *const c_void, s.len).unwrap_or(&[])
}

/// The header entries of `hm`, in order: at most `num_headers` of them, ending before the
/// first entry whose name is empty (meerkat's terminator, Mongoose's unused slots) or a
/// (NULL, n) pair. A NULL `headers` array has none.
pub(crate) fn http_headers(hm: &mg_http_message) -> impl Iterator<Item = &mg_http_header> {
    let base = hm.headers as *const mg_http_header;
    let n = if base.is_null() { 0 } else { hm.num_headers };
    // By the documented layout, `headers` points to `num_headers` readable entries.
    (0..n)
        .map_while(move |i| as_ref(base.wrapping_add(i)).ok())
        .take_while(|h| mg_str_bytes(h.name).is_ok_and(|name| !name.is_empty()))
}

/// Copy `src` into a C buffer of `cap` bytes, NUL-terminating it; returns the untruncated
/// length (snprintf-like). `buf` may be NULL only when `cap` is 0.
pub(crate) fn copy_to_cbuf(src: &[u8], buf: *mut c_char, cap: usize) -> Result<usize, c_int> {
    let out = out_buf(buf as *mut c_void, cap, src.len().saturating_add(1))?;
    if let Some(room) = cap.checked_sub(1) {
        let n = room.min(src.len());
        out[..n].copy_from_slice(&src[..n]);
        out[n] = 0;
    }
    Ok(src.len())
}

/// Allocate `len` bytes with the C allocator (`malloc`): memory handed to C that the C caller
/// frees with `free()` (e.g. `mg_strdup`). NULL when `len` is 0 or the allocation fails.
/// Turn the result into a slice with [`slice_mut`] before writing to it.
pub(crate) fn c_malloc(len: usize) -> *mut c_void {
    if len == 0 || len > isize::MAX as usize {
        return core::ptr::null_mut();
    }
    // SAFETY: malloc with a non-zero size has no preconditions; NULL is handled by callers.
    unsafe { libc::malloc(len) }
}

/// `calloc(count, size)`: zeroed memory handed to C, freed with `free()` ([`c_free`]).
/// NULL on overflow or when memory runs out (and possibly for a zero size).
pub(crate) fn c_calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: calloc checks `count * size` for overflow itself and has no other precondition.
    unsafe { libc::calloc(count, size) }
}

/// `free(p)`: release memory from `malloc`/`calloc` (NULL is a no-op). The caller passes only
/// pointers the C allocator returned and that nothing else frees.
pub(crate) fn c_free(p: *mut c_void) {
    // SAFETY: by the caller's contract, `p` is NULL or a live allocation of the C allocator.
    unsafe { libc::free(p) }
}

/// Zero `buf` with volatile writes the compiler cannot drop (for secrets, as `mg_bzero`).
pub(crate) fn bzero_volatile(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference to one byte.
        unsafe { core::ptr::write_volatile(b, 0) };
    }
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Read a `T` from C memory (a field of a C struct that no other thread writes during the
/// call, e.g. `mg_queue`'s `buf` and `size`); NULL is an error. Reads a copy: no reference
/// into the C memory is created.
pub(crate) fn read<T: Copy>(ptr: *const T) -> Result<T, c_int> {
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: non-NULL pointers from C point to a valid, initialised T for the call.
    Ok(unsafe { ptr.read() })
}

/// A `size_t` field of C memory shared between threads (`mg_queue`'s `head` and `tail`) as
/// an `AtomicUsize`. NULL or misaligned is an error.
///
/// The C caller's contract (documented on `struct mg_queue`): while the structure is shared,
/// the field is accessed only through meerkat's calls, which use atomic operations.
pub(crate) fn atomic_usize<'a>(ptr: *mut usize) -> Result<&'a core::sync::atomic::AtomicUsize, c_int> {
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: a non-NULL, aligned pointer to a live `size_t` of the C caller's struct, valid
    // for the call; AtomicUsize has the layout of usize, and by the contract above every
    // concurrent access to it is atomic.
    Ok(unsafe { core::sync::atomic::AtomicUsize::from_ptr(ptr) })
}

/// Read a native-endian `u32` at byte offset `off` of the C buffer `base` of `size` bytes,
/// without forming a reference to the buffer (another thread may be writing other bytes of
/// it). `None` when the 4 bytes are not inside the buffer.
pub(crate) fn read_u32_at(base: *const u8, size: usize, off: usize) -> Option<u32> {
    if base.is_null() || size > isize::MAX as usize || off.checked_add(4)? > size {
        return None;
    }
    // SAFETY: `base` points to `size` readable bytes (the caller's buffer contract) and
    // `off + 4 <= size`; an unaligned read of plain bytes. No other thread writes these
    // bytes now: the queue protocol hands each region to one side at a time.
    Some(unsafe { base.add(off).cast::<u32>().read_unaligned() })
}

/// Write a native-endian `u32` at byte offset `off` of the C buffer `base` of `size` bytes
/// (see [`read_u32_at`]). False, writing nothing, when the 4 bytes are not inside it.
pub(crate) fn write_u32_at(base: *mut u8, size: usize, off: usize, v: u32) -> bool {
    if base.is_null() || size > isize::MAX as usize || off.checked_add(4).is_none_or(|e| e > size) {
        return false;
    }
    // SAFETY: as in `read_u32_at`, for writable bytes the producer owns now.
    unsafe { base.add(off).cast::<u32>().write_unaligned(v) };
    true
}

/// A copy of `n` values of C memory at `ptr` (NULL or misaligned with `n > 0`: an error).
/// For inputs that may overlap an output (micro-ecc's "can modify in place"): the copy is
/// taken before anything is written, and no reference into the C memory outlives this call.
#[cfg_attr(not(feature = "crypto"), allow(dead_code))]
pub(crate) fn copy_in<T: Copy>(ptr: *const T, n: usize) -> Result<alloc::vec::Vec<T>, c_int> {
    if n == 0 {
        return Ok(alloc::vec::Vec::new());
    }
    if ptr.is_null() || !ptr.is_aligned() || n > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: the caller promised `n` readable, initialised values at the non-NULL, aligned
    // `ptr` for the duration of the call; the slice is copied and dropped here.
    Ok(unsafe { core::slice::from_raw_parts(ptr, n) }.to_vec())
}

/// Write `src` to C memory at `ptr` (NULL or misaligned with a non-empty `src`: an error).
/// No Rust reference to the destination is created, so it may be memory an input was copied
/// from with [`copy_in`].
#[cfg_attr(not(feature = "crypto"), allow(dead_code))]
pub(crate) fn copy_out<T: Copy>(ptr: *mut T, src: &[T]) -> Result<(), c_int> {
    if src.is_empty() {
        return Ok(());
    }
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(MG_ERR_INVALID);
    }
    // SAFETY: the caller promised `src.len()` writable values at `ptr`; `src` is Rust-owned
    // memory, so the two do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), ptr, src.len()) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_with_length_is_invalid_and_null_empty_is_empty() {
        assert_eq!(slice(core::ptr::null(), 0).unwrap(), &[] as &[u8]);
        assert_eq!(slice(core::ptr::null(), 1), Err(MG_ERR_INVALID));
        assert_eq!(slice(b"x".as_ptr().cast(), usize::MAX), Err(MG_ERR_INVALID));
        assert_eq!(cstr_bytes(core::ptr::null()), Err(MG_ERR_INVALID));
    }

    /// The C strings: the bytes before the first NUL (none for `""`), whatever they are;
    /// NULL an error, or empty where it is optional; UTF-8 checked only where asked.
    #[test]
    fn c_strings_are_their_bytes_up_to_the_nul() {
        assert_eq!(cstr_bytes(c"".as_ptr()), Ok(&b""[..]));
        assert_eq!(cstr_bytes(c"GET /\xff?".as_ptr()), Ok(&b"GET /\xff?"[..]));
        let inner_nul: [u8; 6] = *b"ab\0cd\0";
        assert_eq!(cstr_bytes(inner_nul.as_ptr().cast()), Ok(&b"ab"[..]));
        assert_eq!(cstr_bytes_or_empty(core::ptr::null()), b"");
        assert_eq!(cstr_bytes_or_empty(c"x".as_ptr()), b"x");
        assert_eq!(cstr_utf8(c"caf\u{e9}".as_ptr()), Ok("caf\u{e9}"));
        assert_eq!(cstr_utf8(c"\xff".as_ptr()), Err(MG_ERR_INVALID));
        assert_eq!(cstr_utf8(core::ptr::null()), Err(MG_ERR_INVALID));
    }

    #[test]
    fn copy_to_cbuf_truncates_and_terminates() {
        let mut buf = [0x55 as c_char; 4];
        assert_eq!(copy_to_cbuf(b"hello", buf.as_mut_ptr(), 4), Ok(5));
        assert_eq!(&buf, &[b'h' as c_char, b'e' as c_char, b'l' as c_char, 0]);
        assert_eq!(copy_to_cbuf(b"hello", core::ptr::null_mut(), 0), Ok(5));
        // A "large enough" size is a bound, not a claim on that much memory.
        let mut big = [0x55 as c_char; 8];
        assert_eq!(copy_to_cbuf(b"hi", big.as_mut_ptr(), usize::MAX), Ok(2));
        assert_eq!(&big[..4], &[b'h' as c_char, b'i' as c_char, 0, 0x55]);
    }
}
