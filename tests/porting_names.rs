//! docs/porting-names.md (Mongoose 7.22's public names, and whether meerkat declares each) is
//! what `scripts/porting_names.py` generates from meerkat's headers, the committed list of
//! Mongoose's names and the notes: the table cannot drift from the headers. Every name not
//! provided must carry a reason. Needs `ctags` (universal-ctags, from scripts/setup.sh).

mod common;

use common::proc::{describe, run_limited};
use common::tools;
use std::process::Command;
use std::time::Duration;

#[test]
fn porting_names_table_matches_the_headers() {
    tools::setup(&["universal-ctags"], &[("ctags", &["--version"])]);
    let root = env!("CARGO_MANIFEST_DIR");
    let out = run_limited(
        Command::new("python3")
            .current_dir(root)
            .args(["scripts/porting_names.py", "table", "--check"]),
        Duration::from_secs(60),
        "porting_names.py",
    );
    assert!(
        out.status.success(),
        "docs/porting-names.md does not match the headers (run `python3 scripts/porting_names.py table`):\n{}",
        describe(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("coverage:"), "{stdout}");
}
