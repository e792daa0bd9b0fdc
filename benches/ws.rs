//! WebSocket benchmark (issue 10, item 7): meerkat against Mongoose, built in the same run,
//! so that the figures that matter are ratios (the machine is shared and noisy).
//!
//! Servers: `benches/c/meerkat_ws.c` (release `libmeerkat.a`) and `benches/c/mongoose_ws.c`
//! with `mongoose.c` from `INSN_BENCH_MONGOOSE` (a Mongoose checkout with mongoose.c and
//! mongoose.h, e.g. a checkout of cesanta/mongoose at 7.22; built in a temporary directory, never copied into
//! the repository), both `gcc -O2`. The client offers no permessage-deflate (Mongoose has
//! none), so both send plain frames.
//!
//! 1. Echo: 10 connections in ping-pong, 32-byte binary messages (masked, as a client sends
//!    them): one message in flight per connection, from 2 client threads; echoes per second.
//! 2. Broadcast: 100 connections; a text "bcast K" on the first makes the server send K
//!    binary messages of 1 KiB to every WebSocket (meerkat: `mg_ws_wakeup_all`; Mongoose: the
//!    loop over `mgr->conns` with `mg_ws_send`), and the client reads all K × 100; messages
//!    delivered per second.
//!
//!    Slices of the two servers alternate (A B B A ...; `common::alternate`), and the ratio
//!    meerkat / Mongoose is printed against the target (≥ 1.3×).
//! 3. Instructions: each server under `valgrind --tool=callgrind`, the echo load of 1, then
//!    `callgrind_control -z`, `WS_BENCH_INSN_ROUNDS` (2000) echoes per connection, `-d`:
//!    user-space instructions per echoed message (target ≤ 0.5× Mongoose's).
//!
//! Run: `INSN_BENCH_MONGOOSE=/path/to/mongoose cargo bench --bench ws`. Knobs:
//! `WS_BENCH_SECS` (measured seconds per server and scenario, default 4), `WS_BENCH_SLICE`
//! (0.5). Without `INSN_BENCH_MONGOOSE`, only meerkat's figures are printed. A benchmark, not a
//! test: it reports and never fails on a target.

#[path = "common/callgrind.rs"]
mod callgrind;
#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{env_num, load_average, verdict, BenchResult, Server};

const ECHO_CONNS: usize = 10;
const ECHO_MSG: usize = 32;
const THREADS: usize = 2;
const BCAST_CONNS: usize = 100;
const BCAST_MSG: usize = 1024;
/// Broadcasts asked for at a time.
const BCAST_K: usize = 8;

fn main() {
    println!("websocket | {} | load average {}", common::machine(), load_average());
    if let Err(e) = run() {
        println!("ws bench failed: {e}");
    }
}

struct Prog {
    name: &'static str,
    bin: PathBuf,
}

