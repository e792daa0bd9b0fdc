//! TLS benchmark (issue 4): meerkat's HTTPS server against nginx, measured in the same run, so
//! that the numbers that matter are ratios (machines are shared and noisy).
//!
//! Servers:
//! - meerkat: `benches/c/meerkat_https_hello.c`, built with `gcc -O2` against a release
//!   `libmeerkat.a`: `mg_http_listen("https://127.0.0.1:PORT")`, `mg_tls_init` once on the
//!   listener, every request gets `mg_http_reply(c, 200, "Content-Type: text/plain\r\n",
//!   "hello\n")`.
//! - nginx (Debian's package), run as a child process with a generated configuration:
//!   `worker_processes 1`, `master_process off`, `daemon off`, `ssl_protocols TLSv1.2 TLSv1.3`,
//!   `return 200 "hello\n"`, no access log (meerkat logs nothing per request either), pid,
//!   error log and temporary paths under the bench directory. One process, like meerkat.
//!
//! Both use the same certificate: a P-256 ECDSA key and self-signed certificate generated here
//! with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256`.
//!
//! Load: a Rust client on rustls (the crate's own `meerkat::tls::rustls`, ring provider),
//! trusting exactly that certificate, with resumption disabled (`Resumption::disabled()`), so
//! every new connection is a full handshake.
//! 1. Handshakes per second: `TLS_BENCH_THREADS` threads, each looping connect, TLS handshake,
//!    `GET /hello` (`Connection: close`), read the response, close (SO_LINGER 0, so that the
//!    client leaves no TIME_WAIT sockets behind).
//! 2. Keep-alive requests per second over `TLS_BENCH_CONNS` connections split over the
//!    threads; each thread writes one request on each of its connections, then reads each
//!    response.
//!
//! Both servers run for the whole benchmark; after a warm-up, measured runs alternate
//! (A B, B A, ...). Per server: operations per second, and the server's CPU time per
//! operation (utime + stime from `/proc/<pid>/stat`), which load from elsewhere disturbs less.
//! 3. Heap bytes per idle TLS connection, measured in this process with a counting global
//!    allocator around a meerkat manager driven through the FFI (https listener +
//!    `mg_tls_init`). The clients run in a child process (this binary again), so that
//!    nothing they allocate is counted: each does a handshake and one request, then idles.
//!
//! Run: `cargo bench --bench tls`. It first calls `scripts/setup.sh nginx openssl` (installs
//! what is missing). Knobs (environment): `TLS_BENCH_SECS` (seconds per measured run, default
//! 4), `TLS_BENCH_ROUNDS` (measured runs per server and scenario, default 2),
//! `TLS_BENCH_WARMUP` (warm-up seconds, default 1), `TLS_BENCH_THREADS` (client threads,
//! default 2), `TLS_BENCH_CONNS` (keep-alive connections, default 16), `TLS_BENCH_IDLE` (idle
//! connections for the heap measurement, default 200).
//! This is a benchmark, not a test: it reports, it does not assert the targets.

#[path = "common/mod.rs"]
mod common;
#[path = "common/heap.rs"]
mod heap;

use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{env_num, load_average, verdict, BenchResult, Server, Tally};
use heap::{c_heap_in_use, Mgr, LIVE};
use meerkat::ffi::*;
use meerkat::tls::rustls;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

// ---- configuration --------------------------------------------------------------------

const HELLO_BODY: &[u8] = b"hello\n";
const REQ_CLOSE: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
const REQ_KEEP: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
/// Set in the environment of the child process that holds the idle connections.
const CHILD_ENV: &str = "TLS_BENCH_IDLE_CLIENT";
/// The heap targets are per idle connection; the throughput targets are ratios to nginx.
const HEAP_TARGET: isize = 24 * 1024;

