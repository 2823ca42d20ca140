//! The probe's UDP socket for one QUIC connection, wrapped to observe what quinn does not
//! report: when the first datagram left (the first Initial) and when the first datagram from the
//! server arrived (curl's `time_connect` for QUIC), and whether the kernel reported the server's
//! port unreachable (ICMP), which quinn ignores and would wait out as a timeout.

use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, Runtime, TokioRuntime, UdpPoller};
use tokio::sync::Notify;

/// The UDP receive buffer asked for: at loopback rates (~1 GB/s) a receive task that the
/// scheduler holds off for 8 ms on a loaded machine needs 8 MB of datagrams queued, and Linux's
/// default (~208 KiB) drops them, which QUIC then reads as congestion. Root may exceed
/// `net.core.rmem_max` (`SO_RCVBUFFORCE`); otherwise the kernel caps the size silently.
pub const UDP_RECEIVE_BUFFER: usize = 8 << 20;

/// What the socket saw, shared with the probe.
#[derive(Debug, Default)]
pub struct Observed {
    pub first_sent: OnceLock<Instant>,
    pub first_received: OnceLock<Instant>,
    refused: OnceLock<()>,
    refused_notify: Notify,
}

impl Observed {
    /// Resolves once the kernel has reported the server's port unreachable.
    pub async fn refused(&self) {
        let notified = self.refused_notify.notified();
        if self.refused.get().is_some() {
            return;
        }
        notified.await;
    }

    fn refuse(&self) {
        if self.refused.set(()).is_ok() {
            self.refused_notify.notify_waiters();
        }
    }
}

/// A UDP socket connected to `remote` (so that ICMP errors reach it), with a large receive
/// buffer, wrapped for quinn. Returns the socket and what it will observe.
pub fn bind(remote: SocketAddr) -> io::Result<(Arc<dyn AsyncUdpSocket>, Arc<Observed>)> {
    let local: SocketAddr = match remote {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = std::net::UdpSocket::bind(local)?;
    socket.connect(remote)?;
    raise_receive_buffer(&socket);
    #[cfg(unix)]
    let fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
    let inner = TokioRuntime.wrap_udp_socket(socket)?;
    let observed = Arc::new(Observed::default());
    let timed = TimedSocket {
        inner,
        observed: observed.clone(),
        #[cfg(unix)]
        fd,
    };
    Ok((Arc::new(timed), observed))
}

#[cfg(target_os = "linux")]
pub(crate) fn raise_receive_buffer(socket: &std::net::UdpSocket) {
    use std::os::fd::AsRawFd;
    let size = UDP_RECEIVE_BUFFER as libc::c_int;
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid descriptor and a pointer to an int of the size given.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set == 0 {
            return;
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn raise_receive_buffer(_socket: &std::net::UdpSocket) {}

struct TimedSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    observed: Arc<Observed>,
    /// The socket's descriptor, owned by `inner` (which lives as long as this).
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
}

impl TimedSocket {
    /// Whether the kernel holds an ICMP error for the socket (port unreachable). quinn's tokio
    /// socket reads and drops such errors, so look first: a peek leaves a waiting datagram
    /// queued and takes only the error. Only until the server first answered.
    #[cfg(unix)]
    fn peek_refused(&self) -> bool {
        let mut byte = 0u8;
        // SAFETY: a one-byte buffer on the stack and a descriptor `inner` keeps open.
        let peeked = unsafe {
            libc::recv(
                self.fd,
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        peeked < 0 && is_refused(&io::Error::last_os_error())
    }

    #[cfg(not(unix))]
    fn peek_refused(&self) -> bool {
        false
    }
}

impl fmt::Debug for TimedSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedSocket").finish_non_exhaustive()
    }
}

fn is_refused(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::ConnectionRefused
}

impl AsyncUdpSocket for TimedSocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        if self.observed.first_sent.get().is_none() {
            // Taken before the system call: a thread preempted after it would stamp late.
            let _ = self.observed.first_sent.set(Instant::now());
        }
        match self.inner.try_send(transmit) {
            Ok(()) => Ok(()),
            Err(error) if is_refused(&error) => {
                // The datagram is lost like any other; the probe ends the attempt.
                self.observed.refuse();
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    fn poll_recv(
        &self,
        cx: &mut Context,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        if self.observed.first_received.get().is_none() && self.peek_refused() {
            self.observed.refuse();
        }
        loop {
            match self.inner.poll_recv(cx, bufs, meta) {
                Poll::Ready(Ok(count)) => {
                    let _ = self.observed.first_received.set(Instant::now());
                    return Poll::Ready(Ok(count));
                }
                // quinn would end its endpoint on this error; the probe wants it as a fact.
                Poll::Ready(Err(error)) if is_refused(&error) => self.observed.refuse(),
                other => return other,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        self.inner.max_transmit_segments()
    }

    fn max_receive_segments(&self) -> usize {
        self.inner.max_receive_segments()
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}
