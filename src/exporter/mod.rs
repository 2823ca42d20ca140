pub mod blackbox;
pub mod cadence;
pub mod endpoints;
pub mod metrics;
pub mod probes;
pub mod scheduler;
pub mod web;
