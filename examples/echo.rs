//! A TCP echo server on meerkat's Rust API: every byte a client sends comes back.
//!
//! Usage: `cargo run --example echo -- tcp://127.0.0.1:8765` (port 0 picks a free port; the
//! address listened on is printed).

use meerkat::{ConnId, Event, Mgr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "tcp://127.0.0.1:8765".into());
    let mgr = Mgr::new()?;
    let listener = mgr.listen(&url, |mgr: &Mgr, c: ConnId, ev: Event<'_>| match ev {
        Event::Read(_) => {
            let mut data = Vec::new();
            if mgr.read(c, &mut data).is_ok() {
                // All or nothing: on Err(Full) the peer is faster than it reads; drop it.
                if mgr.send(c, &data).is_err() {
                    let _ = mgr.close(c);
                }
            }
        }
        Event::Error(e) => eprintln!("echo: connection {}: {e}", c.serial()),
        _ => {}
    })?;
    let addr = mgr.info(listener)?.local.ok_or("no local address")?;
    println!("echo: listening on tcp://{addr}");
    loop {
        mgr.poll(1000)?;
    }
}
