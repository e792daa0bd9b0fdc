//! File systems from C (`tests/c/fs_api.c`): a web root packed by `scripts/pack.py` and linked
//! into the program, served through `mg_fs_packed` (`mg_unpacked`, `mg_fs_ls`, `mg_fs_open`,
//! `mg_file_read`); the OS's files through `mg_fs_posix` (`mg_file_write`, `mg_file_printf`,
//! rename, mkdir, remove) in a fresh directory; and a `struct mg_fs` the program supplies.
//! Built plain and under ASan + UBSan. `pack.py -z` is checked by unpacking what the program
//! finds at `/web/index.html.gz` with Python's gzip.

mod common;

use common::cbuild::{compile_c, out_dir, root, run_checks, Flavor};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A web root with known contents: web/index.html, web/z.txt, web/sub/a.css.
fn web_root(name: &str) -> PathBuf {
    let dir = out_dir().join(format!("fs-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("web/sub")).unwrap();
    std::fs::write(dir.join("web/index.html"), "<h1>hello</h1>\n").unwrap();
    std::fs::write(dir.join("web/z.txt"), "zzz-0123YZ").unwrap();
    std::fs::write(dir.join("web/sub/a.css"), "body{}").unwrap();
    std::fs::create_dir_all(dir.join("posix")).unwrap();
    dir
}

fn pack(dir: &Path, extra: &[&str], out: &Path) {
    let st = Command::new("python3")
        .arg(root().join("scripts/pack.py"))
        .args(["-s"])
        .arg(format!("{}/", dir.display()))
        .args(extra)
        .arg("-o")
        .arg(out)
        .arg(dir.join("web"))
        .status()
        .expect("python3");
    assert!(st.success(), "pack.py failed");
}

fn run(bin: &Path, args: &[&Path], mode: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    if let Some(m) = mode {
        cmd.arg(m);
    }
    cmd.output().expect("run fs_api")
}

fn fs_api(flavor: Flavor) {
    let dir = web_root(&format!("{flavor:?}"));
    let packed = dir.join("packed.c");
    pack(&dir, &[], &packed);
    let src = root().join("tests/c/fs_api.c");
    let bin = compile_c(&format!("fs_api-{flavor:?}"), &[&src, &packed], &[], flavor);
    run_checks(Command::new(&bin).arg(dir.join("posix")), "fs_api", 38);
}

#[test]
fn fs_api_from_c() {
    fs_api(Flavor::Plain);
}

#[test]
fn fs_api_from_c_sanitized() {
    fs_api(Flavor::Sanitized);
}

#[test]
fn pack_gzip_stores_name_gz() {
    let dir = web_root("gz");
    let packed = dir.join("packed-gz.c");
    pack(&dir, &["-z"], &packed);
    let src = root().join("tests/c/fs_api.c");
    let bin = compile_c("fs_api-gz", &[&src, &packed], &[], Flavor::Plain);
    let out = run(&bin, &[&dir.join("posix")], Some("gz"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(&out.stdout[..2], b"\x1f\x8b", "not gzip");
    let gunzip = Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    gunzip.stdin.as_ref().unwrap().write_all(&out.stdout).unwrap();
    let res = gunzip.wait_with_output().unwrap();
    assert!(res.status.success());
    assert_eq!(res.stdout, b"<h1>hello</h1>\n");
}
