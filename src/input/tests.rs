//! Reading sample files back: CSV and Parquet rows equal what was written; bad rows named.

use super::*;
use crate::sample::{CacheStatus, ErrorClass, REQUIRED_COLUMNS, YesNo};

/// 3,000 rows: every column filled, and every third a failed fetch with the empty cells of one.
fn full_and_failed_rows() -> Vec<Sample> {
    let full = Sample {
        started_at: "2026-11-24T22:00:00.123456Z".into(),
        region: "auckland, nz".into(),
        target: "cloudfront".into(),
        url: "https://d1.example.net/v.mp4?a=1,b=\"2\"".into(),
        sample: 7,
        http_version: "HTTP/2".into(),
        status: Some(206),
        remote_addr: "[::1]:443".into(),
        bytes: 21_504,
        dns_ms: Some(1.5),
        connect_ms: Some(12.125),
        tls_ms: Some(30.0),
        ttfb_ms: Some(0.001),
        download_ms: Some(2278.0),
        total_ms: Some(2321.626),
        throughput_mbps: Some(75.5),
        cache: CacheStatus::Hit,
        pop: "AKL50-C1".into(),
        error: None,
        tls_version: "1.3".into(),
        tls_cipher: "TLS_AES_128_GCM_SHA256".into(),
        alpn: "h2".into(),
        // With microseconds, as every Parquet timestamp reads back (the probe writes whole
        // seconds here: the same instant, other text).
        cert_expires_at: "2027-01-30T00:00:00.000000Z".into(),
        alt_svc_h3: Some(YesNo::Yes),
        rtt_ms: Some(0.042),
        retransmits: Some(3),
    };
    let failed = Sample {
        status: None,
        tls_ms: None,
        ttfb_ms: None,
        download_ms: None,
        total_ms: None,
        throughput_mbps: None,
        cache: CacheStatus::Unknown,
        pop: String::new(),
        error: Some(ErrorClass::HttpStatus),
        ..full.clone()
    };
    (0..3000)
        .map(|i| {
            if i % 3 == 0 {
                failed.clone()
            } else {
                full.clone()
            }
        })
        .collect()
}

#[test]
fn rows_read_back_equal_the_samples_serde_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.csv");
    let mut csv = ::csv::Writer::from_path(&path).unwrap();
    let written = full_and_failed_rows();
    for sample in &written {
        csv.serialize(sample).unwrap();
    }
    csv.flush().unwrap();
    let mut read = Vec::new();
    let rows = for_each_sample(&[path], &Reading::default(), |s| read.push(s.clone())).unwrap();
    assert_eq!(rows.rows, 3000);
    assert_eq!(read, written);
}

#[test]
fn parquet_of_today_s_schema_and_of_the_first_one_reads_back_as_the_csv_does() {
    use crate::sink::schema::{Column, Kind, columns_of};
    let written = full_and_failed_rows();
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    for sample in &written {
        csv.serialize(sample).unwrap();
    }
    let csv = csv.into_inner().unwrap();
    let today = columns_of::<Sample>();
    // The first Parquet objects stored every integer as int64.
    let first: Vec<Column> = today
        .iter()
        .map(|c| Column {
            kind: match c.kind {
                Kind::Int16 | Kind::Int32 => Kind::Int64,
                other => other,
            },
            ..c.clone()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for (name, columns) in [("today.parquet", today), ("first.parquet", first)] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            crate::sink::parquet::csv_to_parquet(&csv[..], &columns).unwrap(),
        )
        .unwrap();
        let mut read = Vec::new();
        for_each_sample(&[path], &Reading::default(), |s| read.push(s.clone())).unwrap();
        let differs = read.iter().zip(&written).find(|(r, w)| r != w);
        assert_eq!(read.len(), written.len(), "{name}");
        assert!(differs.is_none(), "{name}: {differs:#?}");
    }
}

#[test]
fn an_unknown_enum_name_is_reported_with_serde_s_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.csv");
    let mut csv = ::csv::Writer::from_path(&path).unwrap();
    csv.serialize(Sample::default()).unwrap();
    csv.flush().unwrap();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(",unknown,", ",warm,");
    std::fs::write(&path, text).unwrap();
    let error =
        for_each_sample(std::slice::from_ref(&path), &Reading::default(), |_| {}).unwrap_err();
    assert_eq!(
        error.0,
        format!(
            "{}:2: column cache: unknown variant `warm`, expected one of `hit`, `miss`, `refresh`, `unknown`",
            path.display()
        )
    );
}

