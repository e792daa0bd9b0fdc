//! `meerkat::util::json` over arbitrary documents and paths (the first byte splits the input
//! into a path and a document): no panic, and every range found lies inside the document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meerkat::util::json;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b).min(data.len() - 1) + 1);
    let (path, doc) = data.split_at(split.min(data.len()));
    if let Ok(r) = json::get(doc, path) {
        assert!(r.start <= r.end && r.end <= doc.len());
        let _ = json::num(&doc[r.clone()]);
        let mut buf = [0u8; 256];
        let _ = json::unescape(&doc[r], &mut buf);
    }
    let _ = json::validate(doc);
    let mut ofs = 0;
    for _ in 0..64 {
        match json::next(doc, ofs) {
            Some(e) if e.next > ofs => ofs = e.next,
            _ => break,
        }
    }
});