fn run() -> BenchResult<()> {
    common::raise_nofile(4096)?;
    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "bench-ws")?;
    let mk = dir.join("meerkat_ws");
    common::gcc(
        &common::root().join("benches/c/meerkat_ws.c"),
        &mk,
        &common::meerkat_link(&lib),
    )?;
    let mut progs = vec![Prog {
        name: "meerkat",
        bin: mk,
    }];
    match std::env::var_os("INSN_BENCH_MONGOOSE") {
        Some(m) => progs.push(Prog {
            name: "mongoose",
            bin: common::build_mongoose_prog(Path::new(&m), "mongoose_ws")?,
        }),
        None => println!("mongoose: skipped: set INSN_BENCH_MONGOOSE=/path/to/mongoose (mongoose.c, mongoose.h)"),
    }
    let secs: f64 = env_num("WS_BENCH_SECS", 4.0);
    let slice: f64 = env_num("WS_BENCH_SLICE", 0.5);
    let rounds = ((secs / slice).round() as usize).max(1);
    let slice = Duration::from_secs_f64(slice);

    // ---- throughput, alternating: fresh servers per scenario (a broadcast reaches every
    // WebSocket of a server, echo connections included) ---------------------------------
    let mut results = Vec::new();
    for (key, unit) in [("echo", "echoes/s"), ("broadcast", "messages/s")] {
        let servers: Vec<Server> = progs.iter().map(|p| start_with(p, None)).collect::<BenchResult<_>>()?;
        let n = if key == "echo" { ECHO_CONNS } else { BCAST_CONNS };
        let mut conns: Vec<Vec<TcpStream>> = servers
            .iter()
            .map(|s| (0..n).map(|_| ws_connect(s.port)).collect())
            .collect::<BenchResult<_>>()?;
        let mut load = |s: usize, d: Duration| {
            if key == "echo" {
                echo_for(&mut conns[s], d)
            } else {
                bcast_for(&mut conns[s], d)
            }
        };
        for s in 0..servers.len() {
            load(s, Duration::from_millis(300))?; // warm-up
        }
        let tally = if servers.len() == 2 {
            common::alternate(rounds, |s| load(s, slice), |s| servers[s].cpu_secs())?
                .into_iter()
                .collect::<Vec<_>>()
        } else {
            let mut t = common::Tally::default();
            for _ in 0..rounds {
                let (n, el) = load(0, slice)?;
                t.ops += n;
                t.secs += el.as_secs_f64();
            }
            vec![t]
        };
        for (p, t) in progs.iter().zip(&tally) {
            let cpu = t
                .cpu_us()
                .map_or(String::new(), |c| format!("  server CPU {c:.2} us/message"));
            println!("  {:<9} {:<10} {:>12.0} {unit}{cpu}", p.name, key, t.rate());
        }
        results.push((key, tally.iter().map(common::Tally::rate).collect::<Vec<_>>()));
    }

    // ---- instructions per echoed message --------------------------------------------
    let insn_rounds: usize = env_num("WS_BENCH_INSN_ROUNDS", 2000);
    let mut insn = Vec::new();
    for p in &progs {
        match instructions(p, &dir, insn_rounds) {
            Ok((ir, allocs)) => {
                println!(
                    "  {:<9} echo       {:>9.0} instructions/message  {:>6.2} allocations/message",
                    p.name, ir, allocs
                );
                insn.push(ir);
            }
            Err(e) => println!("  {:<9} instructions failed: {e}", p.name),
        }
    }

    println!();
    println!("== summary: WebSocket, meerkat vs Mongoose 7.x in the same run ==");
    let mut met = Vec::new();
    for (key, rates) in &results {
        if let [m, g] = rates[..] {
            let ok = m >= 1.3 * g;
            met.push(ok);
            println!(
                "  {key:<10} meerkat {m:>10.0}/s  mongoose {g:>10.0}/s  ratio {:.2}x (target >= 1.3x): {}",
                m / g,
                verdict(ok)
            );
        } else if let [m] = rates[..] {
            println!("  {key:<10} meerkat {m:>10.0}/s");
        }
    }
    if let [m, g] = insn[..] {
        let ok = m <= 0.5 * g;
        met.push(ok);
        println!(
            "  echo instructions/message: meerkat {m:.0}  mongoose {g:.0}  ratio {:.2}x (target <= 0.5x): {}",
            m / g,
            verdict(ok)
        );
    }
    common::print_checks_met(&met);
    Ok(())
}

/// Start `p` on a free port (under callgrind when asked, writing `out`) and wait for it.
fn start_with(p: &Prog, callgrind: Option<&Path>) -> BenchResult<Server> {
    let port = common::free_port()?;
    let mut cmd = match callgrind {
        Some(out) => {
            let mut c = Command::new("valgrind");
            c.args(["--tool=callgrind", "--quiet"])
                .arg(format!("--callgrind-out-file={}", out.display()))
                .arg(&p.bin);
            c
        }
        None => Command::new(&p.bin),
    };
    let child = cmd
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("600")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start {}: {e}", p.name))?;
    let mut s = Server {
        name: p.name.to_string(),
        child,
        port,
    };
    if let Some(out) = s.child.stdout.take() {
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| format!("{}: {e}", p.name))?;
    }
    s.wait_ready()
}

// ---- a minimal WebSocket client (no extensions) ------------------------------------------

fn ws_connect(port: u16) -> BenchResult<TcpStream> {
    let mut s = common::connect(port)?;
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| format!("write upgrade: {e}"))?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).map_err(|e| format!("read 101: {e}"))? == 0 {
            return Err("closed during the upgrade".into());
        }
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(format!("upgrade refused: {}", String::from_utf8_lossy(&head)));
    }
    Ok(s)
}

/// A masked client frame (payload < 126 bytes).
fn client_frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x12u8, 0x34, 0x56, 0x78];
    let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Read one server frame; returns its payload length.
