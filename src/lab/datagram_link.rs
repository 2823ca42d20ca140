//! A user-space datagram link: a UDP relay with the same per-direction shaping as the TCP
//! [`super::link::Link`] (a token bucket for the rate, then the one-way delay), for QUIC on the
//! relay lab.
//!
//! Unlike the TCP relay, it terminates nothing: every datagram, the QUIC handshake's included,
//! crosses the delay, so a QUIC client's connect and TLS phases take the path's round trip here
//! just as they do on the namespace lab. Each client address gets a session of its own (a socket
//! connected to the upstream, as a NAT would make), with its own buckets, as each TCP connection
//! through a [`super::link::Link`] has. UDP has no flow control to hold a fast sender back, so a
//! rate-limited direction keeps a bounded queue: a datagram that would find more than
//! `queue_bytes` waiting ahead of it is dropped (tail drop), as at a real bottleneck.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::link::{LinkProfile, Shape, TokenBucket};

/// Larger than any UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// A running datagram relay. Dropping it stops every session and closes its sockets.
#[derive(Debug)]
pub struct DatagramLink {
    local_addr: SocketAddr,
    profile: LinkProfile,
    task: JoinHandle<()>,
}

impl DatagramLink {
    /// Binds a free UDP port of 127.0.0.1 and relays every client's datagrams to `upstream`.
    /// `queue_bytes` bounds the queue of each rate-limited direction.
    pub async fn start(
        upstream: SocketAddr,
        profile: LinkProfile,
        queue_bytes: usize,
    ) -> std::io::Result<Self> {
        let socket = std::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        Self::start_on_socket(socket, upstream, profile, queue_bytes)
    }

    /// As [`DatagramLink::start`], on a socket the caller bound (for a port number chosen to
    /// match a TCP link's). Must be called inside a Tokio runtime.
    pub fn start_on_socket(
        socket: std::net::UdpSocket,
        upstream: SocketAddr,
        profile: LinkProfile,
        queue_bytes: usize,
    ) -> std::io::Result<Self> {
        socket.set_nonblocking(true)?;
        crate::probe::quic_socket::raise_receive_buffer(&socket);
        let local_addr = socket.local_addr()?;
        let socket = Arc::new(UdpSocket::from_std(socket)?);
        let task = tokio::spawn(relay(socket, upstream, profile, queue_bytes));
        Ok(Self {
            local_addr,
            profile,
            task,
        })
    }

    /// Where clients send to cross the link.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn profile(&self) -> LinkProfile {
        self.profile
    }
}

impl Drop for DatagramLink {
    fn drop(&mut self) {
        // The sessions live in the relay task's JoinSet: aborting it aborts them too.
        self.task.abort();
    }
}

/// A datagram and the instant it may be delivered.
type InFlight = (Instant, Bytes);

/// One direction's shaping: the token bucket, the bounded queue behind it, the delay.
struct Shaper {
    latency: std::time::Duration,
    bucket: Option<TokenBucket>,
    queue_bytes: f64,
}

impl Shaper {
    fn new(shape: Shape, queue_bytes: usize, now: Instant) -> Self {
        Self {
            latency: shape.latency,
            bucket: shape
                .bytes_per_second
                .map(|rate| TokenBucket::new(rate, shape.burst_bytes, now)),
            queue_bytes: queue_bytes as f64,
        }
    }

    /// When a datagram of `len` bytes that arrived at `now` is delivered, or `None` when the
    /// queue is full and it is dropped.
    fn admit(&mut self, len: usize, now: Instant) -> Option<Instant> {
        let departs = match self.bucket.as_mut() {
            None => now,
            Some(bucket) if bucket.queued_bytes(now) + len as f64 > self.queue_bytes => {
                return None;
            }
            Some(bucket) => bucket.take(len, now),
        };
        Some(departs + self.latency)
    }
}

/// One client's way to the upstream: its socket and the uplink's shaping.
struct Session {
    uplink: Shaper,
    to_upstream: mpsc::UnboundedSender<InFlight>,
}

async fn relay(
    socket: Arc<UdpSocket>,
    upstream: SocketAddr,
    profile: LinkProfile,
    queue_bytes: usize,
) {
    let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
    let mut tasks = JoinSet::new();
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, client) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(error) => {
                    tracing::debug!(%error, "datagram link stopped");
                    return;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let now = Instant::now();
        let session = match sessions.entry(client) {
            Entry::Occupied(session) => session.into_mut(),
            Entry::Vacant(vacant) => {
                match open_session(&socket, client, upstream, profile, queue_bytes, &mut tasks)
                    .await
                {
                    Ok(session) => vacant.insert(session),
                    Err(error) => {
                        tracing::debug!(%error, %upstream, "datagram link could not reach upstream");
                        continue;
                    }
                }
            }
        };
        if let Some(deliver_at) = session.uplink.admit(len, now) {
            let datagram = Bytes::copy_from_slice(&buffer[..len]);
            if session.to_upstream.send((deliver_at, datagram)).is_err() {
                sessions.remove(&client);
            }
        }
    }
}

/// Makes `client`'s socket to `upstream` and starts its two directions.
async fn open_session(
    link: &Arc<UdpSocket>,
    client: SocketAddr,
    upstream: SocketAddr,
    profile: LinkProfile,
    queue_bytes: usize,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<Session> {
    let socket = std::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.set_nonblocking(true)?;
    crate::probe::quic_socket::raise_receive_buffer(&socket);
    let socket = Arc::new(UdpSocket::from_std(socket)?);
    socket.connect(upstream).await?;
    let now = Instant::now();
    let (to_upstream, uplink_queue) = mpsc::unbounded_channel();
    tasks.spawn(deliver(uplink_queue, socket.clone(), None));
    let (to_client, downlink_queue) = mpsc::unbounded_channel();
    tasks.spawn(deliver(downlink_queue, link.clone(), Some(client)));
    let downlink = Shaper::new(profile.downlink, queue_bytes, now);
    tasks.spawn(admit_from_upstream(socket, downlink, to_client));
    Ok(Session {
        uplink: Shaper::new(profile.uplink, queue_bytes, now),
        to_upstream,
    })
}

/// Reads the upstream's datagrams for one client and queues them for delivery.
async fn admit_from_upstream(
    socket: Arc<UdpSocket>,
    mut shaper: Shaper,
    queue: mpsc::UnboundedSender<InFlight>,
) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let len = match socket.recv(&mut buffer).await {
            Ok(len) => len,
            // An ICMP error (the upstream's port closed for a moment): keep the session.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Err(_) => return,
        };
        if let Some(deliver_at) = shaper.admit(len, Instant::now()) {
            let datagram = Bytes::copy_from_slice(&buffer[..len]);
            if queue.send((deliver_at, datagram)).is_err() {
                return;
            }
        }
    }
}

/// Sends each datagram when its delivery time comes, in order: on `socket`'s connected peer, or
/// to `to`.
async fn deliver(
    mut queue: mpsc::UnboundedReceiver<InFlight>,
    socket: Arc<UdpSocket>,
    to: Option<SocketAddr>,
) {
    while let Some((deliver_at, datagram)) = queue.recv().await {
        tokio::time::sleep_until(deliver_at).await;
        // A datagram the kernel refuses is lost, as on a real path; QUIC recovers.
        let _ = match to {
            Some(to) => socket.send_to(&datagram, to).await,
            None => socket.send(&datagram).await,
        };
    }
}
