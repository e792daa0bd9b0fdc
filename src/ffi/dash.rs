//! The device dashboard (Mongoose 7.22's `mg_dash`): field sets that bind JSON keys to C
//! variables, served over HTTP REST endpoints and WebSocket change notifications by
//! `mg_dash_ev_handler` (pass it to `mg_http_listen` with a `struct mg_dash *` as
//! `fn_data`). The routes, value checks and message texts are `util::dash`; this module
//! walks the firmware's structures and calls its callbacks.
//!
//! The C declarations (enums, structs, macros, prototypes) are hand-written in
//! `src/shim/trailer.h`: C enums in struct fields and callback parameters cannot be spelled
//! by cbindgen without reading C memory as a Rust enum. The structs here mirror them field
//! for field (`enum` as `c_uint`; the trailer checks that an enum is an `int` in size).
//!
//! State kept by meerkat: sessions (`struct mg_dash_user`, allocated with `mg_calloc`, at
//! most 10 per dashboard, freed when they expire, on logout, or when the dashboard's listener
//! closes) and which WebSocket belongs to which session. Both are process-wide lists under a
//! spin lock, never held while firmware code runs.
//!
//! Threads: the manager's thread (the handler and `mg_dash_send_change` run there); the
//! firmware's callbacks are called on it. Re-entrancy: a callback may call
//! `mg_dash_send_change` and any `mg_*` function.

use crate::prelude::*;
use core::ffi::{c_char, c_int, c_uint, c_void};

use super::fs::{mg_file_write, mg_fs, mg_fs_packed, mg_fs_posix, CFs};
use super::registry;
use super::serve::mg_http_serve_opts;
use super::types::*;
use super::{cast, guard};
use crate::fs::Fs;
use crate::util::dash::{self as core_dash, CSizes, FieldError, Parsed, Route, ValType, Value};

/// `enum mg_dash_op`.
const OP_READ: c_uint = 0;
const OP_WRITE: c_uint = 1;
const OP_DELETE: c_uint = 2;
const OP_ADD: c_uint = 3;

/// Sessions per dashboard (Mongoose's cap).
const MAX_USERS: usize = 10;
/// Fields per set, sets per dashboard, custom handlers, elements per array read or delete:
/// bounds on walking firmware lists (a cycle or a callback that never ends an iteration).
const MAX_FIELDS: usize = 256;
const MAX_SETS: usize = 256;
const MAX_ELEMS: i32 = 10_000;

/// `struct mg_field`: binds the JSON key `name` to the C variable at `value`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_field {
    pub name: *const c_char,
    /// `enum mg_val_type`.
    pub r#type: c_uint,
    pub value: *mut c_void,
    /// `sizeof(*value)`; 0 makes the field read-only.
    pub value_size: usize,
}

/// A field set's callback: `fn(op, user)`.
pub type mg_dash_fn_t = Option<unsafe extern "C" fn(op: c_uint, u: *mut mg_dash_user) -> bool>;
/// A file-array set's directory callback.
pub type mg_dash_dir_fn_t = Option<unsafe extern "C" fn(u: *const mg_dash_user, buf: *mut c_char, len: usize) -> bool>;
/// `mg_dash.authenticate`.
pub type mg_dash_auth_fn_t =
    Option<unsafe extern "C" fn(user: *mut c_char, userlen: usize, pass: *const c_char) -> c_int>;

/// `struct mg_field_set`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_field_set {
    pub name: *const c_char,
    pub fields: *mut mg_field,
    pub r#fn: mg_dash_fn_t,
    pub index: *mut c_int,
    pub get_dir: mg_dash_dir_fn_t,
    pub next: *mut mg_field_set,
}

/// `MG_DASH_MAX_USER_NAME`.
const USER_NAME: usize = 32;

/// `struct mg_dash_user`: a session (or the guest).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_dash_user {
    pub next: *mut mg_dash_user,
    pub name: [c_char; USER_NAME],
    pub token: [c_char; 21],
    pub level: c_int,
    pub expire: u64,
    pub dash: *mut mg_dash,
}

/// `struct mg_dash_custom_handler`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_dash_custom_handler {
    pub next: *mut mg_dash_custom_handler,
    pub uri_pattern: mg_str,
    pub handler: mg_event_handler_t,
    pub handler_data: *mut c_void,
}

/// `struct mg_dash`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_dash {
    pub sets: *mut mg_field_set,
    pub custom_handlers: *mut mg_dash_custom_handler,
    pub authenticate: mg_dash_auth_fn_t,
    pub session_auto_expiration_seconds: c_int,
    pub guest: *mut mg_dash_user,
    pub upload_fs: *mut mg_fs,
}

/// Sessions as (`*mut mg_dash_user`, its `*mut mg_dash`) addresses: the dashboard is kept
/// beside the session so that finding a dashboard's sessions never reads the memory of
/// sessions another thread's dashboard owns. And the guests meerkat allocated.
static USERS: spin::Mutex<Vec<(usize, usize)>> = spin::Mutex::new(Vec::new());
static GUESTS: spin::Mutex<Vec<usize>> = spin::Mutex::new(Vec::new());

/// A dashboard WebSocket: its connection handle and session (0 once the session ended).
#[derive(Clone, Copy)]
struct Socket {
    conn: u64,
    user: usize,
}
static SOCKETS: spin::Mutex<Vec<Socket>> = spin::Mutex::new(Vec::new());

