//! File systems for C with Mongoose 7.22's names: `struct mg_fs` (a table of functions),
//! `mg_fs_posix` and `mg_fs_packed`, `mg_mem_files` and `mg_unpacked`, `mg_fs_open/close/ls`,
//! `mg_file_read/write` (and `mg_file_printf` in the C shim); and [`CFs`], which turns any C
//! `struct mg_fs *` (one of these, or the firmware's own over LittleFS, FatFS...) into the
//! core's [`Fs`] for the static-file server.
//!
//! `mg_fs_posix` here calls the C library (`stat`, `opendir`, `fopen`...) directly through
//! `libc`; `mg_fs_packed` is the core's [`Packed`] over the C table `mg_mem_files`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_uchar, c_void, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

use super::cast;
use super::guard;
use super::types::mg_str;
use crate::fs::packed::{Entry, Packed, Table};
use crate::fs::{File, Fs, Stat, FS_READ, FS_WRITE};
use crate::Error;

extern crate alloc;

/// Mongoose's `MG_FS_READ`: open for reading; in a stat result, the path exists.
pub const MG_FS_READ: c_int = 1;
/// Mongoose's `MG_FS_WRITE`: open for writing (`mg_fs_posix`: created if missing, appended to).
pub const MG_FS_WRITE: c_int = 2;
/// Mongoose's `MG_FS_DIR`: in a stat result, the path is a directory.
pub const MG_FS_DIR: c_int = 4;
/// Mongoose's `MG_FS_EXCL`: with `MG_FS_WRITE`, fail if the file exists.
pub const MG_FS_EXCL: c_int = 8;

/// `fn(name, arg)`, called by `mg_fs.ls` for each directory entry.
pub type mg_fs_ls_fn = Option<unsafe extern "C" fn(name: *const c_char, arg: *mut c_void)>;

/// A file system as a table of functions (Mongoose 7.22's `struct mg_fs`, same layout).
/// Fill every member to plug in a file system of your own; a NULL member makes that
/// operation fail.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_fs {
    /// Stat: `MG_FS_*` flags (0 if `path` does not exist); `size`, `mtime` may be NULL.
    pub st: Option<unsafe extern "C" fn(path: *const c_char, size: *mut usize, mtime: *mut libc::time_t) -> c_int>,
    /// List a directory: `fn(name, arg)` for each entry.
    pub ls: Option<unsafe extern "C" fn(path: *const c_char, f: mg_fs_ls_fn, arg: *mut c_void)>,
    /// Open with `MG_FS_*` flags; an opaque file, or NULL.
    pub op: Option<unsafe extern "C" fn(path: *const c_char, flags: c_int) -> *mut c_void>,
    /// Close.
    pub cl: Option<unsafe extern "C" fn(fd: *mut c_void)>,
    /// Read up to `len` bytes; how many were read (0 at the end).
    pub rd: Option<unsafe extern "C" fn(fd: *mut c_void, buf: *mut c_void, len: usize) -> usize>,
    /// Write `len` bytes; how many were written.
    pub wr: Option<unsafe extern "C" fn(fd: *mut c_void, buf: *const c_void, len: usize) -> usize>,
    /// Seek to `offset` from the start; the new position.
    pub sk: Option<unsafe extern "C" fn(fd: *mut c_void, offset: usize) -> usize>,
    /// Rename.
    pub mv: Option<unsafe extern "C" fn(from: *const c_char, to: *const c_char) -> bool>,
    /// Delete a file.
    pub rm: Option<unsafe extern "C" fn(path: *const c_char) -> bool>,
    /// Create a directory.
    pub mkd: Option<unsafe extern "C" fn(path: *const c_char) -> bool>,
}

/// An open file of `mg_fs_open` (Mongoose's `struct mg_fd`): the file system's own handle and
/// the file system. Free it with `mg_fs_close`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_fd {
    /// The handle `fs->op` returned.
    pub fd: *mut c_void,
    /// The file system it belongs to.
    pub fs: *mut mg_fs,
}

