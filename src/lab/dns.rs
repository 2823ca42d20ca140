//! In-process authoritative DNS server (hickory-server) with per-name answer delays.
//!
//! Tests and the demo point the probe's resolver (`--resolver 127.0.0.1:PORT`) at it, so a
//! lab host name such as `cdn.lab.test` resolves to loopback, and a known delay can be injected
//! into the DNS phase. Unknown names get NXDOMAIN.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

/// Answers are given a short TTL; the probe must not cache them anyway.
const TTL_SECONDS: u32 = 5;

/// One name the server knows: its addresses (A for IPv4, AAAA for IPv6) and how long to wait
/// before answering any query for it.
#[derive(Debug, Clone)]
pub struct DnsRecord {
    pub name: String,
    pub addrs: Vec<IpAddr>,
    pub delay: Duration,
}

impl DnsRecord {
    /// A name answered at once.
    pub fn new(name: impl Into<String>, addrs: Vec<IpAddr>) -> Self {
        Self {
            name: name.into(),
            addrs,
            delay: Duration::ZERO,
        }
    }

    /// The same record, answered after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A running server on 127.0.0.1 (UDP and TCP, same port). Stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    server: Server<Zone>,
}

impl DnsServer {
    /// Binds a free port on 127.0.0.1 and starts answering. Must be called inside a Tokio
    /// runtime (the server runs as tasks on it).
    pub fn start(records: Vec<DnsRecord>) -> io::Result<DnsServer> {
        Self::serve(records, bind_udp_and_tcp()?)
    }

    /// Binds UDP and TCP on `addr` exactly (in the calling thread's network namespace: the
    /// namespace lab runs its resolver on the client host's 127.0.0.1:53).
    pub fn start_on(addr: SocketAddr, records: Vec<DnsRecord>) -> io::Result<DnsServer> {
        let udp = std::net::UdpSocket::bind(addr)?;
        let tcp = std::net::TcpListener::bind(addr)?;
        Self::serve(records, nonblocking(udp, tcp)?)
    }

    fn serve(records: Vec<DnsRecord>, (udp, tcp): (UdpSocket, TcpListener)) -> io::Result<Self> {
        let zone = Zone::new(records)?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(zone);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(10), 64);
        Ok(DnsServer { addr, server })
    }

    /// Where to send queries (UDP or TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for its tasks to end.
    pub async fn shutdown(mut self) {
        // Errors here only say a socket closed early; the server is down either way.
        let _ = self.server.shutdown_gracefully().await;
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        // Dropping `Server` aborts its tasks too; cancelling first lets them end cleanly.
        self.server.shutdown_token().cancel();
    }
}

/// UDP and TCP on the same port, so the resolver's TCP fallback reaches the same server.
/// The UDP port is free by construction; its TCP twin may not be, so try a few.
fn bind_udp_and_tcp() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_error = None;
    for _ in 0..16 {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let addr = udp.local_addr()?;
        match std::net::TcpListener::bind(addr) {
            Ok(tcp) => return nonblocking(udp, tcp),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free port")))
}

fn nonblocking(
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
) -> io::Result<(UdpSocket, TcpListener)> {
    udp.set_nonblocking(true)?;
    tcp.set_nonblocking(true)?;
    Ok((UdpSocket::from_std(udp)?, TcpListener::from_std(tcp)?))
}

struct Entry {
    records: Vec<Record>,
    delay: Duration,
}

/// The names this server is authoritative for.
struct Zone {
    entries: HashMap<LowerName, Arc<Entry>>,
}

impl Zone {
    fn new(records: Vec<DnsRecord>) -> io::Result<Self> {
        let mut entries = HashMap::new();
        for record in records {
            let name = fqdn(&record.name)?;
            let records = record
                .addrs
                .iter()
                .map(|addr| {
                    let rdata = match addr {
                        IpAddr::V4(v4) => RData::A(A(*v4)),
                        IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                    };
                    Record::from_rdata(name.clone(), TTL_SECONDS, rdata)
                })
                .collect();
            let entry = Entry {
                records,
                delay: record.delay,
            };
            entries.insert(LowerName::from(name), Arc::new(entry));
        }
        Ok(Self { entries })
    }
}

fn fqdn(name: &str) -> io::Result<Name> {
    let absolute = format!("{}.", name.trim_end_matches('.'));
    Name::from_ascii(&absolute)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{name}: {e}")))
}

#[async_trait::async_trait]
impl RequestHandler for Zone {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let query = request.queries.queries().first();
        let entry = query.and_then(|q| self.entries.get(q.name()));
        let sent = match (query, entry) {
            (Some(query), Some(entry)) => {
                tokio::time::sleep(entry.delay).await;
                let wanted = query.query_type();
                // A name with no record of the asked type is NOERROR with no answers (NODATA).
                let answers = entry
                    .records
                    .iter()
                    .filter(|r| wanted == RecordType::ANY || r.record_type() == wanted);
                let response = builder.build(metadata, answers, [], [], []);
                response_handle.send_response(response).await
            }
            _ => {
                metadata.response_code = ResponseCode::NXDomain;
                let response = builder.build_no_records(metadata);
                response_handle.send_response(response).await
            }
        };
        match sent {
            Ok(info) => info,
            Err(_) => {
                // The client went away; report a failure to the server's bookkeeping.
                let mut failed = Metadata::response_from_request(&request.metadata);
                failed.response_code = ResponseCode::ServFail;
                hickory_server::proto::op::Header {
                    metadata: failed,
                    counts: Default::default(),
                }
                .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::{Resolver, TokioResolver};
    use std::time::Instant;

    fn resolver_for(server: &DnsServer) -> TokioResolver {
        let mut name_server = NameServerConfig::udp_and_tcp(server.addr().ip());
        for connection in &mut name_server.connections {
            connection.port = server.addr().port();
        }
        let config = ResolverConfig::from_name_servers(vec![name_server]);
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .unwrap()
    }

    fn loopback4() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[tokio::test]
    async fn configured_name_resolves_to_its_addresses() {
        let v6 = IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        let server =
            DnsServer::start(vec![DnsRecord::new("cdn.lab.test", vec![loopback4(), v6])]).unwrap();
        let found = resolver_for(&server).lookup_ip("cdn.lab.test.").await;
        let mut found: Vec<IpAddr> = found.unwrap().iter().collect();
        found.sort();
        assert_eq!(found, vec![loopback4(), v6]);
    }

    #[tokio::test]
    async fn unknown_name_is_nxdomain() {
        let server =
            DnsServer::start(vec![DnsRecord::new("cdn.lab.test", vec![loopback4()])]).unwrap();
        let error = resolver_for(&server)
            .lookup_ip("missing.lab.test.")
            .await
            .unwrap_err();
        assert!(error.is_nx_domain(), "{error}");
    }

    #[tokio::test]
    async fn answer_waits_for_the_configured_delay() {
        let delay = Duration::from_millis(150);
        let server = DnsServer::start(vec![
            DnsRecord::new("slow.lab.test", vec![loopback4()]).with_delay(delay),
            DnsRecord::new("fast.lab.test", vec![loopback4()]),
        ])
        .unwrap();
        let resolver = resolver_for(&server);
        let started = Instant::now();
        resolver.lookup_ip("slow.lab.test.").await.unwrap();
        assert!(started.elapsed() >= delay);
        let started = Instant::now();
        resolver.lookup_ip("fast.lab.test.").await.unwrap();
        assert!(started.elapsed() < delay);
    }
}
