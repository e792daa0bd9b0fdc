//! Tests of the connection machine: RFC 6455 §5.7 examples, every protocol error with its close
//! code, the closing handshake, permessage-deflate, and properties (split invariance, no panic,
//! bounded memory, encode → parse round trips).

use super::alloc::vec;
use super::alloc::vec::Vec;
use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Msg(u8, Vec<u8>),
    Ctl(u8, Vec<u8>),
    Err(u16),
}

fn owned(e: Event<'_>) -> Ev {
    match e {
        Event::Message(m) => Ev::Msg(m.flags, m.data.to_vec()),
        Event::Control(m) => Ev::Ctl(m.flags, m.data.to_vec()),
    }
}

/// Feeds `chunks` like a manager would: append to a receive buffer, call `feed` until it has no
/// event, drop what was consumed.
fn drive<'c>(conn: &mut WsConn, chunks: impl IntoIterator<Item = &'c [u8]>, out: &mut Vec<u8>) -> Vec<Ev> {
    let mut buf: Vec<u8> = Vec::new();
    let mut evs = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match conn.feed(&mut buf[..], out) {
                Ok(p) => {
                    let consumed = p.consumed;
                    let ev = p.event.map(owned);
                    buf.drain(..consumed);
                    match ev {
                        Some(e) => evs.push(e),
                        None => break,
                    }
                }
                Err(e) => {
                    evs.push(Ev::Err(e.code));
                    return evs;
                }
            }
        }
    }
    evs
}

fn server() -> WsConn {
    WsConn::new(Role::Server, Config::default())
}

fn client() -> WsConn {
    WsConn::new(
        Role::Client,
        Config {
            mask_seed: [7; 16],
            ..Config::default()
        },
    )
}

fn one(conn: &mut WsConn, bytes: &[u8]) -> (Vec<Ev>, Vec<u8>) {
    let mut out = Vec::new();
    let evs = drive(conn, [bytes], &mut out);
    (evs, out)
}

const MASKED_HELLO: [u8; 11] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const HELLO: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];

#[test]
fn rfc_single_frames() {
    let (evs, out) = one(&mut server(), &MASKED_HELLO);
    assert_eq!(evs, [Ev::Msg(0x81, b"Hello".to_vec())]);
    assert!(out.is_empty());
    let (evs, _) = one(&mut client(), &HELLO);
    assert_eq!(evs, [Ev::Msg(0x81, b"Hello".to_vec())]);
}

#[test]
fn zero_copy_view_points_into_input() {
    let mut s = server();
    let mut input = MASKED_HELLO.to_vec();
    input.extend_from_slice(&MASKED_HELLO);
    let base = input.as_ptr() as usize;
    let mut out = Vec::new();
    let p = s.feed(&mut input, &mut out).unwrap();
    assert_eq!(p.consumed, 11);
    let Some(Event::Message(m)) = p.event else { panic!() };
    assert_eq!(m.data, b"Hello");
    assert_eq!(m.data.as_ptr() as usize, base + 6);
    assert_eq!(m.opcode(), WEBSOCKET_OP_TEXT);
    // The second frame is untouched (still masked).
    assert_eq!(input[11..], MASKED_HELLO);
}

