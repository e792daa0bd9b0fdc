//! A C program (which, unlike Rust programs, does not ignore SIGPIPE) serving a large file
//! must survive clients that ask for it and close the connection at once: the file body goes
//! out with sendfile(2), which has no MSG_NOSIGNAL. Found by the HTTP benchmark. Its stdout
//! is closed, so the error lines it logs for those clients go into a dead pipe too.

mod common;
use common::cbuild::{compile_c, free_port, Flavor};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "meerkat.h"
static const char *root;
static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts = {0};
    opts.root_dir = root;
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}
int main(int argc, char **argv) {
  struct mg_mgr mgr;
  if (argc < 3) return 2;
  root = argv[2];
  signal(SIGPIPE, SIG_DFL); /* the default a C program starts with */
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0) return 1;
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 50);
}
"#;

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn close_during_sendfile_does_not_kill_the_process() {
    // Under this target dir's tmp/: runs with other CARGO_TARGET_DIRs do not share it.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sigpipe-test");
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/big.bin"), vec![7u8; 8 << 20]).unwrap();
    let src = dir.join("server.c");
    std::fs::write(&src, SERVER).unwrap();
    let bin = compile_c("sigpipe-server", &[&src], &[], Flavor::Plain);
    let port = free_port();
    let mut child = Command::new(&bin)
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(dir.join("www"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 6];
    // stdout is closed after "ready": each failed send is then logged (an ERROR line, as in
    // Mongoose) into a closed pipe, which must not raise SIGPIPE either.
    child.stdout.take().unwrap().read_exact(&mut ready).unwrap();
    let mut server = Kill(child);
    for _ in 0..30 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        drop(c); // close at once: the head draws an RST, then the body hits EPIPE
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "the server died: {:?}",
            server.0.try_wait()
        );
    }
    // Still serving.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    let t = Instant::now();
    c.read_to_end(&mut all).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(all.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let body = all.windows(4).position(|w| w == b"\r\n\r\n").map(|i| &all[i + 4..]);
    assert!(
        body.is_some_and(|b| b.len() == 8 << 20 && b.iter().all(|&x| x == 7)),
        "the whole file"
    );
    assert!(server.0.try_wait().unwrap().is_none());
}

// ---- TLS ----------------------------------------------------------------------------------
//
// TLS records go out through rustls's `write_tls`, which writes with `write_vectored`: on a
// plain `TcpStream` that is writev(2), which has no MSG_NOSIGNAL. A peer that resets during
// the handshake or in the middle of a response then killed the process (status 141).

/// The Mongoose-style C server of `tests/c/tls_scheme_server.c` (TLS set up in
/// `MG_EV_ACCEPT` when `is_tls`), on `http://` and `https://`, SIGPIPE untouched.
#[cfg(feature = "tls")]
mod tls {
    use super::common::cbuild::{compile_c, free_port, root, Flavor};
    use super::common::data::TempDir;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    const BIG: usize = 1 << 20;

