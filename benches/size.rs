//! Flash and RAM footprint against Mongoose (issue 9, item 4). A benchmark, not a test: it
//! prints figures and MET / NOT MET against the budgets and never fails on them.
//!
//! 1. Flash: runs `scripts/footprint.sh` (and `scripts/footprint.sh --tls` unless
//!    `SIZE_BENCH_TLS=0`) and, when `SIZE_BENCH_MONGOOSE=/path/to/mongoose` (a checkout with
//!    mongoose.c and mongoose.h) is given, builds Mongoose's same programs with the same flags
//!    (`-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -no-pie
//!    -Wl,--gc-sections`, stripped) in a temporary
//!    directory: `benches/c/mongoose_hello.c` (http-hello, with `-DMG_ENABLE_DIRLIST=0` as
//!    meerkat's footprint build has no listings; also with Unix's default, printed below the
//!    table), `benches/c/mongoose_echo.c`
//!    (tcp-echo), `benches/c/mongoose_https_hello.c` with `-DMG_TLS=MG_TLS_BUILTIN`
//!    (https-hello). Prints `size` of each side by side and meerkat/Mongoose.
//! 2. RAM, meerkat in this process (counting allocator, `common/heap.rs`): Rust heap held per
//!    idle TCP connection (after one 64-byte echo) and per idle keep-alive HTTP connection
//!    (after one `GET /hello`), `SIZE_BENCH_IDLE` (1000) connections.
//! 3. RAM, both libraries alike: the http-hello and echo programs built again with
//!    `-DBENCH_PROBE` (`benches/c/bench_probe.h`), same -Os flags: on SIGUSR1 they print the
//!    whole malloc heap (`mallinfo2`) and the deepest stack below the event loop's frame since
//!    the last probe (stack painting). Heap per idle connection = heap delta / connections;
//!    stack = the deepest over accepts, `/hello`, `/static/1k.bin`, idle and closes.
#[path = "common/mod.rs"]
mod common;
#[path = "common/heap.rs"]
mod heap;

use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{env_num, load_average, verdict, BenchResult, Lines, Server};
use heap::{c_heap_in_use, Mgr, LIVE};
use meerkat::ffi::*;

const TCP_IDLE_BUDGET: i64 = 600;
/// Issue 9's check: the stripped http-hello's text in bytes, twice the 40,614 B the issue
/// measured for Mongoose 7.22's same program when it set the budget. This bench builds
/// Mongoose with sections GC'd (smaller), so its ratio line below is the stricter one.
const HELLO_TEXT_BUDGET: u64 = 81_228;

fn main() {
    println!("size | {} | load average {}", common::machine(), load_average());
    if let Err(e) = run() {
        println!("size bench failed: {e}");
    }
}

#[derive(Clone, Copy, Default)]
struct Size {
    text: u64,
    data: u64,
    bss: u64,
}

fn size_of(bin: &Path) -> BenchResult<Size> {
    let o = Command::new("size")
        .arg(bin)
        .output()
        .map_err(|e| format!("run size: {e}"))?;
    let out = String::from_utf8_lossy(&o.stdout);
    let f: Vec<u64> = out
        .lines()
        .nth(1)
        .ok_or_else(|| format!("size {}: {out}", bin.display()))?
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect();
    match f[..] {
        [text, data, bss] => Ok(Size { text, data, bss }),
        _ => Err(format!("size {}: {out}", bin.display())),
    }
}

fn sh(args: &[&str]) -> BenchResult<()> {
    let st = Command::new(common::root().join("scripts/footprint.sh"))
        .args(args)
        .current_dir(common::root())
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("run scripts/footprint.sh: {e}"))?;
    if !st.success() {
        return Err(format!("scripts/footprint.sh {args:?}: {st}"));
    }
    Ok(())
}

/// gcc `src` (+ `extra` sources and flags) with the footprint flags; stripped. `extra` comes
/// first, so that a Mongoose `-I` wins over meerkat's `include/mongoose.h`.
fn gcc_os(src: &Path, out: &Path, extra: &[&std::ffi::OsStr], post: &[&std::ffi::OsStr]) -> BenchResult<()> {
    common::run_gcc(
        Command::new("gcc")
            .args([
                "-Os",
                "-std=gnu99",
                "-D_GNU_SOURCE",
                "-ffunction-sections",
                "-fdata-sections",
                // As scripts/footprint.sh links meerkat's: as firmware is (no PIE, no unwind tables).
                "-fno-asynchronous-unwind-tables",
                "-no-pie",
                "-w",
            ])
            .args(extra)
            .arg("-I")
            .arg(common::root().join("include"))
            .arg("-I")
            .arg(common::root().join("benches/c"))
            .arg(src)
            .args(post)
            .args(["-Wl,--gc-sections", "-s", "-o"])
            .arg(out),
        &src.display().to_string(),
    )
}

