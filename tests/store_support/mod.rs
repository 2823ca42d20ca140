//! Shared by the object-store tests: a real S3-compatible server (moto_server) on a loopback
//! port, buckets in it, the `cdnprobe` binary pointed at it, and a loopback fixture to probe.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A moto_server of this test's own, stopped when dropped (and by a watcher if the test dies).
pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Moto {
    /// Starts moto_server on a free loopback port; `auth` makes it check credentials
    /// (`INITIAL_NO_AUTH_ACTION_COUNT=0`: every request must carry a key it knows).
    pub fn start(auth: bool) -> Moto {
        let on_path = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("moto_server").is_file()))
            .unwrap_or(false);
        assert!(
            on_path,
            "moto_server is not installed: the store tests need it (pip install 'moto[server]'; scripts/test.sh does this)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // exec: the child is moto itself, so dropping Moto stops it; the watcher stops it too
        // if this test process dies first.
        let script = r#"moto_server -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & moto=$!
            trap 'kill $moto 2>/dev/null; exit 0' TERM
            while kill -0 "$2" 2>/dev/null && kill -0 "$moto" 2>/dev/null; do sleep 0.3; done
            kill "$moto" 2>/dev/null"#;
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                script,
                "sh",
                &port.to_string(),
                &std::process::id().to_string(),
            ])
            .stdin(Stdio::null());
        if auth {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = command.spawn().expect("starting moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto { endpoint, child };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not answer on port {port} within 30 s");
    }

    /// A new empty bucket; its name.
    pub fn bucket(&self) -> String {
        let bucket = format!("results-{:016x}", rand_u64());
        let output = curl(&["-X", "PUT", &format!("{}/{bucket}", self.endpoint)]);
        assert!(output.status.success(), "creating the bucket: {output:?}");
        bucket
    }

    /// Every key in the bucket, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let output = curl(&[&format!(
            "{}/{bucket}?list-type=2&max-keys=10000",
            self.endpoint
        )]);
        let xml = String::from_utf8(output.stdout).unwrap();
        let mut keys: Vec<String> = xml
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(String::from)
            .collect();
        keys.sort();
        keys
    }

    /// The bytes of one object.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let output = curl(&["--fail", &format!("{}/{bucket}/{key}", self.endpoint)]);
        assert!(output.status.success(), "GET {key}: {output:?}");
        output.stdout
    }

    /// Puts `bytes` at `key` (a foreign or corrupt object, for the tests of bad input).
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let url = format!("{}/{bucket}/{key}", self.endpoint);
        let output = curl(&[
            "--fail",
            "-X",
            "PUT",
            "--data-binary",
            &format!("@{}", file.path().display()),
            &url,
        ]);
        assert!(output.status.success(), "PUT {key}: {output:?}");
    }

    /// Copies every object of the bucket into `dir`, keys as relative paths.
    pub fn download(&self, bucket: &str, dir: &Path) {
        for key in self.keys(bucket) {
            let path = dir.join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, self.get(bucket, &key)).unwrap();
        }
    }

    /// Stops the server (a store that went down).
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn curl(args: &[&str]) -> Output {
    // Signed as moto's objects are private; any keys do.
    Command::new("curl")
        .args([
            "-sS",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            "testing:testing",
        ])
        .args(args)
        .output()
        .expect("curl runs")
}

/// `cdnprobe ARGS` with keys moto accepts and its endpoint in the environment, as a user in a
/// region would have them; `cwd` is where the spool goes.
pub fn cdnprobe_with_store(moto: &Moto, cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cdnprobe"));
    command
        .args(args)
        .current_dir(cwd)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret-never-printed")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env_remove("AWS_PROFILE")
        .env("HOME", cwd);
    command
}

/// Runs the command to its end.
pub fn output(mut command: Command) -> Output {
    command.output().expect("cdnprobe runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The files under `dir`, as sorted relative paths.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    let mut found = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut found);
    }
    found.sort();
    found
}
