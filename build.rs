//! Compiles the C shim (`src/shim/meerkat_shim.c`: the variadic printf family, `mg_log` and
//! the `%M` printers, which stable Rust cannot define) into the crate. cc bundles it into the
//! staticlib (`libmeerkat.a`) and links it into the rlib's test binaries.
//!
//! The shim is built with `-Wall -Wextra` as errors. A consumer whose C compiler warns about
//! something ours does not (another vendor or version) can set `MEERKAT_SHIM_WERROR=0` to
//! build anyway.

fn main() {
    const SHIM: &str = "src/shim/meerkat_shim.c";

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SHIM}");
    println!("cargo:rerun-if-changed=src/shim/trailer.h");
    println!("cargo:rerun-if-changed=include/meerkat.h");
    println!("cargo:rerun-if-env-changed=MEERKAT_SHIM_WERROR");

    let werror = std::env::var("MEERKAT_SHIM_WERROR").map_or(true, |v| v != "0");
    let root = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));

    let mut build = cc::Build::new();
    build
        .file(root.join(SHIM))
        .include(root.join("include"))
        .include(root.join("src/shim"))
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(werror);
    // MSVC has no C99 mode switch (its default accepts the shim); everyone else gets -std=c99.
    if !build.get_compiler().is_like_msvc() {
        build.std("c99");
    }
    // %lc, %ls and long double floats; %Q, %q, %H and %V (see the shim and Cargo.toml's
    // `printf-wide` and `printf-json`).
    if std::env::var_os("CARGO_FEATURE_PRINTF_WIDE").is_none() {
        build.define("MK_NO_PRINTF_WIDE", None);
    }
    if std::env::var_os("CARGO_FEATURE_PRINTF_JSON").is_none() {
        build.define("MK_NO_PRINTF_JSON", None);
    }
    // opt-level "z" (the footprint profile): cc passes GCC -Os (GCC before 12 has no -Oz);
    // GCC 12+ takes -Oz, which is smaller still (the printf core -2.6 %), and the last -O wins.
    let compiler = build.get_compiler();
    if std::env::var("OPT_LEVEL").as_deref() == Ok("z") && compiler.is_like_gnu() && !compiler.is_like_clang() {
        build.flag_if_supported("-Oz");
    }
    build.compile("meerkat_shim");
}
