//! Sans-IO Modbus TCP server side (Modbus Application Protocol v1.1b3, Modbus Messaging on
//! TCP/IP v1.0b): frame requests out of a byte stream, check them, and encode the response
//! the application filled in (or an exception).
//!
//! The functions Mongoose 7.22 serves: read coils (1), discrete inputs (2), holding (3) and
//! input (4) registers, write single coil (5) and register (6), write multiple coils (15)
//! and registers (16). A request with another function code gets exception 1, a quantity
//! out of range, a byte count or PDU length that does not match, or a single-coil value other
//! than 0x0000/0xFF00 gets exception 3, and a range past address 65535 gets exception 2. A
//! frame whose MBAP header is not Modbus (protocol id not 0, length outside 2..=254) is a
//! framing error: the connection cannot be resynchronised and is closed. Only `core` and
//! `alloc`.
//!
//! Not `rmodbus` (a no_std Modbus crate): its server owns the register storage (a fixed
//! context the crate sizes), while Mongoose's model lends each request to the application,
//! which keeps its own data; the framing and checks for eight functions are a few hundred
//! lines.
#![forbid(unsafe_code)]

extern crate alloc;

use crate::prelude::*;

/// Read coils.
pub const READ_COILS: u8 = 1;
/// Read discrete inputs.
pub const READ_DISCRETE_INPUTS: u8 = 2;
/// Read holding registers.
pub const READ_HOLDING_REGISTERS: u8 = 3;
/// Read input registers.
pub const READ_INPUT_REGISTERS: u8 = 4;
/// Write single coil.
pub const WRITE_SINGLE_COIL: u8 = 5;
/// Write single register.
pub const WRITE_SINGLE_REGISTER: u8 = 6;
/// Write multiple coils.
pub const WRITE_MULTIPLE_COILS: u8 = 15;
/// Write multiple registers.
pub const WRITE_MULTIPLE_REGISTERS: u8 = 16;

/// Exception: function not supported.
pub const ERR_ILLEGAL_FUNCTION: u8 = 1;
/// Exception: address range out of bounds.
pub const ERR_ILLEGAL_ADDRESS: u8 = 2;
/// Exception: a value (quantity, byte count, coil value) not accepted.
pub const ERR_ILLEGAL_VALUE: u8 = 3;
/// Exception: the device failed.
pub const ERR_DEVICE_FAILURE: u8 = 4;

/// MBAP header length (transaction id, protocol id, length, unit id).
pub const MBAP_LEN: usize = 7;
/// Largest ADU: MBAP + 253-byte PDU.
pub const MAX_ADU: usize = 260;

/// The byte stream is not Modbus TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError;

/// Length of the first whole frame in `buf`, `Ok(None)` if more bytes are needed.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    if buf.len() < 6 {
        return Ok(None);
    }
    let proto = u16::from_be_bytes([buf[2], buf[3]]);
    let len = u16::from_be_bytes([buf[4], buf[5]]) as usize;
    if proto != 0 || !(2..=254).contains(&len) {
        return Err(FrameError);
    }
    Ok((buf.len() >= 6 + len).then_some(6 + len))
}

/// A request as the application sees it (Mongoose's `struct mg_modbus_req`): for reads,
/// `bits`/`regs` hold `len` zeroed entries to fill; for writes, the values received.
/// Set `error` to an exception code to answer with an exception instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub func: u8,
    pub error: u8,
    pub addr: u16,
    pub len: u16,
    /// Coil functions (1, 2, 5, 15).
    pub bits: Vec<bool>,
    /// Register functions (3, 4, 6, 16).
    pub regs: Vec<u16>,
}

impl Request {
    /// A coil/discrete function (its values are `bits`), not a register one.
    pub fn is_bits(&self) -> bool {
        matches!(
            self.func,
            READ_COILS | READ_DISCRETE_INPUTS | WRITE_SINGLE_COIL | WRITE_MULTIPLE_COILS
        )
    }
}

/// A whole frame, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A valid request for the application.
    Request { tid: u16, unit: u8, req: Request },
    /// A request that gets this exception without the application seeing it.
    Exception { tid: u16, unit: u8, func: u8, code: u8 },
}

