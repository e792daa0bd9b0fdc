//! The primitives of Mongoose 7.22's built-in TLS stack that firmware calls directly, with
//! its names, signatures and return conventions (feature `crypto`): micro-ecc
//! (`mg_uecc_*`, secp256r1 and secp384r1, and the `mg_uecc_vli_*` big-integer helpers),
//! AES-GCM, ChaCha20-Poly1305, X25519 and RSA. The logic is `util::crypto`, on RustCrypto;
//! this file converts C memory.
//!
//! Conventions of these functions (Mongoose's, not meerkat.h's `MG_ERR_*`): `mg_uecc_*`
//! return 1 for success and 0 for failure; `mg_aes_gcm_*`, `mg_tls_x25519` and
//! `mg_rsa_mod_pow`/`mg_rsa_crt_sign` 0 and -1; the ChaCha20-Poly1305 calls a length or
//! `(size_t) -1`; the RSA verifiers `bool`. A NULL pointer or an unknown curve is a failure,
//! never a crash. Inputs are read before outputs are written, so an output may be the same
//! buffer as an input (except where noted). Nothing is retained. Thread: any thread.

// Mongoose's parameter names (dP, qInv) and micro-ecc's type names.
#![allow(non_snake_case, non_camel_case_types)]

use core::ffi::{c_int, c_uchar, c_uint};

use super::cast;
use super::guard;
use crate::prelude::*;
use crate::util::clock;
use crate::util::crypto::{aead, ecc, ecc::Curve, rsa, vli, x25519};
use zeroize::Zeroizing;

/// A copy of secret C memory (a private key, a symmetric key, plaintext), wiped when dropped.
fn secret_in(ptr: *const u8, n: usize) -> Result<Zeroizing<Vec<u8>>, c_int> {
    cast::copy_in(ptr, n).map(Zeroizing::new)
}

/// A micro-ecc word (`MG_UECC_WORD_SIZE` bytes: 8 on x86-64 and AArch64, else 4); declared
/// in the header's prelude, with Mongoose's platform detection.
pub type mg_uecc_word_t = vli::Word;

/// A curve (opaque): get one from `mg_uecc_secp256r1()` or `mg_uecc_secp384r1()`.
// Holds the constants only: the arithmetic is reached through `CURVES`, which the accessor
// fills, so that a program links the curves it asks for and no other.
pub struct MG_UECC_Curve_t {
    index: usize,
    p: &'static [vli::Word],
    n: &'static [vli::Word],
    g: &'static [vli::Word],
    b: &'static [vli::Word],
}

/// A curve handle: one of the pointers `mg_uecc_secp256r1()` and `mg_uecc_secp384r1()`
/// return. Any other value is refused by every function.
pub type MG_UECC_Curve = *const MG_UECC_Curve_t;

const W256: usize = 32 / vli::WORD_BYTES;
const W384: usize = 48 / vli::WORD_BYTES;
static P256_P: [vli::Word; W256] = vli::const_words(ecc::P256.p);
static P256_N: [vli::Word; W256] = vli::const_words(ecc::P256.n);
static P256_B: [vli::Word; W256] = vli::const_words(ecc::P256.b);
static P256_G: [vli::Word; 2 * W256] = point_words::<W256, { 2 * W256 }>(ecc::P256.g);
static P384_P: [vli::Word; W384] = vli::const_words(ecc::P384.p);
static P384_N: [vli::Word; W384] = vli::const_words(ecc::P384.n);
static P384_B: [vli::Word; W384] = vli::const_words(ecc::P384.b);
static P384_G: [vli::Word; 2 * W384] = point_words::<W384, { 2 * W384 }>(ecc::P384.g);

/// micro-ecc's point layout: X's words then Y's, each least significant word first.
const fn point_words<const W: usize, const W2: usize>(xy: &[u8]) -> [vli::Word; W2] {
    let (x, y) = xy.split_at(xy.len() / 2);
    let xw: [vli::Word; W] = vli::const_words(x);
    let yw: [vli::Word; W] = vli::const_words(y);
    let mut out = [0; W2];
    let mut i = 0;
    while i < W {
        out[i] = xw[i];
        out[W + i] = yw[i];
        i += 1;
    }
    out
}

static SECP256R1: MG_UECC_Curve_t = MG_UECC_Curve_t {
    index: 0,
    p: &P256_P,
    n: &P256_N,
    g: &P256_G,
    b: &P256_B,
};
static SECP384R1: MG_UECC_Curve_t = MG_UECC_Curve_t {
    index: 1,
    p: &P384_P,
    n: &P384_N,
    g: &P384_G,
    b: &P384_B,
};

/// The arithmetic of each curve whose accessor has been called (the only way to hold its
/// handle).
static CURVES: spin::Mutex<[Option<Curve>; 2]> = spin::Mutex::new([None, None]);

/// A curve handle's constants and arithmetic, without reading C memory: only meerkat's two
/// pointers count.
struct Known {
    curve: Curve,
    p: &'static [vli::Word],
    n: &'static [vli::Word],
    g: &'static [vli::Word],
    b: &'static [vli::Word],
}

fn curve_of(c: MG_UECC_Curve) -> Option<Known> {
    let k = [&SECP256R1, &SECP384R1].into_iter().find(|k| core::ptr::eq(*k, c))?;
    let curve = CURVES.lock()[k.index]?;
    Some(Known {
        curve,
        p: k.p,
        n: k.n,
        g: k.g,
        b: k.b,
    })
}

/// `mg_uecc_secp256r1()`: the NIST P-256 curve handle. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_secp256r1() -> MG_UECC_Curve {
    guard(|| {
        CURVES.lock()[0] = Some(Curve::P256);
        &SECP256R1 as MG_UECC_Curve
    })
}

/// `mg_uecc_secp384r1()`: the NIST P-384 curve handle. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_secp384r1() -> MG_UECC_Curve {
    guard(|| {
        CURVES.lock()[1] = Some(Curve::P384);
        &SECP384R1 as MG_UECC_Curve
    })
}

/// micro-ecc's random-number callback: fill `size` bytes at `dest`, return 1, or 0 when it
/// cannot.
pub type MG_UECC_RNG_Function = Option<unsafe extern "C" fn(dest: *mut u8, size: c_uint) -> c_int>;

static RNG: spin::Mutex<MG_UECC_RNG_Function> = spin::Mutex::new(None);