/// Connections whose current request was answered in `MG_EV_HTTP_HDRS` (a file upload that
/// was refused or could not start): their `MG_EV_HTTP_MSG` is skipped.
static ANSWERED: spin::Mutex<Vec<u64>> = spin::Mutex::new(Vec::new());
/// Connections whose upload `mg_http_start_upload` is starting right now (one per manager
/// thread at most; handles are unique across managers): an outcome reported during that call
/// means the upload never started.
static STARTING: spin::Mutex<Vec<u64>> = spin::Mutex::new(Vec::new());

const SIZES: CSizes = CSizes {
    int: core::mem::size_of::<c_int>(),
    bool_: core::mem::size_of::<bool>(),
};

fn user_ptr(a: usize) -> *mut mg_dash_user {
    a as *mut mg_dash_user
}

/// The bytes of a NUL-terminated array field.
fn c_array(a: &[c_char]) -> Vec<u8> {
    a.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect()
}

/// Store `s` NUL-terminated in `a`, truncated to fit.
fn set_c_array(a: &mut [c_char], s: &[u8]) {
    let n = s.len().min(a.len() - 1);
    for (d, &b) in a.iter_mut().zip(&s[..n]) {
        *d = b as c_char;
    }
    a[n] = 0;
}

/// A NUL-terminated copy of `s` for C.
fn cstring(s: &[u8]) -> Vec<u8> {
    let mut v = s.to_vec();
    v.push(0);
    v
}

// ----- calling the firmware --------------------------------------------------------------

fn call_fn(set: &mg_field_set, op: c_uint, u: *mut mg_dash_user) -> bool {
    match set.r#fn {
        // SAFETY: a firmware callback, called as its declaration says, with no lock held.
        Some(f) => unsafe { f(op, u) },
        None => true,
    }
}

fn call_get_dir(set: &mg_field_set, u: *mut mg_dash_user) -> Option<Vec<u8>> {
    let f = set.get_dir?;
    let mut buf = [0u8; 256];
    // SAFETY: a firmware callback given a buffer of the length passed with it.
    if !unsafe { f(u, buf.as_mut_ptr().cast(), buf.len()) } {
        return None;
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(buf[..n].to_vec())
}

fn get_index(set: &mg_field_set) -> c_int {
    cast::read(set.index).unwrap_or(-1)
}

fn set_index(set: &mg_field_set, v: c_int) {
    let _ = cast::write_out(set.index, v);
}

// ----- fields ----------------------------------------------------------------------------

fn fields(set: &mg_field_set) -> Vec<mg_field> {
    let mut out = Vec::new();
    for i in 0..MAX_FIELDS {
        match cast::read(set.fields.wrapping_add(i)) {
            Ok(f) if !f.name.is_null() => out.push(f),
            _ => break,
        }
    }
    out
}

fn set_name(set: &mg_field_set) -> &'static [u8] {
    cast::cstr_bytes(set.name).unwrap_or(b"")
}

/// A string variable: up to its NUL, within `value_size` when that is given.
fn c_text(f: &mg_field) -> &'static [u8] {
    if f.value_size == 0 {
        return cast::cstr_bytes(f.value.cast_const().cast()).unwrap_or(b"");
    }
    let s = cast::slice(f.value.cast_const(), f.value_size).unwrap_or(&[]);
    &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
}

fn print_field(out: &mut Vec<u8>, f: &mg_field) {
    core_dash::json_str(out, cast::cstr_bytes(f.name).unwrap_or(b""));
    out.push(b':');
    let v = f.value.cast_const();
    let value = match ValType::from_raw(f.r#type) {
        Some(ValType::Int) => cast::read(v.cast::<c_int>()).ok().map(Value::Int),
        Some(ValType::U64) => cast::read(v.cast::<u64>()).ok().map(Value::U64),
        Some(ValType::Bool) => cast::read(v.cast::<u8>()).ok().map(|b| Value::Bool(b != 0)),
        Some(ValType::Dbl) => cast::read(v.cast::<f64>()).ok().map(Value::Dbl),
        Some(ValType::Str) if !v.is_null() => Some(Value::Str(c_text(f))),
        Some(ValType::Raw) if !v.is_null() => Some(Value::Raw(c_text(f))),
        _ => None,
    };
    match value {
        Some(v) => core_dash::json_value(out, &v),
        None => out.extend_from_slice(b"null"),
    }
}

/// `{"field":value,...}` of the set's variables as they are now.
fn print_set(out: &mut Vec<u8>, set: &mg_field_set) {
    out.push(b'{');
    for (i, f) in fields(set).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        print_field(out, f);
    }
    out.push(b'}');
}

/// The values a JSON object gives for the set's fields (absent ones are left out), checked
/// against their variables; nothing is written yet.
/// Values ready to store, each with its field.
type Staged = Vec<(mg_field, Parsed)>;

