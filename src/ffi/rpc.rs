//! JSON-RPC 2.0 with Mongoose 7.22's names and semantics: a handler list the caller owns
//! (`mg_rpc_add`, `mg_rpc_del`), dispatch of a frame to the first handler whose glob matches
//! its method (`mg_rpc_process`), and the replies, printed through the request's output
//! function (`mg_rpc_ok`/`_err` and their `va_list` forms are in the C shim, which formats
//! with `mg_vxprintf` between the head and tail this module prints; `mg_rpc_list`).
//! The framing is `util::rpc`; the glob is `mg_match`'s.
//!
//! Threads: a list and the requests on it belong to one thread at a time (no locking);
//! different lists are independent. Re-entrancy: a handler may call any of these functions,
//! including `mg_rpc_add`/`mg_rpc_del` on the list it was found in (no reference into the
//! list is held while it runs) and `mg_rpc_process` on another request (the recursion depth
//! is the caller's).

use core::ffi::{c_int, c_void};

use super::cast;
use super::guard;
use super::print::emit;
use super::types::{mg_pfn_t, mg_str};
use crate::util::rpc::{self, Frame};
use crate::util::str::match_glob;

/// A JSON-RPC request being handled (Mongoose 7.22 layout). Fill `head`, `pfn`, `pfn_data`,
/// `req_data` and `frame`, then call `mg_rpc_process`; a handler receives it with `rpc` set.
///
/// Ownership: the caller's, as is everything it points to; meerkat keeps nothing after a
/// call. `frame` is read during `mg_rpc_process` and each reply call (it need not be
/// NUL-terminated). Output goes to `pfn(ch, pfn_data)`, e.g. `mg_pfn_iobuf` with a
/// `struct mg_iobuf *`; a NULL `pfn` discards it.
#[repr(C)]
pub struct mg_rpc_req {
    /// The handler list (so that a handler can process further requests on it).
    pub head: *mut *mut mg_rpc,
    /// The handler that matched: set by `mg_rpc_process`.
    pub rpc: *mut mg_rpc,
    pub pfn: mg_pfn_t,
    pub pfn_data: *mut c_void,
    /// For the caller; meerkat never reads it.
    pub req_data: *mut c_void,
    /// The request or response text, e.g. `{"id":1,"method":"sum","params":[1,2]}`.
    pub frame: mg_str,
}

/// A JSON-RPC handler signature: called with the request, whose `rpc->fn_data` is the
/// `handler_data` given to `mg_rpc_add`.
pub type mg_rpc_fn_t = Option<unsafe extern "C" fn(r: *mut mg_rpc_req)>;

/// One registered handler (Mongoose 7.22 layout). Created by `mg_rpc_add`, freed by
/// `mg_rpc_del`; read-only for the caller.
#[repr(C)]
pub struct mg_rpc {
    pub next: *mut mg_rpc,
    /// The method glob (a NUL-terminated copy owned by the list).
    pub method: mg_str,
    pub r#fn: mg_rpc_fn_t,
    pub fn_data: *mut c_void,
}

/// `mg_rpc_add(&head, method_pattern, handler, handler_data)`: register `handler` for the
/// methods matching the glob `method_pattern` (`mg_match` syntax: `*`, `#`, `?`), first in
/// the list, so a later registration wins over an earlier overlapping one. The pattern `""`
/// receives responses (frames with `result` or `error`). The pattern is copied; the entry is
/// allocated with `mg_calloc` and released by `mg_rpc_del`. Does nothing for a NULL `head`
/// or `handler`, a `(NULL, n > 0)` pattern, or when memory runs out (Mongoose: void).
/// Thread: the list's.
#[no_mangle]
pub extern "C" fn mg_rpc_add(
    head: *mut *mut mg_rpc,
    method_pattern: mg_str,
    handler: mg_rpc_fn_t,
    handler_data: *mut c_void,
) {
    guard(|| {
        let (Ok(h), Ok(pat), Some(_)) = (cast::as_mut(head), cast::mg_str_bytes(method_pattern), handler) else {
            return;
        };
        let copy = cast::c_malloc(pat.len() + 1);
        let Ok(dst) = cast::slice_mut(copy, pat.len() + 1) else {
            return;
        };
        dst[..pat.len()].copy_from_slice(pat);
        dst[pat.len()] = 0;
        let node = cast::c_calloc(1, core::mem::size_of::<mg_rpc>()).cast::<mg_rpc>();
        let entry = mg_rpc {
            next: *h,
            method: mg_str {
                buf: copy.cast(),
                len: pat.len(),
            },
            r#fn: handler,
            fn_data: handler_data,
        };
        if cast::write_out(node, entry).is_err() {
            cast::c_free(copy);
            return;
        }
        *h = node;
    })
}

