//! How each column of the sample format is read from its text, whichever file format carried it
//! (a CSV cell, or a Parquet value written out as the CSV would have it): one parser per column,
//! so CSV and Parquet rows are validated by the same rules.

use crate::sample::{COLUMNS, REQUIRED_COLUMNS, Sample};

/// Parses one field into its place in a sample; the error says what is wrong with the value.
pub type ParseInto = fn(&mut Sample, &str) -> Result<(), String>;

/// For the columns of a file, in file order: the index and parser of each column the format
/// knows, then (index `None`) the optional columns an older file lacks, which read as empty
/// cells. Columns the format does not know are ignored, as serde ignores unknown fields; a
/// missing required column is an error naming every one missing.
pub fn resolve<'n>(
    names: impl IntoIterator<Item = &'n str>,
) -> Result<Vec<(Option<usize>, ParseInto)>, String> {
    let names: Vec<&str> = names.into_iter().collect();
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !names.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing column(s): {}", missing.join(", ")));
    }
    let mut columns: Vec<(Option<usize>, ParseInto)> = names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| Some((Some(index), parse_into(name)?)))
        .collect();
    // Samples are reused buffers: a row of an older file must not keep the connection facts of
    // a newer file's row, so the absent columns are still parsed, from an empty cell.
    columns.extend(
        COLUMNS
            .iter()
            .filter(|c| !names.contains(c))
            .filter_map(|c| Some((None, parse_into(c)?))),
    );
    Ok(columns)
}

/// How each column of `COLUMNS` is read, as serde would read it (a test checks they agree):
/// strings copied into the sample's buffers, an empty cell as `None`, enums by their serde names.
pub fn parse_into(column: &str) -> Option<ParseInto> {
    let parse: ParseInto = match column {
        "started_at" => |s, v| text(&mut s.started_at, v),
        "region" => |s, v| text(&mut s.region, v),
        "target" => |s, v| text(&mut s.target, v),
        "url" => |s, v| text(&mut s.url, v),
        "sample" => |s, v| put(&mut s.sample, number(v)),
        "http_version" => |s, v| text(&mut s.http_version, v),
        "status" => |s, v| put(&mut s.status, optional(v, number)),
        "remote_addr" => |s, v| text(&mut s.remote_addr, v),
        "bytes" => |s, v| put(&mut s.bytes, number(v)),
        "dns_ms" => |s, v| put(&mut s.dns_ms, optional(v, measure)),
        "connect_ms" => |s, v| put(&mut s.connect_ms, optional(v, measure)),
        "tls_ms" => |s, v| put(&mut s.tls_ms, optional(v, measure)),
        "ttfb_ms" => |s, v| put(&mut s.ttfb_ms, optional(v, measure)),
        "download_ms" => |s, v| put(&mut s.download_ms, optional(v, measure)),
        "total_ms" => |s, v| put(&mut s.total_ms, optional(v, measure)),
        "throughput_mbps" => |s, v| put(&mut s.throughput_mbps, optional(v, measure)),
        "cache" => |s, v| put(&mut s.cache, named(v)),
        "pop" => |s, v| text(&mut s.pop, v),
        "error" => |s, v| put(&mut s.error, optional(v, named)),
        "tls_version" => |s, v| text(&mut s.tls_version, v),
        "tls_cipher" => |s, v| text(&mut s.tls_cipher, v),
        "alpn" => |s, v| text(&mut s.alpn, v),
        "cert_expires_at" => |s, v| text(&mut s.cert_expires_at, v),
        "alt_svc_h3" => |s, v| put(&mut s.alt_svc_h3, optional(v, named)),
        "rtt_ms" => |s, v| put(&mut s.rtt_ms, optional(v, measure)),
        "retransmits" => |s, v| put(&mut s.retransmits, optional(v, number)),
        _ => return None,
    };
    Some(parse)
}

/// A numeric cell of a typed file format (Parquet), `None` when null.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

/// Stores a typed numeric cell into its place in a sample, by the rules its text would follow.
pub type NumberInto = fn(&mut Sample, Option<Number>) -> Result<(), String>;

