//! Directory listings for the static-file server (Mongoose's `MG_ENABLE_DIRLIST` page): an
//! HTML table of a directory's entries with their modification time and size, over any
//! [`Fs`]. Directories come first, then files, each group in byte order of the names; a
//! `..` row leads to the parent except at `/`. Names are HTML-escaped in text and
//! percent-encoded in links. As on Mongoose's page, a click on a column head sorts the rows
//! by it (again: the other way), directories first; the script is meerkat's own ([`SORT_JS`]):
//! rows carry the directory flag and cells the number they sort by.

use super::Fs;
use crate::prelude::*;

fn push_html(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            _ => out.push(b),
        }
    }
}

fn push_url(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(crate::util::str::HEX_UPPER[usize::from(b >> 4)]);
            out.push(crate::util::str::HEX_UPPER[usize::from(b & 15)]);
        }
    }
}

use super::push_num;

/// `YYYY-MM-DD HH:MM:SS` (UTC) of seconds since the Unix epoch.
fn push_date(out: &mut Vec<u8>, t: u64) {
    let (days, secs) = (t / 86_400, t % 86_400);
    // Days of a u64 of seconds fit an i64, and their year is positive.
    let (year, month, day) = super::civil_from_days(days as i64);
    push_num(out, year as u64, 4);
    out.push(b'-');
    push_num(out, u64::from(month), 2);
    out.push(b'-');
    push_num(out, u64::from(day), 2);
    out.push(b' ');
    push_num(out, secs / 3600, 2);
    out.push(b':');
    push_num(out, secs / 60 % 60, 2);
    out.push(b':');
    push_num(out, secs % 60, 2);
}

/// The page's sorting script: a click on a `data-col` head sorts the rows of `#tb` that have
/// `data-dir` (not the `..` row) by that column (the name's text, or the cell's `data-k`
/// number), directories first; a second click on the same head reverses. (The last column and
/// order are kept in the script's variables `C` and `O`.)
const SORT_JS: &[u8] = b"<script>var C,O;document.onclick=function(e){var t=e.target,\
g=function(n,a){return n.getAttribute('data-'+a)},c=t.getAttribute&&g(t,'col');if(c==null)return;\
e.preventDefault();var b=document.getElementById('tb'),o=C===c&&O>0?-1:1;C=c;O=o;\
[].filter.call(b.rows,function(r){return r.hasAttribute('data-dir')}).sort(function(x,y){\
var d=g(y,'dir')-g(x,'dir');x=x.cells[c];y=y.cells[c];\
return d||o*(c==='0'?x.textContent.localeCompare(y.textContent):g(x,'k')-g(y,'k'))})\
.forEach(function(r){b.appendChild(r)})}</script>";

/// Sorts `v` ascending by `less` (a strict "comes before"). In place and O(n log n), like
/// `slice::sort_unstable_by`, in ~200 bytes of code instead of core's sorts (the stable one
/// was 4.5 KB of http-hello's text, for this one call). Unstable, which cannot show here: no
/// two rows have the same name.
fn heapsort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    // Moves v[root] down the max-heap v[..end] (end <= v.len()).
    fn sift<T>(v: &mut [T], mut root: usize, end: usize, less: &impl Fn(&T, &T) -> bool) {
        let Some(v) = v.get_mut(..end) else { return };
        loop {
            let mut child = 2 * root + 1;
            if child >= v.len() {
                return;
            }
            if child + 1 < v.len() && less(&v[child], &v[child + 1]) {
                child += 1;
            }
            if !less(&v[root], &v[child]) {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len(), &less);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end, &less);
    }
}

