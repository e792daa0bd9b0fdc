//! SNTP on the manager ([`Mgr::sntp_connect`]): a UDP client connection whose handler is
//! a layer over the application's. It sends a request when connected, checks replies with
//! [`crate::sntp::Request::on_reply`] (a reply that fails a check is logged and ignored: the
//! connection keeps waiting for a good one until its deadline), sets the wall clock
//! ([`crate::util::clock::now_ms`]), delivers [`Event::SntpTime`] and closes, as Mongoose
//! does after one answer.

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::Cell;

use super::event::{Event, Handler};
use super::http::ProtoKind;
use super::Mgr;
use crate::error::Error;
use crate::handle::Handle;
use crate::sntp;
use crate::util::clock;

/// Mongoose's default server.
pub const DEFAULT_URL: &str = "udp://time.google.com:123";
/// How long a request waits for a good reply (Mongoose: 3 s).
pub const TIMEOUT_MS: u64 = 3000;

struct SntpLayer {
    inner: Rc<dyn Handler>,
    req: Cell<Option<sntp::Request>>,
    deadline: Cell<u64>,
}

impl Handler for SntpLayer {
    /// Found again through the connection by its downcast (see `Handler::layer`).
    fn layer(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    fn handle(&self, mgr: &Mgr, c: Handle, ev: Event<'_>) {
        match ev {
            Event::Connect => {
                self.inner.handle(mgr, c, ev);
                if self.req.get().is_none() {
                    let _ = mgr.sntp_request(c);
                }
            }
            Event::Read(_) => {
                let mut d = Vec::new();
                let _ = mgr.read(c, &mut d);
                let Some(req) = self.req.get() else { return };
                let now = clock::millis();
                match req.on_reply(&d, now) {
                    Ok(t) => {
                        clock::set_wall_clock(t, now);
                        crate::mlog!(crate::log::LL_DEBUG; c.serial(), " SNTP time ", t, " ms");
                        self.req.set(None);
                        self.inner.handle(mgr, c, Event::SntpTime(t));
                        let _ = mgr.close(c);
                    }
                    Err(e) => {
                        crate::mlog!(crate::log::LL_INFO; c.serial(), " SNTP reply refused: ", crate::log::Dbg(&e))
                    }
                }
            }
            Event::Poll(now) => {
                self.inner.handle(mgr, c, ev);
                if now >= self.deadline.get() && mgr.contains(c) {
                    mgr.fail(c, "SNTP request timed out");
                }
            }
            _ => self.inner.handle(mgr, c, ev),
        }
    }
    fn inner(&self) -> Option<&dyn Handler> {
        Some(&*self.inner)
    }
}

impl Mgr {
    /// `mg_sntp_connect`: ask the SNTP server at `url` (`udp://host:123`; `None`:
    /// [`DEFAULT_URL`]) for the time. `handler` gets the connection's events and
    /// [`Event::SntpTime`] once a reply passed its checks; the connection then closes.
    /// Without a good reply within 3 s it fails ("SNTP request timed out").
    pub fn sntp_connect(&self, url: Option<&str>, handler: Rc<dyn Handler>) -> Result<Handle, Error> {
        let url = url.unwrap_or(DEFAULT_URL);
        if !url.starts_with("udp://") {
            return Err(Error::Url);
        }
        let layer = SntpLayer {
            inner: handler,
            req: Cell::new(None),
            deadline: Cell::new(clock::millis().saturating_add(TIMEOUT_MS)),
        };
        self.open_client(url, Rc::new(layer), ProtoKind::Raw)
    }

    /// `mg_sntp_request`: send a (new) time request on an SNTP connection; the reply must
    /// echo this request's timestamp. `Err(Unsupported)` on other connections.
    pub fn sntp_request(&self, c: Handle) -> Result<(), Error> {
        let h = self.handler(c)?;
        let Some(layer) = h.layer().and_then(|l| l.downcast_ref::<SntpLayer>()) else {
            return Err(Error::Unsupported);
        };
        let mut nonce = [0u8; 8];
        clock::random(&mut nonce);
        let now = clock::millis();
        let (req, pkt) = sntp::Request::new(now, nonce);
        self.send(c, &pkt)?;
        layer.req.set(Some(req));
        layer.deadline.set(now.saturating_add(TIMEOUT_MS));
        Ok(())
    }
}
