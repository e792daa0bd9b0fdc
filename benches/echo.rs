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

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_int, c_void, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use meerkat::ffi::*;

// ---- counting allocator ---------------------------------------------------------------

/// Live bytes allocated through the Rust global allocator (all of meerkat's Rust heap).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The part of `LIVE` that threads marked as client threads allocated (and did not free).
static CLIENT_LIVE: AtomicIsize = AtomicIsize::new(0);

std::thread_local! {
    /// Set on the load-generating thread of the heap measurement. A `const` thread-local of
    /// a type without `Drop`: reading it never allocates, so it is safe inside the allocator.
    static IN_CLIENT: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

fn account(delta: isize) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
    if IN_CLIENT.try_with(|c| c.get()).unwrap_or(false) {
        CLIENT_LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes in use in the C heap (every malloc arena plus mmap-ed blocks), Rust's and C's alike,
/// when the C library can tell (glibc `mallinfo2`: `uordblks + hblkhd`).
fn c_heap_in_use() -> Option<isize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads allocator statistics.
        let mi = unsafe { libc::mallinfo2() };
        Some((mi.uordblks + mi.hblkhd) as isize)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

// ---- configuration --------------------------------------------------------------------

const MSG: usize = 64;
const IO_TIMEOUT: Duration = Duration::from_secs(5);
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

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most
    // size_of::<cpu_set_t>() bytes into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Pin thread or process `pid` (0: the calling thread) to `cpu`.
fn pin_to(pid: libc::pid_t, cpu: usize) -> BenchResult<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within it (cpu comes
    // from allowed_cpus, below CPU_SETSIZE); sched_setaffinity only reads it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(format!(
            "sched_setaffinity({pid}, cpu {cpu}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

type BenchResult<T> = Result<T, String>;

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
    let nofile = raise_nofile((2 * cfg.idle + 256) as libc::rlim_t)?;
    let bins = build_servers()?;
    let allowed = allowed_cpus();
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

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

// ---- building ---------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Libraries a Rust staticlib needs from the system on Linux (`--print native-static-libs`).
const NATIVE_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// `cargo build --release --lib`, and the path of the `libmeerkat.a` it produced.
fn release_staticlib() -> BenchResult<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "--lib",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("run cargo: {e}"))?;
    if !out.status.success() {
        return Err("cargo build --release --lib failed".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"compiler-artifact\"") && l.contains("\"name\":\"meerkat\""))
        .flat_map(|l| l.split('"').map(str::to_owned).collect::<Vec<_>>())
        .find(|s| s.ends_with("libmeerkat.a"))
        .map(PathBuf::from)
        .ok_or_else(|| "no libmeerkat.a in cargo's output".into())
}

fn gcc(src: &Path, out: &Path, lib: Option<&Path>) -> BenchResult<()> {
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c99", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror"]);
    cmd.arg("-I").arg(root().join("include"));
    cmd.arg(src).arg("-o").arg(out);
    if let Some(lib) = lib {
        cmd.arg(lib).args(NATIVE_LIBS);
    }
    let o = cmd.output().map_err(|e| format!("run gcc (install gcc): {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "gcc {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

/// Build both servers; returns their binaries in `SERVERS` order (meerkat, poll).
fn build_servers() -> BenchResult<[PathBuf; 2]> {
    let lib = release_staticlib()?;
    let dir = lib.parent().unwrap_or(Path::new(".")).join("bench-c");
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let c = root().join("benches").join("c");
    let meerkat = dir.join("meerkat_echo");
    let poll = dir.join("poll_echo");
    gcc(&c.join("meerkat_echo.c"), &meerkat, Some(&lib))?;
    gcc(&c.join("poll_echo.c"), &poll, None)?;
    println!(
        "servers: {} (with {}), {}",
        meerkat.display(),
        lib.display(),
        poll.display()
    );
    Ok([meerkat, poll])
}

/// Raise the soft RLIMIT_NOFILE to at least `want` (up to the hard limit); returns it.
fn raise_nofile(want: libc::rlim_t) -> BenchResult<libc::rlim_t> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return Err("getrlimit(RLIMIT_NOFILE) failed".into());
    }
    if rl.rlim_cur < want {
        rl.rlim_cur = want.min(rl.rlim_max);
        // SAFETY: `rl` is a valid rlimit with rlim_cur <= rlim_max.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
            return Err("setrlimit(RLIMIT_NOFILE) failed".into());
        }
    }
    if rl.rlim_cur < want {
        return Err(format!(
            "RLIMIT_NOFILE hard limit {} is below the {want} needed",
            rl.rlim_max
        ));
    }
    Ok(rl.rlim_cur)
}