#[test]
fn rfc_fragmented_and_interleaved_control() {
    let (evs, _) = one(&mut client(), &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(evs, [Ev::Msg(0x81, b"Hello".to_vec())]);
    // A ping between the fragments is answered and reported before the message.
    let mut c = client();
    let (evs, out) = one(
        &mut c,
        &[
            0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x05, b'H', b'e', b'l', b'l', b'o', 0x80, 0x02, 0x6c, 0x6f,
        ],
    );
    assert_eq!(
        evs,
        [Ev::Ctl(0x89, b"Hello".to_vec()), Ev::Msg(0x81, b"Hello".to_vec())]
    );
    // The client's pong is masked: a server reads it back.
    let (evs, _) = one(&mut server(), &out);
    assert_eq!(evs, [Ev::Ctl(0x8a, b"Hello".to_vec())]);
}

#[test]
fn rfc_ping_pong() {
    let mut s = server();
    // Masked ping "Hello" from a client; the pong goes out unmasked (RFC §5.7 unmasked pong).
    let mut ping = vec![0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d];
    let mut p = b"Hello".to_vec();
    apply_mask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
    ping.extend_from_slice(&p);
    let (evs, out) = one(&mut s, &ping);
    assert_eq!(evs, [Ev::Ctl(0x89, b"Hello".to_vec())]);
    assert_eq!(out, [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    // RFC's masked pong is read by a server as a pong event, nothing sent.
    let (evs, out) = one(
        &mut server(),
        &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
    );
    assert_eq!(evs, [Ev::Ctl(0x8a, b"Hello".to_vec())]);
    assert!(out.is_empty());
}

#[test]
fn rfc_long_lengths() {
    for len in [125usize, 126, 256, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut f = Vec::new();
        encode_frame(&mut f, WEBSOCKET_OP_BINARY, &payload, true, Some([1, 2, 3, 4]), false);
        if len == 256 {
            assert_eq!(f[..4], [0x82, 0xFE, 0x01, 0x00]);
        }
        if len == 65536 {
            assert_eq!(f[..10], [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0]);
        }
        let (evs, _) = one(&mut server(), &f);
        assert_eq!(evs, [Ev::Msg(0x82, payload.clone())]);
        // Byte by byte: the streaming path gives the same.
        let mut out = Vec::new();
        let evs = drive(&mut server(), f.chunks(1), &mut out);
        assert_eq!(evs, [Ev::Msg(0x82, payload)]);
    }
}

fn close_code_of(out: &[u8]) -> Option<u16> {
    // Parse the last frame of `out` as a server would see a close from us.
    let h = parse_header(out).ok()??;
    let mut p = out[h.header_len..].to_vec();
    if let Some(k) = h.mask {
        apply_mask(&mut p, k, 0);
    }
    (h.opcode == WEBSOCKET_OP_CLOSE && p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]))
}

fn masked(op_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    encode_frame(
        &mut f,
        op_byte & 0x0f,
        payload,
        op_byte & 0x80 != 0,
        Some([9, 8, 7, 6]),
        false,
    );
    f[0] = op_byte;
    f
}

#[test]
fn protocol_errors_and_codes() {
    let cases: Vec<(&str, Vec<u8>, u16, WsErrorKind)> = vec![
        (
            "rsv1 without deflate",
            masked(0xc1, b"x"),
            1002,
            WsErrorKind::ReservedBits,
        ),
        ("rsv2", masked(0xa1, b"x"), 1002, WsErrorKind::ReservedBits),
        ("rsv3", masked(0x91, b"x"), 1002, WsErrorKind::ReservedBits),
        ("opcode 3", masked(0x83, b""), 1002, WsErrorKind::ReservedOpcode),
        ("opcode 7", masked(0x87, b""), 1002, WsErrorKind::ReservedOpcode),
        ("opcode 0xB", masked(0x8b, b""), 1002, WsErrorKind::ReservedOpcode),
        ("opcode 0xF", masked(0x8f, b""), 1002, WsErrorKind::ReservedOpcode),
        ("unmasked to server", HELLO.to_vec(), 1002, WsErrorKind::Unmasked),
        (
            "fragmented ping",
            masked(0x09, b"x"),
            1002,
            WsErrorKind::FragmentedControl,
        ),
        ("long ping", masked(0x89, &[0; 126]), 1002, WsErrorKind::ControlTooLong),
        (
            "continuation first",
            masked(0x80, b"x"),
            1002,
            WsErrorKind::UnexpectedContinuation,
        ),
        (
            "text inside fragments",
            [masked(0x01, b"a"), masked(0x81, b"b")].concat(),
            1002,
            WsErrorKind::ExpectedContinuation,
        ),
        (
            "close of 1 byte",
            masked(0x88, &[3]),
            1002,
            WsErrorKind::BadClosePayload,
        ),
        (
            "close code 999",
            masked(0x88, &999u16.to_be_bytes()),
            1002,
            WsErrorKind::BadCloseCode,
        ),
        (
            "close code 1005",
            masked(0x88, &1005u16.to_be_bytes()),
            1002,
            WsErrorKind::BadCloseCode,
        ),
        (
            "close code 1015",
            masked(0x88, &1015u16.to_be_bytes()),
            1002,
            WsErrorKind::BadCloseCode,
        ),
        (
            "close code 2000",
            masked(0x88, &2000u16.to_be_bytes()),
            1002,
            WsErrorKind::BadCloseCode,
        ),
        (
            "close code 5000",
            masked(0x88, &5000u16.to_be_bytes()),
            1002,
            WsErrorKind::BadCloseCode,
        ),
        (
            "close reason not utf8",
            masked(0x88, &[0x03, 0xe8, 0xce, 0xba, 0xed, 0xa0, 0x80]),
            1007,
            WsErrorKind::InvalidUtf8,
        ),
        (
            "text not utf8",
            masked(0x81, &[0xce, 0xba, 0xff]),
            1007,
            WsErrorKind::InvalidUtf8,
        ),
        ("text cut utf8", masked(0x81, &[0xce]), 1007, WsErrorKind::InvalidUtf8),
        (
            "text bad utf8 across fragments",
            [masked(0x01, &[0xf4]), masked(0x80, &[0x90, 0x80, 0x80])].concat(),
            1007,
            WsErrorKind::InvalidUtf8,
        ),
        (
            "length msb",
            vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
            1002,
            WsErrorKind::LengthMsb,
        ),
    ];
    for (name, bytes, code, kind) in cases {
        let mut s = server();
        let mut out = Vec::new();
        let mut buf = bytes.clone();
        let mut err = None;
        let mut pos = 0;
        while err.is_none() && pos < buf.len() {
            match s.feed(&mut buf[pos..], &mut out) {
                Ok(p) if p.event.is_none() => break,
                Ok(p) => pos += p.consumed,
                Err(e) => err = Some(e),
            }
        }
        assert_eq!(err, Some(WsError { code, kind }), "{name}");
        assert_eq!(close_code_of(&out), Some(code), "{name}: {out:02x?}");
        assert_eq!(s.state(), State::Failed, "{name}");
        // Nothing is accepted afterwards.
        let mut more = MASKED_HELLO;
        let p = s.feed(&mut more, &mut out).unwrap();
        assert_eq!((p.consumed, p.event), (11, None));
    }
    // Masked frame to a client.
    let (evs, out) = one(&mut client(), &MASKED_HELLO);
    assert_eq!(evs, [Ev::Err(1002)]);
    // The client's close is masked; a server reads the code.
    let (evs, _) = one(&mut server(), &out);
    assert_eq!(evs, [Ev::Ctl(0x88, 1002u16.to_be_bytes().to_vec())]);
}

#[test]
fn fails_fast_on_utf8_before_frame_is_complete() {
    // A 1000-byte text frame whose 3rd byte is invalid: the error comes with the first bytes.
    let mut payload = vec![b'a'; 1000];
    payload[2] = 0xff;
    let f = masked(0x81, &payload);
    let (evs, _) = one(&mut server(), &f[..20]);
    assert_eq!(evs, [Ev::Err(1007)]);
}

#[test]
fn message_size_limit() {
    let cfg = Config {
        max_message: 10,
        ..Config::default()
    };
    // Declared length over the limit: refused at the header, before the payload arrives.
    let f = masked(0x82, &[0; 11]);
    let (evs, out) = one(&mut WsConn::new(Role::Server, cfg), &f[..8]);
    assert_eq!(evs, [Ev::Err(1009)]);
    assert_eq!(close_code_of(&out), Some(1009));
    // Exactly at the limit: fine; over it through fragments: 1009.
    let (evs, _) = one(&mut WsConn::new(Role::Server, cfg), &masked(0x82, &[0; 10]));
    assert_eq!(evs, [Ev::Msg(0x82, vec![0; 10])]);
    let frags = [masked(0x02, &[0; 6]), masked(0x80, &[0; 5])].concat();
    let (evs, _) = one(&mut WsConn::new(Role::Server, cfg), &frags);
    assert_eq!(evs, [Ev::Err(1009)]);
}

#[test]
fn close_handshake_peer_first() {
    let mut s = server();
    let mut input = [masked(0x88, &[0x03, 0xe8, b'b', b'y', b'e']), MASKED_HELLO.to_vec()].concat();
    let mut out = Vec::new();
    let p = s.feed(&mut input, &mut out).unwrap();
    let Some(Event::Control(m)) = p.event else { panic!() };
    assert_eq!(
        (m.opcode(), m.close_code(), m.close_reason()),
        (WEBSOCKET_OP_CLOSE, Some(1000), &b"bye"[..])
    );
    let consumed = p.consumed;
    assert_eq!(out, [0x88, 0x02, 0x03, 0xe8]);
    assert_eq!(s.state(), State::Closed);
    // The message after the Close is ignored, and nothing may be sent.
    let p = s.feed(&mut input[consumed..], &mut out).unwrap();
    assert_eq!(p.event, None);
    assert_eq!(s.send(&mut out, WEBSOCKET_OP_TEXT, b"x"), Err(SendError::Closed));
    // An empty Close is echoed empty; valid codes 1012..1014, 3000, 4999 are accepted.
    let (evs, out) = one(&mut server(), &masked(0x88, b""));
    assert_eq!((evs, out), (vec![Ev::Ctl(0x88, vec![])], vec![0x88, 0x00]));
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ] {
        let (evs, out) = one(&mut server(), &masked(0x88, &code.to_be_bytes()));
        assert_eq!(evs, [Ev::Ctl(0x88, code.to_be_bytes().to_vec())], "{code}");
        assert_eq!(close_code_of(&out), Some(code));
    }
}

