//! HTTP benchmark (issue 3): meerkat's HTTP/1.1 server against servers installable from
//! Debian (CivetWeb, GNU libmicrohttpd), measured in the same run and driven by `wrk`, so that
//! the numbers that matter are ratios (machines are shared and noisy).
//!
//! Servers, all built with `gcc -O2` here:
//! - meerkat: `benches/c/meerkat_hello.c` (linked with a release `libmeerkat.a`): every
//!   request gets `mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hello\n")`, paths
//!   under `/static/` go to `mg_http_serve_dir`. For the static-file scenarios the C example
//!   `c-examples/http-server/main.c` is used instead when it exists and builds (it serves its
//!   web root with `mg_http_serve_dir`, as firmware would).
//! - civetweb: `benches/c/civetweb_hello.c` against Debian's `libcivetweb` (a request handler
//!   for `/hello` writing the whole response with one `mg_printf`, CivetWeb's cheapest way;
//!   CivetWeb's own static file handler for the rest; 256 worker threads, since CivetWeb holds
//!   a thread per keep-alive connection). The issue's targets are judged against this one.
//! - mhd: `benches/c/mhd_hello.c` against Debian's `libmicrohttpd` (one internal thread with
//!   epoll; static files with `MHD_create_response_from_fd`, i.e. sendfile).
//!
//! Scenarios: keep-alive `GET /hello` at 1, 50 and 200 connections; `Connection: close` at 50;
//! a 1 MiB static file at 1 and 50 connections. For each scenario every server is started
//! afresh (so that its peak RSS belongs to that scenario), checked with one real request
//! (status and body compared), warmed up with `wrk`, then measured in rounds whose server
//! order alternates (A B C, C B A, ...) so that load from elsewhere hits all alike. Per
//! server: requests/s, p99 latency (the worst round's), the server's CPU time per request
//! (utime + stime from `/proc/<pid>/stat`, all threads, before and after each run, divided by
//! the requests completed: on a small machine `wrk` competes for the cores, so CPU per request
//! is the figure that shows a server's own cost) and peak RSS (`VmHWM`).
//!
//! Before measuring, [`sigpipe_probe`] checks whether meerkat survives clients that close
//! while a file is being sent (it did not, on 2026-11-22: SIGPIPE from `sendfile`); the
//! measured servers all run with SIGPIPE ignored.
//!
//! Run: `cargo bench --bench http`. It first calls `scripts/setup.sh wrk libcivetweb-dev
//! libmicrohttpd-dev` (installs what is missing). Knobs (environment): `HTTP_BENCH_SECS`
//! (seconds per wrk run, default 2), `HTTP_BENCH_ROUNDS` (measured runs per server and
//! scenario, default 3), `HTTP_BENCH_WARMUP` (warm-up seconds, default 1), `HTTP_BENCH_PEERS`
//! (comma-separated, default `civetweb,mhd`; also `civetweb-ok`: CivetWeb answering hello
//! through `mg_send_http_ok` + `mg_write`, which writes the head line by line),
//! `HTTP_BENCH_EXTERNAL` (comma-separated `name=/path/to/binary`: prebuilt servers started
//! like `meerkat_hello`, with `URL WEB_ROOT`, e.g. a Mongoose build made by hand),
//! `HTTP_BENCH_ONLY` (comma-separated scenario keys, e.g. `hello-ka-200`; default all),
//! `HTTP_BENCH_PIN` (`same`, the default: in the 1-connection scenarios the server and wrk
//! are pinned to one CPU, because on this kind of VM a wakeup across CPUs costs tens of
//! microseconds and varies with the host, which would swamp a ping-pong; `none`: no pinning).
//! This is a benchmark, not a test: it reports, it does not assert the targets.

#[path = "common/mod.rs"]
mod common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{env_num, load_average, pin_command, verdict, BenchResult, Server};

// ---- configuration --------------------------------------------------------------------

const STATIC_PATH: &str = "/static/1m.bin";
const STATIC_SIZE: usize = 1 << 20;
const HELLO_PATH: &str = "/hello";
const HELLO_BODY: &[u8] = b"hello\n";
/// wrk's per-request timeout; slower responses count as errors.
const WRK_TIMEOUT: &str = "5s";

