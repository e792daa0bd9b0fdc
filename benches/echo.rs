//! Echo benchmark (issue 2): meerkat against a plain C `poll()` echo server, measured in the
//! same run, so that the numbers that matter are ratios (machines are shared and noisy).
//!
//! 1. Round trips per second, 64-byte messages, at 1 and at 100 connections, for
//!    `benches/c/meerkat_echo.c` (linked with a release `libmeerkat.a`) and
//!    `benches/c/poll_echo.c`, both built with `gcc -O2`. Both servers run for the whole
//!    benchmark; after a warm-up, measured slices of the two alternate (A B B A A B ...), so
//!    that load from elsewhere on the machine hits both alike. Also reported: the server's
//!    CPU time per round trip (`/proc/<pid>/schedstat`), which contention disturbs less.
//! 2. Heap bytes held per idle server-side connection, measured in this process with a
//!    counting global allocator around a meerkat manager driven through the FFI.
//!
//! Run: `cargo bench --bench echo`. Knobs (environment): `ECHO_BENCH_SECS` (measured seconds
//! per server and connection count, default 6), `ECHO_BENCH_SLICE` (seconds per slice,
//! default 0.5), `ECHO_BENCH_THREADS` (client threads for the 100-connection runs, default 2),
//! `ECHO_BENCH_PIN` (`same`: default, servers and clients on one CPU; `split`; `none`; see
//! [`Pin`]), `ECHO_BENCH_IDLE` (idle connections, default 1000). See `benches/README.md`.
//! This is a benchmark, not a test: it reports, it does not assert the targets.

#[path = "common/mod.rs"]
mod common;
#[path = "common/heap.rs"]
mod heap;

use std::ffi::{c_int, c_void, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::{connect, env_num, load_average, pin_to, BenchResult, Server, Tally};
use heap::{c_heap_in_use, Mgr, CLIENT_LIVE, IN_CLIENT, LIVE};
use meerkat::ffi::*;

// ---- configuration --------------------------------------------------------------------

const MSG: usize = 64;
const WARMUP: Duration = Duration::from_millis(500);
const SERVERS: [&str; 2] = ["meerkat", "poll"];

struct Config {
    /// Measured seconds per server and connection count.
    secs: f64,
    /// Length of one measured slice; slices of the two servers alternate.
    slice: f64,
    /// Client threads for the 100-connection runs.
    threads: usize,
    /// Idle connections for the heap measurement.
    idle: usize,
    /// Where the servers and the client threads run.
    pin: Pin,
}

/// CPU placement of the servers and the client threads during the round-trip runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pin {
    /// Server and client threads on one CPU: a round trip costs the CPU time of the whole
    /// path (client, kernel, server) and no cross-CPU wakeup, which in a VM costs tens of
    /// microseconds and varies with the host; so this is the stable, server-sensitive mode.
    Same,
    /// Server on one CPU, client threads on another.
    Split,
    /// Wherever the scheduler puts them.
    None,
}

