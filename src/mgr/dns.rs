//! The manager's own DNS resolver over UDP (Mongoose's `mg_resolve` with `mgr.dns4` /
//! `mgr.dns6`): what resolves host names for [`Mgr::connect`] where the platform has no
//! resolver (no_std builds), and, per manager, instead of the system's when asked
//! ([`Mgr::set_dns`], [`Mgr::set_udp_resolver`]).
//!
//! A lookup is one [`crate::dns::Query`] (random transaction id from
//! [`crate::util::clock::random`], A or AAAA) on its own UDP connection to the server,
//! which the socket is connected to, so datagrams from any other address or port never
//! reach it. Replies that do not match the question are ignored (no poisoning by a spoofed
//! reply); the query is sent again after a third of `Limits::dns_timeout_ms` and fails the
//! connection ("host name lookup timed out") after all of it. On an answer the connection
//! gets [`Event::Resolve`] and connects, exactly as with the system resolver.
//!
//! For the connect path: [`Mgr::resolve_udp`] is the one entry point (`h` is a client
//! connection in `State::Resolving`, as `connect_with` creates it).

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::net::{IpAddr, SocketAddr};

use super::event::{Event, Handler};
use super::http::ProtoKind;
use super::timer::TimerOpts;
use super::{Mgr, State};
use crate::dns::{self, Outcome, QueryStep};
use crate::error::Error;
use crate::handle::Handle;
use crate::util::clock;
use crate::util::url::parse_endpoint;

/// Datagrams sent per lookup (spread over `dns_timeout_ms`).
pub const TRIES: u32 = 3;
/// Mongoose's default IPv4 server.
pub const DEFAULT_DNS4: &str = "udp://8.8.8.8:53";
/// Mongoose's default IPv6 server.
pub const DEFAULT_DNS6: &str = "udp://[2001:4860:4860::8888]:53";

/// A manager's resolver settings and lookups in flight.
#[derive(Debug)]
pub struct DnsConf {
    /// IPv4 server (`udp://IP:53`; the host must be an address). `None`: [`DEFAULT_DNS4`]
    /// (kept as a constant, so that a manager that never resolves allocates nothing for it).
    pub dns4: Option<String>,
    /// IPv6 server. `None`: [`DEFAULT_DNS6`].
    pub dns6: Option<String>,
    /// Ask `dns6` for AAAA records instead of `dns4` for A records.
    pub use_dns6: bool,
    /// [`Mgr::connect`] resolves with this resolver rather than the system's.
    pub use_udp: bool,
    /// (connection being resolved, its DNS socket).
    pending: Vec<(Handle, Handle)>,
}

impl DnsConf {
    /// The server to ask and the record type to ask it for.
    fn server(&self) -> (&str, u16) {
        if self.use_dns6 {
            (self.dns6.as_deref().unwrap_or(DEFAULT_DNS6), dns::TYPE_AAAA)
        } else {
            (self.dns4.as_deref().unwrap_or(DEFAULT_DNS4), dns::TYPE_A)
        }
    }
}

impl Default for DnsConf {
    fn default() -> Self {
        DnsConf {
            dns4: None,
            dns6: None,
            use_dns6: false,
            use_udp: !cfg!(feature = "std"),
            pending: Vec::new(),
        }
    }
}

struct DnsLayer {
    target: Handle,
    port: u16,
    query: RefCell<dns::Query>,
}

fn resolving(mgr: &Mgr, h: Handle) -> bool {
    matches!(mgr.core.borrow().conns.get(h), Some(c) if matches!(c.state, State::Resolving { .. }) && !c.closing)
}

impl DnsLayer {
    fn step(&self, mgr: &Mgr, udp: Handle) {
        if !resolving(mgr, self.target) {
            let _ = mgr.close(udp);
            return;
        }
        let now = clock::millis();
        let send = match self.query.borrow_mut().poll(now) {
            QueryStep::Send(pkt, _) => Some(pkt.to_vec()),
            QueryStep::Wait(_) => None,
            QueryStep::TimedOut => {
                let _ = mgr.close(udp);
                mgr.fail(self.target, "host name lookup timed out");
                return;
            }
            QueryStep::Done => {
                let _ = mgr.close(udp);
                return;
            }
        };
        if let Some(p) = send {
            if let Err(e) = mgr.send(udp, &p) {
                crate::mlog!(crate::log::LL_INFO; udp.serial(), " DNS send: ", crate::log::Dbg(&e));
            }
        }
    }