fn parse_fields(set: &mg_field_set, obj: &[u8]) -> Result<Staged, (FieldError, Vec<u8>)> {
    let mut out = Vec::new();
    for f in fields(set) {
        let name = cast::cstr_bytes(f.name).unwrap_or(b"");
        let Some(tok) = core_dash::member(obj, name) else {
            continue;
        };
        let ty = ValType::from_raw(f.r#type).ok_or((FieldError::Type, name.to_vec()))?;
        let p = core_dash::parse_value(tok, ty, f.value_size, SIZES).map_err(|e| (e, name.to_vec()))?;
        out.push((f, p));
    }
    Ok(out)
}

fn store(f: &mg_field, p: &Parsed) {
    let v = f.value;
    let _ = match p {
        Parsed::Int(i) => cast::write_out(v.cast::<c_int>(), *i as c_int),
        Parsed::U64(u) => cast::write_out(v.cast::<u64>(), *u),
        Parsed::Bool(b) => cast::write_out(v.cast::<bool>(), *b),
        Parsed::Dbl(d) => cast::write_out(v.cast::<f64>(), *d),
        Parsed::Str(s) | Parsed::Raw(s) => match cast::slice_mut(v, f.value_size) {
            Ok(dst) if s.len() < dst.len() => {
                dst[..s.len()].copy_from_slice(s);
                dst[s.len()] = 0;
                Ok(())
            }
            _ => Err(0),
        },
    };
}

fn field_error(e: FieldError, name: &[u8]) -> Vec<u8> {
    let what: &[u8] = match e {
        FieldError::Type => b"bad value for ",
        FieldError::TooLong => b"value too long for ",
        FieldError::ReadOnly => b"read-only field ",
    };
    let mut b = what.to_vec();
    b.extend_from_slice(name);
    b.push(b'\n');
    b
}

// ----- sets ------------------------------------------------------------------------------

fn sets(dash: &mg_dash) -> Vec<*mut mg_field_set> {
    let mut out = Vec::new();
    let mut p = dash.sets;
    while !p.is_null() && out.len() < MAX_SETS {
        out.push(p);
        p = cast::read(p).map_or(core::ptr::null_mut(), |s| s.next);
    }
    out
}

fn find_set(dash: &mg_dash, name: &[u8]) -> Option<(*mut mg_field_set, mg_field_set)> {
    sets(dash)
        .into_iter()
        .filter_map(|p| cast::read(p).ok().map(|s| (p, s)))
        .find(|(_, s)| set_name(s) == name)
}

/// Load the element at `*index` (firmware callback or directory).
fn read_element(set_ptr: *mut mg_field_set, set: &mg_field_set, u: *mut mg_dash_user) -> bool {
    if set.r#fn.is_some() {
        call_fn(set, OP_READ, u)
    } else if set.get_dir.is_some() {
        dir_read(set_ptr, u)
    } else {
        true
    }
}

/// The size of an array set for `u`, or `None` when refused.
fn array_size(set_ptr: *mut mg_field_set, set: &mg_field_set, u: *mut mg_dash_user) -> Option<c_int> {
    let saved = get_index(set);
    set_index(set, -1);
    let ok = if set.r#fn.is_some() {
        call_fn(set, OP_READ, u)
    } else {
        set.get_dir.is_some() && dir_read(set_ptr, u)
    };
    let size = get_index(set);
    set_index(set, saved);
    (ok && size >= 0).then_some(size)
}

/// `[elem,...]` for indexes `from..=to` (`to` < 0: until the firmware ends the iteration).
fn print_array(
    out: &mut Vec<u8>,
    set_ptr: *mut mg_field_set,
    set: &mg_field_set,
    from: c_int,
    to: c_int,
    u: *mut mg_dash_user,
) {
    let saved = get_index(set);
    set_index(set, from);
    out.push(b'[');
    for n in 0..MAX_ELEMS {
        let i = get_index(set);
        if (to >= 0 && i > to) || !read_element(set_ptr, set, u) || get_index(set) < 0 {
            break;
        }
        if n > 0 {
            out.push(b',');
        }
        print_set(out, set);
        set_index(set, get_index(set).saturating_add(1));
    }
    out.push(b']');
    set_index(set, saved);
}

// ----- sessions --------------------------------------------------------------------------

fn expiry(dash: &mg_dash) -> u64 {
    let secs = match dash.session_auto_expiration_seconds {
        s if s > 0 => s as u64,
        _ => 3600,
    };
    crate::util::clock::millis().saturating_add(secs * 1000)
}

fn users_of(dash: *mut mg_dash) -> Vec<*mut mg_dash_user> {
    let list = USERS.lock().clone();
    list.into_iter()
        .filter(|&(_, d)| d == dash as usize)
        .map(|(u, _)| user_ptr(u))
        .collect()
}

/// End a session: its WebSockets are closed, its memory freed.
fn delete_user(u: *mut mg_dash_user) {
    let closing: Vec<u64> = {
        let mut socks = SOCKETS.lock();
        let mut out = Vec::new();
        for s in socks.iter_mut().filter(|s| s.user == u as usize) {
            s.user = 0;
            out.push(s.conn);
        }
        out
    };
    for conn in closing {
        let _ = super::conn::mg_close(mg_conn { h: conn });
    }
    USERS.lock().retain(|&(a, _)| a != u as usize);
    cast::c_free(u.cast());
}

fn new_user(dash: *mut mg_dash, d: &mg_dash, name: &[u8], token: &[u8], level: c_int) -> *mut mg_dash_user {
    let p = cast::c_calloc(1, core::mem::size_of::<mg_dash_user>()).cast::<mg_dash_user>();
    let Ok(u) = cast::as_mut(p) else {
        return core::ptr::null_mut();
    };
    set_c_array(&mut u.name, name);
    set_c_array(&mut u.token, token);
    u.level = level;
    u.expire = expiry(d);
    u.dash = dash;
    p
}

fn random_token() -> [u8; 20] {
    let mut r = [0u8; 15];
    crate::util::clock::random(&mut r);
    core_dash::token(&r)
}

/// The guest of a dashboard without `authenticate`: the firmware's `dash->guest` if set,
/// else one meerkat allocates ("guest", level 9, as Mongoose).
fn guest(dash: *mut mg_dash, d: &mg_dash) -> *mut mg_dash_user {
    if !d.guest.is_null() {
        return d.guest;
    }
    let g = new_user(dash, d, b"guest", b"", 9);
    if !g.is_null() {
        if let Ok(dm) = cast::as_mut(dash) {
            dm.guest = g;
        }
        GUESTS.lock().push(g as usize);
    }
    g
}

