//! A throwaway certificate authority and leaf certificates (rcgen) for TLS on loopback.
