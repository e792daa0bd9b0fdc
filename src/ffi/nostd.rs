//! What std provides and a no_std staticlib must bring itself: the panic handler and the
//! global allocator. Both go through C functions defined weak in the shim
//! (`src/shim/meerkat_shim.c`, declared in the header trailer), so firmware can override
//! them with its own strong definitions: `mg_abort_hook` (default `abort()`) and
//! `mg_alloc_hook` / `mg_realloc_hook` / `mg_free_hook` (default `malloc`, `realloc`,
//! `free`; e.g. `heap_caps_malloc` on ESP-IDF).
//!
//! Compiled only without the `std` feature (and outside unit tests, which link std).

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_void};

extern "C" {
    fn mg_abort_hook(msg: *const c_char, len: usize);
    fn mg_alloc_hook(size: usize) -> *mut c_void;
    fn mg_realloc_hook(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn mg_free_hook(ptr: *mut c_void);
}

/// A panic is an internal error: there is no unwinding without std (the footprint profile
/// builds with `panic = "abort"`). The message given to the hook is fixed, so that no
/// formatting code is pulled in for it; the hook must not return (if it does, the program
/// spins here).
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    const MSG: &[u8] = b"meerkat: internal error (panic)";
    // SAFETY: MSG is valid for its length; the hook reads it during the call.
    unsafe { mg_abort_hook(MSG.as_ptr().cast(), MSG.len()) };
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The alignment every `malloc` result has: 16 on 64-bit C libraries (glibc, musl,
/// newlib), 8 on 32-bit ones (ESP-IDF's heap gives 4 on some chips: layouts with more than
/// the hook is known to give take the over-allocating path).
const MALLOC_ALIGN: usize = if cfg!(target_pointer_width = "64") { 16 } else { 4 };

/// The allocator over the C hooks. Alignments above [`MALLOC_ALIGN`] over-allocate by the
/// alignment and keep the hook's pointer in the word just below the aligned block.
struct CAlloc;

// SAFETY: every block comes from the hooks (malloc semantics) and is returned to the hook
// it came from; over-aligned blocks record the original pointer below the aligned address,
// inside the over-allocation.
unsafe impl GlobalAlloc for CAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: plain allocation of layout.size() bytes (never 0 for GlobalAlloc).
            return unsafe { mg_alloc_hook(layout.size()) }.cast();
        }
        let word = core::mem::size_of::<usize>();
        let Some(total) = layout.size().checked_add(layout.align() + word) else {
            return core::ptr::null_mut();
        };
        // SAFETY: plain allocation.
        let raw = unsafe { mg_alloc_hook(total) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        let addr = raw as usize + word;
        let aligned = (addr + layout.align() - 1) & !(layout.align() - 1);
        let p = raw.wrapping_add(aligned - raw as usize);
        // SAFETY: `p - word` lies inside the block (aligned >= raw + word), and `p` is at
        // least word-aligned; `p + size` <= raw + total.
        unsafe { p.cast::<usize>().sub(1).write_unaligned(raw as usize) };
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: `ptr` came from mg_alloc_hook/mg_realloc_hook.
            unsafe { mg_free_hook(ptr.cast()) };
            return;
        }
        // SAFETY: `alloc` stored the hook's pointer just below `ptr`.
        let raw = unsafe { ptr.cast::<usize>().sub(1).read_unaligned() };
        // SAFETY: `raw` came from mg_alloc_hook.
        unsafe { mg_free_hook(raw as *mut c_void) };
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: `ptr` came from the hooks with malloc alignment, which realloc keeps.
            return unsafe { mg_realloc_hook(ptr.cast(), new_size) }.cast();
        }
        // SAFETY: the layout is valid (same alignment, a size the caller vouches for).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as GlobalAlloc's default realloc: allocate, copy the smaller size, free.
        unsafe {
            let n = self.alloc(new_layout);
            if !n.is_null() {
                core::ptr::copy_nonoverlapping(ptr, n, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            n
        }
    }
}

#[global_allocator]
static ALLOC: CAlloc = CAlloc;

/// The precompiled `core`/`alloc` of stable Rust are built for unwinding and name this
/// symbol in their unwind tables. With `panic = "abort"` nothing ever unwinds, so it is
/// never called; it only has to exist for the link (std defines it otherwise).
#[no_mangle]
extern "C" fn rust_eh_personality() {}
