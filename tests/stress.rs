//! The seed scenario (G1, G2, G3): thousands of loopback connections, each sending a unique
//! nonce; worker threads answer through `mg_wakeup` after random delays; clients abort at
//! random (half FIN, half RST) while new connections reuse fds and slots. Asserts that no
//! client ever sees another's nonce, that every reply to a live connection arrives, that
//! replies to gone connections are reported (stale at once, or handed back undelivered),
//! and that the live count returns to where it started. Bounded in count and time.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::error::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::*;
use std::ffi::{c_int, c_void};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: u64 = 5000;
const CLIENT_THREADS: u64 = 4;
const WORKERS: usize = 4;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Default)]
struct Counters {
    jobs: AtomicU64,
    wakeup_ok: AtomicU64,
    wakeup_stale: AtomicU64,
    delivered: AtomicU64,
    undelivered: AtomicU64,
}

struct Server {
    jobs: Mutex<mpsc::Sender<(mg_conn, Vec<u8>)>>,
    counters: Arc<Counters>,
}

unsafe extern "C" fn server_fn(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let s = unsafe { &*(mg_fn_data(c) as *const Server) };
    match ev {
        MG_EV_READ => {
            let data = recv_bytes(c);
            if let Some(end) = data.iter().position(|b| *b == b'\n') {
                mg_recv_consume(c, end + 1);
                s.counters.jobs.fetch_add(1, Ordering::Relaxed);
                s.jobs.lock().unwrap().send((c, data[..end].to_vec())).unwrap();
            }
        }
        MG_EV_WAKEUP => {
            let d = unsafe { &*(ev_data as *const mg_str) };
            s.counters.delivered.fetch_add(1, Ordering::Relaxed);
            assert_eq!(mg_send(c, d.buf as *const c_void, d.len), 0);
        }
        _ => {}
    }
}

unsafe extern "C" fn undelivered(_c: mg_conn, _d: *mut mg_str, arg: *mut c_void) {
    let counters = unsafe { &*(arg as *const Counters) };
    counters.undelivered.fetch_add(1, Ordering::Relaxed);
}

struct SendPtr(*mut mg_mgr);
unsafe impl Send for SendPtr {}

#[test]
fn nonces_never_cross_connections_under_churn() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut m = Mgr::new();
    let counters = Arc::new(Counters::default());
    mg_mgr_set_undelivered_fn(m.ptr(), Some(undelivered), Arc::as_ptr(&counters) as *mut c_void);
    let (tx, rx) = mpsc::channel::<(mg_conn, Vec<u8>)>();
    let server: &'static Server = Box::leak(Box::new(Server {
        jobs: Mutex::new(tx),
        counters: counters.clone(),
    }));
    let l = m.listen(
        "tcp://127.0.0.1:0",
        Some(server_fn),
        server as *const Server as *mut c_void,
    );
    let port = port(l);
    let live0 = m.live();

    // Workers: reply after a random delay, through mg_wakeup only.
    let rx = Arc::new(Mutex::new(rx));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let rx = rx.clone();
            let counters = counters.clone();
            let mp = SendPtr(m.ptr());
            std::thread::spawn(move || {
                let mp = mp;
                let mut rng = Rng(seed ^ ((i as u64 + 1) * 0x9E37_79B9));
                loop {
                    let job = rx.lock().unwrap().recv_timeout(Duration::from_millis(50));
                    let (c, nonce) = match job {
                        Ok(j) => j,
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    };
                    std::thread::sleep(Duration::from_micros(rng.next() % 3000));
                    let mut reply = b"reply:".to_vec();
                    reply.extend_from_slice(&nonce);
                    reply.push(b'\n');
                    loop {
                        match mg_wakeup(mp.0, c, reply.as_ptr().cast(), reply.len()) {
                            0 => {
                                counters.wakeup_ok.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            MG_ERR_STALE => {
                                counters.wakeup_stale.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            MG_ERR_FULL => std::thread::yield_now(),
                            e => panic!("mg_wakeup returned {e}"),
                        }
                    }
                }
            })
        })
        .collect();

    // Clients: connect, send a nonce, then wait for the reply or abort (FIN or RST).
    let clients: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(seed.rotate_left(t as u32 * 7 + 1) | 1);
                let (mut answered, mut aborted) = (0u64, 0u64);
                for i in 0..CONNECTIONS / CLIENT_THREADS {
                    if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                        break;
                    }
                    let nonce = format!("{t}-{i}-{:x}", rng.next());
                    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    s.write_all(format!("{nonce}\n").as_bytes()).unwrap();
                    match rng.next() % 4 {
                        0 => {
                            drop(s); // FIN before the reply
                            aborted += 1;
                        }
                        1 => {
                            socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
                            drop(s); // RST before the reply
                            aborted += 1;
                        }
                        _ => {
                            let want = format!("reply:{nonce}\n");
                            let mut got = vec![0u8; want.len()];
                            s.read_exact(&mut got).expect("a live connection gets its reply");
                            assert_eq!(String::from_utf8_lossy(&got), want, "a reply reached the wrong client");
                            answered += 1;
                        }
                    }
                }
                (answered, aborted)
            })
        })
        .collect();

    while !clients.iter().all(|c| c.is_finished()) {
        assert!(
            Instant::now() < deadline + Duration::from_secs(15),
            "stress test over time"
        );
        m.poll(5);
    }
    let (mut answered, mut aborted) = (0, 0);
    for c in clients {
        let (a, b) = c.join().expect("client thread");
        answered += a;
        aborted += b;
    }
    stop.store(true, Ordering::Relaxed);
    // Let every job finish and every connection close.
    let settle = Instant::now() + Duration::from_secs(20);
    loop {
        m.poll(5);
        let c = &counters;
        let handled = c.wakeup_ok.load(Ordering::Relaxed) + c.wakeup_stale.load(Ordering::Relaxed);
        let settled = c.delivered.load(Ordering::Relaxed) + c.undelivered.load(Ordering::Relaxed);
        if handled == c.jobs.load(Ordering::Relaxed)
            && settled == c.wakeup_ok.load(Ordering::Relaxed)
            && m.live() == live0
        {
            break;
        }
        assert!(
            Instant::now() < settle,
            "did not settle: live {} (was {live0})",
            m.live()
        );
    }
    let c = &counters;
    let (jobs, ok, stale) = (
        c.jobs.load(Ordering::Relaxed),
        c.wakeup_ok.load(Ordering::Relaxed),
        c.wakeup_stale.load(Ordering::Relaxed),
    );
    let (delivered, lost) = (
        c.delivered.load(Ordering::Relaxed),
        c.undelivered.load(Ordering::Relaxed),
    );
    println!(
        "connections {} answered {answered} aborted {aborted}; jobs {jobs}: wakeup ok {ok} (delivered {delivered}, handed back {lost}), stale {stale}",
        answered + aborted
    );
    assert!(answered + aborted >= CONNECTIONS / 2, "enough connections ran");
    assert!(
        delivered >= answered,
        "every answered client's reply went through the loop"
    );
    assert!(
        stale + lost > 0,
        "aborted clients produced stale handles ({aborted} aborts)"
    );
    let s = m.stats();
    assert_eq!(s.live_conns, live0);
    assert_eq!(s.closed, s.accepted, "every accepted connection closed exactly once");
    // Stop the workers: replace the sender so the channel disconnects.
    *server.jobs.lock().unwrap() = mpsc::channel().0;
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(mg_mgr_free(m.ptr()), 0);
}
