//! MQTT with real peers on 127.0.0.1: Debian's `mosquitto` broker (plain and TLS, started
//! here on a free port with a generated config) against meerkat's client (the C acceptance
//! program of issue 12, the `mqtt-client` example, the Rust API), the `paho-mqtt` Python
//! client against the `mqtt-broker` example, and raw sockets for what no real peer sends:
//! malformed packets, a broker that goes silent, a broker that drops the connection before
//! acknowledging.
//!
//! What is asserted is what a user sees: the programs' transcripts and exit status, the
//! events in order, bytes on the wire, the live connection count back to zero.

mod common;

use common::cbuild::{compile_c, example, free_port, root, Flavor};
use common::data::TempDir;
use common::example::Child;
use common::proc::{describe, kill_group, run_limited, text};
use common::tools;
use meerkat::mgr::mqtt::MqttOpts;
use meerkat::mqtt::{self as mq, Prop};
use meerkat::{Event, Handle, Mgr};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

// ---- mosquitto -----------------------------------------------------------------------------

fn mosquitto_bin() -> PathBuf {
    tools::setup(&["mosquitto"], &[]);
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("mosquitto"))
}

/// A mosquitto process on 127.0.0.1:`port`, killed when dropped.
struct Mosquitto {
    child: std::process::Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// Certificates for a TLS listener: a CA and a leaf for 127.0.0.1 and localhost (PEM files
/// in `dir`): (ca, cert, key).
fn make_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "meerkat mqtt test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// Start mosquitto on `port` (0: a free one), with TLS from `tls` (cert, key) when given.
fn mosquitto(port: u16, tls: Option<(&Path, &Path)>) -> Mosquitto {
    let bin = mosquitto_bin();
    let mut last = String::new();
    for _ in 0..3 {
        let port = if port == 0 { free_port() } else { port };
        let dir = TempDir::new("mosquitto");
        let mut conf = format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n");
        if let Some((cert, key)) = tls {
            conf += &format!("certfile {}\nkeyfile {}\n", cert.display(), key.display());
        }
        let cf = dir.path("mosquitto.conf");
        std::fs::write(&cf, conf).unwrap();
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&cf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start mosquitto");
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Mosquitto { child, port, _dir: dir };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_group(child.id());
        let mut e = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut e);
        }
        let _ = child.wait();
        last = e;
    }
    panic!("mosquitto did not start:\n{last}");
}

// ---- the acceptance check (a C program with Mongoose's names) --------------------------------

fn acceptance_program() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        compile_c(
            "mqtt_acceptance",
            &[&root().join("tests/c/mqtt_acceptance.c")],
            &[],
            Flavor::Sanitized,
        )
    })
    .clone()
}

fn run_acceptance(url: &str, version: &str) -> (String, std::process::Output) {
    let out = run_limited(
        Command::new(acceptance_program())
            .args([url, version])
            .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        Duration::from_secs(40),
        "mqtt_acceptance",
    );
    (text(&out.stdout), out)
}

/// Issue 12's check: subscribe at QoS 1, publish 100 messages at QoS 1, receive all 100 in
/// order through MG_EV_MQTT_MSG; MG_EV_MQTT_OPEN reports CONNACK 0. MQTT 3.1.1 and 5 (with
/// properties that must come back through the broker).
#[test]
fn acceptance_100_qos1_messages_in_order_through_mosquitto() {
    let broker = mosquitto(0, None);
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let (v4, out) = run_acceptance(&url, "4");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        v4,
        "open 0\nsuback\npuback 100\nreceived 100 in order\ndone\n",
        "{}",
        describe(&out)
    );
    let (v5, out) = run_acceptance(&url, "5");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        v5,
        "open 0\nsuback\npuback 100\nreceived 100 in order\nprops ok\ndone\n",
        "{}",
        describe(&out)
    );
    assert!(!text(&out.stderr).contains("Sanitizer"), "{}", describe(&out));
}

// ---- the mqtt-client example ------------------------------------------------------------

fn client_lines(count: usize) -> String {
    let mut s = String::from("connected: CONNACK 0\nsubscribed: meerkat/example/rx\n");
    for i in 1..=count {
        s += &format!("received: meerkat/example/rx hello {i}\n");
    }
    s
}

#[test]
fn client_example_against_mosquitto_plain_and_tls() {
    let bin = example("mqtt-client", Flavor::Sanitized);
    let broker = mosquitto(0, None);
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let f = Child::start(&bin, &[&url, "5"]).finish();
    f.assert_no_sanitizer_report();
    f.assert_clean_exit();
    assert_eq!(f.stdout.join("\n") + "\n", client_lines(5), "{}", f.describe());

    let pki = TempDir::new("mqtt-pki");
    let (ca, cert, key) = make_pki(pki.dir());
    let tls = mosquitto(0, Some((&cert, &key)));
    let url = format!("mqtts://127.0.0.1:{}", tls.port);
    let f = Child::start(&bin, &[&url, "3", ca.to_str().unwrap()]).finish();
    f.assert_no_sanitizer_report();
    f.assert_clean_exit();
    assert_eq!(f.stdout.join("\n") + "\n", client_lines(3), "{}", f.describe());

    // A CA that did not sign the broker's certificate: the handshake fails, the client
    // reports it and keeps retrying (killed here).
    let other = TempDir::new("mqtt-pki-other");
    let (other_ca, _, _) = make_pki(other.dir());
    let mut c = Child::start(&bin, &[&url, "3", other_ca.to_str().unwrap()]);
    c.wait_line("a certificate error", |l| {
        l.starts_with("error: ") && l.contains("ertificate")
    });
    c.wait_line("a reconnect", |l| l == "reconnecting in 250 ms");
    let f = c.kill();
    assert!(
        !f.stdout.iter().any(|l| l.starts_with("connected:")),
        "{}",
        f.describe()
    );
}