impl Pin {
    fn parse(s: &str) -> Option<Pin> {
        match s {
            "same" => Some(Pin::Same),
            "split" => Some(Pin::Split),
            "none" => Some(Pin::None),
            _ => None,
        }
    }
    /// (server CPU, client CPU) for this mode, given the CPUs this process may use.
    fn cpus(self, allowed: &[usize]) -> (Option<usize>, Option<usize>) {
        match (self, allowed) {
            (Pin::Same, [c, ..]) => (Some(*c), Some(*c)),
            (Pin::Split, [c, s, ..]) => (Some(*s), Some(*c)),
            _ => (None, None),
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let slice = env_num("ECHO_BENCH_SLICE", 0.5f64).clamp(0.05, 10.0);
    let cfg = Config {
        secs: env_num("ECHO_BENCH_SECS", 6.0f64).clamp(slice, 600.0),
        slice,
        threads: env_num("ECHO_BENCH_THREADS", 2usize).clamp(1, 100),
        idle: env_num("ECHO_BENCH_IDLE", 1000usize).clamp(10, 20_000),
        pin: match std::env::var("ECHO_BENCH_PIN") {
            Ok(v) => match Pin::parse(&v) {
                Some(p) => p,
                None => {
                    eprintln!("ECHO_BENCH_PIN must be same, split or none");
                    std::process::exit(2);
                }
            },
            Err(_) => Pin::Same,
        },
    };
    if let Err(e) = run(&cfg) {
        eprintln!("echo bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(cfg: &Config) -> BenchResult<()> {
    let nofile = common::raise_nofile((2 * cfg.idle + 256) as libc::rlim_t)?;
    let bins = build_servers()?;
    let allowed = common::allowed_cpus();
    let (server_cpu, client_cpu) = cfg.pin.cpus(&allowed);
    let servers = [
        Server::start(SERVERS[0], &bins[0], server_cpu)?,
        Server::start(SERVERS[1], &bins[1], server_cpu)?,
    ];
    let slices = (cfg.secs / cfg.slice).round().max(1.0) as usize;
    println!(
        "{} measured slices of {} s per server and connection count, servers alternating; \
         placement {:?} (server CPU {server_cpu:?}, client CPU {client_cpu:?}; CPUs allowed {allowed:?}); \
         RLIMIT_NOFILE {nofile}; load average {}",
        slices,
        cfg.slice,
        cfg.pin,
        load_average()
    );

    let mut results = Vec::new();
    for conns in [1usize, 100] {
        let threads = if conns == 1 { 1 } else { cfg.threads.min(conns) };
        let slice = Duration::from_secs_f64(cfg.slice);
        let r = compare(&servers, conns, threads, client_cpu, slices, slice)?;
        r.print_detail();
        results.push(r);
    }
    drop(servers);

    let plain = heap_per_idle_conn(cfg.idle, false)?;
    let with_data = heap_per_idle_conn(cfg.idle, true)?;

    println!();
    println!(
        "== summary (64-byte messages; ratios > 1 favour meerkat; load average now {}) ==",
        load_average()
    );
    for r in &results {
        r.print_summary();
    }
    println!(
        "heap per idle conn: {} bytes (target <= 4096) [server side, Rust allocator, {} conns]",
        plain.rust_per_conn, plain.conns
    );
    println!(
        "  malloc heap (mallinfo2, chunk overhead included): {}",
        plain.c_heap_note()
    );
    println!(
        "  with mg_conn_data used on accept: {} bytes Rust; malloc heap {}",
        with_data.rust_per_conn,
        with_data.c_heap_note()
    );
    println!(
        "  client side (std TcpStream), subtracted: {} bytes in total for {} conns",
        plain.client_total, plain.conns
    );
    Ok(())
}

// ---- building ---------------------------------------------------------------------------

/// Build both servers; returns their binaries in `SERVERS` order (meerkat, poll).
fn build_servers() -> BenchResult<[PathBuf; 2]> {
    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "bench-c")?;
    let c = common::root().join("benches").join("c");
    let meerkat = dir.join("meerkat_echo");
    let poll = dir.join("poll_echo");
    common::gcc(&c.join("meerkat_echo.c"), &meerkat, &common::meerkat_link(&lib))?;
    common::gcc(&c.join("poll_echo.c"), &poll, &[])?;
    println!(
        "servers: {} (with {}), {}",
        meerkat.display(),
        lib.display(),
        poll.display()
    );
    Ok([meerkat, poll])
}

// ---- the servers --------------------------------------------------------------------------

/// The echo servers: `common::Server`, started here, with their CPU time from `schedstat`.
impl Server {
    /// Start `bin` and read the port it listens on from its first line of output.
    fn start(name: &str, bin: &Path, cpu: Option<usize>) -> BenchResult<Server> {
        // The servers also exit on their own (alarm) after 10 minutes.
        let mut child = Command::new(bin)
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {name}: {e}"))?;
        let stdout = child.stdout.take();
        let mut server = Server {
            name: name.to_owned(),
            child,
            port: 0,
        };
        if let Some(cpu) = cpu {
            pin_to(server.child.id() as libc::pid_t, cpu)?;
        }
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("{name} did not print its port within 10 s"))?;
        server.port = line
            .trim()
            .parse()
            .map_err(|_| format!("{name} printed {line:?}, not a port"))?;
        Ok(server)
    }

    /// CPU time the server has used so far, in nanoseconds (`/proc/<pid>/schedstat`; the
    /// servers are single-threaded), or `None` where that file does not exist.
    fn cpu_ns(&self) -> Option<u64> {
        std::fs::read_to_string(format!("/proc/{}/schedstat", self.child.id()))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

// ---- the load generator -------------------------------------------------------------------

/// One client thread until `end`: its connections in round robin, each with one 64-byte
/// message in flight: write to every connection, then read each echo back in full
/// (blocking, with timeouts). With one connection this is plain ping-pong. Returns the
/// connections and the number of round trips done.
fn drive(mut socks: Vec<TcpStream>, mut seq: u64, end: Instant) -> BenchResult<(Vec<TcpStream>, u64)> {
    let mut out = [0u8; MSG];
    let mut back = [0u8; MSG];
    let mut done = 0;
    loop {
        for (i, s) in socks.iter_mut().enumerate() {
            out[..8].copy_from_slice(&(seq + i as u64).to_le_bytes());
            s.write_all(&out).map_err(|e| format!("write: {e}"))?;
        }
        for (i, s) in socks.iter_mut().enumerate() {
            s.read_exact(&mut back).map_err(|e| format!("read echo: {e}"))?;
            if back[..8] != (seq + i as u64).to_le_bytes() {
                return Err("echo returned other bytes than were sent".into());
            }
        }
        seq += socks.len() as u64;
        done += socks.len() as u64;
        if Instant::now() >= end {
            return Ok((socks, done));
        }
    }
}

/// The client side for one server: connections split over threads.
struct Load {
    groups: Vec<Vec<TcpStream>>,
    seq: u64,
}

impl Load {
    fn open(port: u16, conns: usize, threads: usize) -> BenchResult<Load> {
        let mut socks = (0..conns).map(|_| connect(port)).collect::<BenchResult<Vec<_>>>()?;
        let per = conns.div_ceil(threads);
        let mut groups = Vec::new();
        while !socks.is_empty() {
            let rest = socks.split_off(per.min(socks.len()));
            groups.push(std::mem::replace(&mut socks, rest));
        }
        Ok(Load { groups, seq: 0 })
    }

    /// Run every thread for `dur` (on `cpu` if given); returns (round trips, elapsed).
    fn run(&mut self, dur: Duration, cpu: Option<usize>) -> BenchResult<(u64, Duration)> {
        let start = Instant::now();
        let end = start + dur;
        let mut handles = Vec::new();
        for (g, socks) in std::mem::take(&mut self.groups).into_iter().enumerate() {
            let seq = self.seq.wrapping_add((g as u64) << 40);
            handles.push(std::thread::spawn(move || {
                if let Some(cpu) = cpu {
                    pin_to(0, cpu)?;
                }
                drive(socks, seq, end)
            }));
        }
        let done = common::join_all(handles)?;
        let elapsed = start.elapsed();
        let mut total = 0;
        for (socks, n) in done {
            self.groups.push(socks);
            total += n;
        }
        self.seq = self.seq.wrapping_add(total);
        Ok((total, elapsed))
    }
}

struct Comparison {
    conns: usize,
    threads: usize,
    /// meerkat's and poll's slices (operations are round trips).
    tally: [Tally; 2],
}

impl Comparison {
    /// meerkat/poll of each pair of adjacent slices, sorted.
    fn pair_ratios(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.tally[0]
            .rates
            .iter()
            .zip(&self.tally[1].rates)
            .map(|(m, p)| m / p)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }
    fn print_detail(&self) {
        for (name, t) in SERVERS.iter().zip(&self.tally) {
            let rates: Vec<String> = t.rates.iter().map(|r| format!("{r:.0}")).collect();
            println!("{:>3} conn {name:>7}: slices {}", self.conns, rates.join(" "));
        }
    }
    fn print_summary(&self) {
        let [mk, pl] = &self.tally;
        let pairs = self.pair_ratios();
        let mid = pairs.len() / 2;
        let median = if pairs.len().is_multiple_of(2) {
            (pairs[mid - 1] + pairs[mid]) / 2.0
        } else {
            pairs[mid]
        };
        println!(
            "echo rt/s {:>3} conn: meerkat {:.0}  poll {:.0}  ratio {:.2} (target >= 0.8; slice pairs: median {:.2}, \
             range {:.2}..{:.2}; {} client thread(s))",
            self.conns,
            mk.rate(),
            pl.rate(),
            mk.rate() / pl.rate(),
            median,
            pairs[0],
            pairs[pairs.len() - 1],
            self.threads
        );
        if let (Some(m), Some(p)) = (mk.cpu_us(), pl.cpu_us()) {
            println!(
                "  server CPU per round trip: meerkat {m:.2} us  poll {p:.2} us  efficiency ratio poll/meerkat {:.2}",
                p / m
            );
        }
    }
}

/// Both servers at `conns` connections: warm-up, then `slices` slices each, alternating
/// A B B A A B ... so that a burst of load from elsewhere hits both alike.
fn compare(
    servers: &[Server; 2],
    conns: usize,
    threads: usize,
    cpu: Option<usize>,
    slices: usize,
    slice: Duration,
) -> BenchResult<Comparison> {
    let mut loads = [
        Load::open(servers[0].port, conns, threads)?,
        Load::open(servers[1].port, conns, threads)?,
    ];
    for l in &mut loads {
        l.run(WARMUP, cpu)?;
    }
    let tally = common::alternate(
        slices,
        |s| loads[s].run(slice, cpu),
        |s| servers[s].cpu_ns().map(|ns| ns as f64 / 1e9),
    )?;
    Ok(Comparison { conns, threads, tally })
}

// ---- heap per idle connection (in process) --------------------------------------------------

/// Whether the in-process handler calls `mg_conn_data` on `MG_EV_ACCEPT` (user storage, which
/// meerkat allocates with `calloc`, outside the Rust allocator: see `src/ffi/callback.rs`).
static TOUCH_DATA: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn echo_handler(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_ACCEPT && TOUCH_DATA.load(Ordering::Relaxed) {
        let _ = meerkat::ffi::conn::mg_conn_data(c);
    }
    if ev == MG_EV_READ {
        let r = meerkat::ffi::conn::mg_recv(c);
        if meerkat::ffi::conn::mg_send(c, r.buf as *const c_void, r.len) == 0 {
            meerkat::ffi::conn::mg_recv_consume(c, r.len);
        }
    }
}

struct HeapReport {
    conns: usize,
    /// Rust heap held per server-side connection (client side subtracted).
    rust_per_conn: isize,
    /// Whole malloc heap (`mallinfo2`: `uordblks + hblkhd`) held per connection: meerkat's
    /// Rust and C allocations with chunk overhead (the client thread's share is ~0).
    c_heap_per_conn: Option<isize>,
    /// Bytes the client thread still held at the end (Rust allocator), all connections.
    client_total: isize,
}

impl HeapReport {
    fn c_heap_note(&self) -> String {
        match self.c_heap_per_conn {
            Some(b) => format!("{b} bytes per conn in the whole malloc heap, incl. chunk overhead"),
            None => "malloc heap not measurable here".into(),
        }
    }
}

/// What the heap measurement shares with its client thread.
struct IdleClient {
    start: Barrier,
    finish: Barrier,
    done: AtomicBool,
    abort: AtomicBool,
    result: Mutex<Option<BenchResult<Vec<TcpStream>>>>,
}

/// Open `socks.capacity()` connections one by one, each after a 64-byte echo, and keep them.
fn idle_clients(port: u16, mut socks: Vec<TcpStream>, abort: &AtomicBool) -> BenchResult<Vec<TcpStream>> {
    for i in 0..socks.capacity() {
        if abort.load(Ordering::Relaxed) {
            return Err("idle clients aborted".into());
        }
        let mut s = connect(port)?;
        let mut msg = [b'x'; MSG];
        msg[..8].copy_from_slice(&(i as u64).to_le_bytes());
        s.write_all(&msg).map_err(|e| format!("idle write: {e}"))?;
        let mut back = [0u8; MSG];
        s.read_exact(&mut back).map_err(|e| format!("idle read: {e}"))?;
        if back != msg {
            return Err("idle echo mismatch".into());
        }
        socks.push(s);
    }
    Ok(socks)
}

/// Open `n` idle connections to an in-process meerkat listener, each after one 64-byte echo,
/// and report the heap they hold.
fn heap_per_idle_conn(n: usize, touch_data: bool) -> BenchResult<HeapReport> {
    TOUCH_DATA.store(touch_data, Ordering::Relaxed);
    let mut m = Mgr::new()?;
    let url = CString::new("tcp://127.0.0.1:0").map_err(|e| e.to_string())?;
    let l = meerkat::ffi::conn::mg_listen(m.ptr(), url.as_ptr(), Some(echo_handler), std::ptr::null_mut());
    let port = heap::listener_port(l, "mg_listen")?;

    // Warm up: one-time allocations (scratch buffers, first poll set) are not per connection.
    {
        let warm: Vec<TcpStream> = (0..8).map(|_| connect(port)).collect::<BenchResult<_>>()?;
        m.poll_until(10, "warm-up accepts", |m| m.stats().live_conns == 9)?;
        drop(warm);
        m.poll_until(10, "warm-up closes", |m| m.stats().live_conns == 1)?;
        for _ in 0..3 {
            m.poll(1)?;
        }
    }

    // The client thread and everything it shares with this one exist before the "before"
    // snapshot, and it is joined only after the "after" one, so that std's own bookkeeping
    // for the thread is outside the window. What the client thread allocates in the window
    // is counted apart (CLIENT_LIVE) and subtracted.
    let shared = Arc::new(IdleClient {
        start: Barrier::new(2),
        finish: Barrier::new(2),
        done: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        result: Mutex::new(None),
    });
    let socks: Vec<TcpStream> = Vec::with_capacity(n);
    let t = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            shared.start.wait();
            IN_CLIENT.with(|c| c.set(true));
            let r = idle_clients(port, socks, &shared.abort);
            *shared.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            shared.done.store(true, Ordering::SeqCst);
            IN_CLIENT.with(|c| c.set(false));
            shared.finish.wait();
        })
    };
    let accepted0 = m.stats().accepted;
    let live0 = LIVE.load(Ordering::SeqCst);
    let client0 = CLIENT_LIVE.load(Ordering::SeqCst);
    let c0 = c_heap_in_use();
    shared.start.wait();
    let waited = m.poll_until(120, "idle clients connected and echoed", |m| {
        shared.done.load(Ordering::SeqCst) && m.stats().accepted - accepted0 >= n as u64
    });
    let settled = waited.and_then(|_| (0..3).try_for_each(|_| m.poll(1)));
    let live1 = LIVE.load(Ordering::SeqCst);
    let client1 = CLIENT_LIVE.load(Ordering::SeqCst);
    let c1 = c_heap_in_use();
    shared.abort.store(true, Ordering::SeqCst);
    shared.finish.wait();
    t.join().map_err(|_| "idle client thread panicked".to_string())?;
    settled?;
    let result = shared.result.lock().unwrap_or_else(|e| e.into_inner()).take();
    let socks = result.ok_or("idle client thread gave no result")??;
    let stats = m.stats();
    if stats.live_conns as usize != n + 1 {
        return Err(format!(
            "expected {} live conns, manager has {}",
            n + 1,
            stats.live_conns
        ));
    }
    let client_total = client1 - client0;
    let server_total = (live1 - live0) - client_total;
    drop(socks);
    m.poll_until(30, "idle clients closed", |m| m.stats().live_conns == 1)?;
    Ok(HeapReport {
        conns: n,
        rust_per_conn: server_total / n as isize,
        c_heap_per_conn: c0.zip(c1).map(|(a, b)| (b - a) / n as isize),
        client_total,
    })
}
