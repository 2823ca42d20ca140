//! User-space network links: a TCP relay that adds per-direction latency and bandwidth limits.
//!
//! A [`Link`] listens on a loopback port and relays every accepted connection to one upstream
//! address. Each direction is shaped on its own ([`Shape`]): bytes leave a token bucket (the
//! bandwidth) and are then held for the one-way latency before they are written on. The latency is
//! a delay of the byte stream, not stop-and-wait: while one chunk is held, the next ones are read,
//! shaped and queued behind it, so a window of data is "in flight" exactly as on a long path.
//!
//! What a relay cannot shape: the client's TCP handshake with the relay completes in the kernel
//! before the relay sees the connection, so a probe's `connect_ms` on loopback is not delayed.
//! Everything after it (TLS handshake, request, response) crosses the relay and sees the latency.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::listening::Listening;

/// How one direction of a link treats the bytes that cross it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// One-way delay added to every byte.
    pub latency: Duration,
    /// Sustained rate in bytes per second; `None` leaves the rate as loopback gives it.
    pub bytes_per_second: Option<f64>,
    /// Bytes the token bucket lets through at once after an idle spell (its depth).
    pub burst_bytes: usize,
}

impl Shape {
    /// A direction with only a delay.
    pub fn latency(latency: Duration) -> Self {
        Self {
            latency,
            bytes_per_second: None,
            burst_bytes: DEFAULT_BURST_BYTES,
        }
    }

    /// Adds a bandwidth limit (bytes per second) to this direction.
    pub fn with_rate(self, bytes_per_second: f64) -> Self {
        Self {
            bytes_per_second: Some(bytes_per_second),
            ..self
        }
    }
}

/// Deep enough for a TLS server's first flight (certificates included), so the bucket does not
/// add a serialisation delay to the handshake that the profile did not ask for.
pub const DEFAULT_BURST_BYTES: usize = 4 * 1024;

/// The two directions of a path, seen from the client that connects to the link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkProfile {
    /// Client → upstream (requests, TLS client flights).
    pub uplink: Shape,
    /// Upstream → client (responses, the video).
    pub downlink: Shape,
}

impl LinkProfile {
    /// The same shape in both directions.
    pub fn symmetric(shape: Shape) -> Self {
        Self {
            uplink: shape,
            downlink: shape,
        }
    }

    /// Round-trip time the link adds.
    pub fn rtt(&self) -> Duration {
        self.uplink.latency + self.downlink.latency
    }
}

/// A running relay. Dropping it stops the listener and every connection it relays.
#[derive(Debug)]
pub struct Link {
    listening: Listening,
    profile: LinkProfile,
}

impl Link {
    /// Listens on a free port of 127.0.0.1 and relays every connection to `upstream`.
    pub async fn start(upstream: SocketAddr, profile: LinkProfile) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, profile).await
    }

    /// As [`Link::start`], listening on `bind` (a port chosen to match a datagram link's).
    pub async fn start_on(
        bind: SocketAddr,
        upstream: SocketAddr,
        profile: LinkProfile,
    ) -> std::io::Result<Self> {
        let listening =
            Listening::start_on(bind, move |client| relay(client, upstream, profile)).await?;
        Ok(Self { listening, profile })
    }

    /// Where clients connect to cross the link.
    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }

    pub fn profile(&self) -> LinkProfile {
        self.profile
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, profile: LinkProfile) {
    let server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(error) => {
            tracing::debug!(%error, %upstream, "link could not reach upstream");
            return;
        }
    };
    let _ = server.set_nodelay(true); // as the listener did for the client side
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        shape_direction(client_read, server_write, profile.uplink),
        shape_direction(server_read, client_write, profile.downlink),
    );
}

/// A chunk of the stream and the instant it may be delivered; `None` is the sender's FIN.
type InFlight = (Instant, Option<Bytes>);

/// Chunks queued between the bucket and the delivery side. The bucket already limits how fast
/// they arrive; this bound only stops an unlimited-rate link from buffering without end.
const IN_FLIGHT_CHUNKS: usize = 256;

