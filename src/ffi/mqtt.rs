//! MQTT: Mongoose 7.22's `mg_mqtt_*` calls and structs over the core's MQTT glue
//! (`mgr/mqtt.rs`) and machine (`mqtt/`). All calls are owner-thread calls except
//! `mg_mqtt_pub_wakeup` (any thread) and `mg_mqtt_parse`/`mg_mqtt_next_prop` (pure).
//!
//! The packet-type and property constants (`MQTT_CMD_*`, `MQTT_PROP_*`, `MQTT_OK`...) keep
//! Mongoose's unprefixed names, so they are defined by the `mongoose.h` shim, not here.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_void};

use super::callback::CHandler;
use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::ffi::error::*;
use crate::mgr::mqtt::MqttOpts;
use crate::mqtt::{self, props, Prop};

/// One MQTT 5 property (Mongoose's `struct mg_mqtt_prop`): `id` is an `MQTT_PROP_*`; `iv`
/// the value of byte, two-byte, four-byte and variable-integer properties; `val` the
/// string or binary value; `key` the name of a user property (with its value in `val`).
/// Filled by `mg_mqtt_next_prop` with views into the message; given by the application in
/// `mg_mqtt_opts.props` (read during the call only).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_mqtt_prop {
    pub id: u8,
    pub iv: u32,
    pub key: mg_str,
    pub val: mg_str,
}

/// Options of `mg_mqtt_connect`, `mg_mqtt_login`, `mg_mqtt_pub`, `mg_mqtt_sub`,
/// `mg_mqtt_unsub` and `mg_mqtt_disconnect` (Mongoose's `struct mg_mqtt_opts`, same
/// layout). Zero it and set what the call uses. Everything is read during the call only
/// (copied into the send buffer).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_mqtt_opts {
    /// CONNECT: user name; empty: none.
    pub user: mg_str,
    /// CONNECT: password; empty: none.
    pub pass: mg_str,
    /// CONNECT: client id; empty: 20 random characters.
    pub client_id: mg_str,
    /// CONNECT: will topic (empty: no will); PUBLISH, SUBSCRIBE, UNSUBSCRIBE: the topic.
    pub topic: mg_str,
    /// CONNECT: will payload; PUBLISH: the payload.
    pub message: mg_str,
    /// QoS 0, 1 or 2 (CONNECT: of the will).
    pub qos: u8,
    /// 4 (MQTT 3.1.1; also for 0) or 5.
    pub version: u8,
    /// CONNECT: keep-alive in seconds (0: none). meerkat then also pings when idle and fails
    /// a silent broker (see `mg_mqtt_connect`).
    pub keepalive: u16,
    /// PUBLISH: 0 for a new message; the id an earlier `mg_mqtt_pub` returned to send that
    /// message again (DUP set, same id).
    pub retransmit_id: u16,
    /// PUBLISH, and CONNECT's will: retain.
    pub retain: bool,
    /// CONNECT: clean session.
    pub clean: bool,
    /// MQTT 5: properties of the packet (NULL if none).
    pub props: *mut mg_mqtt_prop,
    pub num_props: usize,
    /// MQTT 5 CONNECT: will properties (NULL if none).
    pub will_props: *mut mg_mqtt_prop,
    pub num_will_props: usize,
}

/// A received MQTT packet (`ev_data` of `MG_EV_MQTT_MSG` and `MG_EV_MQTT_CMD`; filled by
/// `mg_mqtt_parse`), Mongoose's `struct mg_mqtt_message`. `topic`, `data` and `dgram` point
/// into meerkat's receive buffer, valid until the handler returns.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct mg_mqtt_message {
    /// PUBLISH: the topic.
    pub topic: mg_str,
    /// PUBLISH: the payload.
    pub data: mg_str,
    /// The whole packet, fixed header included.
    pub dgram: mg_str,
    /// Packet id (PUBLISH with QoS > 0, the acks, SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK).
    pub id: u16,
    /// Packet type (`MQTT_CMD_*`).
    pub cmd: u8,
    /// PUBLISH: QoS.
    pub qos: u8,
    /// CONNACK: return code (0: accepted); MQTT 5 acks: the reason code.
    pub ack: u8,
    /// MQTT 5: offset of the properties in `dgram`, and their size.
    pub props_start: usize,
    pub props_size: usize,
}

