//! `POST /api/v1/videos/upload`: a multipart form streamed into storage, never whole in memory.
//!
//! The file part is hashed and written as it arrives; its first bytes decide whether it is a
//! video at all. The upload is completed, and its record written, only once the whole form
//! has been read and accepted — any error or disconnect before that leaves nothing stored,
//! and a disconnect after that no longer stops the commit.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use futures::TryStreamExt;
use http::header;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use multer::{Constraints, Multipart, SizeLimit};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, BodyStalled};
use crate::linger;
use crate::metadata::{self, Metadata};
use crate::routes::App;
use crate::stall;
use crate::storage::{PendingVideo, VideoId, VideoRecord};

/// Bytes looked at to recognise a video; smaller files are judged on what they have.
const SNIFF_BYTES: usize = 8 << 10;
/// Room for the form's boundaries, part headers and text fields around the video itself.
const FORM_OVERHEAD: u64 = 64 << 10;

/// Checks `Authorization: Bearer TOKEN` when the server has an upload token.
pub fn authorize(app: &App, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &app.args.upload_token else {
        return Ok(());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare every byte whatever the first difference, so timing tells nothing.
    let same = presented.len() == token.len()
        && presented
            .bytes()
            .zip(token.bytes())
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Unauthorized(
            "uploads need Authorization: Bearer <upload token>".into(),
        ))
    }
}

pub async fn upload(app: &App, request: http::Request<Incoming>) -> Result<VideoRecord, ApiError> {
    let (parts, mut body) = request.into_parts();
    let result = receive_form(app, &parts.headers, &mut body).await;
    if result.is_err() {
        linger::drain_in_background(body);
    }
    result
}

async fn receive_form(
    app: &App,
    headers: &http::HeaderMap,
    body: &mut Incoming,
) -> Result<VideoRecord, ApiError> {
    authorize(app, headers)?;
    let max = app.args.max_upload_bytes;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::BadRequest("expected a multipart/form-data body with a boundary".into())
    })?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max + FORM_OVERHEAD) {
        return Err(ApiError::PayloadTooLarge(format!(
            "the upload is larger than the limit of {max} bytes"
        )));
    }
    let uploaded = app.metrics.bytes_uploaded.clone();
    let body = body.into_data_stream().inspect_ok(move |chunk: &Bytes| {
        uploaded.inc_by(chunk.len() as u64);
    });
    let body = stall::cut_off_when_stalled(
        body,
        Duration::from_secs(app.args.body_read_timeout),
        |idle| BodyStalled(idle).into(),
    );
    let constraints = Constraints::new()
        .allowed_fields(vec!["file", "title", "description", "tags"])
        .size_limit(
            SizeLimit::new()
                .whole_stream(max + FORM_OVERHEAD)
                .for_field("file", max)
                // One byte over each bound, so that the field's own check names it.
                .for_field("title", metadata::TITLE_MAX_BYTES as u64 + 1)
                .for_field("description", metadata::DESCRIPTION_MAX_BYTES as u64 + 1)
                .for_field("tags", metadata::TAGS_FIELD_MAX_BYTES as u64 + 1),
        );
    let mut form = Multipart::with_constraints(body, boundary, constraints);

    let mut video: Option<ReceivedVideo> = None;
    let mut metadata = Metadata::default();
    while let Some(field) = form.next_field().await? {
        match field.name().unwrap_or_default() {
            "file" if video.is_some() => {
                return Err(ApiError::BadRequest("more than one file part".into()));
            }
            "file" => video = Some(receive_video(app, field).await?),
            // Raw bytes, not `text()`: that would repair invalid UTF-8 instead of refusing it.
            // multer's allowed_fields already refuses other names; a part without one lands
            // in `add`, which refuses it too.
            name => {
                let name = name.to_string();
                metadata.add(&name, &field.bytes().await?)?;
            }
        }
    }
    let Some(video) = video else {
        return Err(ApiError::BadRequest("the form has no file part".into()));
    };

    let ReceivedVideo {
        started,
        filename,
        size,
        sha256,
    } = video;
    let record = VideoRecord {
        id: started.id.to_string(),
        key: started.key,
        filename,
        content_type: started.content_type.to_string(),
        size,
        sha256,
        created_at: Utc::now(),
        title: metadata.title,
        description: metadata.description,
        tags: metadata.tags,
        cache_control: app.args.cache_control.clone(),
    };
    // From here on the upload ends stored or not at all, whether or not the client stays.
    app.storage.commit(started.pending, record).await
}

