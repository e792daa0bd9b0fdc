//! Server-side includes as Mongoose's `mg_http_serve_ssi` expands them: in an HTML file,
//! `<!--#include file="NAME" -->` is replaced by the (expanded) file NAME next to the current
//! one and `<!--#include virtual="/NAME" -->` by the file at root + NAME, up to
//! [`MAX_DEPTH`] levels deep. An include that cannot be read, climbs with `..`, or is too
//! deep is dropped; any other `<!--#...-->` tag stays as it is. Files come through a
//! caller-supplied reader, so this works over any file system.

use crate::prelude::*;

/// How deep includes nest (Mongoose's `MG_MAX_SSI_DEPTH`).
pub const MAX_DEPTH: usize = 5;

/// Most includes expanded for one page (a page including itself twice per level would
/// otherwise cost 2^5 reads, one with many tags far more); later ones are dropped.
pub const MAX_INCLUDES: usize = 64;

/// The longest directive looked at; a longer `<!--#` tag is copied as text.
const MAX_TAG: usize = 1024;

fn directive<'a>(tag: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    let rest = tag.strip_prefix(b"<!--#include ")?;
    let rest = rest.strip_prefix(kind)?.strip_prefix(b"=\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some(&rest[..end])
}

/// The expansion of the file at `path`, or `None` if it cannot be read.
pub fn expand(path: &[u8], root: &[u8], read: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut budget = MAX_INCLUDES;
    expand_at(path, root, read, 0, &mut budget)
}

fn expand_at(
    path: &[u8],
    root: &[u8],
    read: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    depth: usize,
    budget: &mut usize,
) -> Option<Vec<u8>> {
    let text = read(path)?;
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let Some(start) = text[i..].windows(5).position(|w| w == b"<!--#").map(|p| p + i) else {
            out.extend_from_slice(&text[i..]);
            break;
        };
        out.extend_from_slice(&text[i..start]);
        let limit = text.len().min(start + MAX_TAG);
        let Some(end) = text[start..limit]
            .windows(3)
            .position(|w| w == b"-->")
            .map(|p| start + p + 3)
        else {
            out.extend_from_slice(&text[start..start + 5]);
            i = start + 5;
            continue;
        };
        let tag = &text[start..end];
        let target = if let Some(name) = directive(tag, b"file") {
            let dir_end = path.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
            let mut t = path[..dir_end].to_vec();
            t.extend_from_slice(name);
            Some((t, name))
        } else if let Some(name) = directive(tag, b"virtual") {
            let mut t = root.to_vec();
            t.extend_from_slice(name);
            Some((t, name))
        } else {
            None
        };
        match target {
            Some((t, name)) => {
                if depth < MAX_DEPTH && *budget > 0 && crate::util::codec::path_is_sane(name) {
                    *budget -= 1;
                    if let Some(inner) = expand_at(&t, root, read, depth + 1, budget) {
                        out.extend_from_slice(&inner);
                    }
                }
            }
            None => out.extend_from_slice(tag),
        }
        i = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    fn files() -> BTreeMap<&'static [u8], &'static [u8]> {
        let mut m = BTreeMap::new();
        m.insert(&b"/r/index.shtml"[..], &b"<p>a</p><!--#include file=\"part.html\" -->|<!--#include virtual=\"/inc/v.html\" -->|<!--#echo var=\"x\" -->|<!--#include file=\"../secret\" -->|<!--#include file=\"missing\" -->."[..]);
        m.insert(b"/r/part.html", b"PART");
        m.insert(b"/r/inc/v.html", b"V<!--#include file=\"w.html\" -->");
        m.insert(b"/r/inc/w.html", b"W");
        m.insert(b"/secret", b"SECRET");
        m.insert(b"/r/loop.html", b"L<!--#include file=\"loop.html\" -->");
        m
    }

    fn reader<'a>(m: &'a BTreeMap<&'static [u8], &'static [u8]>) -> impl FnMut(&[u8]) -> Option<Vec<u8>> + 'a {
        move |p: &[u8]| m.get(p).map(|d| d.to_vec())
    }

    #[test]
    fn includes_expand_and_others_stay() {
        let m = files();
        let out = expand(b"/r/index.shtml", b"/r", &mut reader(&m)).unwrap();
        assert_eq!(out, b"<p>a</p>PART|VW|<!--#echo var=\"x\" -->||.");
        assert!(expand(b"/r/none", b"/r", &mut reader(&m)).is_none());
    }

    #[test]
    fn recursion_stops_at_max_depth() {
        let m = files();
        let out = expand(b"/r/loop.html", b"/r", &mut reader(&m)).unwrap();
        assert_eq!(out, b"LLLLLL");
    }

    #[test]
    fn includes_per_page_are_bounded() {
        let mut reads = 0;
        let mut read = |_: &[u8]| {
            reads += 1;
            // Three includes per level: 364 reads without the budget.
            Some(b"x<!--#include file=\"a\" --><!--#include file=\"a\" --><!--#include file=\"a\" -->".to_vec())
        };
        let out = expand(b"/f", b"", &mut read).unwrap();
        assert_eq!(reads, MAX_INCLUDES + 1);
        assert_eq!(out.len(), MAX_INCLUDES + 1);
    }

    #[test]
    fn unterminated_tags_are_text() {
        let mut read = |_: &[u8]| Some(b"x<!--#include file=\"a\"".to_vec());
        assert_eq!(expand(b"/f", b"", &mut read).unwrap(), b"x<!--#include file=\"a\"");
    }
}