/// `mg_uecc_set_rng(fn)`: the random source of `mg_uecc_make_key`, `mg_uecc_sign` and
/// `mg_uecc_generate_random_int`; NULL (the default) uses `mg_random` (the operating
/// system's source or the one `mg_set_random_fn` installed). Process-wide; any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_set_rng(rng_function: MG_UECC_RNG_Function) {
    guard(|| *RNG.lock() = rng_function)
}

/// `mg_uecc_get_rng()`: the function `mg_uecc_set_rng` installed, or NULL. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_get_rng() -> MG_UECC_RNG_Function {
    guard(|| *RNG.lock())
}

/// The random source as the core wants it: fill, or say it cannot.
fn rng() -> impl FnMut(&mut [u8]) -> bool {
    let f = *RNG.lock();
    move |buf: &mut [u8]| match f {
        Some(f) => {
            let Ok(len) = c_uint::try_from(buf.len()) else {
                return false;
            };
            // SAFETY: a C RNG callback installed with mg_uecc_set_rng, given a buffer of
            // exactly `len` writable bytes, as its contract says.
            unsafe { f(buf.as_mut_ptr(), len) != 0 }
        }
        None => {
            clock::random(buf);
            true
        }
    }
}

/// `mg_uecc_curve_private_key_size(curve)`: 32 or 48; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_private_key_size(curve: MG_UECC_Curve) -> c_int {
    guard(|| curve_of(curve).map_or(0, |c| c.curve.bytes() as c_int))
}

/// `mg_uecc_curve_public_key_size(curve)`: 64 or 96 (X || Y); 0 for an unknown curve.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_public_key_size(curve: MG_UECC_Curve) -> c_int {
    guard(|| curve_of(curve).map_or(0, |c| 2 * c.curve.bytes() as c_int))
}

/// Run `f` with the curve and its size N, 0 for a NULL/unknown curve or a C buffer error.
fn with_curve(curve: MG_UECC_Curve, f: impl FnOnce(Curve, usize) -> Result<bool, c_int>) -> c_int {
    guard(|| match curve_of(curve) {
        Some(c) => f(c.curve, c.curve.bytes()).map_or(0, c_int::from),
        None => 0,
    })
}

/// `mg_uecc_make_key(public_key, private_key, curve)`: a new key pair from the RNG
/// (`mg_uecc_set_rng`, else `mg_random`): `public_key` gets 2N bytes (X || Y, big-endian),
/// `private_key` N bytes (N = 32 for secp256r1). 1 on success, 0 on failure (RNG failure,
/// NULL, unknown curve); outputs are written only on success.
#[no_mangle]
pub extern "C" fn mg_uecc_make_key(public_key: *mut u8, private_key: *mut u8, curve: MG_UECC_Curve) -> c_int {
    with_curve(curve, |c, n| {
        let (mut pk, mut sk) = (vec![0u8; 2 * n], Zeroizing::new(vec![0u8; n]));
        if !ecc::make_key(c, &mut rng(), &mut pk, &mut sk) {
            return Ok(false);
        }
        cast::copy_out(public_key, &pk)?;
        cast::copy_out(private_key, &sk)?;
        Ok(true)
    })
}

/// `mg_uecc_shared_secret(public_key, private_key, secret, curve)`: ECDH; `secret` gets the
/// N-byte X coordinate of `private_key * public_key`. 1 on success; 0 when the public key is
/// not a point of the curve or the private key is not in 1..n-1 (micro-ecc computes with an
/// invalid public key; meerkat refuses it), or for NULL/unknown curve.
#[no_mangle]
pub extern "C" fn mg_uecc_shared_secret(
    public_key: *const u8,
    private_key: *const u8,
    secret: *mut u8,
    curve: MG_UECC_Curve,
) -> c_int {
    with_curve(curve, |c, n| {
        let pk = cast::copy_in(public_key, 2 * n)?;
        let sk = secret_in(private_key, n)?;
        let mut out = Zeroizing::new(vec![0u8; n]);
        if !ecc::shared_secret(c, &pk, &sk, &mut out) {
            return Ok(false);
        }
        cast::copy_out(secret, &out)?;
        Ok(true)
    })
}

/// `mg_uecc_compress(public_key, compressed, curve)`: `compressed` (N + 1 bytes) gets 0x02
/// or 0x03 (Y's parity) followed by X. No validation, as micro-ecc. NULL does nothing.
#[no_mangle]
pub extern "C" fn mg_uecc_compress(public_key: *const u8, compressed: *mut u8, curve: MG_UECC_Curve) {
    with_curve(curve, |c, n| {
        let pk = cast::copy_in(public_key, 2 * n)?;
        let mut out = vec![0u8; n + 1];
        ecc::compress(c, &pk, &mut out);
        cast::copy_out(compressed, &out)?;
        Ok(true)
    });
}

/// `mg_uecc_decompress(compressed, public_key, curve)`: `public_key` (2N bytes) gets X || Y
/// of the compressed key. When `compressed` is not a point of the curve (bad prefix, X with
/// no square root) `public_key` is zero-filled, which `mg_uecc_valid_public_key` rejects
/// (micro-ecc writes a meaningless point). NULL does nothing.
#[no_mangle]
pub extern "C" fn mg_uecc_decompress(compressed: *const u8, public_key: *mut u8, curve: MG_UECC_Curve) {
    with_curve(curve, |c, n| {
        let cp = cast::copy_in(compressed, n + 1)?;
        let mut out = vec![0u8; 2 * n];
        if !ecc::decompress(c, &cp, &mut out) {
            out.fill(0);
        }
        cast::copy_out(public_key, &out)?;
        Ok(true)
    });
}

/// `mg_uecc_valid_public_key(public_key, curve)`: 1 when X || Y is a point of the curve
/// (coordinates below p, not the point at infinity), else 0.
#[no_mangle]
pub extern "C" fn mg_uecc_valid_public_key(public_key: *const u8, curve: MG_UECC_Curve) -> c_int {
    with_curve(curve, |c, n| {
        Ok(ecc::valid_public(c, &cast::copy_in(public_key, 2 * n)?))
    })
}

/// `mg_uecc_compute_public_key(private_key, public_key, curve)`: `public_key` (2N bytes) =
/// `private_key * G`. 1 on success, 0 when the private key is not in 1..n-1.
#[no_mangle]
pub extern "C" fn mg_uecc_compute_public_key(
    private_key: *const u8,
    public_key: *mut u8,
    curve: MG_UECC_Curve,
) -> c_int {
    with_curve(curve, |c, n| {
        let sk = secret_in(private_key, n)?;
        let mut out = vec![0u8; 2 * n];
        if !ecc::compute_public(c, &sk, &mut out) {
            return Ok(false);
        }
        cast::copy_out(public_key, &out)?;
        Ok(true)
    })
}

