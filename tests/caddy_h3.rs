//! A third-party HTTP/3 server: Debian's Caddy (installed by `scripts/test.sh`) serves one file
//! over h2 and h3 with its own CA; one run probes it over both, and the bytes and status agree
//! with what it serves.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cdnprobe::sample::YesNo;
use common::*;

/// Caddy on loopback, stopped when dropped.
struct Caddy {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
    root_ca: std::path::PathBuf,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `site_root` as `https://HOST:PORT/` (h1, h2, h3) once Caddy has its CA and listens.
fn start_caddy(site_root: &Path) -> Caddy {
    let dir = tempfile::tempdir().unwrap();
    let (http_port, port) = (free_port(), free_port());
    let caddyfile = dir.path().join("Caddyfile");
    std::fs::write(
        &caddyfile,
        format!(
            "{{\n local_certs\n skip_install_trust\n admin off\n http_port {http_port}\n \
             https_port {port}\n servers {{\n  protocols h1 h2 h3\n }}\n}}\n\
             {HOST}:{port} {{\n bind 127.0.0.1\n root * {}\n file_server\n}}\n",
            site_root.display()
        ),
    )
    .unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&caddyfile)
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy is installed (scripts/test.sh installs it)");
    let root_ca = dir.path().join("caddy/pki/authorities/local/root.crt");
    // Caddy issues the site's certificate in the background after it starts listening: a
    // handshake before the file exists fails with `tls`.
    let leaf = dir
        .path()
        .join(format!("caddy/certificates/local/{HOST}/{HOST}.crt"));
    let caddy = Caddy {
        child,
        _dir: dir,
        port,
        root_ca,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(caddy.root_ca.exists()
        && leaf.exists()
        && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
    {
        assert!(Instant::now() < deadline, "caddy did not start in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    caddy
}

#[tokio::test]
async fn caddy_serves_the_same_bytes_and_status_over_h2_and_h3() {
    let site = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(site.path().join("v.mp4"), &body).unwrap();
    let caddy = start_caddy(site.path());
    let lab = Lab::start();
    let url = format!("https://{HOST}:{}/v.mp4", caddy.port);
    let (h2, h3) = (format!("caddy={url}"), format!("caddy-h3={url}"));
    let ca = caddy.root_ca.display().to_string();
    let out = lab.out().display().to_string();
    let args: Vec<String> = [
        "run",
        "--resolver",
        &lab.dns.addr().to_string(),
        "--cacert",
        &ca,
        "--region",
        "lab",
        "--out",
        &out,
        "--samples",
        "2",
        "--target",
        &h2,
        "--target",
        &h3,
        "--http3-target",
        "caddy-h3",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    run_in_process(&args).await;
    let rows = read_rows(&lab.out());
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.error, None, "{row:?}");
        assert_eq!(row.status, Some(200));
        assert_eq!(row.bytes, body.len() as u64);
        let (version, alpn) = if row.target == "caddy-h3" {
            ("3", "h3")
        } else {
            ("2", "h2")
        };
        assert_eq!(
            (row.http_version.as_str(), row.alpn.as_str()),
            (version, alpn)
        );
        assert_eq!(row.tls_version, "1.3");
    }
    // Caddy advertises h3 on its h2 responses.
    let h2_row = rows.iter().find(|r| r.target == "caddy").unwrap();
    assert_eq!(h2_row.alt_svc_h3, Some(YesNo::Yes));
}