struct Config {
    secs: f64,
    rounds: usize,
    warmup: f64,
    threads: usize,
    conns: usize,
    idle: usize,
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        std::process::exit(match idle_client_main(&spec) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("tls bench idle client: {e}");
                1
            }
        });
    }
    // `cargo bench` passes `--bench`; nothing else is expected.
    let cfg = Config {
        secs: env_num("TLS_BENCH_SECS", 4.0f64).clamp(0.2, 600.0),
        rounds: env_num("TLS_BENCH_ROUNDS", 2usize).clamp(1, 100),
        warmup: env_num("TLS_BENCH_WARMUP", 1.0f64).clamp(0.0, 60.0),
        threads: env_num("TLS_BENCH_THREADS", 2usize).clamp(1, 64),
        conns: env_num("TLS_BENCH_CONNS", 16usize).clamp(1, 1000),
        idle: env_num("TLS_BENCH_IDLE", 200usize).clamp(10, 5000),
    };
    if let Err(e) = run(&cfg) {
        eprintln!("tls bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(cfg: &Config) -> BenchResult<()> {
    common::setup(&["nginx", "openssl"]);
    common::raise_nofile((2 * cfg.idle + cfg.conns + 256) as libc::rlim_t)?;
    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "bench-tls")?;
    let certs = Certs::generate(&dir)?;
    let mk_bin = dir.join("meerkat_https_hello");
    let src = common::root().join("benches/c/meerkat_https_hello.c");
    common::gcc(&src, &mk_bin, &common::meerkat_link(&lib))?;
    let nginx_conf = nginx_config(&dir, &certs)?;

    println!(
        "{} | load average {} | {}",
        common::machine(),
        load_average(),
        nginx_version()
    );
    println!(
        "meerkat: {} (with {}); peer: nginx -c {}",
        mk_bin.display(),
        lib.display(),
        nginx_conf.1.display()
    );
    println!(
        "{} measured run(s) of {} s per server and scenario after {} s warm-up, order alternating; \
         {} client thread(s), rustls client (ring), resumption disabled",
        cfg.rounds, cfg.secs, cfg.warmup, cfg.threads
    );

    let client = client_config(&certs.der)?;
    let results = {
        let servers = [
            Server::start_meerkat(&mk_bin, &certs)?,
            Server::start_nginx(&nginx_conf.1, &dir, nginx_conf.0)?,
        ];
        for s in &servers {
            let (info, _) = one_request(s.port, &client)?;
            println!("{:>7}: check GET /hello over TLS ok ({info})", s.name);
        }
        let hs = compare(cfg, &servers, &client, Scenario::Handshake)?;
        hs.print();
        let ka = compare(cfg, &servers, &client, Scenario::KeepAlive)?;
        ka.print();
        [hs, ka]
    };

    let heap = heap_per_idle_tls(cfg.idle, &certs)?;

    println!();
    println!(
        "== targets (issue 4), against nginx measured in this run; load average now {} ==",
        load_average()
    );
    let mut met = Vec::new();
    for r in &results {
        let (mk, ng) = (&r.tally[0], &r.tally[1]);
        let ratio = mk.rate() / ng.rate();
        met.push(ratio >= 1.0);
        println!(
            "{}: meerkat {:.0}/s, nginx {:.0}/s: {ratio:.2}x (target >= 1.0x): {}",
            r.scenario.title(),
            mk.rate(),
            ng.rate(),
            verdict(ratio >= 1.0)
        );
    }
    met.push(heap.rust_per_conn <= HEAP_TARGET);
    println!(
        "heap per idle TLS connection: {} bytes ({:.1} KiB; target <= 24 KiB): {} [server side, Rust allocator, {} conns]",
        heap.rust_per_conn,
        heap.rust_per_conn as f64 / 1024.0,
        verdict(heap.rust_per_conn <= HEAP_TARGET),
        heap.conns
    );
    match heap.c_heap_per_conn {
        Some(b) => println!("  whole malloc heap (mallinfo2, chunk overhead included): {b} bytes per conn"),
        None => println!("  whole malloc heap: not measurable here"),
    }
    common::print_checks_met(&met);
    Ok(())
}

// ---- environment ----------------------------------------------------------------------