/// `mg_uecc_sign(private_key, message_hash, hash_size, signature, curve)`: ECDSA signature
/// r || s (2N bytes, big-endian) of the hash (its leftmost N bytes when longer; left-padded
/// when shorter) with a random k from the RNG. 1 on success, 0 on failure (invalid private
/// key, RNG failure, NULL, unknown curve); `signature` is written only on success.
#[no_mangle]
pub extern "C" fn mg_uecc_sign(
    private_key: *const u8,
    message_hash: *const u8,
    hash_size: c_uint,
    signature: *mut u8,
    curve: MG_UECC_Curve,
) -> c_int {
    with_curve(curve, |c, n| {
        let sk = secret_in(private_key, n)?;
        let h = cast::copy_in(message_hash, hash_size as usize)?;
        let mut sig = vec![0u8; 2 * n];
        if !ecc::sign(c, &sk, &h, &mut rng(), &mut sig) {
            return Ok(false);
        }
        cast::copy_out(signature, &sig)?;
        Ok(true)
    })
}

/// micro-ecc's hash interface for `mg_uecc_sign_deterministic`: the three callbacks receive
/// the pointer to this struct the caller passed (so a caller's larger struct that begins with
/// it reaches its own hash state). `block_size` and `result_size` are the hash's (64 and 32
/// for SHA-256; at most 128 and 64). meerkat does not use `tmp` (it keeps K and V itself).
#[repr(C)]
pub struct MG_UECC_HashContext {
    /// Start a hash.
    pub init_hash: Option<unsafe extern "C" fn(context: *const MG_UECC_HashContext)>,
    /// Hash `message_size` more bytes.
    pub update_hash:
        Option<unsafe extern "C" fn(context: *const MG_UECC_HashContext, message: *const u8, message_size: c_uint)>,
    /// Write `result_size` bytes of digest.
    pub finish_hash: Option<unsafe extern "C" fn(context: *const MG_UECC_HashContext, hash_result: *mut u8)>,
    /// The hash's block size in bytes.
    pub block_size: c_uint,
    /// The hash's output size in bytes.
    pub result_size: c_uint,
    /// micro-ecc's scratch buffer (2 * result_size + block_size bytes); unused by meerkat.
    pub tmp: *mut u8,
}

type InitFn = unsafe extern "C" fn(*const MG_UECC_HashContext);
type UpdateFn = unsafe extern "C" fn(*const MG_UECC_HashContext, *const u8, c_uint);
type FinishFn = unsafe extern "C" fn(*const MG_UECC_HashContext, *mut u8);

/// The C hash as the core's [`ecc::Hasher`].
struct CHash {
    ctx: *const MG_UECC_HashContext,
    init: InitFn,
    update: UpdateFn,
    finish: FinishFn,
    block: usize,
    result: usize,
}

impl ecc::Hasher for CHash {
    fn block_size(&self) -> usize {
        self.block
    }
    fn result_size(&self) -> usize {
        self.result
    }
    fn init(&self) {
        // SAFETY: the caller's init callback, given the context pointer it passed us.
        unsafe { (self.init)(self.ctx) }
    }
    fn update(&self, data: &[u8]) {
        for chunk in data.chunks(c_uint::MAX as usize) {
            // SAFETY: the caller's update callback with the context pointer and a readable
            // buffer of exactly the length given.
            unsafe { (self.update)(self.ctx, chunk.as_ptr(), chunk.len() as c_uint) }
        }
    }
    fn finish(&self, out: &mut [u8]) {
        // The callback writes result_size bytes: give it a buffer of that size.
        let mut buf = [0u8; ecc::MAX_HASH];
        // SAFETY: the caller's finish callback, given MAX_HASH >= result_size writable bytes.
        unsafe { (self.finish)(self.ctx, buf.as_mut_ptr()) };
        let n = out.len().min(self.result);
        out[..n].copy_from_slice(&buf[..n]);
    }
}

/// `mg_uecc_sign_deterministic(private_key, message_hash, hash_size, hash_context,
/// signature, curve)`: ECDSA with RFC 6979's deterministic k, its HMAC built on the caller's
/// hash. The signatures are RFC 6979's (its published test vectors); Mongoose's micro-ecc
/// reads the generated k in native word order and so signs with a different, equally valid
/// k. 1 on success; 0 for an invalid private key, a context with a NULL callback or sizes
/// out of range, NULL, unknown curve.
#[no_mangle]
pub extern "C" fn mg_uecc_sign_deterministic(
    private_key: *const u8,
    message_hash: *const u8,
    hash_size: c_uint,
    hash_context: *const MG_UECC_HashContext,
    signature: *mut u8,
    curve: MG_UECC_Curve,
) -> c_int {
    with_curve(curve, |c, n| {
        let sk = secret_in(private_key, n)?;
        let h = cast::copy_in(message_hash, hash_size as usize)?;
        let ctx = cast::as_ref(hash_context)?;
        let (Some(init), Some(update), Some(finish)) = (ctx.init_hash, ctx.update_hash, ctx.finish_hash) else {
            return Ok(false);
        };
        let hasher = CHash {
            ctx: hash_context,
            init,
            update,
            finish,
            block: ctx.block_size as usize,
            result: ctx.result_size as usize,
        };
        let mut sig = vec![0u8; 2 * n];
        if !ecc::sign_deterministic(c, &sk, &h, &hasher, &mut sig) {
            return Ok(false);
        }
        cast::copy_out(signature, &sig)?;
        Ok(true)
    })
}

/// `mg_uecc_verify(public_key, message_hash, hash_size, signature, curve)`: 1 when the
/// signature r || s is valid for the hash and key; 0 otherwise (also for a public key off
/// the curve, r or s outside 1..n-1, NULL, unknown curve).
#[no_mangle]
pub extern "C" fn mg_uecc_verify(
    public_key: *const u8,
    message_hash: *const u8,
    hash_size: c_uint,
    signature: *const u8,
    curve: MG_UECC_Curve,
) -> c_int {
    with_curve(curve, |c, n| {
        let pk = cast::copy_in(public_key, 2 * n)?;
        let h = cast::copy_in(message_hash, hash_size as usize)?;
        let sig = cast::copy_in(signature, 2 * n)?;
        Ok(ecc::verify(c, &pk, &h, &sig))
    })
}

