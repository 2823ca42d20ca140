//! Test harness: the real `cdnprobe-server` binary on a free loopback port, storing on a
//! temporary directory or in a bucket of a real S3-compatible server (moto_server).
#![allow(dead_code)] // each test file uses its own part of the harness

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use http::{Method, Request, Response, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tempfile::TempDir;
use tokio::sync::OnceCell;

mod own_moto;
pub use own_moto::OwnMoto;

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
    S3 {
        /// moto_server, where the tests look.
        endpoint: String,
        /// Where the server sends its S3 requests: moto_server, or a relay in front of it.
        server_endpoint: String,
        bucket: String,
    },
}

impl Store {
    /// A new, empty bucket in moto_server, reached by the server through `server_endpoint`
    /// (moto_server itself when `None`).
    async fn new_bucket(server_endpoint: Option<&str>) -> Store {
        Self::bucket_on(moto_endpoint().await, server_endpoint).await
    }

    /// A new, empty bucket in the S3 server at `endpoint`.
    async fn bucket_on(endpoint: &str, server_endpoint: Option<&str>) -> Store {
        let endpoint = endpoint.to_string();
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
        Store::S3 {
            server_endpoint: server_endpoint.unwrap_or(&endpoint).to_string(),
            endpoint,
            bucket,
        }
    }
}

pub struct Server {
    process: ServerProcess,
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
            Backend::S3 => Store::new_bucket(None).await,
        };
        Self::start_on(store, extra_args)
    }

    /// A server on a new bucket of a moto_server of the test's own, which it can stop and kill.
    pub async fn start_on_moto(moto: &OwnMoto, extra_args: &[&str]) -> Server {
        Self::start_on(Store::bucket_on(&moto.endpoint, None).await, extra_args)
    }

    /// A server on a new bucket whose every S3 request goes through `relay`.
    pub async fn start_through(relay: &StorageRelay, extra_args: &[&str]) -> Server {
        Self::start_on(Store::new_bucket(Some(&relay.endpoint)).await, extra_args)
    }

    fn start_on(store: Store, extra_args: &[&str]) -> Server {
        let extra_args: Vec<String> = extra_args.iter().map(|arg| arg.to_string()).collect();
        let process = spawn_server(&store, &extra_args);
        Server {
            base: process.base.clone(),
            process,
            store,
            extra_args,
            http: reqwest::Client::new(),
        }
    }

    /// Stops the server with SIGTERM, waits for it to exit, and starts a new one on the same
    /// storage (on another port).
    pub async fn restart(&mut self) {
        self.stop();
        self.process = spawn_server(&self.store, &self.extra_args);
        self.base = self.process.base.clone();
    }

    /// SIGKILL, as a crash would, and a new server on the same storage.
    pub fn kill_and_restart(&mut self) {
        self.process.child.kill().expect("SIGKILL");
        self.process.child.wait().expect("server exits");
        self.process = spawn_server(&self.store, &self.extra_args);
        self.base = self.process.base.clone();
    }

    /// SIGTERM, then wait: the graceful shutdown path.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let child = &mut self.process.child;
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(killed.expect("kill runs").success());
        child.wait().expect("server exits")
    }
    /// `127.0.0.1:PORT`, for raw sockets.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends `request` as raw bytes on a new connection and returns everything the server
    /// answers until it closes (or 10 s pass): for requests no HTTP client would send.
    pub async fn raw_exchange(&self, request: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::TcpStream::connect(self.address())
            .await
            .unwrap();
        // The server may answer and close before it has read everything: a failed write is
        // part of what is being tested, the answer is what counts.
        let _ = socket.write_all(request).await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer));
        let _ = read.await.expect("the server answers within 10 s");
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// `GET path` with `headers` (each `Name: value`) over a raw socket, `Connection: close`.
    pub async fn raw_get(&self, path: &str, headers: &[String]) -> String {
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.address());
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("Connection: close\r\n\r\n");
        self.raw_exchange(request.as_bytes()).await
    }

    /// The data directory of a local-disk server.
    pub fn data_dir(&self) -> Option<&Path> {
        match &self.store {
            Store::Local(dir) => Some(dir.path()),
            Store::S3 { .. } => None,
        }
    }

    /// The server's process id, to look at its open files.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    pub fn log(&self) -> Vec<String> {
        self.process.log()
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

    /// Asserts that `GET /healthz` answers 200 `{"status": "ok"}`: the server is up and serving.
    pub async fn assert_healthy(&self) {
        let response = self.http.get(self.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["status"], "ok");
    }

    /// Uploads `bytes` and returns the new video's id.
    pub async fn upload_id(&self, bytes: &[u8]) -> String {
        let json = self.upload_video(bytes).await;
        json["id"].as_str().expect("an id").to_string()
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Everything in storage: files (including staged ones) or objects and unfinished
    /// multipart uploads.
    pub async fn stored(&self) -> Vec<String> {
        match &self.store {
            Store::Local(dir) => files_under(dir.path(), dir.path()),
            Store::S3 {
                endpoint, bucket, ..
            } => {
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
            Store::S3 {
                endpoint, bucket, ..
            } => Some(format!("{endpoint}/{bucket}")),
            Store::Local(_) => None,
        }
    }
}

/// A command that starts the `cdnprobe-server` binary on a free loopback port, without any
/// upload token the test's own environment might hold.
pub fn server_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cdnprobe-server"));
    command
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("CDNPROBE_UPLOAD_TOKEN");
    command
}

