//! mDNS on the manager ([`Mgr::mdns_listen`]): a UDP listener (on 224.0.0.251:5353, or any
//! address given, e.g. a loopback one for tests) whose handler is a layer over the
//! application's. Queries become [`Event::MdnsReq`] (an A query for the listener's own
//! `name.local` is answered without the application doing anything, as in Mongoose);
//! responses become [`Event::MdnsResp`].
//!
//! Answers go to the group 224.0.0.251:5353, or straight back to the asker when it asked
//! for a unicast answer (QU bit) or is a legacy resolver (source port not 5353; its id and
//! question are echoed, RFC 6762 §6.7). DNS-SD (PTR/SRV/TXT) answers are not built here: the
//! application sees those questions but setting `is_resp` on them only logs that they are
//! not supported.

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::net::{IpAddr, SocketAddr};

use super::event::{Event, Handler, MdnsRequest, MdnsResponse};
use super::http::ProtoKind;
use super::Mgr;
use crate::dns::{self, mdns};
use crate::error::Error;
use crate::handle::Handle;
use crate::sys::{self, Sock};

/// Mongoose's listening URL.
pub const DEFAULT_URL: &str = "udp://224.0.0.251:5353";

struct MdnsLayer {
    inner: Rc<dyn Handler>,
    /// The device's name (without `.local`); `None`: every question goes to the application.
    name: Option<Vec<u8>>,
}

impl MdnsLayer {
    fn on_datagram(&self, mgr: &Mgr, c: Handle, d: &[u8]) {
        let Ok(info) = mgr.info(c) else { return };
        let Some(from) = info.remote else { return };
        if let Ok(q) = mdns::parse_query(d) {
            self.on_query(mgr, c, d, &q, from, info.local);
        } else if let Some((rr, name, addr)) = mdns::parse_a_response(d) {
            let host = mdns::local_host(&name).unwrap_or(name.as_bytes());
            let resp = MdnsResponse {
                rr,
                name: host,
                addr: IpAddr::V4(addr),
            };
            self.inner.handle(mgr, c, Event::MdnsResp(&resp));
        }
    }

    fn on_query(
        &self,
        mgr: &Mgr,
        c: Handle,
        d: &[u8],
        q: &mdns::Question,
        from: SocketAddr,
        local: Option<SocketAddr>,
    ) {
        let Some(host) = mdns::local_host(&q.name) else { return };
        if q.rr.rclass != dns::CLASS_IN && q.rr.rclass != 0xff {
            return;
        }
        let mut reqname = host;
        let mut preset = false;
        let mut is_listing = false;
        match q.rr.rtype {
            dns::TYPE_A | dns::TYPE_ANY => {
                if let Some(n) = &self.name {
                    if !n.eq_ignore_ascii_case(host) {
                        return;
                    }
                    preset = true;
                }
            }
            dns::TYPE_PTR => is_listing = host.eq_ignore_ascii_case(b"_services._dns-sd._udp"),
            dns::TYPE_SRV | dns::TYPE_TXT => {
                if let Some(n) = &self.name {
                    match host.get(..n.len()) {
                        Some(p) if p.eq_ignore_ascii_case(n) && host.get(n.len()) == Some(&b'.') => {
                            reqname = &host[n.len() + 1..]
                        }
                        _ => return,
                    }
                }
            }
            _ => return,
        }
        let req = MdnsRequest {
            rr: q.rr,
            reqname,
            is_unicast: q.unicast,
            is_listing,
            is_resp: Cell::new(preset),
            respname: RefCell::new(None),
            addr: Cell::new(None),
        };
        self.inner.handle(mgr, c, Event::MdnsReq(&req));
        if !req.is_resp.get() || !mgr.contains(c) {
            return;
        }
        if !matches!(q.rr.rtype, dns::TYPE_A | dns::TYPE_ANY) {
            crate::mlog!(crate::log::LL_INFO; c.serial(), " mDNS: DNS-SD answers are not supported");
            return;
        }
        let name = req
            .respname
            .take()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| host.to_vec());
        let ip = req
            .addr
            .get()
            .or_else(|| match (local.map(|l| l.ip()), sys::local_ip_for(from)) {
                (Some(IpAddr::V4(l)), _) if !l.is_unspecified() && !l.is_multicast() => Some(l),
                (_, Some(IpAddr::V4(l))) => Some(l),
                _ => None,
            });
        let Some(ip) = ip else { return };
        let legacy = from.port() != mdns::MDNS_PORT;
        let mut out = Vec::new();
        if mdns::answer_a(d, q, &name, ip, legacy, &mut out).is_err() {
            return;
        }
        let to = if legacy || q.unicast {
            from
        } else {
            SocketAddr::new(IpAddr::V4(mdns::MDNS_ADDR), mdns::MDNS_PORT)
        };
        if let Err(e) = mgr.send_to(c, &out, to) {
            crate::mlog!(
                crate::log::LL_INFO;
                c.serial(),
                " mDNS answer to ",
                crate::log::Disp(&to),
                ": ",
                crate::log::Dbg(&e)
            );
        }
    }
}