/// `mg_rpc_del(&head, handler)`: unlink and free every entry whose handler is `handler`;
/// NULL removes all of them (do that to release a list). NULL `head` does nothing.
/// Thread: the list's.
#[no_mangle]
pub extern "C" fn mg_rpc_del(head: *mut *mut mg_rpc, handler: mg_rpc_fn_t) {
    guard(|| {
        let mut link = head;
        while let Ok(l) = cast::as_mut(link) {
            let cur = *l;
            let Ok(e) = cast::as_mut(cur) else {
                return;
            };
            let same = match (handler, e.r#fn) {
                (None, _) => true,
                (Some(a), Some(b)) => core::ptr::fn_addr_eq(a, b),
                (Some(_), None) => false,
            };
            if same {
                *l = e.next;
                cast::c_free(e.method.buf.cast());
                cast::c_free(cur.cast());
            } else {
                link = core::ptr::addr_of_mut!(e.next);
            }
        }
    })
}

/// The request's output function, its argument and its frame.
fn parts<'a>(r: *const mg_rpc_req) -> Option<(mg_pfn_t, *mut c_void, &'a [u8])> {
    let r = cast::as_ref(r).ok()?;
    Some((r.pfn, r.pfn_data, cast::mg_str_bytes(r.frame).unwrap_or(&[])))
}

/// Print an error reply with a fixed message (already JSON, quotes included).
fn err_fixed(r: *const mg_rpc_req, code: i32, message: impl FnOnce(&mut dyn FnMut(&[u8]))) {
    let Some((pfn, data, frame)) = parts(r) else {
        return;
    };
    let mut out = |b: &[u8]| emit(pfn, data, b);
    rpc::err_head(rpc::id(frame), code, &mut out);
    message(&mut out);
    out(rpc::ERR_TAIL);
}

/// `mg_rpc_process(r)`: dispatch `r->frame`. A request (string `method`) goes to the first
/// handler whose pattern matches the method as written in the frame, with `r->rpc` set; none
/// matching prints error -32601 `"<method> not found"`. A response (`result` or `error`, no
/// `method`) goes to the handler registered as `""`. Anything else prints error -32700 with
/// the frame as message. NULL `r` does nothing. Thread: the list's.
// `r` is only handed on to the C handler (and read through `cast`), never dereferenced here.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn mg_rpc_process(r: *mut mg_rpc_req) {
    guard(|| {
        let Ok(req) = cast::as_ref(r) else {
            return;
        };
        let frame = cast::mg_str_bytes(req.frame).unwrap_or(&[]);
        let method: &[u8] = match rpc::classify(frame) {
            Frame::Method(m) => m,
            Frame::Response => b"",
            Frame::Invalid => {
                err_fixed(r, rpc::PARSE_ERROR, |out| {
                    out(b"\"");
                    rpc::escape(frame, &mut |b| out(b));
                    out(b"\"");
                });
                return;
            }
        };
        let mut p = cast::as_ref(req.head).map_or(core::ptr::null_mut(), |h| *h);
        while let Ok(e) = cast::as_ref(p) {
            let pat = cast::mg_str_bytes(e.method).unwrap_or(&[]);
            if match_glob(method, pat, None) {
                let f = e.r#fn;
                if let Ok(req) = cast::as_mut(r) {
                    req.rpc = p;
                }
                if let Some(f) = f {
                    // SAFETY: a handler given to mg_rpc_add, called with the request the C
                    // caller passed; no Rust reference into the list or the request is
                    // alive across the call.
                    unsafe { f(r) };
                }
                return;
            }
            p = e.next;
        }
        err_fixed(r, rpc::METHOD_NOT_FOUND, |out| {
            out(b"\"");
            out(method);
            out(b" not found\"");
        });
    })
}

/// For the C shim's `mg_rpc_vok`/`mg_rpc_verr`: print the head of a reply to `r` and return
/// true, or return false when nothing should be printed (a result for a request without
/// `id`, i.e. a notification; NULL `r`). `is_err` 0: `{"id":..,"result":`; otherwise
/// `{["id":..,]"error":{"code":<code>,"message":`. The shim then prints the formatted
/// part and `}` or `}}`. Thread: the list's.
///
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn mk_rpc_head(r: *const mg_rpc_req, is_err: c_int, code: c_int) -> bool {
    guard(|| {
        let Some((pfn, data, frame)) = parts(r) else {
            return false;
        };
        let mut out = |b: &[u8]| emit(pfn, data, b);
        match (is_err != 0, rpc::id(frame)) {
            (false, None) => false,
            (false, Some(id)) => {
                rpc::ok_head(id, &mut out);
                true
            }
            (true, id) => {
                rpc::err_head(id, code, &mut out);
                true
            }
        }
    })
}

