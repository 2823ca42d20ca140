//! What the CDN says about its cache and where it served from, read from response headers.

use http::HeaderMap;

use crate::sample::CacheStatus;

/// Hit, miss or refresh, from the first header that says so: `X-Cache` (CloudFront, Varnish,
/// Fastly), `cf-cache-status` (Cloudflare), `x-cache-status` (nginx and others); failing
/// those, `Age` > 0 means the response came from a cache.
pub fn cache_status(headers: &HeaderMap) -> CacheStatus {
    let named = ["x-cache", "cf-cache-status", "x-cache-status"]
        .iter()
        .filter_map(|name| header(headers, name))
        .map(status_word)
        .find(|status| *status != CacheStatus::Unknown);
    named.unwrap_or_else(|| {
        let age = header(headers, "age").and_then(|age| age.trim().parse::<u64>().ok());
        match age {
            Some(age) if age > 0 => CacheStatus::Hit,
            _ => CacheStatus::Unknown,
        }
    })
}

/// The edge location: `x-amz-cf-pop` (CloudFront, e.g. `AKL50-C1`), else the location suffix of
/// `cf-ray` (Cloudflare, `8a1b2c3d4e5f6789-AKL`), else `x-served-by` (Fastly; the last entry,
/// which is the edge nearest the client). Empty when unknown.
pub fn pop(headers: &HeaderMap) -> String {
    if let Some(pop) = header(headers, "x-amz-cf-pop") {
        return pop.trim().to_string();
    }
    if let Some((_, location)) = header(headers, "cf-ray").and_then(|ray| ray.rsplit_once('-')) {
        return location.trim().to_string();
    }
    header(headers, "x-served-by")
        .and_then(|served| served.rsplit(',').next())
        .map(|edge| edge.trim().to_string())
        .unwrap_or_default()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// One cache header's value. Layered caches (Fastly shielding: `MISS, HIT`) list the edge
/// nearest the client last, so the last entry decides.
fn status_word(value: &str) -> CacheStatus {
    let last = value.rsplit(',').next().unwrap_or("").trim();
    let word = last
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match word.as_str() {
        "hit" | "stale" | "updating" => CacheStatus::Hit,
        "refreshhit" | "revalidated" => CacheStatus::Refresh,
        "miss" | "expired" | "bypass" | "dynamic" | "pass" => CacheStatus::Miss,
        _ => CacheStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    http::HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    /// A CloudFront hit as an edge in Auckland sends it (header names and value formats as
    /// CloudFront documents them; the ids are made up).
    const CLOUDFRONT_HIT: &[(&str, &str)] = &[
        ("content-type", "video/mp4"),
        ("x-cache", "Hit from cloudfront"),
        (
            "via",
            "1.1 0d9c5c2e8a1b2c3d4e5f60718293a4b5.cloudfront.net (CloudFront)",
        ),
        ("x-amz-cf-pop", "AKL50-C1"),
        (
            "x-amz-cf-id",
            "q5Ncz0QSRKf3nXJw3kH1Z2r9bZQ0jvN6lJcT4lY5nq3Yh0QwGx8KzA==",
        ),
        ("age", "1834"),
    ];

    #[test]
    fn cloudfront_hit_with_its_pop() {
        let h = headers(CLOUDFRONT_HIT);
        assert_eq!(cache_status(&h), CacheStatus::Hit);
        assert_eq!(pop(&h), "AKL50-C1");
    }

    #[test]
    fn cloudfront_miss() {
        let h = headers(&[
            ("x-cache", "Miss from cloudfront"),
            ("x-amz-cf-pop", "SYD62-P1"),
        ]);
        assert_eq!(cache_status(&h), CacheStatus::Miss);
        assert_eq!(pop(&h), "SYD62-P1");
    }

    #[test]
    fn cloudfront_refresh_hit() {
        let h = headers(&[("x-cache", "RefreshHit from cloudfront")]);
        assert_eq!(cache_status(&h), CacheStatus::Refresh);
    }

    #[test]
    fn fastly_shielded_hit_is_judged_by_the_edge_nearest_the_client() {
        let h = headers(&[
            (
                "x-served-by",
                "cache-iad-kiad7000025-IAD, cache-akl10520-AKL",
            ),
            ("x-cache", "MISS, HIT"),
            ("x-cache-hits", "0, 3"),
            ("age", "120"),
        ]);
        assert_eq!(cache_status(&h), CacheStatus::Hit);
        assert_eq!(pop(&h), "cache-akl10520-AKL");
    }

    #[test]
    fn varnish_miss() {
        let h = headers(&[("x-cache", "MISS"), ("x-varnish", "32770"), ("age", "0")]);
        assert_eq!(cache_status(&h), CacheStatus::Miss);
        assert_eq!(pop(&h), "");
    }

    #[test]
    fn cloudflare_hit_with_ray_location() {
        let h = headers(&[
            ("cf-cache-status", "HIT"),
            ("cf-ray", "8e1f2a3b4c5d6e7f-AKL"),
            ("age", "5230"),
        ]);
        assert_eq!(cache_status(&h), CacheStatus::Hit);
        assert_eq!(pop(&h), "AKL");
    }

    #[test]
    fn cloudflare_expired_is_a_miss_and_revalidated_a_refresh() {
        let expired = headers(&[("cf-cache-status", "EXPIRED")]);
        let revalidated = headers(&[("cf-cache-status", "REVALIDATED")]);
        assert_eq!(cache_status(&expired), CacheStatus::Miss);
        assert_eq!(cache_status(&revalidated), CacheStatus::Refresh);
    }

    #[test]
    fn cloudflare_dynamic_is_a_miss() {
        let h = headers(&[
            ("cf-cache-status", "DYNAMIC"),
            ("cf-ray", "8e1f2a3b4c5d6e70-SYD"),
        ]);
        assert_eq!(cache_status(&h), CacheStatus::Miss);
        assert_eq!(pop(&h), "SYD");
    }

    #[test]
    fn nginx_x_cache_status_is_read() {
        let h = headers(&[("x-cache-status", "HIT")]);
        assert_eq!(cache_status(&h), CacheStatus::Hit);
    }

    #[test]
    fn age_above_zero_alone_means_hit() {
        assert_eq!(cache_status(&headers(&[("age", "42")])), CacheStatus::Hit);
    }

    #[test]
    fn age_zero_alone_is_unknown() {
        assert_eq!(
            cache_status(&headers(&[("age", "0")])),
            CacheStatus::Unknown
        );
    }

    #[test]
    fn origin_without_cache_headers_is_unknown_with_no_pop() {
        let h = headers(&[("server", "AmazonS3"), ("etag", "\"abc\"")]);
        assert_eq!(cache_status(&h), CacheStatus::Unknown);
        assert_eq!(pop(&h), "");
    }

    #[test]
    fn x_cache_wins_over_age() {
        let h = headers(&[("x-cache", "Miss from cloudfront"), ("age", "10")]);
        assert_eq!(cache_status(&h), CacheStatus::Miss);
    }
}
