//! The seed scenario (G1, G2, G3): thousands of loopback connections, each sending a unique
//! nonce; worker threads answer through `mg_wakeup` (two messages per nonce) after random
//! delays; clients leave at random (half FIN, half RST) while new connections reuse fds and
//! slots. A quarter of the clients leave *while their replies are queued*: the worker tells
//! the client to vanish, queues the replies once it is gone, and the loop (parked in that
//! connection's `MG_EV_POLL` until then) finds the connection closing when it delivers.
//!
//! Asserts that no client ever sees another's nonce; that every message accepted by
//! `mg_wakeup` is accounted for exactly once: delivered to its own connection (the payload
//! names the connection's nonce) or handed back to the undelivered callback with its
//! payload, so delivered + undelivered == sent, and some were handed back; that replies to
//! gone connections are otherwise refused as stale; and that the live count returns to
//! where it started. Bounded in count and time.

mod common;
use common::*;
use meerkat::ffi::conn::*;
use meerkat::ffi::error::*;
use meerkat::ffi::mgr::*;
use meerkat::ffi::*;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: u64 = 5000;
const CLIENT_THREADS: u64 = 4;
const WORKERS: usize = 4;
/// Wakeups per nonce.
const PIECES: usize = 2;
/// Bound on every hand-off between the threads of one job.
const HANDOFF: Duration = Duration::from_secs(5);

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How a client leaves; the letter is part of its nonce, so the server and the workers
/// know it too.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Reads both replies.
    Answered,
    /// FIN / RST right after sending: races the worker.
    Fin,
    Rst,
    /// FIN / RST after the worker said so, then the worker queues the replies.
    FinWhileQueued,
    RstWhileQueued,
}

impl Mode {
    fn letter(self) -> char {
        match self {
            Mode::Answered => 'a',
            Mode::Fin => 'f',
            Mode::Rst => 'r',
            Mode::FinWhileQueued => 'F',
            Mode::RstWhileQueued => 'R',
        }
    }
    fn of(nonce: &str) -> Mode {
        match nonce.split('-').nth(2) {
            Some("f") => Mode::Fin,
            Some("r") => Mode::Rst,
            Some("F") => Mode::FinWhileQueued,
            Some("R") => Mode::RstWhileQueued,
            _ => Mode::Answered,
        }
    }
    fn while_queued(self) -> bool {
        matches!(self, Mode::FinWhileQueued | Mode::RstWhileQueued)
    }
}

fn piece(nonce: &str, k: usize) -> Vec<u8> {
    format!("reply:{nonce}:{k}\n").into_bytes()
}

/// The nonce a reply names.
fn nonce_of(payload: &[u8]) -> String {
    let s = String::from_utf8_lossy(payload);
    let s = s.strip_prefix("reply:").unwrap_or(&s);
    s.rsplit_once(':').map_or(s.to_string(), |(n, _)| n.to_string())
}

type Log = Mutex<Vec<(u64, Vec<u8>)>>;
/// For a client leaving while queued: tell it to go, hear that it is gone.
type Vanish = (mpsc::Sender<()>, mpsc::Receiver<()>);

#[derive(Default)]
struct Shared {
    jobs: AtomicU64,
    jobs_done: AtomicU64,
    stale: AtomicU64,
    /// Accepted by `mg_wakeup`: (connection, payload).
    sent: Log,
    /// `MG_EV_WAKEUP`, in delivery order.
    delivered: Log,
    /// The undelivered callback, in order.
    undelivered: Log,
    /// Deliveries whose payload names another connection's nonce (must stay empty).
    wrong: Log,
    /// Loop thread: the nonce each connection sent.
    conn_nonce: Mutex<HashMap<u64, String>>,
    /// Loop thread: connections parked in `MG_EV_POLL` until their worker has queued.
    parked: Mutex<HashMap<u64, mpsc::Receiver<()>>>,
    /// Clients leaving while queued: nonce -> (tell it to go, hear that it is gone).
    vanish: Mutex<HashMap<String, Vanish>>,
}

struct Job {
    c: mg_conn,
    nonce: String,
    /// For a client leaving while queued: unpark the loop once the replies are queued.
    unpark: Option<mpsc::Sender<()>>,
}

struct Server {
    jobs: Mutex<mpsc::Sender<Job>>,
    shared: Arc<Shared>,
}