fn run() -> BenchResult<()> {
    let root = common::root();
    let c = root.join("benches/c");
    let fp = root.join("target/footprint");
    sh(&[])?;
    let mk_lib = fp.join("libmeerkat.a");
    let native: Vec<&std::ffi::OsStr> = ["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s", "-lc"]
        .iter()
        .map(std::ffi::OsStr::new)
        .collect();
    let probe_dir = fp.join("probe");
    std::fs::create_dir_all(&probe_dir).map_err(|e| e.to_string())?;
    // Probe builds now: the TLS footprint build below replaces target/footprint/libmeerkat.a.
    let mut mk_libs = vec![mk_lib.as_os_str()];
    mk_libs.extend(native.iter().copied());
    let probe_flag = [std::ffi::OsStr::new("-DBENCH_PROBE")];
    gcc_os(
        &c.join("meerkat_hello.c"),
        &probe_dir.join("meerkat_hello"),
        &probe_flag,
        &mk_libs,
    )?;
    gcc_os(
        &c.join("meerkat_echo.c"),
        &probe_dir.join("meerkat_echo"),
        &probe_flag,
        &mk_libs,
    )?;
    let mut progs: Vec<(&str, PathBuf)> =
        vec![("http-hello", fp.join("http-hello")), ("tcp-echo", fp.join("tcp-echo"))];
    if std::env::var("SIZE_BENCH_TLS").as_deref() != Ok("0") {
        sh(&["--tls"])?;
        progs.push(("https-hello", root.join("target/footprint-tls/https-hello")));
    } else {
        println!("https-hello: skipped (SIZE_BENCH_TLS=0)");
    }

    let mongoose = std::env::var_os("SIZE_BENCH_MONGOOSE").map(PathBuf::from);
    let mdir = std::env::temp_dir().join("meerkat-bench-mongoose");
    if let Some(m) = &mongoose {
        if !m.join("mongoose.c").is_file() || !m.join("mongoose.h").is_file() {
            return Err(format!(
                "SIZE_BENCH_MONGOOSE={}: no mongoose.c and mongoose.h there",
                m.display()
            ));
        }
        std::fs::create_dir_all(&mdir).map_err(|e| e.to_string())?;
        let inc = format!("-I{}", m.display());
        let mc = m.join("mongoose.c");
        let base = [std::ffi::OsStr::new(&inc)];
        let post = [mc.as_os_str()];
        // Without directory listings, like meerkat's footprint build (no feature `dirlist`):
        // MG_ENABLE_DIRLIST is 0 by default on Mongoose's embedded architectures, 1 only on
        // Unix and Windows. The default-flags program is kept for its figure.
        let nodir = [std::ffi::OsStr::new("-DMG_ENABLE_DIRLIST=0"), base[0]];
        gcc_os(&c.join("mongoose_hello.c"), &mdir.join("http-hello"), &nodir, &post)?;
        gcc_os(
            &c.join("mongoose_hello.c"),
            &mdir.join("http-hello-dirlist"),
            &base,
            &post,
        )?;
        gcc_os(&c.join("mongoose_echo.c"), &mdir.join("tcp-echo"), &base, &post)?;
        let tls = [std::ffi::OsStr::new("-DMG_TLS=MG_TLS_BUILTIN"), base[0]];
        gcc_os(
            &c.join("mongoose_https_hello.c"),
            &mdir.join("https-hello"),
            &tls,
            &post,
        )?;
        let probe = [std::ffi::OsStr::new("-DBENCH_PROBE"), base[0]];
        gcc_os(&c.join("mongoose_hello.c"), &mdir.join("probe-hello"), &probe, &post)?;
        gcc_os(&c.join("mongoose_echo.c"), &mdir.join("probe-echo"), &probe, &post)?;
        println!("mongoose: built in {} from {}", mdir.display(), m.display());
    } else {
        println!("mongoose: skipped: set SIZE_BENCH_MONGOOSE=/path/to/mongoose (mongoose.c, mongoose.h)");
    }

    let mut met = Vec::new();
    println!();
    println!("== flash: stripped, linked programs (-Os, sections GC'd), bytes; meerkat footprint profile (opt-level z, LTO, panic=abort, unwind tables removed) ==");
    println!(
        "{:<12} {:>9} {:>7} {:>6}   {:>9} {:>7} {:>6}   {:>10} {:>17}",
        "program", "meerkat", "data", "bss", "mongoose", "data", "bss", "text ratio", "text+data ratio"
    );
    let mut hello_ratio = None;
    let mut hello_text = None;
    for (name, bin) in &progs {
        let m = size_of(bin)?;
        let g = match &mongoose {
            Some(_) => Some(size_of(&mdir.join(name))?),
            None => None,
        };
        let gs = g.map_or(format!("{:>9} {:>7} {:>6}", "-", "-", "-"), |g| {
            format!("{:>9} {:>7} {:>6}", g.text, g.data, g.bss)
        });
        let ratio = g.map(|g| m.text as f64 / g.text as f64);
        if *name == "http-hello" {
            hello_ratio = ratio;
            hello_text = Some(m.text);
        }
        let flash = g.map(|g| (m.text + m.data) as f64 / (g.text + g.data) as f64);
        println!(
            "{name:<12} {:>9} {:>7} {:>6}   {gs}   {:>10} {:>17}",
            m.text,
            m.data,
            m.bss,
            ratio.map_or("-".into(), |r| format!("{r:.2}x")),
            flash.map_or("-".into(), |r| format!("{r:.2}x"))
        );
    }
    println!(
        "  (https-hello: meerkat with rustls + rustls-rustcrypto; Mongoose with its built-in TLS, MG_TLS_BUILTIN)"
    );
    if mongoose.is_some() {
        // Like for like: meerkat's footprint build has no directory listings (feature
        // `dirlist` off), so Mongoose's http-hello above is built with -DMG_ENABLE_DIRLIST=0.
        let d = size_of(&mdir.join("http-hello-dirlist"))?;
        println!(
            "  (http-hello: Mongoose with -DMG_ENABLE_DIRLIST=0, as meerkat without `dirlist`; with Unix's default MG_ENABLE_DIRLIST=1: text {}, data {}, bss {})",
            d.text, d.data, d.bss
        );
    }
    if let Some(t) = hello_text {
        let ok = t <= HELLO_TEXT_BUDGET;
        met.push(ok);
        println!(
            "check (issue 9): http-hello text <= {HELLO_TEXT_BUDGET} B (2x the 40,614 B the issue measured for Mongoose 7.22): {t} B: {}",
            verdict(ok)
        );
    }
    if let Some(r) = hello_ratio {
        met.push(r <= 2.0);
        println!(
            "budget: http-hello text <= 2x Mongoose's: {r:.2}x: {}",
            verdict(r <= 2.0)
        );
        println!("goal (DESIGN.md): <= 1.5x: {}", verdict(r <= 1.5));
    }

    println!();
    let n: usize = env_num("SIZE_BENCH_IDLE", 1000);
    common::raise_nofile(n as libc::rlim_t + 256)?;
    println!("== RAM: meerkat in process, Rust heap (counting allocator), {n} idle connections ==");
    let tcp = in_process_idle(n, false)?;
    let http = in_process_idle(n, true)?;
    met.push(tcp.0 <= TCP_IDLE_BUDGET);
    println!(
        "heap per idle TCP connection (after a 64-byte echo): {} B Rust heap, {} B whole malloc heap (budget <= {TCP_IDLE_BUDGET} B Rust heap): {}",
        tcp.0,
        tcp.1,
        verdict(tcp.0 <= TCP_IDLE_BUDGET)
    );
    println!(
        "heap per idle keep-alive HTTP connection (after one GET /hello): {} B Rust heap, {} B whole malloc heap",
        http.0, http.1
    );

    println!();
    println!("== RAM: the programs, -DBENCH_PROBE, -Os (malloc heap by mallinfo2, chunk overhead included; stack by painting) ==");
    let www = common::web_root_1k(&probe_dir)?;
    let mut rows = vec![(
        "meerkat",
        probe_dir.join("meerkat_hello"),
        probe_dir.join("meerkat_echo"),
    )];
    if mongoose.is_some() {
        rows.push(("mongoose", mdir.join("probe-hello"), mdir.join("probe-echo")));
    }
    println!(
        "{:<9} {:>22} {:>24} {:>28}",
        "", "heap/idle TCP conn", "heap/idle HTTP conn", "deepest stack of one poll"
    );
    for (name, hello, echo) in rows {
        let h = probe_http(&hello, &www, n);
        let e = probe_echo(&echo, name == "meerkat", n);
        let fmt = |r: &BenchResult<(i64, usize)>, stack: bool| match r {
            Ok((heap, st)) => {
                if stack {
                    format!("{st} B")
                } else {
                    format!("{heap} B")
                }
            }
            Err(e) => format!("failed: {e}"),
        };
        println!(
            "{name:<9} {:>22} {:>24} {:>28}",
            fmt(&e, false),
            fmt(&h, false),
            fmt(&h, true)
        );
        if let Ok((_, st)) = &e {
            println!("          (echo program's deepest stack: {st} B)");
        }
    }
    common::print_checks_met(&met);
    Ok(())
}