/// One file of a packed web root (Mongoose 7.22's `struct mg_mem_file`), as `scripts/pack.py`
/// generates them in `mg_packed_files[]`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mg_mem_file {
    /// Absolute path, such as `/web_root/index.html`; NULL ends the table.
    pub path: *const c_char,
    /// Contents.
    pub data: *const c_uchar,
    /// Size in bytes.
    pub size: usize,
    /// Modification time (0 when unknown).
    pub mtime: libc::time_t,
}

/// The table `mg_fs_packed` serves (Mongoose 7.22's `mg_mem_files`): NULL, or an array ended by
/// an entry whose `path` is NULL. Firmware activates its packed web root with
/// `mg_mem_files = mg_packed_files;`. The table and the files must stay valid and unchanged
/// while they are in use (pack.py's are static constants). Declared in the C trailer.
///
/// cbindgen:ignore
#[no_mangle]
pub static mg_mem_files: AtomicPtr<mg_mem_file> = AtomicPtr::new(core::ptr::null_mut());

/// Most entries read from `mg_mem_files` (a bound on a table without its terminator).
const MAX_PACKED: usize = 1 << 20;

/// The C table `mg_mem_files` as the core's packed [`Table`], its length counted once.
pub struct CTable {
    base: *const mg_mem_file,
    len: usize,
}

impl CTable {
    /// The table `mg_mem_files` points to now.
    pub fn current() -> CTable {
        let base = mg_mem_files.load(Ordering::Acquire).cast_const();
        let mut len = 0;
        if !base.is_null() {
            // SAFETY: by `mg_mem_files`'s contract, `base` is an array ended by a NULL path.
            while len < MAX_PACKED && !unsafe { (*base.add(len)).path }.is_null() {
                len += 1;
            }
        }
        CTable { base, len }
    }
}

