//! Drives `meerkat::ws::WsConn` as a server over arbitrary bytes (frames from a client, in
//! one piece): no panic, never more consumed than given, no message past `max_message`, and
//! the loop ends (an error, or nothing more usable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meerkat::ws::{Config, Event, Role, WsConn};

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut ws = WsConn::new(
        Role::Server,
        Config {
            max_message: MAX,
            mask_seed: [7; 16],
        },
    );
    let mut input = data.to_vec();
    let mut out = Vec::new();
    let mut off = 0;
    while off < input.len() {
        let left = input.len() - off;
        let Ok(p) = ws.feed(&mut input[off..], &mut out) else {
            break;
        };
        assert!(p.consumed <= left);
        if let Some(Event::Message(m) | Event::Control(m)) = &p.event {
            assert!(m.data.len() <= MAX);
        }
        if p.consumed == 0 && p.event.is_none() {
            break;
        }
        off += p.consumed;
    }
});