/// The broker is not there yet: the client retries with a doubling back-off and gets
/// through once mosquitto starts on the port.
#[test]
fn client_example_reconnects_with_backoff() {
    let bin = example("mqtt-client", Flavor::Sanitized);
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut c = Child::start(&bin, &[&url, "2"]);
    c.wait_line("first retry", |l| l == "reconnecting in 250 ms");
    c.wait_line("second retry, doubled", |l| l == "reconnecting in 500 ms");
    let _broker = mosquitto(port, None);
    let f = c.finish();
    f.assert_no_sanitizer_report();
    f.assert_clean_exit();
    let out = f.stdout.join("\n") + "\n";
    assert!(out.ends_with(&client_lines(2)), "{}", f.describe());
    assert!(out.contains("error: "), "{}", f.describe());
}

// ---- paho-mqtt against the mqtt-broker example ------------------------------------------------

const PAHO_SCRIPT: &str = r#"
import json, sys, time, threading
import paho.mqtt.client as mqtt

port = int(sys.argv[1])
proto = mqtt.MQTTv5 if sys.argv[2] == "5" else mqtt.MQTTv311
got = []
subacked = threading.Event()
lock = threading.Lock()

def on_message(c, u, m):
    with lock:
        got.append([m.topic, m.payload.decode(), m.qos])

def on_subscribe(c, u, mid, *rest):
    subacked.set()

def client(name):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=proto)
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    return c

sub = client("sub")
sub.on_message = on_message
sub.on_subscribe = on_subscribe
sub.subscribe([("a/+/c", 1), ("x/#", 0)])
assert subacked.wait(10), "no SUBACK"
pub = client("pub")
infos = []
for topic, payload, qos in [("a/b/c", "one", 1), ("x", "two", 0), ("a/b", "no", 1),
                            ("x/y/z", "three", 1), ("a/b/c/d", "no", 0), ("a//c", "four", 1)]:
    infos.append(pub.publish(topic, payload, qos))
for i in infos:
    i.wait_for_publish(10)
end = time.time() + 10
while time.time() < end and len(got) < 4:
    time.sleep(0.02)
time.sleep(0.3)
sub.unsubscribe("x/#")
time.sleep(0.3)
pub.publish("x/after", "gone", 1).wait_for_publish(10)
pub.publish("a/z/c", "five", 1).wait_for_publish(10)
end = time.time() + 10
while time.time() < end and len(got) < 5:
    time.sleep(0.02)
time.sleep(0.3)
pub.disconnect(); sub.disconnect()
pub.loop_stop(); sub.loop_stop()
print(json.dumps(got))
"#;

#[test]
fn paho_clients_through_the_broker_example() {
    let py = tools::python_with("paho.mqtt", "paho-mqtt>=2,<3");
    let bin = example("mqtt-broker", Flavor::Sanitized);
    let (child, port) = Child::server_with(&bin, "mqtt", None, &[]);
    let dir = TempDir::new("paho");
    let script = dir.path("paho_test.py");
    std::fs::write(&script, PAHO_SCRIPT).unwrap();
    for version in ["4", "5"] {
        let out = run_limited(
            Command::new(&py).arg(&script).arg(port.to_string()).arg(version),
            Duration::from_secs(60),
            "paho script",
        );
        assert!(out.status.success(), "MQTT {version}: {}", describe(&out));
        let got = text(&out.stdout);
        assert_eq!(
            got.trim(),
            r#"[["a/b/c", "one", 1], ["x", "two", 0], ["x/y/z", "three", 0], ["a//c", "four", 1], ["a/z/c", "five", 1]]"#,
            "MQTT {version}: what the subscriber received\n{}",
            describe(&out)
        );
    }
    // A client that sends a malformed packet after its CONNECT: the broker example sees one
    // MG_EV_ERROR and one MG_EV_CLOSE for it, and the socket is closed.
    let mut child = child;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut connect = Vec::new();
    mq::packet::Connect {
        level: 4,
        clean: true,
        client_id: b"bad",
        ..Default::default()
    }
    .encode(&mut connect);
    s.write_all(&connect).unwrap();
    let mut connack = [0u8; 4];
    s.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    s.write_all(&[0x30, 0x05, 0x00, 0x09, b'a', b'b', b'c']).unwrap(); // topic past the end
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "nothing after CONNACK: {rest:?}");
    child.wait_line("the error", |l| l.starts_with("error: malformed MQTT packet"));
    child.wait_line("the close", |l| l == "client closed");
    let f = child.stop();
    f.assert_no_sanitizer_report();
    let n = |line: &str| f.stdout.iter().filter(|l| *l == line).count();
    assert_eq!(n("client connected, MQTT version 4"), 3, "{}", f.describe());
    assert_eq!(n("client connected, MQTT version 5"), 2, "{}", f.describe());
    assert_eq!(n("client closed"), 5, "{}", f.describe());
    let errors = f.stdout.iter().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 1, "{}", f.describe());
}

