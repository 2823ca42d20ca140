//! Shared pieces of the exporter tests: the `cdnprobe exporter` binary as a child process, a
//! real Prometheus server (Debian's `prometheus`), and HTTP GETs over loopback.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `cdnprobe exporter`, killed when dropped.
pub struct Exporter {
    child: Child,
    pub addr: SocketAddr,
    /// Everything it wrote to stderr so far (for failure messages).
    pub stderr: Arc<Mutex<String>>,
}

impl Exporter {
    /// Starts the exporter with `args` (which should include `--listen 127.0.0.1:0`) and waits
    /// for the line naming the address it listens on.
    pub fn start(args: &[&str]) -> Exporter {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cdnprobe"));
        command.arg("exporter").args(args);
        Self::from_command(command)
    }

    /// [`Exporter::start`] for a `cdnprobe exporter …` command prepared by the caller (its
    /// environment, its working directory).
    pub fn from_command(mut command: Command) -> Exporter {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cdnprobe exporter starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, listening) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr piped");
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = found.send(addr.trim().to_string());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match listening.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the exporter never said where it listens:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        Exporter {
            child,
            addr,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("waiting on the exporter")
    }

    /// SIGTERM, then the exit status (within `limit`).
    pub fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cdnprobe exporter` with `args` to its end and returns (status, stderr).
pub fn run_exporter_to_end(args: &[&str]) -> (ExitStatus, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .arg("exporter")
        .args(args)
        .output()
        .expect("cdnprobe exporter runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A scratch directory holding a `probe.toml` of `toml`: (the directory, the file's path).
pub fn config_file(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("scratch directory");
    let config = dir.path().join("probe.toml");
    std::fs::write(&config, toml).expect("probe.toml written");
    (dir, config)
}

/// A free TCP port on 127.0.0.1 (for programs that cannot report the one they bound).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A GET over loopback: (status, body).
pub async fn get(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.expect("GET over loopback");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// `promtool` from Debian's `prometheus` package.
pub fn promtool() -> Command {
    Command::new(tool("promtool"))
}

/// Panics with promtool's complaint unless `text` passes `promtool check metrics`.
pub fn check_metrics(text: &str) {
    let mut check = promtool()
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = check.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn tool(name: &str) -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    found.unwrap_or_else(|| {
        panic!("{name} not found: scripts/test.sh installs Debian's `prometheus` package")
    })
}

/// A real Prometheus server on a free loopback port, with its own config and data directory;
/// killed when dropped.
pub struct Prometheus {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `exporter` every second and evaluates `rule_files` every second.
    pub async fn start(exporter: SocketAddr, rule_files: &[&Path]) -> Prometheus {
        Self::start_with(exporter, rule_files, &[]).await
    }

    /// The same with Prometheus's `--enable-feature` flags (`native-histograms`).
    pub async fn start_with(
        exporter: SocketAddr,
        rule_files: &[&Path],
        features: &[&str],
    ) -> Prometheus {
        let dir = tempfile::tempdir().expect("scratch directory");
        let rules: Vec<String> = rule_files
            .iter()
            .map(|p| format!("  - {}\n", p.display()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n{}\
             scrape_configs:\n  - job_name: cdnprobe\n    static_configs:\n      - targets: [\"{exporter}\"]\n",
            rules.concat()
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("prometheus.yml written");
        let port = free_port();
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(features.iter().map(|f| format!("--enable-feature={f}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        prometheus.wait_ready().await;
        prometheus
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ready = client()
                .get(format!("{}/-/ready", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("prometheus was not ready within 60 s");
    }

    /// An instant query: each result's labels and value.
    pub async fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let response = client()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", promql)])
            .send()
            .await
            .expect("query API answers");
        let body: serde_json::Value = response.json().await.expect("query API answers JSON");
        assert_eq!(body["status"], "success", "{promql}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|series| {
                let value = series["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                (series["metric"].clone(), value)
            })
            .collect()
    }

    /// Polls `promql` until it returns a series whose value is a number, for at most `limit`
    /// (a rule over rates gives NaN until its inputs have samples in the window).
    pub async fn wait_for(&self, promql: &str, limit: Duration) -> Vec<(serde_json::Value, f64)> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.query(promql).await;
            if found.iter().any(|(_, value)| !value.is_nan()) || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
