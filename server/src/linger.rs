//! Lingering close: what is left of a refused request's body is read and thrown away after the
//! answer, as nginx does (`lingering_close`).
//!
//! A server that answers early (401, 413, 415) and closes with the client's bytes still unread
//! makes its kernel send a reset, and the reset can reach the client before it has read the
//! answer: the client then sees "broken pipe" instead of the reason. Reading the rest for a
//! bounded time lets the answer arrive first; the bounds keep a client that never stops from
//! holding the connection.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::{Instant, timeout_at};

/// The longest the rest of a body is read, whatever it sends (nginx's `lingering_time`).
const LINGER_TIME: Duration = Duration::from_secs(30);
/// The longest wait for the next bytes (nginx's `lingering_timeout`).
const LINGER_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads `body` to its end and discards it, in the background, so the answer goes out first.
pub fn drain_in_background(body: Incoming) {
    tokio::spawn(drain(body, LINGER_TIME, LINGER_TIMEOUT));
}

async fn drain(mut body: Incoming, total: Duration, idle: Duration) {
    let end = Instant::now() + total;
    loop {
        let wait = end.min(Instant::now() + idle);
        match timeout_at(wait, body.frame()).await {
            Ok(Some(Ok(_))) => {}
            // The end, an error, a silent client or the time is up: hyper closes the connection.
            _ => return,
        }
    }
}