unsafe extern "C" fn server_fn(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    let s = unsafe { &*(mg_fn_data(c) as *const Server) };
    let sh = &s.shared;
    match ev {
        MG_EV_READ => {
            let data = recv_bytes(c);
            if let Some(end) = data.iter().position(|b| *b == b'\n') {
                mg_recv_consume(c, end + 1);
                let nonce = String::from_utf8_lossy(&data[..end]).into_owned();
                sh.conn_nonce.lock().unwrap().insert(c.h, nonce.clone());
                let unpark = Mode::of(&nonce).while_queued().then(|| {
                    let (tx, rx) = mpsc::channel();
                    sh.parked.lock().unwrap().insert(c.h, rx);
                    tx
                });
                sh.jobs.fetch_add(1, Ordering::Relaxed);
                let job = Job { c, nonce, unpark };
                s.jobs.lock().unwrap().send(job).unwrap();
            }
        }
        MG_EV_POLL => {
            // After this poll's deliveries: wait here until the worker has queued the
            // replies for a client that is gone by then.
            let parked = sh.parked.lock().unwrap().remove(&c.h);
            if let Some(rx) = parked {
                if rx.recv_timeout(HANDOFF).is_err() {
                    sh.wrong
                        .lock()
                        .unwrap()
                        .push((c.h, b"worker never unparked the loop".to_vec()));
                }
            }
        }
        MG_EV_WAKEUP => {
            let d = unsafe { &*(ev_data as *const mg_str) };
            let payload = unsafe { std::slice::from_raw_parts(d.buf as *const u8, d.len) }.to_vec();
            if sh.conn_nonce.lock().unwrap().get(&c.h) != Some(&nonce_of(&payload)) {
                sh.wrong.lock().unwrap().push((c.h, payload.clone()));
            }
            // May fail once the client is gone; its answer is all that matters.
            let _ = mg_send(c, payload.as_ptr().cast(), payload.len());
            sh.delivered.lock().unwrap().push((c.h, payload));
        }
        _ => {}
    }
}

unsafe extern "C" fn undelivered(c: mg_conn, d: *mut mg_str, arg: *mut c_void) {
    let sh = unsafe { &*(arg as *const Shared) };
    let d = unsafe { &*d };
    let payload = unsafe { std::slice::from_raw_parts(d.buf as *const u8, d.len) }.to_vec();
    sh.undelivered.lock().unwrap().push((c.h, payload));
}

struct SendPtr(*mut mg_mgr);
unsafe impl Send for SendPtr {}

/// Worker: queue the replies for one job (after a random delay, or once the client is gone).
fn work(mp: *mut mg_mgr, sh: &Shared, rng: &mut Rng, job: Job) {
    if Mode::of(&job.nonce).while_queued() {
        let (go, gone) = sh
            .vanish
            .lock()
            .unwrap()
            .remove(&job.nonce)
            .expect("the client registered before sending");
        go.send(()).unwrap();
        gone.recv_timeout(HANDOFF).expect("the client left");
    } else {
        std::thread::sleep(Duration::from_micros(rng.next() % 3000));
    }
    for k in 0..PIECES {
        let reply = piece(&job.nonce, k);
        let end = Instant::now() + HANDOFF;
        loop {
            match mg_wakeup(mp, job.c, reply.as_ptr().cast(), reply.len()) {
                0 => {
                    sh.sent.lock().unwrap().push((job.c.h, reply));
                    break;
                }
                MG_ERR_STALE => {
                    sh.stale.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                MG_ERR_FULL if Instant::now() < end => std::thread::yield_now(),
                e => panic!("mg_wakeup returned {e}"),
            }
        }
    }
    if let Some(unpark) = job.unpark {
        let _ = unpark.send(());
    }
    sh.jobs_done.fetch_add(1, Ordering::Relaxed);
}

/// Client: connect, send a nonce, then read the replies or leave (FIN or RST).
fn client(port: u16, nonce: &str, mode: Mode, sh: &Shared) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let go = mode.while_queued().then(|| {
        let (go_tx, go_rx) = mpsc::channel();
        let (gone_tx, gone_rx) = mpsc::channel();
        sh.vanish.lock().unwrap().insert(nonce.to_string(), (go_tx, gone_rx));
        (go_rx, gone_tx)
    });
    s.write_all(format!("{nonce}\n").as_bytes()).unwrap();
    if matches!(mode, Mode::Rst | Mode::RstWhileQueued) {
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
    }
    match mode {
        Mode::Answered => {
            let want: Vec<u8> = (0..PIECES).flat_map(|k| piece(nonce, k)).collect();
            let mut got = vec![0u8; want.len()];
            s.read_exact(&mut got).expect("a live connection gets its replies");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "a reply reached the wrong client, or out of order"
            );
        }
        Mode::Fin | Mode::Rst => drop(s),
        Mode::FinWhileQueued | Mode::RstWhileQueued => {
            let (go_rx, gone_tx) = go.unwrap();
            go_rx.recv_timeout(HANDOFF).expect("the worker got the job");
            drop(s);
            gone_tx.send(()).unwrap();
        }
    }
}

