//! Object-store URLs (`s3://`, `gs://`, `az://`, `file:///`) → a store and a prefix in it, with
//! the credentials of the standard environment, and store errors in one line that names the
//! cause without ever printing a secret. Shared by `input` (reading) and `sink` (writing).

mod profile;

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use crate::error::UsageError;

/// Where a store request should go instead of the provider's own endpoint (MinIO, moto, R2…):
/// `--s3-endpoint`, else `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// Endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000 [env: AWS_ENDPOINT_URL].
    /// Credentials come from the standard chains (environment, profile, instance or task role).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

/// How long a request to the store is retried (with exponential backoff) before it fails.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(60);

/// A store and the prefix an URL named in it.
#[derive(Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
    /// `s3://bucket` (no trailing slash): object names in messages are `{base}/{key}`.
    pub base: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url_of(&self.prefix))
    }
}

impl Location {
    /// The URL of an object, as messages name it.
    pub fn url_of(&self, key: &ObjectPath) -> String {
        format!("{}/{}", self.base, key)
    }
}

/// True when `text` names an object store rather than a local path.
pub fn is_url(text: &str) -> bool {
    [
        "s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://", "file://",
    ]
    .iter()
    .any(|scheme| text.starts_with(scheme))
}

/// Opens the store an URL names. `retry_for` bounds how long one request is retried.
pub fn open(text: &str, args: &StoreArgs, retry_for: Duration) -> Result<Location, UsageError> {
    let bad = |why: String| UsageError(format!("{text}: {why}"));
    let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(8),
            base: 2.0,
        },
        max_retries: 8,
        retry_timeout: retry_for,
    };
    // Connecting to a store that is down must fail within the retry budget, not hang.
    let client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120));
    let key_path = || ObjectPath::from_url_path(url.path()).map_err(|e| bad(e.to_string()));
    let (store, prefix, base): (Arc<dyn ObjectStore>, ObjectPath, String) = match url.scheme() {
        "s3" | "s3a" => {
            let bucket = url.host_str().ok_or_else(|| bad("no bucket".into()))?;
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry)
                .with_client_options(client);
            let endpoint = args
                .s3_endpoint
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
            if let Some(endpoint) = endpoint {
                let http = endpoint.starts_with("http://");
                builder = builder.with_endpoint(endpoint).with_allow_http(http);
            }
            if let Some(profile) = profile::credentials()? {
                builder = profile.apply(builder);
            }
            let store = builder.build().map_err(|e| bad(describe(&e)))?;
            (Arc::new(store), key_path()?, format!("s3://{bucket}"))
        }
        "gs" => {
            let bucket = url.host_str().ok_or_else(|| bad("no bucket".into()))?;
            let store = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry)
                .with_client_options(client)
                .build()
                .map_err(|e| bad(describe(&e)))?;
            (Arc::new(store), key_path()?, format!("gs://{bucket}"))
        }
        "az" | "abfs" | "abfss" => {
            // az://container/key: the account comes from AZURE_STORAGE_ACCOUNT_NAME.
            let container = url.host_str().ok_or_else(|| bad("no container".into()))?;
            let store = object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(container)
                .with_retry(retry)
                .with_client_options(client)
                .build()
                .map_err(|e| bad(describe(&e)))?;
            let base = format!("{}://{container}", url.scheme());
            (Arc::new(store), key_path()?, base)
        }
        "file" => {
            if url.host_str().is_some_and(|host| !host.is_empty()) {
                return Err(bad("a file URL has no host: file:///absolute/path".into()));
            }
            let root = url
                .to_file_path()
                .map_err(|()| bad("not an absolute path".into()))?;
            std::fs::create_dir_all(&root).map_err(|e| bad(e.to_string()))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(&root)
                .map_err(|e| bad(describe(&e)))?;
            let base = format!("file://{}", root.display());
            (Arc::new(store), ObjectPath::default(), base)
        }
        other => {
            return Err(bad(format!(
                "unsupported scheme {other}:// (use s3, gs, az or file)"
            )));
        }
    };
    Ok(Location {
        store,
        prefix,
        base: base.trim_end_matches('/').to_owned(),
    })
}

/// A store error in one line: the HTTP status and the store's own error code and message when
/// there are some (`403 InvalidAccessKeyId: …`), else the deepest cause (`Connection refused`).
/// Request URLs and signatures never appear: only the object's name, which the caller adds.
pub fn describe(error: &object_store::Error) -> String {
    let chain = error_chain(error);
    let code = between(&chain, "<Code>", "</Code>");
    let message = between(&chain, "<Message>", "</Message>");
    let status = chain
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 3 && (word.starts_with('4') || word.starts_with('5')))
        .filter(|_| chain.contains("status"));
    let cause = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => deepest_cause(error),
    };
    let hint = match code {
        Some("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied" | "ExpiredToken") => {
            " (check the credentials: AWS_ACCESS_KEY_ID / AWS_PROFILE / the instance role)"
        }
        Some("NoSuchBucket") => " (create the bucket, or check the URL)",
        _ => "",
    };
    let cause = match status {
        Some(status) if code.is_some() => format!("{status} {cause}"),
        _ => cause,
    };
    format!("{cause}{hint}").replace(['\n', '\r'], " ")
}

/// Every error in the chain, joined: the store's XML error body is in one of them.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" | ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The innermost error's text: "Connection refused (os error 111)", not the request that failed.
fn deepest_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest: &dyn std::error::Error = error;
    while let Some(inner) = deepest.source() {
        deepest = inner;
    }
    let text = deepest.to_string();
    // The outermost errors of object_store name the request URL; never print those whole.
    if text.contains("http://") || text.contains("https://") {
        return "the store could not be reached".to_owned();
    }
    text
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(is_url("s3://bucket/prefix"));
        assert!(is_url("file:///tmp/x"));
        assert!(!is_url("results/auckland.csv"));
        assert!(!is_url("/abs/s3://odd"));
    }

    #[test]
    fn an_unknown_scheme_is_bad_input_naming_the_choices() {
        let error = open("ftp://host/x", &StoreArgs::default(), DEFAULT_RETRY_FOR).unwrap_err();
        assert_eq!(
            error.0,
            "ftp://host/x: unsupported scheme ftp:// (use s3, gs, az or file)"
        );
    }

    #[test]
    fn the_store_s_code_and_message_are_picked_out_of_its_xml() {
        let xml = "Client error with status 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
        assert_eq!(
            between(xml, "<Code>", "</Code>"),
            Some("InvalidAccessKeyId")
        );
    }
}
