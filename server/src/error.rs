//! Every error the API answers, as JSON `{ "error": "...", "detail": "..." }` with its status.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{method} is not allowed here (allowed: {allow})")]
    MethodNotAllowed { method: String, allow: &'static str },
    /// The store failed or did not answer within `--store-timeout`: worth retrying later.
    #[error("storage: {0}")]
    Storage(#[from] object_store::Error),
    #[error("the store did not answer within {0:?}")]
    StoreTimeout(std::time::Duration),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Storage(object_store::Error::NotFound { .. }) => StatusCode::NOT_FOUND,
            Self::Storage(_) | Self::StoreTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body: `error` names the status, `detail` says what went wrong.
    pub fn body(&self) -> serde_json::Value {
        let status = self.status();
        let detail = match self {
            Self::Storage(object_store::Error::NotFound { .. }) => "no such video".to_string(),
            // Storage internals (paths, endpoints) stay in the log, not in the answer.
            Self::Storage(_) | Self::StoreTimeout(_) => {
                "the video store is unavailable; nothing was stored, retry later".into()
            }
            Self::Internal(_) => "internal error; see the server log".into(),
            other => other.to_string(),
        };
        serde_json::json!({
            "error": status.canonical_reason().unwrap_or("error").to_lowercase(),
            "detail": detail,
        })
    }
}

impl From<multer::Error> for ApiError {
    /// The file part over its limit is the video being too large; anything else is a bad form.
    fn from(error: multer::Error) -> Self {
        match &error {
            multer::Error::FieldSizeExceeded { field_name, limit }
                if field_name.as_deref() == Some("file") =>
            {
                Self::PayloadTooLarge(format!(
                    "the video is larger than the limit of {limit} bytes"
                ))
            }
            multer::Error::StreamSizeExceeded { limit } => Self::PayloadTooLarge(format!(
                "the upload is larger than the limit of {limit} bytes"
            )),
            multer::Error::StreamReadFailed(cause) if cause.is::<BodyStalled>() => {
                Self::RequestTimeout(cause.to_string())
            }
            multer::Error::UnknownField { field_name } => Self::BadRequest(format!(
                "unknown form field {:?}; expected file, title, description, tags",
                field_name.as_deref().unwrap_or("")
            )),
            _ => Self::BadRequest(format!("malformed multipart form: {error}")),
        }
    }
}

/// The store stopped sending a video's bytes for longer than `--store-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the store sent nothing for {0:?}")]
pub struct StoreStalled(pub std::time::Duration);

/// The client stopped sending an upload's body for longer than `--body-read-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the upload stalled: no data for {0:?}")]
pub struct BodyStalled(pub std::time::Duration);
