//! Mongoose's single-producer single-consumer message queue over a caller buffer:
//! `mg_queue_init`, `mg_queue_book`, `mg_queue_add`, `mg_queue_next`, `mg_queue_del`
//! (`mg_queue_printf` is in the C shim). The layout and arithmetic are `util::queue`.
//!
//! Threads: one producer (book, add, printf) and one consumer (next, del) may run at the same
//! time on different threads, without a lock. The producer publishes `head` with a release
//! store after the message bytes and header are written; the consumer acquires it before
//! reading them, and publishes `tail` with a release store after it is done with a message,
//! which the producer acquires before reusing those bytes. From an interrupt handler as the
//! producer, the same holds on a single core.

use core::ffi::c_char;
use core::mem::offset_of;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::cast;
use super::guard;
use crate::util::queue::{self as q, HDR};

/// A lock-free single-producer single-consumer queue of messages in a caller buffer
/// (Mongoose 7.22 layout; Mongoose declares `head` and `tail` `volatile`).
///
/// Ownership: the caller owns the struct and `buf` (`size` bytes), which must stay valid
/// while the queue is used; meerkat keeps no pointer to either between calls. Once
/// producer and consumer run, `head` and `tail` must be changed only by these calls (they
/// use atomic operations on them). Each message costs 4 bytes of header, and 4 bytes of the
/// buffer are kept free, so a buffer of `size` bytes holds one message of at most
/// `size - 8` bytes.
#[repr(C)]
pub struct mg_queue {
    pub buf: *mut c_char,
    pub size: usize,
    /// Read offset: written by the consumer.
    pub tail: usize,
    /// Write offset: written by the producer.
    pub head: usize,
}

/// A checked view of a queue: the buffer and its size (read once), the two shared offsets.
struct View<'a> {
    buf: *mut u8,
    size: usize,
    head: &'a AtomicUsize,
    tail: &'a AtomicUsize,
}

fn view<'a>(qp: *mut mg_queue) -> Option<View<'a>> {
    if qp.is_null() {
        return None;
    }
    let base = qp.cast::<u8>();
    let buf: *mut c_char = cast::read(base.wrapping_add(offset_of!(mg_queue, buf)).cast()).ok()?;
    let size: usize = cast::read(base.wrapping_add(offset_of!(mg_queue, size)).cast()).ok()?;
    if buf.is_null() || size > isize::MAX as usize {
        return None;
    }
    Some(View {
        buf: buf.cast(),
        size,
        head: cast::atomic_usize(base.wrapping_add(offset_of!(mg_queue, head)).cast()).ok()?,
        tail: cast::atomic_usize(base.wrapping_add(offset_of!(mg_queue, tail)).cast()).ok()?,
    })
}

/// `mg_queue_init(q, buf, size)`: make `q` an empty queue over the `size` bytes at `buf`.
/// Call before the producer and consumer start. NULL `q` does nothing; a NULL `buf` makes a
/// queue that never accepts a message. Thread: any, before the queue is shared.
#[no_mangle]
pub extern "C" fn mg_queue_init(qp: *mut mg_queue, buf: *mut c_char, size: usize) {
    guard(|| {
        let _ = cast::write_out(
            qp,
            mg_queue {
                buf,
                size: if buf.is_null() { 0 } else { size },
                tail: 0,
                head: 0,
            },
        );
    })
}

/// `mg_queue_book(q, &buf, len)`: reserve room for a message of `len` bytes. Returns the
/// number of bytes that can be written at `*buf`: if it is `>= len`, write the message there
/// and commit it with `mg_queue_add(q, len)`; otherwise the queue is too full (nothing to
/// undo; try again after the consumer has taken messages; an empty queue always takes a
/// message of up to `size - 8` bytes at the latest after the consumer's next
/// `mg_queue_next`). `buf` may be NULL (just asking); `*buf` is set whenever the return value is
/// non-zero. It points into the queue's buffer, valid until the matching `mg_queue_add`.
/// A NULL or inconsistent `q` returns 0. Thread: the producer's.
#[no_mangle]
pub extern "C" fn mg_queue_book(qp: *mut mg_queue, buf: *mut *mut c_char, len: usize) -> usize {
    guard(|| {
        let Some(v) = view(qp) else {
            return 0;
        };
        let head = v.head.load(Ordering::Relaxed);
        let tail = v.tail.load(Ordering::Acquire);
        if !q::sane(v.size, head, tail) {
            return 0;
        }
        let b = q::book(v.size, head, tail, len);
        if b.wrap {
            if !cast::write_u32_at(v.buf, v.size, head, 0) {
                return 0;
            }
            v.head.store(0, Ordering::Release);
        }
        if b.space > 0 {
            cast::write_opt(buf, v.buf.wrapping_add(b.at + HDR).cast());
        }
        b.space
    })
}

