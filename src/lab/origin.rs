//! The real origin, in-process: `cdnprobe-server` with local storage, and the untimed upload
//! that puts a video on it through its public API.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use clap::Parser as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running `cdnprobe-server`. `stop` shuts it down gracefully; dropping it aborts it.
pub struct OriginServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
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
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let data_dir = data_dir
            .to_str()
            .context("the data directory is not UTF-8")?;
        // The same command line a user would type to start it.
        let args = cdnprobe_server::Args::try_parse_from([
            "cdnprobe-server",
            "--listen",
            &addr.to_string(),
            "--data-dir",
            data_dir,
        ])?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(cdnprobe_server::serve(args, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// Where the server listens (plain HTTP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
            .post(format!("http://{}/api/v1/videos/upload", self.addr))
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
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for OriginServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
