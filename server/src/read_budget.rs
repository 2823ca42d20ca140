//! One budget of memory for every video byte read ahead of the network, shared by the whole
//! process: however many connections are open, the pieces read from the store and not yet
//! written to a socket never hold more than `--read-budget-mib` between them. A response
//! that finds the budget spent waits for its next piece; it never allocates beyond it.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in units of this many bytes (a semaphore holds at most `u32::MAX`
/// permits, and no piece needs finer accounting).
const UNIT: u64 = 4 << 10;

#[derive(Clone)]
pub struct ReadBudget {
    units: Arc<Semaphore>,
    total_units: u32,
}

/// A piece's share of the budget, given back when the piece's bytes are dropped (once hyper
/// has written them).
struct Held<T> {
    bytes: T,
    _share: OwnedSemaphorePermit,
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Held<T> {
    fn as_ref(&self) -> &[u8] {
        self.bytes.as_ref()
    }
}

impl ReadBudget {
    pub fn new(bytes: u64) -> Self {
        let total_units = (bytes / UNIT).clamp(1, u32::MAX as u64) as u32;
        Self {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// Waits until `len` bytes of the budget are free, and holds them.
    pub async fn reserve(&self, len: u64) -> Reservation {
        let share = self
            .units
            .clone()
            .acquire_many_owned(self.units_of(len))
            .await
            .expect("the budget is never closed");
        Reservation { share }
    }

    /// Holds `len` bytes of the budget if they are free now.
    pub fn try_reserve(&self, len: u64) -> Option<Reservation> {
        let share = self
            .units
            .clone()
            .try_acquire_many_owned(self.units_of(len))
            .ok()?;
        Some(Reservation { share })
    }

    fn units_of(&self, len: u64) -> u32 {
        // A piece larger than the whole budget takes all of it rather than waiting forever.
        len.div_ceil(UNIT).clamp(1, self.total_units as u64) as u32
    }

    /// Bytes of the budget held by pieces now.
    pub fn in_use(&self) -> u64 {
        (self.total_units as u64 - self.units.available_permits() as u64) * UNIT
    }
}

/// Budget held for a piece being read.
pub struct Reservation {
    share: OwnedSemaphorePermit,
}

impl Reservation {
    /// The piece read (any owner of bytes: a buffer, a mapping): its bytes keep the
    /// reservation until they are dropped.
    pub fn hold<T: AsRef<[u8]> + Send + 'static>(self, bytes: T) -> Bytes {
        Bytes::from_owner(Held {
            bytes,
            _share: self.share,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pieces_hold_their_share_until_dropped() {
        let budget = ReadBudget::new(64 << 10);
        let piece = budget
            .reserve(40 << 10)
            .await
            .hold(Bytes::from(vec![7; 40 << 10]));
        assert_eq!(budget.in_use(), 40 << 10);
        let copy = piece.slice(..10);
        drop(piece);
        assert_eq!(budget.in_use(), 40 << 10, "a slice still holds the piece");
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(32 << 10).await.hold(Bytes::new()) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the budget was overspent");
        drop(copy);
        waiting.await.unwrap();
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_piece_larger_than_the_budget_takes_all_of_it() {
        let budget = ReadBudget::new(16 << 10);
        let piece = budget.reserve(1 << 20).await.hold(Bytes::new());
        assert_eq!(budget.in_use(), 16 << 10);
        drop(piece);
    }
}
