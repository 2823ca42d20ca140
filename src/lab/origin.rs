//! The real origin, in-process: `cdnprobe-server` with local storage, and the untimed upload
//! that puts a video on it through its public API.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use cdnprobe_server::InProcessServer;
use clap::Parser as _;

/// A running `cdnprobe-server`. `stop` shuts it down gracefully; dropping it aborts it.
pub struct OriginServer {
    server: InProcessServer,
}

/// A video the origin holds, as its upload answer described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedVideo {
    pub id: String,
    pub size: u64,
    /// The path of its stream URL (`/api/v1/videos/{id}`): the same on every lab host.
    pub path: String,
}

impl OriginServer {
    /// Starts the server on a free loopback port, storing videos under `data_dir`.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let data_dir = data_dir
            .to_str()
            .context("the data directory is not UTF-8")?;
        // The same command line a user would type to start it.
        let args =
            cdnprobe_server::Args::try_parse_from(["cdnprobe-server", "--data-dir", data_dir])?;
        Ok(Self {
            server: InProcessServer::start(args).await?,
        })
    }

    /// Where the server listens (plain HTTP).
    pub fn addr(&self) -> SocketAddr {
        self.server.address()
    }

    /// Uploads `bytes` as `filename` through `POST /api/v1/videos/upload`.
    pub async fn upload(
        &self,
        filename: &str,
        bytes: &'static [u8],
    ) -> anyhow::Result<UploadedVideo> {
        // reqwest is built without a default crypto provider; this plain-HTTP upload needs none,
        // but building a client does. Installing ring again is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str("video/mp4")?;
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("title", "cdnprobe demo sample");
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/videos/upload", self.server.base_url()))
            .multipart(form)
            .send()
            .await
            .context("uploading to the origin")?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.context("reading the upload answer")?;
        anyhow::ensure!(
            status.is_success(),
            "the origin refused the upload ({status}): {body}"
        );
        let stream = body["urls"]["stream"]
            .as_str()
            .context("the upload answer has no urls.stream")?;
        Ok(UploadedVideo {
            id: body["id"].as_str().unwrap_or_default().to_owned(),
            size: body["size"]
                .as_u64()
                .context("the upload answer has no size")?,
            path: url::Url::parse(stream)
                .with_context(|| format!("the upload answer's stream URL {stream:?}"))?
                .path()
                .to_owned(),
        })
    }

    /// Asks the server to stop and waits until it has.
    pub async fn stop(self) {
        let _ = self.server.stop().await;
    }
}
