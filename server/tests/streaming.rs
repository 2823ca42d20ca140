//! Upload, then GET / HEAD with every Range and conditional case, on local disk and on S3.

mod common;

use common::{Backend, Form, SAMPLE, Server, StorageRelay, mp4_like};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

on_both_backends!(
    upload_answers_201_with_the_video_json,
    info_repeats_the_upload_json,
    get_returns_the_video_byte_for_byte_with_its_headers,
    a_large_video_streams_back_byte_for_byte_with_content_length,
    head_returns_the_headers_without_a_body,
    range_a_to_b_returns_206_with_content_range,
    open_range_returns_the_rest_of_the_video,
    suffix_range_returns_the_last_bytes,
    range_past_the_end_is_cut_to_the_video,
    unsatisfiable_range_returns_416_with_the_length,
    several_ranges_return_the_whole_video,
    invalid_range_syntax_returns_the_whole_video,
    unknown_range_unit_returns_the_whole_video,
    if_none_match_returns_304_with_etag_and_cache_control,
    if_range_with_the_current_etag_returns_the_range,
    if_range_with_another_etag_returns_the_whole_video,
    a_restarted_server_still_serves_every_video,
);

async fn uploaded_sample(backend: Backend) -> (Server, String) {
    let server = Server::start(backend).await;
    let json = server.upload_video(SAMPLE).await;
    let id = json["id"].as_str().expect("id").to_string();
    (server, id)
}

