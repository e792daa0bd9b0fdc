//! Address helpers with Mongoose 7.22's names: `mg_aton` (text to `struct mg_addr`) and
//! `mg_check_ip_acl` (Mongoose's `+a.b.c.d/n,-...` lists). The parsing is `util::net`.
//! Pure functions: any thread, nothing retained.

use core::ffi::c_int;

use super::cast;
use super::guard;
use super::types::{mg_addr, mg_str};
use crate::util::net::{self, AclError};

/// `mg_aton(str, &addr)`: parse an IP address without a port: `""` (0.0.0.0), `localhost`
/// (127.0.0.1, any case), dotted-quad IPv4 (leading zeros are decimal), or IPv6 in any
/// standard text form, optionally in brackets and with a `%N` scope id (0..=255), including
/// `::ffff:1.2.3.4`. On success sets `addr->ip` (network order; IPv4 in the first 4 bytes,
/// the rest zeroed), `addr->is_ip6` and `addr->scope_id` (0 when absent), leaves
/// `addr->port` alone, and returns true. Returns false, leaving `*addr` unchanged, for
/// anything else, a NULL `addr` or a `(NULL, n > 0)` `str`; also for IPv6 in a build without
/// the cargo feature `ipv6` (as Mongoose with `MG_ENABLE_IPV6=0`). Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_aton(s: mg_str, addr: *mut mg_addr) -> bool {
    guard(|| {
        let (Ok(text), Ok(a)) = (cast::mg_str_bytes(s), cast::as_mut(addr)) else {
            return false;
        };
        match net::aton(text) {
            Some(ip) => {
                a.ip = ip.ip;
                a.is_ip6 = ip.is_ip6;
                a.scope_id = ip.scope_id;
                true
            }
            None => false,
        }
    })
}

/// `mg_check_ip_acl(acl, &remote_ip)`: is `remote_ip` allowed by `acl`, a comma-separated
/// list of `+a.b.c.d[/n]` (allow) and `-a.b.c.d[/n]` (deny) IPv4 entries? The last matching
/// entry decides; when none matches, an empty `acl` allows and any other denies. Returns 1
/// (allowed), 0 (denied), -1 (an entry without `+`/`-`, an IPv6 address, NULL `remote_ip`),
/// -2 (an entry whose network is not `a.b.c.d` or `a.b.c.d/n`, n <= 32).
///
/// Differences from Mongoose: the entry's network is masked too (`+10.1.2.3/8` allows
/// 10.0.0.0/8; Mongoose matched nothing), an entry must be exactly an address with an
/// optional prefix length (Mongoose's `sscanf` ignored trailing text), and an IPv4-mapped
/// IPv6 address (`::ffff:a.b.c.d`, what a dual-stack listener reports) is checked as its
/// IPv4 address. A `(NULL, n > 0)` `acl` gives -1. Thread: any thread.
#[no_mangle]
pub extern "C" fn mg_check_ip_acl(acl: mg_str, remote_ip: *const mg_addr) -> c_int {
    guard(|| {
        let (Ok(list), Ok(a)) = (cast::mg_str_bytes(acl), cast::as_ref(remote_ip)) else {
            return -1;
        };
        let v4 = if !a.is_ip6 {
            [a.ip[0], a.ip[1], a.ip[2], a.ip[3]]
        } else if a.ip[..10] == [0; 10] && a.ip[10..12] == [0xff, 0xff] {
            [a.ip[12], a.ip[13], a.ip[14], a.ip[15]]
        } else {
            return -1;
        };
        match net::check_acl(list, v4) {
            Ok(allowed) => c_int::from(allowed),
            Err(AclError::Syntax) => -1,
            Err(AclError::Network) => -2,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::c_char;

    fn s(t: &str) -> mg_str {
        mg_str {
            buf: t.as_ptr() as *mut c_char,
            len: t.len(),
        }
    }

    #[test]
    fn aton_and_acl_through_c_types() {
        let mut a = mg_addr {
            port: 0x5000,
            ..Default::default()
        };
        assert!(mg_aton(s("192.168.1.2"), &mut a));
        assert_eq!((&a.ip[..4], a.is_ip6, a.port), (&[192, 168, 1, 2][..], false, 0x5000));
        assert_eq!(mg_check_ip_acl(s("-0.0.0.0/0,+192.168.0.0/16"), &a), 1);
        assert_eq!(mg_check_ip_acl(s("+10.0.0.0/8"), &a), 0);
        assert_eq!(mg_check_ip_acl(s("10.0.0.0/8"), &a), -1);
        assert_eq!(mg_check_ip_acl(s("+10.0.0.0/99"), &a), -2);
        assert!(!mg_aton(s("1.2.3"), &mut a));
        assert_eq!(a.ip[3], 2, "unchanged on failure");
        assert!(mg_aton(s("::ffff:10.1.2.3"), &mut a));
        assert!(a.is_ip6);
        assert_eq!(mg_check_ip_acl(s("+10.0.0.0/8"), &a), 1);
        assert!(mg_aton(s("[2001:db8::1]"), &mut a));
        assert_eq!(mg_check_ip_acl(s("+10.0.0.0/8"), &a), -1);
        assert_eq!(mg_check_ip_acl(s(""), core::ptr::null()), -1);
        assert!(!mg_aton(s("1.2.3.4"), core::ptr::null_mut()));
    }
}
