//! DNS and mDNS: Mongoose 7.22's `mg_resolve`, `mg_resolve_cancel`, `mg_dns_parse`,
//! `mg_dns_parse_rr`, `mg_mdns_listen`, `mg_mdns_query`, their structs, and
//! `mg_mgr_set_dns` for what Mongoose firmware writes into `mgr.dns4`/`mgr.dns6`.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::net::IpAddr;

use super::callback::CHandler;
use super::registry;
use super::types::*;
use super::{cast, guard, guard_code};
use crate::dns;
use crate::ffi::error::*;

/// DNS record type A (IPv4 address).
pub const MG_DNS_RTYPE_A: c_int = 1;
/// DNS record type PTR.
pub const MG_DNS_RTYPE_PTR: c_int = 12;
/// DNS record type TXT.
pub const MG_DNS_RTYPE_TXT: c_int = 16;
/// DNS record type AAAA (IPv6 address).
pub const MG_DNS_RTYPE_AAAA: c_int = 28;
/// DNS record type SRV.
pub const MG_DNS_RTYPE_SRV: c_int = 33;

/// A parsed DNS message (`mg_dns_parse`), as in Mongoose 7.22: the transaction id (host
/// order), whether an A/AAAA answer was found and its address (`port` 0), and the first
/// question's name, NUL-terminated.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct mg_dns_message {
    pub txnid: u16,
    pub resolved: bool,
    pub addr: mg_addr,
    pub name: [c_char; 256],
}

/// The DNS header as on the wire (every field in network byte order), as in Mongoose.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct mg_dns_header {
    pub txnid: u16,
    pub flags: u16,
    pub num_questions: u16,
    pub num_answers: u16,
    pub num_authority_prs: u16,
    pub num_other_prs: u16,
}

/// One parsed record (`mg_dns_parse_rr`): its name's length at its offset, type, class
/// and RDATA length, host order.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct mg_dns_rr {
    pub nlen: u16,
    pub atype: u16,
    pub aclass: u16,
    pub alen: u16,
}

/// A DNS-SD service description (Mongoose's layout; meerkat does not build DNS-SD answers).
#[repr(C)]
#[derive(Copy, Clone)]
pub struct mg_dnssd_record {
    pub srvcproto: mg_str,
    pub txt: mg_str,
    pub port: u16,
}

/// `ev_data` of `MG_EV_MDNS_REQ`. For an A query for the listener's own name `is_resp` is
/// already true. Set `is_resp` to answer an A query for another name, `respname` to answer
/// with another name, `addr` (an IPv4 `struct mg_addr` that stays valid until the handler
/// returns) to answer with another address than the local one. Answers for PTR/SRV/TXT
/// (`r`) are not built by meerkat (logged, nothing sent). `rr` and `reqname` point into
/// meerkat's memory, valid until the handler returns.
#[repr(C)]
pub struct mg_mdns_req {
    pub rr: *mut mg_dns_rr,
    pub r: *mut mg_dnssd_record,
    pub reqname: mg_str,
    pub respname: mg_str,
    pub addr: *mut mg_addr,
    pub is_listing: bool,
    pub is_resp: bool,
    pub is_unicast: bool,
}

/// `ev_data` of `MG_EV_MDNS_RESP`: an A record from an mDNS response. Valid until the
/// handler returns.
#[repr(C)]
pub struct mg_mdns_resp {
    pub rr: *mut mg_dns_rr,
    pub name: mg_str,
    pub addr: mg_addr,
    pub sd: mg_dnssd_record,
}

fn rr_to_c(rr: &dns::Rr) -> mg_dns_rr {
    mg_dns_rr {
        nlen: rr.nlen,
        atype: rr.rtype,
        aclass: rr.rclass,
        alen: rr.rdlen,
    }
}

pub(crate) fn ip_to_c(ip: IpAddr) -> mg_addr {
    super::conn::addr_to_c(Some(core::net::SocketAddr::new(ip, 0)))
}

/// `mg_dns_parse(buf, len, dm)`: parse a DNS message (at most 512 bytes, as Mongoose) into
/// `*dm`: `txnid`, the first question's `name`, and `resolved`/`addr` for the first A or
/// AAAA answer. Returns false (and leaves `*dm` alone) for a malformed or longer message
/// or a NULL argument. Any thread.
#[no_mangle]
pub extern "C" fn mg_dns_parse(buf: *const u8, len: usize, dm: *mut mg_dns_message) -> bool {
    guard(|| {
        let Ok(msg) = cast::slice(buf as *const c_void, len) else {
            return false;
        };
        if len > 512 || dm.is_null() {
            return false;
        }
        let Ok(s) = dns::parse_summary(msg) else { return false };
        let mut name = [0 as c_char; 256];
        for (d, &b) in name.iter_mut().zip(s.name.as_bytes()) {
            *d = b as c_char;
        }
        let out = mg_dns_message {
            txnid: s.header.id,
            resolved: s.addr.is_some(),
            addr: s.addr.map(ip_to_c).unwrap_or_default(),
            name,
        };
        cast::write_out(dm, out).is_ok()
    })
}

