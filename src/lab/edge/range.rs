//! Which bytes of a cached object a `Range` header selects (RFC 9110 single byte ranges).

/// Which bytes of an object of `length` bytes a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSelection {
    /// No range, several ranges, another unit or invalid syntax: the whole object, 200.
    Whole,
    /// One satisfiable range, inclusive bounds: 206.
    Partial { first: u64, last: u64 },
    /// A syntactically valid range that starts past the end: 416.
    Unsatisfiable,
}

/// RFC 9110 single byte ranges: `bytes=A-B`, `bytes=A-`, `bytes=-N`.
pub fn select_range(range: Option<&str>, length: u64) -> RangeSelection {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return RangeSelection::Whole;
    };
    if spec.contains(',') {
        return RangeSelection::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeSelection::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // bytes=-N: the last N bytes.
        return match number(last) {
            None => RangeSelection::Whole,
            Some(0) => RangeSelection::Unsatisfiable,
            Some(_) if length == 0 => RangeSelection::Unsatisfiable,
            Some(suffix) => RangeSelection::Partial {
                first: length.saturating_sub(suffix),
                last: length - 1,
            },
        };
    }
    let Some(first) = number(first) else {
        return RangeSelection::Whole;
    };
    let last = match (last.is_empty(), number(last)) {
        (true, _) => None,
        (false, Some(last)) if last >= first => Some(last),
        (false, _) => return RangeSelection::Whole,
    };
    if first >= length {
        return RangeSelection::Unsatisfiable;
    }
    RangeSelection::Partial {
        first,
        last: last.map_or(length - 1, |last| last.min(length - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::RangeSelection::*;
    use super::*;

    #[test]
    fn a_closed_range_is_cut_and_clamped_to_the_end() {
        assert_eq!(
            select_range(Some("bytes=0-9"), 100),
            Partial { first: 0, last: 9 }
        );
        assert_eq!(
            select_range(Some("bytes=90-200"), 100),
            Partial {
                first: 90,
                last: 99
            }
        );
    }

    #[test]
    fn an_open_range_runs_to_the_end() {
        assert_eq!(
            select_range(Some("bytes=40-"), 100),
            Partial {
                first: 40,
                last: 99
            }
        );
    }

    #[test]
    fn a_suffix_range_takes_the_last_bytes() {
        assert_eq!(
            select_range(Some("bytes=-10"), 100),
            Partial {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            select_range(Some("bytes=-500"), 100),
            Partial { first: 0, last: 99 }
        );
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(select_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(select_range(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(select_range(Some("bytes=-0"), 100), Unsatisfiable);
    }

    #[test]
    fn several_ranges_or_bad_syntax_get_the_whole_object() {
        for range in [
            "bytes=0-1,5-9",
            "items=0-9",
            "bytes=9-0",
            "bytes=a-b",
            "bytes=",
            "bytes=5",
        ] {
            assert_eq!(select_range(Some(range), 100), Whole, "{range}");
        }
        assert_eq!(select_range(None, 100), Whole);
    }
}