// ---- in process ---------------------------------------------------------------------------

unsafe extern "C" fn handler(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_READ {
        // Only TCP listeners get here with data to echo: HTTP connections consume theirs.
        let r = meerkat::ffi::conn::mg_recv(c);
        if r.len > 0 && meerkat::ffi::conn::mg_send(c, r.buf as *const c_void, r.len) == 0 {
            meerkat::ffi::conn::mg_recv_consume(c, r.len);
        }
    } else if ev == MG_EV_HTTP_MSG {
        let body = b"hello\n";
        meerkat::ffi::http::mg_http_reply_n(
            c,
            200,
            c"Content-Type: text/plain\r\n".as_ptr(),
            body.as_ptr().cast(),
            body.len(),
        );
    }
}

/// One request (HTTP) or 64-byte echo (TCP) on a new client connection, driving the
/// in-process manager until the reply is read; the client runs on this thread (a connected
/// `TcpStream` holds no heap), so everything counted is the server's.
fn one_exchange(m: &mut Mgr, port: u16, http: bool) -> BenchResult<TcpStream> {
    let mut s = common::connect(port)?;
    let msg: Vec<u8> = if http {
        common::http_get_request("/hello", port)
    } else {
        vec![b'x'; 64]
    };
    s.write_all(&msg).map_err(|e| e.to_string())?;
    s.set_nonblocking(true).map_err(|e| e.to_string())?;
    let want = if http { 0 } else { 64 };
    let mut got = [0u8; 512];
    let mut have = 0;
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        m.poll(1)?;
        match s.read(&mut got[have..]) {
            Ok(0) => return Err("server closed".into()),
            Ok(k) => have += k,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
        let done = if http {
            got[..have].ends_with(b"hello\n")
        } else {
            have >= want
        };
        if done {
            return Ok(s);
        }
        if std::time::Instant::now() > end {
            return Err("no reply within 10 s".into());
        }
    }
}