// ---- the Rust API: recorded events -----------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Error(String),
    Open(u8),
    Msg(String, Vec<u8>, u8, bool),
    Cmd(u8, u16, u8),
    Close,
}

type Log = Rc<RefCell<Vec<(Handle, Ev)>>>;

/// A received property: (id, integer value, key, value).
type OwnedProp = (u8, u32, Vec<u8>, Vec<u8>);

fn recorder(log: &Log) -> impl Fn(&Mgr, Handle, Event<'_>) + 'static {
    let log = log.clone();
    move |_m: &Mgr, h: Handle, ev: Event<'_>| {
        let e = match ev {
            Event::Error(s) => Ev::Error(s.to_string()),
            Event::MqttOpen(c) => Ev::Open(c),
            Event::MqttMsg(m) => Ev::Msg(String::from_utf8_lossy(m.topic).into(), m.data.to_vec(), m.qos, m.dup()),
            Event::MqttCmd(m) => Ev::Cmd(m.cmd, m.id, m.ack),
            Event::Close => Ev::Close,
            _ => return,
        };
        log.borrow_mut().push((h, e));
    }
}

fn poll_until(m: &Mgr, secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        m.poll(10).unwrap();
    }
}

fn count(log: &Log, f: impl Fn(&Ev) -> bool) -> usize {
    log.borrow().iter().filter(|(_, e)| f(e)).count()
}

/// QoS 2 both ways through mosquitto: each of our PUBLISHes gets PUBREC, we answer PUBREL,
/// PUBCOMP ends it; each message comes back once at QoS 2, we answer PUBREC, the broker's
/// PUBREL gets our PUBCOMP. Nothing is left in flight.
#[test]
fn qos2_flow_through_mosquitto() {
    let broker = mosquitto(0, None);
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let opts = MqttOpts {
        client_id: b"qos2",
        clean: true,
        keepalive: 30,
        ..MqttOpts::default()
    };
    let c = m.mqtt_connect(&url, &opts, recorder(&log)).unwrap();
    poll_until(&m, 10, "CONNACK", || count(&log, |e| *e == Ev::Open(0)) == 1);
    let sub = m
        .mqtt_sub(
            c,
            &MqttOpts {
                topic: b"q2/t",
                qos: 2,
                ..MqttOpts::default()
            },
        )
        .unwrap();
    poll_until(&m, 10, "SUBACK", || {
        count(&log, |e| matches!(e, Ev::Cmd(mq::SUBACK, id, 2) if *id == sub)) == 1
    });
    const N: usize = 20;
    let mut ids = Vec::new();
    for i in 0..N {
        let msg = format!("q2 {i}");
        let id = m
            .mqtt_pub(
                c,
                &MqttOpts {
                    topic: b"q2/t",
                    message: msg.as_bytes(),
                    qos: 2,
                    ..MqttOpts::default()
                },
            )
            .unwrap();
        assert_ne!(id, 0);
        ids.push(id);
    }
    poll_until(&m, 15, "all PUBCOMPs and messages", || {
        count(&log, |e| matches!(e, Ev::Cmd(mq::PUBCOMP, ..))) == N && count(&log, |e| matches!(e, Ev::Msg(..))) == N
    });
    poll_until(&m, 5, "the broker's PUBRELs", || {
        count(&log, |e| matches!(e, Ev::Cmd(mq::PUBREL, ..))) == N
    });
    let l = log.borrow().clone();
    let msgs: Vec<_> = l
        .iter()
        .filter_map(|(_, e)| match e {
            Ev::Msg(t, d, q, _) => Some((t.clone(), String::from_utf8_lossy(d).into_owned(), *q)),
            _ => None,
        })
        .collect();
    let want: Vec<_> = (0..N).map(|i| ("q2/t".to_string(), format!("q2 {i}"), 2u8)).collect();
    assert_eq!(msgs, want);
    let recs: Vec<u16> = l
        .iter()
        .filter_map(|(_, e)| match e {
            Ev::Cmd(mq::PUBREC, id, 0) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(recs, ids, "one PUBREC per PUBLISH, in order");
    let s = m.mqtt_session(c).unwrap();
    assert_eq!(s.in_flight().count(), 0, "nothing left in flight");
    m.mqtt_disconnect(c, None).unwrap();
    m.drain(c).unwrap();
    poll_until(&m, 5, "close", || count(&log, |e| *e == Ev::Close) == 1);
    assert_eq!(count(&log, |e| matches!(e, Ev::Error(_))), 0, "{:?}", log.borrow());
}

// ---- malformed packets from a raw socket ------------------------------------------------------

/// Each malformed packet (after a valid CONNECT when it needs one) makes meerkat's listener
/// side deliver exactly one `Error` and one `Close`, close the socket, and the live count
/// returns to where it was. The last case is a packet over `mqtt_max_packet`, refused from
/// its fixed header alone.
#[test]
fn malformed_packets_close_with_one_error_and_one_close() {
    let m = Mgr::new().unwrap();
    let mut limits = m.limits();
    limits.mqtt_max_packet = 4096;
    m.set_limits(limits).unwrap();
    let log: Log = Rc::default();
    let port = free_port();
    m.mqtt_listen(&format!("mqtt://127.0.0.1:{port}"), recorder(&log))
        .unwrap();
    let base = m.stats().1;

    let mut connect5 = Vec::new();
    mq::packet::Connect {
        level: 5,
        clean: true,
        client_id: b"x",
        ..Default::default()
    }
    .encode(&mut connect5);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "five remaining-length bytes",
            vec![0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
            "variable byte integer",
        ),
        (
            "reserved flags on PINGREQ",
            vec![0xc1, 0x00],
            "reserved fixed-header flags",
        ),
        (
            "topic length past the packet",
            vec![0x30, 0x04, 0x00, 0x10, b'a', b'b'],
            "past the end",
        ),
        (
            "SUBSCRIBE without a topic",
            vec![0x82, 0x02, 0x00, 0x01],
            "without a topic",
        ),
        (
            "MQTT 5 PUBLISH with truncated properties",
            [&connect5[..], &[0x30, 0x07, 0x00, 0x01, b't', 0x05, 0x26, 0x00, 0x01]].concat(),
            "property",
        ),
        (
            "PUBLISH over the size limit",
            vec![0x30, 0x80, 0x80, 0x01],
            "size limit",
        ),
        ("QoS 3", vec![0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x01], "QoS 3"),
        (
            "packet id 0",
            vec![0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x00],
            "identifier 0",
        ),
    ];
    for (what, bytes, why) in cases {
        log.borrow_mut().clear();
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&bytes).unwrap();
        poll_until(&m, 10, what, || count(&log, |e| *e == Ev::Close) == 1);
        for _ in 0..5 {
            m.poll(5).unwrap();
        }
        let l = log.borrow().clone();
        let errors: Vec<_> = l
            .iter()
            .filter_map(|(_, e)| match e {
                Ev::Error(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 1, "{what}: {l:?}");
        assert!(
            errors[0].contains(why),
            "{what}: error text {:?} should say {why:?}",
            errors[0]
        );
        assert_eq!(count(&log, |e| *e == Ev::Close), 1, "{what}: {l:?}");
        assert!(matches!(l.last(), Some((_, Ev::Close))), "{what}: Close is last: {l:?}");
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest); // EOF (or RST): the connection is gone
        assert_eq!(m.stats().1, base, "{what}: live connections back to the listener");
    }
}

// ---- keep-alive and retransmission against a scripted broker ---------------------------------

/// Read one MQTT 3.1.1 packet from a blocking socket.
fn read_packet(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if let Ok(mq::Parsed::Packet(p)) = mq::parse(&buf, 4, 1 << 20) {
            return p.dgram.to_vec();
        }
        s.read_exact(&mut b).expect("read a packet");
        buf.push(b[0]);
    }
}