struct Config {
    secs: u32,
    rounds: usize,
    warmup: u32,
    peers: Vec<String>,
    /// Prebuilt servers from `HTTP_BENCH_EXTERNAL` (`name=/path/to/binary`), started like
    /// `meerkat_hello` (`URL WEB_ROOT`): a way to measure a peer this repository does not build
    /// (such as Mongoose itself) in the same run.
    external: Vec<(String, PathBuf)>,
    only: Option<Vec<String>>,
    /// CPU to pin the server and wrk to in the 1-connection scenarios (`None`: no pinning).
    pin_one: Option<usize>,
}

fn env_list(name: &str) -> Option<Vec<String>> {
    std::env::var(name).ok().map(|v| {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// One load pattern.
struct Scenario {
    key: &'static str,
    title: &'static str,
    path: &'static str,
    conns: usize,
    threads: usize,
    close: bool,
}

impl Scenario {
    fn is_static(&self) -> bool {
        self.path == STATIC_PATH
    }
}

const SCENARIOS: [Scenario; 6] = [
    Scenario {
        key: "hello-ka-1",
        title: "hello, keep-alive, 1 connection",
        path: HELLO_PATH,
        conns: 1,
        threads: 1,
        close: false,
    },
    Scenario {
        key: "hello-ka-50",
        title: "hello, keep-alive, 50 connections",
        path: HELLO_PATH,
        conns: 50,
        threads: 2,
        close: false,
    },
    Scenario {
        key: "hello-ka-200",
        title: "hello, keep-alive, 200 connections",
        path: HELLO_PATH,
        conns: 200,
        threads: 2,
        close: false,
    },
    Scenario {
        key: "hello-close-50",
        title: "hello, Connection: close, 50 connections",
        path: HELLO_PATH,
        conns: 50,
        threads: 2,
        close: true,
    },
    Scenario {
        key: "static-1",
        title: "1 MiB static file, keep-alive, 1 connection",
        path: STATIC_PATH,
        conns: 1,
        threads: 1,
        close: false,
    },
    Scenario {
        key: "static-50",
        title: "1 MiB static file, keep-alive, 50 connections",
        path: STATIC_PATH,
        conns: 50,
        threads: 2,
        close: false,
    },
];

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let cfg = Config {
        secs: env_num("HTTP_BENCH_SECS", 2u32).clamp(1, 600),
        rounds: env_num("HTTP_BENCH_ROUNDS", 3usize).clamp(1, 100),
        warmup: env_num("HTTP_BENCH_WARMUP", 1u32).min(60),
        peers: env_list("HTTP_BENCH_PEERS").unwrap_or_else(|| vec!["civetweb".into(), "mhd".into()]),
        external: env_list("HTTP_BENCH_EXTERNAL")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                let (name, bin) = e.split_once('=')?;
                Some((name.to_owned(), PathBuf::from(bin)))
            })
            .collect(),
        only: env_list("HTTP_BENCH_ONLY"),
        pin_one: match std::env::var("HTTP_BENCH_PIN").as_deref() {
            Ok("none") => None,
            _ => common::allowed_cpus().first().copied(),
        },
    };
    if let Err(e) = run(&cfg) {
        eprintln!("http bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(cfg: &Config) -> BenchResult<()> {
    common::setup(&["wrk", "libcivetweb-dev", "libmicrohttpd-dev"]);
    let nofile = common::raise_nofile(4096)?;
    let bins = build_servers(&cfg.peers)?;
    let www = web_root(&bins.dir)?;
    let script = bins.dir.join("report.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| format!("write {}: {e}", script.display()))?;

    println!(
        "{} | RLIMIT_NOFILE {nofile} | load average {}",
        common::machine(),
        load_average()
    );
    println!(
        "{} round(s) of {} s per server and scenario after {} s warm-up, server order alternating; \
         every server started afresh per scenario; 1-connection scenarios: {}",
        cfg.rounds,
        cfg.secs,
        cfg.warmup,
        cfg.pin_one.map_or("not pinned".to_string(), |c| format!(
            "server and wrk pinned to CPU {c}"
        ))
    );

    println!(
        "SIGPIPE probe (servers below run with SIGPIPE ignored): {}",
        sigpipe_probe(&bins.meerkat_hello, &www.0)?
    );

    let mut results = Vec::new();
    for sc in &SCENARIOS {
        if cfg.only.as_ref().is_some_and(|o| !o.iter().any(|k| k == sc.key)) {
            continue;
        }
        let r = measure(cfg, &bins, &www, &script, sc)?;
        r.print();
        results.push(r);
    }
    print_targets(&results);
    println!("load average at the end: {}", load_average());
    Ok(())
}

// ---- building ---------------------------------------------------------------------------

struct Bins {
    /// Where the binaries, the web root and the wrk script live.
    dir: PathBuf,
    meerkat_hello: PathBuf,
    /// The `c-examples/http-server` build, for the static-file scenarios.
    meerkat_example: Option<PathBuf>,
    /// (name, binary) of each peer.
    peers: Vec<(String, PathBuf)>,
}

/// [`common::gcc`] with `-g` (for `perf annotate` and callgrind on the servers) before `after`.
fn gcc(src: &Path, out: &Path, after: &[&OsStr]) -> BenchResult<()> {
    let mut args = vec![OsStr::new("-g")];
    args.extend_from_slice(after);
    common::gcc(src, out, &args)
}

fn build_servers(peers: &[String]) -> BenchResult<Bins> {
    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "bench-http")?;
    let c = common::root().join("benches").join("c");
    let meerkat_link = common::meerkat_link(&lib);

    let meerkat_hello = dir.join("meerkat_hello");
    gcc(&c.join("meerkat_hello.c"), &meerkat_hello, &meerkat_link)?;
    println!("meerkat: {} (with {})", meerkat_hello.display(), lib.display());

    let example_src = common::root().join("c-examples").join("http-server").join("main.c");
    let meerkat_example = if example_src.exists() {
        // A name of its own: nothing else on the machine should mistake it for theirs.
        let bin = dir.join("meerkat_http_server_example");
        match gcc(&example_src, &bin, &meerkat_link) {
            Ok(()) => {
                println!("meerkat static-file scenarios: {}", bin.display());
                Some(bin)
            }
            Err(e) => {
                println!("note: c-examples/http-server does not build ({e}); static files from meerkat_hello");
                None
            }
        }
    } else {
        println!("note: no c-examples/http-server; static files from meerkat_hello");
        None
    };

    let mut built = Vec::new();
    for p in peers {
        let (src, args): (&str, &[&str]) = match p.as_str() {
            "civetweb" => ("civetweb_hello.c", &["-lcivetweb", "-lpthread"]),
            "civetweb-ok" => ("civetweb_hello.c", &["-DHELLO_SEND_HTTP_OK", "-lcivetweb", "-lpthread"]),
            "mhd" => ("mhd_hello.c", &["-lmicrohttpd"]),
            other => return Err(format!("unknown peer {other:?} (known: civetweb, civetweb-ok, mhd)")),
        };
        let bin = dir.join(format!("{}_hello", p.replace('-', "_")));
        let link: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        gcc(&c.join(src), &bin, &link)?;
        println!("{p}: {} ({})", bin.display(), package_version(p));
        built.push((p.clone(), bin));
    }
    Ok(Bins {
        dir,
        meerkat_hello,
        meerkat_example,
        peers: built,
    })
}

fn package_version(peer: &str) -> String {
    let pkg = match peer {
        "civetweb" | "civetweb-ok" => "libcivetweb-dev",
        _ => "libmicrohttpd-dev",
    };
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${Version}", pkg])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{pkg} version unknown"))
}