    struct Server {
        proc: Child,
        lines: mpsc::Receiver<String>,
        seen: Vec<String>,
        http: u16,
        https: u16,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.proc.kill();
            let _ = self.proc.wait();
        }
    }

    impl Server {
        fn start(dir: &TempDir) -> Server {
            let src = root().join("tests/c/tls_scheme_server.c");
            let bin = compile_c("sigpipe-tls-server", &[&src], &[], Flavor::Plain);
            let certs = root().join("c-examples/https-server");
            let (http, https) = (free_port(), free_port());
            let mut proc = Command::new(bin)
                .arg(format!("http://127.0.0.1:{http}"))
                .arg(format!("https://127.0.0.1:{https}"))
                .arg(certs.join("test-cert.pem"))
                .arg(certs.join("test-key.pem"))
                .arg(dir.dir())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the server");
            let (tx, lines) = mpsc::channel();
            let out = proc.stdout.take().unwrap();
            std::thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
            let mut s = Server {
                proc,
                lines,
                seen: Vec::new(),
                http,
                https,
            };
            s.wait_line("sigpipe default=1 blocked=0");
            s.wait_line(&format!("listening on https://127.0.0.1:{https}"));
            s
        }

        fn wait_line(&mut self, want: &str) {
            let end = Instant::now() + Duration::from_secs(15);
            while !self.seen.iter().any(|l| l == want) {
                let left = end.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok(l) => self.seen.push(l),
                    Err(_) => {
                        let st = self.status();
                        panic!("no line {want:?}; got {:?}; {st}", self.seen)
                    }
                }
            }
        }

        fn status(&mut self) -> String {
            match self.proc.try_wait().expect("try_wait") {
                None => "still running".into(),
                Some(st) => format!("exited: {st} (signal {:?}, code {:?})", st.signal(), st.code()),
            }
        }

        /// Still running: not killed by SIGPIPE (status 141 in a shell) or anything else.
        fn assert_alive(&mut self, after: &str) {
            let st = self.status();
            assert_eq!(st, "still running", "the server died after {after}");
        }
    }

    use super::common::tls::{client_hello, tls_client};

    /// Close with a TCP RST (SO_LINGER {1, 0}).
    fn reset(s: TcpStream) {
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER");
        drop(s);
    }

    fn connect(port: u16, rcvbuf: Option<usize>) -> TcpStream {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        if let Some(n) = rcvbuf {
            s.set_recv_buffer_size(n).unwrap();
        }
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        s.connect_timeout(&addr.into(), Duration::from_secs(5))
            .expect("connect");
        let s: TcpStream = s.into();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// ClientHello, then give the server time to answer it, then RST or FIN.
    fn hello_then(port: u16, rst: bool) {
        let mut s = connect(port, None);
        s.write_all(&client_hello()).unwrap();
        if rst {
            reset(s);
        } else {
            s.shutdown(Shutdown::Write).unwrap();
            drop(s);
        }
    }

    /// A full handshake, `GET /big.bin`, a little of the response read with a small receive
    /// window (so the server is blocked writing the rest), then RST.
    fn reset_mid_response(port: u16) {
        let sock = connect(port, Some(4096));
        let mut tls = rustls::StreamOwned::new(tls_client(), sock);
        tls.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 4096];
        let n = tls.read(&mut buf).expect("the start of the response");
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        std::thread::sleep(Duration::from_millis(20));
        reset(tls.sock);
    }

    /// One HTTPS request with `Connection: close`; the whole response.
    fn https_get(port: u16, path: &str) -> Vec<u8> {
        let mut tls = rustls::StreamOwned::new(tls_client(), connect(port, None));
        write!(tls, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut all = Vec::new();
        let end = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 65536];
        while Instant::now() < end {
            match tls.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) => panic!("HTTPS read: {e} after {} bytes", all.len()),
            }
        }
        all
    }

    fn http_get(port: u16, path: &str) -> Vec<u8> {
        let mut s = connect(port, None);
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).expect("HTTP response");
        all
    }

    #[test]
    fn tls_resets_do_not_kill_a_server_that_leaves_sigpipe_alone() {
        let dir = TempDir::new("sigpipe-tls");
        std::fs::write(dir.path("big.bin"), vec![b'x'; BIG]).unwrap();
        std::fs::write(dir.path("small.txt"), b"small\n").unwrap();
        let mut srv = Server::start(&dir);
        let port = srv.https;
        // The server works, and a big response arrives whole before anything is tried.
        let big = https_get(port, "/big.bin");
        assert!(
            big.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&big[..big.len().min(200)])
        );
        assert!(big.ends_with(&[b'x'; 64]) && big.len() > BIG, "{} bytes", big.len());

        for i in 0..10 {
            hello_then(port, true);
            std::thread::sleep(Duration::from_millis(30));
            srv.assert_alive(&format!("ClientHello + RST #{i}"));
        }
        for i in 0..10 {
            reset_mid_response(port);
            std::thread::sleep(Duration::from_millis(30));
            srv.assert_alive(&format!("RST in the middle of a 1 MiB response #{i}"));
        }
        for i in 0..10 {
            hello_then(port, false);
            std::thread::sleep(Duration::from_millis(30));
            srv.assert_alive(&format!("ClientHello + FIN #{i}"));
        }

        // Still serving, over TLS and plain HTTP, and every dead connection is gone: the
        // live count comes back to the two listeners and the one asking.
        let r = https_get(port, "/small.txt");
        assert!(
            r.starts_with(b"HTTP/1.1 200") && r.ends_with(b"\r\n\r\nsmall\n"),
            "{:?}",
            String::from_utf8_lossy(&r)
        );
        let r = http_get(srv.http, "/small.txt");
        assert!(
            r.starts_with(b"HTTP/1.1 200") && r.ends_with(b"\r\n\r\nsmall\n"),
            "{:?}",
            String::from_utf8_lossy(&r)
        );
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let r = String::from_utf8_lossy(&https_get(port, "/stats")).into_owned();
            if r.ends_with("{\"live\":3}\n") {
                break;
            }
            assert!(Instant::now() < end, "connections left open: {r}");
            std::thread::sleep(Duration::from_millis(50));
        }
        srv.assert_alive("all of it");
    }
}
