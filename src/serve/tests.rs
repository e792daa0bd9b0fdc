//! Replies of `serve_dir` / `serve_file` on a real directory tree (no sockets).

use super::*;
use std::fs;
use std::path::{Path, PathBuf};

/// [`super::serve_dir`] on the OS file system with a fresh root cache.
fn serve_dir(req: &Request<'_>, root: &[u8], opts: &Options<'_>) -> Reply {
    super::serve_dir(req, &crate::sys::PosixFs, &mut RootCache::default(), root, opts)
}

/// [`super::serve_file`] on the OS file system.
fn serve_file(req: &Request<'_>, path: &Path, opts: &Options<'_>) -> Reply {
    super::serve_file(req, &crate::sys::PosixFs, path.as_os_str().as_encoded_bytes(), opts)
}

fn bytes(p: PathBuf) -> Vec<u8> {
    p.into_os_string().into_encoded_bytes()
}

struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        let base = std::env::temp_dir().join(format!("meerkat-serve-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(base.join("www/sub")).unwrap();
        fs::create_dir_all(base.join("www/empty")).unwrap();
        fs::create_dir_all(base.join("other")).unwrap();
        fs::write(base.join("www/hello.txt"), b"hello world\n").unwrap();
        fs::write(base.join("www/app.js"), b"let x = 1;\n").unwrap();
        fs::write(base.join("www/app.js.gz"), b"GZ-BYTES").unwrap();
        fs::write(base.join("www/sub/index.html"), b"<h1>sub</h1>").unwrap();
        fs::write(base.join("www/empty.bin"), b"").unwrap();
        fs::write(base.join("other/o.txt"), b"other").unwrap();
        fs::write(base.join("secret"), b"TOP SECRET").unwrap();
        fs::write(base.join("404.html"), b"<p>missing</p>").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(base.join("secret"), base.join("www/escape")).unwrap();
        Tree(base)
    }
    fn root(&self) -> Vec<u8> {
        self.0.join("www").into_os_string().into_encoded_bytes()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn get<'a>(uri: &'a str, headers: &[(&'a str, &'a str)]) -> Request<'a> {
    Request {
        method: b"GET",
        uri: uri.as_bytes(),
        query: b"",
        headers: Vec::leak(headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect()),
    }
}

fn head_str(r: &Reply) -> String {
    String::from_utf8(r.head.clone()).unwrap()
}

