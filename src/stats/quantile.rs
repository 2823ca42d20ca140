//! The one quantile definition of cdnprobe, used by `report` (summary.csv, comparison.csv,
//! report.md, charts) and by `check` (the statistic it bootstraps), so both print the same p50
//! for the same samples.
//!
//! Definition: linear interpolation between the closest ranks (Hyndman & Fan type 7, the default
//! of R's `quantile` and NumPy's `percentile`). For n sorted values x₀ ≤ … ≤ xₙ₋₁ the q-quantile
//! lies at position h = q·(n − 1): x⌊h⌋ + (h − ⌊h⌋)·(x⌈h⌉ − x⌊h⌋). The median of an even
//! count is the mean of the middle two; p0 is the minimum and p100 the maximum.
//!
//! The check's bootstrap was calibrated with this definition (`tests/check_statistics.rs`);
//! nearest-rank medians jump between order statistics and made its interval coarser.
//! A report of more rows than it keeps exactly applies the same definition to the order
//! statistics of an HdrHistogram, so its quantiles carry the histogram's 0.1 % resolution.

use hdrhistogram::Histogram;

/// The q-quantile (0–1) of `values` (sorts them). `values` must be non-empty.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    sorted_quantile(values, q)
}

/// The q-quantile of values already sorted ascending; must be non-empty.
pub fn sorted_quantile(sorted: &[f64], q: f64) -> f64 {
    let (low, high, fraction) = rank(sorted.len(), q);
    interpolate(sorted[low], sorted[high], fraction)
}

/// The q-quantile of the values recorded in `histogram` (each value at its bucket's resolution);
/// must be non-empty.
pub fn histogram_quantile(histogram: &Histogram<u64>, q: f64) -> f64 {
    let (low, high, fraction) = rank(histogram.len() as usize, q);
    let (mut seen, mut low_value) = (0u64, None);
    for bucket in histogram.iter_recorded() {
        seen += bucket.count_since_last_iteration();
        let value = histogram.median_equivalent(bucket.value_iterated_to()) as f64;
        if seen > low as u64 && low_value.is_none() {
            low_value = Some(value);
        }
        if seen > high as u64 {
            return interpolate(low_value.unwrap_or(value), value, fraction);
        }
    }
    unreachable!("a histogram's bucket counts add up to its length")
}

/// The two order statistics (0-based) the q-quantile of `len` values lies between, and how far
/// between them.
pub(crate) fn rank(len: usize, q: f64) -> (usize, usize, f64) {
    let position = q.clamp(0.0, 1.0) * (len - 1) as f64;
    let low = position.floor() as usize;
    (low, position.ceil() as usize, position - low as f64)
}

pub(crate) fn interpolate(low: f64, high: f64, fraction: f64) -> f64 {
    // Equal bounds short-cut keeps infinite values infinite instead of NaN (∞ − ∞).
    if low == high {
        low
    } else {
        low + (high - low) * fraction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(quantile(&mut [4516.0, 9032.0], 0.5), 6774.0);
        assert_eq!(quantile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), 2.5);
    }

    #[test]
    fn quantiles_interpolate_between_closest_ranks() {
        let sorted = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(sorted_quantile(&sorted, 0.0), 10.0);
        assert_eq!(sorted_quantile(&sorted, 0.9), 46.0);
        assert_eq!(sorted_quantile(&sorted, 1.0), 50.0);
    }

    #[test]
    fn histogram_quantile_applies_the_same_definition() {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        let values = [100u64, 200, 300, 400, 500, 600];
        for v in values {
            histogram.record(v).unwrap();
        }
        let exact: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        for q in [0.0, 0.25, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(
                histogram_quantile(&histogram, q),
                sorted_quantile(&exact, q),
                "q = {q}"
            );
        }
    }
}