async fn shape_direction(from: OwnedReadHalf, to: OwnedWriteHalf, shape: Shape) {
    let (queue, in_flight) = mpsc::channel::<InFlight>(IN_FLIGHT_CHUNKS);
    tokio::join!(admit(from, queue, shape), deliver(in_flight, to));
}

/// Reads the sender's bytes through the token bucket and stamps each chunk with its delivery time.
/// Reading waits for the bucket, so a fast sender is held back by TCP flow control, as on a real
/// bottleneck.
async fn admit(mut from: OwnedReadHalf, queue: mpsc::Sender<InFlight>, shape: Shape) {
    let chunk_size = shape.burst_bytes.clamp(1, 64 * 1024);
    let mut bucket = shape
        .bytes_per_second
        .map(|rate| TokenBucket::new(rate, shape.burst_bytes, Instant::now()));
    let mut buffer = BytesMut::with_capacity(chunk_size);
    loop {
        buffer.reserve(chunk_size);
        // A reset from the sender ends this direction like a FIN would.
        let read: usize = (&mut from)
            .take(chunk_size as u64)
            .read_buf(&mut buffer)
            .await
            .unwrap_or_default();
        let now = Instant::now();
        if read == 0 {
            let _ = queue.send((now + shape.latency, None)).await;
            return;
        }
        let departs = match bucket.as_mut() {
            Some(bucket) => bucket.take(read, now),
            None => now,
        };
        if queue
            .send((departs + shape.latency, Some(buffer.split().freeze())))
            .await
            .is_err()
        {
            return; // the receiving side is gone
        }
        tokio::time::sleep_until(departs).await;
    }
}

/// Writes each chunk when its delivery time comes, in order.
async fn deliver(mut in_flight: mpsc::Receiver<InFlight>, mut to: OwnedWriteHalf) {
    while let Some((deliver_at, chunk)) = in_flight.recv().await {
        tokio::time::sleep_until(deliver_at).await;
        let written = match chunk {
            Some(bytes) => to.write_all(&bytes).await,
            None => to.shutdown().await,
        };
        if written.is_err() {
            return; // dropping the receiver stops `admit` at its next send
        }
    }
}

/// A token bucket in bytes: `rate` bytes per second, at most `depth` bytes saved up.
#[derive(Debug)]
pub(super) struct TokenBucket {
    rate: f64,
    depth: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub(super) fn new(rate: f64, depth: usize, now: Instant) -> Self {
        let depth = depth.max(1) as f64;
        Self {
            rate,
            depth,
            tokens: depth,
            updated: now,
        }
    }

    /// Takes `bytes` that arrived at `now` and returns when they have been sent at the bucket's
    /// rate (`now` itself when enough tokens were saved up).
    pub(super) fn take(&mut self, bytes: usize, now: Instant) -> Instant {
        if now > self.updated {
            let earned = now.duration_since(self.updated).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + earned).min(self.depth);
            self.updated = now;
        }
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            return now;
        }
        // In debt: the bytes leave once the debt is paid; the bucket is empty at that instant.
        let wait = Duration::from_secs_f64(-self.tokens / self.rate);
        self.tokens = 0.0;
        self.updated += wait;
        self.updated
    }

    /// Bytes taken but not yet sent at `now`: the queue in front of the bucket.
    pub(super) fn queued_bytes(&self, now: Instant) -> f64 {
        self.updated.saturating_duration_since(now).as_secs_f64() * self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_its_depth_through_at_once() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1000.0, 500, start);
        assert_eq!(bucket.take(500, start), start);
    }

    #[test]
    fn an_empty_bucket_sends_at_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1000.0, 100, start);
        bucket.take(100, start);
        let departs = bucket.take(100, start);
        assert_eq!(departs - start, Duration::from_millis(100));
        assert_eq!(bucket.queued_bytes(start), 100.0);
        let departs = bucket.take(50, start);
        assert_eq!(departs - start, Duration::from_millis(150));
    }
}