/// Credentials of the request: (user, password or token, whether an `Authorization` header
/// gave them).
fn creds(hm: *mut mg_http_message) -> (Vec<u8>, Vec<u8>, bool) {
    let mut user = [0 as c_char; 100];
    let mut pass = [0 as c_char; 100];
    super::http::mg_http_creds(hm, user.as_mut_ptr(), user.len(), pass.as_mut_ptr(), pass.len());
    let ah = !super::http::mg_http_get_header(hm, c"Authorization".as_ptr()).is_null();
    (c_array(&user), c_array(&pass), ah)
}

/// The session of a request, or NULL (Mongoose's rules: a known token from a cookie, Bearer
/// header or query refreshes its session; otherwise `authenticate` decides, and a new
/// session is made, up to 10 per dashboard).
fn authenticate(dash: *mut mg_dash, hm: *mut mg_http_message) -> *mut mg_dash_user {
    let Ok(d) = cast::read(dash) else {
        return core::ptr::null_mut();
    };
    let Some(auth) = d.authenticate else {
        return guest(dash, &d);
    };
    let now = crate::util::clock::millis();
    for u in users_of(dash) {
        if cast::read(u).is_ok_and(|x| x.expire < now) {
            delete_user(u);
        }
    }
    let (user, pass, ah) = creds(hm);
    if pass.is_empty() {
        return core::ptr::null_mut();
    }
    let mine = users_of(dash);
    if !ah {
        for &u in &mine {
            if let Ok(x) = cast::as_mut(u) {
                let tok = c_array(&x.token);
                if !tok.is_empty() && core_dash::same_token(&tok, &pass) {
                    x.expire = expiry(&d);
                    return u;
                }
            }
        }
    }
    let mut ubuf = [0 as c_char; 100];
    set_c_array(&mut ubuf, &user);
    let pass_c = cstring(&pass);
    // SAFETY: the firmware's callback, with a writable user buffer of the length given and a
    // NUL-terminated password; no lock held.
    let level = unsafe { auth(ubuf.as_mut_ptr(), ubuf.len(), pass_c.as_ptr().cast()) };
    if level <= 0 {
        return core::ptr::null_mut();
    }
    let name = c_array(&ubuf);
    for &u in &mine {
        if let Ok(x) = cast::as_mut(u) {
            if c_array(&x.name)[..] == name[..USER_NAME.min(name.len()).min(USER_NAME - 1)] {
                if !ah {
                    set_c_array(&mut x.token, &pass);
                }
                x.expire = expiry(&d);
                return u;
            }
        }
    }
    if mine.len() >= MAX_USERS {
        return core::ptr::null_mut();
    }
    let token = if ah { random_token().to_vec() } else { pass };
    let u = new_user(dash, &d, &name, &token, level);
    if !u.is_null() {
        USERS.lock().push((u as usize, dash as usize));
    }
    u
}

// ----- change notifications --------------------------------------------------------------

/// Send the change of `set` to every dashboard WebSocket of `m` (see the header).
fn send_change(m: &crate::mgr::Mgr, set_ptr: *mut mg_field_set) {
    let Ok(set) = cast::read(set_ptr) else {
        return;
    };
    let socks = SOCKETS.lock().clone();
    let mut next = m.next_conn(None);
    while let Some(h) = next {
        next = m.next_conn(Some(h));
        if let Some(s) = socks.iter().find(|s| s.conn == h.raw() && s.user != 0) {
            if let Some(msg) = change_for(set_ptr, &set, user_ptr(s.user)) {
                let c = mg_conn { h: h.raw() };
                let _ = super::ws::mg_ws_send(c, msg.as_ptr().cast(), msg.len(), WEBSOCKET_OP_TEXT);
            }
        }
    }
}

fn change_for(set_ptr: *mut mg_field_set, set: &mg_field_set, u: *mut mg_dash_user) -> Option<Vec<u8>> {
    let name = set_name(set);
    if !set.index.is_null() && get_index(set) < 0 {
        let size = array_size(set_ptr, set, u)?;
        return Some(core_dash::change_message(name, format!("{size}").as_bytes()));
    }
    let saved = if set.index.is_null() { 0 } else { get_index(set) };
    let ok = read_element(set_ptr, set, u);
    let msg = ok.then(|| {
        let mut v = Vec::new();
        print_set(&mut v, set);
        if set.index.is_null() {
            core_dash::change_message(name, &v)
        } else {
            let mut key = name.to_vec();
            key.extend_from_slice(format!("/{}", get_index(set)).as_bytes());
            core_dash::change_message(&key, &v)
        }
    });
    if !set.index.is_null() {
        set_index(set, saved);
    }
    msg
}

// ----- file-array sets -------------------------------------------------------------------

fn upload_fs(dash: &mg_dash) -> *mut mg_fs {
    if dash.upload_fs.is_null() {
        &raw mut mg_fs_posix
    } else {
        dash.upload_fs
    }
}

fn find_field<'a>(fs: &'a [mg_field], name: &[u8], str_only: bool) -> Option<&'a mg_field> {
    fs.iter().find(|f| {
        cast::cstr_bytes(f.name).is_ok_and(|n| n == name) && (!str_only || f.r#type == ValType::Str as c_uint)
    })
}

