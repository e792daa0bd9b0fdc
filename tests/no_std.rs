//! The handle table, the HTTP framers, the JSON scanner and the MQTT machine build in a
//! `#![no_std]` crate (DESIGN: "The protocol machines and the handle table build without
//! std").

#[test]
fn portable_core_builds_without_std() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["check", "--quiet", "--manifest-path"])
        .arg(root.join("tests/nostd/Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target/nostd"))
        .output()
        .expect("run cargo check");
    assert!(
        out.status.success(),
        "no_std build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
