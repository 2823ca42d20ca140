//! The `--config` TOML file. Every key is optional; flags given on the command line win.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::UsageError;
use crate::probe::HttpChoice;

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
    /// `exporter`: each scheduled probe starts up to this much after its slot, at random.
    pub jitter: Option<HumanDuration>,
    /// `exporter`: probes running at once, at most.
    pub concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigTarget {
    pub label: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<String>,
    /// `exporter`: this target's place in the speedup comparison.
    #[serde(default)]
    pub role: Role,
    /// `exporter`: probe this target this often instead of the global `interval`; `"0s"`
    /// never schedules it (only `/probe` fetches it).
    pub interval: Option<HumanDuration>,
    /// `exporter`: this target's jitter instead of the global one.
    pub jitter: Option<HumanDuration>,
    /// `exporter`: run playback sessions (as `cdnprobe play`) instead of single fetches.
    #[serde(default)]
    pub play: bool,
    /// `exporter`, with `play`: seek once after startup, to a share (`"50%"`) or a time (`"12s"`).
    pub seek: Option<String>,
    /// `exporter`, with `play`: media played per session (default 10s, as `play --watch`).
    pub watch: Option<HumanDuration>,
    /// `"3"` probes this target over HTTP/3 (also `"1.1"`, `"2"`, `"auto"`); default: the run's.
    pub http: Option<HttpChoice>,
}

/// What a target is in the speedup comparison: the exporter's recording rules divide the
/// baseline's quantile by each candidate's in the same region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The origin, reached without the CDN.
    Baseline,
    /// A CDN in front of that origin.
    Candidate,
    /// In no comparison.
    #[default]
    None,
}

impl Role {
    /// The `role` label value; empty (no label, to Prometheus) for [`Role::None`].
    pub fn name(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Candidate => "candidate",
            Role::None => "",
        }
    }
}

/// A duration as `--timeout`, `--interval` and the config file take it: humantime text
/// (`500ms`, `2s`, `1m 30s`), or a bare number of seconds (`5`, `0.5`) as curl's `--max-time`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        let seconds: f64 = text
            .parse()
            .map_err(|_| format!("{text:?} is not a number of seconds"))?;
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("{text:?} seconds is out of range"));
    }
    humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e} (e.g. 5, 500ms, 2s)"))
}

/// A duration written in TOML as text (`"500ms"`, `"5"`) or a number of seconds (`5`).
#[derive(Debug, Clone, Copy)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Seconds(f64),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Seconds(seconds) => seconds.to_string(),
        };
        parse_duration(&text)
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
        assert_eq!(file.target[0].http, None);
    }

    #[test]
    fn a_target_may_choose_its_http_version() {
        let file = ConfigFile::parse(
            "[[target]]\nlabel = \"cf-h3\"\nurl = \"https://cdn.example/v.mp4\"\nhttp = \"3\"\n",
        )
        .unwrap();
        assert_eq!(file.target[0].http, Some(HttpChoice::Http3));
        let (line, message) =
            ConfigFile::parse("[[target]]\nlabel = \"a\"\nurl = \"https://a/\"\nhttp = \"4\"\n")
                .unwrap_err();
        assert_eq!(line, 4);
        assert!(message.contains("unknown variant"), "{message}");
    }

    #[test]
    fn exporter_keys_read_per_target_roles_and_intervals() {
        let file = ConfigFile::parse(
            "interval = \"15s\"\njitter = \"2s\"\nconcurrency = 4\n\
             [[target]]\nlabel = \"s3\"\nurl = \"https://o.example/v\"\nrole = \"baseline\"\n\
             interval = \"5s\"\n",
        )
        .unwrap();
        assert_eq!(file.jitter.unwrap().0, Duration::from_secs(2));
        assert_eq!(file.concurrency, Some(4));
        assert_eq!(file.target[0].role, Role::Baseline);
        assert_eq!(file.target[0].interval.unwrap().0, Duration::from_secs(5));
        let (line, message) =
            ConfigFile::parse("[[target]]\nlabel = \"a\"\nurl = \"u\"\nrole = \"fast\"\n")
                .unwrap_err();
        assert_eq!(line, 4, "{message}");
    }

    #[test]
    fn bare_numbers_are_seconds_and_units_still_work() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("1.2.3").is_err());
        let file = ConfigFile::parse("timeout = 5\ninterval = \"2\"\n").unwrap();
        assert_eq!(file.timeout.unwrap().0, Duration::from_secs(5));
        assert_eq!(file.interval.unwrap().0, Duration::from_secs(2));
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let (line, message) = ConfigFile::parse("samples = 5\n\nsampels = 6\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("sampels"), "{message}");
    }
}
