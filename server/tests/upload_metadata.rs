//! An upload's text fields are refused, with 400 and nothing stored, when they are not valid
//! UTF-8, too long, too many or hold control characters; valid ones are stored as sent.

mod common;

use common::{Backend, Form, SAMPLE, Server};

on_both_backends!(
    a_title_of_invalid_utf8_is_400_and_stores_nothing,
    a_description_over_8_kib_is_400_and_stores_nothing,
    thirty_three_tags_are_400_and_store_nothing,
    a_tag_over_64_bytes_is_400_and_stores_nothing,
    a_title_with_a_newline_is_400_and_stores_nothing,
    metadata_at_its_limits_is_stored_as_sent,
);

/// A form whose field `name` carries exactly `value` (any bytes).
fn form_with_raw_field(name: &str, value: &[u8]) -> (String, Vec<u8>) {
    let (content_type, mut body) = Form::new().file("file", "a.mp4", SAMPLE).finish();
    // Insert the raw part before the closing boundary.
    let boundary = content_type.split("boundary=").nth(1).unwrap().to_string();
    let closing = format!("--{boundary}--\r\n");
    body.truncate(body.len() - closing.len());
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n");
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(value);
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(closing.as_bytes());
    (content_type, body)
}

async fn assert_field_refused(backend: Backend, name: &str, value: &[u8], reason: &str) {
    let server = Server::start(backend).await;
    let (content_type, body) = form_with_raw_field(name, value);
    let response = server
        .http
        .post(server.url("/api/v1/videos/upload"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let json: serde_json::Value = response.json().await.unwrap();
    let detail = json["detail"].as_str().unwrap();
    assert!(detail.contains(reason), "{detail}");
    server.assert_storage_becomes_empty().await;
}

async fn a_title_of_invalid_utf8_is_400_and_stores_nothing(backend: Backend) {
    assert_field_refused(backend, "title", b"caf\xe9 \xff\xfe", "UTF-8").await;
}

async fn a_description_over_8_kib_is_400_and_stores_nothing(backend: Backend) {
    assert_field_refused(backend, "description", &[b'd'; 8193], "description").await;
}

async fn thirty_three_tags_are_400_and_store_nothing(backend: Backend) {
    let tags: Vec<String> = (0..33).map(|i| format!("t{i}")).collect();
    assert_field_refused(
        backend,
        "tags",
        tags.join(",").as_bytes(),
        "more than 32 tags",
    )
    .await;
}

async fn a_tag_over_64_bytes_is_400_and_stores_nothing(backend: Backend) {
    let tags = format!("short,{}", "x".repeat(65));
    assert_field_refused(backend, "tags", tags.as_bytes(), "64 bytes").await;
}

async fn a_title_with_a_newline_is_400_and_stores_nothing(backend: Backend) {
    assert_field_refused(backend, "title", b"two\nlines", "control character").await;
}

async fn metadata_at_its_limits_is_stored_as_sent(backend: Backend) {
    let server = Server::start(backend).await;
    let title = "é".repeat(256); // 512 bytes
    let tags: Vec<String> = (0..32).map(|i| format!("{i:0>64}")).collect();
    let description = "line one\nline two\t".repeat(500);
    let form = Form::new()
        .file("file", "a.mp4", SAMPLE)
        .text("title", &title)
        .text("description", &description[..8192])
        .text("tags", &tags[..16].join(","))
        .text("tags", &tags[16..].join(","));
    let response = server.upload(form).await;
    assert_eq!(response.status(), 201);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["title"], title.as_str());
    assert_eq!(json["description"], &description[..8192]);
    assert_eq!(json["tags"].as_array().unwrap().len(), 32);
}