/// How each numeric column of `COLUMNS` takes a typed value (no text in between); `None` for the
/// text columns (a test checks every numeric column has one).
pub fn number_into(column: &str) -> Option<NumberInto> {
    let set: NumberInto = match column {
        "sample" => |s, v| put(&mut s.sample, required(v).and_then(integer)),
        "status" => |s, v| put(&mut s.status, v.map(integer).transpose()),
        "bytes" => |s, v| put(&mut s.bytes, required(v).and_then(integer)),
        "dns_ms" => |s, v| put(&mut s.dns_ms, v.map(measured).transpose()),
        "connect_ms" => |s, v| put(&mut s.connect_ms, v.map(measured).transpose()),
        "tls_ms" => |s, v| put(&mut s.tls_ms, v.map(measured).transpose()),
        "ttfb_ms" => |s, v| put(&mut s.ttfb_ms, v.map(measured).transpose()),
        "download_ms" => |s, v| put(&mut s.download_ms, v.map(measured).transpose()),
        "total_ms" => |s, v| put(&mut s.total_ms, v.map(measured).transpose()),
        "throughput_mbps" => |s, v| put(&mut s.throughput_mbps, v.map(measured).transpose()),
        "rtt_ms" => |s, v| put(&mut s.rtt_ms, v.map(measured).transpose()),
        "retransmits" => |s, v| put(&mut s.retransmits, v.map(integer).transpose()),
        _ => return None,
    };
    Some(set)
}

fn required(value: Option<Number>) -> Result<Number, String> {
    value.ok_or_else(|| "not a number: \"\"".to_owned())
}

/// An integer column's value: a whole float is accepted, as its text (`200`) would be.
fn integer<T: TryFrom<i64>>(value: Number) -> Result<T, String> {
    let whole = match value {
        Number::Integer(n) => Some(n),
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(f as i64),
        Number::Float(_) => None,
    };
    whole
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| match value {
            Number::Integer(n) => format!("out of range: {n}"),
            Number::Float(f) => format!("not an integer: {f}"),
        })
}

fn measured(value: Number) -> Result<f64, String> {
    let measured = match value {
        Number::Integer(n) => n as f64,
        Number::Float(f) => f,
    };
    finite_non_negative(measured)
}

fn text(into: &mut String, value: &str) -> Result<(), String> {
    into.clear();
    into.push_str(value);
    Ok(())
}

fn put<T>(into: &mut T, value: Result<T, String>) -> Result<(), String> {
    *into = value?;
    Ok(())
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("not a number: {value:?}"))
}

/// A time or a rate: `f64` parses `inf`, `NaN` and negatives, none of which a measurement can be
/// (an infinite value hangs the chart's axis computation and prints as "inf ms").
fn measure(value: &str) -> Result<f64, String> {
    finite_non_negative(number(value)?)
}

fn finite_non_negative(measured: f64) -> Result<f64, String> {
    if measured.is_finite() && measured >= 0.0 {
        Ok(measured)
    } else {
        Err("not a finite non-negative number".into())
    }
}

fn optional<T>(value: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// An enum cell by the variant names serde gives it (`hit`, `http_status`, …).
fn named<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_of_the_format_has_a_parser() {
        for column in COLUMNS {
            assert!(parse_into(column).is_some(), "no parser for {column}");
        }
    }

    #[test]
    fn every_numeric_column_takes_typed_values_by_the_rules_of_its_text() {
        let typed = COLUMNS.iter().filter(|c| number_into(c).is_some()).count();
        assert_eq!(typed, 12);
        let (mut by_text, mut by_number) = (Sample::default(), Sample::default());
        for (column, text, number) in [
            ("status", "206", Number::Integer(206)),
            ("status", "206", Number::Float(206.0)),
            ("ttfb_ms", "12.125", Number::Float(12.125)),
            ("retransmits", "3", Number::Integer(3)),
        ] {
            parse_into(column).unwrap()(&mut by_text, text).unwrap();
            number_into(column).unwrap()(&mut by_number, Some(number)).unwrap();
        }
        assert_eq!(by_number, by_text);
        let mut set = |column: &str, value| number_into(column).unwrap()(&mut by_number, value);
        assert!(set("ttfb_ms", Some(Number::Float(-1.0))).is_err());
        assert!(set("ttfb_ms", Some(Number::Float(f64::INFINITY))).is_err());
        assert!(set("status", Some(Number::Integer(70_000))).is_err());
        assert!(set("status", Some(Number::Float(200.5))).is_err());
        assert!(set("sample", None).is_err());
        set("ttfb_ms", None).unwrap();
        assert_eq!(by_number.ttfb_ms, None);
    }

    #[test]
    fn every_missing_column_is_named_and_unknown_ones_are_ignored() {
        let error = resolve(["region", "extra"]).unwrap_err();
        assert!(
            error.starts_with("missing column(s): started_at, target, url"),
            "{error}"
        );
        let mut names: Vec<&str> = COLUMNS.to_vec();
        names.insert(3, "extra");
        assert_eq!(resolve(names).unwrap().len(), COLUMNS.len());
    }
}