impl mg_mqtt_message {
    pub(crate) fn from_core(m: &mqtt::Message<'_>) -> mg_mqtt_message {
        mg_mqtt_message {
            topic: mg_str::from_bytes(m.topic),
            data: mg_str::from_bytes(m.data),
            dgram: mg_str::from_bytes(m.dgram),
            id: m.id,
            cmd: m.cmd,
            qos: m.qos,
            ack: m.ack,
            props_start: m.props_start,
            props_size: m.props_size,
        }
    }
}

/// Properties from C, as core properties borrowing the C memory (read during the call).
fn props_of<'a>(p: *mut mg_mqtt_prop, n: usize) -> Result<Vec<Prop<'a>>, c_int> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() || n > 0xffff {
        return Err(MG_ERR_INVALID);
    }
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        // `p` is an array of `n` elements (the caller's promise, as for any C array).
        let one = cast::read(p.wrapping_add(i) as *const mg_mqtt_prop)?;
        if props::kind(one.id).is_none() {
            return Err(MG_ERR_INVALID);
        }
        v.push(Prop {
            id: one.id,
            iv: one.iv,
            key: cast::mg_str_bytes(one.key)?,
            val: cast::mg_str_bytes(one.val)?,
        });
    }
    Ok(v)
}

/// Run `f` with the core options for `o` (NULL: all zero).
fn with_opts<R>(o: *const mg_mqtt_opts, f: impl FnOnce(&MqttOpts<'_>) -> Result<R, c_int>) -> Result<R, c_int> {
    if o.is_null() {
        return f(&MqttOpts::default());
    }
    let o = cast::as_ref(o)?;
    let props = props_of(o.props, o.num_props)?;
    let will_props = props_of(o.will_props, o.num_will_props)?;
    let opts = MqttOpts {
        user: cast::mg_str_bytes(o.user)?,
        pass: cast::mg_str_bytes(o.pass)?,
        client_id: cast::mg_str_bytes(o.client_id)?,
        topic: cast::mg_str_bytes(o.topic)?,
        message: cast::mg_str_bytes(o.message)?,
        qos: o.qos,
        version: o.version,
        keepalive: o.keepalive,
        retransmit_id: o.retransmit_id,
        retain: o.retain,
        clean: o.clean,
        props: &props,
        will_props: &will_props,
    };
    f(&opts)
}

/// Open an MQTT client connection to `url` (`mqtt://host[:port]`, port 1883 by default, or
/// `mqtts://host[:port]`, 8883, with TLS: call `mg_tls_init` in `MG_EV_CONNECT` as for any
/// TLS client) and queue CONNECT built from `opts` (NULL: MQTT 3.1.1, random client id, no
/// keep-alive). Events: `MG_EV_OPEN`, `MG_EV_RESOLVE`, `MG_EV_CONNECT`, (`MG_EV_TLS_HS`),
/// then `MG_EV_MQTT_OPEN` when CONNACK arrives (`ev_data`: `int *` with its code; 0 is
/// success, any other closes the connection after this packet's events), `MG_EV_MQTT_MSG`
/// for each PUBLISH (already acknowledged: PUBACK for QoS 1, PUBREC for QoS 2) and
/// `MG_EV_MQTT_CMD` for every packet (`struct mg_mqtt_message *`). A malformed packet or one
/// over `mg_limits.mqtt_max_packet` gives one `MG_EV_ERROR` then `MG_EV_CLOSE`. With
/// `opts->keepalive` set, meerkat sends PINGREQ whenever nothing was sent for that long and
/// fails the connection ("MQTT keep-alive timed out") when nothing came from the broker for
/// 1.5 times that (Mongoose leaves both to the application). Returns the handle or `{0}`
/// with `mg_last_error()` as for `mg_connect`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_connect(
    mgr: *mut mg_mgr,
    url: *const c_char,
    opts: *const mg_mqtt_opts,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
            let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
            super::callback::install_proto_events();
            with_opts(opts, |o| Ok(m.mqtt_connect_with(url, o, handler)?))
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// Listen for MQTT clients on `url` (`mqtt://0.0.0.0:1883`). Every packet an accepted
/// client sends is delivered as `MG_EV_MQTT_CMD` (PUBLISH also as `MG_EV_MQTT_MSG`, after
/// the automatic PUBACK/PUBREC); the protocol version is taken from the client's CONNECT.
/// Answering CONNECT, SUBSCRIBE and PINGREQ and forwarding messages is the application's
/// (see `c-examples/mqtt-broker`), as in Mongoose. Returns the handle or `{0}` with
/// `mg_last_error()` as for `mg_listen`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_listen(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
            let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
            super::callback::install_proto_events();
            Ok(m.mqtt_listen_with(url, handler)?)
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// Queue CONNECT on `c` (done by `mg_mqtt_connect`; for logging in again). Sets the
/// connection's protocol version and keep-alive from `opts`. Returns 0, or `MG_ERR_FULL`,
/// `MG_ERR_TOO_LARGE`, `MG_ERR_INVALID`, `MG_ERR_UNSUPPORTED` (not an MQTT connection),
/// `MG_ERR_CLOSING`, `MG_ERR_STALE` (Mongoose returns nothing). Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_login(c: mg_conn, opts: *const mg_mqtt_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        with_opts(opts, |o| Ok(m.mqtt_login(h, o)?))?;
        Ok(MG_OK)
    })
}