/// The listing page of directory `dir` in `fs`, reached at URL path `uri` (shown in the
/// title; links are relative, so `uri` should end with `/`). Entries whose path (`dir/name`)
/// `keep` refuses are left out.
pub fn html(fs: &dyn Fs, dir: &[u8], uri: &[u8], keep: &dyn Fn(&[u8]) -> bool) -> Vec<u8> {
    // (is a file, name, time, size): the names first, then each one's stat (not while the
    // directory is being listed), rows of entries gone since (or not kept) left out.
    let mut rows: Vec<(bool, Vec<u8>, u64, u64)> = Vec::new();
    fs.list(dir, &mut |n| rows.push((false, n.to_vec(), 0, 0)));
    // Each entry's path: the directory's, then the name (one buffer for all of them).
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    let base = p.len();
    let mut i = 0;
    while let Some(row) = rows.get_mut(i) {
        p.truncate(base);
        p.extend_from_slice(&row.1);
        match fs.stat(&p).filter(|_| keep(&p)) {
            Some(st) => {
                (row.0, row.2, row.3) = (!st.dir, st.mtime.max(0) as u64, st.size);
                i += 1;
            }
            // The order does not matter yet: the rows are sorted below.
            None => drop(rows.swap_remove(i)),
        }
    }
    // By kind, then name: the names of a directory differ, so the rest of a row never decides.
    heapsort(&mut rows, |a, b| (a.0, &a.1) < (b.0, &b.1));
    let mut out = Vec::with_capacity(512 + rows.len() * 128);
    out.extend_from_slice(b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Index of ");
    push_html(&mut out, uri);
    out.extend_from_slice(b"</title>");
    out.extend_from_slice(SORT_JS);
    out.extend_from_slice(
        b"<style>th,td{text-align:left;padding-right:1em;font-family:monospace}</style></head>\
          <body><h1>Index of ",
    );
    push_html(&mut out, uri);
    out.extend_from_slice(
        b"</h1><table><thead><tr><th><a href=\"#\" data-col=\"0\">Name</a></th>\
          <th><a href=\"#\" data-col=\"1\">Modified</a></th><th><a href=\"#\" data-col=\"2\">Size</a></th>\
          </tr></thead><tbody id=\"tb\">\n",
    );
    if uri != b"/" {
        out.extend_from_slice(b"<tr><td><a href=\"../\">..</a></td><td></td><td>[DIR]</td></tr>\n");
    }
    for (is_file, name, mtime, size) in rows {
        out.extend_from_slice(if is_file {
            b"<tr data-dir=\"0\"><td><a href=\""
        } else {
            b"<tr data-dir=\"1\"><td><a href=\""
        });
        push_url(&mut out, &name);
        if !is_file {
            out.push(b'/');
        }
        out.extend_from_slice(b"\">");
        push_html(&mut out, &name);
        if !is_file {
            out.push(b'/');
        }
        out.extend_from_slice(b"</a></td><td data-k=\"");
        push_num(&mut out, mtime, 1);
        out.extend_from_slice(b"\">");
        push_date(&mut out, mtime);
        if is_file {
            out.extend_from_slice(b"</td><td data-k=\"");
            push_num(&mut out, size, 1);
            out.extend_from_slice(b"\">");
            push_num(&mut out, size, 1);
        } else {
            out.extend_from_slice(b"</td><td data-k=\"-1\">[DIR]");
        }
        out.extend_from_slice(b"</td></tr>\n");
    }
    out.extend_from_slice(b"</tbody></table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::packed::{Entry, Packed};

    static FILES: [Entry; 4] = [
        Entry {
            path: b"/www/b.txt",
            data: b"12345",
            mtime: 951_825_600,
        },
        Entry {
            path: b"/www/a <&>.html",
            data: b"",
            mtime: 0,
        },
        Entry {
            path: b"/www/sub/x",
            data: b"x",
            mtime: 2_147_483_648,
        },
        Entry {
            path: b"/www/css/y",
            data: b"y",
            mtime: 0,
        },
    ];

    #[test]
    fn heapsort_sorts_like_sort() {
        let mut seed = 12345u32;
        for n in 0..70 {
            let mut v: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    seed >> 26 // small range: duplicates too
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            heapsort(&mut v, |a, b| a < b);
            assert_eq!(v, want, "n = {n}");
        }
    }

    #[test]
    fn numbers_padded_as_format_pads_them() {
        for v in [0u64, 1, 9, 10, 99, 100, 1999, 12_345, u64::from(u32::MAX), u64::MAX] {
            for width in [0usize, 1, 2, 4, 20, 25] {
                let mut out = b"x".to_vec();
                push_num(&mut out, v, width);
                let want = format!("x{v:0width$}");
                // Widths past 20 digits are not used (and not padded beyond 20).
                if width <= 20 {
                    assert_eq!(out, want.as_bytes(), "{v} {width}");
                }
            }
        }
    }

    #[test]
    fn dates_invert_timegm() {
        let mut t = 0u64;
        while t < 1 << 34 {
            let mut d = Vec::new();
            push_date(&mut d, t);
            let d = core::str::from_utf8(&d).unwrap();
            let n = |r: core::ops::Range<usize>| d[r].parse::<u32>().unwrap();
            let back = crate::util::codec::timegm(n(0..4), n(5..7), n(8..10), n(11..13), n(14..16), n(17..19));
            assert_eq!(back, t, "{d}");
            t += 7_777_777;
        }
    }

    #[test]
    fn rows_sorted_escaped_and_dated() {
        let fs = Packed::new(&FILES[..]);
        let page = String::from_utf8(html(&fs, b"/www", b"/files/<x>/", &|_| true)).unwrap();
        assert!(page.contains("<title>Index of /files/&lt;x&gt;/</title>"), "{page}");
        let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("<tr")).collect();
        assert_eq!(
            rows,
            [
                "<tr><td><a href=\"../\">..</a></td><td></td><td>[DIR]</td></tr>",
                // Packed directories have no time of their own.
                "<tr data-dir=\"1\"><td><a href=\"css/\">css/</a></td><td data-k=\"0\">1970-01-01 00:00:00</td><td data-k=\"-1\">[DIR]</td></tr>",
                "<tr data-dir=\"1\"><td><a href=\"sub/\">sub/</a></td><td data-k=\"0\">1970-01-01 00:00:00</td><td data-k=\"-1\">[DIR]</td></tr>",
                "<tr data-dir=\"0\"><td><a href=\"a%20%3C%26%3E.html\">a &lt;&amp;&gt;.html</a></td><td data-k=\"0\">1970-01-01 00:00:00</td><td data-k=\"0\">0</td></tr>",
                "<tr data-dir=\"0\"><td><a href=\"b.txt\">b.txt</a></td><td data-k=\"951825600\">2000-02-29 12:00:00</td><td data-k=\"5\">5</td></tr>",
            ]
        );
        let sub = String::from_utf8(html(&fs, b"/www/sub", b"/", &|_| true)).unwrap();
        assert!(
            sub.contains("<td data-k=\"2147483648\">2038-01-19 03:14:08</td><td data-k=\"1\">1</td>"),
            "{sub}"
        );
        assert!(!sub.contains("href=\"../\""), "{sub}");
    }
}
