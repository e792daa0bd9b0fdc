//! `#![no_std]` build of meerkat's portable core (see Cargo.toml).
#![no_std]
#![allow(dead_code)]

#[path = "../../src/handle.rs"]
pub mod handle;
#[path = "../../src/http/mod.rs"]
pub mod http;
#[path = "../../src/util/json.rs"]
pub mod json;
#[path = "../../src/util/net.rs"]
pub mod net;
#[path = "../../src/util/queue.rs"]
pub mod queue;
#[path = "../../src/util/timer.rs"]
pub mod timer;

extern crate alloc;
#[path = "../../src/prelude.rs"]
mod prelude;
#[path = "../../src/mqtt/mod.rs"]
pub mod mqtt;