fn dir_read(set_ptr: *mut mg_field_set, u: *mut mg_dash_user) -> bool {
    let (Ok(set), Ok(user)) = (cast::read(set_ptr), cast::read(u)) else {
        return false;
    };
    let Ok(dash) = cast::read(user.dash) else {
        return false;
    };
    let Some(cfs) = CFs::from_ptr(upload_fs(&dash)) else {
        return false;
    };
    let Some(dir) = call_get_dir(&set, u) else {
        return false;
    };
    let fs = fields(&set);
    let Some(name_f) = find_field(&fs, b"name", true) else {
        return false;
    };
    let mut names = Vec::new();
    cfs.list(&dir, &mut |n| names.push(n.to_vec()));
    let target = get_index(&set);
    if target == -1 {
        set_index(&set, c_int::try_from(names.len()).unwrap_or(c_int::MAX));
        return true;
    }
    let Some(n) = usize::try_from(target).ok().and_then(|t| names.get(t)) else {
        set_index(&set, -1);
        return true;
    };
    if let Ok(dst) = cast::slice_mut(name_f.value, name_f.value_size) {
        if !dst.is_empty() {
            let k = n.len().min(dst.len() - 1);
            dst[..k].copy_from_slice(&n[..k]);
            dst[k] = 0;
        }
    }
    if let Some(size_f) = find_field(&fs, b"size", false) {
        let mut path = dir.clone();
        path.push(b'/');
        path.extend_from_slice(n);
        let size = cfs.stat(&path).map_or(0, |s| s.size);
        match ValType::from_raw(size_f.r#type) {
            Some(ValType::U64) => {
                let _ = cast::write_out(size_f.value.cast::<u64>(), size);
            }
            Some(ValType::Int) => {
                let _ = cast::write_out(size_f.value.cast::<c_int>(), size.min(c_int::MAX as u64) as c_int);
            }
            _ => {}
        }
    }
    true
}

fn set_file_name(set: &mg_field_set, name: &[u8]) {
    let fs = fields(set);
    if let Some(f) = find_field(&fs, b"name", true) {
        store(
            f,
            &Parsed::Str(name[..name.len().min(f.value_size.saturating_sub(1))].to_vec()),
        );
    }
}

// ----- the handler -----------------------------------------------------------------------

struct Req {
    c: mg_conn,
    hm: *mut mg_http_message,
    dash: mg_dash,
    u: *mut mg_dash_user,
}

impl Req {
    fn reply(&self, status: u16, headers: &[u8], body: &[u8]) {
        if let Ok((m, h)) = registry::conn(self.c) {
            let _ = m.http_reply(h, status, headers, body);
        }
    }
    fn json(&self, status: u16, body: &[u8]) {
        self.reply(status, core_dash::JSON_HEADERS, body);
    }
    fn tls(&self) -> bool {
        registry::conn(self.c).is_ok_and(|(m, h)| m.info(h).is_ok_and(|i| i.is_tls))
    }
    fn changed(&self, set: *mut mg_field_set) {
        if let Ok((m, _)) = registry::conn(self.c) {
            send_change(m, set);
        }
    }
    fn serve(&self, path: &[u8], fs: *mut mg_fs) {
        let opts = mg_http_serve_opts {
            root_dir: core::ptr::null(),
            ssi_pattern: core::ptr::null(),
            extra_headers: core::ptr::null(),
            mime_types: core::ptr::null(),
            page404: core::ptr::null(),
            fs: fs.cast(),
        };
        let p = cstring(path);
        let _ = super::serve::mg_http_serve_file(self.c, self.hm, p.as_ptr().cast(), &opts);
    }
}

/// `MG_EV_HTTP_HDRS`: a file upload starts here (streamed); everything else waits for the
/// whole request.
fn handle_hdrs(c: mg_conn, dash_ptr: *mut mg_dash, hm_ptr: *mut mg_http_message) {
    let (Ok(hm), Ok(dash)) = (cast::read(hm_ptr.cast_const()), cast::read(dash_ptr)) else {
        return;
    };
    let method = cast::mg_str_lenient(hm.method);
    let Route::File { set, name } = core_dash::route(method, cast::mg_str_lenient(hm.uri)) else {
        return;
    };
    if !(method.eq_ignore_ascii_case(b"POST") || method.eq_ignore_ascii_case(b"PUT")) {
        return;
    }
    let u = authenticate(dash_ptr, hm_ptr);
    let r = Req { c, hm: hm_ptr, dash, u };
    if let Err((status, body)) = start_upload(&r, set, name) {
        r.json(status, body);
        ANSWERED.lock().push(c.h);
    }
}

fn handle_msg(c: mg_conn, dash_ptr: *mut mg_dash, hm_ptr: *mut mg_http_message, ev_data: *mut c_void) {
    let (Ok(hm), Ok(dash)) = (cast::read(hm_ptr.cast_const()), cast::read(dash_ptr)) else {
        return;
    };
    let method = cast::mg_str_lenient(hm.method);
    let uri = cast::mg_str_lenient(hm.uri);
    let body = cast::mg_str_lenient(hm.body);
    let route = core_dash::route(method, uri);
    let u = if matches!(route, Route::Hi) {
        core::ptr::null_mut()
    } else {
        authenticate(dash_ptr, hm_ptr)
    };
    let r = Req { c, hm: hm_ptr, dash, u };
    if u.is_null() && !route.open() {
        r.json(403, b"Not Authorised\n");
        return;
    }
    match route {
        Route::Hi => r.json(200, b"hi\n"),
        Route::Login => {
            let user = cast::read(u).map(|x| (c_array(&x.token), c_array(&x.name), x.level));
            if let Ok((token, name, level)) = user {
                r.reply(
                    200,
                    &core_dash::login_headers(&token, r.tls()),
                    &core_dash::login_body(&name, level),
                );
            }
        }
        Route::Logout => {
            if r.dash.authenticate.is_some() {
                let (_, pass, _) = creds(hm_ptr);
                for x in users_of(dash_ptr) {
                    let tok = cast::read(x).map(|x| c_array(&x.token)).unwrap_or_default();
                    if !pass.is_empty() && core_dash::same_token(&tok, &pass) {
                        delete_user(x);
                    }
                }
            }
            r.reply(401, &core_dash::logout_headers(r.tls()), b"Unauthorized\n");
        }
        Route::WebSocket => {
            SOCKETS.lock().push(Socket {
                conn: c.h,
                user: u as usize,
            });
            if super::ws::mg_ws_upgrade_n(c, hm_ptr, core::ptr::null(), 0) < 0 {
                SOCKETS.lock().retain(|s| s.conn != c.h);
            }
        }
        Route::GetAll => get_all(&r),
        Route::Get { set, from, to } => get(&r, set, from, to),
        Route::Modify { set, index } => modify(&r, set, index, body),
        Route::Set => apply(&r, body),
        Route::Add { set } => add(&r, set, body),
        Route::Delete { set, from, to } => delete(&r, set, from, to),
        Route::File { set, name } => file(&r, method, set, name, body),
        Route::Root => r.serve(b"/dashboard.html", &raw mut mg_fs_packed),
        Route::OtherApi | Route::Other => custom(&r, uri, ev_data),
    }
}

