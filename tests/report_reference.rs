//! The committed reference report (`reports/seed-auckland-sydney/`) is exactly what the command
//! writes from the committed CSV of the original project's figures.

mod support;

use std::path::Path;

use support::{report_ok, seed_csv};

// The command that made the reference report, as its README gives it.
const TITLE: &str = "S3 vs CloudFront, original figures";
const NOTES: [&str; 2] = [
    "Figures from the original project's README (one published measurement per region and target, \
     clients in Auckland and Sydney, origin in Ireland), not measured by cdnprobe.",
    "The original published resolve, connection, download and total only: seed-figures.csv holds \
     resolve in dns_ms, connection in connect_ms (tls_ms empty), download in download_ms and \
     ttfb_ms = 0, so transfer = download. With one sample per target there are no intervals.",
];

#[test]
fn committed_seed_report_is_what_the_command_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/seed-auckland-sydney");
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--title", TITLE];
    for note in NOTES {
        args.extend(["--note", note]);
    }
    report_ok(&seed_csv(), dir.path(), &args);
    for file in ["summary.csv", "comparison.csv", "report.md"] {
        let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let expected = std::fs::read_to_string(committed.join(file)).unwrap();
        assert_eq!(
            written, expected,
            "{file} differs from the committed reference"
        );
    }
    for chart in ["phases", "cdf", "timeline"] {
        for ext in ["png", "svg"] {
            assert!(
                committed.join(format!("{chart}.{ext}")).is_file(),
                "{chart}.{ext} committed"
            );
        }
    }
}