/// A video recognised by its first bytes, being written under a fresh id.
struct StartedVideo {
    id: VideoId,
    key: String,
    content_type: &'static str,
    pending: PendingVideo,
}

/// A whole file part written to storage but not yet completed.
struct ReceivedVideo {
    started: StartedVideo,
    filename: String,
    size: u64,
    sha256: String,
}

async fn receive_video(app: &App, mut field: multer::Field<'_>) -> Result<ReceivedVideo, ApiError> {
    let filename = display_filename(field.file_name());
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = BytesMut::new();
    let mut started: Option<StartedVideo> = None;
    while let Some(chunk) = field.chunk().await? {
        hasher.update(&chunk);
        size += chunk.len() as u64;
        match &mut started {
            Some(started) => started.pending.write(&chunk).await?,
            None => {
                head.extend_from_slice(&chunk);
                if head.len() >= SNIFF_BYTES {
                    started = Some(start_video(app, &head).await?);
                }
            }
        }
    }
    let started = match started {
        Some(started) => started,
        None if head.is_empty() => {
            return Err(ApiError::BadRequest("the file part is empty".into()));
        }
        None => start_video(app, &head).await?,
    };
    Ok(ReceivedVideo {
        started,
        filename,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Judges the first bytes, then opens the upload under a fresh id with them already written.
async fn start_video(app: &App, head: &[u8]) -> Result<StartedVideo, ApiError> {
    let (content_type, extension) = video_type(head).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "the file is not a video (accepted: mp4, mov, m4v, webm, mkv, avi, mpeg-ts)".into(),
        )
    })?;
    let id = VideoId::generate();
    let key = id.video_key(extension);
    let mut pending = app
        .storage
        .begin_video(&key, content_type, &app.args.cache_control)
        .await?;
    pending.write(head).await?;
    Ok(StartedVideo {
        id,
        key,
        content_type,
        pending,
    })
}

/// The video type of a file by its bytes (the name and the client's Content-Type can lie).
pub fn video_type(head: &[u8]) -> Option<(&'static str, &'static str)> {
    use infer::video;
    type Matcher = fn(&[u8]) -> bool;
    let known: [(Matcher, &str, &str); 6] = [
        (video::is_m4v, "video/x-m4v", "m4v"),
        (video::is_mp4, "video/mp4", "mp4"),
        (video::is_mov, "video/quicktime", "mov"),
        (video::is_webm, "video/webm", "webm"),
        (video::is_mkv, "video/x-matroska", "mkv"),
        (video::is_avi, "video/x-msvideo", "avi"),
    ];
    if let Some((_, content_type, extension)) = known.iter().find(|(matches, ..)| matches(head)) {
        return Some((content_type, extension));
    }
    // MPEG transport stream: 188-byte packets, each starting with the sync byte 0x47.
    let transport_stream = head.len() > 2 * 188 && [0, 188, 376].iter().all(|&at| head[at] == 0x47);
    transport_stream.then_some(("video/mp2t", "ts"))
}

/// The client's file name without any directories, for display only (keys never use it).
fn display_filename(name: Option<&str>) -> String {
    let name = name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.is_empty() {
        "video".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_mp4_is_recognised_as_mp4() {
        let sample = include_bytes!("../../assets/sample.mp4");
        assert_eq!(video_type(sample), Some(("video/mp4", "mp4")));
    }

    #[test]
    fn text_is_not_a_video() {
        assert_eq!(video_type(b"hello, this is not a video at all"), None);
    }

    #[test]
    fn filenames_lose_their_directories() {
        assert_eq!(display_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(display_filename(Some("C:\\videos\\clip.mp4")), "clip.mp4");
        assert_eq!(display_filename(None), "video");
    }
}