fn get_all(r: &Req) {
    let mut out = b"{".to_vec();
    let mut first = true;
    for p in sets(&r.dash) {
        let Ok(s) = cast::read(p) else { continue };
        let mut item = Vec::new();
        core_dash::json_str(&mut item, set_name(&s));
        item.push(b':');
        if !s.index.is_null() {
            let Some(size) = array_size(p, &s, r.u) else { continue };
            item.extend_from_slice(format!("{size}").as_bytes());
        } else {
            if !call_fn(&s, OP_READ, r.u) {
                continue;
            }
            print_set(&mut item, &s);
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(&item);
    }
    out.extend_from_slice(b"}\n");
    r.json(200, &out);
}

fn get(r: &Req, name: &[u8], from: Option<&[u8]>, to: Option<&[u8]>) {
    let Some((p, s)) = find_set(&r.dash, name) else {
        return r.json(404, b"null\n");
    };
    let mut out = Vec::new();
    if s.index.is_null() {
        if !call_fn(&s, OP_READ, r.u) {
            return r.json(403, b"null\n");
        }
        print_set(&mut out, &s);
    } else if let Some(from) = from {
        let (Some(from), Some(to)) = (
            core_dash::index(from),
            to.map_or(core_dash::index(from), core_dash::index),
        ) else {
            return r.json(400, b"bad index\n");
        };
        print_array(&mut out, p, &s, from, to, r.u);
    } else {
        let Some(size) = array_size(p, &s, r.u) else {
            return r.json(403, b"null\n");
        };
        out.extend_from_slice(format!("{size}").as_bytes());
    }
    out.push(b'\n');
    r.json(200, &out);
}

/// The body as a JSON object, or a `400` sent.
fn object<'a>(r: &Req, body: &'a [u8]) -> Option<Vec<(&'a [u8], &'a [u8])>> {
    let m = core_dash::members(body);
    if m.is_none() {
        r.json(400, b"bad JSON: an object is expected\n");
    }
    m
}

/// The set's fields parsed from `body`, or a `400` sent.
fn staged(r: &Req, set: &mg_field_set, obj: &[u8]) -> Option<Staged> {
    match parse_fields(set, obj) {
        Ok(v) => Some(v),
        Err((e, name)) => {
            r.json(400, &field_error(e, &name));
            None
        }
    }
}

fn modify(r: &Req, name: &[u8], index: &[u8], body: &[u8]) {
    let Some((p, s)) = find_set(&r.dash, name).filter(|(_, s)| !s.index.is_null() && s.r#fn.is_some()) else {
        return r.json(404, b"null\n");
    };
    let Some(index) = core_dash::index(index) else {
        return r.json(400, b"bad index\n");
    };
    if object(r, body).is_none() {
        return;
    }
    set_index(&s, index);
    if !call_fn(&s, OP_READ, r.u) || get_index(&s) != index {
        return r.json(404, b"null\n");
    }
    let Some(vals) = staged(r, &s, body) else { return };
    for (f, v) in &vals {
        store(f, v);
    }
    if !vals.is_empty() && call_fn(&s, OP_WRITE, r.u) {
        r.changed(p);
        r.json(200, format!("{}\n", vals.len()).as_bytes());
    } else {
        r.json(403, b"false\n");
    }
}

fn apply(r: &Req, body: &[u8]) {
    let Some(obj) = object(r, body) else { return };
    // Check everything first: an unknown set or a bad value changes nothing.
    let mut plan = Vec::new();
    for (key, val) in obj {
        let Some((p, s)) = find_set(&r.dash, key) else {
            let mut b = b"unknown set ".to_vec();
            b.extend_from_slice(key);
            b.push(b'\n');
            return r.json(404, &b);
        };
        if val.first() != Some(&b'{') {
            return r.json(400, b"bad JSON: each set's value must be an object\n");
        }
        let Some(vals) = staged(r, &s, val) else { return };
        plan.push((p, s, vals));
    }
    let mut total = 0;
    for (p, s, vals) in plan {
        if !call_fn(&s, OP_WRITE, r.u) {
            continue; // refused (Mongoose calls fn(WRITE) before and after writing)
        }
        for (f, v) in &vals {
            store(f, v);
        }
        if !vals.is_empty() {
            call_fn(&s, OP_WRITE, r.u);
            r.changed(p);
            total += vals.len();
        }
    }
    r.json(200, format!("{total}\n").as_bytes());
}

