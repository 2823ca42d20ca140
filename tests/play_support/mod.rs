//! Real servers for the playback tests: the `cdnprobe-server` holding the committed MP4s, nginx
//! serving the committed HLS ladders, and lab links in front of either.
#![allow(dead_code)] // each test file uses its own part of this support

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cdnprobe::lab::link::{Link, LinkProfile, Shape};
use cdnprobe::lab::origin::OriginServer;
use cdnprobe::play::model::ModelSettings;
use cdnprobe::play::mp4::DEFAULT_MAX_MOOV_BYTES;
use cdnprobe::play::session::{self, SessionOutcome, SessionSettings};
use cdnprobe::probe::{DnsSettings, HttpChoice, IpFamily, Prober, TlsSettings};
use http::HeaderMap;
use url::Url;

pub fn media_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/media")
}

pub fn media(name: &str) -> &'static [u8] {
    Box::leak(
        std::fs::read(media_dir().join(name))
            .unwrap()
            .into_boxed_slice(),
    )
}

/// A plain-HTTP prober, as `play` builds one, with a generous per-request timeout.
pub fn prober() -> Prober {
    Prober {
        dns: DnsSettings::servers(&[], IpFamily::Any),
        family: IpFamily::Any,
        tls: TlsSettings::new(None, false, HttpChoice::Auto.alpn()).unwrap(),
        http: HttpChoice::Auto,
        timeout: Duration::from_secs(10),
        max_bytes: None,
    }
}

pub fn settings(model: ModelSettings) -> SessionSettings {
    SessionSettings {
        model,
        variant: Default::default(),
        seek: None,
        max_moov_bytes: DEFAULT_MAX_MOOV_BYTES,
    }
}

pub async fn play(settings: &SessionSettings, url: &str) -> SessionOutcome {
    let url = Url::parse(url).unwrap();
    session::play(&prober(), &HeaderMap::new(), settings, &url).await
}

/// The cdnprobe-server with the committed MP4s uploaded; their stream paths.
pub struct Mp4Origin {
    pub server: OriginServer,
    pub faststart: String,
    pub tail: String,
    _dir: tempfile::TempDir,
}

impl Mp4Origin {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = OriginServer::start(dir.path()).await.unwrap();
        let faststart = server
            .upload("clip.mp4", media("clip.mp4"))
            .await
            .unwrap()
            .path;
        let tail = server
            .upload("clip-tail.mp4", media("clip-tail.mp4"))
            .await
            .unwrap()
            .path;
        Self {
            server,
            faststart,
            tail,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }
}

/// A link whose downlink runs at `bytes_per_second` (and `latency` each way).
pub async fn link(upstream: SocketAddr, latency: Duration, bytes_per_second: Option<f64>) -> Link {
    let up = Shape::latency(latency);
    let down = match bytes_per_second {
        Some(rate) => Shape::latency(latency).with_rate(rate),
        None => Shape::latency(latency),
    };
    Link::start(
        upstream,
        LinkProfile {
            uplink: up,
            downlink: down,
        },
    )
    .await
    .unwrap()
}

/// nginx (Debian's, installed by scripts/test.sh) serving `root` on a free loopback port.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(root: &Path) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "daemon off; master_process off; error_log {dir}/error.log; pid {dir}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{ access_log off; client_body_temp_path {dir}; proxy_temp_path {dir};\n\
               fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};\n\
               types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/mp4 mp4 m4s; }}\n\
               server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n",
            dir = dir.path().display(),
            root = root.display(),
        );
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new(nginx_binary())
            .arg("-c")
            .arg(&config_path)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (apt-get install -y nginx; scripts/test.sh installs it)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        for _ in 0..200 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Nginx {
                    child,
                    addr,
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("nginx did not start on {addr}");
    }
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A web root for nginx: the committed media under `media/`, plus playlists a test writes.
pub struct WebRoot {
    pub dir: tempfile::TempDir,
}

impl WebRoot {
    pub fn new() -> WebRoot {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(media_dir(), dir.path().join("media")).unwrap();
        WebRoot { dir }
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.dir.path().join(name), contents).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A VOD media playlist of 2 s segments, one URI per segment.
pub fn media_playlist(uris: &[String]) -> String {
    let mut text = String::from(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n",
    );
    for uri in uris {
        text.push_str(&format!("#EXTINF:2.0,\n{uri}\n"));
    }
    text.push_str("#EXT-X-ENDLIST\n");
    text
}