#[test]
fn close_handshake_we_first() {
    let mut s = server();
    let mut out = Vec::new();
    s.close(&mut out, 1001, "going").unwrap();
    assert_eq!(out, [0x88, 0x07, 0x03, 0xe9, b'g', b'o', b'i', b'n', b'g']);
    assert_eq!(s.state(), State::CloseSent);
    // Messages still arrive; pings are not answered any more; the peer's Close completes.
    out.clear();
    let input = [MASKED_HELLO.to_vec(), masked(0x89, b"p"), masked(0x88, &[0x03, 0xe9])].concat();
    let evs = drive(&mut s, [&input[..]], &mut out);
    assert_eq!(evs.len(), 3);
    assert!(out.is_empty(), "{out:02x?}");
    assert_eq!(s.state(), State::Closed);
    // A long reason is cut at a character boundary within 123 bytes.
    let mut c = client();
    let mut out = Vec::new();
    c.close(&mut out, 1000, &"é".repeat(100)).unwrap();
    let (evs, _) = one(&mut server(), &out);
    let Ev::Ctl(_, p) = &evs[0] else { panic!() };
    assert_eq!(p.len(), 2 + 122);
}

#[test]
fn send_roundtrip_client_to_server() {
    let mut c = client();
    let mut out = Vec::new();
    c.send(&mut out, WEBSOCKET_OP_TEXT, b"hi").unwrap();
    c.send(&mut out, WEBSOCKET_OP_PING, b"").unwrap();
    c.send_frame(&mut out, WEBSOCKET_OP_BINARY, b"ab", false).unwrap();
    c.send_frame(&mut out, WEBSOCKET_OP_CONTINUE, b"cd", true).unwrap();
    assert_eq!(c.send(&mut out, WEBSOCKET_OP_PING, &[0; 126]), Err(SendError::BadFrame));
    assert_eq!(c.send(&mut out, 3, b""), Err(SendError::BadFrame));
    let mut s = server();
    let mut sout = Vec::new();
    let evs = drive(&mut s, [&out[..]], &mut sout);
    assert_eq!(
        evs,
        [
            Ev::Msg(0x81, b"hi".to_vec()),
            Ev::Ctl(0x89, vec![]),
            Ev::Msg(0x82, b"abcd".to_vec())
        ]
    );
    // Masking keys differ from frame to frame.
    let k1 = parse_header(&out).unwrap().unwrap().mask;
    let k2 = parse_header(&out[8..]).unwrap().unwrap().mask;
    assert_ne!(k1, k2);
}

