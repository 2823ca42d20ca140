//! The A B A B schedule: warm-up rounds, then recorded rounds, targets interleaved within each
//! round so that drift on the path hits every target alike.

use std::future::Future;

use url::Url;

use super::plan::Plan;
use super::targets::Target;

/// Name of the query parameter `--cache-bust` adds.
pub const CACHE_BUST_PARAM: &str = "cdnprobe_bust";

/// One fetch (or playback session) of the schedule.
pub struct Slot<'a> {
    /// Index of the target in `plan.targets` (for per-target state such as kept connections).
    pub index: usize,
    pub target: &'a Target,
    /// The target's URL, with the cache-busting parameter when `--cache-bust` is on.
    pub url: Url,
    /// The 1-based sample number for a recorded slot, `None` during warm-up.
    pub sample: Option<u64>,
}

/// Calls `visit` for every slot of `plan` in order, pausing `plan.interval` between rounds.
/// Cancelling the returned future (Ctrl-C) can only happen at an await, never in the middle of
/// what `visit` does synchronously, such as writing a row.
pub async fn each_slot(
    plan: &Plan,
    mut visit: impl AsyncFnMut(Slot<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut bust_counter = 0u64;
    for round in 0..plan.warmup + plan.samples {
        if round > 0 && !plan.interval.is_zero() {
            tokio::time::sleep(plan.interval).await;
        }
        for (index, target) in plan.targets.iter().enumerate() {
            let mut url = target.url.clone();
            if plan.cache_bust {
                bust_counter += 1;
                url.query_pairs_mut()
                    .append_pair(CACHE_BUST_PARAM, &cache_bust_value(bust_counter));
            }
            let sample = round.checked_sub(plan.warmup).map(|n| n + 1);
            visit(Slot {
                index,
                target,
                url,
                sample,
            })
            .await?;
        }
    }
    Ok(())
}

/// Runs `work` until it ends or Ctrl-C arrives; `None` when interrupted. If the handler cannot
/// be installed, Ctrl-C kills the process as usual.
pub async fn until_interrupted<T>(work: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        result = work => Some(result),
        Ok(()) = tokio::signal::ctrl_c() => None,
    }
}

/// Runs a whole schedule: `Ok(true)` when it ended, `Ok(false)` when Ctrl-C interrupted it,
/// its error otherwise.
pub async fn run_to_end(
    schedule: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<bool> {
    match until_interrupted(schedule).await {
        Some(result) => result.map(|()| true),
        None => Ok(false),
    }
}

/// Unique across runs and samples: the clock in nanoseconds, then a counter.
fn cache_bust_value(counter: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{counter}")
}
