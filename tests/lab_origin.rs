//! The lab's origin is the real cdnprobe-server, started in-process, fed through its upload API.

mod lab_support;

use cdnprobe::lab::origin::OriginServer;
use http::StatusCode;
use lab_support::{get, get_range};

const VIDEO: &[u8] = include_bytes!("../assets/sample.mp4");

#[tokio::test]
async fn an_uploaded_video_streams_back_byte_for_byte() {
    let data = tempfile::tempdir().unwrap();
    let origin = OriginServer::start(data.path()).await.unwrap();

    let video = origin.upload("sample.mp4", VIDEO).await.unwrap();
    let whole = get(origin.addr(), &video.path).await;
    let part = get_range(origin.addr(), &video.path, "bytes=0-99").await;

    assert_eq!(video.size, VIDEO.len() as u64);
    assert!(video.path.ends_with(&video.id), "{video:?}");
    assert_eq!(whole.body.as_ref(), VIDEO);
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), &VIDEO[..100]);
    origin.stop().await;
}

#[tokio::test]
async fn a_stopped_origin_closes_its_port() {
    let data = tempfile::tempdir().unwrap();
    let origin = OriginServer::start(data.path()).await.unwrap();
    let addr = origin.addr();

    origin.stop().await;

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
