//! Driving a server under valgrind's callgrind and reading its dumps (benches/instructions.rs,
//! benches/ws.rs).

use std::process::{Command, Stdio};

use super::common::BenchResult;

/// `callgrind_control -z` (zero the counters) or `-d` (dump) on process `pid`.
pub fn control(pid: &str, what: &str) -> BenchResult<()> {
    let o = Command::new("callgrind_control")
        .args([what, pid])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("callgrind_control: {e}"))?;
    if !o.status.success() || !String::from_utf8_lossy(&o.stdout).contains("OK") {
        return Err(format!(
            "callgrind_control {what} {pid}: {}",
            String::from_utf8_lossy(&o.stdout)
        ));
    }
    Ok(())
}

/// (total Ir, calls to malloc/calloc/realloc) in a callgrind dump.
pub fn parse_callgrind(text: &str) -> BenchResult<(u64, u64)> {
    let mut names = std::collections::HashMap::<String, String>::new();
    let mut total = None;
    let mut allocs = 0u64;
    let mut callee_is_alloc = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("totals:").or_else(|| line.strip_prefix("summary:")) {
            if total.is_none() || line.starts_with("totals:") {
                total = rest.split_whitespace().next().and_then(|v| v.parse::<u64>().ok());
            }
        } else if let Some(spec) = line.strip_prefix("cfn=").or_else(|| line.strip_prefix("fn=")) {
            // Compressed names: "(id) name" defines id, "(id)" refers to it.
            let name = match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
                Some((id, rest)) if !rest.trim().is_empty() => {
                    names.insert(id.to_string(), rest.trim().to_string());
                    rest.trim().to_string()
                }
                Some((id, _)) => names.get(id).cloned().unwrap_or_default(),
                None => spec.trim().to_string(),
            };
            let base = name.split('\'').next().unwrap_or("");
            callee_is_alloc = line.starts_with("cfn=") && matches!(base, "malloc" | "calloc" | "realloc");
        } else if let Some(rest) = line.strip_prefix("calls=") {
            if callee_is_alloc {
                allocs += rest
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            callee_is_alloc = false;
        }
    }
    Ok((total.ok_or("no totals in the callgrind dump")?, allocs))
}