fn spawn_server(store: &Store, extra_args: &[String]) -> ServerProcess {
    let mut command = server_command();
    command.args(extra_args);
    match store {
        Store::Local(dir) => {
            command.arg("--data-dir").arg(dir.path());
        }
        Store::S3 {
            endpoint,
            server_endpoint,
            bucket,
        } => {
            command
                .args([
                    "--s3-bucket",
                    bucket,
                    "--s3-region",
                    "us-east-1",
                    "--s3-endpoint",
                    server_endpoint,
                ])
                .args(["--s3-public-base-url", &format!("{endpoint}/{bucket}")])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
    }
    ServerProcess::launch(command)
}

/// A running `cdnprobe-server` process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `command` and waits until the server logs the address it listens on. Its log
    /// goes on to the test's output, and is kept for [`log`](Self::log).
    pub fn launch(mut command: Command) -> ServerProcess {
        command
            .env("RUST_LOG", "info,cdnprobe_server=debug")
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("starting cdnprobe-server");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let kept = log.clone();
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
                kept.lock().unwrap().push(line);
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("cdnprobe-server reports its address");
        ServerProcess {
            child,
            base: format!("http://{address}"),
            log,
        }
    }

    /// The lines the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP relay between a server and moto_server that notes every S3 request (`METHOD
/// /path`) and can hold some back: to count what a response costs in storage requests, and
/// to widen a moment of an upload's commit.
pub struct StorageRelay {
    /// `http://127.0.0.1:PORT`, for the server's --s3-endpoint.
    pub endpoint: String,
    requests: Arc<Mutex<Vec<String>>>,
    hold: Arc<Mutex<Option<Hold>>>,
}

/// Requests of `method` whose path ends with `path_suffix` wait `delay` before going on.
#[derive(Clone)]
struct Hold {
    method: Method,
    path_suffix: String,
    delay: Duration,
}

impl StorageRelay {
    pub async fn start() -> StorageRelay {
        let upstream = moto_endpoint().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = StorageRelay {
            endpoint: format!("http://{}", listener.local_addr().unwrap()),
            requests: Arc::default(),
            hold: Arc::default(),
        };
        let (requests, hold) = (relay.requests.clone(), relay.hold.clone());
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (client, requests, hold) = (client.clone(), requests.clone(), hold.clone());
                let service = hyper::service::service_fn(move |request| {
                    let (client, requests, hold) = (client.clone(), requests.clone(), hold.clone());
                    async move {
                        let hold = hold.lock().unwrap().clone();
                        pass_on(&client, upstream, &requests, hold, request).await
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service),
                );
            }
        });
        relay
    }

    /// From now on, `method` requests for paths ending with `path_suffix` wait `delay`.
    pub fn hold(&self, method: Method, path_suffix: &str, delay: Duration) {
        *self.hold.lock().unwrap() = Some(Hold {
            method,
            path_suffix: path_suffix.into(),
            delay,
        });
    }

    /// Every request so far, as `METHOD /bucket/key`, in the order they arrived.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

type RelayedBody = BoxBody<Bytes, reqwest::Error>;

/// Passes one request on to moto_server and streams its answer back.
async fn pass_on(
    client: &reqwest::Client,
    upstream: &str,
    requests: &Mutex<Vec<String>>,
    hold: Option<Hold>,
    request: Request<Incoming>,
) -> Result<Response<RelayedBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    requests
        .lock()
        .unwrap()
        .push(format!("{} {path}", parts.method));
    let body = body.collect().await.expect("request body").to_bytes();
    if let Some(hold) =
        hold.filter(|hold| hold.method == parts.method && path.ends_with(&hold.path_suffix))
    {
        tokio::time::sleep(hold.delay).await;
    }
    let mut headers = parts.headers.clone();
    for hop in [
        header::HOST,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(hop);
    }
    let query = parts
        .uri
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let answer = client
        .request(parts.method.clone(), format!("{upstream}{path}{query}"))
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("moto_server answers the relay");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            response = response.header(name, value);
        }
    }
    let body = StreamBody::new(answer.bytes_stream().map_ok(Frame::data));
    Ok(response.body(BodyExt::boxed(body)).unwrap())
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
