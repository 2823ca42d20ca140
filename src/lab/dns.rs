//! In-process authoritative DNS server (hickory-server) with per-name answer delays.