async fn get(
    server: &Server,
    id: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = server.http.get(server.video_url(id));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("GET answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (
        status,
        headers,
        response.bytes().await.expect("body").to_vec(),
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

async fn upload_answers_201_with_the_video_json(backend: Backend) {
    let server =
        Server::start_with(backend, &["--cdn-base-url", "https://d111.cloudfront.net/"]).await;
    let form = Form::new()
        .file("file", "../clip.mp4", SAMPLE)
        .text("title", "Test pattern")
        .text("description", "4 s of testsrc")
        .text("tags", "cdn, probe");
    let response = server.upload(form).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let json: serde_json::Value = response.json().await.unwrap();
    let id = json["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(json["filename"], "clip.mp4");
    assert_eq!(json["content_type"], "video/mp4");
    assert_eq!(json["size"], SAMPLE.len());
    assert_eq!(
        json["sha256"],
        "3db7ca8825b24c024c64f14ad1558e89cd860418bec28ab81fbe7448054766e3"
    );
    assert!(json["created_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(json["title"], "Test pattern");
    assert_eq!(json["description"], "4 s of testsrc");
    assert_eq!(json["tags"], serde_json::json!(["cdn", "probe"]));
    assert_eq!(json["urls"]["stream"], server.video_url(id));
    assert_eq!(
        json["urls"]["info"],
        format!("{}/info", server.video_url(id))
    );
    assert_eq!(
        json["urls"]["cdn"],
        format!("https://d111.cloudfront.net/videos/{id}.mp4")
    );
    match server.bucket_url() {
        Some(bucket) => assert_eq!(json["urls"]["s3"], format!("{bucket}/videos/{id}.mp4")),
        None => assert!(json["urls"].get("s3").is_none()),
    }
}

async fn info_repeats_the_upload_json(backend: Backend) {
    let server = Server::start(backend).await;
    let uploaded = server
        .upload(Form::new().file("file", "a.mp4", SAMPLE).text("title", "t"))
        .await;
    let uploaded: serde_json::Value = uploaded.json().await.unwrap();
    let info = server
        .http
        .get(uploaded["urls"]["info"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    assert_eq!(info.json::<serde_json::Value>().await.unwrap(), uploaded);
}

async fn get_returns_the_video_byte_for_byte_with_its_headers(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == SAMPLE, "the body differs from the upload");
    assert_eq!(header(&headers, "content-length"), SAMPLE.len().to_string());
    assert_eq!(header(&headers, "content-type"), "video/mp4");
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header(&headers, "etag"),
        "\"3db7ca8825b24c024c64f14ad1558e89cd860418bec28ab81fbe7448054766e3\""
    );
    assert!(httpdate::parse_http_date(header(&headers, "last-modified")).is_ok());
    assert!(headers.get(header::TRANSFER_ENCODING).is_none());
}

async fn a_large_video_streams_back_byte_for_byte_with_content_length(backend: Backend) {
    // Several upload parts and many read pieces, with an odd length so no boundary lines up.
    let video = mp4_like(19 * 1024 * 1024 + 12_345);
    let server = Server::start(backend).await;
    let id = server.upload_video(&video).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, headers, body) = get(&server, &id, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-length"), video.len().to_string());
    assert!(headers.get(header::TRANSFER_ENCODING).is_none());
    assert!(body == video, "the body differs from the upload");
    let (status, _, tail) = get(&server, &id, &[("range", "bytes=1048570-3145730")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(
        tail == video[1_048_570..=3_145_730],
        "the range differs from the upload"
    );
}

async fn head_returns_the_headers_without_a_body(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let response = server
        .http
        .head(server.video_url(&id))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    // Range is defined for GET only: HEAD describes the whole video.
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "content-length"),
        SAMPLE.len().to_string()
    );
    assert_eq!(header(response.headers(), "accept-ranges"), "bytes");
    assert_eq!(header(response.headers(), "content-type"), "video/mp4");
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn range_a_to_b_returns_206_with_content_range(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[("range", "bytes=100-199")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 100-199/{}", SAMPLE.len())
    );
    assert_eq!(header(&headers, "content-length"), "100");
    assert_eq!(body, &SAMPLE[100..200]);
}

async fn open_range_returns_the_rest_of_the_video(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[("range", "bytes=21000-")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let last = SAMPLE.len() - 1;
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 21000-{last}/{}", SAMPLE.len())
    );
    assert_eq!(body, &SAMPLE[21000..]);
}

async fn suffix_range_returns_the_last_bytes(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[("range", "bytes=-500")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let len = SAMPLE.len();
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes {}-{}/{len}", len - 500, len - 1)
    );
    assert_eq!(body, &SAMPLE[len - 500..]);
}

async fn range_past_the_end_is_cut_to_the_video(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[("range", "bytes=21300-99999999")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let len = SAMPLE.len();
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 21300-{}/{len}", len - 1)
    );
    assert_eq!(body, &SAMPLE[21300..]);
}

async fn unsatisfiable_range_returns_416_with_the_length(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, _) = get(
        &server,
        &id,
        &[("range", &format!("bytes={}-", SAMPLE.len()))],
    )
    .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes */{}", SAMPLE.len())
    );
}

async fn several_ranges_return_the_whole_video(backend: Backend) {
    assert_whole_video_for_range(backend, "bytes=0-9,100-199").await;
}

async fn invalid_range_syntax_returns_the_whole_video(backend: Backend) {
    assert_whole_video_for_range(backend, "bytes=9-1").await;
}

async fn unknown_range_unit_returns_the_whole_video(backend: Backend) {
    assert_whole_video_for_range(backend, "items=0-9").await;
}

async fn assert_whole_video_for_range(backend: Backend, range: &str) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, headers, body) = get(&server, &id, &[("range", range)]).await;
    assert_eq!(status, StatusCode::OK, "{range}");
    assert!(headers.get("content-range").is_none(), "{range}");
    assert!(body == SAMPLE, "{range}: the body differs from the upload");
}

async fn if_none_match_returns_304_with_etag_and_cache_control(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (_, headers, _) = get(&server, &id, &[]).await;
    let etag = header(&headers, "etag").to_string();
    let (status, headers, body) = get(
        &server,
        &id,
        &[("if-none-match", &format!("\"other\", {etag}"))],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(header(&headers, "etag"), etag);
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(body.is_empty());
    let (status, ..) = get(&server, &id, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
}

async fn if_range_with_the_current_etag_returns_the_range(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (_, headers, _) = get(&server, &id, &[]).await;
    let etag = header(&headers, "etag").to_string();
    let (status, _, body) = get(&server, &id, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &SAMPLE[..10]);
}

async fn if_range_with_another_etag_returns_the_whole_video(backend: Backend) {
    let (server, id) = uploaded_sample(backend).await;
    let (status, _, body) = get(
        &server,
        &id,
        &[("range", "bytes=0-9"), ("if-range", "\"stale\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == SAMPLE, "the body differs from the upload");
}

async fn a_restarted_server_still_serves_every_video(backend: Backend) {
    let mut server = Server::start(backend).await;
    let first = server.upload_video(SAMPLE).await;
    let second = server.upload_video(&mp4_like(300_000)).await;
    server.restart().await;
    for (json, bytes) in [(first, SAMPLE.to_vec()), (second, mp4_like(300_000))] {
        let id = json["id"].as_str().unwrap();
        let (status, _, body) = get(&server, id, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == bytes, "video {id} changed across the restart");
        let info: serde_json::Value = server
            .http
            .get(server.url(&format!("/api/v1/videos/{id}/info")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["sha256"], json["sha256"]);
    }
}

/// S3 answers each request after a round trip: a GET from the server must cost one ranged S3
/// request, not one per piece as reading the local disk does.
#[tokio::test]
async fn an_s3_video_is_read_with_one_storage_request_per_get() {
    let relay = StorageRelay::start().await;
    let server = Server::start_through(&relay, &[]).await;
    let video = mp4_like(19 * 1024 * 1024 + 12_345);
    let json = server.upload_video(&video).await;
    let (id, key) = (json["id"].as_str().unwrap(), json["key"].as_str().unwrap());
    let (status, headers, body) = get(&server, id, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-length"), video.len().to_string());
    assert!(body == video, "the body differs from the upload");
    let (status, _, part) = get(&server, id, &[("range", "bytes=1048570-9437190")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(part == video[1_048_570..=9_437_190], "the range differs");
    let video_reads: Vec<String> = relay
        .requests()
        .into_iter()
        .filter(|request| request.starts_with("GET ") && request.ends_with(key))
        .collect();
    assert_eq!(video_reads.len(), 2, "{video_reads:?}");
}