/// `mg_dns_parse_rr(buf, len, ofs, is_question, rr)`: parse the record at offset `ofs`
/// (a question: no TTL and data) into `*rr`. Returns its length in bytes (`ofs` plus it is
/// the next record), or 0 if it is malformed or runs past `len`. Any thread.
#[no_mangle]
pub extern "C" fn mg_dns_parse_rr(
    buf: *const u8,
    len: usize,
    ofs: usize,
    is_question: bool,
    rr: *mut mg_dns_rr,
) -> usize {
    guard(|| {
        let Ok(msg) = cast::slice(buf as *const c_void, len) else {
            return 0;
        };
        match dns::parse_rr(msg, ofs, is_question) {
            Ok((r, _, n)) if cast::write_out(rr, rr_to_c(&r)).is_ok() => n,
            _ => 0,
        }
    })
}

/// `mg_resolve(c, url)`: (re)start resolving the host of `url` (`tcp://host:port`) for
/// client connection `c`, which must not be connected yet, with the manager's UDP resolver
/// (`mg_mgr_set_dns`); then `c` gets `MG_EV_RESOLVE` and connects to that address and
/// port. Mongoose calls this inside `mg_connect`; meerkat's `mg_connect` already resolves,
/// so calling it is only needed to redirect a connection. Returns 0, `MG_ERR_URL`,
/// `MG_ERR_PORT`, `MG_ERR_STALE`, `MG_ERR_UNSUPPORTED` (already resolved), or the error of
/// opening the DNS socket. Owner thread.
#[no_mangle]
pub extern "C" fn mg_resolve(c: mg_conn, url: *const c_char) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        let url = cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?;
        m.resolve(h, url)?;
        Ok(MG_OK)
    })
}

/// `mg_resolve_cancel(c)`: stop the UDP lookups for `c`; if `c` is still resolving it gets
/// `MG_EV_ERROR` ("host name lookup cancelled") and closes. Returns 0 or `MG_ERR_STALE`.
/// Owner thread.
#[no_mangle]
pub extern "C" fn mg_resolve_cancel(c: mg_conn) -> c_int {
    guard_code(|| {
        let (m, h) = registry::conn(c)?;
        m.resolve_cancel(h)?;
        Ok(MG_OK)
    })
}

/// `mg_mgr_set_dns(mgr, dns4, dns6, use_dns6)`: what Mongoose firmware does by writing
/// `mgr.dns4.url`, `mgr.dns6.url` and `mgr.use_dns6`. `dns4`/`dns6` are `udp://IP:port`
/// (NULL keeps the current one; defaults `udp://8.8.8.8:53` and
/// `udp://[2001:4860:4860::8888]:53`); with `use_dns6` names are looked up as AAAA records
/// on `dns6`. From then on `mg_connect` on this manager resolves host names with meerkat's
/// UDP resolver (random transaction ids, replies checked against the question, the query
/// sent 3 times over `mg_limits.dns_timeout_ms`) instead of the system's. Without std it is
/// the only resolver. Returns 0, `MG_ERR_URL` (not `udp://` with an IP address and a port),
/// `MG_ERR_INVALID`, `MG_ERR_WRONG_THREAD`. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mgr_set_dns(mgr: *mut mg_mgr, dns4: *const c_char, dns6: *const c_char, use_dns6: bool) -> c_int {
    guard_code(|| {
        let m = registry::mgr(mgr)?;
        let opt = |p: *const c_char| -> Result<Option<&str>, c_int> {
            if p.is_null() {
                Ok(None)
            } else {
                cast::cstr_utf8(p).map(Some).map_err(|_| MG_ERR_URL)
            }
        };
        m.set_dns(opt(dns4)?, opt(dns6)?, use_dns6)?;
        Ok(MG_OK)
    })
}

