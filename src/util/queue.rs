//! The arithmetic of Mongoose's single-producer single-consumer message queue (`mg_queue_*`),
//! kept apart from the shared memory it runs on (`ffi::queue`).
//!
//! Layout of the caller's buffer of `size` bytes: messages stored one after the other, each
//! a 4-byte native-endian length `n > 0` followed by `n` bytes. `head` is where the producer
//! writes next, `tail` where the consumer reads next; `head == tail` is empty. A length of 0
//! is a wrap marker: the next message is at offset 0. The producer owns `head`, the consumer
//! `tail`; each only reads the other's.
//!
//! Invariants kept here (and checked against what the C struct holds, which could be
//! anything): `head + 4 <= size` and `tail + 4 <= size` (a header or marker always fits
//! where they point); when `head >= tail`, a message at `head` leaves 4 bytes after it for
//! the next header or marker; when `head < tail` (the producer has wrapped), a message ends
//! strictly before `tail`, so a full queue never looks empty.
#![forbid(unsafe_code)]

/// Bytes of a message's length prefix.
pub const HDR: usize = 4;

/// Where a message of the requested length can be written.
#[derive(Debug, PartialEq, Eq)]
pub struct Booking {
    /// Offset of its header (the payload is at `at + HDR`).
    pub at: usize,
    /// Payload bytes available there; the booking succeeded if this is `>= len`.
    pub space: usize,
    /// The producer must first write a wrap marker at `head` and move `head` to 0.
    pub wrap: bool,
}

/// Whether `head`/`tail` are positions a queue of `size` bytes can hold.
pub fn sane(size: usize, head: usize, tail: usize) -> bool {
    head.checked_add(HDR).is_some_and(|e| e <= size) && tail.checked_add(HDR).is_some_and(|e| e <= size)
}

/// Payload bytes that fit at `head` without wrapping.
fn room_at(size: usize, head: usize, tail: usize) -> usize {
    if head >= tail {
        size.saturating_sub(head).saturating_sub(2 * HDR)
    } else {
        (tail - head).saturating_sub(HDR + 1)
    }
}

/// `mg_queue_book`: where a message of `len` bytes goes. Wraps when the message does not
/// fit before the end but does fit at the start, and also when the queue is empty away from
/// the start (then nothing fits yet, but the consumer's next `mg_queue_next` follows the
/// marker back to 0 and the whole buffer is free for the retry: without this, a message
/// longer than the rest of the buffer would wait for ever on an idle consumer). Otherwise
/// reports the room at `head` (less than `len` when it does not fit anywhere).
pub fn book(size: usize, head: usize, tail: usize, len: usize) -> Booking {
    let here = room_at(size, head, tail);
    if head >= tail && here < len {
        let start = tail.saturating_sub(HDR + 1);
        if (tail > HDR && start >= len) || (head == tail && tail > 0) {
            return Booking {
                at: 0,
                space: start,
                wrap: true,
            };
        }
    }
    Booking {
        at: head,
        space: here,
        wrap: false,
    }
}

/// `mg_queue_add`: whether a message of `len` bytes may be committed at `head` (what a
/// booking promised, re-checked against the current `tail`, which only makes room).
pub fn can_add(size: usize, head: usize, tail: usize, len: usize) -> bool {
    len > 0 && u32::try_from(len).is_ok() && len <= room_at(size, head, tail)
}

/// Whether a message of `len` bytes with its header at `at` lies within the data the
/// producer has published (`head`).
pub fn message_fits(size: usize, head: usize, at: usize, len: usize) -> bool {
    let limit = if at < head { head } else { size - HDR };
    len > 0
        && at
            .checked_add(HDR)
            .and_then(|v| v.checked_add(len))
            .is_some_and(|end| end <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_wraps_only_when_it_helps() {
        // 64 bytes, empty at 0: 56 payload bytes fit (header + 4 reserved).
        assert_eq!(
            book(64, 0, 0, 10),
            Booking {
                at: 0,
                space: 56,
                wrap: false
            }
        );
        assert_eq!(book(64, 0, 0, 57).space, 56);
        // Near the end with the consumer at 40: wrap, room before tail is 40 - 5.
        assert_eq!(
            book(64, 50, 40, 20),
            Booking {
                at: 0,
                space: 35,
                wrap: true
            }
        );
        // Consumer at 0: no wrap possible (it would make the queue look empty).
        assert_eq!(
            book(64, 50, 0, 20),
            Booking {
                at: 50,
                space: 6,
                wrap: false
            }
        );
        // Wrapped: room is up to one byte before tail.
        assert_eq!(
            book(64, 10, 40, 1),
            Booking {
                at: 10,
                space: 25,
                wrap: false
            }
        );
        assert!(can_add(64, 10, 40, 25));
        assert!(!can_add(64, 10, 40, 26));
        assert!(!can_add(64, 0, 0, 0));
        assert!(message_fits(64, 20, 0, 16));
        assert!(!message_fits(64, 20, 0, 17));
        assert!(message_fits(64, 0, 40, 16));
        assert!(!message_fits(64, 0, 40, 17));
        assert!(!sane(64, 61, 0));
        assert!(sane(64, 60, 60));
    }
}