    fn on_reply(&self, mgr: &Mgr, udp: Handle, d: &[u8]) {
        let r = self.query.borrow_mut().on_reply(d);
        let out = match r {
            Err(why) => {
                crate::mlog!(crate::log::LL_INFO; udp.serial(), " DNS reply ignored: ", crate::log::Dbg(&why));
                return;
            }
            Ok(o) => o,
        };
        let _ = mgr.close(udp);
        match out {
            Outcome::Answer(ip) => mgr.on_resolved(self.target, Ok(vec![SocketAddr::new(ip, self.port)])),
            Outcome::Rcode(3) => mgr.fail(self.target, "host name lookup failed: no such name"),
            Outcome::Rcode(_) => mgr.fail(self.target, "host name lookup failed: server error"),
            Outcome::NoData => mgr.fail(self.target, "host name lookup failed: no address"),
            Outcome::Truncated => mgr.fail(self.target, "host name lookup failed: truncated reply"),
        }
    }
}

impl Handler for DnsLayer {
    /// Found again through the connection by its downcast (see `Handler::layer`).
    fn layer(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    fn handle(&self, mgr: &Mgr, udp: Handle, ev: Event<'_>) {
        match ev {
            Event::Connect => {
                self.step(mgr, udp);
                let every = (mgr.limits().dns_timeout_ms / u64::from(TRIES)).max(1);
                let repeat = TimerOpts {
                    repeat: true,
                    run_now: false,
                };
                // The timer finds this layer through the connection (it dies with it).
                let t = mgr.timer_add_conn(udp, every, repeat, move |mgr: &Mgr, udp: Handle| {
                    if let Ok(h) = mgr.handler(udp) {
                        if let Some(l) = h.layer().and_then(|l| l.downcast_ref::<DnsLayer>()) {
                            l.step(mgr, udp);
                        }
                    }
                });
                if t.is_err() {
                    let _ = mgr.close(udp);
                    mgr.fail(self.target, "host name lookup: no timer");
                }
            }
            Event::Read(_) => {
                let mut d = Vec::new();
                let _ = mgr.read(udp, &mut d);
                self.on_reply(mgr, udp, &d);
            }
            Event::Error(e) if resolving(mgr, self.target) => {
                mgr.fail_with(self.target, &[&"host name lookup failed: ", &e]);
            }
            Event::Close => mgr.dns().pending.retain(|&(_, u)| u != udp),
            _ => {}
        }
    }
}

impl Mgr {
    /// Use the DNS servers `dns4` / `dns6` (`udp://IP:port`; `None` keeps the current one)
    /// and ask `dns6` for AAAA records when `use_dns6`. Switches this manager's
    /// [`Mgr::connect`] to the UDP resolver (Mongoose's `mgr.dns4.url = ...`).
    pub fn set_dns(&self, dns4: Option<&str>, dns6: Option<&str>, use_dns6: bool) -> Result<(), Error> {
        for u in [dns4, dns6].into_iter().flatten() {
            let ep = parse_endpoint(u)?;
            if !u.starts_with("udp://") || ep.port == 0 || ep.host.parse::<IpAddr>().is_err() {
                return Err(Error::Url);
            }
        }
        let mut d = self.dns();
        if let Some(u) = dns4 {
            d.dns4 = Some(u.to_string());
        }
        if let Some(u) = dns6 {
            d.dns6 = Some(u.to_string());
        }
        d.use_dns6 = use_dns6;
        d.use_udp = true;
        Ok(())
    }

    /// Resolve host names for [`Mgr::connect`] with the UDP resolver (`true`) or the
    /// system's on a helper thread (`false`, the default with std; without std the UDP
    /// resolver is the only one).
    pub fn set_udp_resolver(&self, on: bool) {
        self.dns().use_udp = on || !cfg!(feature = "std");
    }

    /// Whether [`Mgr::connect`] uses the UDP resolver.
    pub fn uses_udp_resolver(&self) -> bool {
        self.dns().use_udp
    }