impl Table for CTable {
    fn entry(&self, i: usize) -> Option<Entry> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i` is before the terminator counted in `current`; the entries and what they
        // point to are static by `mg_mem_files`'s contract.
        let e = unsafe { *self.base.add(i) };
        let path = unsafe { CStr::from_ptr(e.path) }.to_bytes();
        let data: &'static [u8] = cast::slice(e.data.cast(), e.size).ok()?;
        Some(Entry {
            path,
            data,
            mtime: u64::try_from(e.mtime).unwrap_or(0),
        })
    }
}

/// `mg_unpacked(path)`: the contents of the packed file `path` in `mg_mem_files` (not a copy),
/// or `{NULL, 0}`. Any thread.
#[no_mangle]
pub extern "C" fn mg_unpacked(path: *const c_char) -> mg_str {
    guard(|| {
        let Ok(p) = cast::cstr_bytes(path) else {
            return mg_str::EMPTY;
        };
        Packed::new(CTable::current())
            .find(p)
            .map_or(mg_str::EMPTY, |e| mg_str::from_bytes(e.data))
    })
}

// ---- Rust files behind a C handle: `Box<Box<dyn File>>` as `void *`.

fn file_into_raw(f: Box<dyn File>) -> *mut c_void {
    Box::into_raw(Box::new(f)).cast()
}

/// # Safety
/// `fd` is NULL or came from [`file_into_raw`] and is not closed.
unsafe fn file_mut<'a>(fd: *mut c_void) -> Option<&'a mut Box<dyn File>> {
    unsafe { fd.cast::<Box<dyn File>>().as_mut() }
}

unsafe extern "C" fn rust_cl(fd: *mut c_void) {
    guard(|| {
        if !fd.is_null() {
            // SAFETY: `fd` came from `file_into_raw` (the `op` of this table) and is closed once.
            drop(unsafe { Box::from_raw(fd.cast::<Box<dyn File>>()) });
        }
    })
}

unsafe extern "C" fn rust_rd(fd: *mut c_void, buf: *mut c_void, len: usize) -> usize {
    guard(|| {
        // SAFETY: as in `rust_cl`.
        let (Some(f), Ok(out)) = (unsafe { file_mut(fd) }, cast::slice_mut(buf, len)) else {
            return 0;
        };
        f.read(out).unwrap_or(0)
    })
}

unsafe extern "C" fn rust_wr(fd: *mut c_void, buf: *const c_void, len: usize) -> usize {
    guard(|| {
        // SAFETY: as in `rust_cl`.
        let (Some(f), Ok(data)) = (unsafe { file_mut(fd) }, cast::slice(buf, len)) else {
            return 0;
        };
        f.write(data).unwrap_or(0)
    })
}

unsafe extern "C" fn rust_sk(fd: *mut c_void, offset: usize) -> usize {
    guard(|| {
        // SAFETY: as in `rust_cl`.
        let Some(f) = (unsafe { file_mut(fd) }) else {
            return 0;
        };
        if f.seek(offset as u64).is_ok() {
            offset
        } else {
            0
        }
    })
}

// ---- mg_fs_packed

fn stat_flags(s: Option<Stat>, size: *mut usize, mtime: *mut libc::time_t) -> c_int {
    let Some(s) = s else {
        return 0;
    };
    cast::write_opt(size, usize::try_from(s.size).unwrap_or(usize::MAX));
    cast::write_opt(mtime, libc::time_t::try_from(s.mtime).unwrap_or(0));
    if s.dir {
        MG_FS_DIR
    } else {
        MG_FS_READ
    }
}

unsafe extern "C" fn packed_st(path: *const c_char, size: *mut usize, mtime: *mut libc::time_t) -> c_int {
    guard(|| {
        let Ok(p) = cast::cstr_bytes(path) else {
            return 0;
        };
        stat_flags(Packed::new(CTable::current()).stat(p), size, mtime)
    })
}

unsafe extern "C" fn packed_ls(path: *const c_char, f: mg_fs_ls_fn, arg: *mut c_void) {
    guard(|| {
        let (Ok(p), Some(f)) = (cast::cstr_bytes(path), f) else {
            return;
        };
        let mut name = Vec::new();
        Packed::new(CTable::current()).list(p, &mut |n| {
            name.clear();
            name.extend_from_slice(n);
            crate::util::push_byte(&mut name, 0);
            // SAFETY: `f` is the caller's listing callback; `name` is NUL-terminated and
            // lives through the call.
            unsafe { f(name.as_ptr().cast(), arg) }
        });
    })
}

unsafe extern "C" fn packed_op(path: *const c_char, flags: c_int) -> *mut c_void {
    guard(|| {
        let Ok(p) = cast::cstr_bytes(path) else {
            return core::ptr::null_mut();
        };
        match Packed::new(CTable::current()).open(p, flags as u32) {
            Ok(f) => file_into_raw(f),
            Err(_) => core::ptr::null_mut(),
        }
    })
}

unsafe extern "C" fn refuse_mv(_from: *const c_char, _to: *const c_char) -> bool {
    false
}

unsafe extern "C" fn refuse_path(_path: *const c_char) -> bool {
    false
}

/// The read-only file system over `mg_mem_files` (Mongoose 7.22's `mg_fs_packed`): pass
/// `&mg_fs_packed` as `opts.fs` or to `mg_fs_open`/`mg_file_read`.
#[no_mangle]
pub static mut mg_fs_packed: mg_fs = mg_fs {
    st: Some(packed_st),
    ls: Some(packed_ls),
    op: Some(packed_op),
    cl: Some(rust_cl),
    rd: Some(rust_rd),
    wr: Some(rust_wr),
    sk: Some(rust_sk),
    mv: Some(refuse_mv),
    rm: Some(refuse_path),
    mkd: Some(refuse_path),
};

// ---- mg_fs_posix, on the C library.

unsafe extern "C" fn posix_st(path: *const c_char, size: *mut usize, mtime: *mut libc::time_t) -> c_int {
    guard(|| {
        if cast::cstr_bytes(path).is_err() {
            return 0;
        }
        // SAFETY: `path` is a NUL-terminated string (checked above); `st` is written by stat.
        let mut st: libc::stat = unsafe { core::mem::zeroed() };
        if unsafe { libc::stat(path, &mut st) } != 0 {
            return 0;
        }
        let dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        let s = Stat {
            size: if dir { 0 } else { st.st_size as u64 },
            mtime: st.st_mtime as i64,
            dir,
            regular: st.st_mode & libc::S_IFMT == libc::S_IFREG,
            ..Stat::default()
        };
        stat_flags(Some(s), size, mtime) | if dir { 0 } else { MG_FS_WRITE }
    })
}

unsafe extern "C" fn posix_ls(path: *const c_char, f: mg_fs_ls_fn, arg: *mut c_void) {
    guard(|| {
        let (Ok(_), Some(f)) = (cast::cstr_bytes(path), f) else {
            return;
        };
        // SAFETY: `path` is NUL-terminated; the DIR stream is closed below and each entry's
        // name is read before the next readdir.
        let dir = unsafe { libc::opendir(path) };
        if dir.is_null() {
            return;
        }
        loop {
            let ent = unsafe { libc::readdir(dir) };
            if ent.is_null() {
                break;
            }
            let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
            if name.to_bytes() != b"." && name.to_bytes() != b".." {
                unsafe { f(name.as_ptr(), arg) }
            }
        }
        unsafe { libc::closedir(dir) };
    })
}

// fdopen's modes, NUL-terminated, as statics rather than c"..." literals: LLVM pools every
// NUL-terminated literal of the library into one `.rodata.str1.1`, which GNU ld keeps whole
// as soon as one is used (scripts/merge_pools.py lists the pools).
static MODE_APPEND: [u8; 4] = *b"a+b\0";
static MODE_READ: [u8; 3] = *b"rb\0";

unsafe extern "C" fn posix_op(path: *const c_char, flags: c_int) -> *mut c_void {
    guard(|| {
        if cast::cstr_bytes(path).is_err() {
            return core::ptr::null_mut();
        }
        // As Mongoose: writing appends to the file (created if missing), so that chunked
        // uploads (mg_http_upload) continue it; mg_file_write writes a fresh temporary file.
        let write = flags & MG_FS_WRITE != 0;
        let oflags = if write {
            libc::O_RDWR | libc::O_CREAT | libc::O_APPEND
        } else {
            libc::O_RDONLY
        } | if write && flags & MG_FS_EXCL != 0 {
            libc::O_EXCL
        } else {
            0
        } | libc::O_CLOEXEC;
        let mode: &[u8] = if write { &MODE_APPEND } else { &MODE_READ };
        // SAFETY: `path` is NUL-terminated; the descriptor is handed to fdopen or closed.
        let fd = unsafe { libc::open(path, oflags, 0o644 as libc::c_uint) };
        if fd < 0 {
            return core::ptr::null_mut();
        }
        let fp = unsafe { libc::fdopen(fd, mode.as_ptr().cast()) };
        if fp.is_null() {
            unsafe { libc::close(fd) };
        }
        fp.cast()
    })
}

unsafe extern "C" fn posix_cl(fd: *mut c_void) {
    guard(|| {
        if !fd.is_null() {
            // SAFETY: `fd` is a FILE* from `posix_op`, closed once.
            unsafe { libc::fclose(fd.cast()) };
        }
    })
}

unsafe extern "C" fn posix_rd(fd: *mut c_void, buf: *mut c_void, len: usize) -> usize {
    guard(|| {
        if fd.is_null() || cast::slice_mut(buf, len).is_err() {
            return 0;
        }
        // SAFETY: `fd` is an open FILE* from `posix_op`; `buf` holds `len` bytes (checked).
        unsafe { libc::fread(buf, 1, len, fd.cast()) }
    })
}

unsafe extern "C" fn posix_wr(fd: *mut c_void, buf: *const c_void, len: usize) -> usize {
    guard(|| {
        if fd.is_null() || cast::slice(buf, len).is_err() {
            return 0;
        }
        // SAFETY: as in `posix_rd`.
        unsafe { libc::fwrite(buf, 1, len, fd.cast()) }
    })
}

unsafe extern "C" fn posix_sk(fd: *mut c_void, offset: usize) -> usize {
    guard(|| {
        let Ok(off) = libc::c_long::try_from(offset) else {
            return 0;
        };
        if fd.is_null() {
            return 0;
        }
        // SAFETY: `fd` is an open FILE* from `posix_op`.
        if unsafe { libc::fseek(fd.cast(), off, libc::SEEK_SET) } == 0 {
            offset
        } else {
            0
        }
    })
}

unsafe extern "C" fn posix_mv(from: *const c_char, to: *const c_char) -> bool {
    guard(|| {
        if cast::cstr_bytes(from).is_err() || cast::cstr_bytes(to).is_err() {
            return false;
        }
        // SAFETY: both are NUL-terminated strings.
        unsafe { libc::rename(from, to) == 0 }
    })
}

unsafe extern "C" fn posix_rm(path: *const c_char) -> bool {
    guard(|| {
        // SAFETY: `path` is NUL-terminated when cstr_bytes accepts it.
        cast::cstr_bytes(path).is_ok() && unsafe { libc::remove(path) == 0 }
    })
}

unsafe extern "C" fn posix_mkd(path: *const c_char) -> bool {
    guard(|| {
        // SAFETY: as in `posix_rm`.
        cast::cstr_bytes(path).is_ok() && unsafe { libc::mkdir(path, 0o775) == 0 }
    })
}

/// The operating system's file system through the C library (Mongoose 7.22's `mg_fs_posix`).
#[no_mangle]
pub static mut mg_fs_posix: mg_fs = mg_fs {
    st: Some(posix_st),
    ls: Some(posix_ls),
    op: Some(posix_op),
    cl: Some(posix_cl),
    rd: Some(posix_rd),
    wr: Some(posix_wr),
    sk: Some(posix_sk),
    mv: Some(posix_mv),
    rm: Some(posix_rm),
    mkd: Some(posix_mkd),
};

// ---- Any C file system as the core's Fs.

/// A C `struct mg_fs` as the core's [`Fs`]: what the static-file server uses for the `fs`
/// field of `mg_http_serve_opts`. Every call goes through the table's function pointers.
///
/// `mg_http_serve_dir`/`_file` (src/ffi/serve.rs) use it for an `opts.fs` other than
/// `mg_fs_posix` (served by `sys::PosixFs`, with `sendfile`): `mg_fs_packed` too, whose
/// functions read the core's [`Packed`] over `mg_mem_files`.
pub struct CFs {
    fs: mg_fs,
}

/// `path` with a NUL, or `None` if it holds one.
fn c_path(path: &[u8]) -> Option<Vec<u8>> {
    // The platform's search, not `contains`: that links core's `memchr` (~240 B).
    if crate::util::memchr(0, path).is_some() {
        return None;
    }
    let mut v = Vec::with_capacity(path.len() + 1);
    v.extend_from_slice(path);
    crate::util::push_byte(&mut v, 0);
    Some(v)
}

impl CFs {
    /// The file system `fs` points to (copied: the table must not change while in use), or
    /// `None` for NULL. `fs` must point to a valid `struct mg_fs` whose functions behave as
    /// that struct documents.
    pub fn from_ptr(fs: *const mg_fs) -> Option<CFs> {
        cast::read(fs).ok().map(|fs| CFs { fs })
    }

    /// Whether `fs` is `&mg_fs_posix`, or a copy of it (`struct mg_fs my = mg_fs_posix;`):
    /// the server uses its own POSIX implementation for it, which resolves symbolic links
    /// (a copy taken through [`CFs`] would be confined lexically only) and has `sendfile`.
    /// Only the entries the server calls are compared (`st`, `op`, and `ls` where it lists
    /// directories: feature `dirlist`), also for the original: naming `mg_fs_posix` here
    /// would link all of its functions into every program that serves files.
    pub fn is_posix(fs: *const mg_fs) -> bool {
        cast::read(fs).is_ok_and(|t| {
            // Addresses of functions of this crate, not generic: each has one.
            t.st.map(|f| f as *const () as usize) == Some(posix_st as *const () as usize)
                && t.op.map(|f| f as *const () as usize) == Some(posix_op as *const () as usize)
                && (cfg!(not(feature = "dirlist"))
                    || t.ls.map(|f| f as *const () as usize) == Some(posix_ls as *const () as usize))
        })
    }
}

/// A file open in a C file system; closed when dropped.
struct CFile {
    fs: mg_fs,
    fd: *mut c_void,
}

impl File for CFile {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let rd = self.fs.rd.ok_or(Error::Unsupported)?;
        // SAFETY: `fd` is open in this table's file system; `buf` is writable for its length.
        let n = unsafe { rd(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
        Ok(n.min(buf.len()))
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let wr = self.fs.wr.ok_or(Error::Unsupported)?;
        // SAFETY: as in `read`.
        let n = unsafe { wr(self.fd, buf.as_ptr().cast(), buf.len()) };
        Ok(n.min(buf.len()))
    }

    fn seek(&mut self, offset: u64) -> Result<(), Error> {
        let sk = self.fs.sk.ok_or(Error::Unsupported)?;
        let off = usize::try_from(offset).map_err(|_| Error::Invalid)?;
        // SAFETY: as in `read`.
        if unsafe { sk(self.fd, off) } == off {
            Ok(())
        } else {
            Err(Error::Io)
        }
    }
}

impl Drop for CFile {
    fn drop(&mut self) {
        if let Some(cl) = self.fs.cl {
            // SAFETY: `fd` is open in this file system and closed once, here.
            unsafe { cl(self.fd) }
        }
    }
}

unsafe extern "C" fn collect_name(name: *const c_char, arg: *mut c_void) {
    guard(|| {
        // SAFETY: `arg` is the `&mut dyn FnMut` that `CFs::list` passed to `ls`, alive for
        // the call.
        let f = unsafe { &mut *arg.cast::<&mut dyn FnMut(&[u8])>() };
        if let Ok(n) = cast::cstr_bytes(name) {
            f(n);
        }
    })
}

impl Fs for CFs {
    fn stat(&self, path: &[u8]) -> Option<Stat> {
        let st = self.fs.st?;
        let p = c_path(path)?;
        let (mut size, mut mtime): (usize, libc::time_t) = (0, 0);
        // SAFETY: `p` is NUL-terminated; the out-pointers are locals.
        let flags = unsafe { st(p.as_ptr().cast(), &mut size, &mut mtime) };
        (flags != 0).then(|| {
            let dir = flags & MG_FS_DIR != 0;
            Stat {
                size: if dir { 0 } else { size as u64 },
                // `time_t` is 32 bits on some targets (older newlib).
                #[allow(clippy::unnecessary_cast)]
                mtime: mtime as i64,
                dir,
                // `struct mg_fs` tells directories from files only.
                regular: !dir,
                ..Stat::default()
            }
        })
    }

    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8])) {
        let (Some(ls), Some(p)) = (self.fs.ls, c_path(dir)) else {
            return;
        };
        let mut f: &mut dyn FnMut(&[u8]) = f;
        // SAFETY: `p` is NUL-terminated; `collect_name` gets back the pointer to `f`, which
        // outlives the call.
        unsafe { ls(p.as_ptr().cast(), Some(collect_name), (&raw mut f).cast()) }
    }

    fn open(&self, path: &[u8], flags: u32) -> Result<Box<dyn File>, Error> {
        let op = self.fs.op.ok_or(Error::Unsupported)?;
        let p = c_path(path).ok_or(Error::Invalid)?;
        let cflags =
            (if flags & FS_READ != 0 { MG_FS_READ } else { 0 }) | if flags & FS_WRITE != 0 { MG_FS_WRITE } else { 0 };
        // SAFETY: `p` is NUL-terminated.
        let fd = unsafe { op(p.as_ptr().cast(), cflags) };
        if fd.is_null() {
            return Err(Error::Io);
        }
        Ok(Box::new(CFile { fs: self.fs, fd }))
    }

    fn rename(&self, from: &[u8], to: &[u8]) -> Result<(), Error> {
        let mv = self.fs.mv.ok_or(Error::Unsupported)?;
        let (a, b) = (c_path(from).ok_or(Error::Invalid)?, c_path(to).ok_or(Error::Invalid)?);
        // SAFETY: both NUL-terminated.
        unsafe { mv(a.as_ptr().cast(), b.as_ptr().cast()) }
            .then_some(())
            .ok_or(Error::Io)
    }

    fn remove(&self, path: &[u8]) -> Result<(), Error> {
        let rm = self.fs.rm.ok_or(Error::Unsupported)?;
        let p = c_path(path).ok_or(Error::Invalid)?;
        // SAFETY: NUL-terminated.
        unsafe { rm(p.as_ptr().cast()) }.then_some(()).ok_or(Error::Io)
    }

    fn mkdir(&self, path: &[u8]) -> Result<(), Error> {
        let mkd = self.fs.mkd.ok_or(Error::Unsupported)?;
        let p = c_path(path).ok_or(Error::Invalid)?;
        // SAFETY: NUL-terminated.
        unsafe { mkd(p.as_ptr().cast()) }.then_some(()).ok_or(Error::Io)
    }
}

// ---- The mg_fs_* and mg_file_* calls.

/// `mg_fs_open(fs, path, flags)`: open `path` in `fs` with `MG_FS_*` flags. A `struct mg_fd`
/// to pass to `fs->rd(fd->fd, ...)` etc. and to free with `mg_fs_close`, or NULL. Any thread
/// (as the file system allows).
// `path` is checked to be a C string before it goes to the file system's `op`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn mg_fs_open(fs: *mut mg_fs, path: *const c_char, flags: c_int) -> *mut mg_fd {
    guard(|| {
        let (Ok(t), Ok(_)) = (cast::read(fs.cast_const()), cast::cstr_bytes(path)) else {
            return core::ptr::null_mut();
        };
        let Some(op) = t.op else {
            return core::ptr::null_mut();
        };
        // SAFETY: `path` is NUL-terminated; `op` is the file system's open.
        let fd = unsafe { op(path, flags) };
        if fd.is_null() {
            return core::ptr::null_mut();
        }
        let out = cast::c_calloc(1, core::mem::size_of::<mg_fd>()).cast::<mg_fd>();
        if out.is_null() {
            if let Some(cl) = t.cl {
                // SAFETY: close what was just opened.
                unsafe { cl(fd) };
            }
            return core::ptr::null_mut();
        }
        // SAFETY: `out` is a fresh allocation of the right size and alignment (calloc).
        unsafe { out.write(mg_fd { fd, fs }) };
        out
    })
}

/// `mg_fs_close(fd)`: close a file of `mg_fs_open` and free `fd`. NULL is ignored. Any thread.
#[no_mangle]
pub extern "C" fn mg_fs_close(fd: *mut mg_fd) {
    guard(|| {
        let Ok(d) = cast::read(fd.cast_const()) else {
            return;
        };
        if let Ok(t) = cast::read(d.fs.cast_const()) {
            if let Some(cl) = t.cl {
                // SAFETY: `d.fd` was opened by this file system and is closed once, here.
                unsafe { cl(d.fd) };
            }
        }
        cast::c_free(fd.cast());
    })
}

/// `mg_fs_ls(fs, path, buf, len)`: iterate over directory `path`. Start with `buf` holding an
/// empty string; each call puts the name of the next entry in `buf` (NUL-terminated,
/// truncated to `len - 1` bytes) and returns true, or returns false when there are no more.
/// As Mongoose: the position is the name in `buf`, so entries must have distinct names.
#[no_mangle]
pub extern "C" fn mg_fs_ls(fs: *mut mg_fs, path: *const c_char, buf: *mut c_char, len: usize) -> bool {
    guard(|| {
        let (Some(cfs), Ok(p), Ok(out)) = (
            CFs::from_ptr(fs),
            cast::cstr_bytes(path),
            cast::slice_mut(buf.cast(), len),
        ) else {
            return false;
        };
        if out.is_empty() {
            return false;
        }
        let prev_len = out.iter().position(|&b| b == 0).unwrap_or(out.len() - 1);
        let prev = out[..prev_len].to_vec();
        let (mut found_prev, mut next): (bool, Option<Vec<u8>>) = (prev.is_empty(), None);
        cfs.list(p, &mut |n| {
            if next.is_some() {
                return;
            }
            let n = &n[..n.len().min(len - 1)];
            if found_prev {
                next = Some(n.to_vec());
            } else if n == prev.as_slice() {
                found_prev = true;
            }
        });
        match next {
            Some(n) => {
                out[..n.len()].copy_from_slice(&n);
                out[n.len()] = 0;
                true
            }
            None => {
                out[0] = 0;
                false
            }
        }
    })
}

/// `mg_file_read(fs, path)`: the whole file in memory from `malloc`, NUL-terminated (free it
/// with `mg_free` or `free`), or `{NULL, 0}`. Any thread (as the file system allows).
#[no_mangle]
pub extern "C" fn mg_file_read(fs: *mut mg_fs, path: *const c_char) -> mg_str {
    guard(|| {
        let (Some(cfs), Ok(p)) = (CFs::from_ptr(fs), cast::cstr_bytes(path)) else {
            return mg_str::EMPTY;
        };
        let Some(st) = cfs.stat(p).filter(|s| !s.dir) else {
            return mg_str::EMPTY;
        };
        let Ok(mut f) = cfs.open(p, FS_READ) else {
            return mg_str::EMPTY;
        };
        let Ok(size) = usize::try_from(st.size) else {
            return mg_str::EMPTY;
        };
        let Some(cap) = size.checked_add(1) else {
            return mg_str::EMPTY;
        };
        let buf = cast::c_malloc(cap).cast::<u8>();
        let Ok(out) = cast::slice_mut(buf.cast(), cap) else {
            return mg_str::EMPTY;
        };
        let n = f.read_full(&mut out[..size]);
        out[n] = 0;
        mg_str {
            buf: buf.cast(),
            len: n,
        }
    })
}

/// A temporary name next to `path`: `path` + `..` + 8 random hex digits.
fn temp_name(path: &[u8]) -> Vec<u8> {
    let mut r = [0u8; 4];
    crate::util::clock::random(&mut r);
    let mut v = path.to_vec();
    v.extend_from_slice(b"..");
    for b in r {
        crate::util::push_byte(&mut v, crate::util::str::HEX_LOWER[usize::from(b >> 4)]);
        crate::util::push_byte(&mut v, crate::util::str::HEX_LOWER[usize::from(b & 15)]);
    }
    v
}

/// `mg_file_write(fs, path, buf, len)`: replace `path` with `len` bytes, atomically: written to
/// a temporary file next to it, then renamed over it. False on any failure (the temporary
/// file is removed). Any thread (as the file system allows).
#[no_mangle]
pub extern "C" fn mg_file_write(fs: *mut mg_fs, path: *const c_char, buf: *const c_void, len: usize) -> bool {
    guard(|| {
        let (Some(cfs), Ok(p), Ok(data)) = (CFs::from_ptr(fs), cast::cstr_bytes(path), cast::slice(buf, len)) else {
            return false;
        };
        let tmp = temp_name(p);
        let written = match cfs.open(&tmp, FS_WRITE) {
            Ok(mut f) => f.write_all(data) == data.len(),
            Err(_) => return false,
        };
        if written && cfs.rename(&tmp, p).is_ok() {
            return true;
        }
        let _ = cfs.remove(&tmp);
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FS_DIR;

    #[test]
    fn fs_dir_flag_matches_the_core() {
        assert_eq!(MG_FS_DIR as u32, FS_DIR);
        assert_eq!(MG_FS_READ as u32, FS_READ);
        assert_eq!(MG_FS_WRITE as u32, FS_WRITE);
    }

    /// The path a C file system's functions get: NUL-terminated, and refused (the call
    /// fails, nothing reaches C) when a NUL inside it would cut it short there.
    #[test]
    fn c_path_is_nul_terminated_and_refuses_inner_nuls() {
        assert_eq!(c_path(b"/www/a.txt").as_deref(), Some(&b"/www/a.txt\0"[..]));
        assert_eq!(c_path(b"").as_deref(), Some(&b"\0"[..]));
        assert_eq!(c_path(b"/www/a.txt\0.html"), None);
        assert_eq!(c_path(b"\0"), None);
    }
}