/// `mg_rpc_list(r)`: a handler that replies with the JSON array of the registered method
/// patterns (except `""`), most recent first: register it as
/// `mg_rpc_add(&head, mg_str("rpc.list"), mg_rpc_list, NULL)`. Thread: the list's.
#[no_mangle]
pub extern "C" fn mg_rpc_list(r: *mut mg_rpc_req) {
    guard(|| {
        let Ok(req) = cast::as_ref(r) else {
            return;
        };
        let Some((pfn, data, frame)) = parts(r) else {
            return;
        };
        let Some(id) = rpc::id(frame) else {
            return;
        };
        let mut out = |b: &[u8]| emit(pfn, data, b);
        rpc::ok_head(id, &mut out);
        out(b"[");
        let mut first = true;
        let mut p = cast::as_ref(req.head).map_or(core::ptr::null_mut(), |h| *h);
        while let Ok(e) = cast::as_ref(p) {
            let m = cast::mg_str_bytes(e.method).unwrap_or(&[]);
            if !m.is_empty() {
                out(if first { b"\"" } else { b",\"" });
                rpc::escape(m, &mut out);
                out(b"\"");
                first = false;
            }
            p = e.next;
        }
        out(b"]");
        out(rpc::OK_TAIL);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::c_char;
    use core::ptr::null_mut;

    unsafe extern "C" fn collect(ch: c_char, param: *mut c_void) {
        // SAFETY (test): param is the Vec given below.
        unsafe { &mut *(param as *mut Vec<u8>) }.push(ch as u8);
    }

    unsafe extern "C" fn sum(r: *mut mg_rpc_req) {
        let req = cast::as_ref(r).unwrap();
        let frame = cast::mg_str_bytes(req.frame).unwrap();
        let a = crate::util::json::get_num(frame, b"$.params[0]").unwrap();
        let b = crate::util::json::get_num(frame, b"$.params[1]").unwrap();
        if mk_rpc_head(r, 0, 0) {
            emit(req.pfn, req.pfn_data, format!("{}", a + b).as_bytes());
            emit(req.pfn, req.pfn_data, b"}");
        }
    }

    unsafe extern "C" fn response(r: *mut mg_rpc_req) {
        let req = cast::as_ref(r).unwrap();
        emit(req.pfn, req.pfn_data, b"got response");
    }

    unsafe extern "C" fn remove_self(r: *mut mg_rpc_req) {
        let req = cast::as_ref(r).unwrap();
        mg_rpc_del(req.head, Some(remove_self));
    }

    fn call(head: &mut *mut mg_rpc, frame: &str) -> String {
        let mut out = Vec::new();
        let mut r = mg_rpc_req {
            head,
            rpc: null_mut(),
            pfn: Some(collect),
            pfn_data: (&mut out as *mut Vec<u8>).cast(),
            req_data: null_mut(),
            frame: mg_str {
                buf: frame.as_ptr() as *mut c_char,
                len: frame.len(),
            },
        };
        mg_rpc_process(&mut r);
        String::from_utf8(out).unwrap()
    }

    fn s(t: &str) -> mg_str {
        mg_str {
            buf: t.as_ptr() as *mut c_char,
            len: t.len(),
        }
    }

    #[test]
    fn dispatch_like_the_json_rpc_spec() {
        let mut head: *mut mg_rpc = null_mut();
        mg_rpc_add(&mut head, s("sum"), Some(sum), null_mut());
        mg_rpc_add(&mut head, s(""), Some(response), null_mut());
        mg_rpc_add(&mut head, s("rpc.list"), Some(mg_rpc_list), null_mut());
        mg_rpc_add(&mut head, s("once.*"), Some(remove_self), null_mut());
        assert_eq!(
            call(&mut head, r#"{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}"#),
            r#"{"id":1,"result":3}"#
        );
        // A notification (no id) gets no result.
        assert_eq!(call(&mut head, r#"{"method":"sum","params":[1,2]}"#), "");
        assert_eq!(
            call(&mut head, r#"{"method":"foobar","id":"1"}"#),
            r#"{"id":"1","error":{"code":-32601,"message":"foobar not found"}}"#
        );
        assert_eq!(
            call(&mut head, r#"{"method":"foobar"}"#),
            r#"{"error":{"code":-32601,"message":"foobar not found"}}"#
        );
        assert_eq!(
            call(&mut head, r#"{"method": "foobar, "params": "bar", "baz]"#),
            r#"{"error":{"code":-32700,"message":"{\"method\": \"foobar, \"params\": \"bar\", \"baz]"}}"#
        );
        assert_eq!(call(&mut head, r#"{"id":5,"result":7}"#), "got response");
        assert_eq!(
            call(&mut head, r#"{"id":2,"method":"rpc.list"}"#),
            r#"{"id":2,"result":["once.*","rpc.list","sum"]}"#
        );
        // A handler that removes itself during its own call.
        assert_eq!(call(&mut head, r#"{"id":3,"method":"once.a"}"#), "");
        assert_eq!(
            call(&mut head, r#"{"id":4,"method":"rpc.list"}"#),
            r#"{"id":4,"result":["rpc.list","sum"]}"#
        );
        mg_rpc_del(&mut head, None);
        assert!(head.is_null());
        mg_rpc_process(null_mut());
        mg_rpc_add(null_mut(), s("x"), Some(sum), null_mut());
        mg_rpc_add(&mut head, s("x"), None, null_mut());
        assert!(head.is_null());
    }
}
