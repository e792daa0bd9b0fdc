//! Modbus TCP on the manager ([`Mgr::modbus_listen`]): a TCP listener whose accepted
//! connections' handler is a layer over the application's. Received bytes stay in the
//! connection's receive buffer until a whole frame is there ([`crate::modbus::frame_len`],
//! at most 260 bytes); each checked request is lent to the application as
//! [`Event::ModbusReq`] and answered when the handler returns. A request that fails a check
//! is answered with its exception without reaching the application; a stream that is not
//! Modbus TCP fails the connection ("Modbus framing error").

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;

use super::event::{Event, Handler};
use super::http::ProtoKind;
use super::Mgr;
use crate::error::Error;
use crate::handle::Handle;
use crate::modbus::{self, Frame};

struct ModbusLayer {
    inner: Rc<dyn Handler>,
}

impl ModbusLayer {
    fn on_read(&self, mgr: &Mgr, c: Handle) {
        // Bounded: each round consumes a frame.
        for _ in 0..1024 {
            let frame = match mgr.recv_peek(c, |b| modbus::frame_len(b).map(|n| n.map(|n| b[..n].to_vec()))) {
                Ok(Ok(Some(f))) => f,
                Ok(Ok(None)) | Err(_) => return,
                Ok(Err(modbus::FrameError)) => {
                    mgr.fail(c, "Modbus framing error");
                    return;
                }
            };
            let _ = mgr.recv_consume(c, frame.len());
            let mut out = Vec::new();
            match modbus::parse_frame(&frame) {
                Frame::Request { tid, unit, req } => {
                    let req = RefCell::new(req);
                    self.inner.handle(mgr, c, Event::ModbusReq(&req));
                    modbus::encode_response(tid, unit, &req.borrow(), &mut out);
                }
                Frame::Exception { tid, unit, func, code } => modbus::encode_exception(tid, unit, func, code, &mut out),
            }
            if mgr.send(c, &out).is_err() {
                return;
            }
        }
    }
}

impl Handler for ModbusLayer {
    fn handle(&self, mgr: &Mgr, c: Handle, ev: Event<'_>) {
        match ev {
            Event::Read(_) if mgr.info(c).is_ok_and(|i| i.is_accepted) => self.on_read(mgr, c),
            _ => self.inner.handle(mgr, c, ev),
        }
    }
    fn inner(&self) -> Option<&dyn Handler> {
        Some(&*self.inner)
    }
}

impl Mgr {
    /// `mg_modbus_listen`: serve Modbus TCP on `url` (`tcp://0.0.0.0:502`); `handler` gets
    /// the listener's and connections' events and [`Event::ModbusReq`] per request.
    pub fn modbus_listen(&self, url: &str, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        self.open_listener(url, Rc::new(ModbusLayer { inner: handler }), ProtoKind::Raw)
    }
}