fn add(r: &Req, name: &[u8], body: &[u8]) {
    let Some((p, s)) = find_set(&r.dash, name).filter(|(_, s)| !s.index.is_null() && s.r#fn.is_some()) else {
        return r.json(404, b"null\n");
    };
    if object(r, body).is_none() {
        return;
    }
    let Some(vals) = staged(r, &s, body) else { return };
    for (f, v) in &vals {
        store(f, v);
    }
    if !vals.is_empty() && call_fn(&s, OP_ADD, r.u) {
        set_index(&s, -1);
        r.changed(p);
        r.json(200, b"true\n");
    } else {
        r.json(403, b"false\n");
    }
}

fn delete(r: &Req, name: &[u8], from: &[u8], to: Option<&[u8]>) {
    let Some((p, s)) = find_set(&r.dash, name).filter(|(_, s)| !s.index.is_null()) else {
        return r.json(404, b"null\n");
    };
    let (Some(from), Some(to)) = (
        core_dash::index(from),
        to.map_or(core_dash::index(from), core_dash::index),
    ) else {
        return r.json(400, b"bad index\n");
    };
    let mut count = 0;
    let mut i = from;
    while i <= to && count < MAX_ELEMS {
        set_index(&s, i);
        if s.r#fn.is_none() || !call_fn(&s, OP_DELETE, r.u) {
            break;
        }
        count += 1;
        i += 1;
    }
    if count > 0 {
        set_index(&s, -1);
        r.changed(p);
        r.json(200, format!("{count}\n").as_bytes());
    } else {
        r.json(403, b"false\n");
    }
}

/// `POST`/`PUT /fs/SET/NAME`, in `MG_EV_HTTP_HDRS`: the checks of [`file`], then the body
/// streamed into the file (`mg_http_start_upload`, so its size is not bound by
/// `http_max_body`), replacing it; [`upload_done`] answers. `Err`: the refusal to answer.
fn start_upload(r: &Req, set_name_: &[u8], name: &[u8]) -> Result<(), (u16, &'static [u8])> {
    let Some((_, s)) = find_set(&r.dash, set_name_).filter(|(_, s)| s.get_dir.is_some()) else {
        return Err((404, b"Not Found\n"));
    };
    if r.u.is_null() {
        return Err((403, b"Not Authorised\n"));
    }
    let name = crate::http::url_decode_vec(name, false).unwrap_or_default();
    if !core_dash::file_name_ok(&name) {
        return Err((400, b"Bad file name\n"));
    }
    set_file_name(&s, &name);
    if !call_fn(&s, OP_WRITE, r.u) {
        return Err((403, b"Not Authorised\n"));
    }
    let Some(dir) = call_get_dir(&s, r.u) else {
        return Err((500, b"Upload dir error\n"));
    };
    let fs = upload_fs(&r.dash);
    if let Some(cfs) = CFs::from_ptr(fs) {
        let mut path = dir.clone();
        path.push(b'/');
        path.extend_from_slice(&name);
        let _ = cfs.remove(&path); // the upload replaces the file (MG_FS_WRITE appends)
    }
    STARTING.lock().push(r.c.h);
    super::upload::mg_http_start_upload(
        r.c,
        r.hm,
        mg_str::from_bytes(&name),
        mg_str::from_bytes(&dir),
        fs,
        Some(upload_done),
    );
    STARTING.lock().retain(|&h| h != r.c.h);
    Ok(())
}

/// The outcome of a dashboard upload: `200 ok` and a change message for every file set, or
/// `500` with the reason.
unsafe extern "C" fn upload_done(c: mg_conn, err: *const c_char) {
    guard(|| {
        if STARTING.lock().contains(&c.h) {
            ANSWERED.lock().push(c.h);
        }
        let reply = |status: u16, headers: &[u8], body: &[u8]| {
            if let Ok((m, h)) = registry::conn(c) {
                let _ = m.http_reply(h, status, headers, body);
            }
        };
        if !err.is_null() {
            let why = cast::cstr_bytes_or_empty(err);
            let mut body = b"Write error: ".to_vec();
            body.extend_from_slice(why);
            body.push(b'\n');
            return reply(500, core_dash::JSON_HEADERS, &body);
        }
        reply(200, b"", b"ok\n");
        let dash = super::conn::mg_fn_data(c).cast::<mg_dash>();
        let (Ok(d), Ok((m, _))) = (cast::read(dash), registry::conn(c)) else {
            return;
        };
        for q in sets(&d) {
            if let Some(t) = cast::read(q).ok().filter(|t| t.get_dir.is_some()) {
                set_index(&t, -1);
                send_change(m, q);
            }
        }
    })
}

fn file(r: &Req, method: &[u8], set_name_: &[u8], name: &[u8], body: &[u8]) {
    let Some((p, s)) = find_set(&r.dash, set_name_).filter(|(_, s)| s.get_dir.is_some()) else {
        return r.json(404, b"Not Found\n");
    };
    if r.u.is_null() {
        return r.json(403, b"Not Authorised\n");
    }
    let name = crate::http::url_decode_vec(name, false).unwrap_or_default();
    if !core_dash::file_name_ok(&name) {
        return r.json(400, b"Bad file name\n");
    }
    let upload = method.eq_ignore_ascii_case(b"POST") || method.eq_ignore_ascii_case(b"PUT");
    let del = method.eq_ignore_ascii_case(b"DELETE");
    if upload || del {
        set_file_name(&s, &name);
        if !call_fn(&s, if upload { OP_WRITE } else { OP_DELETE }, r.u) {
            return r.json(403, b"Not Authorised\n");
        }
    }
    let Some(dir) = call_get_dir(&s, r.u) else {
        return r.json(500, b"Upload dir error\n");
    };
    let mut path = dir;
    path.push(b'/');
    path.extend_from_slice(&name);
    let fs = upload_fs(&r.dash);
    if upload {
        let pc = cstring(&path);
        if !mg_file_write(fs, pc.as_ptr().cast(), body.as_ptr().cast(), body.len()) {
            return r.json(500, b"Write error\n");
        }
        r.reply(200, b"", b"ok\n");
        for q in sets(&r.dash) {
            if let Some(t) = cast::read(q).ok().filter(|t| t.get_dir.is_some()) {
                set_index(&t, -1);
                r.changed(q);
            }
        }
    } else if del {
        if let Some(cfs) = CFs::from_ptr(fs) {
            let _ = cfs.remove(&path);
        }
        set_index(&s, -1);
        r.changed(p);
        r.reply(200, b"", b"true");
    } else {
        r.serve(&path, fs);
    }
}