fn nginx_version() -> String {
    Command::new(NGINX)
        .arg("-v")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "nginx version unknown".into())
}

// ---- building ---------------------------------------------------------------------------

/// The certificate and key both servers use.
struct Certs {
    cert_pem: PathBuf,
    key_pem: PathBuf,
    der: Vec<u8>,
}

impl Certs {
    /// A fresh P-256 key and a self-signed certificate for 127.0.0.1 (not a CA: it is the
    /// server's own certificate, which the client trusts directly).
    fn generate(dir: &Path) -> BenchResult<Certs> {
        let cert_pem = dir.join("cert.pem");
        let key_pem = dir.join("key.pem");
        let cert_der = dir.join("cert.der");
        let openssl = |args: &[&std::ffi::OsStr]| -> BenchResult<()> {
            let o = Command::new("openssl")
                .args(args)
                .output()
                .map_err(|e| format!("run openssl (install openssl): {e}"))?;
            if !o.status.success() {
                return Err(format!("openssl: {}", String::from_utf8_lossy(&o.stderr)));
            }
            Ok(())
        };
        let s = |x: &'static str| std::ffi::OsStr::new(x);
        openssl(&[
            s("req"),
            s("-x509"),
            s("-newkey"),
            s("ec"),
            s("-pkeyopt"),
            s("ec_paramgen_curve:P-256"),
            s("-nodes"),
            s("-days"),
            s("30"),
            s("-subj"),
            s("/CN=127.0.0.1"),
            s("-addext"),
            s("subjectAltName=IP:127.0.0.1,DNS:localhost"),
            s("-addext"),
            s("basicConstraints=critical,CA:FALSE"),
            s("-keyout"),
            key_pem.as_os_str(),
            s("-out"),
            cert_pem.as_os_str(),
        ])?;
        openssl(&[
            s("x509"),
            s("-in"),
            cert_pem.as_os_str(),
            s("-outform"),
            s("DER"),
            s("-out"),
            cert_der.as_os_str(),
        ])?;
        let der = std::fs::read(&cert_der).map_err(|e| format!("read {}: {e}", cert_der.display()))?;
        Ok(Certs { cert_pem, key_pem, der })
    }
}

const NGINX: &str = "/usr/sbin/nginx";

/// Write the nginx configuration; returns its port and path.
fn nginx_config(dir: &Path, certs: &Certs) -> BenchResult<(u16, PathBuf)> {
    let port = common::free_port()?;
    let d = dir.display();
    let conf = format!(
        r#"# Generated by benches/tls.rs: one process, TLS on 127.0.0.1, "hello\n" for everything.
worker_processes 1;
master_process off;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log error;
worker_rlimit_nofile 8192;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path {d}/nginx-body;
    proxy_temp_path {d}/nginx-proxy;
    fastcgi_temp_path {d}/nginx-fastcgi;
    uwsgi_temp_path {d}/nginx-uwsgi;
    scgi_temp_path {d}/nginx-scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        default_type text/plain;
        location / {{
            return 200 "hello\n";
        }}
    }}
}}
"#,
        cert = certs.cert_pem.display(),
        key = certs.key_pem.display(),
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok((port, path))
}

// ---- the servers --------------------------------------------------------------------------

/// The two servers: `common::Server`, started here.
impl Server {
    fn start_meerkat(bin: &Path, certs: &Certs) -> BenchResult<Server> {
        let port = common::free_port()?;
        // meerkat_https_hello also exits on its own (alarm) after 10 minutes.
        let child = Command::new(bin)
            .arg(format!("https://127.0.0.1:{port}"))
            .arg(&certs.cert_pem)
            .arg(&certs.key_pem)
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start meerkat: {e}"))?;
        Server {
            name: "meerkat".into(),
            child,
            port,
        }
        .wait_ready()
    }

