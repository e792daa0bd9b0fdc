//! Modbus TCP server: Mongoose 7.22's `mg_modbus_listen`, `struct mg_modbus_req`, and the
//! function and exception codes.

use core::cell::RefCell;
use core::ffi::{c_char, c_int, c_void};

use super::callback::CHandler;
use super::registry;
use super::types::*;
use super::{cast, guard};
use crate::ffi::error::*;
use crate::modbus::Request;

/// Read 1-2000 coils.
pub const MG_MODBUS_FUNC_READ_COILS: c_int = 1;
/// Read 1-2000 discrete inputs.
pub const MG_MODBUS_FUNC_READ_DISCRETE_INPUTS: c_int = 2;
/// Read 1-125 holding registers.
pub const MG_MODBUS_FUNC_READ_HOLDING_REGISTERS: c_int = 3;
/// Read 1-125 input registers.
pub const MG_MODBUS_FUNC_READ_INPUT_REGISTERS: c_int = 4;
/// Write one coil.
pub const MG_MODBUS_FUNC_WRITE_SINGLE_COIL: c_int = 5;
/// Write one holding register.
pub const MG_MODBUS_FUNC_WRITE_SINGLE_REGISTER: c_int = 6;
/// Write 1-1968 coils.
pub const MG_MODBUS_FUNC_WRITE_MULTIPLE_COILS: c_int = 15;
/// Write 1-123 holding registers.
pub const MG_MODBUS_FUNC_WRITE_MULTIPLE_REGISTERS: c_int = 16;
/// No error: send the normal response.
pub const MG_MODBUS_ERR_NONE: c_int = 0;
/// Exception 1: function not supported.
pub const MG_MODBUS_ERR_ILLEGAL_FUNCTION: c_int = 1;
/// Exception 2: address range out of bounds.
pub const MG_MODBUS_ERR_ILLEGAL_ADDRESS: c_int = 2;
/// Exception 3: value not accepted.
pub const MG_MODBUS_ERR_ILLEGAL_VALUE: c_int = 3;
/// Exception 4: device failure.
pub const MG_MODBUS_ERR_DEVICE_FAILURE: c_int = 4;

/// The values of a `struct mg_modbus_req` (Mongoose's anonymous union `u`).
#[repr(C)]
#[derive(Copy, Clone)]
pub union mg_modbus_values {
    /// Coil functions (1, 2, 5, 15).
    pub bits: *mut bool,
    /// Register functions (3, 4, 6, 16).
    pub regs: *mut u16,
}

/// `ev_data` of `MG_EV_MODBUS_REQ`, as in Mongoose 7.22. For reads, `u.bits`/`u.regs`
/// point to `len` zeroed entries for the handler to fill; for writes they hold the values
/// received (`len` 1 for single writes). The arrays belong to meerkat and are valid until
/// the handler returns (do not free them). Set `error` to an `MG_MODBUS_ERR_*` code to
/// answer with an exception; the response is sent when the handler returns. Requests that
/// fail meerkat's checks (unknown function: 1; quantity, byte count or length wrong: 3;
/// range past 65535: 2) are answered with the exception without reaching the handler.
#[repr(C)]
pub struct mg_modbus_req {
    pub func: u8,
    pub error: u8,
    pub addr: u16,
    pub u: mg_modbus_values,
    pub len: u16,
}

/// `mg_modbus_listen(mgr, url, fn, fn_data)`: a Modbus TCP server on `url`
/// (`tcp://0.0.0.0:502`). `fn` gets the usual connection events (not `MG_EV_READ` on
/// accepted connections: their bytes are Modbus frames) and `MG_EV_MODBUS_REQ` per
/// request. Returns the listener's handle, or `{0}` with `mg_last_error()` set (as
/// `mg_listen`). Owner thread.
#[no_mangle]
pub extern "C" fn mg_modbus_listen(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| {
        let r = (|| {
            let m = registry::mgr(mgr)?;
            let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
            super::callback::install_proto_events();
            Ok(m.modbus_listen(url, alloc::rc::Rc::new(CHandler::new(f, fn_data)))?)
        })();
        mg_conn { h: registry::issue(r) }
    })
}

/// Call a C handler with `MG_EV_MODBUS_REQ` over `req`, taking back what it set.
///
/// Coils are lent to C as bytes (0/1), never as Rust `bool`s: C may write any byte into
/// them (a `memcpy` from a `uint8_t` array), which would be an invalid `bool` in Rust;
/// any non-zero byte reads back as on.
pub(crate) fn call_modbus(req: &RefCell<Request>, call: impl FnOnce(*mut c_void)) {
    let mut r = req.borrow_mut();
    let mut bytes: alloc::vec::Vec<u8> = r.bits.iter().map(|&b| u8::from(b)).collect();
    let bits = r.is_bits();
    let mut c = mg_modbus_req {
        func: r.func,
        error: r.error,
        addr: r.addr,
        u: if bits {
            mg_modbus_values {
                bits: bytes.as_mut_ptr() as *mut bool,
            }
        } else {
            mg_modbus_values {
                regs: r.regs.as_mut_ptr(),
            }
        },
        len: r.len,
    };
    call(&mut c as *mut mg_modbus_req as *mut c_void);
    // The arrays were written in place; `error` is read back (the handler may not change
    // `len`, `func` or the pointers: Mongoose frees what it allocated).
    r.error = c.error;
    if bits {
        for (b, &v) in r.bits.iter_mut().zip(&bytes) {
            *b = v != 0;
        }
    }
}