// ---- micro-ecc's VLI API (MG_UECC_ENABLE_VLI_API): integers as arrays of words, least
// significant first. `num_words` is micro-ecc's wordcount_t (int8_t): a negative count is 0.

fn nw(num_words: i8) -> usize {
    num_words.max(0) as usize
}

/// Run a word-array body; a C buffer error (NULL) makes it do nothing.
fn vguard<R: super::Fallback + Default>(f: impl FnOnce() -> Result<R, c_int>) -> R {
    guard(|| f().unwrap_or_default())
}

/// `mg_uecc_vli_clear(vli, num_words)`: `vli = 0`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_clear(vli: *mut mg_uecc_word_t, num_words: i8) {
    vguard(|| cast::copy_out(vli, &vec![0; nw(num_words)]))
}

/// `mg_uecc_vli_isZero(vli, num_words)`: 1 when `vli == 0`, else 0.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_isZero(vli: *const mg_uecc_word_t, num_words: i8) -> mg_uecc_word_t {
    vguard(|| Ok(vli::is_zero(&cast::copy_in(vli, nw(num_words))?).into()))
}

/// `mg_uecc_vli_testBit(vli, bit)`: non-zero (the bit's value in its word) when bit `bit`
/// is set. A negative `bit` gives 0.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_testBit(vli: *const mg_uecc_word_t, bit: i16) -> mg_uecc_word_t {
    vguard(|| {
        let Ok(bit) = usize::try_from(bit) else {
            return Ok(0);
        };
        let v = cast::copy_in(vli, bit / vli::WORD_BITS + 1)?;
        Ok(if vli::test_bit(&v, bit) {
            1 << (bit % vli::WORD_BITS)
        } else {
            0
        })
    })
}

/// `mg_uecc_vli_numBits(vli, max_words)`: the number of significant bits.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_numBits(vli: *const mg_uecc_word_t, max_words: i8) -> i16 {
    vguard(|| Ok(vli::num_bits(&cast::copy_in(vli, nw(max_words))?) as i16))
}

/// `mg_uecc_vli_set(dest, src, num_words)`: `dest = src`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_set(dest: *mut mg_uecc_word_t, src: *const mg_uecc_word_t, num_words: i8) {
    vguard(|| cast::copy_out(dest, &cast::copy_in(src, nw(num_words))?))
}

/// `mg_uecc_vli_equal(left, right, num_words)`: 1 when equal, else 0 (every word read).
#[no_mangle]
pub extern "C" fn mg_uecc_vli_equal(
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    num_words: i8,
) -> mg_uecc_word_t {
    vguard(|| {
        let n = nw(num_words);
        Ok(vli::equal(&cast::copy_in(left, n)?, &cast::copy_in(right, n)?).into())
    })
}

/// `mg_uecc_vli_cmp(left, right, num_words)`: the sign of `left - right` (-1, 0, 1).
#[no_mangle]
pub extern "C" fn mg_uecc_vli_cmp(left: *const mg_uecc_word_t, right: *const mg_uecc_word_t, num_words: i8) -> i8 {
    vguard(|| {
        let n = nw(num_words);
        Ok(vli::cmp(&cast::copy_in(left, n)?, &cast::copy_in(right, n)?))
    })
}

/// `mg_uecc_vli_rshift1(vli, num_words)`: `vli >>= 1`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_rshift1(vli: *mut mg_uecc_word_t, num_words: i8) {
    vguard(|| {
        let mut v = cast::copy_in(vli, nw(num_words))?;
        vli::rshift1(&mut v);
        cast::copy_out(vli, &v)
    })
}

fn binop(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    num_words: i8,
    f: fn(&mut [vli::Word], &[vli::Word], &[vli::Word]) -> vli::Word,
) -> mg_uecc_word_t {
    vguard(|| {
        let n = nw(num_words);
        let (l, r) = (cast::copy_in(left, n)?, cast::copy_in(right, n)?);
        let mut out = vec![0; n];
        let carry = f(&mut out, &l, &r);
        cast::copy_out(result, &out)?;
        Ok(carry)
    })
}

/// `mg_uecc_vli_add(result, left, right, num_words)`: `result = left + right`; returns the
/// carry. In place is fine.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_add(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    num_words: i8,
) -> mg_uecc_word_t {
    binop(result, left, right, num_words, vli::add)
}

/// `mg_uecc_vli_sub(result, left, right, num_words)`: `result = left - right`; returns the
/// borrow. In place is fine.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_sub(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    num_words: i8,
) -> mg_uecc_word_t {
    binop(result, left, right, num_words, vli::sub)
}

