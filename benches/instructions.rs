//! User-space instructions per HTTP request, counted deterministically with valgrind's
//! callgrind (issue 9, item 5). A benchmark, not a test: it prints figures and MET / NOT MET
//! against the budgets and never fails on them.
//!
//! Servers, each started under `valgrind --tool=callgrind` (whole process, all threads):
//! - meerkat: `benches/c/meerkat_hello.c` linked against the release `libmeerkat.a`, `gcc -O2`;
//! - epoll: `benches/c/epoll_hello.c`, a plain epoll loop that writes a fixed reply (the floor);
//! - mongoose: `benches/c/mongoose_hello.c` + `mongoose.c` from `INSN_BENCH_MONGOOSE` (a
//!   Mongoose checkout with mongoose.c and mongoose.h), `gcc -O2`, built in a temporary
//!   directory. Skipped when the variable is not set.
//!
//! Per server and scenario (`GET /hello`, `GET /static/1k.bin`), keep-alive over 50
//! connections: a warm-up of 4 requests per connection, `callgrind_control -z` (zero), exactly
//! `INSN_BENCH_ROUNDS` (40) requests per connection from 2 client threads (each writes a
//! request on each of its 25 connections, then reads every response: one request in flight
//! per connection, as wrk does), `callgrind_control -d` (dump). Instructions per request =
//! the dump's total Ir / requests. Allocations per request = calls to malloc, calloc and
//! realloc in the dump / requests (Rust's allocator calls malloc too).
#[path = "common/callgrind.rs"]
mod callgrind;
#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use callgrind::{control, parse_callgrind};
use common::{env_num, load_average, verdict, BenchResult, Server};

const CONNS: usize = 50;
const THREADS: usize = 2;
const HELLO_BUDGET: f64 = 3000.0;
const STATIC_BUDGET: f64 = 10000.0;

fn main() {
    println!(
        "instructions per request | {} | load average {}",
        common::machine(),
        load_average()
    );
    if let Err(e) = run() {
        println!("instructions bench failed: {e}");
    }
}

struct Prog {
    name: &'static str,
    bin: PathBuf,
}

fn run() -> BenchResult<()> {
    common::setup(&["valgrind"]);
    common::raise_nofile(4096)?;
    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "bench-insn")?;
    let www = common::web_root_1k(&dir)?;
    let mut progs = Vec::new();
    let mk = dir.join("meerkat_hello");
    common::gcc(
        &common::root().join("benches/c/meerkat_hello.c"),
        &mk,
        &common::meerkat_link(&lib),
    )?;
    progs.push(Prog {
        name: "meerkat",
        bin: mk,
    });
    let ep = dir.join("epoll_hello");
    common::gcc(&common::root().join("benches/c/epoll_hello.c"), &ep, &[])?;
    progs.push(Prog { name: "epoll", bin: ep });
    match std::env::var_os("INSN_BENCH_MONGOOSE") {
        Some(m) => progs.push(Prog {
            name: "mongoose",
            bin: common::build_mongoose_prog(Path::new(&m), "mongoose_hello")?,
        }),
        None => println!("mongoose: skipped: set INSN_BENCH_MONGOOSE=/path/to/mongoose (mongoose.c, mongoose.h)"),
    }
    let rounds: usize = env_num("INSN_BENCH_ROUNDS", 40);
    let scenarios = [
        ("hello", "/hello", HELLO_BUDGET),
        ("static-1k", "/static/1k.bin", STATIC_BUDGET),
    ];
    let mut results = Vec::new(); // (prog, scenario, instructions/req, mallocs/req)
    for p in &progs {
        for (key, path, _) in scenarios {
            match measure(p, &www, &dir, path, rounds) {
                Ok((ir, allocs)) => {
                    println!(
                        "  {:<9} {:<10} {:>9.0} instructions/request  {:>6.2} allocations/request",
                        p.name, key, ir, allocs
                    );
                    results.push((p.name, key, ir, allocs));
                }
                Err(e) => println!("  {:<9} {:<10} failed: {e}", p.name, key),
            }
        }
    }
    let get = |n: &str, k: &str| results.iter().find(|r| r.0 == n && r.1 == k).map(|r| (r.2, r.3));
    println!();
    println!("== summary: user-space instructions per keep-alive request, {CONNS} connections, {} requests each run (callgrind, whole process) ==", CONNS * rounds);
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>14} {:>12}",
        "scenario", "meerkat", "mongoose", "epoll", "meerkat/mong.", "budget"
    );
    let mut met = Vec::new();
    for (key, _, budget) in scenarios {
        let m = get("meerkat", key);
        let g = get("mongoose", key);
        let e = get("epoll", key);
        let f = |v: Option<(f64, f64)>| v.map_or("-".to_string(), |v| format!("{:.0}", v.0));
        let ratio = m.zip(g).map_or("-".to_string(), |(m, g)| format!("{:.2}x", m.0 / g.0));
        println!(
            "{key:<12} {:>10} {:>10} {:>10} {:>14} {:>12}",
            f(m),
            f(g),
            f(e),
            ratio,
            format!("<= {budget:.0}")
        );
        if let Some(m) = m {
            let ok = m.0 <= budget;
            met.push(ok);
            println!(
                "  meerkat {key}: {:.0} instructions/request (budget <= {budget:.0}): {}",
                m.0,
                verdict(ok)
            );
            if let Some(g) = g {
                let ok = m.0 <= 0.5 * g.0;
                met.push(ok);
                println!(
                    "  meerkat {key}: {:.2}x Mongoose (budget <= 0.5x): {}",
                    m.0 / g.0,
                    verdict(ok)
                );
            }
        }
    }
    println!("allocations per request (malloc + calloc + realloc calls in the callgrind dump / requests):");
    for (key, _, _) in scenarios {
        let f = |n: &str| get(n, key).map_or("-".to_string(), |v| format!("{:.2}", v.1));
        println!(
            "  {key:<10} meerkat {}  mongoose {}  epoll {}",
            f("meerkat"),
            f("mongoose"),
            f("epoll")
        );
    }
    if let Some(m) = get("meerkat", "hello") {
        // Whole-request allocation: a fraction below 1 is the connection's own setup spread
        // over its requests, not a per-request allocation.
        let ok = m.1 < 0.5;
        met.push(ok);
        println!(
            "  meerkat hello path allocates per request: {} (budget: no heap allocation per request): {}",
            if ok { "no" } else { "yes" },
            verdict(ok)
        );
    }
    common::print_checks_met(&met);
    Ok(())
}

