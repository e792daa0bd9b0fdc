//! MD5 for C with Mongoose 7.22's names: `mg_md5_init`, `mg_md5_update`, `mg_md5_final`.
//! The digest is `util::md5` (plain integer code, RFC 1321).
//!
//! The context has Mongoose's layout (88 bytes), with meerkat's meaning for the fields, as
//! for the SHA contexts (`ffi::hash`): the chaining state, the message length in bits and
//! the pending bytes, all plain integers, so any bytes the caller leaves in it are a valid
//! value (a wrong digest, never undefined behaviour). The buffer position is derived from
//! the length, never trusted. Pure functions: any thread, nothing retained.

use core::ffi::c_uchar;

use super::cast;
use super::guard;
use crate::util::{codec, md5};

/// MD5 state (Mongoose 7.22 layout: 88 bytes). Fields are meerkat's own: do not read them.
/// `mongoose.h` also declares the `mg_md5_ctx` typedef.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_md5_ctx {
    /// Chaining state.
    pub buf: [u32; 4],
    /// Message length in bits: low word, high word.
    pub bits: [u32; 2],
    /// Bytes not yet compressed (the first `bits / 8 % 64`).
    pub r#in: [c_uchar; 64],
}
const _: () = assert!(core::mem::size_of::<mg_md5_ctx>() == 16 + 8 + 64);

fn total_bytes(c: &mg_md5_ctx) -> u64 {
    (u64::from(c.bits[0]) | u64::from(c.bits[1]) << 32) / 8
}

/// `mg_md5_init(ctx)`: start an MD5 hash. NULL is ignored. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_md5_init(ctx: *mut mg_md5_ctx) {
    guard(|| {
        if let Ok(c) = cast::as_mut(ctx) {
            *c = mg_md5_ctx {
                buf: md5::IV,
                bits: [0; 2],
                r#in: [0; 64],
            };
        }
    })
}

/// `mg_md5_update(ctx, data, len)`: hash `len` more bytes at `data`. A NULL `ctx` or a
/// `(NULL, len > 0)` buffer does nothing. Not retained. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_md5_update(ctx: *mut mg_md5_ctx, data: *const c_uchar, len: usize) {
    guard(|| {
        let (Ok(c), Ok(d)) = (cast::as_mut(ctx), cast::slice(data.cast(), len)) else {
            return;
        };
        let total = total_bytes(c);
        codec::md_update(&mut c.r#in, u128::from(total), d, |b| md5::compress(&mut c.buf, b));
        let bits = total.wrapping_add(d.len() as u64).wrapping_mul(8);
        c.bits = [bits as u32, (bits >> 32) as u32];
    })
}

/// `mg_md5_final(ctx, digest)`: write the 16-byte MD5 of everything hashed to `digest` and
/// wipe `ctx` (call `mg_md5_init` to reuse it). Note the argument order, Mongoose's: the
/// context first (the SHA calls take the digest first). NULL arguments do nothing.
/// Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_md5_final(ctx: *mut mg_md5_ctx, digest: *mut c_uchar) {
    guard(|| {
        let (Ok(c), Ok(out)) = (cast::as_mut(ctx), cast::slice_mut(digest.cast(), 16)) else {
            return;
        };
        let total = total_bytes(c);
        out.copy_from_slice(&md5::finish(&mut c.buf, &mut c.r#in, total));
        *c = mg_md5_ctx {
            buf: [0; 4],
            bits: [0; 2],
            r#in: [0; 64],
        };
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5_stream(parts: &[&[u8]]) -> String {
        let mut c = core::mem::MaybeUninit::<mg_md5_ctx>::zeroed();
        let c = c.as_mut_ptr();
        mg_md5_init(c);
        for p in parts {
            mg_md5_update(c, p.as_ptr(), p.len());
        }
        let mut d = [0u8; 16];
        mg_md5_final(c, d.as_mut_ptr());
        d.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn streaming_matches_rfc1321_and_one_shot() {
        assert_eq!(
            md5_stream(&[b"mess", b"age digest"]),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        assert_eq!(md5_stream(&[]), "d41d8cd98f00b204e9800998ecf8427e");
        let msg: Vec<u8> = (0..200u32).map(|i| (i * 7 % 256) as u8).collect();
        for len in 0..msg.len() {
            let m = &msg[..len];
            let split = len * 5 / 9;
            let want: String = md5::digest(m).iter().map(|x| format!("{x:02x}")).collect();
            assert_eq!(md5_stream(&[&m[..split], &m[split..]]), want, "len {len}");
        }
    }

    #[test]
    fn garbage_context_and_nulls_are_harmless() {
        let mut c = mg_md5_ctx {
            buf: [u32::MAX; 4],
            bits: [u32::MAX; 2],
            r#in: [0xff; 64],
        };
        mg_md5_update(&mut c, b"xyz".as_ptr(), 3);
        let mut d = [0u8; 16];
        mg_md5_final(&mut c, d.as_mut_ptr());
        mg_md5_update(core::ptr::null_mut(), b"x".as_ptr(), 1);
        mg_md5_update(&mut c, core::ptr::null(), 5);
        mg_md5_final(&mut c, core::ptr::null_mut());
    }
}