/// `mg_uecc_vli_mult(result, left, right, num_words)`: `result = left * right`; `result`
/// has `2 * num_words` words.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_mult(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    num_words: i8,
) {
    vguard(|| {
        let n = nw(num_words);
        let (l, r) = (cast::copy_in(left, n)?, cast::copy_in(right, n)?);
        let mut out = vec![0; 2 * n];
        vli::mult(&mut out, &l, &r);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_square(result, left, num_words)`: `result = left^2` (`2 * num_words` words).
#[no_mangle]
pub extern "C" fn mg_uecc_vli_square(result: *mut mg_uecc_word_t, left: *const mg_uecc_word_t, num_words: i8) {
    mg_uecc_vli_mult(result, left, left, num_words)
}

/// `f(result, left, right, mod)` of `util::crypto::vli`.
type ModFn = fn(&mut [vli::Word], &[vli::Word], &[vli::Word], &[vli::Word]);

fn modop(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    m: *const mg_uecc_word_t,
    num_words: i8,
    f: ModFn,
) {
    vguard(|| {
        let n = nw(num_words);
        let (l, r, m) = (cast::copy_in(left, n)?, cast::copy_in(right, n)?, cast::copy_in(m, n)?);
        let mut out = vec![0; n];
        f(&mut out, &l, &r, &m);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_modAdd(result, left, right, mod, num_words)`: `(left + right) % mod`, for
/// `left, right < mod`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modAdd(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    modop(result, left, right, r#mod, num_words, vli::mod_add)
}

/// `mg_uecc_vli_modSub(result, left, right, mod, num_words)`: `(left - right) % mod`, for
/// `left, right < mod`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modSub(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    modop(result, left, right, r#mod, num_words, vli::mod_sub)
}

/// `mg_uecc_vli_mmod(result, product, mod, num_words)`: `result = product % mod`, `product`
/// having `2 * num_words` words (not modified). Any non-zero modulus; 0 for a zero one.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_mmod(
    result: *mut mg_uecc_word_t,
    product: *mut mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    vguard(|| {
        let n = nw(num_words);
        let (p, m) = (cast::copy_in(product.cast_const(), 2 * n)?, cast::copy_in(r#mod, n)?);
        let mut out = vec![0; n];
        vli::mmod(&mut out, &p, &m);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_modMult(result, left, right, mod, num_words)`: `(left * right) % mod`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modMult(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    modop(result, left, right, r#mod, num_words, vli::mod_mult)
}

/// `mg_uecc_vli_modSquare(result, left, mod, num_words)`: `left^2 % mod`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modSquare(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    modop(result, left, left, r#mod, num_words, vli::mod_mult)
}

/// `mg_uecc_vli_modInv(result, input, mod, num_words)`: `1 / input % mod` for an odd
/// modulus (the curve's p or n); 0 for a zero input or an even modulus.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modInv(
    result: *mut mg_uecc_word_t,
    input: *const mg_uecc_word_t,
    r#mod: *const mg_uecc_word_t,
    num_words: i8,
) {
    vguard(|| {
        let n = nw(num_words);
        let (a, m) = (cast::copy_in(input, n)?, cast::copy_in(r#mod, n)?);
        let mut out = vec![0; n];
        vli::mod_inv(&mut out, &a, &m);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_mmod_fast(result, product, curve)`: `product % p` (`product` has twice the
/// curve's words). Same result as `mg_uecc_vli_mmod` with the curve's p.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_mmod_fast(
    result: *mut mg_uecc_word_t,
    product: *mut mg_uecc_word_t,
    curve: MG_UECC_Curve,
) {
    vguard(|| {
        let Some(c) = curve_of(curve) else {
            return Ok(());
        };
        let p = cast::copy_in(product.cast_const(), 2 * c.p.len())?;
        let mut out = vec![0; c.p.len()];
        vli::mmod(&mut out, &p, c.p);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_modMult_fast(result, left, right, curve)`: `(left * right) % p`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modMult_fast(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    right: *const mg_uecc_word_t,
    curve: MG_UECC_Curve,
) {
    vguard(|| {
        let Some(c) = curve_of(curve) else {
            return Ok(());
        };
        let n = c.p.len();
        let (l, r) = (cast::copy_in(left, n)?, cast::copy_in(right, n)?);
        let mut out = vec![0; n];
        vli::mod_mult(&mut out, &l, &r, c.p);
        cast::copy_out(result, &out)
    })
}

/// `mg_uecc_vli_modSquare_fast(result, left, curve)`: `left^2 % p`.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_modSquare_fast(
    result: *mut mg_uecc_word_t,
    left: *const mg_uecc_word_t,
    curve: MG_UECC_Curve,
) {
    mg_uecc_vli_modMult_fast(result, left, left, curve)
}

/// `mg_uecc_vli_mod_sqrt(a, curve)`: `a = sqrt(a) % p` (a square root when `a` is a
/// quadratic residue).
#[no_mangle]
pub extern "C" fn mg_uecc_vli_mod_sqrt(a: *mut mg_uecc_word_t, curve: MG_UECC_Curve) {
    vguard(|| {
        let Some(c) = curve_of(curve) else {
            return Ok(());
        };
        let mut v = cast::copy_in(a.cast_const(), c.p.len())?;
        vli::mod_sqrt(&mut v, c.p);
        cast::copy_out(a, &v)
    })
}

/// `mg_uecc_vli_nativeToBytes(bytes, num_bytes, native)`: `num_bytes` big-endian bytes of
/// the integer.
#[no_mangle]
pub extern "C" fn mg_uecc_vli_nativeToBytes(bytes: *mut u8, num_bytes: c_int, native: *const mg_uecc_word_t) {
    vguard(|| {
        let nb = num_bytes.max(0) as usize;
        let v = cast::copy_in(native, nb.div_ceil(vli::WORD_BYTES))?;
        let mut out = vec![0u8; nb];
        vli::to_bytes(&mut out, &v);
        cast::copy_out(bytes, &out)
    })
}

/// `mg_uecc_vli_bytesToNative(native, bytes, num_bytes)`: the integer from `num_bytes`
/// big-endian bytes (the `ceil(num_bytes / MG_UECC_WORD_SIZE)` words it covers are written).
#[no_mangle]
pub extern "C" fn mg_uecc_vli_bytesToNative(native: *mut mg_uecc_word_t, bytes: *const u8, num_bytes: c_int) {
    vguard(|| {
        let nb = num_bytes.max(0) as usize;
        let b = cast::copy_in(bytes, nb)?;
        cast::copy_out(native, &vli::words_from_be(&b))
    })
}

/// `mg_uecc_curve_num_words(curve)`: words of a coordinate; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_words(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| c.p.len() as c_uint))
}

/// `mg_uecc_curve_num_bytes(curve)`: bytes of a coordinate; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_bytes(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| c.curve.bytes() as c_uint))
}

/// `mg_uecc_curve_num_bits(curve)`: bits of p; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_bits(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| (c.curve.bytes() * 8) as c_uint))
}

/// `mg_uecc_curve_num_n_words(curve)`: words of the order n; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_n_words(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| c.n.len() as c_uint))
}

/// `mg_uecc_curve_num_n_bytes(curve)`: bytes of the order n; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_n_bytes(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| c.curve.bytes() as c_uint))
}

/// `mg_uecc_curve_num_n_bits(curve)`: bits of the order n; 0 for an unknown curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_num_n_bits(curve: MG_UECC_Curve) -> c_uint {
    guard(|| curve_of(curve).map_or(0, |c| (c.curve.bytes() * 8) as c_uint))
}

/// `mg_uecc_curve_p(curve)`: the field prime p in native words (static, read-only); NULL for an unknown
/// curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_p(curve: MG_UECC_Curve) -> *const mg_uecc_word_t {
    guard(|| curve_of(curve).map_or(core::ptr::null(), |c| c.p.as_ptr()))
}

/// `mg_uecc_curve_n(curve)`: the group order n in native words (static, read-only); NULL for an unknown
/// curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_n(curve: MG_UECC_Curve) -> *const mg_uecc_word_t {
    guard(|| curve_of(curve).map_or(core::ptr::null(), |c| c.n.as_ptr()))
}

/// `mg_uecc_curve_G(curve)`: the generator, X's words then Y's, in native words (static, read-only); NULL for an unknown
/// curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_G(curve: MG_UECC_Curve) -> *const mg_uecc_word_t {
    guard(|| curve_of(curve).map_or(core::ptr::null(), |c| c.g.as_ptr()))
}

/// `mg_uecc_curve_b(curve)`: the coefficient b in native words (static, read-only); NULL for an unknown
/// curve. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_curve_b(curve: MG_UECC_Curve) -> *const mg_uecc_word_t {
    guard(|| curve_of(curve).map_or(core::ptr::null(), |c| c.b.as_ptr()))
}

fn point_bytes(c: &Known, point: *const mg_uecc_word_t) -> Result<Vec<u8>, c_int> {
    let w = c.p.len();
    let pw = cast::copy_in(point, 2 * w)?;
    let n = c.curve.bytes();
    let mut xy = vec![0u8; 2 * n];
    vli::to_bytes(&mut xy[..n], &pw[..w]);
    vli::to_bytes(&mut xy[n..], &pw[w..]);
    Ok(xy)
}

/// `mg_uecc_valid_point(point, curve)`: 1 when the point (X's words then Y's) is on the
/// curve, not at infinity, with coordinates below p; else 0.
#[no_mangle]
pub extern "C" fn mg_uecc_valid_point(point: *const mg_uecc_word_t, curve: MG_UECC_Curve) -> c_int {
    guard(|| match curve_of(curve) {
        Some(c) => point_bytes(&c, point).map_or(0, |xy| ecc::valid_public(c.curve, &xy).into()),
        None => 0,
    })
}

/// `mg_uecc_point_mult(result, point, scalar, curve)`: `result = scalar * point` (points as
/// X's words then Y's; `scalar` has `mg_uecc_curve_num_n_words` words and is reduced mod n).
/// When the point is not on the curve or the product is the point at infinity, `result` is
/// zero-filled.
#[no_mangle]
pub extern "C" fn mg_uecc_point_mult(
    result: *mut mg_uecc_word_t,
    point: *const mg_uecc_word_t,
    scalar: *const mg_uecc_word_t,
    curve: MG_UECC_Curve,
) {
    vguard(|| {
        let Some(c) = curve_of(curve) else {
            return Ok(());
        };
        let n = c.curve.bytes();
        let xy = point_bytes(&c, point)?;
        let kw = cast::copy_in(scalar, c.n.len())?;
        let mut k = vec![0u8; n];
        vli::to_bytes(&mut k, &kw);
        let mut out = vec![0u8; 2 * n];
        if !ecc::point_mult(c.curve, &xy, &k, &mut out) {
            out.fill(0);
        }
        let w = c.p.len();
        let mut rw = vec![0; 2 * w];
        vli::from_bytes(&mut rw[..w], &out[..n]);
        vli::from_bytes(&mut rw[w..], &out[n..]);
        cast::copy_out(result, &rw)
    })
}

/// `mg_uecc_generate_random_int(random, top, num_words)`: a random integer in 1..top-1 from
/// the RNG (`mg_uecc_set_rng`, else `mg_random`), by rejection (at most 64 draws). 1 on
/// success, 0 on failure (RNG failure, `top` <= 1, NULL); `random` is written only on
/// success.
#[no_mangle]
pub extern "C" fn mg_uecc_generate_random_int(
    random: *mut mg_uecc_word_t,
    top: *const mg_uecc_word_t,
    num_words: i8,
) -> c_int {
    guard(|| {
        let n = nw(num_words);
        let Ok(t) = cast::copy_in(top, n) else {
            return 0;
        };
        let bits = vli::num_bits(&t);
        let mut next = rng();
        let mut bytes = vec![0u8; n * vli::WORD_BYTES];
        for _ in 0..ecc::MAX_TRIES {
            if n == 0 || !next(&mut bytes) {
                return 0;
            }
            let mut r = vli::words_from_be(&bytes);
            let excess = n * vli::WORD_BITS - bits;
            if excess >= vli::WORD_BITS {
                return 0;
            }
            r[n - 1] &= vli::Word::MAX >> excess;
            if !vli::is_zero(&r) && vli::cmp(&t, &r) == 1 {
                return cast::copy_out(random, &r).map_or(0, |_| 1);
            }
        }
        0
    })
}

// ---- AES-GCM, ChaCha20-Poly1305, X25519

/// `mg_gcm_initialize()`: nothing to set up in meerkat (Mongoose builds its AES tables);
/// returns 0. Calling it is harmless and optional.
#[no_mangle]
pub extern "C" fn mg_gcm_initialize() -> c_int {
    0
}

// Mongoose's parameter list, plus the direction.
#[allow(clippy::too_many_arguments)]
fn gcm(
    encrypt: bool,
    output: *mut c_uchar,
    input: *const c_uchar,
    input_length: usize,
    key: *const c_uchar,
    key_len: usize,
    iv: *const c_uchar,
    iv_len: usize,
    aead: *const c_uchar,
    aead_len: usize,
    tag: *mut c_uchar,
    tag_len: usize,
) -> c_int {
    guard(|| {
        let run = || -> Result<bool, c_int> {
            let mut data = secret_in(input, input_length)?;
            let k = secret_in(key, key_len)?;
            let n = cast::copy_in(iv, iv_len)?;
            let a = cast::copy_in(aead, aead_len)?;
            if encrypt {
                let mut t = vec![0u8; tag_len];
                if aead::gcm_encrypt(&k, &n, &a, &mut data, &mut t).is_err() {
                    return Ok(false);
                }
                cast::copy_out(output, &data)?;
                cast::copy_out(tag, &t)?;
            } else {
                let t = cast::copy_in(tag.cast_const(), tag_len)?;
                if aead::gcm_decrypt(&k, &n, &a, &mut data, &t).is_err() {
                    return Ok(false);
                }
                cast::copy_out(output, &data)?;
            }
            Ok(true)
        };
        match run() {
            Ok(true) => 0,
            _ => -1,
        }
    })
}

/// `mg_aes_gcm_encrypt(output, input, input_length, key, key_len, iv, iv_len, aead,
/// aead_len, tag, tag_len)`: AES-GCM (key of 16, 24 or 32 bytes, any non-empty IV):
/// `output` gets the `input_length` bytes of ciphertext (it may be `input`), `tag` the first
/// `tag_len` (at most 16) bytes of the tag over `aead` and the ciphertext. 0 on success, -1
/// for a bad key, IV or tag length or NULL (Mongoose computes with an unset key instead).
/// No `mg_gcm_initialize` needed.
#[no_mangle]
pub extern "C" fn mg_aes_gcm_encrypt(
    output: *mut c_uchar,
    input: *const c_uchar,
    input_length: usize,
    key: *const c_uchar,
    key_len: usize,
    iv: *const c_uchar,
    iv_len: usize,
    aead: *mut c_uchar,
    aead_len: usize,
    tag: *mut c_uchar,
    tag_len: usize,
) -> c_int {
    gcm(
        true,
        output,
        input,
        input_length,
        key,
        key_len,
        iv,
        iv_len,
        aead,
        aead_len,
        tag,
        tag_len,
    )
}

/// `mg_aes_gcm_decrypt(output, input, input_length, key, key_len, iv, iv_len, aead,
/// aead_len, tag, tag_len)`: checks the `tag_len`-byte tag (1 to 16) in constant time, then
/// writes the plaintext to `output`. 0 on success; -1 when the tag does not match (wrong
/// key, IV or aead, altered data), for bad lengths or NULL, and then `output` is untouched
/// (Mongoose writes the unauthenticated plaintext first, and accepts a 0-byte tag).
#[no_mangle]
pub extern "C" fn mg_aes_gcm_decrypt(
    output: *mut c_uchar,
    input: *const c_uchar,
    input_length: usize,
    key: *const c_uchar,
    key_len: usize,
    iv: *const c_uchar,
    iv_len: usize,
    aead: *mut c_uchar,
    aead_len: usize,
    tag: *const c_uchar,
    tag_len: usize,
) -> c_int {
    gcm(
        false,
        output,
        input,
        input_length,
        key,
        key_len,
        iv,
        iv_len,
        aead,
        aead_len,
        tag.cast_mut(),
        tag_len,
    )
}

fn overlap(a: *const u8, alen: usize, b: *const u8, blen: usize) -> bool {
    let (a, b) = (a as usize, b as usize);
    a < b.saturating_add(blen) && b < a.saturating_add(alen)
}

fn array<const N: usize>(p: *const u8) -> Result<Zeroizing<[u8; N]>, c_int> {
    let v = secret_in(p, N)?;
    let mut a = Zeroizing::new([0u8; N]);
    a.copy_from_slice(&v);
    Ok(a)
}

/// `mg_chacha20_poly1305_encrypt(cipher_text, key, nonce, ad, ad_size, plain_text,
/// plain_text_size)`: RFC 8439 AEAD with a 32-byte key and 12-byte nonce; `cipher_text`
/// gets the ciphertext followed by the 16-byte tag. Returns `plain_text_size + 16`, or
/// `(size_t) -1` when the buffers overlap (as Mongoose) or for NULL.
#[no_mangle]
pub extern "C" fn mg_chacha20_poly1305_encrypt(
    cipher_text: *mut u8,
    key: *const u8,
    nonce: *const u8,
    ad: *const u8,
    ad_size: usize,
    plain_text: *const u8,
    plain_text_size: usize,
) -> usize {
    guard(|| {
        let run = || -> Result<usize, c_int> {
            let out_len = plain_text_size.checked_add(16).ok_or(-1)?;
            if overlap(plain_text, plain_text_size, cipher_text, out_len) {
                return Err(-1);
            }
            let (k, n) = (array::<32>(key)?, array::<12>(nonce)?);
            let a = cast::copy_in(ad, ad_size)?;
            let mut data = secret_in(plain_text, plain_text_size)?;
            let tag = aead::chacha_encrypt(&k, &n, &a, &mut data).map_err(|_| -1)?;
            data.extend_from_slice(&tag);
            cast::copy_out(cipher_text, &data)?;
            Ok(out_len)
        };
        run().unwrap_or(usize::MAX)
    })
}

/// `mg_chacha20_poly1305_decrypt(plain_text, key, nonce, ad, ad_size, cipher_text,
/// cipher_text_size)`: checks the tag (the last 16 bytes of `cipher_text`), then writes the
/// `cipher_text_size - 16` bytes of plaintext. Returns that length, or `(size_t) -1` when
/// the tag does not match, the input is shorter than a tag (Mongoose underflows), the
/// buffers overlap, or for NULL; `plain_text` is then untouched.
#[no_mangle]
pub extern "C" fn mg_chacha20_poly1305_decrypt(
    plain_text: *mut u8,
    key: *const u8,
    nonce: *const u8,
    ad: *const u8,
    ad_size: usize,
    cipher_text: *const u8,
    cipher_text_size: usize,
) -> usize {
    guard(|| {
        let run = || -> Result<usize, c_int> {
            let len = cipher_text_size.checked_sub(16).ok_or(-1)?;
            if overlap(plain_text, len, cipher_text, cipher_text_size) {
                return Err(-1);
            }
            let (k, n) = (array::<32>(key)?, array::<12>(nonce)?);
            let a = cast::copy_in(ad, ad_size)?;
            let mut data = Zeroizing::new(cast::copy_in(cipher_text, cipher_text_size)?);
            let mut tag = [0u8; 16];
            tag.copy_from_slice(&data[len..]);
            data.truncate(len);
            aead::chacha_decrypt(&k, &n, &a, &mut data, &tag).map_err(|_| -1)?;
            cast::copy_out(plain_text, &data)?;
            Ok(len)
        };
        run().unwrap_or(usize::MAX)
    })
}

/// Mongoose's `X25519_BASE_POINT`: u = 9, the Curve25519 base point (declared by the
/// mongoose.h shim).
#[no_mangle]
pub static X25519_BASE_POINT: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

/// `mg_tls_x25519(out, scalar, x1, clamp)`: X25519 (RFC 7748), `out = scalar * x1`, all
/// 32-byte little-endian. With `clamp` non-zero the scalar is clamped and the result must
/// not be zero (a low-order `x1`): 0 on success, -1 then (`out` still written, as
/// Mongoose). With `clamp` zero the scalar's 256 bits are used as given and 0 is returned.
/// -1 for NULL.
#[no_mangle]
pub extern "C" fn mg_tls_x25519(out: *mut u8, scalar: *const u8, x1: *const u8, clamp: c_int) -> c_int {
    guard(|| {
        let run = || -> Result<bool, c_int> {
            let (s, u) = (array::<32>(scalar)?, array::<32>(x1)?);
            let (r, ok) = x25519::x25519(&s, &u, clamp != 0);
            let r = Zeroizing::new(r);
            cast::copy_out(out, &r[..])?;
            Ok(ok)
        };
        match run() {
            Ok(true) => 0,
            _ => -1,
        }
    })
}

// ---- RSA

/// `mg_rsa_mod_pow(mod, modsz, exp, expsz, msg, msgsz, out, outsz)`: `out = msg ^ exp mod
/// mod`, big-endian, constant time in the exponent's value. Mongoose's limits, after leading
/// zeros of `mod` and `exp` are ignored: an odd modulus of 256 to 512 bytes (2048 to 4096
/// bits), `exp` not longer, `msgsz` and `outsz` equal to the modulus' length, `msg < mod`.
/// 0 on success; -1 otherwise, with `out` zero-filled (when not NULL).
#[no_mangle]
pub extern "C" fn mg_rsa_mod_pow(
    r#mod: *const u8,
    modsz: usize,
    exp: *const u8,
    expsz: usize,
    msg: *const u8,
    msgsz: usize,
    out: *mut u8,
    outsz: usize,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return -1;
        }
        let run = || -> Result<bool, c_int> {
            let (m, e, x) = (
                cast::copy_in(r#mod, modsz)?,
                cast::copy_in(exp, expsz)?,
                cast::copy_in(msg, msgsz)?,
            );
            let mut o = vec![0u8; outsz];
            let ok = rsa::mod_pow(&m, &e, &x, &mut o);
            cast::copy_out(out, &o)?;
            Ok(ok)
        };
        match run() {
            Ok(true) => 0,
            Ok(false) => -1,
            Err(_) => {
                let _ = cast::copy_out(out, &vec![0u8; outsz]);
                -1
            }
        }
    })
}

/// `mg_rsa_crt_sign(em, em_len, dP, dP_len, dQ, dQ_len, p, p_len, q, q_len, qInv, qInv_len,
/// signature, sig_len)`: the RSA private-key operation on `em` (left-padded to `sig_len`,
/// which must be the byte length of n = p * q) by the CRT, with the result checked against
/// both primes. Limits as Mongoose: primes of 128 to 260 bytes, CRT exponents and qInv no
/// longer than their prime, `em` below n. 0 on success; -1 otherwise, `signature`
/// zero-filled.
#[no_mangle]
pub extern "C" fn mg_rsa_crt_sign(
    em: *const u8,
    em_len: usize,
    dP: *const u8,
    dP_len: usize,
    dQ: *const u8,
    dQ_len: usize,
    p: *const u8,
    p_len: usize,
    q: *const u8,
    q_len: usize,
    qInv: *const u8,
    qInv_len: usize,
    signature: *mut u8,
    sig_len: usize,
) -> c_int {
    guard(|| {
        if signature.is_null() {
            return -1;
        }
        let run = || -> Result<bool, c_int> {
            let e = cast::copy_in(em, em_len)?;
            let (dp, dq) = (secret_in(dP, dP_len)?, secret_in(dQ, dQ_len)?);
            let (pp, qq, qi) = (
                cast::copy_in(p, p_len)?,
                cast::copy_in(q, q_len)?,
                cast::copy_in(qInv, qInv_len)?,
            );
            let key = rsa::CrtKey {
                dp: &dp,
                dq: &dq,
                p: &pp,
                q: &qq,
                qinv: &qi,
            };
            let mut sig = vec![0u8; sig_len];
            let ok = rsa::crt_sign(&e, &key, &mut sig);
            cast::copy_out(signature, &sig)?;
            Ok(ok)
        };
        match run() {
            Ok(true) => 0,
            Ok(false) => -1,
            Err(_) => {
                let _ = cast::copy_out(signature, &vec![0u8; sig_len]);
                -1
            }
        }
    })
}

/// `mg_rsa_pkcs_verify(em, nlen, hash, hashlen)`: whether `em` (the `nlen`-byte result of
/// the public-key operation, e.g. `mg_rsa_mod_pow` with e) is the RSASSA-PKCS1-v1_5
/// encoding of the SHA-256 (`hashlen` 32) or SHA-384 (48) `hash`.
#[no_mangle]
pub extern "C" fn mg_rsa_pkcs_verify(em: *const u8, nlen: usize, hash: *const u8, hashlen: usize) -> bool {
    guard(|| match (cast::copy_in(em, nlen), cast::copy_in(hash, hashlen)) {
        (Ok(e), Ok(h)) => rsa::pkcs1_verify(&e, &h),
        _ => false,
    })
}

/// `mg_rsa_verify(em, nlen, mhash)`: whether `em` (the `nlen`-byte result of the public-key
/// operation, 66 to 512 bytes) is a valid RSASSA-PSS encoding (SHA-256, MGF1-SHA-256,
/// 32-byte salt: TLS 1.3's rsa_pss_rsae_sha256) of the 32-byte hash `mhash`. Out-of-range
/// lengths give false (Mongoose 7.22 returns true for them: `return -1` in a bool function).
#[no_mangle]
pub extern "C" fn mg_rsa_verify(em: *const u8, nlen: usize, mhash: *const u8) -> bool {
    guard(|| match (cast::copy_in(em, nlen), array::<32>(mhash)) {
        (Ok(e), Ok(h)) => rsa::pss_verify_sha256(&e, &h),
        _ => false,
    })
}

/// `mg_uecc_parse_private_key(key, buf, len)`: the 32-byte P-256 private scalar of `key`,
/// an `EC PRIVATE KEY` (SEC 1) or `PRIVATE KEY` (PKCS #8) in PEM, or either in DER, into
/// `buf`. Returns 32, or 0 when `buf` is NULL, `len` < 32, or the key is not a P-256 private
/// key (another curve, malformed, encrypted). Mongoose declares it with its built-in TLS;
/// here it comes with the `crypto` feature, for keys used with `mg_uecc_sign`. Any thread.
#[no_mangle]
pub extern "C" fn mg_uecc_parse_private_key(key: super::types::mg_str, buf: *mut u8, len: usize) -> usize {
    guard(|| {
        if buf.is_null() || len < 32 {
            return 0;
        }
        let Some(sk) = ecc::parse_p256_private_key(cast::mg_str_lenient(key)) else {
            return 0;
        };
        match cast::copy_out(buf, &sk[..]) {
            Ok(()) => 32,
            Err(_) => 0,
        }
    })
}
