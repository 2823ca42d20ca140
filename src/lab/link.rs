//! User-space network links: a TCP relay that adds per-direction latency and bandwidth limits.
