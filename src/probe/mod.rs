//! One timed fetch: DNS (hickory-resolver), TCP (tokio), TLS (tokio-rustls), HTTP (hyper client
//! connection API). Produces one `Sample`.