/// A client with keep-alive 1 s pings a broker that has said nothing for 1 s, and fails the
/// connection ("keep-alive timed out") when the broker answers nothing for 1.5 s.
#[test]
fn keepalive_pings_then_fails_a_silent_broker() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let broker = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let connect = read_packet(&mut s);
        assert_eq!(connect[0], 0x10);
        s.write_all(&[0x20, 0x02, 0x00, 0x00]).unwrap();
        let t = Instant::now();
        let ping = read_packet(&mut s);
        let after = t.elapsed();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        (ping, after, t.elapsed())
    });
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let opts = MqttOpts {
        keepalive: 1,
        ..MqttOpts::default()
    };
    m.mqtt_connect(&format!("mqtt://127.0.0.1:{port}"), &opts, recorder(&log))
        .unwrap();
    // Polls that may wait 20 s: the keep-alive deadlines themselves must cut the wait short
    // (the broker is silent after CONNACK), as with poll(-1) in firmware.
    let end = Instant::now() + Duration::from_secs(30);
    while count(&log, |e| *e == Ev::Close) == 0 {
        assert!(Instant::now() < end, "timed out waiting for the close");
        m.poll(20_000).unwrap();
    }
    let (ping, after, closed) = broker.join().unwrap();
    assert_eq!(ping, [0xc0, 0x00], "PINGREQ");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "ping after {after:?}"
    );
    assert!(closed >= Duration::from_millis(1400), "closed after {closed:?}");
    let l = log.borrow().clone();
    assert_eq!(l.len(), 4, "{l:?}"); // Open(0), Cmd(CONNACK), Error, Close
    assert!(
        matches!(&l[2].1, Ev::Error(t) if t.contains("keep-alive timed out")),
        "{l:?}"
    );
}

