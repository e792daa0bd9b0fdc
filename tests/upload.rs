//! `mg_http_upload` (Mongoose's chunked upload protocol: `POST /upload?file=NAME&offset=N`
//! with each piece as the body) into `mg_fs_posix`, driven over 127.0.0.1 by a plain HTTP
//! client: the pieces land in order in the file, and each refusal (no file, a path that is
//! not sane, over the size cap, an offset that does not match) gets its 400 and writes
//! nothing. The live connection count goes back to zero. Also `mg_http_serve_ssi` over the
//! same kind of server: includes expanded, a climbing include and one through a symbolic link
//! out of the root dropped, a missing file 404. A link out of the upload directory is never
//! written through.

mod common;

use common::cbuild::out_dir;
use common::Mgr;
use meerkat::ffi::compat::{mg_http_serve_ssi, mg_http_upload};
use meerkat::ffi::conn::mg_fn_data;
use meerkat::ffi::fs::mg_fs_posix;
use meerkat::ffi::http::mg_http_listen;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const MAX: usize = 16;

unsafe extern "C" fn handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_MSG {
        let dir = mg_fn_data(c) as *const std::ffi::c_char;
        let hm = ev_data as *mut mg_http_message;
        mg_http_upload(c, hm, &raw mut mg_fs_posix, dir, MAX);
    }
}

/// One request on its own connection; the status and body of the response.
fn post(port: u16, target: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8(resp).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn chunked_upload_to_posix_fs() {
    let dir = out_dir().join("upload-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A link in the upload directory that leads out of it: never written through.
    let outside = out_dir().join("upload-outside.txt");
    std::fs::write(&outside, "keep").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link.bin")).unwrap();
    let cdir = CString::new(dir.to_str().unwrap()).unwrap();
    let mut m = Mgr::new();
    let u = CString::new("http://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(handler), cdir.as_ptr() as *mut c_void);
    let port = common::port(l);
    let client = std::thread::spawn(move || {
        vec![
            post(port, "/upload?file=fw.bin&offset=0", "hello "),
            post(port, "/upload?file=fw.bin&offset=6", "world"),
            post(port, "/upload?file=fw.bin&offset=3", "xx"),
            post(port, "/upload?file=fw.bin&offset=11", "0123456789"),
            post(port, "/upload?offset=0", "x"),
            post(port, "/upload?file=..%2Fevil&offset=0", "x"),
            post(port, "/upload?file=a.txt&offset=zz", "x"),
            post(port, "/upload?file=a.txt", ""),
            post(port, "/upload?file=link.bin&offset=4", "more"),
            post(port, "/upload?file=link.bin&offset=0", "new"),
        ]
    });
    m.poll_until(20, "the client's requests", |_| client.is_finished());
    let r = client.join().unwrap();
    let fw = dir.join("fw.bin").display().to_string();
    assert_eq!(r[0], (200, "6".into()));
    assert_eq!(r[1], (200, "11".into()));
    assert_eq!(r[2], (400, format!("{fw}: offset mismatch")));
    assert_eq!(r[3], (400, format!("{fw}: over max size of {MAX}")));
    assert_eq!(r[4], (400, "file required".into()));
    assert_eq!(r[5], (400, "../evil: invalid file".into()));
    assert_eq!(r[6], (400, "offset required".into()));
    assert_eq!(r[7], (200, "0".into()));
    assert_eq!(r[8], (400, "link.bin: invalid file".into()));
    assert_eq!(r[9], (400, "link.bin: invalid file".into()));
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
    assert_eq!(std::fs::read(dir.join("fw.bin")).unwrap(), b"hello world");
    assert!(!out_dir().join("evil").exists());
    assert!(!dir.join("a.txt").exists());
    m.poll_until(5, "connections closed", |m| m.live() == 1);
}

unsafe extern "C" fn ssi_handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_MSG {
        let root = mg_fn_data(c) as *const std::ffi::c_char;
        let hm = &*(ev_data as *const mg_http_message);
        let uri = std::slice::from_raw_parts(hm.uri.buf as *const u8, hm.uri.len);
        let full = format!(
            "{}{}",
            std::ffi::CStr::from_ptr(root).to_str().unwrap(),
            std::str::from_utf8(uri).unwrap()
        );
        let full = CString::new(full).unwrap();
        mg_http_serve_ssi(c, root, full.as_ptr());
    }
}

#[test]
fn server_side_includes() {
    let dir = out_dir().join("ssi-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("root/inc")).unwrap();
    std::fs::write(
        dir.join("root/index.shtml"),
        "<h1><!--#include file=\"inc/title.html\" --></h1><!--#include virtual=\"/inc/foot.html\" --><!--#include file=\"../secret\" --><!--#include file=\"inc/leak.html\" --><!--#include virtual=\"/inc/leak.html\" -->",
    )
    .unwrap();
    std::fs::write(dir.join("root/inc/title.html"), "Hello").unwrap();
    std::fs::write(dir.join("root/inc/foot.html"), "<footer>f</footer>").unwrap();
    std::fs::write(dir.join("secret"), "SECRET").unwrap();
    // A link under the root that leads out of it: its include is dropped both ways.
    std::os::unix::fs::symlink(dir.join("secret"), dir.join("root/inc/leak.html")).unwrap();
    let croot = CString::new(dir.join("root").to_str().unwrap()).unwrap();
    let mut m = Mgr::new();
    let u = CString::new("http://127.0.0.1:0").unwrap();
    let l = mg_http_listen(m.ptr(), u.as_ptr(), Some(ssi_handler), croot.as_ptr() as *mut c_void);
    let port = common::port(l);
    let client = std::thread::spawn(move || vec![post(port, "/index.shtml", ""), post(port, "/nope.shtml", "")]);
    m.poll_until(20, "the client's requests", |_| client.is_finished());
    let r = client.join().unwrap();
    assert_eq!(r[0], (200, "<h1>Hello</h1><footer>f</footer>".into()));
    assert_eq!(r[1].0, 404);
    m.poll_until(5, "connections closed", |m| m.live() == 1);
}