/// The line `for_each_sample` names for `text`, a file whose one bad row has `cache` = warm.
fn line_of_the_bad_row(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.csv");
    std::fs::write(&path, text).unwrap();
    let error =
        for_each_sample(std::slice::from_ref(&path), &Reading::default(), |_| {}).unwrap_err();
    let after_path = &error.0[path.display().to_string().len() + 1..];
    after_path.split(':').next().unwrap().to_string()
}

#[test]
fn a_bad_row_is_named_by_its_own_line_after_blank_lines_and_multi_line_fields() {
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    let multi_line = Sample {
        region: "two\nlines".into(),
        ..Sample::default()
    };
    csv.serialize(&multi_line).unwrap();
    csv.serialize(Sample::default()).unwrap();
    let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // header (1), the quoted region over lines 2-3, the good row (4)
    assert_eq!(lines.len(), 4);
    let good = lines[3];
    let bad = good.replace(",unknown,", ",warm,");
    let head = lines[..4].join("\n");
    assert_eq!(line_of_the_bad_row(&format!("{head}\n{bad}\n")), "5");
    assert_eq!(line_of_the_bad_row(&format!("{head}\n\n\n{bad}\n")), "7");
    // The last line without its line break.
    assert_eq!(line_of_the_bad_row(&format!("{head}\n\n{bad}")), "6");
    // Windows line breaks, blank lines included.
    let crlf = format!("{head}\n\n{bad}\n").replace('\n', "\r\n");
    assert_eq!(line_of_the_bad_row(&crlf), "6");
    // A bad multi-line row is named by its first line.
    let bad_multi = format!("{}\n{}", lines[1], lines[2]).replace(",unknown,", ",warm,");
    assert_eq!(
        line_of_the_bad_row(&format!("{}\n{good}\n\n{bad_multi}\n{good}\n", lines[0])),
        "4"
    );
}

#[test]
fn a_file_from_before_the_connection_facts_reads_with_them_empty() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("a-new.csv");
    let old = dir.path().join("b-old.csv");
    let with_facts = Sample {
        tls_version: "1.3".into(),
        alt_svc_h3: Some(YesNo::No),
        rtt_ms: Some(20.0),
        retransmits: Some(1),
        ..Sample::default()
    };
    let mut csv = ::csv::Writer::from_path(&new).unwrap();
    for _ in 0..10 {
        csv.serialize(&with_facts).unwrap();
    }
    csv.flush().unwrap();
    // The old format: the first 19 columns only.
    let text = std::fs::read_to_string(&new).unwrap();
    let old_text: String = text
        .lines()
        .map(|line| {
            line.split(',')
                .take(REQUIRED_COLUMNS.len())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&old, old_text).unwrap();
    let mut read = Vec::new();
    // Both files in one pass: the old rows reuse the buffers the new rows filled.
    let reading = Reading::default();
    for_each_sample(&[new, old], &reading, |s| read.push(s.clone())).unwrap();
    assert_eq!(read.len(), 20);
    assert_eq!(read[..10], vec![with_facts; 10][..]);
    assert_eq!(read[10..], vec![Sample::default(); 10][..]);
}

#[test]
fn playback_csvs_beside_sample_csvs_are_left_to_their_own_reader() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("samples.csv");
    let playback = dir.path().join("playback.csv");
    let mut csv = ::csv::Writer::from_path(&samples).unwrap();
    csv.serialize(Sample::default()).unwrap();
    csv.flush().unwrap();
    let mut csv = ::csv::Writer::from_path(&playback).unwrap();
    csv.serialize(crate::play::record::PlaybackRow::default())
        .unwrap();
    csv.flush().unwrap();
    let mut rows = 0;
    let totals =
        for_each_sample(&[dir.path().to_owned()], &Reading::default(), |_| rows += 1).unwrap();
    assert_eq!((rows, totals.files, totals.playback), (1, 1, 1));
    assert_eq!(
        playback_csv_files(&[dir.path().to_owned()]).unwrap(),
        [playback]
    );
}
