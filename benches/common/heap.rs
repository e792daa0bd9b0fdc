//! Measuring heap in the bench process: a counting global allocator, glibc's view of the
//! malloc heap, and a meerkat manager driven through the FFI on the calling thread.
//!
//! Including this module (`#[path = "common/heap.rs"] mod heap;`, beside `common`) installs
//! [`Counting`] as the bench's `#[global_allocator]`.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use meerkat::ffi::*;

use crate::common::BenchResult;

// ---- counting allocator ---------------------------------------------------------------

/// Live bytes allocated through the Rust global allocator (all of meerkat's Rust heap).
pub static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The part of `LIVE` that threads marked with [`IN_CLIENT`] allocated (and did not free).
pub static CLIENT_LIVE: AtomicIsize = AtomicIsize::new(0);

std::thread_local! {
    /// Set on a load-generating thread whose allocations are to be counted apart. A `const`
    /// thread-local of a type without `Drop`: reading it never allocates, so it is safe inside
    /// the allocator.
    pub static IN_CLIENT: Cell<bool> = const { Cell::new(false) };
}

pub struct Counting;

fn account(delta: isize) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
    if IN_CLIENT.try_with(|c| c.get()).unwrap_or(false) {
        CLIENT_LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes in use in the C heap (every malloc arena plus mmap-ed blocks), Rust's and C's alike,
/// when the C library can tell (glibc `mallinfo2`: `uordblks + hblkhd`).
pub fn c_heap_in_use() -> Option<isize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads allocator statistics.
        let mi = unsafe { libc::mallinfo2() };
        Some((mi.uordblks + mi.hblkhd) as isize)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

// ---- an in-process manager ------------------------------------------------------------

/// An in-process manager on this thread, freed on drop.
pub struct Mgr(Box<mg_mgr>);

impl Mgr {
    pub fn new() -> BenchResult<Mgr> {
        let mut m = Box::new(mg_mgr {
            internal: std::ptr::null_mut(),
            userdata: std::ptr::null_mut(),
        });
        if meerkat::ffi::mgr::mg_mgr_init(&mut *m) != 0 {
            return Err("mg_mgr_init failed".into());
        }
        Ok(Mgr(m))
    }
    pub fn ptr(&mut self) -> *mut mg_mgr {
        &mut *self.0
    }
    pub fn poll(&mut self, ms: i32) -> BenchResult<()> {
        match meerkat::ffi::mgr::mg_mgr_poll(self.ptr(), ms) {
            0 => Ok(()),
            e => Err(format!("mg_mgr_poll: {e}")),
        }
    }
    pub fn stats(&mut self) -> mg_stats {
        let mut s = mg_stats::default();
        meerkat::ffi::mgr::mg_mgr_stats(self.ptr(), &mut s);
        s
    }
    /// Poll until `done` (checked between polls), for at most `secs`.
    pub fn poll_until(&mut self, secs: u64, what: &str, mut done: impl FnMut(&mut Mgr) -> bool) -> BenchResult<()> {
        let end = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            if Instant::now() > end {
                return Err(format!("timed out: {what}"));
            }
            self.poll(5)?;
        }
        Ok(())
    }
}

impl Drop for Mgr {
    fn drop(&mut self) {
        let _ = meerkat::ffi::mgr::mg_mgr_free(self.ptr());
    }
}

/// The local port of listener `l`, which `what` (`mg_listen`, `mg_http_listen`) returned; an
/// error "`what` failed" if it is not a live listener.
pub fn listener_port(l: mg_conn, what: &str) -> BenchResult<u16> {
    let mut info = std::mem::MaybeUninit::<mg_conn_info>::zeroed();
    if l.h == 0 || meerkat::ffi::conn::mg_conn_info(l, info.as_mut_ptr()) != 0 {
        return Err(format!("{what} failed"));
    }
    // SAFETY: written by mg_conn_info on success.
    Ok(u16::from_be(unsafe { info.assume_init() }.loc.port))
}