/// `mg_mdns_listen(mgr, fn, fn_data)`: an mDNS responder on 224.0.0.251:5353 (the group is
/// joined). `fn_data` is the device's name as a NUL-terminated string (read now and kept
/// by meerkat; `fn_data` itself is also what `fn` is called with): A queries for
/// `name.local` are answered with the local address the asker reaches (or `addr` set in the
/// handler); with NULL every question goes to `fn` as `MG_EV_MDNS_REQ`. Responses arrive
/// as `MG_EV_MDNS_RESP`. Returns the listener's handle, or `{0}` with `mg_last_error()`
/// set. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mdns_listen(mgr: *mut mg_mgr, f: mg_event_handler_t, fn_data: *mut c_void) -> mg_conn {
    guard(|| mdns_listen(mgr, core::ptr::null(), f, fn_data))
}

/// `mg_mdns_listen_url(mgr, url, fn, fn_data)`: `mg_mdns_listen` on `url` instead of
/// the mDNS group, e.g. `udp://127.0.0.1:0` for a test that queries it by unicast (a
/// multicast address in `url` is joined). meerkat only. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mdns_listen_url(
    mgr: *mut mg_mgr,
    url: *const c_char,
    f: mg_event_handler_t,
    fn_data: *mut c_void,
) -> mg_conn {
    guard(|| mdns_listen(mgr, url, f, fn_data))
}

fn mdns_listen(mgr: *mut mg_mgr, url: *const c_char, f: mg_event_handler_t, fn_data: *mut c_void) -> mg_conn {
    let r = (|| {
        let m = registry::mgr(mgr)?;
        let url = if url.is_null() {
            None
        } else {
            Some(cast::cstr_utf8(url).map_err(|_| MG_ERR_URL)?)
        };
        let name = if fn_data.is_null() {
            None
        } else {
            Some(cast::cstr_utf8(fn_data as *const c_char)?)
        };
        let handler = alloc::rc::Rc::new(CHandler::new(f, fn_data));
        super::callback::install_proto_events();
        Ok(m.mdns_listen(url, name, handler)?)
    })();
    mg_conn { h: registry::issue(r) }
}

/// `mg_mdns_query(c, name, rtype)`: send an mDNS question for `name` (e.g. `dev.local`)
/// of type `rtype` (`MG_DNS_RTYPE_A`) to 224.0.0.251:5353 from the mDNS listener `c`;
/// answers arrive as `MG_EV_MDNS_RESP`. Returns false on a bad name, a stale handle or a
/// send error. Owner thread.
#[no_mangle]
pub extern "C" fn mg_mdns_query(c: mg_conn, name: *const c_char, rtype: c_uint) -> bool {
    guard(|| {
        let Ok((m, h)) = registry::conn(c) else { return false };
        let Ok(name) = cast::cstr_utf8(name) else { return false };
        let Ok(rtype) = u16::try_from(rtype) else { return false };
        m.mdns_query(h, name, rtype).is_ok()
    })
}

impl Default for mg_dnssd_record {
    fn default() -> Self {
        mg_dnssd_record {
            srvcproto: mg_str::EMPTY,
            txt: mg_str::EMPTY,
            port: 0,
        }
    }
}

/// Call a C handler with `MG_EV_MDNS_REQ`, copying back what it set.
pub(crate) fn call_mdns_req(req: &crate::mgr::event::MdnsRequest<'_>, call: impl FnOnce(*mut c_void)) {
    let mut rr = rr_to_c(&req.rr);
    let mut r = mg_dnssd_record::default();
    let mut c = mg_mdns_req {
        rr: &mut rr,
        r: &mut r,
        reqname: mg_str::from_bytes(req.reqname),
        respname: mg_str::EMPTY,
        addr: core::ptr::null_mut(),
        is_listing: req.is_listing,
        is_resp: req.is_resp.get(),
        is_unicast: req.is_unicast,
    };
    call(&mut c as *mut mg_mdns_req as *mut c_void);
    req.is_resp.set(c.is_resp);
    if let Ok(name) = cast::mg_str_bytes(c.respname) {
        if !name.is_empty() {
            *req.respname.borrow_mut() = Some(name.to_vec());
        }
    }
    if let Ok(a) = cast::read(c.addr as *const mg_addr) {
        if !a.is_ip6 {
            req.addr
                .set(Some(core::net::Ipv4Addr::new(a.ip[0], a.ip[1], a.ip[2], a.ip[3])));
        }
    }
}

/// Call a C handler with `MG_EV_MDNS_RESP`.
pub(crate) fn call_mdns_resp(resp: &crate::mgr::event::MdnsResponse<'_>, call: impl FnOnce(*mut c_void)) {
    let mut rr = rr_to_c(&resp.rr);
    let mut c = mg_mdns_resp {
        rr: &mut rr,
        name: mg_str::from_bytes(resp.name),
        addr: ip_to_c(resp.addr),
        sd: mg_dnssd_record::default(),
    };
    call(&mut c as *mut mg_mdns_resp as *mut c_void);
}