#[cfg(feature = "ws-deflate")]
mod deflate_conn {
    use super::*;
    use crate::ws::deflate::{DeflateConfig, DeflateParams};

    pub(super) fn pair(cfg: DeflateConfig, p: DeflateParams, max: usize) -> (WsConn, WsConn) {
        let mut s = WsConn::new(
            Role::Server,
            Config {
                max_message: max,
                ..Config::default()
            },
        );
        let mut c = WsConn::new(
            Role::Client,
            Config {
                max_message: max,
                mask_seed: [1; 16],
            },
        );
        s.enable_deflate(&cfg, &p);
        c.enable_deflate(&cfg, &p);
        (s, c)
    }

    #[test]
    fn rfc7692_hello_with_context_takeover() {
        let (_, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 1 << 20);
        // §7.2.3.2: two compressed "Hello" messages, the second referring to the first.
        let input = [
            0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00,
        ];
        let mut out = Vec::new();
        let evs = drive(&mut c, [&input[..]], &mut out);
        assert_eq!(
            evs,
            [Ev::Msg(0x81, b"Hello".to_vec()), Ev::Msg(0x81, b"Hello".to_vec())]
        );
        // §7.2.3.1 fragmented: "Hello" compressed, split into two frames.
        let (_, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 1 << 20);
        let input = [0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00];
        let evs = drive(&mut c, [&input[..]], &mut out);
        assert_eq!(evs, [Ev::Msg(0x81, b"Hello".to_vec())]);
        // RSV1 on a continuation or a control frame is an error.
        let (_, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 1 << 20);
        let evs = drive(
            &mut c,
            [&[0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00][..]],
            &mut out,
        );
        assert_eq!(evs, [Ev::Err(1002)]);
        let (_, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 1 << 20);
        let evs = drive(&mut c, [&[0xc9, 0x00][..]], &mut out);
        assert_eq!(evs, [Ev::Err(1002)]);
    }

