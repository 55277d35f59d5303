//! Writing CSV (RFC 4180): the field quoting every CSV this toolkit writes goes through
//! (`dehaze metrics`, `dehaze eval`'s `results.csv`, the synthesis parameter record, the
//! training log).

/// `s` as a CSV field: as it is, or quoted (`"…"`, inner quotes doubled) when it holds a
/// comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(super::field("a/b.png"), "a/b.png");
        assert_eq!(super::field("a,\"b\".png"), "\"a,\"\"b\"\".png\"");
        assert_eq!(super::field("two\nlines"), "\"two\nlines\"");
    }
}
