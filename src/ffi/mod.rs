//! The C boundary.
//!
//! Rules every exported function follows:
//! - The body runs inside [`guard`], the one panic boundary: a panic never unwinds into C;
//!   the function returns the fallback of its return type ([`Fallback`]): `MG_ERR_INTERNAL`
//!   for `int`, NULL for pointers, the zero handle, an empty `mg_str`.
//! - Every pointer, length and string from C is turned into a Rust value by the helpers in
//!   [`cast`] (the only place with `from_raw_parts` / pointer dereferences of C memory).
//!   A (NULL, 0) pair is an empty slice; (NULL, n > 0) is `MG_ERR_INVALID`.
//! - Out-parameters come last and are written only on success.
//! - No Rust reference into manager state is held while C code runs (see `mgr::dispatch`).

pub(crate) mod callback;
pub(crate) mod cast;
pub mod error;
pub(crate) mod registry;
pub mod types;

pub mod compat;
pub mod conn;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod dash;
pub mod dns;
pub mod fs;
pub mod hash;
pub mod http;
pub mod json;
pub mod log;
pub mod md5;
pub mod mem;
pub mod mgr;
pub mod misc;
pub mod modbus;
pub mod mqtt;
pub mod net;
pub mod print;
pub mod queue;
pub mod rpc;
pub mod serve;
pub mod sntp;
pub mod str;
pub mod timer;
pub mod timer_list;
pub mod tls;
pub mod upload;
pub mod url;
pub mod util;
pub mod ws;

use core::ffi::{c_char, c_int};
#[cfg(feature = "std")]
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cfg(all(not(feature = "std"), not(test)))]
mod nostd;

pub use error::*;
pub use types::*;

/// The value an exported function returns when its body panicked.
pub trait Fallback {
    fn fallback() -> Self;
}

impl Fallback for c_int {
    fn fallback() -> Self {
        crate::ffi::error::MG_ERR_INTERNAL
    }
}
impl Fallback for () {
    fn fallback() -> Self {}
}
impl Fallback for bool {
    fn fallback() -> Self {
        false
    }
}
macro_rules! zero_fallback {
    ($($t:ty),*) => {$(
        impl Fallback for $t {
            fn fallback() -> Self {
                0
            }
        }
    )*};
}
zero_fallback!(u8, u16, u32, u64, usize, i8, i16, i64, isize);
impl<T> Fallback for Option<T> {
    fn fallback() -> Self {
        None
    }
}
impl<T> Fallback for *mut T {
    fn fallback() -> Self {
        core::ptr::null_mut()
    }
}
impl<T> Fallback for *const T {
    fn fallback() -> Self {
        core::ptr::null()
    }
}

/// Run an exported function's body; a panic becomes the return type's fallback value.
/// Without std there is no unwinding: a panic ends in the panic handler (`ffi/nostd.rs`),
/// which calls the C hook `mg_abort_hook`.
#[cfg(not(feature = "std"))]
#[inline]
pub fn guard<R: Fallback>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Run an exported function's body; a panic becomes the return type's fallback value.
#[cfg(feature = "std")]
#[inline]
pub fn guard<R: Fallback>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            crate::mlog!(crate::log::LL_ERROR; "internal error caught at the C boundary");
            R::fallback()
        }
    }
}

/// Like [`guard`] for bodies written with `?`: `Err(code)` becomes the negative code.
#[inline]
pub fn guard_code(f: impl FnOnce() -> Result<c_int, c_int>) -> c_int {
    guard(|| match f() {
        Ok(v) => v,
        Err(e) => e,
    })
}

/// `mg_strerror(code)`: a static NUL-terminated message for any integer. Any thread.
#[no_mangle]
pub extern "C" fn mg_strerror(code: c_int) -> *const c_char {
    guard(|| crate::ffi::error::strerror(code).as_ptr())
}
