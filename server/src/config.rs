//! The command line of `cdnprobe-server`, which is also the configuration the library takes.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Command line of `cdnprobe-server`. The offline demo builds it with clap from an argv list.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cdnprobe-server",
    version,
    about = "Video upload and HTTP Range streaming server: local disk by default, S3 in production"
)]
pub struct Args {
    /// Address to listen on. Anything beyond loopback should have an --upload-token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for videos and their records when no --s3-bucket is given; a relative path is
    /// taken from the working directory (the log shows where it is).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,

    /// Store videos in this S3 (or S3-compatible) bucket instead of --data-dir. Credentials come
    /// from the usual AWS_* environment variables.
    #[arg(long)]
    pub s3_bucket: Option<String>,

    /// Region of the bucket (default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long)]
    pub s3_region: Option<String>,

    /// Endpoint of an S3-compatible store, for example http://127.0.0.1:9000.
    #[arg(long)]
    pub s3_endpoint: Option<String>,

    /// Public base URL of the bucket; the `s3` URL of a video is this plus its key
    /// (for example https://my-bucket.s3.eu-west-1.amazonaws.com).
    #[arg(long)]
    pub s3_public_base_url: Option<String>,

    /// Base URL of the CDN in front of the bucket; the `cdn` URL of a video is this plus its key
    /// (for example https://d111111abcdef8.cloudfront.net).
    #[arg(long)]
    pub cdn_base_url: Option<String>,

    /// Base URL of this server as clients reach it, for the `stream` and `info` URLs
    /// (default: http:// and the request's Host header).
    #[arg(long)]
    pub public_base_url: Option<String>,

    /// Uploads need `Authorization: Bearer TOKEN` when set. Reads stay public. An empty token
    /// (say, a CI secret that is missing) is refused: it would let every upload in.
    #[arg(
        long,
        env = "CDNPROBE_UPLOAD_TOKEN",
        hide_env_values = true,
        value_parser = upload_token
    )]
    pub upload_token: Option<String>,

    /// Largest video accepted, in bytes; larger uploads get 413 and nothing is stored.
    #[arg(long, default_value_t = 2 << 30)]
    pub max_upload_bytes: u64,

    /// Cache-Control of every video, on the response and stored with the object. A video id
    /// never changes content, so the default lets caches keep it for a year.
    #[arg(long, default_value = "public, max-age=31536000, immutable")]
    pub cache_control: String,

    /// Seconds a client has to send a request's headers before the connection is closed. The
    /// same clock runs while a keep-alive connection waits for its next request, so this is
    /// also the idle timeout.
    #[arg(long, default_value_t = 30)]
    pub header_read_timeout: u64,

    /// Connections held open at once. Beyond it a new connection is answered 503 and closed
    /// (and the log says so). Lowered at start if the limit of open files cannot hold it.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Seconds an upload's body may stall before the upload is cut off (408) and discarded.
    #[arg(long, default_value_t = 60)]
    pub body_read_timeout: u64,

    /// MiB of memory for local-disk video bytes, shared by all responses: videos are served
    /// from memory maps of their files, kept for the next request while this allows; with many
    /// connections each waits its turn instead of each holding its own read-ahead.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub read_budget_mib: u64,

    /// Seconds the store (disk or S3) may take to answer one step of an upload, or to send
    /// the next piece of a video. An upload past it is answered 503 and discarded; a video
    /// response past it is cut off (the client sees fewer bytes than Content-Length).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub store_timeout: u64,

    /// Seconds after which a video found without its record at start (left by a server killed
    /// in the middle of committing it) is deleted. Other instances sharing the bucket commit
    /// well within it.
    #[arg(long, default_value_t = 3600)]
    pub orphan_grace: u64,

    /// Seconds open connections get to finish after SIGTERM/SIGINT before the server exits.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,
}

/// Parses an upload token, refusing an empty one: an environment variable that is set but
/// empty (a CI secret that does not exist, say) must not pass for a token.
pub fn upload_token(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("the token is empty (is CDNPROBE_UPLOAD_TOKEN set to an empty value?)".into());
    }
    Ok(value.to_string())
}