/// A PUBLISH queued by another thread (`Sender::mqtt_pub`) for a connection that does not
/// speak MQTT is handed to the undelivered callback at the next poll, with no event: on a
/// manager where MQTT was never started, and on one where it was (an MQTT listener).
#[test]
fn publishing_to_a_connection_without_mqtt_is_reported_undelivered() {
    for with_mqtt in [false, true] {
        let m = Mgr::new().unwrap();
        if with_mqtt {
            m.mqtt_listen("mqtt://127.0.0.1:0", |_: &Mgr, _: Handle, _: Event<'_>| {})
                .unwrap();
        }
        let events = Rc::new(RefCell::new(Vec::new()));
        let ev2 = events.clone();
        let udp = m
            .listen("udp://127.0.0.1:0", move |_: &Mgr, _: Handle, ev: Event<'_>| {
                if !matches!(ev, Event::Poll(_)) {
                    ev2.borrow_mut().push(format!("{ev:?}"));
                }
            })
            .unwrap();
        let lost = Rc::new(RefCell::new(Vec::new()));
        let lost2 = lost.clone();
        m.set_undelivered(Some(Box::new(move |_m: &Mgr, h: Handle, data: Vec<u8>| {
            lost2.borrow_mut().push((h, data))
        })));
        let before = events.borrow().len();
        let tx = m.sender();
        std::thread::spawn(move || tx.mqtt_pub(udp, b"t", b"payload", 0, false))
            .join()
            .unwrap()
            .unwrap();
        m.poll(1000).unwrap();
        let lost = lost.borrow();
        assert_eq!(lost.len(), 1, "with_mqtt {with_mqtt}: reported undelivered");
        assert_eq!(lost[0].0, udp);
        let p = mq::Packet::decode(&lost[0].1, 4).unwrap();
        assert!(
            matches!(
                p,
                mq::Packet::Publish(mq::packet::Publish {
                    topic: b"t",
                    payload: b"payload",
                    ..
                })
            ),
            "{p:?}"
        );
        assert_eq!(events.borrow().len(), before, "no event: {:?}", events.borrow());
    }
}