    #[test]
    fn compressed_send_roundtrip_and_bomb() {
        let (mut s, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 100_000);
        let text = "hello hello hello hello hello hello hello hello ".repeat(100);
        let mut wire = Vec::new();
        c.send(&mut wire, WEBSOCKET_OP_TEXT, text.as_bytes()).unwrap();
        c.send(&mut wire, WEBSOCKET_OP_TEXT, text.as_bytes()).unwrap();
        c.send(&mut wire, WEBSOCKET_OP_BINARY, b"tiny").unwrap();
        assert!(wire.len() < text.len() / 4, "{}", wire.len());
        assert_eq!(wire[0] & 0x40, 0x40);
        let mut out = Vec::new();
        let evs = drive(&mut s, wire.chunks(13), &mut out);
        assert_eq!(
            evs,
            [
                Ev::Msg(0x81, text.clone().into_bytes()),
                Ev::Msg(0x81, text.into_bytes()),
                Ev::Msg(0x82, b"tiny".to_vec())
            ]
        );
        // A deflate bomb: 8 MiB of zeros in ~8 KiB; the server stops at 100 kB with 1009.
        let (mut s, mut c) = pair(DeflateConfig::default(), DeflateParams::default(), 100_000);
        let mut wire = Vec::new();
        let zeros = vec![0u8; 8 << 20];
        c.send(&mut wire, WEBSOCKET_OP_BINARY, &zeros).unwrap();
        drop(zeros);
        let evs = drive(&mut s, wire.chunks(4096), &mut out);
        assert_eq!(evs, [Ev::Err(1009)]);
        assert!(s.buffer_capacity() <= 100_000);
        // Invalid UTF-8 inside compressed text: 1007.
        let (mut s, mut c) = pair(
            DeflateConfig {
                min_compress_len: 0,
                ..Default::default()
            },
            DeflateParams::default(),
            1000,
        );
        let mut wire = Vec::new();
        c.send(&mut wire, WEBSOCKET_OP_BINARY, &[b'a', 0xff, b'b']).unwrap();
        wire[0] = (wire[0] & 0xf0) | WEBSOCKET_OP_TEXT;
        let evs = drive(&mut s, [&wire[..]], &mut out);
        assert_eq!(evs, [Ev::Err(1007)]);
        // Corrupt compressed data: 1007.
        let (mut s, _) = pair(DeflateConfig::default(), DeflateParams::default(), 1000);
        let evs = drive(&mut s, [&masked(0xc2, &[0xff, 0xff, 0xff])[..]], &mut out);
        assert_eq!(evs, [Ev::Err(1007)]);
    }
}

// ------------------------------------------------------------------------------------------
// Properties

/// A frame of arbitrary shape (valid or not), encoded.
fn arb_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop_oneof![4 => Just(0u8), 1 => 0u8..8],
        prop_oneof![3 => Just(1u8), 3 => Just(2u8), 3 => Just(0u8), 2 => Just(9u8), 1 => Just(10u8), 1 => Just(8u8), 1 => 0u8..16],
        prop_oneof![6 => Just(true), 1 => Just(false)],
        prop_oneof![
            8 => proptest::collection::vec(any::<u8>(), 0..40),
            2 => any::<String>().prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 100..400),
        ],
        any::<[u8; 4]>(),
    )
        .prop_map(|(fin, rsv, op, mask, payload, key)| {
            let mut f = Vec::new();
            encode_frame(&mut f, op, &payload, fin, mask.then_some(key), false);
            f[0] |= rsv << 4;
            f
        })
}

