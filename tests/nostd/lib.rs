//! `#![no_std]` build of meerkat's portable core (see Cargo.toml).
#![no_std]
#![allow(dead_code)]

#[path = "../../src/handle.rs"]
pub mod handle;
#[path = "../../src/http/mod.rs"]
pub mod http;
#[path = "../../src/util/json.rs"]
pub mod json;
