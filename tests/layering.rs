//! "Which way the arrows point" (docs/architecture.md): the core modules know nothing of C
//! and hold no `unsafe`. Only `src/ffi/` (the C boundary) and `src/sys/` (the OS) may.

use std::path::{Path, PathBuf};

/// The core: everything under `src/` except `ffi/`, `sys/`, `shim/` and `lib.rs`.
const CORE: &[&str] = &[
    "handle.rs",
    "error.rs",
    "fs",
    "log.rs",
    "mgr",
    "prelude.rs",
    "http",
    "serve",
    "tls",
    "util",
    "ws",
    "dns",
    "sntp",
    "modbus",
    "mqtt",
];

/// Files that must carry `#![forbid(unsafe_code)]` (a module's root file covers its children).
const ROOTS: &[&str] = &[
    "handle.rs",
    "error.rs",
    "fs/mod.rs",
    "log.rs",
    "mgr/mod.rs",
    "prelude.rs",
    "http/mod.rs",
    "serve/mod.rs",
    "tls/mod.rs",
    "util/mod.rs",
    "ws/mod.rs",
    "dns/mod.rs",
    "sntp/mod.rs",
    "modbus/mod.rs",
    "mqtt/mod.rs",
];

const FORBIDDEN: &[&str] = &[
    "crate::ffi",
    "extern \"C\"",
    "c_void",
    "core::ffi::c_int",
    "#[no_mangle]",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}

#[test]
fn core_modules_do_not_mention_c() {
    let mut files = Vec::new();
    for m in CORE {
        rust_files(&src().join(m), &mut files);
    }
    assert!(files.len() > 20, "found only {files:?}");
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in FORBIDDEN {
                if code.contains(w) {
                    bad.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "the core must not know C:\n{}", bad.join("\n"));
}

#[test]
fn core_modules_forbid_unsafe() {
    for r in ROOTS {
        let text = std::fs::read_to_string(src().join(r)).unwrap();
        assert!(
            text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
            "src/{r} lacks #![forbid(unsafe_code)]"
        );
    }
    // Every top-level module is either core (listed above) or allowed to hold unsafe.
    for e in std::fs::read_dir(src()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let allowed = ["ffi", "sys", "shim", "lib.rs"];
        assert!(
            CORE.contains(&name.as_str()) || allowed.contains(&name.as_str()),
            "src/{name}: add it to CORE in tests/layering.rs (or to the allowed list, with a reason)"
        );
    }
}
