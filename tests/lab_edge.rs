//! The caching edge: misses cross to the origin once, hits come from memory, as CloudFront says.

mod lab_support;

use std::time::Duration;

use cdnprobe::lab::edge::Edge;
use cdnprobe::lab::link::{Link, LinkProfile, Shape};
use cdnprobe::lab::tls::{ALPN_H2_AND_HTTP1, TestCa};
use http::StatusCode;
use lab_support::{Origin, fetch, get, get_range, object_bytes};

const SIZE: usize = 21_000;

async fn edge_before(origin: &Origin) -> Edge {
    Edge::start(origin.addr, "AKL50-C1").await.unwrap()
}

/// An edge whose cache holds `/object/SIZE` after one miss.
async fn edge_holding_an_object() -> (Origin, Edge, String) {
    let origin = Origin::start().await;
    let edge = edge_before(&origin).await;
    let path = format!("/object/{SIZE}");
    get(edge.local_addr(), &path).await;
    (origin, edge, path)
}

#[tokio::test]
async fn the_first_fetch_is_a_miss_and_later_ones_are_byte_identical_hits() {
    let origin = Origin::start().await;
    let edge = edge_before(&origin).await;
    let path = format!("/object/{SIZE}");

    let first = get(edge.local_addr(), &path).await;
    let second = get(edge.local_addr(), &path).await;
    let third = get(edge.local_addr(), &path).await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-cache"), "Miss from cloudfront");
    assert_eq!(first.body, object_bytes(SIZE));
    for hit in [&second, &third] {
        assert_eq!(hit.header("x-cache"), "Hit from cloudfront");
        assert_eq!(hit.header("x-amz-cf-pop"), "AKL50-C1");
        assert!(
            hit.header("age").parse::<u64>().is_ok(),
            "Age: {:?}",
            hit.header("age")
        );
        assert_eq!(hit.body, first.body);
    }
    assert_eq!(origin.requests(), 1);
    assert_eq!((edge.counts().misses, edge.counts().hits), (1, 2));
}

#[tokio::test]
async fn hits_keep_the_origin_headers_and_the_content_length() {
    let (_origin, edge, path) = edge_holding_an_object().await;

    let hit = get(edge.local_addr(), &path).await;
    let head = fetch(edge.local_addr(), "HEAD", &path, &[]).await;

    assert_eq!(hit.header("content-length"), SIZE.to_string());
    assert_eq!(hit.header("content-type"), "video/mp4");
    assert_eq!(hit.header("etag"), format!("\"size-{SIZE}\""));
    assert!(hit.headers.get("transfer-encoding").is_none());
    assert_eq!(head.header("content-length"), SIZE.to_string());
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn a_range_on_a_hit_is_cut_from_the_cached_object() {
    let (origin, edge, path) = edge_holding_an_object().await;

    let part = get_range(edge.local_addr(), &path, "bytes=100-1099").await;
    let tail = get_range(edge.local_addr(), &path, "bytes=-500").await;

    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-1099/{SIZE}")
    );
    assert_eq!(part.header("content-length"), "1000");
    assert_eq!(part.body, object_bytes(SIZE).slice(100..1100));
    assert_eq!(part.header("x-cache"), "Hit from cloudfront");
    assert_eq!(tail.body, object_bytes(SIZE).slice(SIZE - 500..));
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn a_range_past_the_end_is_416_and_several_ranges_get_the_whole_object() {
    let origin = Origin::start().await;
    let edge = edge_before(&origin).await;
    let path = format!("/object/{SIZE}");

    let beyond = get_range(edge.local_addr(), &path, "bytes=99999-").await;
    let several = get_range(edge.local_addr(), &path, "bytes=0-1,5-9").await;

    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.header("content-range"), format!("bytes */{SIZE}"));
    assert_eq!(several.status, StatusCode::OK);
    assert_eq!(several.body, object_bytes(SIZE));
}

#[tokio::test]
async fn a_different_query_string_is_a_different_object() {
    let origin = Origin::start().await;
    let edge = edge_before(&origin).await;

    get(edge.local_addr(), "/object/10?bust=1").await;
    let other = get(edge.local_addr(), "/object/10?bust=2").await;

    assert_eq!(other.header("x-cache"), "Miss from cloudfront");
    assert_eq!(origin.requests(), 2);
}

#[tokio::test]
async fn errors_and_no_store_answers_are_not_cached() {
    let origin = Origin::start().await;
    let edge = edge_before(&origin).await;

    let missing = get(edge.local_addr(), "/nothing").await;
    get(edge.local_addr(), "/nothing").await;
    get(edge.local_addr(), "/private/10").await;
    let private = get(edge.local_addr(), "/private/10").await;

    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("x-cache"), "Error from cloudfront");
    assert_eq!(private.header("x-cache"), "Miss from cloudfront");
    assert_eq!(origin.requests(), 4);
}

#[tokio::test]
async fn an_unreachable_origin_is_a_502_from_the_edge() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let edge = Edge::start(addr, "SYD1-C1").await.unwrap();

    let answer = get(edge.local_addr(), "/object/10").await;

    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(answer.header("x-amz-cf-pop"), "SYD1-C1");
}

#[tokio::test]
async fn a_miss_crosses_the_far_path_and_a_hit_does_not() {
    let one_way = Duration::from_millis(100);
    let origin = Origin::start().await;
    let far = Link::start(origin.addr, LinkProfile::symmetric(Shape::latency(one_way)))
        .await
        .unwrap();
    let edge = Edge::start(far.local_addr(), "AKL50-C1").await.unwrap();

    let miss = get(edge.local_addr(), "/object/1000").await;
    let hit = get(edge.local_addr(), "/object/1000").await;

    assert!(miss.ttfb >= 2 * one_way, "miss ttfb {:?}", miss.ttfb);
    assert!(hit.ttfb < one_way, "hit ttfb {:?}", hit.ttfb);
    assert_eq!(hit.body, miss.body);
}

#[tokio::test]
async fn once_the_edge_answers_h3_every_answer_advertises_it() {
    let (_origin, mut edge, path) = edge_holding_an_object().await;
    assert_eq!(get(edge.local_addr(), &path).await.header("alt-svc"), "");
    let ca = TestCa::new().unwrap();
    let tls = ca
        .server_config(&["cdn.lab.test"], ALPN_H2_AND_HTTP1)
        .unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_addr = udp.local_addr().unwrap();

    edge.serve_h3(udp, &tls, 8443).unwrap();

    assert_eq!(edge.h3_addr(), Some(udp_addr));
    let hit = get(edge.local_addr(), &path).await;
    assert_eq!(hit.header("x-cache"), "Hit from cloudfront");
    assert_eq!(hit.header("alt-svc"), "h3=\":8443\"; ma=86400");
}
