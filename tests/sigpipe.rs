//! A C program (which, unlike Rust programs, does not ignore SIGPIPE) serving a large file
//! must survive clients that ask for it and close the connection at once: the file body goes
//! out with sendfile(2), which has no MSG_NOSIGNAL. Found by the HTTP benchmark.

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
