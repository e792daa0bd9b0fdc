//! `mg_http_start_upload`: stream the body of the request being read into a file of a
//! `struct mg_fs`, in bounded memory, and tell the application the outcome through a C
//! callback. Built on the core's body streaming (`Mgr::http_stream`): the connection's
//! handler is wrapped for the rest of the request by [`Upload`], which writes each
//! `Event::HttpChunk` to the file and, at the end of the body, closes the file, puts the
//! application's handler back and calls the callback.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::ffi::c_char;

use super::cast;
use super::guard;
use super::registry;
use super::types::*;
use crate::fs::{File, Fs, FS_WRITE};
use crate::handle::Handle;
use crate::mgr::{Event, Handler, Mgr};
use crate::util::codec;

/// The outcome callback of `mg_http_start_upload`: `err` is NULL on success, otherwise a
/// NUL-terminated reason valid for the call.
pub type mg_upload_fn = Option<unsafe extern "C" fn(c: mg_conn, err: *const c_char)>;

/// The application's handler wrapped for the rest of one upload.
struct Upload {
    inner: Rc<dyn Handler>,
    file: RefCell<Option<Box<dyn File>>>,
    done: Cell<bool>,
    cb: mg_upload_fn,
}

impl Upload {
    /// Close the file and report, once.
    fn finish(&self, h: Handle, err: Option<&core::ffi::CStr>) {
        drop(self.file.borrow_mut().take());
        if !self.done.replace(true) {
            report(self.cb, h, err);
        }
    }
}

/// What an upload's outcome callback is told on failure, NUL-terminated, back to back: one
/// table of its own rather than `c"..."` literals, which LLVM pools with every other
/// NUL-terminated literal of the library into one section that a linker keeps whole (see
/// `crate::error::TEXTS`).
const WHY: &[u8] = b"write error\0connection closed\0open failed\0bad name\0";
const WRITE_ERROR: usize = 0;
const CONNECTION_CLOSED: usize = 1;
const OPEN_FAILED: usize = 2;
const BAD_NAME: usize = 3;

/// Entry `n` of [`WHY`].
fn why(n: usize) -> &'static core::ffi::CStr {
    let start = WHY.split(|&b| b == 0).take(n).map(|s| s.len() + 1).sum::<usize>();
    core::ffi::CStr::from_bytes_until_nul(WHY.get(start..).unwrap_or_default()).unwrap_or_default()
}

fn report(cb: mg_upload_fn, h: Handle, err: Option<&core::ffi::CStr>) {
    let c = mg_conn { h: h.raw() };
    let e = err.map_or(core::ptr::null(), |e| e.as_ptr());
    match cb {
        // SAFETY: the application registered `f` with this signature; `e` is NULL or a
        // NUL-terminated string alive for the call.
        Some(f) => unsafe { f(c, e) },
        None => default_cb(c, err),
    }
}

/// Mongoose's default outcome callback: log, and reply 200 "ok" or 500 with the reason.
fn default_cb(c: mg_conn, err: Option<&core::ffi::CStr>) {
    let text = err.map_or(&b"ok"[..], |e| e.to_bytes());
    crate::mlog!(
        crate::log::LL_INFO;
        super::conn::mg_conn_id(c),
        " ",
        &*alloc::string::String::from_utf8_lossy(text)
    );
    let mut body: Vec<u8> = text.to_vec();
    body.push(b'\n');
    let status = if err.is_some() { 500 } else { 200 };
    let _ = super::http::mg_http_reply_n(c, status, c"".as_ptr(), body.as_ptr().cast(), body.len());
}

impl Handler for Upload {
    fn handle(&self, mgr: &Mgr, h: Handle, ev: Event<'_>) {
        match ev {
            Event::HttpChunk(data) => {
                let failed = self
                    .file
                    .borrow_mut()
                    .as_mut()
                    .is_some_and(|f| f.write_all(data) < data.len());
                if failed {
                    // The rest of the body is read and dropped; the request ends as usual.
                    self.finish(h, Some(why(WRITE_ERROR)));
                }
            }
            Event::HttpMessage(_) => {
                // The body is complete: the application's handler takes over again (the
                // next request on the connection goes to it), then the outcome.
                let _ = mgr.set_handler(h, self.inner.clone());
                self.finish(h, None);
            }
            Event::Error(msg) => {
                let text = alloc::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
                self.finish(h, Some(&text));
                self.inner.handle(mgr, h, Event::Error(msg));
            }
            Event::Close => {
                self.finish(h, Some(why(CONNECTION_CLOSED)));
                self.inner.handle(mgr, h, Event::Close);
            }
            other => self.inner.handle(mgr, h, other),
        }
    }

