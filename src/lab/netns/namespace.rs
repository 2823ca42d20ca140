//! Anonymous network namespaces, and running code inside one.
//!
//! A namespace is made by a short-lived thread that calls `unshare(CLONE_NEWNET)` and opens its
//! own `/proc/thread-self/ns/net`; that file descriptor is the only thing that keeps the
//! namespace alive. It is never bound to a name under `/run/netns`, so nothing outlives the
//! process: when the [`Namespace`] is dropped (or the process dies, even by SIGKILL) the kernel
//! frees the namespace and every device and route in it.
//!
//! A socket belongs to the namespace of the thread that created it, for its whole life. So code
//! that must make sockets "on a host" runs on a thread that first entered the namespace with
//! `setns` ([`Namespace::run`]); the sockets it returns can then be used from any thread, for
//! example by tasks on the lab's tokio runtime.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Command;

use nix::sched::{CloneFlags, setns, unshare};

/// Why the namespace lab cannot run, or a step of building it failed.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("cannot create a network namespace ({0}); needs root or CAP_NET_ADMIN")]
    Unshare(nix::Error),
    #[error("cannot enter a network namespace: {0}")]
    Enter(nix::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("a namespace thread panicked")]
    Panicked,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> NamespaceError {
    let context = context.into();
    move |source| NamespaceError::Io { context, source }
}

/// One anonymous network namespace, alive while this value is.
#[derive(Debug)]
pub struct Namespace {
    fd: OwnedFd,
    /// The namespace's inode number (`net:[N]`), how tests recognise it in `/proc`.
    inode: u64,
}

impl Namespace {
    /// Creates an empty namespace (only `lo`, down) and brings its loopback up.
    pub fn create() -> Result<Self, NamespaceError> {
        let fd = on_new_thread(|| {
            unshare(CloneFlags::CLONE_NEWNET).map_err(NamespaceError::Unshare)?;
            let file =
                File::open("/proc/thread-self/ns/net").map_err(io("opening the new namespace"))?;
            Ok(OwnedFd::from(file))
        })?;
        let inode = inode_of(&fd)?;
        let namespace = Self { fd, inode };
        namespace.ip(&["link", "set", "lo", "up"])?;
        Ok(namespace)
    }

    /// Another handle on the same namespace (a duplicated descriptor).
    pub fn try_clone(&self) -> Result<Self, NamespaceError> {
        Ok(Self {
            fd: self
                .fd
                .try_clone()
                .map_err(io("duplicating a namespace fd"))?,
            inode: self.inode,
        })
    }

    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Runs `work` on a new thread inside this namespace and returns what it returned. Sockets
    /// and devices it creates belong to the namespace; threads it spawns start inside it.
    pub fn run<T, F>(&self, work: F) -> Result<T, NamespaceError>
    where
        T: Send,
        F: FnOnce() -> Result<T, NamespaceError> + Send,
    {
        let fd = self.fd.as_fd();
        on_new_thread(move || {
            setns(fd, CloneFlags::CLONE_NEWNET).map_err(NamespaceError::Enter)?;
            work()
        })
    }

    /// Starts a long-lived thread inside this namespace (the probe's runtime lives on one).
    pub fn spawn<T, F>(&self, name: &str, work: F) -> std::io::Result<std::thread::JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let fd = self.fd.try_clone()?;
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // Entering cannot fail for a namespace we hold open with the privilege that
                // created it; if it did, running outside would silently bypass the lab.
                setns(&fd, CloneFlags::CLONE_NEWNET).expect("entering the lab namespace");
                drop(fd);
                work()
            })
    }

    /// Runs `ip ARGS` inside the namespace (iproute2: routes with `rto_min`, which the ioctl
    /// interface cannot set). The child is waited for, so no process outlives the call.
    pub fn ip(&self, args: &[&str]) -> Result<(), NamespaceError> {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        self.run(move || {
            let output = Command::new("ip")
                .args(&args)
                .output()
                .map_err(io("running `ip` (iproute2)"))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(NamespaceError::Command {
                    command: format!("ip {}", args.join(" ")),
                    stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                })
            }
        })
    }
}

/// Runs `work` on a fresh thread and waits for it, so that `unshare`/`setns` change only that
/// thread's namespace, never the caller's.
fn on_new_thread<T, F>(work: F) -> Result<T, NamespaceError>
where
    T: Send,
    F: FnOnce() -> Result<T, NamespaceError> + Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .map_err(|_| NamespaceError::Panicked)?
    })
}

fn inode_of(fd: &OwnedFd) -> Result<u64, NamespaceError> {
    use std::os::unix::fs::MetadataExt as _;
    let file = File::from(fd.try_clone().map_err(io("duplicating a namespace fd"))?);
    Ok(file
        .metadata()
        .map_err(io("reading a namespace's inode"))?
        .ino())
}

/// Why this process cannot build the namespace lab, or `None` when it can: it tries what the
/// lab needs (a network namespace, the TUN device node, the `ip` command) and undoes it.
pub fn unavailable_reason() -> Option<String> {
    let namespace = match Namespace::create() {
        Ok(namespace) => namespace,
        Err(error) => return Some(error.to_string()),
    };
    let tun = namespace.run(|| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(io("opening /dev/net/tun"))
    });
    tun.err().map(|error| error.to_string())
}

/// The inodes of every network namespace some thread of this process is in or holds open: a
/// test compares them before and after a lab to prove the lab's namespaces are gone.
pub fn namespaces_held_by_this_process() -> std::collections::BTreeSet<u64> {
    let mut inodes = std::collections::BTreeSet::new();
    let links = ["/proc/self/task", "/proc/self/fd"]
        .into_iter()
        .flat_map(|dir| {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(move |entry| {
                    if dir.ends_with("task") {
                        entry.path().join("ns/net")
                    } else {
                        entry.path()
                    }
                })
        });
    for link in links {
        if let Ok(target) = std::fs::read_link(&link) {
            let target = target.to_string_lossy().into_owned();
            if let Some(inode) = target
                .strip_prefix("net:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
            {
                inodes.insert(inode);
            }
        }
    }
    inodes
}
