//! MQTT benchmark (issue 12, item 8): meerkat's MQTT client against Mongoose's, both
//! through the same local `mosquitto`, measured in the same run so that the figure that
//! matters is the ratio.
//!
//! Clients, built with `gcc -O2` here: `benches/c/meerkat_mqtt.c` (release `libmeerkat.a`)
//! and `benches/c/mongoose_mqtt.c` (the same program with Mongoose's connection pointers,
//! against `mongoose.c` from `MQTT_BENCH_MONGOOSE`, a Mongoose checkout; skipped when unset).
//! Scenarios:
//! - `qos0`: publish `MQTT_BENCH_QOS0` (200000) QoS 0 messages of 64 bytes as fast as the
//!   send buffer drains (kept under 256 KiB), then one QoS 1 message whose PUBACK says the
//!   broker has read them all: messages per second.
//! - `qos1`: subscribed at QoS 1 to the topic it publishes to, `MQTT_BENCH_QOS1` (5000)
//!   round trips: PUBLISH, PUBACK, the message back, our PUBACK, the next PUBLISH: round
//!   trips per second.
//!
//! Each scenario runs `MQTT_BENCH_ROUNDS` (3) times per client, alternating the order; the
//! best round counts. mosquitto runs with `set_tcp_nodelay true` (otherwise its PUBACK and
//! the forwarded PUBLISH meet Nagle and delayed ACKs, and both clients measure 40 ms timers).
//!
//! Flash cost: `benches/c/mqtt_size.c` built with and without its MQTT calls (`-DWITH_MQTT`)
//! at `-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -no-pie
//! -Wl,--gc-sections`, stripped, against the archive `scripts/footprint.sh` links (no_std,
//! `target/footprint/libmeerkat-nounwind.a`) and against Mongoose: the text difference is
//! what MQTT costs.
//!
//! Run: `MQTT_BENCH_MONGOOSE=/path/to/mongoose cargo bench --bench mqtt`. It calls
//! `scripts/setup.sh mosquitto`. A benchmark, not a test: it reports, it does not assert.

#[path = "common/mod.rs"]
mod common;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{env_num, load_average, BenchResult};

fn main() {
    if let Err(e) = run() {
        eprintln!("mqtt bench failed: {e}");
        std::process::exit(1);
    }
}