fn be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Check the frame `f` (exactly what [`frame_len`] measured).
pub fn parse_frame(f: &[u8]) -> Frame {
    let tid = be(f, 0);
    let unit = f[6];
    let pdu = &f[MBAP_LEN..];
    let func = pdu[0];
    let exc = |code| Frame::Exception { tid, unit, func, code };
    let mut req = Request {
        func,
        ..Request::default()
    };
    let max = match func {
        READ_COILS | READ_DISCRETE_INPUTS => 2000,
        READ_HOLDING_REGISTERS | READ_INPUT_REGISTERS => 125,
        WRITE_SINGLE_COIL | WRITE_SINGLE_REGISTER => 1,
        WRITE_MULTIPLE_COILS => 1968,
        WRITE_MULTIPLE_REGISTERS => 123,
        _ => return exc(ERR_ILLEGAL_FUNCTION),
    };
    if pdu.len() < 5 {
        return exc(ERR_ILLEGAL_VALUE);
    }
    req.addr = be(pdu, 1);
    let q = be(pdu, 3);
    match func {
        WRITE_SINGLE_COIL | WRITE_SINGLE_REGISTER => {
            if pdu.len() != 5 {
                return exc(ERR_ILLEGAL_VALUE);
            }
            req.len = 1;
            if func == WRITE_SINGLE_COIL {
                match q {
                    0x0000 => req.bits.push(false),
                    0xff00 => req.bits.push(true),
                    _ => return exc(ERR_ILLEGAL_VALUE),
                }
            } else {
                req.regs.push(q);
            }
            return Frame::Request { tid, unit, req };
        }
        _ => {}
    }
    if q == 0 || q > max {
        return exc(ERR_ILLEGAL_VALUE);
    }
    req.len = q;
    let data_len = match func {
        WRITE_MULTIPLE_COILS => q.div_ceil(8) as usize,
        WRITE_MULTIPLE_REGISTERS => 2 * q as usize,
        _ => {
            if pdu.len() != 5 {
                return exc(ERR_ILLEGAL_VALUE);
            }
            usize::MAX
        }
    };
    if data_len != usize::MAX && (pdu.len() != 6 + data_len || pdu[5] as usize != data_len) {
        return exc(ERR_ILLEGAL_VALUE);
    }
    if u32::from(req.addr) + u32::from(q) > 0x1_0000 {
        return exc(ERR_ILLEGAL_ADDRESS);
    }
    let data = pdu.get(6..).unwrap_or(&[]);
    match func {
        READ_COILS | READ_DISCRETE_INPUTS => req.bits = vec![false; q as usize],
        READ_HOLDING_REGISTERS | READ_INPUT_REGISTERS => req.regs = vec![0; q as usize],
        WRITE_MULTIPLE_COILS => req.bits = (0..q as usize).map(|i| data[i / 8] & (1 << (i % 8)) != 0).collect(),
        _ => req.regs = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect(),
    }
    Frame::Request { tid, unit, req }
}

fn mbap(tid: u16, unit: u8, pdu_len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&((pdu_len + 1) as u16).to_be_bytes());
    out.push(unit);
}

/// Append an exception response.
pub fn encode_exception(tid: u16, unit: u8, func: u8, code: u8, out: &mut Vec<u8>) {
    mbap(tid, unit, 2, out);
    out.extend_from_slice(&[func | 0x80, code]);
}

/// Append the response to `req` as the application left it: an exception if it set
/// `error` (or shrank the value arrays below `len`), otherwise the data.
pub fn encode_response(tid: u16, unit: u8, req: &Request, out: &mut Vec<u8>) {
    let n = req.len as usize;
    let short = if req.is_bits() {
        req.bits.len() < n
    } else {
        req.regs.len() < n
    };
    if req.error != 0 || short {
        let code = if req.error != 0 { req.error } else { ERR_DEVICE_FAILURE };
        return encode_exception(tid, unit, req.func, code, out);
    }
    match req.func {
        READ_COILS | READ_DISCRETE_INPUTS => {
            let bytes = n.div_ceil(8);
            mbap(tid, unit, 2 + bytes, out);
            out.extend_from_slice(&[req.func, bytes as u8]);
            let start = out.len();
            out.resize(start + bytes, 0);
            for (i, _) in req.bits[..n].iter().enumerate().filter(|(_, b)| **b) {
                out[start + i / 8] |= 1 << (i % 8);
            }
        }
        READ_HOLDING_REGISTERS | READ_INPUT_REGISTERS => {
            mbap(tid, unit, 2 + 2 * n, out);
            out.extend_from_slice(&[req.func, (2 * n) as u8]);
            for r in &req.regs[..n] {
                out.extend_from_slice(&r.to_be_bytes());
            }
        }
        WRITE_SINGLE_COIL | WRITE_SINGLE_REGISTER => {
            mbap(tid, unit, 5, out);
            out.push(req.func);
            out.extend_from_slice(&req.addr.to_be_bytes());
            let v = if req.func == WRITE_SINGLE_COIL {
                if req.bits[0] {
                    0xff00
                } else {
                    0
                }
            } else {
                req.regs[0]
            };
            out.extend_from_slice(&v.to_be_bytes());
        }
        _ => {
            mbap(tid, unit, 5, out);
            out.push(req.func);
            out.extend_from_slice(&req.addr.to_be_bytes());
            out.extend_from_slice(&req.len.to_be_bytes());
        }
    }
}