fn field(r: &Reply, name: &str) -> Option<String> {
    head_str(r)
        .split("\r\n")
        .skip(1)
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

fn body(r: Reply) -> Vec<u8> {
    match r.body {
        None => Vec::new(),
        Some((mut file, offset, len)) => {
            file.seek(offset).unwrap();
            let mut v = vec![0u8; len as usize];
            let mut got = 0;
            while got < v.len() {
                let n = file.read(&mut v[got..]).unwrap();
                assert!(n > 0, "file ended early");
                got += n;
            }
            v
        }
    }
}

#[test]
fn plain_file() {
    let t = Tree::new("plain");
    let r = serve_dir(&get("/hello.txt", &[]), &t.root(), &Options::default());
    assert_eq!(r.status, 200);
    let h = head_str(&r);
    assert!(h.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n"));
    assert!(h.contains("\r\nAccept-Ranges: bytes\r\n"));
    assert!(h.ends_with("\r\n\r\n"));
    assert!(!h.contains("Vary"));
    let tag = field(&r, "ETag").unwrap();
    assert!(tag.starts_with('"') && tag.ends_with("-c\""), "{tag}");
    #[cfg(feature = "http-dates")]
    assert!(date::parse(field(&r, "Last-Modified").unwrap().as_bytes()).is_some());
    #[cfg(not(feature = "http-dates"))]
    assert!(field(&r, "Last-Modified").is_none(), "{h}");
    assert_eq!(body(r), b"hello world\n");
}

#[test]
fn traversal_is_refused() {
    let t = Tree::new("trav");
    for uri in [
        "/../secret",
        "/%2e%2e/secret",
        "/..%2fsecret",
        "/sub/../../secret",
        "/%00",
        "/..\\secret",
    ] {
        let r = serve_dir(&get(uri, &[]), &t.root(), &Options::default());
        assert_eq!(r.status, 400, "{uri}");
        assert!(!body(r).windows(6).any(|w| w == b"SECRET"));
    }
    #[cfg(unix)]
    {
        let r = serve_dir(&get("/escape", &[]), &t.root(), &Options::default());
        assert_eq!(r.status, 404);
        assert_eq!(body(r), b"Not found\n");
    }
}

#[test]
fn directories() {
    let t = Tree::new("dirs");
    let mut req = get("/sub", &[]);
    req.query = b"a=1";
    let r = serve_dir(&req, &t.root(), &Options::default());
    assert_eq!(r.status, 301);
    assert_eq!(field(&r, "Location").unwrap(), "/sub/?a=1");
    assert_eq!(field(&r, "Content-Length").unwrap(), "0");

    let r = serve_dir(&get("/sub/", &[]), &t.root(), &Options::default());
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/html; charset=utf-8");
    assert_eq!(body(r), b"<h1>sub</h1>");

    // No index: the listing, without the symlink that leads out of the root.
    let r = serve_dir(&get("/empty/", &[]), &t.root(), &Options::default());
    #[cfg(not(feature = "dirlist"))]
    assert_eq!(
        (r.status, body(r)),
        (403, b"Forbidden\n".to_vec()),
        "as Mongoose without MG_ENABLE_DIRLIST"
    );
    #[cfg(feature = "dirlist")]
    {
        assert_eq!(r.status, 200);
        assert_eq!(field(&r, "Content-Type").unwrap(), "text/html; charset=utf-8");
        let page = String::from_utf8(body(r)).unwrap();
        assert!(page.contains("<title>Index of /empty/</title>"), "{page}");
        let r = serve_dir(&get("/", &[]), &t.root(), &Options::default());
        let page = String::from_utf8(body(r)).unwrap();
        assert!(page.contains("<a href=\"hello.txt\">hello.txt</a>"), "{page}");
        assert!(page.contains("<a href=\"sub/\">sub/</a>"), "{page}");
        assert!(!page.contains("escape"), "{page}");
    }

    let r = serve_dir(&get("/hello.txt/", &[]), &t.root(), &Options::default());
    assert_eq!(r.status, 404);
}

#[test]
fn not_found_page() {
    let t = Tree::new("nf");
    let page = bytes(t.0.join("404.html"));
    let opts = Options {
        page404: Some(&page),
        ..Default::default()
    };
    let r = serve_dir(&get("/nope", &[]), &t.root(), &opts);
    assert_eq!(r.status, 404);
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/html; charset=utf-8");
    assert_eq!(body(r), b"<p>missing</p>");
    let missing = bytes(t.0.join("missing-404.html"));
    let opts = Options {
        page404: Some(&missing),
        ..Default::default()
    };
    let r = serve_dir(&get("/nope", &[]), &t.root(), &opts);
    assert_eq!((r.status, body(r)), (404, b"Not found\n".to_vec()));
}

#[test]
fn methods() {
    let t = Tree::new("meth");
    let mut req = get("/hello.txt", &[]);
    req.method = b"POST";
    let r = serve_dir(&req, &t.root(), &Options::default());
    assert_eq!(r.status, 405);
    assert_eq!(field(&r, "Allow").unwrap(), "GET, HEAD");
    req.method = b"HEAD";
    let r = serve_dir(&req, &t.root(), &Options::default());
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Length").unwrap(), "12");
}

#[test]
fn conditionals_and_ranges() {
    let t = Tree::new("cond");
    let root = t.root();
    let o = Options::default();
    let r = serve_dir(&get("/hello.txt", &[]), &root, &o);
    let tag = field(&r, "ETag").unwrap();

    let r = serve_dir(&get("/hello.txt", &[("If-None-Match", &tag)]), &root, &o);
    assert_eq!(r.status, 304);
    assert_eq!(field(&r, "ETag").unwrap(), tag);
    assert!(field(&r, "Content-Length").is_none());
    #[cfg(feature = "http-dates")]
    let lm = field(&r, "Last-Modified").unwrap();
    assert!(body(r).is_empty());
    #[cfg(feature = "http-dates")]
    {
        let r = serve_dir(&get("/hello.txt", &[("If-Modified-Since", &lm)]), &root, &o);
        assert_eq!(r.status, 304);
        let r = serve_dir(
            &get("/hello.txt", &[("If-None-Match", "\"x\""), ("If-Modified-Since", &lm)]),
            &root,
            &o,
        );
        assert_eq!(r.status, 200, "If-None-Match takes precedence");
        let r = serve_dir(
            &get("/hello.txt", &[("Range", "bytes=0-1"), ("If-Range", &lm)]),
            &root,
            &o,
        );
        assert_eq!(r.status, 206);
    }
    // Without the feature the date fields are ignored, and an If-Range date never matches.
    #[cfg(not(feature = "http-dates"))]
    for (name, value) in [
        ("If-Modified-Since", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ] {
        let r = serve_dir(&get("/hello.txt", &[(name, value)]), &root, &o);
        assert_eq!(r.status, 200, "{name}");
        let r = serve_dir(
            &get("/hello.txt", &[("Range", "bytes=0-1"), ("If-Range", value)]),
            &root,
            &o,
        );
        assert_eq!(r.status, 200, "If-Range {value}");
    }
    let r = serve_dir(&get("/hello.txt", &[("If-Match", "\"x\"")]), &root, &o);
    assert_eq!(r.status, 412);

    let r = serve_dir(&get("/hello.txt", &[("Range", "bytes=6-")]), &root, &o);
    assert_eq!(r.status, 206);
    assert_eq!(field(&r, "Content-Range").unwrap(), "bytes 6-11/12");
    assert_eq!(field(&r, "Content-Length").unwrap(), "6");
    assert_eq!(body(r), b"world\n");
    let r = serve_dir(&get("/hello.txt", &[("Range", "bytes=-3")]), &root, &o);
    assert_eq!(body(r), b"ld\n");
    let r = serve_dir(&get("/hello.txt", &[("Range", "bytes=12-")]), &root, &o);
    assert_eq!(r.status, 416);
    assert_eq!(field(&r, "Content-Range").unwrap(), "bytes */12");
    let r = serve_dir(&get("/hello.txt", &[("Range", "bytes=0-1,3-4")]), &root, &o);
    assert_eq!(r.status, 200);
    let r = serve_dir(
        &get("/hello.txt", &[("Range", "bytes=0-1"), ("If-Range", &tag)]),
        &root,
        &o,
    );
    assert_eq!(r.status, 206);
    let r = serve_dir(
        &get("/hello.txt", &[("Range", "bytes=0-1"), ("If-Range", "\"old\"")]),
        &root,
        &o,
    );
    assert_eq!(r.status, 200);
    let r = serve_dir(&get("/empty.bin", &[("Range", "bytes=0-")]), &root, &o);
    assert_eq!(
        (r.status, field(&r, "Content-Range").unwrap()),
        (416, "bytes */0".into())
    );
    let r = serve_dir(&get("/empty.bin", &[]), &root, &o);
    assert_eq!((r.status, field(&r, "Content-Length").unwrap()), (200, "0".into()));

    let mut head = get("/hello.txt", &[("Range", "bytes=0-1")]);
    head.method = b"HEAD";
    assert_eq!(serve_dir(&head, &root, &o).status, 200, "Range is for GET only");
}

#[test]
fn precompressed() {
    let t = Tree::new("gz");
    let root = t.root();
    let o = Options::default();
    let r = serve_dir(&get("/app.js", &[("Accept-Encoding", "br, gzip")]), &root, &o);
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Encoding").unwrap(), "gzip");
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/javascript; charset=utf-8");
    assert_eq!(field(&r, "Vary").unwrap(), "Accept-Encoding");
    let gz_tag = field(&r, "ETag").unwrap();
    assert!(gz_tag.ends_with("-gz\""));
    assert_eq!(body(r), b"GZ-BYTES");

    let r = serve_dir(&get("/app.js", &[]), &root, &o);
    assert!(field(&r, "Content-Encoding").is_none());
    assert_eq!(field(&r, "Vary").unwrap(), "Accept-Encoding");
    assert_ne!(field(&r, "ETag").unwrap(), gz_tag);
    assert_eq!(body(r), b"let x = 1;\n");

    // The gzip tag validates only the gzip representation.
    let r = serve_dir(&get("/app.js", &[("If-None-Match", &gz_tag)]), &root, &o);
    assert_eq!(r.status, 200);
    let r = serve_dir(
        &get("/app.js", &[("If-None-Match", &gz_tag), ("Accept-Encoding", "gzip")]),
        &root,
        &o,
    );
    assert_eq!(r.status, 304);
    assert_eq!(field(&r, "Vary").unwrap(), "Accept-Encoding");

    // A path too long for the name's stack copy finds its sibling the same way.
    let long = "d".repeat(240);
    fs::create_dir_all(t.0.join("www").join(&long)).unwrap();
    fs::write(t.0.join("www").join(&long).join("app.js.gz"), b"LONG-GZ").unwrap();
    let uri = format!("/{long}/app.js");
    let r = serve_dir(&get(&uri, &[("Accept-Encoding", "gzip")]), &root, &o);
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Encoding").unwrap(), "gzip");
    assert_eq!(body(r), b"LONG-GZ");
}

#[test]
fn mounts_and_extra_headers() {
    let t = Tree::new("mnt");
    let spec = [
        t.root(),
        b",/o=".to_vec(),
        t.0.join("other").into_os_string().into_encoded_bytes(),
    ]
    .concat();
    let o = Options {
        extra_headers: extra_headers(b"X-A: 1\r\nX-B: 2").unwrap(),
        mime_types: b"txt=text/x-custom",
        page404: None,
        ssi_pattern: b"",
    };
    let r = serve_dir(&get("/o/o.txt", &[]), &spec, &o);
    assert_eq!(r.status, 200);
    assert!(head_str(&r).ends_with("X-A: 1\r\nX-B: 2\r\n\r\n"));
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/x-custom");
    assert_eq!(body(r), b"other");
    let r = serve_dir(&get("/hello.txt", &[]), &spec, &o);
    assert_eq!(body(r), b"hello world\n");
    let r = serve_dir(&get("/o/hello.txt", &[]), &spec, &o);
    assert_eq!(r.status, 404);
    assert!(
        head_str(&r).ends_with("X-A: 1\r\nX-B: 2\r\n\r\n"),
        "extra headers on errors too"
    );
}

#[test]
fn serve_file_ignores_roots() {
    let t = Tree::new("file");
    let r = serve_file(&get("/whatever", &[]), &t.0.join("secret"), &Options::default());
    assert_eq!(r.status, 200);
    assert_eq!(body(r), b"TOP SECRET");
    let r = serve_file(&get("/x", &[]), &t.0.join("www"), &Options::default());
    assert_eq!(r.status, 404, "a directory is not a file");
    let r = serve_file(&get("/x", &[]), &t.0.join("nothing"), &Options::default());
    assert_eq!(r.status, 404);
}

/// A file system that has every path as a regular file and refuses to open any: the OS's
/// permission error (`Unsupported` at the `Fs` seam).
struct Refusing;

impl Fs for Refusing {
    fn stat(&self, _p: &[u8]) -> Option<Stat> {
        Some(Stat {
            size: 1,
            regular: true,
            ..Stat::default()
        })
    }
    fn list(&self, _dir: &[u8], _f: &mut dyn FnMut(&[u8])) {}
    fn open(&self, _p: &[u8], _flags: u32) -> Result<Box<dyn File>, crate::Error> {
        Err(crate::Error::Unsupported)
    }
}

#[test]
fn a_file_the_os_refuses_is_403_and_one_it_cannot_find_404() {
    let r = super::serve_file(&get("/x", &[]), &Refusing, b"/x", &Options::default());
    assert_eq!((r.status, body(r)), (403, b"Forbidden\n".to_vec()));
    // The same through the `.gz` sibling: it is not opened (refused), the file is (refused).
    let r = super::serve_file(
        &get("/x", &[("Accept-Encoding", "gzip")]),
        &Refusing,
        b"/x",
        &Options::default(),
    );
    assert_eq!(r.status, 403);
    let t = Tree::new("refuse");
    let r = serve_file(
        &get("/x", &[("Accept-Encoding", "gzip")]),
        &t.0.join("nothing"),
        &Options::default(),
    );
    assert_eq!((r.status, body(r)), (404, b"Not found\n".to_vec()));
}

/// What a reply head carries of `extra`: the lines [`super::Head::end`] writes, without the
/// empty line that ends the head.
fn written(extra: super::Extra<'_>) -> Vec<u8> {
    let o = Options {
        extra_headers: extra,
        ..Options::default()
    };
    let mut v = super::Head(Vec::new()).end(&o);
    assert!(v.ends_with(b"\r\n"));
    v.truncate(v.len() - 2);
    v
}

#[test]
fn extra_headers_validation() {
    assert_eq!(written(extra_headers(b"").unwrap()), b"");
    assert_eq!(written(extra_headers(b"A: b").unwrap()), b"A: b\r\n");
    assert_eq!(
        written(extra_headers(b"A: b\r\nC: d\r\n").unwrap()),
        b"A: b\r\nC: d\r\n"
    );
    for bad in [
        &b"A: b\r\n\r\nbody"[..],
        b"A: b\nC: d",
        b"A: b\rC: d",
        b"no colon",
        b": empty name",
        b" A: folded",
        b"\r\n",
        b"A: b\0",
        // A bare CR at the end, where the missing CRLF is added: "A: b\r\r\n".
        b"A: b\r",
        b"A: b\r\r\n",
        b"A: b\r\nC: d\r",
        b"A: b\n",
        // Names are tokens: no whitespace before the colon; values hold no control bytes.
        b"A : b",
        b"Bad Name: 1",
        b"A: b\x01",
        b"A: b\x7f\r\n",
    ] {
        assert!(extra_headers(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
    }
}

/// G6 for the header parsers here (they see raw request fields), and what each promises.
mod props {
    #[cfg(feature = "http-dates")]
    use super::super::date;
    use super::super::{cond, extra_headers, mime, path, range};
    use proptest::prelude::*;

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    proptest! {
        #[cfg(feature = "http-dates")]
        #[test]
        fn date_parse_total_and_round_trips(s in bytes(40), t in 0i64..=253_402_300_799) {
            if let Some(d) = date::parse(&s) {
                prop_assert_eq!(date::parse(date::format(d).as_bytes()), Some(d));
            }
            prop_assert_eq!(date::parse(date::format(t).as_bytes()), Some(t));
        }

        #[test]
        fn range_parts_lie_in_the_file(v in "[bytes= ,0-9-]{0,24}", raw in bytes(24), len in 0u64..50) {
            for v in [v.as_bytes(), &raw[..]] {
                if let range::Ranged::Part { start, end } = range::evaluate(v, len) {
                    prop_assert!(start <= end && end < len, "{:?} on {len}: {start}-{end}", v);
                }
            }
        }

        #[test]
        fn conditions_total(a in bytes(40), b in bytes(40), tag in "\"[0-9a-f.-]{1,12}\"", mtime: i64) {
            let c = cond::Conditions {
                if_match: Some(&a),
                #[cfg(feature = "http-dates")]
                if_unmodified_since: Some(&b),
                if_none_match: Some(&b),
                #[cfg(feature = "http-dates")]
                if_modified_since: Some(&a),
            };
            let _ = cond::evaluate(&c, tag.as_bytes(), mtime);
            let _ = cond::if_range_allows(&a, tag.as_bytes(), mtime);
            let _ = cond::accepts_gzip(Some(&a));
        }

        #[test]
        fn mime_types_fit_a_header(name in bytes(20), extra in "[a-z.=, /\r\n\t]{0,40}") {
            let t = mime::lookup(&name, extra.as_bytes());
            prop_assert!(!t.is_empty() && t.iter().all(|&c| c == b'\t' || (0x20..0x7f).contains(&c)));
        }

        #[test]
        fn decoded_paths_are_safe(raw in "(/|%2[eEfF]|%5[cC]|%00|\\.|a|%)*", junk in bytes(20)) {
            for raw in [raw.as_bytes(), &junk[..]] {
                if let Ok(p) = path::decode(raw) {
                    prop_assert!(!p.path.starts_with(b"/") && !p.path.ends_with(b"/"));
                    prop_assert!(!p.path.windows(2).any(|w| w == b"//"));
                    for s in p.segments() {
                        prop_assert!(!s.is_empty() && s != b"." && s != b"..");
                        prop_assert!(!s.iter().any(|&c| c == b'/' || c == b'\\' || c == 0));
                    }
                }
            }
        }

        #[test]
        fn accepted_extra_headers_are_crlf_lines(lines in proptest::collection::vec(
            ("[A-Z ][a-z]{0,2}", ":? ?[a-z]{0,2}", prop_oneof![Just("\r\n"), Just("\r"), Just("\n"), Just(""), Just("\0")]),
            0..4,
        )) {
            let raw: String = lines.iter().map(|(n, v, end)| format!("{n}{v}{end}")).collect();
            if let Some(out) = extra_headers(raw.as_bytes()).map(super::written) {
                prop_assert!(out.is_empty() || out.ends_with(b"\r\n"));
                for (i, &c) in out.iter().enumerate() {
                    prop_assert!(c != 0);
                    prop_assert!(c != b'\r' || out.get(i + 1) == Some(&b'\n'), "bare CR in {:?}", out);
                    prop_assert!(c != b'\n' || (i > 0 && out[i - 1] == b'\r'), "bare LF in {:?}", out);
                }
            }
        }
    }
}

#[test]
fn allocation_free_formatters_match_the_formatting_ones() {
    for (size, s, ns, gz) in [
        (0u64, 0i64, 0u32, false),
        (1024, 1_700_000_000, 123_456_789, true),
        (u64::MAX, -1, 999_999_999, false),
        (15, i64::MIN, 1, true),
    ] {
        assert_eq!(
            &*super::cond::etag_buf(size, s, ns, gz),
            super::cond::etag(size, s, ns, gz)
        );
    }
    #[cfg(feature = "http-dates")]
    for secs in [
        0i64,
        1,
        86_399,
        951_782_400,
        1_700_000_000,
        253_402_300_799,
        -1,
        -62_167_219_201,
    ] {
        let mut out = Vec::new();
        super::date::format_to(secs, &mut out);
        assert_eq!(out, super::date::format(secs).as_bytes(), "{secs}");
    }
}

#[test]
fn join_matches_pathbuf_push() {
    for (dir, rest) in [
        ("/srv/www", vec![b"a".to_vec(), b"b c.txt".to_vec()]),
        ("/", vec![b"x".to_vec()]),
        ("/srv/www/", vec![b"x".to_vec(), b"y".to_vec()]),
        ("rel", vec![]),
    ] {
        let mut want = PathBuf::from(dir);
        for s in &rest {
            want.push(std::str::from_utf8(s).unwrap());
        }
        assert_eq!(super::path::join(dir.as_bytes(), &rest.join(&b'/')), bytes(want));
    }
}

#[test]
fn the_root_is_resolved_once_per_manager_and_again_when_it_changes() {
    let t = Tree::new("rootcache");
    let site = bytes(t.0.join("site"));
    std::os::unix::fs::symlink(t.0.join("www"), t.0.join("site")).unwrap();
    let mut cache = RootCache::default();
    let fs_ = crate::sys::PosixFs;
    let mut get_at = |uri: &str| {
        let r = super::serve_dir(&get(uri, &[]), &fs_, &mut cache, &site, &Options::default());
        (r.status, body(r), cache.entries.len())
    };
    assert_eq!(get_at("/hello.txt"), (200, b"hello world\n".to_vec(), 1));
    assert_eq!(get_at("/hello.txt"), (200, b"hello world\n".to_vec(), 1));
    // The root re-pointed: its stat changes, it is resolved again, the new tree is served.
    fs::remove_file(t.0.join("site")).unwrap();
    std::os::unix::fs::symlink(t.0.join("other"), t.0.join("site")).unwrap();
    assert_eq!(get_at("/o.txt"), (200, b"other".to_vec(), 1));
    assert_eq!(get_at("/hello.txt").0, 404);
    // Gone: 404; back: served.
    fs::remove_file(t.0.join("site")).unwrap();
    assert_eq!(get_at("/o.txt").0, 404);
    std::os::unix::fs::symlink(t.0.join("www"), t.0.join("site")).unwrap();
    assert_eq!(get_at("/hello.txt").0, 200);
    assert_eq!(
        cache.entries[0].canon,
        bytes(fs::canonicalize(t.0.join("www")).unwrap())
    );
}

/// The cache is keyed by directory: one directory alone (found again by its whole text),
/// the same directory in a list of mounts, and a text that only looks like a directory (a
/// `=` in it makes it `/prefix=dir`) are each served as the walk of the text says.
#[test]
fn root_dir_texts_share_the_cache_by_directory() {
    let t = Tree::new("rootspecs");
    let www = t.root();
    let eq_dir = t.0.join("a=b");
    fs::create_dir_all(&eq_dir).unwrap();
    fs::write(eq_dir.join("e.txt"), b"eq").unwrap();
    let eq = bytes(eq_dir);
    let mut multi = www.clone();
    multi.extend_from_slice(b",/o=");
    multi.extend_from_slice(&bytes(t.0.join("other")));
    let mut mounted = b"/e=".to_vec();
    mounted.extend_from_slice(&eq);
    let mut cache = RootCache::default();
    let fs_ = crate::sys::PosixFs;
    let mut at = |spec: &[u8], uri: &str| {
        let r = super::serve_dir(&get(uri, &[]), &fs_, &mut cache, spec, &Options::default());
        (r.status, body(r))
    };
    let hello = (200, b"hello world\n".to_vec());
    assert_eq!(at(&www, "/hello.txt"), hello);
    assert_eq!(at(&www, "/hello.txt"), hello);
    assert_eq!(at(&multi, "/o/o.txt"), (200, b"other".to_vec()));
    assert_eq!(at(&multi, "/hello.txt"), hello);
    assert_eq!(at(&www, "/o/o.txt").0, 404);
    assert_eq!(at(&www, "/hello.txt"), hello);
    assert_eq!(at(&mounted, "/e/e.txt"), (200, b"eq".to_vec()));
    for _ in 0..2 {
        assert_eq!(at(&eq, "/e.txt").0, 404);
    }
    assert_eq!(cache.entries.len(), 3);
}

/// A packed web root with a gzip-only file, an SSI page and a directory without index.
static PACKED: [crate::fs::packed::Entry; 5] = [
    crate::fs::packed::Entry {
        path: b"/web/index.html.gz",
        data: b"\x1f\x8bINDEX",
        mtime: 1_700_000_000,
    },
    crate::fs::packed::Entry {
        path: b"/web/app.js.gz",
        data: b"\x1f\x8bAPP",
        mtime: 1_700_000_000,
    },
    crate::fs::packed::Entry {
        path: b"/web/page.shtml",
        data: b"<p><!--#include file=\"inc/part.txt\" -->|<!--#include virtual=\"/inc/part.txt\" --></p>",
        mtime: 0,
    },
    crate::fs::packed::Entry {
        path: b"/web/inc/part.txt",
        data: b"PART",
        mtime: 0,
    },
    crate::fs::packed::Entry {
        path: b"/web/inc/more.txt",
        data: b"more",
        mtime: 0,
    },
];

#[test]
fn packed_gzip_only_files() {
    let fs = crate::fs::packed::Packed::new(&PACKED[..]);
    let mut cache = RootCache::default();
    let gz = [("Accept-Encoding", "gzip, deflate")];
    let r = super::serve_dir(&get("/app.js", &gz), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Encoding").unwrap(), "gzip");
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/javascript; charset=utf-8");
    assert_eq!(body(r), b"\x1f\x8bAPP");
    let r = super::serve_dir(&get("/app.js", &[]), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(r.status, 404);
    let r = super::serve_dir(&get("/", &gz), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/html; charset=utf-8");
    assert_eq!(body(r), b"\x1f\x8bINDEX");
    let r = super::serve_dir(&get("/inc/", &[]), &fs, &mut cache, b"/web", &Options::default());
    #[cfg(feature = "dirlist")]
    {
        assert_eq!(r.status, 200);
        let page = String::from_utf8(body(r)).unwrap();
        assert!(page.contains("<a href=\"more.txt\">more.txt</a>"), "{page}");
    }
    #[cfg(not(feature = "dirlist"))]
    assert_eq!(r.status, 403);
    let r = super::serve_dir(&get("/inc", &[]), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(r.status, 301);
    assert_eq!(field(&r, "Location").unwrap(), "/inc/");
}

#[cfg(feature = "ssi")]
#[test]
fn ssi_pattern_expands_matching_files() {
    let fs = crate::fs::packed::Packed::new(&PACKED[..]);
    let mut cache = RootCache::default();
    let opts = Options {
        ssi_pattern: b"#.shtml",
        ..Default::default()
    };
    let r = super::serve_dir(&get("/page.shtml", &[]), &fs, &mut cache, b"/web", &opts);
    assert_eq!(r.status, 200);
    assert_eq!(field(&r, "Content-Type").unwrap(), "text/html; charset=utf-8");
    assert_eq!(body(r), b"<p>PART|PART</p>");
    // Not matching: sent as it is.
    let r = super::serve_dir(&get("/page.shtml", &[]), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(body(r), PACKED[2].data);
}

/// Without the `ssi` feature a matching file is `501`, as in Mongoose without SSI.
#[cfg(not(feature = "ssi"))]
#[test]
fn ssi_pattern_without_the_feature_is_501() {
    let fs = crate::fs::packed::Packed::new(&PACKED[..]);
    let mut cache = RootCache::default();
    let opts = Options {
        ssi_pattern: b"#.shtml",
        ..Default::default()
    };
    let r = super::serve_dir(&get("/page.shtml", &[]), &fs, &mut cache, b"/web", &opts);
    assert_eq!(r.status, 501);
    assert_eq!(body(r), b"SSI not enabled\n");
    let r = super::serve_dir(&get("/page.shtml", &[]), &fs, &mut cache, b"/web", &Options::default());
    assert_eq!(body(r), PACKED[2].data);
}

#[cfg(feature = "ssi")]
#[test]
fn ssi_includes_stay_in_the_root() {
    let t = Tree::new("ssi");
    fs::write(
        t.0.join("www/p.shtml"),
        b"[<!--#include file=\"escape\" -->][<!--#include file=\"hello.txt\" -->]",
    )
    .unwrap();
    let opts = Options {
        ssi_pattern: b"#.shtml",
        ..Default::default()
    };
    let r = serve_dir(&get("/p.shtml", &[]), &t.root(), &opts);
    assert_eq!(r.status, 200);
    assert_eq!(body(r), b"[][hello world\n]");
}

/// `Reply::plain` (the head may skip the response framer) is said of file replies only, and
/// not when the application's extra headers speak of framing or of the connection.
#[test]
fn file_replies_are_plain_unless_extra_headers_frame() {
    let t = Tree::new("plain");
    let root = t.root();
    for (extra, plain) in [
        (&b""[..], true),
        (b"X-A: 1\r\nCache-Control: no-cache", true),
        (b"X-A: 1\r\nconnection: close", false),
        (b"Content-Length: 3", false),
        (b"Transfer-Encoding: chunked\r\n", false),
    ] {
        let o = Options {
            extra_headers: extra_headers(extra).unwrap(),
            ..Options::default()
        };
        let r = serve_dir(&get("/hello.txt", &[]), &root, &o);
        assert_eq!(
            (r.status, r.plain),
            (200, plain),
            "{:?}",
            String::from_utf8_lossy(extra)
        );
        let r = serve_dir(&get("/hello.txt", &[("Range", "bytes=0-1")]), &root, &o);
        assert_eq!((r.status, r.plain), (206, plain));
        let r = serve_dir(&get("/missing", &[]), &root, &o);
        assert_eq!((r.status, r.plain), (404, false), "a text body");
    }
}

/// `PosixFs` with its `open_beneath` replaced: the three ways a path below the root is
/// confined on Linux (`openat2`; the walk used without it; `realpath` alone, as before
/// `open_beneath`, and for every path with a link).
#[cfg(target_os = "linux")]
struct Tier(Option<OpenBeneath>);

/// An `open_beneath` (root, path below it).
#[cfg(target_os = "linux")]
type OpenBeneath = fn(&[u8], &[u8]) -> crate::fs::Beneath;

#[cfg(target_os = "linux")]
impl Fs for Tier {
    fn stat(&self, p: &[u8]) -> Option<Stat> {
        crate::sys::PosixFs.stat(p)
    }
    fn list(&self, dir: &[u8], f: &mut dyn FnMut(&[u8])) {
        crate::sys::PosixFs.list(dir, f)
    }
    fn open(&self, p: &[u8], flags: u32) -> Result<Box<dyn File>, crate::Error> {
        crate::sys::PosixFs.open(p, flags)
    }
    fn canonical(&self, p: &[u8]) -> Option<Vec<u8>> {
        crate::sys::PosixFs.canonical(p)
    }
    fn has_links(&self) -> bool {
        true
    }
    fn open_beneath(&self, root: &[u8], rel: &[u8]) -> crate::fs::Beneath {
        match self.0 {
            Some(f) => f(root, rel),
            None => crate::fs::Beneath::Unknown,
        }
    }
}

#[cfg(target_os = "linux")]
fn tiers() -> [(&'static str, Tier); 3] {
    [
        ("openat2", Tier(Some(|r, l| crate::sys::PosixFs.open_beneath(r, l)))),
        ("walk", Tier(Some(crate::sys::open_walk_for_tests))),
        ("realpath", Tier(None)),
    ]
}

/// Links inside the root are followed, links out of it (to files, to directories, relative
/// or absolute, for a request, an index file or a `.gz` sibling) are not found, whichever
/// way the path was confined: the kernel's (`openat2`, or the walk without it) or
/// `realpath`'s. The replies are the same bytes.
#[cfg(target_os = "linux")]
#[test]
fn every_way_of_confining_serves_the_same_files() {
    use std::os::unix::fs::symlink;
    let t = Tree::new("tiers");
    let w = t.0.join("www/links");
    fs::create_dir_all(w.join("idx")).unwrap();
    fs::write(w.join("app.js"), b"plain app").unwrap();
    fs::write(w.join("in.js"), b"plain in").unwrap();
    fs::write(w.join("idx/index.htm"), b"<p>htm</p>").unwrap();
    symlink("../hello.txt", w.join("rel-in")).unwrap();
    symlink(t.0.join("www/hello.txt"), w.join("abs-in")).unwrap();
    symlink("../../secret", w.join("rel-out")).unwrap();
    symlink(t.0.join("secret"), w.join("abs-out")).unwrap();
    symlink("../sub", w.join("dir-in")).unwrap();
    symlink("../../other", w.join("dir-out")).unwrap();
    symlink(t.0.join("other"), w.join("dir-out-abs")).unwrap();
    symlink("../../www/sub", w.join("back")).unwrap();
    symlink(t.0.join("secret"), w.join("app.js.gz")).unwrap();
    symlink("../app.js.gz", w.join("in.js.gz")).unwrap();
    symlink(t.0.join("secret"), w.join("idx/index.html")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(w.join("fifo")).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let gz = [("Accept-Encoding", "gzip")];
    // A directory without an index: its listing, or 403 without the feature.
    const LIST: u16 = if cfg!(feature = "dirlist") { 200 } else { 403 };
    const LISTED: &str = if cfg!(feature = "dirlist") {
        "hello.txt"
    } else {
        "Forbidden\n"
    };
    // (target, header fields, status, a text the body contains)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: &[Case<'_>] = &[
        ("/hello.txt", &[], 200, "hello world\n"),
        ("/sub/", &[], 200, "<h1>sub</h1>"),
        ("/sub", &[], 301, ""),
        ("/", &[], LIST, LISTED),
        ("/nope", &[], 404, "Not found\n"),
        ("/hello.txt/x", &[], 404, "Not found\n"),
        ("/hello.txt/", &[], 404, "Not found\n"),
        ("/sub/../hello.txt", &[], 400, "Bad request\n"),
        ("/links/rel-in", &[], 200, "hello world\n"),
        ("/links/abs-in", &[], 200, "hello world\n"),
        ("/links/rel-in/", &[], 404, "Not found\n"),
        ("/links/rel-out", &[], 404, "Not found\n"),
        ("/links/abs-out", &[], 404, "Not found\n"),
        ("/escape", &[], 404, "Not found\n"),
        ("/links/dir-in/", &[], 200, "<h1>sub</h1>"),
        ("/links/dir-in/index.html", &[], 200, "<h1>sub</h1>"),
        ("/links/dir-in", &[], 301, ""),
        ("/links/back/index.html", &[], 200, "<h1>sub</h1>"),
        ("/links/dir-out/o.txt", &[], 404, "Not found\n"),
        ("/links/dir-out/", &[], 404, "Not found\n"),
        ("/links/dir-out-abs/o.txt", &[], 404, "Not found\n"),
        ("/links/app.js", &gz, 200, "plain app"),
        ("/links/in.js", &gz, 200, "GZ-BYTES"),
        ("/links/in.js", &[], 200, "plain in"),
        ("/app.js", &gz, 200, "GZ-BYTES"),
        ("/links/idx/", &[], 200, "<p>htm</p>"),
        ("/links/fifo", &[], 404, "Not found\n"),
        ("/links/", &[], LIST, if LIST == 200 { "rel-in" } else { LISTED }),
    ];
    let mut replies: Vec<Vec<(u16, String, Vec<u8>)>> = Vec::new();
    for (name, fs_) in tiers() {
        let mut cache = RootCache::default();
        let mut got = Vec::new();
        for &(uri, headers, status, text) in cases {
            let r = super::serve_dir(&get(uri, headers), &fs_, &mut cache, &t.root(), &Options::default());
            let (st, head) = (r.status, head_str(&r));
            let b = body(r);
            let s = String::from_utf8_lossy(&b);
            assert_eq!(st, status, "{name}: {uri}: {head}{s}");
            assert!(s.contains(text), "{name}: {uri}: {s}");
            assert!(!s.contains("SECRET") && !s.contains("other"), "{name}: {uri}: {s}");
            // The sibling `.gz` is announced only when it is served from inside the root.
            assert_eq!(
                head.contains("Vary"),
                uri.ends_with("in.js") || uri == "/app.js",
                "{name}: {uri}"
            );
            got.push((st, head, b));
        }
        // The listing leaves out what leads out of the root.
        #[cfg(feature = "dirlist")]
        let listing = String::from_utf8(got.last().unwrap().2.clone()).unwrap();
        #[cfg(feature = "dirlist")]
        assert!(
            !listing.contains("rel-out") && !listing.contains("dir-out"),
            "{listing}"
        );
        replies.push(got);
    }
    assert!(replies[1] == replies[0] && replies[2] == replies[0]);
}

/// The root is confined on every request, not only when it was cached: a root moved away
/// and replaced by a link to its new place (whose `stat`, through the link, has not
/// changed) is refused, as `realpath` refuses it, whichever way paths are confined.
#[cfg(target_os = "linux")]
#[test]
fn a_root_turned_into_a_link_is_seen_on_the_next_request() {
    for (name, fs_) in tiers() {
        let t = Tree::new(&format!("rootlink-{name}"));
        let root = bytes(fs::canonicalize(t.0.join("www")).unwrap());
        let mut cache = RootCache::default();
        let r = super::serve_dir(&get("/hello.txt", &[]), &fs_, &mut cache, &root, &Options::default());
        assert_eq!(r.status, 200, "{name}");
        let before = cache.entries[0].stat.unwrap();
        fs::rename(t.0.join("www"), t.0.join("moved")).unwrap();
        std::os::unix::fs::symlink(t.0.join("moved"), t.0.join("www")).unwrap();
        assert_eq!(fs_.stat(&root), Some(before), "{name}: the cached stat still matches");
        let r = super::serve_dir(&get("/hello.txt", &[]), &fs_, &mut cache, &root, &Options::default());
        assert_eq!(r.status, 404, "{name}");
        let r = super::serve_dir(&get("/sub/", &[]), &fs_, &mut cache, &root, &Options::default());
        assert_eq!(r.status, 404, "{name}");
        // Back in place: served again.
        fs::remove_file(t.0.join("www")).unwrap();
        fs::rename(t.0.join("moved"), t.0.join("www")).unwrap();
        let r = super::serve_dir(&get("/hello.txt", &[]), &fs_, &mut cache, &root, &Options::default());
        assert_eq!(r.status, 200, "{name}");
    }
}

/// Odd `root_dir` texts, each request made twice through one cache (the second finds the
/// directory cached, and a text of one directory alone takes the `whole` path): the mount
/// the walk of the text selects is the one that serves, as Mongoose's syntax says.
#[test]
fn odd_root_dir_texts_select_the_mount_the_text_says() {
    let t = Tree::new("oddspecs");
    let w = String::from_utf8(t.root()).unwrap();
    let o = String::from_utf8(bytes(t.0.join("other"))).unwrap();
    let mut cache = RootCache::default();
    let fs_ = crate::sys::PosixFs;
    let mut at = |spec: &str, uri: &str| {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let r = super::serve_dir(&get(uri, &[]), &fs_, &mut cache, spec.as_bytes(), &Options::default());
            seen.push((r.status, body(r)));
        }
        assert_eq!(seen[0], seen[1], "{spec:?} {uri:?}: the cached answer differs");
        seen.pop().unwrap()
    };
    let hello = (200, b"hello world\n".to_vec());
    let other = (200, b"other".to_vec());
    // Equal prefixes, written differently: the last one listed wins.
    assert_eq!(at(&format!("/a={o},/a/={w}"), "/a/hello.txt"), hello);
    assert_eq!(at(&format!("/a={o},/a/={w}"), "/a/o.txt").0, 404);
    assert_eq!(at(&format!("/a/={w},/a={o}"), "/a/o.txt"), other);
    // `/=dir` is the root mount, like `dir` alone; then `dir` alone (the whole text).
    assert_eq!(at(&format!("/={o}"), "/o.txt"), other);
    assert_eq!(at(&format!("/={o}"), "/hello.txt").0, 404);
    assert_eq!(at(&o, "/o.txt"), other);
    assert_eq!(at(&o, "/hello.txt").0, 404);
    assert_eq!(at(&format!("{w},/={o}"), "/o.txt"), other);
    assert_eq!(at(&format!("/={o},{w}"), "/hello.txt"), hello);
    // Empty entries and trailing commas are skipped.
    let commas = format!(",{w},,/o={o},");
    assert_eq!(at(&commas, "/hello.txt"), hello);
    assert_eq!(at(&commas, "/o/o.txt"), other);
    assert_eq!(at(&format!("/o=,{w}"), "/o/o.txt").0, 404);
    // Prefixes with empty segments (`//`), and messy or %-encoded request paths.
    let slashes = format!("{w},//o//={o}");
    assert_eq!(at(&slashes, "/o/o.txt"), other);
    assert_eq!(at(&slashes, "//o//o.txt"), other);
    assert_eq!(at(&slashes, "/./o/./o.txt"), other);
    assert_eq!(at(&slashes, "/%6f/o.txt"), other);
    assert_eq!(at(&slashes, "/h%65llo.txt"), hello);
    assert_eq!(at(&slashes, "/sub//index.html"), (200, b"<h1>sub</h1>".to_vec()));
    assert_eq!(at(&slashes, "/o%2fo.txt"), other, "a decoded `/` separates segments");
    assert_eq!(at(&slashes, "/oo.txt").0, 404, "whole segments only");
    assert_eq!(at(&slashes, "/%zz").0, 400);
    // A prefix that is never matched: with a `.` or `..` segment, without a leading `/`,
    // or %-encoded (prefixes are compared as written).
    assert_eq!(at(&format!("{w},/./o={o}"), "/o/o.txt").0, 404);
    assert_eq!(at(&format!("{w},/x/../o={o}"), "/o/o.txt").0, 404);
    assert_eq!(at(&format!("{w},o={o}"), "/o/o.txt").0, 404);
    assert_eq!(at(&format!("{w},/%6f={o}"), "/o/o.txt").0, 404);
    // No root mount: paths outside every prefix are not found.
    assert_eq!(at(&format!("/o={o}"), "/hello.txt").0, 404);
    assert_eq!(at(&format!("/o={o}"), "/o/o.txt"), other);
    // More directories than the cache keeps, then the first ones again.
    for i in 0..10 {
        let d = t.0.join(format!("d{i}"));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("n.txt"), format!("{i}")).unwrap();
    }
    for round in 0..2 {
        for i in 0..10 {
            let d = String::from_utf8(bytes(t.0.join(format!("d{i}")))).unwrap();
            assert_eq!(at(&d, "/n.txt"), (200, format!("{i}").into_bytes()), "round {round}");
            assert_eq!(
                at(&format!("/m={d},{w}"), "/m/n.txt"),
                (200, format!("{i}").into_bytes())
            );
            assert_eq!(at(&format!("/m={d},{w}"), "/hello.txt"), hello);
        }
    }
    // Each directory kept is kept with its own canonical form.
    assert_eq!(cache.entries.len(), ROOTS_KEEP);
    for e in &cache.entries {
        let dir = std::str::from_utf8(&e.dir).unwrap();
        assert_eq!(e.canon, bytes(fs::canonicalize(dir).unwrap()), "{dir}");
    }
}
