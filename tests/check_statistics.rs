//! The decision rule's statistical properties (issue 6), measured on synthetic samples: 1,000
//! trials per scenario, 30 log-normal samples a side with σ = 0.3 (on the log scale), fixed seeds,
//! and the check's defaults (p50, 95 % confidence, its resamples and seed).
//!
//! `cargo test --test check_statistics -- --nocapture` prints the measured rates.

use std::sync::OnceLock;

use cdnprobe::check::{Inconclusive, Outcome, Rule};
use cdnprobe::synthetic::log_normal;
use rand::SeedableRng;
use rand_pcg::Pcg64;

const TRIALS: usize = 1000;
const SAMPLES: usize = 30;
const SIGMA: f64 = 0.3;
const CANDIDATE_MEDIAN_MS: f64 = 80.0;

/// A true speedup and the `--min-speedup` it is judged against.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    true_speedup: f64,
    min_speedup: f64,
    seed: u64,
}

const CLEAR_GAIN: Scenario = Scenario::new("true 2.25× vs --min-speedup 1.5", 2.25, 1.5, 1);
const NO_GAIN: Scenario = Scenario::new("true 1.0× vs --min-speedup 1.5", 1.0, 1.5, 2);
const AT_THRESHOLD: Scenario = Scenario::new("true 1.5× vs --min-speedup 1.5", 1.5, 1.5, 3);
const A_A: Scenario = Scenario::new("A/A (true 1.0×) vs --min-speedup 1.0", 1.0, 1.0, 4);

/// Each trial's outcome, and whether its interval held the true speedup.
#[derive(Debug)]
struct Trials {
    outcomes: Vec<Outcome>,
    covered: Vec<bool>,
}

impl Trials {
    fn share(&self, outcome: Outcome) -> f64 {
        self.outcomes.iter().filter(|&&o| o == outcome).count() as f64 / TRIALS as f64
    }

    fn coverage(&self) -> f64 {
        self.covered.iter().filter(|&&c| c).count() as f64 / TRIALS as f64
    }

    /// The share of trials in which the check as a whole fails with `--inconclusive policy`.
    fn failing(&self, policy: Inconclusive) -> f64 {
        self.outcomes.iter().filter(|&&o| !policy.passes(o)).count() as f64 / TRIALS as f64
    }
}

impl Scenario {
    /// `seed` (1–4) picks both the samples and the scenario's slot in the cache.
    const fn new(name: &'static str, true_speedup: f64, min_speedup: f64, seed: u64) -> Self {
        Self {
            name,
            true_speedup,
            min_speedup,
            seed,
        }
    }

    /// Runs the scenario once per test binary; tests sharing it wait for the first.
    fn trials(&'static self) -> &'static Trials {
        static CACHE: [OnceLock<Trials>; 4] = [const { OnceLock::new() }; 4];
        CACHE[self.seed as usize - 1].get_or_init(|| self.run())
    }

    fn run(&self) -> Trials {
        let rule = Rule::default();
        let mut rng = Pcg64::seed_from_u64(self.seed);
        let started = std::time::Instant::now();
        let (outcomes, covered) = (0..TRIALS)
            .map(|_| {
                let baseline = log_normal_times(&mut rng, CANDIDATE_MEDIAN_MS * self.true_speedup);
                let candidate = log_normal_times(&mut rng, CANDIDATE_MEDIAN_MS);
                let comparison = rule.compare(&baseline, &candidate, self.min_speedup);
                (
                    comparison.outcome,
                    comparison.interval.contains(self.true_speedup),
                )
            })
            .unzip();
        let trials = Trials { outcomes, covered };
        println!(
            "{}: pass {:.1} %, fail {:.1} %, inconclusive {:.1} %, interval covers the true speedup {:.1} % ({TRIALS} trials, {:.1} s)",
            self.name,
            trials.share(Outcome::Pass) * 100.0,
            trials.share(Outcome::Fail) * 100.0,
            trials.share(Outcome::Inconclusive) * 100.0,
            trials.coverage() * 100.0,
            started.elapsed().as_secs_f64()
        );
        trials
    }
}

/// `SAMPLES` times whose logarithm is normal with standard deviation `SIGMA` around
/// ln(median_ms).
fn log_normal_times(rng: &mut Pcg64, median_ms: f64) -> Vec<f64> {
    (0..SAMPLES)
        .map(|_| log_normal(rng, median_ms, SIGMA))
        .collect()
}

#[test]
fn interval_covers_the_true_speedup_in_93_to_97_percent_of_trials() {
    for scenario in [&CLEAR_GAIN, &NO_GAIN, &AT_THRESHOLD, &A_A] {
        let coverage = scenario.trials().coverage();
        assert!(
            (0.93..=0.97).contains(&coverage),
            "{}: covered in {coverage}",
            scenario.name
        );
    }
}

#[test]
fn true_speedup_2_25_passes_threshold_1_5_in_at_least_95_percent() {
    assert!(CLEAR_GAIN.trials().share(Outcome::Pass) >= 0.95);
}

#[test]
fn no_speedup_fails_threshold_1_5_in_at_least_97_percent() {
    assert!(NO_GAIN.trials().share(Outcome::Fail) >= 0.97);
}

#[test]
fn speedup_exactly_at_threshold_passes_in_at_most_5_percent() {
    assert!(AT_THRESHOLD.trials().share(Outcome::Pass) <= 0.05);
}

#[test]
fn a_a_with_inconclusive_pass_fails_in_at_most_5_percent() {
    assert!(A_A.trials().failing(Inconclusive::Pass) <= 0.05);
}