/// (Rust heap, whole malloc heap) per idle connection, bytes.
fn in_process_idle(n: usize, http: bool) -> BenchResult<(i64, i64)> {
    let mut m = Mgr::new()?;
    let url = CString::new(if http {
        "http://127.0.0.1:0"
    } else {
        "tcp://127.0.0.1:0"
    })
    .map_err(|e| e.to_string())?;
    let l = if http {
        meerkat::ffi::http::mg_http_listen(m.ptr(), url.as_ptr(), Some(handler), std::ptr::null_mut())
    } else {
        meerkat::ffi::conn::mg_listen(m.ptr(), url.as_ptr(), Some(handler), std::ptr::null_mut())
    };
    let port = heap::listener_port(l, "listen")?;
    // Warm-up: one-time allocations (scratch buffers, poll arrays) are not per connection.
    let warm: Vec<TcpStream> = (0..8)
        .map(|_| one_exchange(&mut m, port, http))
        .collect::<BenchResult<_>>()?;
    drop(warm);
    m.poll_until(10, "warm-up closes", |m| m.stats().live_conns == 1)?;
    let mut socks = Vec::with_capacity(n);
    for _ in 0..3 {
        m.poll(1)?;
    }
    let live0 = LIVE.load(Ordering::SeqCst);
    let c0 = c_heap_in_use().unwrap_or(0);
    for _ in 0..n {
        socks.push(one_exchange(&mut m, port, http)?);
    }
    for _ in 0..3 {
        m.poll(1)?;
    }
    let live1 = LIVE.load(Ordering::SeqCst);
    let c1 = c_heap_in_use().unwrap_or(0);
    if m.stats().live_conns as usize != n + 1 {
        return Err(format!(
            "expected {} live connections, have {}",
            n + 1,
            m.stats().live_conns
        ));
    }
    drop(socks);
    m.poll_until(30, "idle clients closed", |m| m.stats().live_conns == 1)?;
    Ok(((live1 - live0) as i64 / n as i64, (c1 - c0) as i64 / n as i64))
}