fn custom(r: &Req, uri: &[u8], ev_data: *mut c_void) {
    let mut p = r.dash.custom_handlers;
    for _ in 0..MAX_SETS {
        let Ok(ch) = cast::read(p) else { break };
        if crate::util::str::match_glob(uri, cast::mg_str_lenient(ch.uri_pattern), None) {
            if let Some(f) = ch.handler {
                // SAFETY: the firmware's handler, called as an event handler of `c` with the
                // request's own `ev_data`; no lock held.
                unsafe { f(r.c, MG_EV_HTTP_MSG, ev_data) };
                return;
            }
        }
        p = ch.next;
    }
    r.json(404, b"Not Found");
}

/// The listener closed: end the dashboard's sessions and free the guest meerkat made.
fn listener_closed(dash: *mut mg_dash) {
    for u in users_of(dash) {
        delete_user(u);
    }
    let Ok(d) = cast::as_mut(dash) else { return };
    let g = d.guest as usize;
    let ours = {
        let mut guests = GUESTS.lock();
        let found = guests.contains(&g);
        guests.retain(|&x| x != g);
        found
    };
    if ours && g != 0 {
        SOCKETS
            .lock()
            .iter_mut()
            .filter(|s| s.user == g)
            .for_each(|s| s.user = 0);
        d.guest = core::ptr::null_mut();
        cast::c_free(user_ptr(g).cast());
    }
}

/// The dashboard's event handler (Mongoose 7.22: `mg_dash_ev_handler`): pass it to
/// `mg_http_listen` with a `struct mg_dash *` as `fn_data`. Serves the REST endpoints (see
/// docs/porting.md, "Device dashboard"), upgrades `/api/websocket` for change notifications,
/// and calls the dashboard's custom handlers for other URIs. File uploads start in
/// `MG_EV_HTTP_HDRS` and are streamed into the file (any size, as in 7.22); every other
/// request is answered in `MG_EV_HTTP_MSG` (7.22 answered login and refusals earlier).
/// Difference from 7.22: malformed JSON, values that do not fit their variable and unknown
/// sets are refused with `400`/`404` and change nothing. Owner thread.
#[no_mangle]
pub extern "C" fn mg_dash_ev_handler(c: mg_conn, ev: c_int, ev_data: *mut c_void) {
    guard(|| {
        let dash = super::conn::mg_fn_data(c).cast::<mg_dash>();
        if dash.is_null() {
            return;
        }
        if ev == MG_EV_HTTP_HDRS {
            handle_hdrs(c, dash, ev_data.cast());
        } else if ev == MG_EV_HTTP_MSG {
            let skip = {
                let mut a = ANSWERED.lock();
                let before = a.len();
                a.retain(|&h| h != c.h);
                a.len() != before
            };
            if !skip {
                handle_msg(c, dash, ev_data.cast(), ev_data);
            }
        } else if ev == MG_EV_CLOSE {
            SOCKETS.lock().retain(|s| s.conn != c.h);
            ANSWERED.lock().retain(|&h| h != c.h);
            let listening = registry::conn(c).is_ok_and(|(m, h)| m.info(h).is_ok_and(|i| i.is_listening));
            if listening {
                listener_closed(dash);
            }
        }
    })
}

/// Tell the manager's dashboard WebSockets that `set` changed (Mongoose 7.22): for an array
/// set with `*set->index < 0` the new size (`{"method":"change","params":{"SET":N}}`), for an
/// array set the element at `*set->index` (key `"SET/INDEX"`), else the set's values. The
/// set's callback is called with `MG_DASH_READ` for each recipient's session, as in 7.22;
/// `*set->index` is restored. Owner thread of `mgr`.
#[no_mangle]
pub extern "C" fn mg_dash_send_change(mgr: *mut mg_mgr, set: *mut mg_field_set) {
    guard(|| {
        if let Ok(m) = registry::mgr(mgr) {
            send_change(m, set);
        }
    })
}

/// Read a file-array set's element `*set->index` from its directory (`set->get_dir`) in the
/// dashboard's `upload_fs` (default `mg_fs_posix`): the entry's name into the field `"name"`
/// (`MG_VAL_STR`, truncated to its `value_size`), its size into the field `"size"`
/// (`MG_VAL_UINT64` or `MG_VAL_INT`), or `*set->index = -1` past the end. With
/// `*set->index == -1` on entry, sets it to the number of entries. False when `get_dir`
/// fails or the set has no `"name"` string field. Owner thread.
#[no_mangle]
pub extern "C" fn mg_dash_dir_read(set: *mut mg_field_set, u: *mut mg_dash_user) -> bool {
    guard(|| dir_read(set, u))
}