fn arb_stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![9 => arb_frame(), 1 => proptest::collection::vec(any::<u8>(), 0..20)],
        0..12,
    )
    .prop_map(|v| v.concat())
}

fn splits(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut c: Vec<usize> = cuts.iter().map(|x| x % (len + 1)).collect();
    c.push(0);
    c.push(len);
    c.sort_unstable();
    c.windows(2).map(|w| (w[0], w[1])).collect()
}

fn new_conn(role: Role, max: usize, deflate: bool) -> WsConn {
    let c = WsConn::new(
        role,
        Config {
            max_message: max,
            mask_seed: [3; 16],
        },
    );
    #[cfg(feature = "ws-deflate")]
    let c = {
        let mut c = c;
        if deflate {
            c.enable_deflate(&Default::default(), &Default::default());
        }
        c
    };
    let _ = deflate;
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any byte stream, split anywhere: no panic, the same events, the same output bytes and
    /// a reassembly buffer never larger than `max_message`.
    #[test]
    fn split_invariance(stream in arb_stream(), cuts in proptest::collection::vec(any::<usize>(), 0..8),
                        server_role in any::<bool>(), deflate in any::<bool>(), max in 1usize..600) {
        let role = if server_role { Role::Server } else { Role::Client };
        let mut whole = new_conn(role, max, deflate);
        let mut out1 = Vec::new();
        let ev1 = drive(&mut whole, [&stream[..]], &mut out1);
        let mut split = new_conn(role, max, deflate);
        let mut out2 = Vec::new();
        let ev2 = drive(&mut split, splits(stream.len(), &cuts).into_iter().map(|(a, b)| &stream[a..b]), &mut out2);
        prop_assert_eq!(&ev1, &ev2);
        prop_assert_eq!(out1, out2);
        prop_assert!(split.buffer_capacity() <= max);
        prop_assert!(whole.buffer_capacity() <= max);
        for e in &ev1 {
            if let Ev::Msg(_, d) = e { prop_assert!(d.len() <= max); }
        }
    }

    /// Messages encoded by a client (fragmented at random, pings in between) come out of a
    /// server as sent.
    #[test]
    fn encode_parse_roundtrip(msgs in proptest::collection::vec(
                                  (any::<bool>(), any::<String>(), proptest::collection::vec(1usize..50, 0..4), any::<bool>()), 0..8),
                              cuts in proptest::collection::vec(any::<usize>(), 0..8), deflate in any::<bool>()) {
        let mut c = new_conn(Role::Client, 1 << 16, deflate);
        let mut wire = Vec::new();
        let mut expect = Vec::new();
        for (text, s, frags, ping) in &msgs {
            let op = if *text { WEBSOCKET_OP_TEXT } else { WEBSOCKET_OP_BINARY };
            let data = s.as_bytes();
            if frags.is_empty() {
                c.send(&mut wire, op, data).unwrap();
            } else {
                let mut at = 0;
                let mut first = true;
                for (i, f) in frags.iter().enumerate() {
                    let last = i + 1 == frags.len();
                    let end = if last { data.len() } else { (at + f).min(data.len()) };
                    c.send_frame(&mut wire, if first { op } else { WEBSOCKET_OP_CONTINUE }, &data[at..end], last).unwrap();
                    if *ping && !last {
                        c.send(&mut wire, WEBSOCKET_OP_PING, b"p").unwrap();
                        expect.push(Ev::Ctl(0x89, b"p".to_vec()));
                    }
                    first = false;
                    at = end;
                }
            }
            expect.push(Ev::Msg(0x80 | op, data.to_vec()));
        }
        // Pings come before the message they interrupt.
        let mut s = new_conn(Role::Server, 1 << 16, deflate);
        let mut out = Vec::new();
        let evs = drive(&mut s, splits(wire.len(), &cuts).into_iter().map(|(a, b)| &wire[a..b]), &mut out);
        prop_assert_eq!(evs, expect);
    }
}