    fn start_nginx(conf: &Path, dir: &Path, port: u16) -> BenchResult<Server> {
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("nginx-error.log"))
            .arg("-c")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start nginx ({NGINX}; install nginx): {e}"))?;
        Server {
            name: "nginx".into(),
            child,
            port,
        }
        .wait_ready()
    }
}

// ---- the TLS client ---------------------------------------------------------------------------

/// A rustls client configuration (ring) that trusts exactly the generated certificate and
/// never resumes a session: every connection does a full handshake.
fn client_config(cert_der: &[u8]) -> BenchResult<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert_der.to_vec()))
        .map_err(|e| format!("trust the generated certificate: {e}"))?;
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("client config: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(cfg))
}

fn server_name() -> ServerName<'static> {
    ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())
}

/// One HTTPS client connection and the bytes received but not yet parsed.
struct Https {
    s: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl Https {
    fn connect(port: u16, cfg: &Arc<ClientConfig>) -> BenchResult<Https> {
        let tcp = common::connect(port)?;
        let conn = ClientConnection::new(cfg.clone(), server_name()).map_err(|e| format!("TLS client: {e}"))?;
        Ok(Https {
            s: StreamOwned::new(conn, tcp),
            buf: Vec::with_capacity(512),
        })
    }

    /// Send `req` (the handshake, on a new connection, happens first) and read the response.
    fn request(&mut self, req: &[u8]) -> BenchResult<()> {
        self.s.write_all(req).map_err(|e| format!("TLS write: {e}"))?;
        self.s.flush().map_err(|e| format!("TLS flush: {e}"))?;
        self.read_response()
    }

    /// Read one response: status 200 and a `Content-Length` body equal to "hello\n".
    fn read_response(&mut self) -> BenchResult<()> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = &self.buf[..end];
                if !head.starts_with(b"HTTP/1.1 200 ") {
                    return Err(format!("unexpected response: {:?}", String::from_utf8_lossy(head)));
                }
                let len = content_length(head).ok_or("response without Content-Length")?;
                let total = end + 4 + len;
                if self.buf.len() >= total {
                    if &self.buf[end + 4..total] != HELLO_BODY {
                        return Err("response body is not \"hello\\n\"".into());
                    }
                    self.buf.drain(..total);
                    return Ok(());
                }
            }
            let mut tmp = [0u8; 4096];
            let n = self.s.read(&mut tmp).map_err(|e| format!("TLS read: {e}"))?;
            if n == 0 {
                return Err("connection closed before the response was complete".into());
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// Protocol version, cipher suite and key exchange group negotiated.
    fn negotiated(&self) -> String {
        let c = &self.s.conn;
        format!(
            "{:?}, {:?}, {:?}",
            c.protocol_version(),
            c.negotiated_cipher_suite().map(|s| s.suite()),
            c.negotiated_key_exchange_group().map(|g| g.name())
        )
    }

    /// Close with a RST (SO_LINGER 0): no TIME_WAIT socket is left on the client side, so
    /// that tens of thousands of connections do not run out of ephemeral ports.
    fn abort(self) {
        let _ = socket2::SockRef::from(&self.s.sock).set_linger(Some(Duration::ZERO));
    }
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k.trim().eq_ignore_ascii_case("content-length") {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

/// One request on a new connection; returns what was negotiated and the connection.
fn one_request(port: u16, cfg: &Arc<ClientConfig>) -> BenchResult<(String, Https)> {
    let mut h = Https::connect(port, cfg)?;
    h.request(REQ_KEEP)?;
    Ok((h.negotiated(), h))
}

// ---- the load ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Handshake,
    KeepAlive,
}

impl Scenario {
    fn title(self) -> &'static str {
        match self {
            Scenario::Handshake => "full handshakes/s (new connection per request)",
            Scenario::KeepAlive => "keep-alive HTTPS requests/s",
        }
    }
}

/// One thread of the handshake load until `end`: connect, handshake, one request, close.
fn handshake_loop(port: u16, cfg: Arc<ClientConfig>, end: Instant) -> BenchResult<u64> {
    let mut n = 0;
    loop {
        let mut h = Https::connect(port, &cfg)?;
        h.request(REQ_CLOSE)?;
        h.abort();
        n += 1;
        if Instant::now() >= end {
            return Ok(n);
        }
    }
}

/// One thread of the keep-alive load until `end`: one request in flight per connection.
fn keepalive_loop(mut conns: Vec<Https>, end: Instant) -> BenchResult<(Vec<Https>, u64)> {
    let mut n = 0;
    loop {
        for h in conns.iter_mut() {
            h.s.write_all(REQ_KEEP).map_err(|e| format!("TLS write: {e}"))?;
        }
        for h in conns.iter_mut() {
            h.read_response()?;
        }
        n += conns.len() as u64;
        if Instant::now() >= end {
            return Ok((conns, n));
        }
    }
}

/// The client side for one server: `threads` threads, and for keep-alive their connections.
struct Load {
    port: u16,
    threads: usize,
    groups: Vec<Vec<Https>>,
}

impl Load {
    fn open(port: u16, sc: Scenario, cfg: &Config, client: &Arc<ClientConfig>) -> BenchResult<Load> {
        let mut groups = Vec::new();
        if sc == Scenario::KeepAlive {
            let threads = cfg.threads.min(cfg.conns);
            let per = cfg.conns.div_ceil(threads);
            let mut left = cfg.conns;
            while left > 0 {
                let k = per.min(left);
                groups.push(
                    (0..k)
                        .map(|_| one_request(port, client).map(|r| r.1))
                        .collect::<BenchResult<_>>()?,
                );
                left -= k;
            }
        }
        Ok(Load {
            port,
            threads: cfg.threads,
            groups,
        })
    }

