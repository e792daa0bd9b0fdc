//! The committed `include/meerkat.h` must be exactly what the pinned cbindgen generates
//! from the sources plus `src/shim/trailer.h`, and must compile as C99 and C++ with
//! `-Wall -Wextra -Werror`. Regenerate with `MEERKAT_BLESS=1 cargo test --test header`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let root = root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut out);
    let mut text = String::from_utf8(out).expect("utf-8 header");
    let trailer = std::fs::read_to_string(root.join("src/shim/trailer.h")).expect("trailer.h");
    text.push('\n');
    text.push_str(&trailer);
    text
}

#[test]
fn committed_header_matches_generated() {
    let generated = generate();
    let path = root().join("include/meerkat.h");
    if std::env::var_os("MEERKAT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed.lines().zip(generated.lines()).position(|(a, b)| a != b);
        panic!(
            "include/meerkat.h is out of date (first differing line: {:?}); run \
             `MEERKAT_BLESS=1 cargo test --test header` and commit the result",
            first.map(|i| i + 1)
        );
    }
}

fn compile(compiler: &str, args: &[&str], src: &Path) {
    let out = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-fsyntax-only")
        .arg(src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e} (install gcc/g++)"));
    assert!(
        out.status.success(),
        "{compiler} {args:?} rejected the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99_and_cpp() {
    let dir = std::env::temp_dir().join(format!("meerkat-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join("t.c");
    std::fs::write(
        &c,
        "#include \"meerkat.h\"\n#include \"mongoose.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    compile("gcc", &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"], &c);
    let cpp = dir.join("t.cpp");
    std::fs::write(
        &cpp,
        "#include \"meerkat.h\"\n#include \"mongoose.h\"\nint main() { return 0; }\n",
    )
    .unwrap();
    compile("g++", &["-std=c++11", "-Wall", "-Wextra", "-Werror"], &cpp);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything the generated part of the header declares is named like Mongoose's API
/// (`mg_`, `MG_`, `WEBSOCKET_`) or is a rustls-ffi type: a core constant that leaks in as
/// `#define NORMAL 1000` or `#define INTERNAL 1011` would collide with firmware's own names.
#[test]
fn the_header_declares_only_prefixed_names() {
    let generated = generate();
    let allowed = |name: &str| {
        ["mg_", "MG_", "WEBSOCKET_", "MEERKAT_", "rustls_"]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let mut stray = Vec::new();
    for line in generated.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let name = match words.as_slice() {
            ["#define", name, ..] => *name,
            ["struct", name, ..] | ["enum", name, ..] if !line.contains('(') => *name,
            _ => continue,
        };
        let name = name.trim_end_matches([';', '{']);
        if !allowed(name) {
            stray.push(line.to_string());
        }
    }
    assert!(
        stray.is_empty(),
        "unprefixed names in meerkat.h (exclude them in cbindgen.toml):\n{}",
        stray.join("\n")
    );
}