/// Queue PUBLISH of `opts->message` to `opts->topic` at `opts->qos` with `opts->retain`
/// (MQTT 5: `opts->props`). Returns the packet id: 0 for QoS 0, a new id (counted per
/// manager, never 0) for QoS 1/2, or `opts->retransmit_id` when set (the message is sent
/// again with DUP). On failure returns 0 with `mg_last_error()` set (`MG_ERR_FULL` when the
/// send buffer cannot take it: retry later; `MG_ERR_UNSUPPORTED`, `MG_ERR_STALE`,
/// `MG_ERR_INVALID`...); Mongoose closes the connection with "OOM" instead. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_pub(c: mg_conn, opts: *const mg_mqtt_opts) -> u16 {
    guard(|| {
        let r = (|| {
            let (m, h) = registry::conn(c)?;
            with_opts(opts, |o| Ok(m.mqtt_pub(h, o)?))
        })();
        registry::set_last_error(match r {
            Ok(_) => MG_OK,
            Err(e) => e,
        });
        r.unwrap_or(0)
    })
}

/// Any thread: publish on MQTT connection `c` of `mgr` through the loop, as `mg_wakeup`
/// sends bytes: same FIFO (in order with `mg_wakeup` messages to `c`), caps and errors
/// (`MG_ERR_STALE`, `MG_ERR_FULL`, `MG_ERR_CLOSING`; `MG_ERR_INVALID` for a bad topic or QoS).
/// Uses `opts->topic`, `opts->message`, `opts->qos`, `opts->retain`; the loop gives QoS 1/2
/// messages their id. When `c` closes before the message is sent, the undelivered callback
/// (`mg_mgr_set_undelivered_fn`) gets the PUBLISH packet as MQTT 3.1.1 bytes (parse it with
/// `mg_mqtt_parse`). Returns 0 when queued. (Not in Mongoose.)
#[no_mangle]
pub extern "C" fn mg_mqtt_pub_wakeup(mgr: *mut mg_mgr, c: mg_conn, opts: *const mg_mqtt_opts) -> c_int {
    guard_code(|| {
        let shared = registry::shared(mgr)?;
        let o = cast::as_ref(opts)?;
        let h = crate::handle::Handle::from_raw(c.h).ok_or(MG_ERR_STALE)?;
        let topic = cast::mg_str_bytes(o.topic)?;
        let message = cast::mg_str_bytes(o.message)?;
        crate::mgr::wakeup::Sender(shared).mqtt_pub(h, topic, message, o.qos, o.retain)?;
        Ok(MG_OK)
    })
}

/// Queue SUBSCRIBE to `opts->topic` (a filter; `+` and `#` wildcards) at `opts->qos`.
/// Returns the packet id (> 0), or a negative `MG_ERR_*` (Mongoose returns nothing).
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_sub(c: mg_conn, opts: *const mg_mqtt_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let id = with_opts(opts, |o| Ok(m.mqtt_sub(h, o)?))?;
        Ok(id as c_int)
    })
}