    /// Run the load for `dur`; returns (operations, elapsed).
    fn run(&mut self, dur: Duration, client: &Arc<ClientConfig>) -> BenchResult<(u64, Duration)> {
        let start = Instant::now();
        let end = start + dur;
        let total = if self.groups.is_empty() {
            let handles: Vec<_> = (0..self.threads)
                .map(|_| {
                    let (port, client) = (self.port, client.clone());
                    std::thread::spawn(move || handshake_loop(port, client, end))
                })
                .collect();
            common::join_all(handles)?.into_iter().sum()
        } else {
            let handles: Vec<_> = std::mem::take(&mut self.groups)
                .into_iter()
                .map(|g| std::thread::spawn(move || keepalive_loop(g, end)))
                .collect();
            let mut total = 0;
            for (g, n) in common::join_all(handles)? {
                self.groups.push(g);
                total += n;
            }
            total
        };
        Ok((total, start.elapsed()))
    }
}

struct Comparison {
    scenario: Scenario,
    what: String,
    /// meerkat's and nginx's measured runs.
    tally: [Tally; 2],
}

impl Comparison {
    fn print(&self) {
        println!();
        println!("-- {} [{}] --", self.scenario.title(), self.what);
        for (name, t) in ["meerkat", "nginx"].iter().zip(&self.tally) {
            let runs: Vec<String> = t.rates.iter().map(|r| format!("{r:.0}")).collect();
            println!(
                "{name:>7}: {:>8.0}/s  server CPU {:>7} us/op  (runs: {}; {} ops in {:.1} s)",
                t.rate(),
                t.cpu_us().map_or("?".into(), |c| format!("{c:.1}")),
                runs.join(" "),
                t.ops,
                t.secs
            );
        }
        let [mk, ng] = &self.tally;
        let cpu = match (mk.cpu_us(), ng.cpu_us()) {
            (Some(m), Some(n)) if m > 0.0 => format!("{:.2}x", n / m),
            _ => "?".into(),
        };
        println!(
            "  ratio meerkat/nginx: throughput {:.2}x; CPU efficiency (nginx CPU/op / meerkat CPU/op) {cpu}",
            mk.rate() / ng.rate()
        );
    }
}

/// Both servers in one scenario: warm-up, then `rounds` runs each, alternating A B, B A, ...
fn compare(cfg: &Config, servers: &[Server; 2], client: &Arc<ClientConfig>, sc: Scenario) -> BenchResult<Comparison> {
    let mut loads = [
        Load::open(servers[0].port, sc, cfg, client)?,
        Load::open(servers[1].port, sc, cfg, client)?,
    ];
    if cfg.warmup > 0.0 {
        for l in &mut loads {
            l.run(Duration::from_secs_f64(cfg.warmup), client)?;
        }
    }
    let dur = Duration::from_secs_f64(cfg.secs);
    let tally = common::alternate(
        cfg.rounds,
        |s| {
            loads[s]
                .run(dur, client)
                .map_err(|e| format!("{}: {e}", servers[s].name))
        },
        |s| servers[s].cpu_secs(),
    )?;
    let what = match sc {
        Scenario::Handshake => format!("{} threads, connect + handshake + GET + close", cfg.threads),
        Scenario::KeepAlive => format!(
            "{} connections over {} threads, 1 request in flight each",
            cfg.conns,
            cfg.threads.min(cfg.conns)
        ),
    };
    Ok(Comparison {
        scenario: sc,
        what,
        tally,
    })
}

// ---- heap per idle TLS connection (in process) ------------------------------------------------

unsafe extern "C" fn hello_handler(c: mg_conn, ev: c_int, _ev_data: *mut c_void) {
    if ev == MG_EV_HTTP_MSG {
        let headers = c"Content-Type: text/plain\r\n";
        let _ =
            meerkat::ffi::http::mg_http_reply_n(c, 200, headers.as_ptr(), HELLO_BODY.as_ptr().cast(), HELLO_BODY.len());
    }
}

struct HeapReport {
    conns: usize,
    rust_per_conn: isize,
    c_heap_per_conn: Option<isize>,
}

/// State of an idle-client child, as its stdout reader thread saw it.
const CHILD_WAITING: u8 = 0;
const CHILD_READY: u8 = 1;
const CHILD_FAILED: u8 = 2;

/// A child process of this binary holding `n` idle TLS connections to `port` (see
/// `idle_client_main`). It starts connecting when `go` is called and holds its connections
/// until dropped (its stdin is closed).
struct IdleChild {
    child: Child,
    stdin: Option<ChildStdin>,
    state: Arc<AtomicU8>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl IdleChild {
    fn spawn(port: u16, n: usize, cert_der: &Path) -> BenchResult<IdleChild> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .env(CHILD_ENV, format!("{port} {n} {}", cert_der.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start idle client process: {e}"))?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let state = Arc::new(AtomicU8::new(CHILD_WAITING));
        // Reads into a stack buffer only: nothing this thread does in the measured window
        // allocates.
        let reader = {
            let state = state.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                let mut len = 0;
                loop {
                    match stdout.read(&mut buf[len..]) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => len += k,
                    }
                    if buf[..len].contains(&b'\n') || len == buf.len() {
                        break;
                    }
                }
                let ok = buf[..len].starts_with(b"ready\n");
                state.store(if ok { CHILD_READY } else { CHILD_FAILED }, Ordering::SeqCst);
                // Keep the pipe open until the child exits.
                let _ = std::io::copy(&mut stdout, &mut std::io::sink());
            })
        };
        Ok(IdleChild {
            child,
            stdin,
            state,
            reader: Some(reader),
        })
    }

