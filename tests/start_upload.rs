//! `mg_http_start_upload` from C (`tests/c/start_upload.c`, Mongoose's names through
//! mongoose.h) over 127.0.0.1: a body five times the manager's `http_max_body` is streamed
//! into the file and the outcome callback replies; the next request on the same keep-alive
//! connection reaches the program's handler; Mongoose's default callback (fn NULL); a start
//! in `MG_EV_HTTP_MSG`; a bad name and a symbolic link leading out of the directory are
//! refused and write nothing; a client that vanishes mid-body gets "connection closed"
//! reported and the part file closed. The live count is back to the listener. Plain and
//! under ASan + UBSan.

mod common;

use common::cbuild::{compile_c, out_dir, root, Flavor};
use common::example::Child;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Send `req` on `s` and read one response (status, body), by Content-Length.
fn exchange(s: &mut TcpStream, req: &[u8]) -> (u16, String) {
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .expect("Content-Length")
                .trim()
                .parse()
                .unwrap();
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return (head[9..12].parse().unwrap(), body);
            }
        }
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "connection closed before a whole response: {buf:?}");
        buf.extend_from_slice(&b[..n]);
    }
}

fn post(target: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn run(flavor: Flavor) {
    let bin = compile_c("start_upload", &[&root().join("tests/c/start_upload.c")], &[], flavor);
    let dir = out_dir().join(format!("start-upload-{flavor:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let outside = out_dir().join(format!("start-upload-outside-{flavor:?}.txt"));
    std::fs::write(&outside, "keep").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link.bin")).unwrap();
    let (child, port) = Child::server(&bin, &[dir.to_str().unwrap()]);

    // 320 KiB through a 64 KiB http_max_body, then a second request on the connection.
    let big: Vec<u8> = (0..320 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let mut s = connect(port);
    assert_eq!(
        exchange(&mut s, &post("/up?name=big.bin", &big)),
        (201, "stored\n".into())
    );
    assert_eq!(
        exchange(&mut s, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"),
        (200, "pong".into())
    );
    drop(s);
    assert_eq!(std::fs::read(dir.join("big.bin")).unwrap(), big);

    let mut s = connect(port);
    assert_eq!(
        exchange(&mut s, &post("/dflt?name=d.txt", b"default")),
        (200, "ok\n".into())
    );
    assert_eq!(
        exchange(&mut s, &post("/late?name=l.txt", b"late body")),
        (201, "stored\n".into())
    );
    assert_eq!(
        exchange(&mut s, &post("/up?name=..%2Fescape.txt", b"x")),
        (500, "bad name\n".into())
    );
    assert_eq!(
        exchange(&mut s, &post("/up?name=link.bin", b"more")),
        (500, "bad name\n".into())
    );
    assert_eq!(
        exchange(&mut s, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"),
        (200, "pong".into())
    );
    drop(s);
    assert_eq!(std::fs::read(dir.join("d.txt")).unwrap(), b"default");
    assert_eq!(std::fs::read(dir.join("l.txt")).unwrap(), b"late body");
    assert!(!out_dir().join("escape.txt").exists());
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep");

    // A client that sends half the body and leaves.
    let mut s = connect(port);
    let req = post("/up?name=cut.bin", &[b'c'; 20_000]);
    s.write_all(&req[..req.len() - 10_000]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    std::thread::sleep(Duration::from_millis(300));

    let mut s = connect(port);
    assert_eq!(
        exchange(&mut s, b"GET /quit HTTP/1.1\r\nHost: x\r\n\r\n"),
        (200, "bye\n".into())
    );
    drop(s);
    let f = child.finish();
    f.assert_clean_exit_with_bye();
    f.assert_no_sanitizer_report();
    let uploads: Vec<&str> = f
        .stdout
        .iter()
        .filter(|l| l.starts_with("upload:"))
        .map(|l| l.as_str())
        .collect();
    assert_eq!(
        uploads,
        [
            "upload: ok",
            "upload: ok",
            "upload: bad name",
            "upload: bad name",
            "upload: connection closed"
        ],
        "{}",
        f.describe()
    );
    // The default callback logged instead of printing; the cut file holds what came.
    let cut = std::fs::read(dir.join("cut.bin")).unwrap();
    assert!(
        !cut.is_empty() && cut.len() < 20_000 && cut.iter().all(|&b| b == b'c'),
        "{}",
        cut.len()
    );
    assert!(f.stdout.iter().any(|l| l == "live 1"), "{}", f.describe());
    let closes = f.stdout.iter().filter(|l| *l == "close").count();
    assert_eq!(
        closes,
        5,
        "one MG_EV_CLOSE per client connection and the listener: {}",
        f.describe()
    );
}

#[test]
fn start_upload_from_c() {
    run(Flavor::Plain);
}

#[test]
fn start_upload_from_c_sanitized() {
    run(Flavor::Sanitized);
}