/// One scenario on a fresh server under callgrind: (instructions, allocations) per request.
fn measure(p: &Prog, www: &Path, dir: &Path, path: &str, rounds: usize) -> BenchResult<(f64, f64)> {
    let port = common::free_port()?;
    let out = dir.join(format!(
        "callgrind.{}.{}",
        p.name,
        path.trim_matches('/').replace('/', "_")
    ));
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with(&*out.file_name().unwrap_or_default().to_string_lossy())
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let child = Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&p.bin)
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(www)
        .arg("300")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start valgrind (install valgrind): {e}"))?;
    let server = Server {
        name: format!("{} under callgrind", p.name),
        child,
        port,
    }
    .wait_ready()?;
    let pid = server.child.id().to_string();
    let mut conns: Vec<TcpStream> = (0..CONNS).map(|_| common::connect(port)).collect::<BenchResult<_>>()?;
    load(&mut conns, port, path, 4)?; // warm-up: buffers, first-time paths
    control(&pid, "-z")?;
    let n = load(&mut conns, port, path, rounds)?;
    control(&pid, "-d")?;
    drop(conns);
    let dump = PathBuf::from(format!("{}.1", out.display()));
    let text = std::fs::read_to_string(&dump).map_err(|e| format!("read {}: {e}", dump.display()))?;
    drop(server);
    let (ir, allocs) = parse_callgrind(&text)?;
    Ok((ir as f64 / n as f64, allocs as f64 / n as f64))
}

/// `rounds` requests on each connection, one in flight per connection, from THREADS threads;
/// returns the number of requests completed (every response checked: 200 and a body).
fn load(conns: &mut Vec<TcpStream>, port: u16, path: &str, rounds: usize) -> BenchResult<u64> {
    let req = common::http_get_request(path, port);
    let per = conns.len().div_ceil(THREADS);
    let mut handles = Vec::new();
    let all = std::mem::take(conns);
    let mut it = all.into_iter();
    for _ in 0..THREADS {
        let mut mine: Vec<TcpStream> = it.by_ref().take(per).collect();
        let req = req.clone();
        handles.push(std::thread::spawn(move || -> BenchResult<(Vec<TcpStream>, u64)> {
            let mut buf = Vec::with_capacity(8192);
            let mut n = 0;
            for _ in 0..rounds {
                for s in mine.iter_mut() {
                    s.write_all(&req).map_err(|e| format!("write request: {e}"))?;
                }
                for s in mine.iter_mut() {
                    let (status, len) = common::read_http_response(s, &mut buf)?;
                    if status != 200 || len == 0 {
                        return Err(format!("status {status}, body {len} bytes"));
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
    std::thread::sleep(Duration::from_millis(20));
    Ok(total)
}