#[test]
fn nonces_never_cross_connections_under_churn() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut m = Mgr::new();
    let sh = Arc::new(Shared::default());
    mg_mgr_set_undelivered_fn(m.ptr(), Some(undelivered), Arc::as_ptr(&sh) as *mut c_void);
    let (tx, rx) = mpsc::channel::<Job>();
    let server: &'static Server = Box::leak(Box::new(Server {
        jobs: Mutex::new(tx),
        shared: sh.clone(),
    }));
    let l = m.listen(
        "tcp://127.0.0.1:0",
        Some(server_fn),
        server as *const Server as *mut c_void,
    );
    let port = port(l);
    let live0 = m.live();

    // Workers: reply through mg_wakeup only.
    let rx = Arc::new(Mutex::new(rx));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let rx = rx.clone();
            let sh = sh.clone();
            let mp = SendPtr(m.ptr());
            std::thread::spawn(move || {
                let mp = mp;
                let mut rng = Rng(seed ^ ((i as u64 + 1) * 0x9E37_79B9));
                loop {
                    let job = rx.lock().unwrap().recv_timeout(Duration::from_millis(50));
                    match job {
                        Ok(job) => work(mp.0, &sh, &mut rng, job),
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
        })
        .collect();

    let clients: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let stop = stop.clone();
            let sh = sh.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(seed.rotate_left(t as u32 * 7 + 1) | 1);
                let mut by_mode: HashMap<char, u64> = HashMap::new();
                for i in 0..CONNECTIONS / CLIENT_THREADS {
                    if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                        break;
                    }
                    let mode = match rng.next() % 8 {
                        0 => Mode::Fin,
                        1 => Mode::Rst,
                        2 => Mode::FinWhileQueued,
                        3 => Mode::RstWhileQueued,
                        _ => Mode::Answered,
                    };
                    let nonce = format!("{t}-{i}-{}-{:x}", mode.letter(), rng.next());
                    client(port, &nonce, mode, &sh);
                    *by_mode.entry(mode.letter()).or_default() += 1;
                }
                by_mode
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
    let mut by_mode: HashMap<char, u64> = HashMap::new();
    for c in clients {
        for (k, v) in c.join().expect("client thread") {
            *by_mode.entry(k).or_default() += v;
        }
    }
    stop.store(true, Ordering::Relaxed);
    // Let every job finish and every connection close.
    let settle = Instant::now() + Duration::from_secs(20);
    loop {
        m.poll(5);
        let done = sh.jobs_done.load(Ordering::Relaxed) == sh.jobs.load(Ordering::Relaxed);
        let sent = sh.sent.lock().unwrap().len();
        let settled = sh.delivered.lock().unwrap().len() + sh.undelivered.lock().unwrap().len();
        if done && settled == sent && m.live() == live0 {
            break;
        }
        assert!(
            Instant::now() < settle,
            "did not settle: live {} (was {live0}), sent {sent}, settled {settled}",
            m.live()
        );
    }
    // Stop the workers: replace the sender so the channel disconnects.
    *server.jobs.lock().unwrap() = mpsc::channel().0;
    for w in workers {
        w.join().unwrap();
    }

    let sent = std::mem::take(&mut *sh.sent.lock().unwrap());
    let delivered = std::mem::take(&mut *sh.delivered.lock().unwrap());
    let lost = std::mem::take(&mut *sh.undelivered.lock().unwrap());
    let (jobs, stale) = (sh.jobs.load(Ordering::Relaxed), sh.stale.load(Ordering::Relaxed));
    let lost_while_queued = lost
        .iter()
        .filter(|(_, p)| Mode::of(&nonce_of(p)).while_queued())
        .count();
    println!(
        "{:?} connections by mode {by_mode:?}; jobs {jobs}: wakeups sent {} (delivered {}, \
         handed back {} of which {lost_while_queued} left while queued), stale {stale}",
        start.elapsed(),
        sent.len(),
        delivered.len(),
        lost.len(),
    );
    let wrong = sh.wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "delivered to the wrong connection: {:?}",
        &wrong[..wrong.len().min(5)]
    );
    // Every message accepted exactly once, and exactly once delivered or handed back, to
    // or for its own connection, with its payload.
    let mut sent_sorted = sent.clone();
    sent_sorted.sort();
    sent_sorted.dedup();
    assert_eq!(sent_sorted.len(), sent.len(), "payloads are unique");
    let mut settled: Vec<_> = delivered.iter().chain(lost.iter()).cloned().collect();
    settled.sort();
    assert_eq!(
        delivered.len() + lost.len(),
        sent.len(),
        "delivered + undelivered == sent"
    );
    assert!(
        settled == sent_sorted,
        "each message delivered or handed back exactly once"
    );
    // Per connection, the pieces arrive in order.
    let mut next: HashMap<u64, usize> = HashMap::new();
    for (h, p) in &delivered {
        let k: usize = String::from_utf8_lossy(p)
            .trim_end()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let n = next.entry(*h).or_default();
        assert!(k >= *n, "FIFO per connection");
        *n = k + 1;
    }
    assert!(!lost.is_empty(), "the undelivered path ran (stale {stale})");
    let answered = by_mode.get(&'a').copied().unwrap_or(0);
    let total: u64 = by_mode.values().sum();
    assert!(total >= CONNECTIONS / 2, "enough connections ran");
    assert!(
        delivered.len() as u64 >= answered * PIECES as u64,
        "every answered client's replies went through the loop"
    );
    let s = m.stats();
    assert_eq!(s.live_conns, live0);
    assert_eq!(s.closed, s.accepted, "every accepted connection closed exactly once");
    assert_eq!(
        (s.wakeups_accepted, s.wakeups_delivered, s.wakeups_undelivered),
        (sent.len() as u64, delivered.len() as u64, lost.len() as u64),
        "the manager's counters agree"
    );
    assert_eq!(mg_mgr_free(m.ptr()), 0);
}
