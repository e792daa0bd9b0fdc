//! Property tests for the parsers and state machines of the second utility slice: address
//! text (`mg_aton`), ACLs, JSON-RPC dispatch (every reply is valid JSON) and the SPSC queue
//! against a `VecDeque` model. Any input: no panic, and the answers agree with an oracle.

use std::collections::VecDeque;
use std::ffi::{c_char, c_void};
use std::net::{Ipv4Addr, Ipv6Addr};

use meerkat::ffi::queue::{mg_queue, mg_queue_add, mg_queue_book, mg_queue_del, mg_queue_init, mg_queue_next};
use meerkat::ffi::rpc::{mg_rpc_process, mg_rpc_req};
use meerkat::ffi::types::mg_str;
use meerkat::util::net::{aton, check_acl};
use meerkat::util::timer::expired;
use proptest::prelude::*;

proptest! {
    #[test]
    fn aton_total_and_agrees_with_std(bytes in proptest::collection::vec(any::<u8>(), 0..64),
                                      v4 in any::<[u8; 4]>(), v6 in any::<[u8; 16]>()) {
        let _ = aton(&bytes);
        let a = aton(Ipv4Addr::from(v4).to_string().as_bytes()).unwrap();
        prop_assert_eq!((&a.ip[..4], a.is_ip6), (&v4[..], false));
        let text = Ipv6Addr::from(v6).to_string();
        let a = aton(text.as_bytes()).unwrap();
        prop_assert_eq!((a.ip, a.is_ip6), (v6, true));
        let a = aton(format!("[{text}]").as_bytes()).unwrap();
        prop_assert_eq!(a.ip, v6);
    }

    #[test]
    fn acl_total_and_matches_a_model(text in "[-+0-9./,]{0,40}", ip in any::<[u8; 4]>(),
                                     entries in proptest::collection::vec((any::<bool>(), any::<[u8; 4]>(), 0u32..=32), 0..5)) {
        let _ = check_acl(text.as_bytes(), ip);
        let acl: Vec<String> = entries.iter()
            .map(|(allow, net, bits)| format!("{}{}/{bits}", if *allow { '+' } else { '-' }, Ipv4Addr::from(*net)))
            .collect();
        let mut want = entries.is_empty();
        for (allow, net, bits) in &entries {
            let mask = if *bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            if u32::from_be_bytes(ip) & mask == u32::from_be_bytes(*net) & mask {
                want = *allow;
            }
        }
        prop_assert_eq!(check_acl(acl.join(",").as_bytes(), ip), Ok(want));
    }

    #[test]
    fn timer_expired_total(t in any::<u64>(), p in any::<u64>(), now in any::<u64>()) {
        let mut t = t;
        let _ = expired(&mut t, p, now);
    }

    #[test]
    fn rpc_replies_are_json(frame in "[{}\\[\\]\":,a-z0-9 \\\\]{0,60}") {
        let out = rpc_reply(&frame);
        let v: serde_json::Value = serde_json::from_slice(&out)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&out))))?;
        let code = v["error"]["code"].as_i64();
        prop_assert!(code == Some(-32601) || code == Some(-32700), "{}", v);
    }

    #[test]
    fn queue_matches_a_model(size in 0usize..200,
                             ops in proptest::collection::vec((any::<bool>(), 0usize..80), 0..300)) {
        let mut mem = vec![0u8; size];
        let mut q = mg_queue { buf: std::ptr::null_mut(), size: 0, tail: 0, head: 0 };
        mg_queue_init(&mut q, mem.as_mut_ptr().cast(), size);
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut stored = 0usize; // bytes the model's messages take (payload + header)
        for (i, (push, len)) in ops.into_iter().enumerate() {
            if push {
                let mut p: *mut c_char = std::ptr::null_mut();
                let mut room = mg_queue_book(&mut q, &mut p, len);
                if len > 0 && room < len && model.is_empty() && len + 8 <= size {
                    // Empty, but away from the start: one consumer poll brings it back.
                    prop_assert_eq!(mg_queue_next(&mut q, std::ptr::null_mut()), 0);
                    room = mg_queue_book(&mut q, &mut p, len);
                    prop_assert!(room >= len, "{len} refused in an empty queue of {size}");
                }
                if len > 0 && room >= len {
                    let msg: Vec<u8> = (0..len).map(|k| (i + k) as u8).collect();
                    // SAFETY (test): the booking gave `len` writable bytes at p.
                    unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), p.cast(), len) };
                    mg_queue_add(&mut q, len);
                    stored += len + 4;
                    model.push_back(msg);
                }
            } else {
                let mut p: *mut c_char = std::ptr::null_mut();
                let n = mg_queue_next(&mut q, &mut p);
                match model.pop_front() {
                    Some(want) => {
                        prop_assert_eq!(n, want.len());
                        // SAFETY (test): next gave n readable bytes at p.
                        let got = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) };
                        prop_assert_eq!(got, &want[..]);
                        mg_queue_del(&mut q, n);
                        stored -= n + 4;
                    }
                    None => prop_assert_eq!(n, 0),
                }
            }
            prop_assert!(stored <= size);
        }
    }
}

unsafe extern "C" fn collect(ch: c_char, param: *mut c_void) {
    // SAFETY (test): param is the Vec given in rpc_reply.
    unsafe { &mut *(param as *mut Vec<u8>) }.push(ch as u8);
}

/// What `mg_rpc_process` prints for `frame` with no handler registered.
fn rpc_reply(frame: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut head = std::ptr::null_mut();
    let mut r = mg_rpc_req {
        head: &mut head,
        rpc: std::ptr::null_mut(),
        pfn: Some(collect),
        pfn_data: (&mut out as *mut Vec<u8>).cast(),
        req_data: std::ptr::null_mut(),
        frame: mg_str {
            buf: frame.as_ptr() as *mut c_char,
            len: frame.len(),
        },
    };
    mg_rpc_process(&mut r);
    out
}
