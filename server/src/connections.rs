//! How many connections the server holds at once, and what one beyond that gets.
//!
//! Every open connection holds a permit of `--max-connections`. A connection accepted when none
//! is left is shed: it gets `503` with a JSON error, `Retry-After: 1` and `Connection: close`,
//! and is closed — never left to pile up until the process runs out of file descriptors. The
//! shedding itself is bounded too: past [`SHEDDING_AT_ONCE`] sockets being answered, further
//! ones are closed at once. A log line says when shedding starts (at most one every 10 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sockets being answered 503 at once; past this they are closed without an answer.
pub const SHEDDING_AT_ONCE: usize = 64;
/// File descriptors kept for everything but client connections: storage connections, files
/// being read, the sockets being shed, the listener, the log.
const RESERVED_FDS: u64 = 256;
/// How long a shed socket is drained after the answer, so the client reads the 503 instead of
/// a reset caused by closing with its request unread.
const SHED_DRAIN: Duration = Duration::from_millis(500);
const SHED_BODY: &str = "{\"error\": \"service unavailable\", \"detail\": \"too many connections; retry in a second\"}\n";

pub struct ConnectionLimit {
    open: Arc<Semaphore>,
    shedding: Arc<Semaphore>,
    max: usize,
    open_gauge: Gauge,
    shed_total: Counter,
    shed_since_log: AtomicU64,
    last_log: std::sync::Mutex<Option<Instant>>,
}

/// Held by a connection while it is open; dropping it frees the place.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    open_gauge: Gauge,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.open_gauge.dec();
    }
}

impl ConnectionLimit {
    pub fn new(max: usize, open_gauge: Gauge, shed_total: Counter) -> Self {
        Self {
            open: Arc::new(Semaphore::new(max)),
            shedding: Arc::new(Semaphore::new(SHEDDING_AT_ONCE)),
            max,
            open_gauge,
            shed_total,
            shed_since_log: AtomicU64::new(0),
            last_log: std::sync::Mutex::new(None),
        }
    }

    /// A place for `socket`, or `None` when the server is full and the socket has been
    /// handed to the shedding (answered 503 in the background, or closed).
    pub fn admit(&self, socket: TcpStream) -> Option<(TcpStream, Admitted)> {
        if let Ok(permit) = self.open.clone().try_acquire_owned() {
            self.open_gauge.inc();
            let admitted = Admitted {
                _permit: permit,
                open_gauge: self.open_gauge.clone(),
            };
            return Some((socket, admitted));
        }
        self.shed_total.inc();
        self.log_shedding();
        if let Ok(permit) = self.shedding.clone().try_acquire_owned() {
            tokio::spawn(async move {
                answer_503(socket).await;
                drop(permit);
            });
        }
        None
    }

    fn log_shedding(&self) {
        let shed = self.shed_since_log.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_log.lock().expect("shedding log");
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(10)) {
            return;
        }
        *last = Some(Instant::now());
        self.shed_since_log.store(0, Ordering::Relaxed);
        tracing::warn!(
            max_connections = self.max,
            shed,
            "connection limit reached: new connections get 503 and are closed"
        );
    }
}

async fn answer_503(mut socket: TcpStream) {
    let answered = async {
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{SHED_BODY}",
            SHED_BODY.len()
        );
        socket.write_all(answer.as_bytes()).await?;
        socket.shutdown().await?;
        // Read what the client sent until it closes (or the drain time is up): closing with
        // unread bytes would send a reset that can destroy the answer before it is read.
        let mut sink = [0u8; 4096];
        while socket.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(SHED_DRAIN, answered).await;
}

/// The `--max-connections` the process can really hold: it raises its soft limit of open files
/// towards the hard one when needed, and lowers the connection limit (with a warning) when
/// even that is too few, so the server sheds connections rather than failing to accept them.
pub fn fit_to_file_limit(requested: usize) -> usize {
    let needed = requested as u64 + RESERVED_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return requested;
    }
    if limit.rlim_cur < needed {
        let raised = libc::rlimit {
            rlim_cur: needed.min(limit.rlim_max),
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = raised.rlim_cur;
        }
    }
    if limit.rlim_cur >= needed {
        return requested;
    }
    let fitted = limit.rlim_cur.saturating_sub(RESERVED_FDS).max(1) as usize;
    tracing::warn!(
        requested,
        fitted,
        open_files_limit = limit.rlim_cur,
        "--max-connections lowered to fit the limit of open files (raise it with ulimit -n)"
    );
    fitted
}