/// The web root: `static/1m.bin`, 1 MiB of pseudo-random bytes. Returns (root, file bytes).
fn web_root(dir: &Path) -> BenchResult<(PathBuf, Vec<u8>)> {
    let www = dir.join("www");
    let st = www.join("static");
    std::fs::create_dir_all(&st).map_err(|e| format!("mkdir {}: {e}", st.display()))?;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..STATIC_SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let f = st.join("1m.bin");
    std::fs::write(&f, &data).map_err(|e| format!("write {}: {e}", f.display()))?;
    Ok((www, data))
}

// ---- the servers --------------------------------------------------------------------------

/// The servers: `common::Server`, started here, with their memory from `/proc/<pid>/status`.
impl Server {
    /// Start `bin` with its listening argument (a URL for meerkat's programs, a port for the
    /// peers) and the web root, and wait until it accepts connections.
    ///
    /// With `ignore_sigpipe` the server starts with SIGPIPE ignored, as daemons usually run
    /// (see [`sigpipe_probe`] for why this matters); otherwise with the default disposition.
    /// With `cpu` the server (all its threads) runs on that CPU only.
    fn start(
        name: &str,
        bin: &Path,
        url_arg: bool,
        www: &Path,
        ignore_sigpipe: bool,
        cpu: Option<usize>,
    ) -> BenchResult<Server> {
        let port = common::free_port()?;
        let listen = if url_arg {
            format!("http://127.0.0.1:{port}")
        } else {
            port.to_string()
        };
        // meerkat_hello and the peers also exit on their own (alarm) after 10 minutes.
        let mut cmd = Command::new(bin);
        cmd.arg(listen)
            .arg(www)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if ignore_sigpipe {
            // SAFETY: the closure runs in the child between fork and exec and only calls
            // signal(2), which is async-signal-safe. (std resets SIGPIPE to the default
            // before running it; SIG_IGN survives exec.)
            unsafe {
                cmd.pre_exec(|| {
                    libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                    Ok(())
                });
            }
        }
        pin_command(&mut cmd, cpu);
        let child = cmd.spawn().map_err(|e| format!("start {name}: {e}"))?;
        Server {
            name: name.to_owned(),
            child,
            port,
        }
        .wait_ready()
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`), in KiB.
    fn status_kib(&self, field: &str) -> Option<u64> {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()?
            .lines()
            .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    fn threads(&self) -> Option<u64> {
        self.status_kib("Threads")
    }
}

/// Whether a meerkat server started with the default SIGPIPE disposition survives clients
/// that ask for the static file and close their socket at once (what wrk does to the
/// requests in flight at the end of every run). Returns a one-line verdict.
///
/// Why it is here: measured on 2026-11-22, the file body goes out with `sendfile(2)`, which
/// has no `MSG_NOSIGNAL`; when the peer has gone (the head's `send` drew its RST), sendfile
/// fails with EPIPE and the kernel raises SIGPIPE, which kills a process that has not ignored
/// it. The measured servers are therefore all started with SIGPIPE ignored.
fn sigpipe_probe(bin: &Path, www: &Path) -> BenchResult<String> {
    let mut s = Server::start("meerkat (SIGPIPE default)", bin, true, www, false, None)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], s.port));
    for i in 1..=20 {
        if let Ok(mut c) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            let _ = write!(c, "GET {STATIC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        }
        std::thread::sleep(Duration::from_millis(20));
        if let Ok(Some(st)) = s.child.try_wait() {
            return Ok(format!(
                "NOT ROBUST: meerkat_hello died after {i} client(s) that sent `GET {STATIC_PATH}` and closed at once: {st}"
            ));
        }
    }
    Ok("ok: meerkat_hello survived 20 clients that sent a file request and closed at once".into())
}

/// One `GET path` on a fresh connection; checks status 200 and the body.
fn check(server: &Server, path: &str, want: &[u8]) -> BenchResult<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
    let err = |e: std::io::Error| format!("{}: GET {path}: {e}", server.name);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(err)?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(err)?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").map_err(err)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(err)?;
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{}: GET {path}: no complete response head", server.name))?;
    let head = String::from_utf8_lossy(&resp[..head_end]);
    let status = head.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("{}: GET {path}: {status:?}", server.name));
    }
    if &resp[head_end + 4..] != want {
        return Err(format!(
            "{}: GET {path}: body of {} bytes differs from the {} expected",
            server.name,
            resp.len() - head_end - 4,
            want.len()
        ));
    }
    Ok(())
}

// ---- the load generator -------------------------------------------------------------------

/// wrk script: only a `done` hook (wrk keeps its fast path), printing one parseable line.
const WRK_SCRIPT: &str = r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"#;

/// One wrk run against one server.
#[derive(Clone, Default)]
struct Run {
    requests: u64,
    secs: f64,
    bytes: u64,
    /// connect, read, write, status (non-2xx/3xx), timeout.
    errors: [u64; 5],
    p99_us: f64,
    /// Server CPU ticks during the run.
    cpu_ticks: Option<u64>,
}

fn wrk(server: &Server, sc: &Scenario, secs: u32, script: &Path, cpu: Option<usize>) -> BenchResult<Run> {
    let mut cmd = Command::new("wrk");
    pin_command(&mut cmd, cpu);
    cmd.arg(format!("-t{}", sc.threads))
        .arg(format!("-c{}", sc.conns))
        .arg(format!("-d{secs}s"))
        .args(["--latency", "--timeout", WRK_TIMEOUT, "-s"])
        .arg(script);
    if sc.close {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(format!("http://127.0.0.1:{}{}", server.port, sc.path));
    let cpu0 = server.cpu_ticks();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run wrk (install wrk): {e}"))?;
    let cpu1 = server.cpu_ticks();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("BENCH ")).ok_or_else(|| {
        format!(
            "wrk against {} gave no report ({}):\n{text}{}",
            server.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let field = |k: &str| -> BenchResult<u64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("wrk report without {k}: {line}"))
    };
    Ok(Run {
        requests: field("requests")?,
        secs: field("duration_us")? as f64 / 1e6,
        bytes: field("bytes")?,
        errors: [
            field("connect")?,
            field("read")?,
            field("write")?,
            field("status")?,
            field("timeout")?,
        ],
        p99_us: field("p99_us")? as f64,
        cpu_ticks: cpu0.zip(cpu1).map(|(a, b)| b.saturating_sub(a)),
    })
}

// ---- measuring --------------------------------------------------------------------------------

/// What one server did in one scenario.
struct Tally {
    name: String,
    runs: Vec<Run>,
    hwm_kib: Option<u64>,
    threads: Option<u64>,
}

impl Tally {
    fn requests(&self) -> u64 {
        self.runs.iter().map(|r| r.requests).sum()
    }
    fn rps(&self) -> f64 {
        self.requests() as f64 / self.runs.iter().map(|r| r.secs).sum::<f64>()
    }
    /// MiB/s of everything wrk read (heads included).
    fn mib_per_s(&self) -> f64 {
        self.runs.iter().map(|r| r.bytes).sum::<u64>() as f64
            / (1u64 << 20) as f64
            / self.runs.iter().map(|r| r.secs).sum::<f64>()
    }
    /// The worst round's p99, milliseconds.
    fn p99_ms(&self) -> f64 {
        self.runs.iter().map(|r| r.p99_us).fold(0.0, f64::max) / 1000.0
    }
    /// Server CPU time per request, microseconds.
    fn cpu_us(&self) -> Option<f64> {
        let ticks: u64 = self.runs.iter().map(|r| r.cpu_ticks).sum::<Option<u64>>()?;
        let hz = common::clock_ticks_per_sec()?;
        (self.requests() > 0).then(|| ticks as f64 * 1e6 / hz / self.requests() as f64)
    }
    fn errors(&self) -> u64 {
        self.runs.iter().flat_map(|r| r.errors).sum()
    }
}

struct Outcome {
    key: &'static str,
    title: &'static str,
    is_static: bool,
    wrk_args: String,
    tallies: Vec<Tally>,
}

impl Outcome {
    fn get(&self, name: &str) -> Option<&Tally> {
        self.tallies.iter().find(|t| t.name == name)
    }

    fn print(&self) {
        println!();
        println!("== {} [{}] (wrk {}) ==", self.title, self.key, self.wrk_args);
        println!(
            "{:<10} {:>10} {:>9} {:>9} {:>13} {:>14} {:>8} {:>7}  req/s per round",
            "server",
            "req/s",
            if self.is_static { "MiB/s" } else { "" },
            "p99 ms",
            "CPU us/req",
            "peak RSS KiB",
            "threads",
            "errors"
        );
        for t in &self.tallies {
            let rounds: Vec<String> = t
                .runs
                .iter()
                .map(|r| format!("{:.0}", r.requests as f64 / r.secs))
                .collect();
            println!(
                "{:<10} {:>10.0} {:>9} {:>9.2} {:>13} {:>14} {:>8} {:>7}  {}",
                t.name,
                t.rps(),
                if self.is_static {
                    format!("{:.0}", t.mib_per_s())
                } else {
                    String::new()
                },
                t.p99_ms(),
                t.cpu_us().map_or("?".into(), |v| format!("{v:.2}")),
                t.hwm_kib.map_or("?".into(), |v| v.to_string()),
                t.threads.map_or("?".into(), |v| v.to_string()),
                t.errors(),
                rounds.join(" ")
            );
        }
        let Some(mk) = self.get("meerkat") else { return };
        for peer in self.tallies.iter().filter(|t| t.name != "meerkat") {
            println!(
                "meerkat/{:<9} req/s {:.2}x (>1 better)  p99 {:.2}x  CPU/req {}  peak RSS {}  (<1 better)",
                peer.name,
                mk.rps() / peer.rps(),
                mk.p99_ms() / peer.p99_ms(),
                ratio(mk.cpu_us(), peer.cpu_us()),
                ratio(mk.hwm_kib.map(|v| v as f64), peer.hwm_kib.map(|v| v as f64)),
            );
        }
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "?".into(),
    }
}

/// All servers in one scenario: started afresh, checked, warmed up, then `rounds` wrk runs
/// each, the order alternating between rounds.
fn measure(cfg: &Config, bins: &Bins, www: &(PathBuf, Vec<u8>), script: &Path, sc: &Scenario) -> BenchResult<Outcome> {
    let (dir, file) = www;
    let mk_bin = match (&bins.meerkat_example, sc.is_static()) {
        (Some(example), true) => example,
        _ => &bins.meerkat_hello,
    };
    let cpu = if sc.conns == 1 { cfg.pin_one } else { None };
    let mut servers = vec![Server::start("meerkat", mk_bin, true, dir, true, cpu)?];
    for (name, bin) in &bins.peers {
        servers.push(Server::start(name, bin, false, dir, true, cpu)?);
    }
    for (name, bin) in &cfg.external {
        servers.push(Server::start(name, bin, true, dir, true, cpu)?);
    }
    let want: &[u8] = if sc.is_static() { file } else { HELLO_BODY };
    for s in &servers {
        check(s, sc.path, want)?;
    }
    if cfg.warmup > 0 {
        for s in &servers {
            wrk(s, sc, cfg.warmup, script, cpu)?;
        }
    }
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); servers.len()];
    for round in 0..cfg.rounds {
        let mut order: Vec<usize> = (0..servers.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            runs[i].push(wrk(&servers[i], sc, cfg.secs, script, cpu)?);
        }
    }
    let tallies = servers
        .iter()
        .zip(runs)
        .map(|(s, runs)| Tally {
            name: s.name.clone(),
            runs,
            hwm_kib: s.status_kib("VmHWM"),
            threads: s.threads(),
        })
        .collect();
    Ok(Outcome {
        key: sc.key,
        title: sc.title,
        is_static: sc.is_static(),
        wrk_args: format!(
            "-t{} -c{}{}, {} x {} s",
            sc.threads,
            sc.conns,
            if sc.close { " -H 'Connection: close'" } else { "" },
            cfg.rounds,
            cfg.secs
        ),
        tallies,
    })
}

// ---- the issue's targets ------------------------------------------------------------------------

fn print_targets(results: &[Outcome]) {
    println!();
    println!("== targets (issue 3), against CivetWeb measured in this run ==");
    let pair = |key: &str| -> Option<(&Tally, &Tally)> {
        let o = results.iter().find(|o| o.key == key)?;
        Some((o.get("meerkat")?, o.get("civetweb")?))
    };
    let mut all = Vec::new();

    // 1. CPU per keep-alive request <= 0.35x CivetWeb's.
    for key in ["hello-ka-1", "hello-ka-50", "hello-ka-200"] {
        let Some((mk, cw)) = pair(key) else {
            println!("CPU per keep-alive request [{key}]: not measured");
            continue;
        };
        match (mk.cpu_us(), cw.cpu_us()) {
            (Some(m), Some(c)) => {
                let r = m / c;
                all.push(r <= 0.35);
                println!(
                    "CPU per keep-alive request [{key}]: meerkat {m:.2} us, civetweb {c:.2} us: {r:.2}x (target <= 0.35x): {}",
                    verdict(r <= 0.35)
                );
            }
            _ => println!("CPU per keep-alive request [{key}]: CPU time not readable"),
        }
    }

    // 2. 1 MiB static throughput >= 1.0x CivetWeb's.
    for key in ["static-1", "static-50"] {
        let Some((mk, cw)) = pair(key) else {
            println!("1 MiB static throughput [{key}]: not measured");
            continue;
        };
        let r = mk.rps() / cw.rps();
        all.push(r >= 1.0);
        println!(
            "1 MiB static throughput [{key}]: meerkat {:.0} MiB/s, civetweb {:.0} MiB/s: {r:.2}x (target >= 1.0x): {}",
            mk.mib_per_s(),
            cw.mib_per_s(),
            verdict(r >= 1.0)
        );
    }

    // 3. Peak RSS at 200 keep-alive connections <= 0.5x CivetWeb's.
    match pair("hello-ka-200") {
        Some((mk, cw)) => match (mk.hwm_kib, cw.hwm_kib) {
            (Some(m), Some(c)) => {
                let r = m as f64 / c as f64;
                all.push(r <= 0.5);
                println!(
                    "peak RSS at 200 keep-alive connections: meerkat {m} KiB, civetweb {c} KiB: {r:.2}x (target <= 0.5x): {}",
                    verdict(r <= 0.5)
                );
            }
            _ => println!("peak RSS at 200 keep-alive connections: VmHWM not readable"),
        },
        None => println!("peak RSS at 200 keep-alive connections: not measured"),
    }
    common::print_checks_met(&all);
}
