//! The packet router: one thread that reads IP packets from every lab host's TUN device, puts
//! each through the [`DelayLine`] of its (source, destination) pair, and writes it to the
//! destination's TUN device when its delivery time comes.
//!
//! One thread does everything, with `ppoll` waking it for the first of "a packet arrived" and
//! "the next delivery is due" (nanosecond timeout, timer slack cut to 1 µs), so no locks sit on
//! the packet path and deliveries happen in time order. How late each packet was written
//! against its computed delivery time is recorded: that is the delay line's own error, which
//! the benchmark reports.

use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixDatagram;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;

use super::delay_line::{DelayLine, LinkCounts, LinkSpec};
use super::tun::TunDevice;

/// A lab host as the router sees it: its address and its TUN device.
pub struct Port {
    pub address: Ipv4Addr,
    pub device: TunDevice,
}

/// The directed link from `ports[from]` to `ports[to]`.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub from: usize,
    pub to: usize,
    pub spec: LinkSpec,
}

/// What the router did, returned when it stops.
#[derive(Debug)]
pub struct RouterReport {
    /// Per route, in the order given to [`Router::start`].
    pub links: Vec<(Route, LinkCounts)>,
    /// Packets with no route (other lab hosts' broadcasts, IPv6 neighbour discovery…).
    pub unroutable: u64,
    /// Write time − computed delivery time, microseconds.
    pub lateness_us: Histogram<u64>,
}

/// A running router thread. Dropping it stops the thread and closes every TUN device, which
/// removes them from their namespaces.
pub struct Router {
    stop: UnixDatagram,
    thread: Option<JoinHandle<RouterReport>>,
}

/// Packets read from one device before the router looks at its deliveries again: large enough
/// to amortise the poll, small enough that a burst cannot make a due packet wait long.
const READ_BATCH: usize = 32;
/// Room for the largest IPv4 packet a TUN device can hand over.
const PACKET_BUFFER: usize = 65_536;

impl Router {
    pub fn start(ports: Vec<Port>, routes: Vec<Route>) -> std::io::Result<Self> {
        let (stop, stop_rx) = UnixDatagram::pair()?;
        let thread = std::thread::Builder::new()
            .name("lab-router".into())
            .spawn(move || forward(ports, routes, stop_rx))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the router and returns its counters.
    pub fn stop(mut self) -> RouterReport {
        self.halt().expect("the router thread runs until stopped")
    }

    fn halt(&mut self) -> Option<RouterReport> {
        let thread = self.thread.take()?;
        let _ = self.stop.send(&[1]);
        thread.join().ok()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Wire {
    route: Route,
    line: DelayLine<Box<[u8]>>,
}

fn forward(ports: Vec<Port>, routes: Vec<Route>, stop: UnixDatagram) -> RouterReport {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack (default 50 µs,
    // which would be added to every delivery).
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1_000u64, 0, 0, 0) };
    let n = ports.len();
    let mut wires: Vec<Wire> = routes
        .iter()
        .map(|route| Wire {
            route: *route,
            line: DelayLine::new(route.spec),
        })
        .collect();
    // by_pair[from * n + to] = index into wires
    let mut by_pair = vec![None; n * n];
    for (index, route) in routes.iter().enumerate() {
        by_pair[route.from * n + route.to] = Some(index);
    }
    let mut lateness = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let mut unroutable = 0u64;
    let mut buffer = vec![0u8; PACKET_BUFFER];
    loop {
        let now = Instant::now();
        for wire in &mut wires {
            while let Some((due, packet)) = wire.line.pop_due(now) {
                // A full receive queue in the namespace drops the packet, as a NIC would.
                let _ = ports[wire.route.to].device.send(&packet);
                let late = Instant::now().saturating_duration_since(due);
                let _ = lateness.record((late.as_micros() as u64).max(1));
            }
        }
        let next = wires.iter().filter_map(|w| w.line.next_delivery()).min();
        let timeout = next.map(|at| TimeSpec::from(at.saturating_duration_since(Instant::now())));
        let readable = match wait(&ports, stop.as_fd(), timeout) {
            Wait::Stop => break,
            Wait::Ready(readable) => readable,
        };
        for from in readable {
            for _ in 0..READ_BATCH {
                let Ok(length) = ports[from].device.recv(&mut buffer) else {
                    break; // EAGAIN: drained
                };
                let packet = &buffer[..length];
                let wire = destination(&ports, packet).and_then(|to| by_pair[from * n + to]);
                match wire {
                    Some(index) => {
                        let _ = wires[index]
                            .line
                            .offer(Instant::now(), length, packet.into());
                    }
                    None => unroutable += 1,
                }
            }
        }
    }
    RouterReport {
        links: wires
            .iter()
            .map(|wire| (wire.route, wire.line.counts()))
            .collect(),
        unroutable,
        lateness_us: lateness,
    }
}

enum Wait {
    Stop,
    /// Indexes of the ports with packets to read.
    Ready(Vec<usize>),
}

fn wait(ports: &[Port], stop: BorrowedFd<'_>, timeout: Option<TimeSpec>) -> Wait {
    let mut fds: Vec<PollFd> = ports
        .iter()
        .map(|port| {
            // SAFETY: the device outlives this call; the borrow ends with `fds`.
            let fd = unsafe { BorrowedFd::borrow_raw(port.device.as_raw_fd()) };
            PollFd::new(fd, PollFlags::POLLIN)
        })
        .collect();
    fds.push(PollFd::new(stop, PollFlags::POLLIN));
    // EINTR and friends: look again; the loop recomputes the timeout.
    let _ = ppoll(&mut fds, timeout, None);
    let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
    if ready(fds.last().expect("the stop socket is polled")) {
        return Wait::Stop;
    }
    Wait::Ready((0..ports.len()).filter(|&i| ready(&fds[i])).collect())
}

/// The port whose address is the IPv4 packet's destination.
fn destination(ports: &[Port], packet: &[u8]) -> Option<usize> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    let to = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    ports.iter().position(|port| port.address == to)
}

/// The lateness quantile `q` (0–1) of a report, as a duration.
pub fn lateness_quantile(report: &RouterReport, q: f64) -> Duration {
    Duration::from_micros(report.lateness_us.value_at_quantile(q))
}