fn read_frame(s: &mut TcpStream, buf: &mut Vec<u8>) -> BenchResult<usize> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).map_err(|e| format!("read frame: {e}"))?;
    let len = match h[1] & 0x7f {
        126 => {
            let mut e = [0u8; 2];
            s.read_exact(&mut e).map_err(|e| format!("read frame: {e}"))?;
            u16::from_be_bytes(e) as usize
        }
        127 => return Err("unexpected 64-bit frame length".into()),
        n => n as usize,
    };
    buf.resize(len, 0);
    s.read_exact(buf).map_err(|e| format!("read payload: {e}"))?;
    Ok(len)
}

/// Ping-pong on every connection for `d`, from THREADS threads: (echoes, elapsed).
fn echo_for(conns: &mut Vec<TcpStream>, d: Duration) -> BenchResult<(u64, Duration)> {
    let frame = client_frame(2, &[7u8; ECHO_MSG]);
    let t0 = Instant::now();
    let per = conns.len().div_ceil(THREADS);
    let mut it = std::mem::take(conns).into_iter();
    let mut handles = Vec::new();
    for _ in 0..THREADS {
        let mut mine: Vec<TcpStream> = it.by_ref().take(per).collect();
        let frame = frame.clone();
        handles.push(std::thread::spawn(move || -> BenchResult<(Vec<TcpStream>, u64)> {
            let mut buf = Vec::with_capacity(64);
            let mut n = 0;
            while t0.elapsed() < d {
                for s in mine.iter_mut() {
                    s.write_all(&frame).map_err(|e| format!("write: {e}"))?;
                }
                for s in mine.iter_mut() {
                    if read_frame(s, &mut buf)? != ECHO_MSG {
                        return Err("echo of the wrong length".into());
                    }
                    n += 1;
                }
            }
            Ok((mine, n))
        }));
    }
    let mut total = 0;
    for (mine, n) in common::join_all(handles)? {
        conns.extend(mine);
        total += n;
    }
    Ok((total, t0.elapsed()))
}

/// Broadcast rounds for `d`: "bcast K" on the first connection, then K messages read from
/// every connection. (messages delivered, elapsed).
fn bcast_for(conns: &mut [TcpStream], d: Duration) -> BenchResult<(u64, Duration)> {
    let ask = client_frame(1, format!("bcast {BCAST_K}").as_bytes());
    let t0 = Instant::now();
    let mut buf = Vec::with_capacity(BCAST_MSG);
    let mut n = 0u64;
    while t0.elapsed() < d {
        conns[0].write_all(&ask).map_err(|e| format!("write: {e}"))?;
        for s in conns.iter_mut() {
            for _ in 0..BCAST_K {
                if read_frame(s, &mut buf)? != BCAST_MSG {
                    return Err("broadcast of the wrong length".into());
                }
                n += 1;
            }
        }
    }
    Ok((n, t0.elapsed()))
}

/// (instructions, allocations) per echoed message, the server under callgrind.
fn instructions(p: &Prog, dir: &Path, rounds: usize) -> BenchResult<(f64, f64)> {
    let out = dir.join(format!("callgrind.ws.{}", p.name));
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with(&*out.file_name().unwrap_or_default().to_string_lossy())
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let server = start_with(p, Some(&out))?;
    let pid = server.child.id().to_string();
    let mut conns: Vec<TcpStream> = (0..ECHO_CONNS)
        .map(|_| ws_connect(server.port))
        .collect::<BenchResult<_>>()?;
    echo_rounds(&mut conns, 20)?;
    callgrind::control(&pid, "-z")?;
    let n = echo_rounds(&mut conns, rounds)?;
    callgrind::control(&pid, "-d")?;
    drop(conns);
    let dump = PathBuf::from(format!("{}.1", out.display()));
    let text = std::fs::read_to_string(&dump).map_err(|e| format!("read {}: {e}", dump.display()))?;
    drop(server);
    let (ir, allocs) = callgrind::parse_callgrind(&text)?;
    Ok((ir as f64 / n as f64, allocs as f64 / n as f64))
}

/// Exactly `rounds` echoes per connection (single thread): the number of echoes.
fn echo_rounds(conns: &mut [TcpStream], rounds: usize) -> BenchResult<u64> {
    let frame = client_frame(2, &[7u8; ECHO_MSG]);
    let mut buf = Vec::new();
    let mut n = 0;
    for _ in 0..rounds {
        for s in conns.iter_mut() {
            s.write_all(&frame).map_err(|e| format!("write: {e}"))?;
        }
        for s in conns.iter_mut() {
            read_frame(s, &mut buf)?;
            n += 1;
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    Ok(n)
}
