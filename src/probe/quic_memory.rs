//! Why the probe's memory stays flat over thousands of QUIC connections.
//!
//! Every quinn endpoint (one per connection: `quic.rs`) allocates a zeroed receive buffer of
//! 1472-byte datagrams × 64 GRO segments × a batch of 32 = 2.9 MiB, freed only once its
//! closed connection has drained (three PTOs, RFC 9000 §10.2: some 80 ms on loopback), so a
//! run of short samples holds about 30 endpoints at once. glibc serves the first such buffer
//! with an mmap of its own (zero pages, resident only where datagrams were written), but
//! freeing it raises glibc's dynamic mmap threshold above that size: every later buffer comes
//! from the heap, where zeroing writes all 2.9 MiB, and the heap keeps the holes they leave.
//! 10,000 samples peaked at 94.6 MiB that way (reports/bench/h3.md). A fixed threshold keeps
//! each buffer an mmap of its own, whatever was freed before.

/// Allocations from this size up get an mmap of their own: the endpoints' buffers, and not
/// the per-request ones (tens of KiB), which stay heap allocations without system calls.
pub const MMAP_THRESHOLD: usize = 1 << 20;

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`], once per process, before the first
/// endpoint exists. Elsewhere (musl maps large allocations anyway) there is nothing to do.
pub fn map_large_buffers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt changes glibc's allocation policy only; any thread may call it.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
        }
    });
}