/// The broker drops the connection before acknowledging two QoS 1 messages and a QoS 2
/// whose PUBREC came; the next connection, resumed with the first one's session, sends
/// them again with the same ids (PUBLISH with DUP, and the PUBREL). With the C API's
/// `retransmit_id`, the same by hand.
#[test]
fn unacknowledged_messages_are_retransmitted_after_reconnect() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let broker = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for round in 0..2 {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let connect = read_packet(&mut s);
            assert_eq!(connect[0], 0x10);
            s.write_all(&[0x20, 0x02, round as u8, 0x00]).unwrap();
            let mut got = Vec::new();
            for _ in 0..3 {
                let p = read_packet(&mut s);
                if round == 0 && p[0] >> 4 == 3 && (p[0] >> 1) & 3 == 2 {
                    // PUBREC for the QoS 2 message, then the PUBREL must come.
                    let pk = mq::Packet::decode(&p, 4).unwrap();
                    if let mq::Packet::Publish(pb) = pk {
                        let id = pb.id.to_be_bytes();
                        s.write_all(&[0x50, 0x02, id[0], id[1]]).unwrap();
                    }
                }
                got.push(p);
            }
            if round == 0 {
                let rel = read_packet(&mut s);
                got.push(rel);
            }
            seen.push(got);
            drop(s); // no acks: the connection just drops
        }
        seen
    });
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let url = format!("mqtt://127.0.0.1:{port}");
    let opts = MqttOpts {
        client_id: b"resume",
        clean: false,
        ..MqttOpts::default()
    };
    let c = m.mqtt_connect(&url, &opts, recorder(&log)).unwrap();
    poll_until(&m, 10, "CONNACK", || count(&log, |e| *e == Ev::Open(0)) == 1);
    let mut ids = Vec::new();
    for (i, qos) in [1u8, 1, 2].iter().enumerate() {
        let msg = format!("m{i}");
        ids.push(
            m.mqtt_pub(
                c,
                &MqttOpts {
                    topic: b"r/t",
                    message: msg.as_bytes(),
                    qos: *qos,
                    ..MqttOpts::default()
                },
            )
            .unwrap(),
        );
    }
    let session = Rc::new(RefCell::new(None));
    poll_until(&m, 10, "the drop", || {
        if session.borrow().is_none() {
            if let Ok(s) = m.mqtt_session(c) {
                if s.in_flight().any(|(_, st)| st == mq::session::Stage::Released) {
                    *session.borrow_mut() = Some(s);
                }
            }
        }
        count(&log, |e| *e == Ev::Close) == 1
    });
    let s = session.borrow_mut().take().expect("the session with the PUBREC seen");
    assert_eq!(s.in_flight().count(), 3);
    let c2 = m.mqtt_resume(&url, &opts, s, Rc::new(recorder(&log))).unwrap();
    poll_until(&m, 10, "second close", || count(&log, |e| *e == Ev::Close) == 2);
    let _ = c2;
    let seen = broker.join().unwrap();
    let first: Vec<_> = seen[0][..3]
        .iter()
        .map(|p| match mq::Packet::decode(p, 4).unwrap() {
            mq::Packet::Publish(pb) => (pb.id, pb.dup, pb.qos),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(first, vec![(ids[0], false, 1), (ids[1], false, 1), (ids[2], false, 2)]);
    assert_eq!(seen[0][3], [0x62, 0x02, (ids[2] >> 8) as u8, ids[2] as u8], "PUBREL");
    let again: Vec<_> = seen[1]
        .iter()
        .map(|p| match mq::Packet::decode(p, 4).unwrap() {
            mq::Packet::Publish(pb) => (pb.id, pb.dup, pb.qos, pb.payload.to_vec()),
            mq::Packet::Pubrel(a) => (a.id, false, 9, Vec::new()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        again,
        vec![
            (ids[0], true, 1, b"m0".to_vec()),
            (ids[1], true, 1, b"m1".to_vec()),
            (ids[2], false, 9, Vec::new()),
        ],
        "the two QoS 1 PUBLISHes again with DUP and their ids, then the PUBREL"
    );
}

// ---- publishing from other threads -------------------------------------------------------------

/// Worker threads publish by handle through the loop (`Sender::mqtt_pub`, the wakeup path):
/// every message arrives, each worker's in its order; after the connection is gone the
/// call says `Stale`, and a message queued just before the close goes to the undelivered
/// callback as a PUBLISH packet.
#[test]
fn publishing_from_worker_threads_in_order() {
    let broker = mosquitto(0, None);
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let c = m
        .mqtt_connect(
            &url,
            &MqttOpts {
                client_id: b"threads",
                clean: true,
                ..MqttOpts::default()
            },
            recorder(&log),
        )
        .unwrap();
    poll_until(&m, 10, "CONNACK", || count(&log, |e| *e == Ev::Open(0)) == 1);
    m.mqtt_sub(
        c,
        &MqttOpts {
            topic: b"w/#",
            qos: 1,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "SUBACK", || {
        count(&log, |e| matches!(e, Ev::Cmd(mq::SUBACK, ..))) == 1
    });
    const PER: usize = 50;
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let tx = m.sender();
            std::thread::spawn(move || {
                for i in 0..PER {
                    let topic = format!("w/{w}");
                    let msg = format!("{i}");
                    loop {
                        match tx.mqtt_pub(c, topic.as_bytes(), msg.as_bytes(), 1, false) {
                            Ok(()) => break,
                            Err(meerkat::Error::Full) => std::thread::sleep(Duration::from_millis(1)),
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    poll_until(&m, 20, "all worker messages", || {
        count(&log, |e| matches!(e, Ev::Msg(..))) == 3 * PER
    });
    for w in workers {
        w.join().unwrap();
    }
    for w in 0..3 {
        let got: Vec<String> = log
            .borrow()
            .iter()
            .filter_map(|(_, e)| match e {
                Ev::Msg(t, d, 1, _) if *t == format!("w/{w}") => Some(String::from_utf8_lossy(d).into_owned()),
                _ => None,
            })
            .collect();
        let want: Vec<String> = (0..PER).map(|i| i.to_string()).collect();
        assert_eq!(got, want, "worker {w}: in order");
    }
    // Loss is reported as for wakeups.
    let lost = Rc::new(RefCell::new(Vec::new()));
    let lost2 = lost.clone();
    m.set_undelivered(Some(Box::new(move |_m: &Mgr, h: Handle, data: Vec<u8>| {
        lost2.borrow_mut().push((h, data))
    })));
    let tx = m.sender();
    tx.mqtt_pub(c, b"w/late", b"late", 1, false).unwrap();
    m.close(c).unwrap();
    // The connection is closing when the message reaches the loop: it is handed back.
    poll_until(&m, 5, "close", || count(&log, |e| *e == Ev::Close) == 1);
    m.poll(10).unwrap();
    assert_eq!(tx.mqtt_pub(c, b"w/x", b"x", 0, false), Err(meerkat::Error::Stale));
    let lost = lost.borrow();
    assert_eq!(lost.len(), 1, "the late message is reported undelivered");
    assert_eq!(lost[0].0, c);
    let p = mq::Packet::decode(&lost[0].1, 4).unwrap();
    assert!(
        matches!(
            p,
            mq::Packet::Publish(mq::packet::Publish {
                topic: b"w/late",
                payload: b"late",
                ..
            })
        ),
        "{p:?}"
    );
}

/// MQTT 5 properties reach mosquitto and come back (Rust API), and a CONNACK with an error
/// reason is reported then closes the connection.
#[test]
fn mqtt5_properties_and_refused_connack() {
    let broker = mosquitto(0, None);
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let props_seen: Rc<RefCell<Vec<OwnedProp>>> = Rc::default();
    let ps = props_seen.clone();
    let rec = recorder(&log);
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let c = m
        .mqtt_connect(
            &url,
            &MqttOpts {
                version: 5,
                client_id: b"v5",
                clean: true,
                ..MqttOpts::default()
            },
            move |mm: &Mgr, h: Handle, ev: Event<'_>| {
                if let Event::MqttMsg(msg) = ev {
                    for p in mq::props::to_vec(msg.props()).unwrap() {
                        ps.borrow_mut().push((p.id, p.iv, p.key.to_vec(), p.val.to_vec()));
                    }
                }
                rec(mm, h, ev)
            },
        )
        .unwrap();
    poll_until(&m, 10, "CONNACK", || count(&log, |e| *e == Ev::Open(0)) == 1);
    assert_eq!(m.mqtt_version(c), Ok(5));
    m.mqtt_sub(
        c,
        &MqttOpts {
            topic: b"p/t",
            qos: 1,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "SUBACK", || {
        count(&log, |e| matches!(e, Ev::Cmd(mq::SUBACK, ..))) == 1
    });
    let props = [
        Prop {
            id: mq::props::USER_PROPERTY,
            key: b"k",
            val: b"v",
            ..Prop::default()
        },
        Prop {
            id: mq::props::PAYLOAD_FORMAT_INDICATOR,
            iv: 1,
            ..Prop::default()
        },
        Prop {
            id: mq::props::CORRELATION_DATA,
            val: b"\x00\x01\x02",
            ..Prop::default()
        },
    ];
    m.mqtt_pub(
        c,
        &MqttOpts {
            topic: b"p/t",
            message: b"with props",
            qos: 1,
            props: &props,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "the message back", || {
        count(&log, |e| matches!(e, Ev::Msg(..))) == 1
    });
    let seen = props_seen.borrow().clone();
    assert!(
        seen.contains(&(mq::props::USER_PROPERTY, 0, b"k".to_vec(), b"v".to_vec())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(mq::props::PAYLOAD_FORMAT_INDICATOR, 1, vec![], vec![])),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(mq::props::CORRELATION_DATA, 0, vec![], b"\x00\x01\x02".to_vec())),
        "{seen:?}"
    );

    // MQTT 5 CONNECT with an unsupported authentication method: mosquitto answers CONNACK
    // 0x8C (bad authentication method); the event reports it, then the connection closes.
    let auth = [Prop {
        id: mq::props::AUTHENTICATION_METHOD,
        val: b"no-such-method",
        ..Prop::default()
    }];
    let log2: Log = Rc::default();
    m.mqtt_connect(
        &url,
        &MqttOpts {
            version: 5,
            client_id: b"v5-refused",
            props: &auth,
            ..MqttOpts::default()
        },
        recorder(&log2),
    )
    .unwrap();
    poll_until(&m, 10, "refused CONNACK and close", || {
        count(&log2, |e| *e == Ev::Close) == 1
    });
    let l2 = log2.borrow().clone();
    assert!(matches!(l2[0].1, Ev::Open(code) if code >= 0x80), "{l2:?}");
}

/// Will, retained messages and a persistent session, as mosquitto implements them for our
/// CONNECT flags: a client that vanishes without DISCONNECT has its will published; a
/// retained message reaches a later subscriber with RETAIN set; a client that reconnects
/// with `clean: false` gets CONNACK "session present" and the QoS 1 message published
/// while it was away.
#[test]
fn will_retain_and_persistent_session_through_mosquitto() {
    let broker = mosquitto(0, None);
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let m = Mgr::new().unwrap();
    let log: Log = Rc::default();
    let retained: Rc<RefCell<Vec<(String, bool)>>> = Rc::default();
    let r2 = retained.clone();
    let rec = recorder(&log);
    let watcher_handler = move |mm: &Mgr, h: Handle, ev: Event<'_>| {
        if let Event::MqttMsg(msg) = ev {
            r2.borrow_mut()
                .push((String::from_utf8_lossy(msg.data).into_owned(), msg.retain()));
        }
        rec(mm, h, ev)
    };
    let open = |log: &Log, n: usize| count(log, |e| *e == Ev::Open(0)) >= n;

    // A retained message, published before anyone subscribes.
    let plog: Log = Rc::default();
    let p = m
        .mqtt_connect(
            &url,
            &MqttOpts {
                client_id: b"publisher",
                clean: true,
                ..MqttOpts::default()
            },
            recorder(&plog),
        )
        .unwrap();
    poll_until(&m, 10, "publisher CONNACK", || open(&plog, 1));
    m.mqtt_pub(
        p,
        &MqttOpts {
            topic: b"wr/retained",
            message: b"kept",
            qos: 1,
            retain: true,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "PUBACK", || {
        count(&plog, |e| matches!(e, Ev::Cmd(mq::PUBACK, ..))) == 1
    });

    // A watcher subscribes to everything under wr/: it gets the retained message at once.
    let w = m
        .mqtt_connect(
            &url,
            &MqttOpts {
                client_id: b"watcher",
                clean: true,
                ..MqttOpts::default()
            },
            watcher_handler,
        )
        .unwrap();
    poll_until(&m, 10, "watcher CONNACK", || open(&log, 1));
    m.mqtt_sub(
        w,
        &MqttOpts {
            topic: b"wr/#",
            qos: 1,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "the retained message", || !retained.borrow().is_empty());
    assert_eq!(retained.borrow()[0], ("kept".to_string(), true));

    // A client with a will vanishes (closed without DISCONNECT): the broker publishes it.
    let dlog: Log = Rc::default();
    let d = m
        .mqtt_connect(
            &url,
            &MqttOpts {
                client_id: b"doomed",
                topic: b"wr/will",
                message: b"doomed is gone",
                qos: 1,
                clean: true,
                ..MqttOpts::default()
            },
            recorder(&dlog),
        )
        .unwrap();
    poll_until(&m, 10, "doomed CONNACK", || open(&dlog, 1));
    m.close(d).unwrap();
    poll_until(&m, 10, "the will", || {
        retained.borrow().iter().any(|(t, r)| t == "doomed is gone" && !r)
    });

    // Persistent session: subscribe with clean=false, leave, a message comes meanwhile,
    // come back with clean=false.
    let slog: Log = Rc::default();
    let sess = MqttOpts {
        client_id: b"sleeper",
        clean: false,
        ..MqttOpts::default()
    };
    let s1 = m.mqtt_connect(&url, &sess, recorder(&slog)).unwrap();
    poll_until(&m, 10, "sleeper CONNACK", || open(&slog, 1));
    m.mqtt_sub(
        s1,
        &MqttOpts {
            topic: b"wr/mail",
            qos: 1,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "sleeper SUBACK", || {
        count(&slog, |e| matches!(e, Ev::Cmd(mq::SUBACK, ..))) == 1
    });
    m.mqtt_disconnect(s1, None).unwrap();
    m.drain(s1).unwrap();
    poll_until(&m, 10, "sleeper gone", || count(&slog, |e| *e == Ev::Close) == 1);
    m.mqtt_pub(
        p,
        &MqttOpts {
            topic: b"wr/mail",
            message: b"while you slept",
            qos: 1,
            ..MqttOpts::default()
        },
    )
    .unwrap();
    poll_until(&m, 10, "PUBACK", || {
        count(&plog, |e| matches!(e, Ev::Cmd(mq::PUBACK, ..))) == 2
    });
    let present = Rc::new(RefCell::new(None));
    let pr = present.clone();
    let rec2 = recorder(&slog);
    m.mqtt_connect(&url, &sess, move |mm: &Mgr, h: Handle, ev: Event<'_>| {
        if let Event::MqttCmd(msg) = ev {
            if msg.cmd == mq::CONNACK {
                *pr.borrow_mut() = msg.dgram.get(2).copied();
            }
        }
        rec2(mm, h, ev)
    })
    .unwrap();
    poll_until(&m, 10, "the message kept for the sleeper", || {
        slog.borrow()
            .iter()
            .any(|(_, e)| matches!(e, Ev::Msg(t, d, 1, _) if t == "wr/mail" && d == b"while you slept"))
    });
    assert_eq!(*present.borrow(), Some(1), "CONNACK says session present");
    assert_eq!(count(&log, |e| matches!(e, Ev::Error(_))), 0, "{:?}", log.borrow());
}

// ---- the C API from other threads ---------------------------------------------------------------

mod c_threads {
    use super::*;
    use meerkat::ffi::mgr::mg_last_error;
    use meerkat::ffi::mqtt::*;
    use meerkat::ffi::*;
    use std::ffi::{c_int, c_void, CString};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    static SUBACKED: AtomicBool = AtomicBool::new(false);
    static GOT: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn opts(topic: &'static [u8], message: &[u8], qos: u8) -> mg_mqtt_opts {
        mg_mqtt_opts {
            user: mg_str::EMPTY,
            pass: mg_str::EMPTY,
            client_id: mg_str::EMPTY,
            topic: mg_str::from_bytes(topic),
            message: mg_str::from_bytes(message),
            qos,
            version: 4,
            keepalive: 0,
            retransmit_id: 0,
            retain: false,
            clean: true,
            props: std::ptr::null_mut(),
            num_props: 0,
            will_props: std::ptr::null_mut(),
            num_will_props: 0,
        }
    }

    unsafe extern "C" fn handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
        if ev == MG_EV_MQTT_OPEN {
            let o = opts(b"ct/t", b"", 1);
            assert!(mg_mqtt_sub(c, &o) > 0);
        } else if ev == MG_EV_MQTT_CMD {
            // SAFETY: ev_data of MG_EV_MQTT_CMD is a struct mg_mqtt_message *.
            let mm = unsafe { &*(ev_data as *const mg_mqtt_message) };
            if mm.cmd == 9 {
                SUBACKED.store(true, Ordering::SeqCst);
            }
        } else if ev == MG_EV_MQTT_MSG {
            // SAFETY: as above; data points into meerkat's buffer for this call.
            let mm = unsafe { &*(ev_data as *const mg_mqtt_message) };
            let d = unsafe { std::slice::from_raw_parts(mm.data.buf as *const u8, mm.data.len) };
            GOT.lock().unwrap().push(String::from_utf8_lossy(d).into_owned());
        }
    }

    /// `mg_mqtt_pub_wakeup` from a worker thread: 200 messages arrive in order; the owner-thread
    /// `mg_mqtt_pub` called from the worker does nothing and says `MG_ERR_WRONG_THREAD`.
    #[test]
    fn mg_mqtt_pub_wakeup_from_a_worker_thread() {
        let broker = mosquitto(0, None);
        let mut m = common::Mgr::new();
        let url = CString::new(format!("mqtt://127.0.0.1:{}", broker.port)).unwrap();
        let o = opts(b"", b"", 0);
        let c = mg_mqtt_connect(m.ptr(), url.as_ptr(), &o, Some(handler), std::ptr::null_mut());
        assert_ne!(c.h, 0);
        m.poll_until(10, "SUBACK", |_| SUBACKED.load(Ordering::SeqCst));
        let mgr = m.ptr() as usize;
        let worker = std::thread::spawn(move || {
            let o = opts(b"ct/t", b"from the wrong thread", 1);
            assert_eq!(mg_mqtt_pub(c, &o), 0);
            assert_eq!(mg_last_error(), meerkat::ffi::error::MG_ERR_WRONG_THREAD);
            for i in 0..200 {
                let msg = format!("w{i}");
                let o = opts(b"ct/t", msg.as_bytes(), 1);
                loop {
                    match mg_mqtt_pub_wakeup(mgr as *mut mg_mgr, c, &o) {
                        0 => break,
                        e if e == meerkat::ffi::error::MG_ERR_FULL => std::thread::sleep(Duration::from_millis(1)),
                        e => panic!("mg_mqtt_pub_wakeup: {e}"),
                    }
                }
            }
        });
        m.poll_until(20, "200 messages", |_| GOT.lock().unwrap().len() >= 200);
        worker.join().unwrap();
        let got = GOT.lock().unwrap().clone();
        let want: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        assert_eq!(got, want);
    }
}