/// `mg_queue_add(q, len)`: commit the message of `len` bytes (`len` > 0) written at the
/// place `mg_queue_book(q, &buf, len)` gave; the consumer may see it from now on. A `len`
/// the booking did not make room for, 0, or a NULL/inconsistent `q` does nothing.
/// Thread: the producer's.
#[no_mangle]
pub extern "C" fn mg_queue_add(qp: *mut mg_queue, len: usize) {
    guard(|| {
        let Some(v) = view(qp) else {
            return;
        };
        let head = v.head.load(Ordering::Relaxed);
        let tail = v.tail.load(Ordering::Acquire);
        if !q::sane(v.size, head, tail) || !q::can_add(v.size, head, tail, len) {
            return;
        }
        if cast::write_u32_at(v.buf, v.size, head, len as u32) {
            v.head.store(head + HDR + len, Ordering::Release);
        }
    })
}

/// The oldest message's header offset and length, following a wrap marker (and publishing
/// the wrapped `tail`); `None` when empty or inconsistent.
fn front(v: &View<'_>) -> Option<(usize, usize)> {
    let mut tail = v.tail.load(Ordering::Relaxed);
    let head = v.head.load(Ordering::Acquire);
    if !q::sane(v.size, head, tail) || tail == head {
        return None;
    }
    let mut len = cast::read_u32_at(v.buf, v.size, tail)? as usize;
    if len == 0 {
        tail = 0;
        v.tail.store(0, Ordering::Release);
        if head == 0 {
            return None;
        }
        len = cast::read_u32_at(v.buf, v.size, 0)? as usize;
    }
    q::message_fits(v.size, head, tail, len).then_some((tail, len))
}

/// `mg_queue_next(q, &buf)`: the length of the oldest message (0 when the queue is empty),
/// with `*buf` set to its first byte. The message stays in the queue until
/// `mg_queue_del(q, len)`; `*buf` is valid until then. `buf` may be NULL; it is written only
/// when the result is non-zero. A NULL or inconsistent `q` returns 0. Thread: the consumer's.
#[no_mangle]
pub extern "C" fn mg_queue_next(qp: *mut mg_queue, buf: *mut *mut c_char) -> usize {
    guard(|| {
        let Some((at, len)) = view(qp).and_then(|v| front(&v).map(|f| (v.buf.wrapping_add(f.0 + HDR), f.1))) else {
            return 0;
        };
        cast::write_opt(buf, at.cast());
        len
    })
}