    /// Start resolving `host` for client connection `h` (in `State::Resolving`) with the
    /// UDP resolver; on success it gets [`Event::Resolve`] and connects to port `port`.
    pub fn resolve_udp(&self, h: Handle, host: &str, port: u16) -> Result<(), Error> {
        if host.eq_ignore_ascii_case("localhost") {
            // As Mongoose (and /etc/hosts): never asked of a server.
            let ip: IpAddr = if self.dns().use_dns6 {
                core::net::Ipv6Addr::LOCALHOST.into()
            } else {
                core::net::Ipv4Addr::LOCALHOST.into()
            };
            self.on_resolved(h, Ok(vec![SocketAddr::new(ip, port)]));
            return Ok(());
        }
        let (server, qtype) = {
            let d = self.dns();
            let (server, qtype) = d.server();
            (server.to_string(), qtype)
        };
        let mut id = [0u8; 2];
        clock::random(&mut id);
        let now = clock::millis();
        let timeout = self.limits().dns_timeout_ms;
        let query = dns::Query::new(host.as_bytes(), qtype, u16::from_ne_bytes(id), now, timeout, TRIES)
            .map_err(|_| Error::Url)?;
        if parse_endpoint(&server)?.host.parse::<IpAddr>().is_err() {
            return Err(Error::Url);
        }
        let layer = DnsLayer {
            target: h,
            port,
            query: RefCell::new(query),
        };
        let udp = self.open_client(&server, Rc::new(layer), ProtoKind::Raw)?;
        self.dns().pending.push((h, udp));
        Ok(())
    }

    /// `mg_resolve`: (re)start resolving the host of `url` for client connection `h`, which
    /// must still be resolving (not connected yet), with the UDP resolver. A lookup already
    /// running for it with this resolver is cancelled first.
    pub fn resolve(&self, h: Handle, url: &str) -> Result<(), Error> {
        let ep = parse_endpoint(url)?;
        if ep.port == 0 {
            return Err(Error::Port);
        }
        if !resolving(self, h) {
            return Err(if self.contains(h) {
                Error::Unsupported
            } else {
                Error::Stale
            });
        }
        self.cancel_lookups(h);
        match ep.host.parse::<IpAddr>() {
            Ok(ip) => {
                self.on_resolved(h, Ok(vec![SocketAddr::new(ip, ep.port)]));
                Ok(())
            }
            Err(_) => self.resolve_udp(h, ep.host, ep.port),
        }
    }

    /// `mg_resolve_cancel`: stop the UDP lookups for `h`. A connection still resolving then
    /// fails ("host name lookup cancelled"). `Err(Stale)` for a gone connection.
    pub fn resolve_cancel(&self, h: Handle) -> Result<(), Error> {
        if !self.contains(h) {
            return Err(Error::Stale);
        }
        self.cancel_lookups(h);
        if resolving(self, h) {
            self.fail(h, "host name lookup cancelled");
        }
        Ok(())
    }

    fn cancel_lookups(&self, h: Handle) {
        let udps: Vec<Handle> = {
            let mut d = self.dns();
            let v = d.pending.iter().filter(|p| p.0 == h).map(|p| p.1).collect();
            d.pending.retain(|p| p.0 != h);
            v
        };
        for u in udps {
            let _ = self.close(u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mongoose's servers until `set_dns` names others; `None` keeps the current one.
    #[test]
    fn default_servers_until_set() {
        let m = Mgr::new().unwrap();
        assert_eq!(m.dns().server(), (DEFAULT_DNS4, dns::TYPE_A));
        m.set_dns(None, None, true).unwrap();
        assert_eq!(m.dns().server(), (DEFAULT_DNS6, dns::TYPE_AAAA));
        m.set_dns(Some("udp://127.0.0.1:5300"), Some("udp://[::1]:5300"), false)
            .unwrap();
        assert_eq!(m.dns().server(), ("udp://127.0.0.1:5300", dns::TYPE_A));
        m.set_dns(None, None, true).unwrap();
        assert_eq!(m.dns().server(), ("udp://[::1]:5300", dns::TYPE_AAAA));
    }
}