/// Queue UNSUBSCRIBE from `opts->topic`. Returns the packet id or a negative `MG_ERR_*`.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_unsub(c: mg_conn, opts: *const mg_mqtt_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let id = with_opts(opts, |o| Ok(m.mqtt_unsub(h, o)?))?;
        Ok(id as c_int)
    })
}

/// Queue a fixed header (`cmd << 4 | flags`, remaining length `len`); send the body with
/// `mg_send`. Returns 0 or a negative `MG_ERR_*` (`MG_ERR_INVALID` for `cmd` or `flags` over
/// 15 or `len` over 268435455). Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_send_header(c: mg_conn, cmd: u8, flags: u8, len: u32) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.mqtt_send_header(h, cmd, flags, len)?;
        Ok(MG_OK)
    })
}

/// Queue PINGREQ. Returns 0 or a negative `MG_ERR_*`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_ping(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.mqtt_ping(h)?;
        Ok(MG_OK)
    })
}

/// Queue PINGRESP (a broker's answer to PINGREQ). Returns 0 or a negative `MG_ERR_*`.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_pong(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.mqtt_pong(h)?;
        Ok(MG_OK)
    })
}

/// Queue DISCONNECT (MQTT 5: reason 0 and `opts->props`; `opts` may be NULL). The
/// connection stays open: close it with `mg_close`/`mg_drain` (the broker closes too).
/// Returns 0 or a negative `MG_ERR_*`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mqtt_disconnect(c: mg_conn, opts: *const mg_mqtt_opts) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        with_opts(opts, |o| Ok(m.mqtt_disconnect(h, Some(o))?))?;
        Ok(MG_OK)
    })
}

/// Frame the packet at the start of `buf` (`len` bytes) for protocol `version` (4 or 5) into
/// `*m` (views into `buf`). Returns `MQTT_OK` (0), `MQTT_INCOMPLETE` (1: need more bytes) or
/// `MQTT_MALFORMED` (2; also for NULL `m`, or (NULL, len > 0)). meerkat checks the whole
/// packet (reserved flags, every length, UTF-8 topics, MQTT 5 properties), where Mongoose
/// checks lengths only. Any thread (pure).
#[no_mangle]
pub extern "C" fn mg_mqtt_parse(buf: *const u8, len: usize, version: u8, m: *mut mg_mqtt_message) -> c_int {
    guard(|| {
        let Ok(b) = cast::slice(buf as *const c_void, len) else {
            return mqtt::MQTT_MALFORMED;
        };
        let Ok(out) = cast::as_mut(m) else {
            return mqtt::MQTT_MALFORMED;
        };
        *out = mg_mqtt_message::from_core(&mqtt::Message {
            dgram: &b[..0],
            ..mqtt::Message::default()
        });
        match mqtt::parse(b, version, usize::MAX) {
            Ok(mqtt::Parsed::Packet(p)) => {
                *out = mg_mqtt_message::from_core(&p);
                mqtt::MQTT_OK
            }
            Ok(mqtt::Parsed::Incomplete) => mqtt::MQTT_INCOMPLETE,
            Err(_) => mqtt::MQTT_MALFORMED,
        }
    })
}

/// Walk the MQTT 5 properties of `msg`: start with `ofs` 0 and pass back what it returns.
/// Fills `*prop` (views into `msg->dgram`) and returns the next offset, or 0 at the end (or
/// for a malformed property, NULL pointers). Any thread (pure).
#[no_mangle]
pub extern "C" fn mg_mqtt_next_prop(msg: *mut mg_mqtt_message, prop: *mut mg_mqtt_prop, ofs: usize) -> usize {
    guard(|| {
        let Ok(m) = cast::as_ref(msg as *const mg_mqtt_message) else {
            return 0;
        };
        let Ok(dgram) = cast::mg_str_bytes(m.dgram) else {
            return 0;
        };
        let Some(body) = dgram.get(m.props_start..m.props_start.saturating_add(m.props_size)) else {
            return 0;
        };
        let Ok(Some((p, next))) = props::next(body, ofs) else {
            return 0;
        };
        let Ok(out) = cast::as_mut(prop) else { return 0 };
        *out = mg_mqtt_prop {
            id: p.id,
            iv: p.iv,
            key: mg_str::from_bytes(p.key),
            val: mg_str::from_bytes(p.val),
        };
        next
    })
}
