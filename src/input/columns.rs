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
    let measured: f64 = number(value)?;
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
