//! Topic filters (MQTT §4.7): `+` matches one level, `#` (last) the rest, including the
//! parent level itself; a filter starting with a wildcard does not match topics that start
//! with `$` (`$SYS/...`).

/// Is `filter` a valid topic filter (wildcards only as whole levels, `#` only last)?
pub fn valid_filter(filter: &[u8]) -> bool {
    if filter.is_empty() {
        return false;
    }
    let n = filter.split(|&c| c == b'/').count();
    for (i, level) in filter.split(|&c| c == b'/').enumerate() {
        if level.len() > 1 && level.iter().any(|&c| c == b'+' || c == b'#') {
            return false;
        }
        if level == b"#" && i + 1 != n {
            return false;
        }
    }
    true
}

/// Does topic name `topic` match `filter`?
pub fn matches(filter: &[u8], topic: &[u8]) -> bool {
    if !valid_filter(filter) || topic.iter().any(|&c| c == b'+' || c == b'#') {
        return false;
    }
    if topic.first() == Some(&b'$') && matches!(filter.first(), Some(b'+' | b'#')) {
        return false;
    }
    let mut f = filter.split(|&c| c == b'/');
    let mut t = topic.split(|&c| c == b'/');
    loop {
        match (f.next(), t.next()) {
            (Some(b"#"), _) => return true,
            (Some(b"+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_examples() {
        let yes: &[(&str, &str)] = &[
            ("sport/tennis/player1/#", "sport/tennis/player1"),
            ("sport/tennis/player1/#", "sport/tennis/player1/ranking"),
            ("sport/#", "sport"),
            ("#", "a/b/c"),
            ("sport/tennis/+", "sport/tennis/player1"),
            ("sport/+", "sport/"),
            ("+/+", "/finance"),
            ("/+", "/finance"),
            ("a/b", "a/b"),
            ("$SYS/#", "$SYS/x"),
        ];
        let no: &[(&str, &str)] = &[
            ("sport/tennis/+", "sport/tennis/player1/ranking"),
            ("sport/+", "sport"),
            ("+", "/finance"),
            ("#", "$SYS/x"),
            ("+/x", "$SYS/x"),
            ("a/b", "a/b/c"),
            ("sport/tennis#", "sport/tennis"),
            ("sport/#/ranking", "sport/x/ranking"),
            ("a", "a/+"),
        ];
        for (f, t) in yes {
            assert!(matches(f.as_bytes(), t.as_bytes()), "{f} should match {t}");
        }
        for (f, t) in no {
            assert!(!matches(f.as_bytes(), t.as_bytes()), "{f} should not match {t}");
        }
    }

    proptest! {
        #[test]
        fn a_topic_matches_itself_and_hash(t in "[a-c]{0,2}(/[a-c]{0,2}){0,3}") {
            prop_assume!(!t.is_empty());
            prop_assert!(matches(t.as_bytes(), t.as_bytes()));
            prop_assert!(matches(b"#", t.as_bytes()));
            // Every level replaced by + matches too.
            let plus: Vec<&str> = t.split('/').map(|_| "+").collect();
            prop_assert!(matches(plus.join("/").as_bytes(), t.as_bytes()));
        }

        #[test]
        fn arbitrary_never_panic(f in proptest::collection::vec(any::<u8>(), 0..20), t in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = matches(&f, &t);
        }
    }
}
