//! The targets of a run: `LABEL=URL` flags and `[[target]]` tables merged, with their request
//! headers (`-H`, the config's, and whatever the command adds, such as `run --range`).

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::config::ConfigTarget;
use crate::error::UsageError;
use crate::probe::HttpChoice;

/// One target of a run.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub url: Url,
    /// Request headers for this target (`-H`, the config's, and the command's own).
    pub headers: HeaderMap,
    /// The HTTP version for this target when it is not the run's (`http = "3"`,
    /// `--http3-target LABEL`).
    pub http: Option<HttpChoice>,
}

/// Config targets, then command-line targets; a command-line target replaces a config target
/// with the same label. A label twice from the same source is an error.
pub fn merge_targets(
    from_config: &[ConfigTarget],
    from_flags: &[String],
    common_headers: &HeaderMap,
) -> Result<Vec<Target>, UsageError> {
    let mut targets: Vec<Target> = Vec::new();
    let mut config_labels = HashMap::new();
    for (index, entry) in from_config.iter().enumerate() {
        let mut headers = common_headers.clone();
        headers.extend(parse_headers(&entry.headers)?);
        let mut target = target(&entry.label, &entry.url, headers)?;
        target.http = entry.http;
        if config_labels.insert(target.label.clone(), index).is_some() {
            return Err(UsageError::new(format!(
                "duplicate target label {:?} in --config",
                target.label
            )));
        }
        targets.push(target);
    }
    let mut flag_labels = HashMap::new();
    for spec in from_flags {
        let (label, url) = spec
            .split_once('=')
            .ok_or_else(|| UsageError::new(format!("--target {spec:?}: expected LABEL=URL")))?;
        let target = target(label, url, common_headers.clone())?;
        if flag_labels.insert(target.label.clone(), ()).is_some() {
            return Err(UsageError::new(format!(
                "duplicate target label {:?}",
                target.label
            )));
        }
        match config_labels.get(&target.label) {
            Some(&index) => targets[index] = target,
            None => targets.push(target),
        }
    }
    Ok(targets)
}

fn target(label: &str, url: &str, headers: HeaderMap) -> Result<Target, UsageError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(UsageError::new(format!("target {url:?}: empty label")));
    }
    let parsed =
        Url::parse(url).map_err(|e| UsageError::new(format!("target {label}: {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UsageError::new(format!(
            "target {label}: unsupported scheme {:?} (use http or https)",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UsageError::new(format!(
            "target {label}: {url:?} has no host"
        )));
    }
    Ok(Target {
        label: label.to_string(),
        url: parsed,
        headers,
        http: None,
    })
}

/// `--http3-target LABEL`: those targets over HTTP/3. An unknown label is a usage error, and
/// HTTP/3 needs an https URL.
pub fn apply_http3_labels(targets: &mut [Target], labels: &[String]) -> Result<(), UsageError> {
    for label in labels {
        let target = targets
            .iter_mut()
            .find(|t| t.label == label.trim())
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--http3-target {label:?}: no target has that label"
                ))
            })?;
        target.http = Some(HttpChoice::Http3);
    }
    Ok(())
}

/// HTTP/3 exists only over TLS: a target that would speak it must be https.
pub fn check_http3_urls(targets: &[Target], run_wide: HttpChoice) -> Result<(), UsageError> {
    for target in targets {
        if target.http.unwrap_or(run_wide) == HttpChoice::Http3 && target.url.scheme() != "https" {
            return Err(UsageError::new(format!(
                "target {}: HTTP/3 needs an https URL",
                target.label
            )));
        }
    }
    Ok(())
}

/// `Name: value` lines into a header map; a later header of the same name replaces an earlier.
pub fn parse_headers(lines: &[String]) -> Result<HeaderMap, UsageError> {
    let mut headers = HeaderMap::new();
    for (position, line) in (1..).zip(lines) {
        let bad = |why: &str| {
            // The value may be a secret, and a line without a colon may be nothing but the value:
            // show only the text before the first colon or space, and only when one follows it.
            let name = line
                .split([':', ' ', '\t'])
                .next()
                .filter(|name| !name.is_empty() && name.len() < line.len());
            match name {
                Some(name) => UsageError::new(format!("-H #{position} ({name}): {why}")),
                None => UsageError::new(format!("-H #{position}: {why}")),
            }
        };
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("expected 'Name: value'"))?;
        let name = HeaderName::try_from(name.trim()).map_err(|_| bad("invalid header name"))?;
        let value = HeaderValue::try_from(value.trim()).map_err(|_| bad("invalid header value"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// `FIRST-LAST` (or `FIRST-` for the rest of the body) into a Range header value.
pub fn range_header(range: &str) -> Result<HeaderValue, UsageError> {
    let bad = || {
        UsageError::new(format!(
            "--range {range:?}: expected FIRST-LAST in bytes, FIRST ≤ LAST (e.g. 0-1048575)"
        ))
    };
    let (first, last) = range.split_once('-').ok_or_else(bad)?;
    let first: u64 = first.trim().parse().map_err(|_| bad())?;
    if !last.trim().is_empty() {
        let last: u64 = last.trim().parse().map_err(|_| bad())?;
        if last < first {
            return Err(bad());
        }
    }
    HeaderValue::try_from(format!("bytes={}", range.trim())).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_first_last_becomes_a_bytes_range() {
        assert_eq!(range_header("0-1023").unwrap(), "bytes=0-1023");
        assert_eq!(range_header("100-").unwrap(), "bytes=100-");
    }

    #[test]
    fn range_with_last_before_first_is_rejected() {
        assert!(range_header("10-5").is_err());
        assert!(range_header("abc").is_err());
        assert!(range_header("-5").is_err());
    }

    #[test]
    fn header_error_does_not_echo_the_value() {
        let error = parse_headers(&["Authorization: Bearer s3cr\x01t".into()]).unwrap_err();
        assert!(!error.to_string().contains("s3cr"), "{error}");
        // Without the colon the whole line is not a name: it must not be echoed either.
        let lines = ["X-Ok: 1".into(), "Authorization Bearer s3cretvalue".into()];
        let error = parse_headers(&lines).unwrap_err().to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(!error.contains("Bearer"), "{error}");
        assert_eq!(error, "-H #2 (Authorization): expected 'Name: value'");
        // A lone token may be the secret itself: only its position is named.
        let error = parse_headers(&["s3cretvalue".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(error, "-H #1: expected 'Name: value'");
    }

    #[test]
    fn command_line_target_replaces_the_config_target_with_its_label() {
        let config = vec![
            ConfigTarget {
                label: "s3".into(),
                url: "https://origin.example/v.mp4".into(),
                headers: vec!["X-From: config".into()],
                ..ConfigTarget::default()
            },
            ConfigTarget {
                label: "cloudfront".into(),
                url: "https://cdn.example/v.mp4".into(),
                ..ConfigTarget::default()
            },
        ];
        let flags = vec!["s3=https://other.example/v.mp4".to_string()];
        let targets = merge_targets(&config, &flags, &HeaderMap::new()).unwrap();
        let labels: Vec<_> = targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["s3", "cloudfront"]);
        assert_eq!(targets[0].url.as_str(), "https://other.example/v.mp4");
        assert!(targets[0].headers.get("x-from").is_none());
    }
}
