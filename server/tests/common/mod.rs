//! Test harness: the real `cdnprobe-server` binary on a free loopback port, storing on a
//! temporary directory or in a bucket of a real S3-compatible server (moto_server).
#![allow(dead_code)] // each test file uses its own part of the harness

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::OnceCell;

pub const SAMPLE: &[u8] = include_bytes!("../../../assets/sample.mp4");

/// Runs each named spec `async fn NAME(backend: Backend)` once per storage backend, as the
/// tests `local::NAME` and `s3::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $( #[tokio::test] async fn $name() { super::$name($crate::common::Backend::Local).await } )*
        }
        mod s3 {
            $( #[tokio::test] async fn $name() { super::$name($crate::common::Backend::S3).await } )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    S3,
}

/// Where a server keeps its videos; outlives restarts of the server.
enum Store {
    Local(TempDir),
    S3 { endpoint: String, bucket: String },
}

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    store: Store,
    extra_args: Vec<String>,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Self::start_with(backend, &[]).await
    }

    pub async fn start_with(backend: Backend, extra_args: &[&str]) -> Server {
        let store = match backend {
            Backend::Local => Store::Local(tempfile::tempdir().expect("temporary directory")),
            Backend::S3 => {
                let endpoint = moto_endpoint().await.to_string();
                let bucket = format!("videos-{:016x}", rand::random::<u64>());
                let created = reqwest::Client::new()
                    .put(format!("{endpoint}/{bucket}"))
                    .send()
                    .await
                    .expect("moto_server answers");
                assert!(
                    created.status().is_success(),
                    "creating the bucket: {}",
                    created.status()
                );
                Store::S3 { endpoint, bucket }
            }
        };
        let extra_args: Vec<String> = extra_args.iter().map(|arg| arg.to_string()).collect();
        let (child, base) = spawn_server(&store, &extra_args);
        Server {
            child,
            base,
            store,
            extra_args,
            http: reqwest::Client::new(),
        }
    }

    /// Stops the server with SIGTERM, waits for it to exit, and starts a new one on the same
    /// storage (on another port).
    pub async fn restart(&mut self) {
        self.stop();
        let (child, base) = spawn_server(&self.store, &self.extra_args);
        self.child = child;
        self.base = base;
    }

    /// SIGTERM, then wait: the graceful shutdown path.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(killed.expect("kill runs").success());
        self.child.wait().expect("server exits")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn video_url(&self, id: &str) -> String {
        self.url(&format!("/api/v1/videos/{id}"))
    }

    pub async fn upload(&self, form: Form) -> reqwest::Response {
        self.upload_with(form, |request| request).await
    }

    pub async fn upload_with(
        &self,
        form: Form,
        adjust: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> reqwest::Response {
        let (content_type, body) = form.finish();
        let request = self
            .http
            .post(self.url("/api/v1/videos/upload"))
            .header("content-type", content_type)
            .body(body);
        adjust(request)
            .send()
            .await
            .expect("the server answers the upload")
    }

    /// Uploads `bytes` as a video and returns the server's JSON, asserting 201.
    pub async fn upload_video(&self, bytes: &[u8]) -> serde_json::Value {
        let response = self
            .upload(Form::new().file("file", "clip.mp4", bytes))
            .await;
        assert_eq!(
            response.status(),
            201,
            "upload answered {:?}",
            response.text().await
        );
        response.json().await.expect("upload answers JSON")
    }

    /// Everything in storage: files (including staged ones) or objects and unfinished
    /// multipart uploads.
    pub async fn stored(&self) -> Vec<String> {
        match &self.store {
            Store::Local(dir) => files_under(dir.path(), dir.path()),
            Store::S3 { endpoint, bucket } => {
                let objects = get_text(&format!("{endpoint}/{bucket}?list-type=2")).await;
                let uploads = get_text(&format!("{endpoint}/{bucket}?uploads")).await;
                let mut found = xml_values(&objects, "Key");
                found.extend(
                    xml_values(&uploads, "Key")
                        .into_iter()
                        .map(|key| format!("unfinished upload of {key}")),
                );
                found
            }
        }
    }

    /// Waits up to 10 s for storage to be empty (an abort finishes in the background).
    pub async fn assert_storage_becomes_empty(&self) {
        for _ in 0..100 {
            if self.stored().await.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("storage still holds {:?}", self.stored().await);
    }

    /// Direct URL of an object in the S3 bucket (what `--s3-public-base-url` points at).
    pub fn bucket_url(&self) -> Option<String> {
        match &self.store {
            Store::S3 { endpoint, bucket } => Some(format!("{endpoint}/{bucket}")),
            Store::Local(_) => None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(store: &Store, extra_args: &[String]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cdnprobe-server"));
    command.args(["--listen", "127.0.0.1:0"]).args(extra_args);
    match store {
        Store::Local(dir) => {
            command.arg("--data-dir").arg(dir.path());
        }
        Store::S3 { endpoint, bucket } => {
            command
                .args([
                    "--s3-bucket",
                    bucket,
                    "--s3-region",
                    "us-east-1",
                    "--s3-endpoint",
                    endpoint,
                ])
                .args(["--s3-public-base-url", &format!("{endpoint}/{bucket}")])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
    }
    command
        .env("RUST_LOG", "info,cdnprobe_server=debug")
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("starting cdnprobe-server");
    let stderr = child.stderr.take().expect("piped stderr");
    let (address_tx, address_rx) = mpsc::channel();
    // Forward the server's log to the test's output, and pick the address from it.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("server: {line}");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = address_tx.send(address);
            }
        }
    });
    let address = address_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("cdnprobe-server reports its address");
    (child, format!("http://{address}"))
}

fn files_under(root: &Path, dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("reading the data directory") {
        let path: PathBuf = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(files_under(root, &path));
        } else {
            files.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
    files
}

async fn get_text(url: &str) -> String {
    let response = reqwest::get(url).await.expect("moto_server answers");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.text().await.expect("text body")
}

fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .map(String::from)
        .collect()
}

/// One moto_server for the whole test binary, on a free loopback port. A small shell watcher
/// stops it when this test process exits.
async fn moto_endpoint() -> &'static str {
    static MOTO: OnceCell<String> = OnceCell::const_new();
    MOTO.get_or_init(|| async {
        let on_path = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("moto_server").is_file()))
            .unwrap_or(false);
        assert!(
            on_path,
            "moto_server is not installed: the S3 tests need it (pip install 'moto[server]'; scripts/test.sh does this)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let watcher = r#"moto_server -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & moto=$!
            while kill -0 "$2" 2>/dev/null && kill -0 "$moto" 2>/dev/null; do sleep 0.5; done
            kill "$moto" 2>/dev/null"#;
        // Never waited for: the watcher outlives this process on purpose, to stop moto after it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", watcher, "sh", &port.to_string(), &std::process::id().to_string()])
            .stdin(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if reqwest::get(format!("{endpoint}/")).await.is_ok() {
                return endpoint;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on {endpoint} within 30 s");
    })
    .await
}

/// A multipart/form-data body built by hand, so tests control every byte of it.
pub struct Form {
    boundary: String,
    body: Vec<u8>,
}

impl Form {
    pub fn new() -> Self {
        Form {
            boundary: "cdnprobe-test-boundary-7MA4YWxkTrZu0gW".into(),
            body: Vec::new(),
        }
    }

    pub fn file(mut self, name: &str, filename: &str, bytes: &[u8]) -> Self {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            self.boundary
        );
        self.body.extend_from_slice(head.as_bytes());
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn text(mut self, name: &str, value: &str) -> Self {
        let part = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
            self.boundary
        );
        self.body.extend_from_slice(part.as_bytes());
        self
    }

    /// The Content-Type header and the body.
    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.body,
        )
    }

    /// Only the start of the body, up to and including the file part's headers: for clients
    /// that stream the rest themselves.
    pub fn file_part_head(&self, filename: &str) -> String {
        format!(
            "--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\r\n",
            self.boundary
        )
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

/// `len` bytes that `infer` takes for an MP4 (the sample's header) followed by a
/// deterministic pseudo-random pattern, so any misplaced byte shows.
pub fn mp4_like(len: usize) -> Vec<u8> {
    let mut bytes = SAMPLE[..64].to_vec();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