    fn go(&mut self) -> BenchResult<()> {
        let s = self.stdin.as_mut().ok_or("idle client stdin closed")?;
        s.write_all(b"g")
            .and_then(|_| s.flush())
            .map_err(|e| format!("start idle client: {e}"))
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }
}

impl Drop for IdleChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The child process: `PORT N CERT_DER` in the environment. Waits for one byte on stdin,
/// opens N TLS connections one by one, each with one keep-alive request answered, prints
/// "ready", then holds them until stdin closes.
fn idle_client_main(spec: &str) -> BenchResult<()> {
    let mut it = spec.splitn(3, ' ');
    let port: u16 = it.next().and_then(|s| s.parse().ok()).ok_or("bad port")?;
    let n: usize = it.next().and_then(|s| s.parse().ok()).ok_or("bad count")?;
    let der = std::fs::read(it.next().ok_or("no certificate path")?).map_err(|e| format!("read cert: {e}"))?;
    let cfg = client_config(&der)?;
    let mut stdin = std::io::stdin().lock();
    let mut b = [0u8; 1];
    if stdin.read(&mut b).map_err(|e| e.to_string())? == 0 {
        return Ok(());
    }
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(one_request(port, &cfg)?.1);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(b"ready\n")
        .and_then(|_| out.flush())
        .map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let _ = stdin.read_to_end(&mut rest);
    drop(conns);
    Ok(())
}

