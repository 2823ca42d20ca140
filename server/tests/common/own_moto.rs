//! A moto_server of one test's own, which the test can pause (SIGSTOP), resume and kill: the
//! store failing under the server. Stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct OwnMoto {
    child: Child,
    port: u16,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl OwnMoto {
    pub async fn start() -> OwnMoto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut moto = OwnMoto {
            child: spawn(port),
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_until_answering().await;
        moto
    }

    /// SIGSTOP: the store stops answering, its connections stay open.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT: it answers again, in the state it had.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL: the store is gone, every connection to it reset, its contents lost.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A fresh (empty) moto_server on the same port, after [`kill`](Self::kill).
    pub async fn restart(&mut self) {
        self.child = spawn(self.port);
        self.wait_until_answering().await;
    }

    /// Creates `bucket` (a restarted moto has lost every bucket).
    pub async fn create_bucket(&self, bucket: &str) {
        let created = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        assert!(sent.expect("kill runs").success());
    }

    async fn wait_until_answering(&mut self) {
        for _ in 0..300 {
            if reqwest::get(format!("{}/", self.endpoint)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "moto_server did not answer on {} within 30 s",
            self.endpoint
        );
    }
}

fn spawn(port: u16) -> Child {
    // exec, so that the pid signalled is moto's own and not a shell's or a shim's.
    Command::new("sh")
        .args([
            "-c",
            "exec moto_server -H 127.0.0.1 -p \"$1\"",
            "sh",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server")
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        self.kill();
    }
}