    fn inner(&self) -> Option<&dyn Handler> {
        Some(&*self.inner)
    }
}

/// `mg_http_start_upload(c, hm, name, dir, fs, fn)`: store the body of the request `hm` as
/// `dir/name` in `fs` (opened with `MG_FS_WRITE`: `mg_fs_posix` creates or appends, as in
/// Mongoose). Call it in `MG_EV_HTTP_HDRS`: the body is then streamed to the file as it
/// arrives, whatever its size, and `fn(c, NULL)` runs once it is all written, or
/// `fn(c, reason)` on failure ("bad name", "open failed", "write error", "connection
/// closed", or the text of `MG_EV_ERROR`). Called in `MG_EV_HTTP_MSG`, the body already read
/// is written at once. `fn` NULL: reply 200 "ok\n", or 500 with the reason. Meanwhile the
/// handler keeps getting every other event (`MG_EV_CLOSE` included) but not
/// `MG_EV_HTTP_CHUNK` or this request's `MG_EV_HTTP_MSG`; the next request on the
/// connection reaches it as usual. Differences from Mongoose: `name` must be a sane path
/// (no `..`), and on `mg_fs_posix` an existing `dir/name` that is a symbolic link leading
/// out of `dir` is refused ("bad name"). Owner thread.
// The pointers are checked (`cast`) before use; `hm` is the event's message.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn mg_http_start_upload(
    c: mg_conn,
    hm: *mut mg_http_message,
    name: mg_str,
    dir: mg_str,
    fs: *mut super::fs::mg_fs,
    cb: mg_upload_fn,
) {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else {
            return;
        };
        let (name, dir) = (cast::mg_str_lenient(name), cast::mg_str_lenient(dir));
        let (Some(cfs), Ok(choice)) = (super::fs::CFs::from_ptr(fs), super::serve::FsChoice::of(fs.cast())) else {
            return report(cb, h, Some(why(OPEN_FAILED)));
        };
        if name.is_empty() || !codec::path_is_sane(name) {
            return report(cb, h, Some(why(BAD_NAME)));
        }
        let mut path = dir.to_vec();
        if !path.is_empty() && !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        let links = choice.get();
        if links.has_links() && links.stat(&path).is_some() {
            let inside = links
                .canonical(if dir.is_empty() { b"." } else { dir })
                .is_some_and(|root| crate::serve::path::confine(links, &path, &root).is_ok());
            if !inside {
                return report(cb, h, Some(why(BAD_NAME)));
            }
        }
        let Ok(mut file) = cfs.open(&path, FS_WRITE) else {
            return report(cb, h, Some(why(OPEN_FAILED)));
        };
        if m.http_stream(h).is_ok() {
            let Ok(inner) = m.handler(h) else {
                return;
            };
            let up = Upload {
                inner,
                file: RefCell::new(Some(file)),
                done: Cell::new(false),
                cb,
            };
            let _ = m.set_handler(h, Rc::new(up));
            return;
        }
        // Not streaming (called in MG_EV_HTTP_MSG): the body is all here.
        let body = cast::as_ref(hm.cast_const()).map_or(&[][..], |hm| cast::mg_str_lenient(hm.body));
        let n = file.write_all(body);
        drop(file);
        report(cb, h, (n < body.len()).then_some(why(WRITE_ERROR)));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_come_back_by_number() {
        assert_eq!(why(WRITE_ERROR), c"write error");
        assert_eq!(why(CONNECTION_CLOSED), c"connection closed");
        assert_eq!(why(OPEN_FAILED), c"open failed");
        assert_eq!(why(BAD_NAME), c"bad name");
    }
}