// ---- probes in the programs ---------------------------------------------------------------

struct Probed {
    server: Server,
    lines: Lines,
}

impl Probed {
    fn start(bin: &Path, args: &[&std::ffi::OsStr], port: Option<u16>, first: &str) -> BenchResult<Probed> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let lines = Lines::new(child.stdout.take().ok_or("no stdout")?);
        let l = lines.next_with(first, 10)?;
        let port = match port {
            Some(p) => p,
            None => l.trim().parse().map_err(|_| format!("expected a port, got {l:?}"))?,
        };
        let server = Server {
            name: bin.display().to_string(),
            child,
            port,
        };
        Ok(Probed { server, lines })
    }
    /// (malloc heap in use, deepest stack since the last probe).
    fn probe(&self) -> BenchResult<(i64, usize)> {
        std::thread::sleep(Duration::from_millis(100)); // let the server settle
                                                        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.server.child.id() as libc::pid_t, libc::SIGUSR1) };
        let l = self.lines.next_with("probe ", 10)?;
        let field = |k: &str| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix(k))
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| format!("bad probe line {l:?}"))
        };
        Ok((field("heap=")?, field("stack=")? as usize))
    }
}

fn get(port: u16, s: &mut TcpStream, path: &str) -> BenchResult<()> {
    s.write_all(&common::http_get_request(path, port))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let (st, _) = common::read_http_response(s, &mut buf)?;
    if st != 200 {
        return Err(format!("GET {path}: {st}"));
    }
    Ok(())
}

/// (heap per idle keep-alive HTTP connection, deepest stack of one poll).
fn probe_http(bin: &Path, www: &Path, n: usize) -> BenchResult<(i64, usize)> {
    let port = common::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let p = Probed::start(
        bin,
        &[url.as_ref(), www.as_os_str(), "120".as_ref()],
        Some(port),
        "ready",
    )?;
    for _ in 0..8 {
        let mut s = common::connect(port)?;
        get(port, &mut s, "/hello")?;
        get(port, &mut s, "/static/1k.bin")?;
    }
    let (h0, st0) = p.probe()?;
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = common::connect(port)?;
        get(port, &mut s, "/hello")?;
        socks.push(s);
    }
    let (h1, st1) = p.probe()?;
    get(port, &mut socks[0], "/static/1k.bin")?;
    get(port, &mut socks[1], "/nope")?;
    drop(socks);
    let (_, st2) = p.probe()?;
    Ok(((h1 - h0) / n as i64, st0.max(st1).max(st2)))
}

/// (heap per idle TCP connection after a 64-byte echo, deepest stack of one poll).
fn probe_echo(bin: &Path, meerkat: bool, n: usize) -> BenchResult<(i64, usize)> {
    let (p, port);
    if meerkat {
        p = Probed::start(bin, &["120".as_ref()], None, "")?;
        port = p.server.port;
    } else {
        port = common::free_port()?;
        let url = format!("tcp://127.0.0.1:{port}");
        p = Probed::start(bin, &[url.as_ref()], Some(port), "listening")?;
    }
    let echo = |s: &mut TcpStream| -> BenchResult<()> {
        s.write_all(&[b'x'; 64]).map_err(|e| e.to_string())?;
        let mut back = [0u8; 64];
        s.read_exact(&mut back).map_err(|e| e.to_string())
    };
    for _ in 0..8 {
        echo(&mut common::connect(port)?)?;
    }
    let (h0, st0) = p.probe()?;
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = common::connect(port)?;
        echo(&mut s)?;
        socks.push(s);
    }
    let (h1, st1) = p.probe()?;
    drop(socks);
    let (_, st2) = p.probe()?;
    Ok(((h1 - h0) / n as i64, st0.max(st1).max(st2)))
}
