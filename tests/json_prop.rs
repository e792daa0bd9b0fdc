//! Property tests of the JSON scanner (`meerkat::util::json`) and its C getters, with
//! serde_json as the oracle: documents serde_json writes are valid and every value in them is
//! found by its path with serde_json's value; random JSON-ish text is accepted exactly when
//! serde_json accepts it; arbitrary bytes and paths never panic.

use meerkat::ffi::json as cjson;
use meerkat::ffi::mg_str;
use meerkat::util::json;
use proptest::prelude::*;
use serde_json::Value;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            // Keys a JSONPath can name: no '.', '[', escapes.
            prop::collection::btree_map("[a-z0-9_]{0,5}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every (path, value) pair in `v`.
fn walk(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    out.push((path.clone(), v.clone()));
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| walk(x, format!("{path}[{i}]"), out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, format!("{path}.{k}"), out)),
        _ => {}
    }
}

fn check_value(doc: &[u8], path: &str, want: &Value) {
    let p = path.as_bytes();
    let tok = json::get_tok(doc, p).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    let parsed: Value = serde_json::from_slice(tok).expect("the token is JSON");
    match want {
        Value::Number(n) => {
            assert_eq!(json::get_num(doc, p), n.as_f64(), "{path}");
            if let Some(i) = n.as_i64() {
                assert_eq!(json::get_i64(doc, p), Some(i), "{path}");
            }
        }
        Value::String(s) => {
            let mut out = vec![0u8; tok.len()];
            let n = json::unescape(tok, &mut out).expect("unescapes");
            assert_eq!(&out[..n], s.as_bytes(), "{path}");
        }
        Value::Bool(b) => assert_eq!(json::get_bool(doc, p), Some(*b)),
        Value::Null => assert_eq!(tok, b"null"),
        Value::Array(a) => {
            let mut ofs = 0;
            let mut n = 0;
            while let Some(e) = json::next(tok, ofs) {
                assert!(e.key.is_none());
                ofs = e.next;
                n += 1;
            }
            assert_eq!(n, a.len(), "{path}");
        }
        Value::Object(o) => {
            let mut ofs = 0;
            let mut n = 0;
            while let Some(e) = json::next(tok, ofs) {
                let key: String = serde_json::from_slice(&tok[e.key.unwrap()]).unwrap();
                let val: Value = serde_json::from_slice(&tok[e.val]).unwrap();
                assert_eq!(o.get(&key), Some(&val));
                ofs = e.next;
                n += 1;
            }
            assert_eq!(n, o.len(), "{path}");
        }
    }
    if !matches!(want, Value::Number(_)) {
        assert_eq!(&parsed, want, "{path}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn serde_documents_are_valid_and_every_value_is_found(v in value(), pretty in any::<bool>()) {
        let doc = if pretty { serde_json::to_vec_pretty(&v) } else { serde_json::to_vec(&v) }.unwrap();
        prop_assert_eq!(json::validate(&doc), Ok(0..doc.len()));
        let mut pairs = Vec::new();
        walk(&v, "$".into(), &mut pairs);
        for (path, want) in &pairs {
            check_value(&doc, path, want);
        }
    }

    #[test]
    fn accepts_exactly_what_serde_accepts(
        text in prop::collection::vec(prop::sample::select(
            b"{}[],:\"\\ \t\n01-9.eE+-truefalsnl\x01a/b".to_vec()), 0..40)
    ) {
        let ours = json::validate(&text);
        let theirs = serde_json::from_slice::<Value>(&text);
        match (&ours, &theirs) {
            // serde_json refuses numbers beyond f64; RFC 8259 leaves that to implementations.
            (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
            (Err(json::Error::TooDeep), _) => {}
            _ => prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}: {:?} vs {:?}",
                                 String::from_utf8_lossy(&text), ours, theirs.err()),
        }
    }

    #[test]
    fn arbitrary_bytes_and_paths_never_panic(doc in any::<Vec<u8>>(), path in any::<Vec<u8>>(),
                                             ofs in 0usize..64) {
        let _ = json::validate(&doc);
        let _ = json::get(&doc, &path);
        let mut p = b"$".to_vec();
        p.extend_from_slice(&path);
        if let Ok(r) = json::get(&doc, &p) {
            prop_assert!(r.end <= doc.len() && r.start <= r.end);
        }
        let _ = json::next(&doc, ofs);
        let mut out = [0u8; 32];
        let _ = json::unescape(&doc, &mut out);
        // And through the C entry points (the path as a C string: up to the first NUL).
        let mut cpath = p.clone();
        cpath.retain(|&c| c != 0);
        cpath.push(0);
        let s = mg_str::from_bytes(&doc);
        let mut len = 0;
        let o = cjson::mg_json_get(s, cpath.as_ptr().cast(), &mut len);
        prop_assert!(o < 0 || (o as usize + len as usize) <= doc.len());
        let mut d = 0.0;
        let _ = cjson::mg_json_get_num(s, cpath.as_ptr().cast(), &mut d);
        let strp = cjson::mg_json_get_str(s, cpath.as_ptr().cast());
        meerkat::ffi::mem::mg_free(strp.cast());
        let _ = cjson::mg_json_next(s, ofs, std::ptr::null_mut(), std::ptr::null_mut());
    }
}

#[test]
fn deep_random_nesting_is_too_deep_not_a_crash() {
    let doc = "[".repeat(100_000);
    assert_eq!(json::validate(doc.as_bytes()), Err(json::Error::TooDeep));
}