/// `n` idle TLS connections (each after a handshake and one request) to an in-process meerkat
/// https listener; the heap the server side holds for them.
fn heap_per_idle_tls(n: usize, certs: &Certs) -> BenchResult<HeapReport> {
    let der_path = certs.cert_pem.with_file_name("cert.der");
    let cert = std::fs::read(&certs.cert_pem).map_err(|e| format!("read cert: {e}"))?;
    let key = std::fs::read(&certs.key_pem).map_err(|e| format!("read key: {e}"))?;
    let mut m = Mgr::new()?;
    let url = CString::new("https://127.0.0.1:0").map_err(|e| e.to_string())?;
    let l = meerkat::ffi::http::mg_http_listen(m.ptr(), url.as_ptr(), Some(hello_handler), std::ptr::null_mut());
    let port = heap::listener_port(l, "mg_http_listen")?;
    let opts = meerkat::ffi::tls::mg_tls_opts {
        ca: mg_str {
            buf: std::ptr::null_mut(),
            len: 0,
        },
        cert: mg_str {
            buf: cert.as_ptr() as *mut _,
            len: cert.len(),
        },
        key: mg_str {
            buf: key.as_ptr() as *mut _,
            len: key.len(),
        },
        name: mg_str {
            buf: std::ptr::null_mut(),
            len: 0,
        },
        skip_verification: 0,
    };
    let rc = meerkat::ffi::tls::mg_tls_init(l, &opts);
    if rc != 0 {
        return Err(format!("mg_tls_init on the listener: {rc}"));
    }

    // Warm-up: one-time state (the shared server configuration, its bounded session cache,
    // scratch buffers) is not per connection. 40 connections fill the 32-entry session cache.
    let run_child = |m: &mut Mgr, k: usize, measure: bool| -> BenchResult<(isize, Option<isize>)> {
        let mut child = IdleChild::spawn(port, k, &der_path)?;
        for _ in 0..3 {
            m.poll(1)?;
        }
        let accepted0 = m.stats().accepted;
        let live0 = LIVE.load(Ordering::SeqCst);
        let c0 = c_heap_in_use();
        child.go()?;
        m.poll_until(120, "idle TLS clients connected and answered", |m| {
            child.state() != CHILD_WAITING && m.stats().accepted - accepted0 >= k as u64
        })?;
        if child.state() != CHILD_READY {
            return Err("idle client process failed".into());
        }
        for _ in 0..5 {
            m.poll(1)?;
        }
        let live1 = LIVE.load(Ordering::SeqCst);
        let c1 = c_heap_in_use();
        let live_conns = m.stats().live_conns as usize;
        drop(child);
        m.poll_until(30, "idle TLS clients closed", |m| m.stats().live_conns == 1)?;
        if measure && live_conns != k + 1 {
            return Err(format!("expected {} live conns, manager had {live_conns}", k + 1));
        }
        Ok((live1 - live0, c0.zip(c1).map(|(a, b)| b - a)))
    };
    run_child(&mut m, 40, false)?;
    let (rust, c) = run_child(&mut m, n, true)?;
    Ok(HeapReport {
        conns: n,
        rust_per_conn: rust / n as isize,
        c_heap_per_conn: c.map(|b| b / n as isize),
    })
}
