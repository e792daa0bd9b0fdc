//! The Rust API examples (`examples/echo.rs`, `examples/http_server.rs`) build, run, and do
//! what they say against 127.0.0.1: the same as `cargo run --example NAME -- URL`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// `cargo build --examples` in this target dir; the path of each example's executable.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let all = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // As tests/common/cbuild.rs: drop what `cargo test` set for this test crate.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR") || k == "OUT_DIR" {
                cmd.env_remove(&k);
            }
        }
        let out = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--examples", "--message-format=json-render-diagnostics"])
            .output()
            .expect("run cargo build --examples");
        assert!(
            out.status.success(),
            "cargo build --examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"compiler-artifact\"") && l.contains("\"executable\":\""))
            .filter_map(|l| {
                l.split("\"executable\":\"")
                    .nth(1)?
                    .split('"')
                    .next()
                    .map(PathBuf::from)
            })
            .collect()
    });
    all.iter()
        .find(|p| p.file_stem().is_some_and(|s| s == name))
        .unwrap_or_else(|| panic!("example {name} not in {all:?}"))
        .clone()
}

/// A running example, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `name` with `url` (port 0) and return it with the address it prints.
fn start(name: &str, url: &str) -> (Running, String) {
    let mut child = Command::new(example(name))
        .arg(url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the first line");
    let addr = line
        .trim()
        .rsplit("://")
        .next()
        .unwrap_or_else(|| panic!("{name} printed {line:?}"))
        .to_string();
    (Running(child), addr)
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn http_server_serves_root_with_200() {
    let (_server, addr) = start("http_server", "http://127.0.0.1:0");
    let mut s = connect(&addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp:?}");
    assert!(resp.ends_with("\r\n\r\nHello from meerkat\n"), "{resp:?}");

    let mut s = connect(&addr);
    s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    assert!(
        resp.starts_with(b"HTTP/1.1 404 "),
        "{:?}",
        String::from_utf8_lossy(&resp)
    );
}

#[test]
fn echo_round_trips_bytes() {
    let (_server, addr) = start("echo", "tcp://127.0.0.1:0");
    let mut s = connect(&addr);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let writer = {
        let mut w = s.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || w.write_all(&data).unwrap())
    };
    let mut got = vec![0u8; data.len()];
    s.read_exact(&mut got).unwrap();
    writer.join().unwrap();
    assert!(got == data, "echoed bytes differ");
}
