//! Test data: deterministic bytes, scratch directories, numbers from a one-line JSON summary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Deterministic pseudo-random bytes (xorshift) that do not compress, different for every
/// `seed`.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A fresh directory under this target dir's `tmp/` (`CARGO_TARGET_TMPDIR`), unique to the
/// test binary, the process and the call; removed when dropped, also when a test fails.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{}-{tag}-{}-{}",
            env!("CARGO_CRATE_NAME"),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
        TempDir(d)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The unsigned number after `"key":` in a one-line JSON object (the summaries the helper
/// scripts print, the examples' API replies).
pub fn json_num(json: &str, key: &str) -> u64 {
    json.split(&format!("\"{key}\":"))
        .nth(1)
        .map(|s| s.trim_start().split(|c: char| !c.is_ascii_digit()).next().unwrap_or(""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number for {key} in {json}"))
}

/// What `tests/netproto/modbus_client.py` (pymodbus) prints against a Modbus server holding
/// the registers and coils of `c-examples/modbus-server` (the Rust test's server holds the
/// same): one line per request, each a prefix of the line expected.
pub fn assert_modbus_transcript(lines: &[String], describe: &dyn Fn() -> String) {
    const WANT: [&str; 15] = [
        "read_holding regs 1010 1011 1012 1013",
        "read_input regs 7 8",
        "write_register regs 4242",
        "read_back regs 4242",
        "write_registers ok",
        "write_coil bits 1",
        "write_coils ok",
        "read_coils bits 101100001",
        "read_discrete bits 101",
        "read_beyond exception 2",
        // MBAP (tid 77, proto 0, len 3, unit 1), function 0x2b | 0x80, exception 1.
        "raw_bad_function 004d0000000301ab01",
        "raw_bad_count 004e00000003019003",
        "raw_too_many 004f00000003018303",
        "raw_bad_coil_value 005000000003018503",
        "done",
    ];
    assert_eq!(lines.len(), WANT.len(), "{}", describe());
    for (g, w) in lines.iter().zip(WANT) {
        assert!(g.starts_with(w), "got {g:?}, want {w:?}\n{}", describe());
    }
}
