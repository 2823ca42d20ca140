//! An HTTP(S) server that injects known delays and faults: slow TLS handshake, slow response head, throttled body, reset, lying Content-Length, stall.