impl Handler for MdnsLayer {
    fn handle(&self, mgr: &Mgr, c: Handle, ev: Event<'_>) {
        match ev {
            Event::Read(_) => {
                let mut d = Vec::new();
                let _ = mgr.read(c, &mut d);
                self.on_datagram(mgr, c, &d);
            }
            _ => self.inner.handle(mgr, c, ev),
        }
    }
    fn inner(&self) -> Option<&dyn Handler> {
        Some(&*self.inner)
    }
}

impl Mgr {
    /// `mg_mdns_listen`: answer mDNS A queries for `name.local` (`name`: `None` leaves every
    /// question to `handler`) on `url` (`None`: [`DEFAULT_URL`], joining the group; a
    /// unicast address such as `udp://127.0.0.1:0` works too and is how tests run).
    pub fn mdns_listen(
        &self,
        url: Option<&str>,
        name: Option<&str>,
        handler: Rc<dyn Handler>,
    ) -> Result<Handle, Error> {
        let url = url.unwrap_or(DEFAULT_URL);
        if !url.starts_with("udp://") {
            return Err(Error::Url);
        }
        let layer = MdnsLayer {
            inner: handler,
            name: name.map(|n| n.as_bytes().to_vec()),
        };
        let h = self.open_listener(url, Rc::new(layer), ProtoKind::Raw)?;
        let group = match self.info(h)?.local {
            Some(SocketAddr::V4(a)) if a.ip().is_multicast() => Some(*a.ip()),
            _ => None,
        };
        if let Some(g) = group {
            let r = match &self.core.borrow().conns.get(h).and_then(|c| c.sock.as_ref()) {
                Some(s) => sys::udp_join_multicast_v4(s, g).map_err(|_| Error::Io),
                None => Err(Error::Stale),
            };
            if let Err(e) = r {
                let _ = self.close(h);
                return Err(e);
            }
        }
        Ok(h)
    }

    /// `mg_mdns_query`: send an mDNS question for `name` (e.g. `dev.local`) of type
    /// `rtype` to 224.0.0.251:5353 from the mDNS listener `c`; answers arrive there as
    /// [`Event::MdnsResp`].
    pub fn mdns_query(&self, c: Handle, name: &str, rtype: u16) -> Result<(), Error> {
        let mut out = Vec::new();
        mdns::encode_mdns_query(name.as_bytes(), rtype, &mut out).map_err(|_| Error::Invalid)?;
        self.send_to(c, &out, SocketAddr::new(IpAddr::V4(mdns::MDNS_ADDR), mdns::MDNS_PORT))
    }

    /// Send one datagram from the UDP socket of `c` to `to`.
    pub fn send_to(&self, c: Handle, data: &[u8], to: SocketAddr) -> Result<(), Error> {
        let core = self.core.borrow();
        let conn = core.conns.get(c).ok_or(Error::Stale)?;
        if conn.closing || conn.close_started {
            return Err(Error::Closing);
        }
        let Some(Sock::Udp(u)) = &conn.sock else {
            return Err(Error::Unsupported);
        };
        match sys::udp_send_to(u, data, to) {
            Ok(n) if n == data.len() => Ok(()),
            Ok(_) => Err(Error::TooLarge),
            Err(e) if sys::would_block(&e) => Err(Error::Full),
            Err(_) => Err(Error::Io),
        }
    }
}