/// `mg_queue_del(q, len)`: remove the oldest message, whose length `mg_queue_next` returned;
/// its bytes may be reused by the producer from now on. A `len` that is not that message's
/// length, an empty queue, or a NULL/inconsistent `q` does nothing. Thread: the consumer's.
#[no_mangle]
pub extern "C" fn mg_queue_del(qp: *mut mg_queue, len: usize) {
    guard(|| {
        let Some(v) = view(qp) else {
            return;
        };
        if let Some((at, n)) = front(&v) {
            if n == len {
                v.tail.store(at + HDR + n, Ordering::Release);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;

    fn new_queue(buf: &mut [u8]) -> mg_queue {
        let mut qq = mg_queue {
            buf: null_mut(),
            size: 0,
            tail: 7,
            head: 7,
        };
        mg_queue_init(&mut qq, buf.as_mut_ptr().cast(), buf.len());
        qq
    }

    fn push(qq: &mut mg_queue, msg: &[u8]) -> bool {
        let mut p: *mut c_char = null_mut();
        if mg_queue_book(qq, &mut p, msg.len()) < msg.len() {
            return false;
        }
        // SAFETY (test): the booking gave msg.len() writable bytes at p.
        unsafe { core::ptr::copy_nonoverlapping(msg.as_ptr(), p.cast(), msg.len()) };
        mg_queue_add(qq, msg.len());
        true
    }

    fn pop(qq: &mut mg_queue) -> Option<Vec<u8>> {
        let mut p: *mut c_char = null_mut();
        let n = mg_queue_next(qq, &mut p);
        if n == 0 {
            return None;
        }
        // SAFETY (test): next gave n readable bytes at p.
        let v = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) }.to_vec();
        mg_queue_del(qq, n);
        Some(v)
    }

    #[test]
    fn fifo_with_wraparound_in_one_thread() {
        let mut mem = [0u8; 64];
        let mut qq = new_queue(&mut mem);
        assert_eq!(pop(&mut qq), None);
        assert!(!push(&mut qq, &[1; 57]), "larger than size - 8");
        // Many rounds through a small buffer: every length, in order.
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..2000u32 {
            let len = (round % 23 + 1) as usize;
            let msg: Vec<u8> = (0..len).map(|i| (next_in as usize + i) as u8).collect();
            if push(&mut qq, &msg) {
                next_in += 1;
            }
            if round % 3 != 0 {
                while let Some(m) = pop(&mut qq) {
                    assert_eq!(m[0], next_out as u8, "round {round}");
                    next_out += 1;
                }
            }
        }
        assert!(next_in > 1000);
        // Wrong lengths and NULLs are refused.
        assert!(push(&mut qq, b"abc"));
        mg_queue_del(&mut qq, 2);
        assert_eq!(mg_queue_next(&mut qq, null_mut()), 3);
        mg_queue_add(&mut qq, 1000);
        assert_eq!(mg_queue_book(null_mut(), null_mut(), 1), 0);
        assert_eq!(mg_queue_next(null_mut(), null_mut()), 0);
        mg_queue_del(null_mut(), 1);
        // Garbage offsets: nothing is read or written out of bounds.
        qq.head = usize::MAX;
        assert_eq!(mg_queue_book(&mut qq, null_mut(), 1), 0);
        assert_eq!(mg_queue_next(&mut qq, null_mut()), 0);
    }

    /// One producer thread and one consumer thread move 100 000 messages of varying length
    /// through a 1 KiB queue; each carries its sequence number and a checksum of its bytes.
    #[test]
    fn producer_and_consumer_threads() {
        const N: u32 = 100_000;
        let mut mem = vec![0u8; 1024];
        let qq = Box::into_raw(Box::new(new_queue(&mut mem)));
        let addr = qq as usize;
        let producer = std::thread::spawn(move || {
            let qq = addr as *mut mg_queue;
            let mut seq = 0u32;
            while seq < N {
                let len = 8 + (seq as usize * 7919) % 120;
                let mut p: *mut c_char = null_mut();
                if mg_queue_book(qq, &mut p, len) < len {
                    std::thread::yield_now();
                    continue;
                }
                let mut msg = vec![0u8; len];
                msg[..4].copy_from_slice(&seq.to_le_bytes());
                for (i, b) in msg[8..].iter_mut().enumerate() {
                    *b = (seq as usize).wrapping_mul(31).wrapping_add(i) as u8;
                }
                let sum = crate::util::codec::crc32(0, &msg[8..]);
                msg[4..8].copy_from_slice(&sum.to_le_bytes());
                // SAFETY (test): the booking gave len writable bytes at p.
                unsafe { core::ptr::copy_nonoverlapping(msg.as_ptr(), p.cast(), len) };
                mg_queue_add(qq, len);
                seq += 1;
            }
        });
        let consumer = std::thread::spawn(move || {
            let qq = addr as *mut mg_queue;
            let mut want = 0u32;
            let mut bytes = 0usize;
            while want < N {
                let mut p: *mut c_char = null_mut();
                let n = mg_queue_next(qq, &mut p);
                if n == 0 {
                    std::thread::yield_now();
                    continue;
                }
                // SAFETY (test): next gave n readable bytes at p, ours until del.
                let m = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) };
                assert_eq!(n, 8 + (want as usize * 7919) % 120);
                assert_eq!(u32::from_le_bytes(m[..4].try_into().unwrap()), want);
                let sum = u32::from_le_bytes(m[4..8].try_into().unwrap());
                assert_eq!(crate::util::codec::crc32(0, &m[8..]), sum, "message {want}");
                bytes += n;
                mg_queue_del(qq, n);
                want += 1;
            }
            bytes
        });
        producer.join().unwrap();
        let bytes = consumer.join().unwrap();
        assert!(bytes > N as usize * 8);
        // SAFETY (test): both threads are done with it.
        let qq = unsafe { Box::from_raw(qq) };
        assert_eq!(qq.head, qq.tail);
        drop(mem);
    }
}
