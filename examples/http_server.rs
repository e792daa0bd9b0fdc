//! A small HTTP server on meerkat's Rust API: `/` answers 200 with a short text, anything
//! else 404. A timer counts the requests served, and a worker thread greets every open
//! connection through a [`meerkat::Sender`] once a second (delivered as `Event::Wakeup`).
//!
//! Usage: `cargo run --example http_server -- http://127.0.0.1:8000` (port 0 picks a free
//! port; the address listened on is printed).

use std::cell::Cell;
use std::rc::Rc;

use meerkat::{ConnId, Event, Mgr, TimerOpts};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8000".into());
    let mgr = Mgr::new()?;
    let served = Rc::new(Cell::new(0u64));

    let count = served.clone();
    let listener = mgr.http_listen(&url, move |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
        Event::HttpMessage(req) => {
            count.set(count.get() + 1);
            let r = if req.uri() == b"/" {
                mgr.http_reply(c, 200, b"Content-Type: text/plain\r\n", b"Hello from meerkat\n")
            } else {
                mgr.http_reply(c, 404, b"Content-Type: text/plain\r\n", b"Not found\n")
            };
            if let Err(e) = r {
                eprintln!("http_server: reply on {}: {e}", c.serial());
            }
        }
        Event::Wakeup(msg) => {
            let _ = msg; // a worker's greeting: nothing to do with it here
        }
        _ => {}
    })?;

    // Log the request count every ten seconds (a manager timer: a Rust closure).
    let count = served.clone();
    mgr.timer_add(10_000, TimerOpts::repeat(), move |_: &Mgr| {
        println!("http_server: {} requests served", count.get());
    })?;

    // Other threads reach the loop only through a Sender (cross-thread, by handle).
    let sender = mgr.sender();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if sender.broadcast(b"tick").is_err() {
            return; // the manager is gone
        }
    });

    let addr = mgr.info(listener)?.local.ok_or("no local address")?;
    println!("http_server: listening on http://{addr}");
    loop {
        mgr.poll(1000)?;
    }
}