struct Broker {
    child: std::process::Child,
    port: u16,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mosquitto(dir: &Path) -> BenchResult<Broker> {
    let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("mosquitto not installed (scripts/setup.sh mosquitto)")?;
    let port = common::free_port()?;
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nuser root\n"
        ),
    )
    .map_err(|e| format!("write {}: {e}", conf.display()))?;
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("start mosquitto: {e}"))?;
    let b = Broker { child, port };
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > end {
            return Err("mosquitto did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(b)
}

/// One run: (elapsed seconds, count).
fn run_client(bin: &Path, port: u16, mode: &str, n: u64) -> BenchResult<(f64, u64)> {
    let url = format!("mqtt://127.0.0.1:{port}");
    let o = Command::new(bin)
        .args([url.as_str(), mode, &n.to_string()])
        .output()
        .map_err(|e| format!("run {}: {e}", bin.display()))?;
    let out = String::from_utf8_lossy(&o.stdout);
    if !o.status.success() {
        return Err(format!(
            "{} {mode}: {}\n{out}{}",
            bin.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let w: Vec<&str> = out.split_whitespace().collect();
    match w.as_slice() {
        ["elapsed_us", us, "count", c] => {
            let us: f64 = us.parse().map_err(|_| out.to_string())?;
            Ok(((us / 1e6).max(1e-3), c.parse().map_err(|_| out.to_string())?))
        }
        _ => Err(format!("unexpected output: {out}")),
    }
}

fn text_size(bin: &Path) -> BenchResult<u64> {
    let o = Command::new("size")
        .arg(bin)
        .output()
        .map_err(|e| format!("run size: {e}"))?;
    let s = String::from_utf8_lossy(&o.stdout);
    s.lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("size {}: {s}", bin.display()))
}

fn strip(bin: &Path) -> BenchResult<()> {
    let st = Command::new("strip")
        .arg(bin)
        .status()
        .map_err(|e| format!("run strip: {e}"))?;
    if !st.success() {
        return Err(format!("strip {}", bin.display()));
    }
    Ok(())
}

fn run() -> BenchResult<()> {
    common::setup(&["mosquitto"]);
    let mongoose = std::env::var_os("MQTT_BENCH_MONGOOSE").map(PathBuf::from);
    let rounds = env_num("MQTT_BENCH_ROUNDS", 3usize).clamp(1, 50);
    let n0 = env_num("MQTT_BENCH_QOS0", 200_000u64).max(1);
    let n1 = env_num("MQTT_BENCH_QOS1", 5_000u64).max(1);

    let lib = common::release_staticlib()?;
    let dir = common::bench_dir(&lib, "mqtt-bench")?;
    let mut clients: Vec<(&str, PathBuf)> = Vec::new();
    let mk = dir.join("meerkat_mqtt");
    common::gcc(
        &common::root().join("benches/c/meerkat_mqtt.c"),
        &mk,
        &common::meerkat_link(&lib),
    )?;
    clients.push(("meerkat", mk));
    match &mongoose {
        Some(m) => {
            let mg = dir.join("mongoose_mqtt");
            common::gcc_with_mongoose(m, &common::root().join("benches/c/mongoose_mqtt.c"), &mg, &["-O2"])?;
            clients.push(("mongoose", mg));
        }
        None => println!("mongoose: skipped: set MQTT_BENCH_MONGOOSE=/path/to/mongoose (mongoose.c, mongoose.h)"),
    }
    println!("{} | load average {}", common::machine(), load_average());
    let broker = mosquitto(&dir)?;
    println!(
        "mosquitto {} on port {} | {rounds} rounds, best counts",
        String::from_utf8_lossy(
            &Command::new("dpkg-query")
                .args(["-W", "-f", "${Version}", "mosquitto"])
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default()
        ),
        broker.port
    );

    for (mode, n, unit) in [("qos0", n0, "msg/s"), ("qos1", n1, "round trips/s")] {
        let mut best = vec![0f64; clients.len()];
        for r in 0..rounds {
            let order: Vec<usize> = if r % 2 == 0 {
                (0..clients.len()).collect()
            } else {
                (0..clients.len()).rev().collect()
            };
            for i in order {
                let (secs, count) = run_client(&clients[i].1, broker.port, mode, n)?;
                best[i] = best[i].max(count as f64 / secs);
            }
        }
        let mut line = format!("{mode:<5} ({n}):");
        for (i, (name, _)) in clients.iter().enumerate() {
            line += &format!("  {name} {:.0} {unit}", best[i]);
        }
        if best.len() == 2 && best[1] > 0.0 {
            let ratio = best[0] / best[1];
            line += &format!(
                "  meerkat/mongoose {ratio:.2}x (target >= 1.0: {})",
                common::verdict(ratio >= 1.0)
            );
        }
        println!("{line}");
    }
    drop(broker);

    // Flash cost of MQTT, on the archive that scripts/footprint.sh builds and links (no_std,
    // opt-level z, unwind tables removed), with its link flags on both sides.
    let st = Command::new(common::root().join("scripts/footprint.sh"))
        .current_dir(common::root())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("run scripts/footprint.sh: {e}"))?;
    if !st.success() {
        return Err("scripts/footprint.sh failed".into());
    }
    let flib = common::root().join("target/footprint/libmeerkat-nounwind.a");
    let src = common::root().join("benches/c/mqtt_size.c");
    let os = [
        "-Os",
        "-ffunction-sections",
        "-fdata-sections",
        "-fno-asynchronous-unwind-tables",
        "-no-pie",
        "-Wl,--gc-sections",
    ];
    let mut sizes = Vec::new();
    for with in [false, true] {
        let out = dir.join(if with { "size_mqtt" } else { "size_tcp" });
        let mut cmd = Command::new("gcc");
        cmd.args(["-std=c99", "-D_GNU_SOURCE"])
            .args(os)
            .arg("-I")
            .arg(common::root().join("include"));
        if with {
            cmd.arg("-DWITH_MQTT");
        }
        cmd.arg(&src).arg("-o").arg(&out).arg(&flib).args([
            "-lpthread",
            "-ldl",
            "-lm",
            "-lrt",
            "-lutil",
            "-lgcc_s",
            "-lc",
        ]);
        common::run_gcc(&mut cmd, "mqtt_size")?;
        strip(&out)?;
        sizes.push(text_size(&out)?);
    }
    // What of MQTT a program without MQTT calls still links (symbols naming mqtt, from the
    // unstripped TCP client): the manager's hooks, not the codec (see `Ops` in mgr/mqtt.rs).
    let unstripped = dir.join("size_tcp_unstripped");
    common::run_gcc(
        Command::new("gcc")
            .args(["-std=c99", "-D_GNU_SOURCE"])
            .args(os)
            .arg("-I")
            .arg(common::root().join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&unstripped)
            .arg(&flib)
            .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s", "-lc"]),
        "mqtt_size",
    )?;
    let nm = Command::new("nm")
        .args(["-S", "-C"])
        .arg(&unstripped)
        .output()
        .map_err(|e| format!("run nm: {e}"))?;
    let (mut linked, mut syms) = (0u64, 0);
    for l in String::from_utf8_lossy(&nm.stdout).lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() >= 4 && l.to_ascii_lowercase().contains("mqtt") {
            if let Ok(n) = u64::from_str_radix(w[1], 16) {
                linked += n;
                syms += 1;
            }
        }
    }
    println!("MQTT code linked into the meerkat TCP client without MQTT calls: {linked} B in {syms} symbols");
    let mut line = format!(
        "flash (text, stripped, -Os, gc-sections): meerkat TCP client {} B, MQTT client {} B: MQTT calls add {} B",
        sizes[0],
        sizes[1],
        sizes[1] as i64 - sizes[0] as i64
    );
    if let Some(m) = &mongoose {
        let mut ms = Vec::new();
        for with in [false, true] {
            let out = dir.join(if with { "mg_size_mqtt" } else { "mg_size_tcp" });
            let mut flags: Vec<&str> = os.to_vec();
            if with {
                flags.push("-DWITH_MQTT");
            }
            common::gcc_with_mongoose(m, &src, &out, &flags)?;
            strip(&out)?;
            ms.push(text_size(&out)?);
        }
        line += &format!(
            "; Mongoose {} B and {} B: {} B",
            ms[0],
            ms[1],
            ms[1] as i64 - ms[0] as i64
        );
    }
    println!("{line}");
    Ok(())
}
