//! A loopback listener that hands each connection to its own task: the shape shared by every
//! lab server (links, TLS fronts, the edge). Dropping it closes the port and ends every task.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug)]
pub struct Listening {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Listening {
    /// Binds a free port of 127.0.0.1 and runs `serve` for every accepted connection.
    pub async fn start<F, Fut>(serve: F) -> std::io::Result<Self>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start_on(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)), serve).await
    }

    /// Binds `bind` (in the network namespace of the calling thread) and runs `serve` for every
    /// accepted connection.
    pub async fn start_on<F, Fut>(bind: SocketAddr, serve: F) -> std::io::Result<Self>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(bind).await?;
        let local_addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(listener, serve));
        Ok(Self { local_addr, task })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        // The connection tasks live in the accept loop's JoinSet: aborting the loop drops the
        // set, which aborts them too.
        self.task.abort();
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small writes (TLS records, request heads) must leave at once: Nagle's
                    // algorithm would add its own delay on top of the emulated one.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream));
                }
                Err(error) => tracing::debug!(%error, "lab accept failed"),
            },
            // Reap finished connections so the set does not grow over a long run.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
