//! The `--config` TOML file. Every key is optional; flags given on the command line win.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::UsageError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default, alias = "targets")]
    pub target: Vec<ConfigTarget>,
    pub samples: Option<u64>,
    pub warmup: Option<u64>,
    pub interval: Option<HumanDuration>,
    pub timeout: Option<HumanDuration>,
    pub region: Option<String>,
    pub reuse: Option<bool>,
    pub cache_bust: Option<bool>,
    pub max_bytes: Option<u64>,
    /// Sent to every target, as `-H`.
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub resolvers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigTarget {
    pub label: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<String>,
}

/// A duration written as humantime text in TOML (`"500ms"`).
#[derive(Debug, Clone, Copy)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl ConfigFile {
    /// The file at `path`, or an empty configuration when there is none.
    pub fn load(path: Option<&Path>) -> Result<Self, UsageError> {
        match path {
            Some(path) => Self::read(path),
            None => Ok(Self::default()),
        }
    }

    pub fn read(path: &Path) -> Result<Self, UsageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError::new(format!("--config {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|(line, message)| {
            UsageError::new(format!("{}:{line}: {message}", path.display()))
        })
    }

    /// The text of a config file, or the 1-based line of its first error and the error in one line.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        toml::from_str::<ConfigFile>(text).map_err(|e| {
            // toml's own Display spans several lines; one line with file:line is enough.
            let line = e
                .span()
                .map_or(1, |span| text[..span.start].matches('\n').count() + 1);
            (line, e.message().replace('\n', " ").trim().to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_reads_targets_headers_and_durations() {
        let file = ConfigFile::parse(
            r#"
            samples = 5
            interval = "500ms"
            [[target]]
            label = "s3"
            url = "https://origin.example/v.mp4"
            headers = ["X-Token: abc"]
            "#,
        )
        .unwrap();
        assert_eq!(file.samples, Some(5));
        assert_eq!(file.interval.unwrap().0, Duration::from_millis(500));
        assert_eq!(file.target[0].headers, ["X-Token: abc"]);
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let (line, message) = ConfigFile::parse("samples = 5\n\nsampels = 6\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("sampels"), "{message}");
    }
}
