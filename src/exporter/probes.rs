//! The configured targets and the one way to probe them, shared by the schedule and `/probe`:
//! at most `concurrency` fetches at once, each within the prober's timeout, always on the
//! probing runtime so that serving a scrape never runs inside a timed phase.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use crate::play::record::PlaybackRow;
use crate::play::session::{self, SessionSettings};
use crate::probe::Prober;
use crate::sample::Sample;
use crate::schedule::Target;

pub struct Probes {
    targets: Vec<Target>,
    prober: Prober,
    region: String,
    limit: Arc<Semaphore>,
    /// The runtime the probes run on (its own thread; see `exporter::execute`).
    runtime: Handle,
}

impl Probes {
    pub fn new(
        targets: Vec<Target>,
        prober: Prober,
        region: String,
        concurrency: usize,
        runtime: Handle,
    ) -> Self {
        Self {
            targets,
            prober,
            region,
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            runtime,
        }
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The index of the target with this label; nothing else is ever probed.
    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.targets.iter().position(|t| t.label == label)
    }

    /// Probes target `index` once, waiting for a free slot first. `None` once the limit is
    /// closed (shutting down).
    pub async fn probe(&self, index: usize) -> Option<Sample> {
        let target = self.targets.get(index)?;
        let _permit = self.limit.acquire().await.ok()?;
        let mut sample = self
            .prober
            .fetch(&target.url, &target.headers, &mut None)
            .await;
        sample.region = self.region.clone();
        sample.target = target.label.clone();
        Some(sample)
    }

    /// One playback session of target `index` (as `cdnprobe play` runs it), holding one slot
    /// for the whole session.
    pub async fn play(&self, index: usize, settings: &SessionSettings) -> Option<PlaybackRow> {
        let target = self.targets.get(index)?;
        let _permit = self.limit.acquire().await.ok()?;
        let outcome = session::play(&self.prober, &target.headers, settings, &target.url).await;
        let mut row = outcome.row;
        row.region = self.region.clone();
        row.target = target.label.clone();
        Some(row)
    }

    /// [`Probes::probe`] from another runtime (the endpoints'): the fetch runs on the probing
    /// runtime and this only waits for it.
    pub async fn probe_on_demand(self: &Arc<Self>, index: usize) -> Option<Sample> {
        let probes = self.clone();
        self.runtime
            .spawn(async move { probes.probe(index).await })
            .await
            .ok()
            .flatten()
    }

    /// No probe starts after this; those running finish.
    pub fn close(&self) {
        self.limit.close();
    }
}
