//! What the benchmarks share: building C servers against a release `libmeerkat.a`, describing
//! the machine, server processes (killed on drop, their CPU time read from `/proc`), CPU
//! pinning and client connections. Each bench includes it with
//! `#[path = "common/mod.rs"] mod common;` and uses part of it; the counting allocator is apart,
//! in `common/heap.rs`, because including it installs a global allocator.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub type BenchResult<T> = Result<T, String>;

/// Connect, read and write timeout of the benches' own client sockets.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The environment variable `name` parsed, or `default` if it is unset or does not parse.
pub fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

// ---- the machine ----------------------------------------------------------------------

/// The 1-minute load average, as `/proc/loadavg` writes it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "date unknown".into())
}

/// `DATE | CPU model | N CPUs online`, the start of a bench's first line.
pub fn machine() -> String {
    format!(
        "{} | {} | {} CPUs online",
        utc_now(),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

/// `scripts/setup.sh` with the packages a bench needs (it installs the missing ones). A
/// failure is reported, not fatal: what is still missing shows up later.
pub fn setup(packages: &[&str]) {
    let st = Command::new(root().join("scripts").join("setup.sh"))
        .args(packages)
        .stdin(Stdio::null())
        .status();
    match st {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("warning: scripts/setup.sh exited with {s}; continuing"),
        Err(e) => eprintln!("warning: cannot run scripts/setup.sh: {e}; continuing"),
    }
}

/// Raise the soft RLIMIT_NOFILE to at least `want` (up to the hard limit); returns it. Child
/// processes (servers, wrk, idle clients) inherit it.
pub fn raise_nofile(want: libc::rlim_t) -> BenchResult<libc::rlim_t> {
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

/// "MET" or "NOT MET".
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "MET"
    } else {
        "NOT MET"
    }
}

/// The closing `N of M target checks met` line.
pub fn print_checks_met(met: &[bool]) {
    println!(
        "{} of {} target checks met",
        met.iter().filter(|&&m| m).count(),
        met.len()
    );
}

// ---- building ---------------------------------------------------------------------------

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Libraries a Rust staticlib needs from the system on Linux (`--print native-static-libs`).
const NATIVE_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// `cargo build --release --lib`, and the path of the `libmeerkat.a` it produced.
pub fn release_staticlib() -> BenchResult<PathBuf> {
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

/// The directory `name` beside `lib` (the release `libmeerkat.a`), created if missing: where a
/// bench puts what it builds and generates.
pub fn bench_dir(lib: &Path, name: &str) -> BenchResult<PathBuf> {
    let dir = lib.parent().unwrap_or(Path::new(".")).join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    Ok(dir)
}

/// What to put after the source to link a program with `lib` (`libmeerkat.a`).
pub fn meerkat_link(lib: &Path) -> Vec<&OsStr> {
    let mut v = vec![lib.as_os_str()];
    v.extend(NATIVE_LIBS.iter().map(OsStr::new));
    v
}

/// Run a gcc command line; its diagnostics in the error when it fails (`what`: the program
/// it builds).
pub fn run_gcc(cmd: &mut Command, what: &str) -> BenchResult<()> {
    let o = cmd.output().map_err(|e| format!("run gcc (install gcc): {e}"))?;
    if !o.status.success() {
        return Err(format!("gcc {what}:\n{}", String::from_utf8_lossy(&o.stderr)));
    }
    Ok(())
}

/// `gcc -std=c99 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I include src -o out` followed by
/// `after` (flags, libraries, objects).
pub fn gcc(src: &Path, out: &Path, after: &[&OsStr]) -> BenchResult<()> {
    run_gcc(
        Command::new("gcc")
            .args(["-std=c99", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(root().join("include"))
            .arg(src)
            .arg("-o")
            .arg(out)
            .args(after),
        &src.display().to_string(),
    )
}

// ---- CPU placement ------------------------------------------------------------------------

/// The CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most
    // size_of::<cpu_set_t>() bytes into it; CPU_ISSET only reads it, below CPU_SETSIZE.
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

/// `sched_setaffinity(pid, {cpu})`. Allocates nothing, so it may run between fork and exec.
fn set_affinity(pid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within it (cpu comes
    // from allowed_cpus, below CPU_SETSIZE); sched_setaffinity only reads it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Pin thread or process `pid` (0: the calling thread) to `cpu`.
pub fn pin_to(pid: libc::pid_t, cpu: usize) -> BenchResult<()> {
    set_affinity(pid, cpu).map_err(|e| format!("sched_setaffinity({pid}, cpu {cpu}): {e}"))
}

/// Make the child started by `cmd` run on `cpu` only (and all its threads, which inherit it).
pub fn pin_command(cmd: &mut Command, cpu: Option<usize>) {
    let Some(cpu) = cpu else { return };
    // SAFETY: the closure runs in the child between fork and exec and only makes the
    // sched_setaffinity system call on a set built on its own stack.
    unsafe {
        cmd.pre_exec(move || {
            let _ = set_affinity(0, cpu);
            Ok(())
        });
    }
}

// ---- server processes ---------------------------------------------------------------------

/// A port that was free a moment ago (the kernel's choice for an ephemeral bind).
pub fn free_port() -> BenchResult<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A running server process listening on 127.0.0.1:`port`; killed and reaped on drop. Each
/// bench adds its own way to start one (`impl Server` in the bench).
pub struct Server {
    pub name: String,
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Wait until the server accepts TCP connections (10 s at most).
    pub fn wait_ready(mut self) -> BenchResult<Server> {
        let end = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("{} exited at start: {st}", self.name));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(self);
            }
            if Instant::now() > end {
                return Err(format!(
                    "{} does not accept connections on port {} after 10 s",
                    self.name, self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// utime + stime of all the server's threads, in clock ticks (`/proc/<pid>/stat`).
    pub fn cpu_ticks(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name, which is in parentheses: state is field 3, utime 14.
        let rest = &s[s.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    }

    /// [`Server::cpu_ticks`] in seconds.
    pub fn cpu_secs(&self) -> Option<f64> {
        Some(self.cpu_ticks()? as f64 / clock_ticks_per_sec()?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The unit of the CPU times in `/proc/<pid>/stat` (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_sec() -> Option<f64> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then_some(hz as f64)
}

// ---- two servers, alternating ------------------------------------------------------------

/// What one server did over its measured runs (or slices) in [`alternate`].
#[derive(Default)]
pub struct Tally {
    /// Operations (round trips, handshakes, requests) completed.
    pub ops: u64,
    pub secs: f64,
    /// Server CPU time over the runs, seconds; `None` if it could not be read every time.
    pub cpu: Option<f64>,
    /// Operations per second of each run, in order.
    pub rates: Vec<f64>,
}

impl Tally {
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }
    /// Server CPU time per operation, microseconds.
    pub fn cpu_us(&self) -> Option<f64> {
        self.cpu.map(|c| c * 1e6 / self.ops as f64)
    }
}

/// `rounds` measured runs of each of two servers, alternating A B, B A, A B ... so that a burst
/// of load from elsewhere on the machine hits both alike. `run(s)` loads server `s` once and
/// returns (operations, elapsed); `cpu_secs(s)` is server `s`'s CPU time so far, read before
/// and after each run.
pub fn alternate(
    rounds: usize,
    mut run: impl FnMut(usize) -> BenchResult<(u64, Duration)>,
    cpu_secs: impl Fn(usize) -> Option<f64>,
) -> BenchResult<[Tally; 2]> {
    let mut tally = [Tally::default(), Tally::default()];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for s in order {
            let c0 = cpu_secs(s);
            let (n, el) = run(s)?;
            let c1 = cpu_secs(s);
            let t = &mut tally[s];
            t.ops += n;
            t.secs += el.as_secs_f64();
            t.rates.push(n as f64 / el.as_secs_f64());
            t.cpu = match (round, t.cpu, c0, c1) {
                (0, _, Some(a), Some(b)) => Some(b - a),
                (_, Some(acc), Some(a), Some(b)) => Some(acc + b - a),
                _ => None,
            };
        }
    }
    Ok(tally)
}

// ---- clients ------------------------------------------------------------------------------

/// A blocking client connection to 127.0.0.1:`port` with `TCP_NODELAY` and [`IO_TIMEOUT`] for
/// connect, read and write.
pub fn connect(port: u16) -> BenchResult<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Join every client thread; their results, or the last error if any failed or panicked.
pub fn join_all<T>(handles: Vec<JoinHandle<BenchResult<T>>>) -> BenchResult<Vec<T>> {
    let mut done = Vec::with_capacity(handles.len());
    let mut failed = None;
    for h in handles {
        match h
            .join()
            .map_err(|_| "client thread panicked".to_string())
            .and_then(|r| r)
        {
            Ok(t) => done.push(t),
            Err(e) => failed = Some(e),
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

// ---- HTTP/1.1 keep-alive client (one request in flight per connection) --------------------

/// `GET path HTTP/1.1` with a Host header, as wrk sends it.
pub fn http_get_request(path: &str, port: u16) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes()
}

/// Read one whole HTTP/1.1 response with a Content-Length from `s` (nothing pipelined after
/// it); returns (status, body length). `buf` is scratch space, reused between calls.
pub fn read_http_response(s: &mut impl std::io::Read, buf: &mut Vec<u8>) -> BenchResult<(u16, usize)> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).map_err(|e| format!("read response: {e}"))?;
        if n == 0 {
            return Err("connection closed before the response head".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head:?}"))?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).map_err(|e| format!("read body: {e}"))?;
        if n == 0 {
            return Err("connection closed in the body".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if buf.len() != head_end + len {
        return Err("more bytes than one response (not expected: one request in flight)".into());
    }
    Ok((status, len))
}

/// A child's stdout, line by line through a thread, so that waiting for a line has a timeout.
pub struct Lines(std::sync::mpsc::Receiver<String>);

impl Lines {
    pub fn new(out: std::process::ChildStdout) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }
    /// The next line that starts with `prefix` (others are skipped), within `secs`.
    pub fn next_with(&self, prefix: &str, secs: u64) -> BenchResult<String> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Ok(l),
                Ok(_) => {}
                Err(_) => return Err(format!("no line starting with {prefix:?} within {secs} s")),
            }
        }
    }
}

/// A 1 KiB file of pseudo-random bytes at `dir/www/static/1k.bin`; returns the web root.
pub fn web_root_1k(dir: &Path) -> BenchResult<PathBuf> {
    let www = dir.join("www");
    let st = www.join("static");
    std::fs::create_dir_all(&st).map_err(|e| format!("mkdir {}: {e}", st.display()))?;
    let mut x: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(st.join("1k.bin"), bytes).map_err(|e| format!("write 1k.bin: {e}"))?;
    Ok(www)
}

/// `gcc EXTRA -w -I MONGOOSE SRC MONGOOSE/mongoose.c -o OUT`: a benchmark's Mongoose program,
/// built from the checkout the user points at (never copied into the repository).
pub fn gcc_with_mongoose(m: &Path, src: &Path, out: &Path, extra: &[&str]) -> BenchResult<()> {
    if !m.join("mongoose.c").is_file() || !m.join("mongoose.h").is_file() {
        return Err(format!("{}: no mongoose.c and mongoose.h there", m.display()));
    }
    run_gcc(
        Command::new("gcc")
            .args(extra)
            .args(["-w", "-I"])
            .arg(m)
            .arg(src)
            .arg(m.join("mongoose.c"))
            .arg("-o")
            .arg(out),
        &src.display().to_string(),
    )
}

/// `gcc -O2` of `benches/c/NAME.c` with Mongoose from `m` into a temporary directory.
pub fn build_mongoose_prog(m: &Path, name: &str) -> BenchResult<PathBuf> {
    let dir = std::env::temp_dir().join("meerkat-bench-mongoose");
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let out = dir.join(name);
    let c = root().join("benches/c");
    let include = format!("-I{}", c.display());
    gcc_with_mongoose(m, &c.join(format!("{name}.c")), &out, &["-O2", &include])?;
    println!("mongoose: {} (mongoose.c from {})", out.display(), m.display());
    Ok(out)
}
