//! `cdnprobe upload`: send a test video to a cdnprobe-server and print the URLs to probe.
//!
//! The file is streamed from disk (never read whole), with a progress bar for large files.
//! The server's `s3` and `cdn` URLs are exactly what `cdnprobe run` takes as targets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bytes::BytesMut;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::usage_error;

/// Files from this size up get a progress bar.
const PROGRESS_FROM_BYTES: u64 = 8 << 20;
const READ_BYTES: usize = 256 << 10;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The video file to upload (mp4, mov, m4v, webm, mkv, avi or mpeg-ts).
    pub file: PathBuf,

    /// Base URL of the cdnprobe-server, for example http://127.0.0.1:8080.
    #[arg(long)]
    pub server: String,

    /// Upload token of the server (sent as `Authorization: Bearer TOKEN`). An empty one (say,
    /// a CI secret that is missing) is refused, as the server refuses it.
    #[arg(
        long,
        env = "CDNPROBE_UPLOAD_TOKEN",
        hide_env_values = true,
        value_parser = cdnprobe_server::config::upload_token
    )]
    pub token: Option<String>,

    /// Title stored with the video.
    #[arg(long)]
    pub title: Option<String>,

    /// Description stored with the video.
    #[arg(long)]
    pub description: Option<String>,

    /// Tags stored with the video, comma-separated.
    #[arg(long)]
    pub tags: Option<String>,
}

/// The parts of the server's answer this command prints.
#[derive(Debug, Deserialize)]
struct Uploaded {
    id: String,
    size: u64,
    urls: Urls,
}

#[derive(Debug, Deserialize)]
struct Urls {
    stream: String,
    info: String,
    s3: Option<String>,
    cdn: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ServerError {
    error: String,
    detail: String,
}

pub async fn execute(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let file = tokio::fs::File::open(&args.file)
        .await
        .map_err(|error| usage_error!("{}: {error}", args.file.display()))?;
    let metadata = file.metadata().await.context("reading the file's size")?;
    if !metadata.is_file() {
        return Err(usage_error!("{}: not a file", args.file.display()));
    }
    let size = metadata.len();
    let filename = args
        .file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    let endpoint = upload_endpoint(&args.server)?;

    let progress = if size >= PROGRESS_FROM_BYTES {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let body = reqwest::Body::wrap_stream(file_chunks(file, progress.clone()));
    let part = reqwest::multipart::Part::stream_with_length(body, size)
        .file_name(filename.clone())
        .mime_str("application/octet-stream")?;
    let mut form = reqwest::multipart::Form::new().part("file", part);
    for (name, value) in [
        ("title", &args.title),
        ("description", &args.description),
        ("tags", &args.tags),
    ] {
        if let Some(value) = value {
            form = form.text(name, value.clone());
        }
    }

    // The probe may have installed a TLS provider already; either way one is there after this.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let mut request = client.post(endpoint.clone()).multipart(form);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("uploading to {endpoint}"))?;
    progress.finish_and_clear();
    let status = response.status();
    let text = response
        .text()
        .await
        .context("reading the server's answer")?;
    if !status.is_success() {
        let message = match serde_json::from_str::<ServerError>(&text) {
            Ok(error) => format!("{}: {}", error.error, error.detail),
            Err(_) => text.trim().chars().take(300).collect(),
        };
        anyhow::bail!("the server refused the upload ({status}): {message}");
    }
    let uploaded: Uploaded = serde_json::from_str(&text)
        .with_context(|| format!("the server's answer is not the expected JSON: {text}"))?;
    print_uploaded(&filename, &uploaded);
    Ok(ExitCode::SUCCESS)
}

/// `{server}/api/v1/videos/upload`, keeping any path prefix the server URL has.
fn upload_endpoint(server: &str) -> anyhow::Result<url::Url> {
    let mut base = url::Url::parse(server)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| usage_error!("--server {server}: expected an http:// or https:// URL"))?;
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    Ok(base.join("api/v1/videos/upload")?)
}

/// The file as a stream of chunks, advancing the progress bar as they are read.
fn file_chunks(
    file: tokio::fs::File,
    progress: ProgressBar,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures::stream::try_unfold((file, progress), |(mut file, progress)| async move {
        let mut chunk = BytesMut::with_capacity(READ_BYTES);
        if file.read_buf(&mut chunk).await? == 0 {
            return Ok(None);
        }
        progress.inc(chunk.len() as u64);
        Ok(Some((chunk.freeze(), (file, progress))))
    })
}

fn print_uploaded(filename: &str, uploaded: &Uploaded) {
    println!(
        "uploaded {filename} ({} bytes) as {}",
        uploaded.size, uploaded.id
    );
    println!("stream  {}", uploaded.urls.stream);
    println!("info    {}", uploaded.urls.info);
    for (name, url) in [("s3", &uploaded.urls.s3), ("cdn", &uploaded.urls.cdn)] {
        match url {
            Some(url) => println!("{name:<7} {url}"),
            None => eprintln!(
                "note: no {name} URL: the server was started without --{}",
                if name == "s3" {
                    "s3-public-base-url"
                } else {
                    "cdn-base-url"
                }
            ),
        }
    }
}