/// The logic of the `modbus` fuzz target (also a property test): frame, check and answer
/// every request in `data`; nothing may panic and every response frame is well formed.
pub fn drive(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some(n)) = frame_len(rest) {
        let mut out = Vec::new();
        match parse_frame(&rest[..n]) {
            Frame::Request { tid, unit, req } => {
                assert_eq!(
                    if req.is_bits() { req.bits.len() } else { req.regs.len() },
                    req.len as usize
                );
                encode_response(tid, unit, &req, &mut out)
            }
            Frame::Exception { tid, unit, func, code } => encode_exception(tid, unit, func, code, &mut out),
        }
        assert_eq!(frame_len(&out), Ok(Some(out.len())));
        assert!(out.len() <= MAX_ADU);
        rest = &rest[n..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(tid: u16, pdu: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        mbap(tid, 1, pdu.len(), &mut f);
        f.extend_from_slice(pdu);
        f
    }

    #[test]
    fn reads_writes_and_exceptions() {
        let f = req(7, &[3, 0, 10, 0, 2]);
        assert_eq!(frame_len(&f[..8]), Ok(None));
        assert_eq!(frame_len(&f), Ok(Some(12)));
        let Frame::Request { tid, unit, mut req } = parse_frame(&f) else {
            panic!()
        };
        assert_eq!((req.addr, req.len, req.regs.len()), (10, 2, 2));
        req.regs = vec![0x1234, 5];
        let mut out = Vec::new();
        encode_response(tid, unit, &req, &mut out);
        assert_eq!(out, [0, 7, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0, 5]);
        // Write multiple coils: 10 coils in 2 bytes.
        let f = req_frame(&[15, 0, 1, 0, 10, 2, 0b1000_0001, 0b10]);
        let Frame::Request { req, .. } = parse_frame(&f) else {
            panic!()
        };
        assert_eq!(req.bits.iter().filter(|b| **b).count(), 3);
        assert!(req.bits[0] && req.bits[7] && req.bits[9]);
        // Exceptions.
        let exc = |pdu: &[u8]| match parse_frame(&req_frame(pdu)) {
            Frame::Exception { code, .. } => code,
            _ => 0,
        };
        assert_eq!(exc(&[0x2b, 0, 0, 0, 1]), ERR_ILLEGAL_FUNCTION);
        assert_eq!(exc(&[3, 0, 0, 0, 126]), ERR_ILLEGAL_VALUE);
        assert_eq!(exc(&[3, 0xff, 0xff, 0, 2]), ERR_ILLEGAL_ADDRESS);
        assert_eq!(exc(&[5, 0, 0, 0x12, 0x34]), ERR_ILLEGAL_VALUE);
        assert_eq!(exc(&[16, 0, 0, 0, 2, 3, 0, 0, 0]), ERR_ILLEGAL_VALUE);
        assert_eq!(exc(&[1, 0, 0]), ERR_ILLEGAL_VALUE);
        assert_eq!(frame_len(&[0, 0, 0, 1, 0, 6, 1]), Err(FrameError));
    }

    fn req_frame(pdu: &[u8]) -> Vec<u8> {
        req(1, pdu)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics(pdu in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..260),
                        raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if pdu.len() <= 253 {
                drive(&req(3, &pdu));
            }
            drive(&raw);
        }
    }
}