// ---- the servers --------------------------------------------------------------------------

/// A running echo server process; killed and reaped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
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
        let mut server = Server { child, port: 0 };
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
}

impl Server {
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- the load generator -------------------------------------------------------------------

fn client(port: u16) -> BenchResult<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(s)
}

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
        let mut socks = (0..conns).map(|_| client(port)).collect::<BenchResult<Vec<_>>>()?;
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
        let mut total = 0;
        let mut failed = None;
        for h in handles {
            match h
                .join()
                .map_err(|_| "client thread panicked".to_string())
                .and_then(|r| r)
            {
                Ok((socks, n)) => {
                    self.groups.push(socks);
                    total += n;
                }
                Err(e) => failed = Some(e),
            }
        }
        let elapsed = start.elapsed();
        self.seq = self.seq.wrapping_add(total);
        match failed {
            Some(e) => Err(e),
            None => Ok((total, elapsed)),
        }
    }
}

/// What one server did over all its slices at one connection count.
#[derive(Default)]
struct Tally {
    rts: u64,
    secs: f64,
    cpu_ns: Option<u64>,
    rates: Vec<f64>,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.rts as f64 / self.secs
    }
    /// Server CPU time per round trip, microseconds.
    fn cpu_us(&self) -> Option<f64> {
        self.cpu_ns.map(|ns| ns as f64 / 1000.0 / self.rts as f64)
    }
}

struct Comparison {
    conns: usize,
    threads: usize,
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
    let mut tally = [Tally::default(), Tally::default()];
    for i in 0..slices {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for s in order {
            let cpu0 = servers[s].cpu_ns();
            let (n, el) = loads[s].run(slice, cpu)?;
            let cpu1 = servers[s].cpu_ns();
            let t = &mut tally[s];
            t.rts += n;
            t.secs += el.as_secs_f64();
            t.rates.push(n as f64 / el.as_secs_f64());
            t.cpu_ns = match (i, t.cpu_ns, cpu0, cpu1) {
                (0, _, Some(a), Some(b)) => Some(b.saturating_sub(a)),
                (_, Some(acc), Some(a), Some(b)) => Some(acc + b.saturating_sub(a)),
                _ => None,
            };
        }
    }
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

/// An in-process manager on this thread, freed on drop.
struct Mgr(Box<mg_mgr>);

impl Mgr {
    fn new() -> BenchResult<Mgr> {
        let mut m = Box::new(mg_mgr {
            internal: std::ptr::null_mut(),
            userdata: std::ptr::null_mut(),
        });
        if meerkat::ffi::mgr::mg_mgr_init(&mut *m) != 0 {
            return Err("mg_mgr_init failed".into());
        }
        Ok(Mgr(m))
    }
    fn ptr(&mut self) -> *mut mg_mgr {
        &mut *self.0
    }
    fn poll(&mut self, ms: i32) -> BenchResult<()> {
        match meerkat::ffi::mgr::mg_mgr_poll(self.ptr(), ms) {
            0 => Ok(()),
            e => Err(format!("mg_mgr_poll: {e}")),
        }
    }
    fn stats(&mut self) -> mg_stats {
        let mut s = mg_stats::default();
        meerkat::ffi::mgr::mg_mgr_stats(self.ptr(), &mut s);
        s
    }
    /// Poll until `done` (checked between polls), for at most `secs`.
    fn poll_until(&mut self, secs: u64, what: &str, mut done: impl FnMut(&mut Mgr) -> bool) -> BenchResult<()> {
        let end = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            if Instant::now() > end {
                return Err(format!("timed out: {what}"));
            }
            self.poll(5)?;
        }
        Ok(())
    }
}

impl Drop for Mgr {
    fn drop(&mut self) {
        let _ = meerkat::ffi::mgr::mg_mgr_free(self.ptr());
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
        let mut s = client(port)?;
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
    let mut info = std::mem::MaybeUninit::<mg_conn_info>::zeroed();
    if l.h == 0 || meerkat::ffi::conn::mg_conn_info(l, info.as_mut_ptr()) != 0 {
        return Err("mg_listen failed".into());
    }
    // SAFETY: written by mg_conn_info on success.
    let port = u16::from_be(unsafe { info.assume_init() }.loc.port);

    // Warm up: one-time allocations (scratch buffers, first poll set) are not per connection.
    {
        let warm: Vec<TcpStream> = (0..8).map(|_| client(port)).collect::<BenchResult<_>>()?;
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
