//! URLs as written to the CSV: as requested, minus secrets. Presigned S3 URLs and signed
//! CloudFront URLs carry credentials in their query; a results file is meant to be shared.

/// Query parameters whose values are secrets (compared without regard to case).
const SECRET_PARAMS: [&str; 6] = [
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "Signature",
    "Policy",
    "Key-Pair-Id",
];

pub const REDACTED: &str = "REDACTED";

/// The URL with the values of secret query parameters and any password replaced by
/// `REDACTED`. Everything else keeps its exact spelling (no re-encoding).
pub fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        // Only fails for URLs that cannot have a password, which this one has.
        let _ = url.set_password(Some(REDACTED));
    }
    if let Some(query) = url.query() {
        let redacted = redact_query(query);
        url.set_query(Some(&redacted));
    }
    url.to_string()
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let decoded = url::form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(name, _)| name.into_owned())
                .unwrap_or_default();
            if SECRET_PARAMS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&decoded))
            {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(url: &str) -> String {
        redact_url(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn presigned_s3_url_loses_signature_credential_and_token() {
        let url = "https://bucket.s3.eu-west-1.amazonaws.com/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-Credential=AKIAEXAMPLE%2F20261124%2Feu-west-1%2Fs3%2Faws4_request\
                   &X-Amz-Date=20261124T220000Z&X-Amz-Expires=3600\
                   &X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE&X-Amz-SignedHeaders=host\
                   &X-Amz-Signature=0123456789abcdef";
        assert_eq!(
            redact(url),
            "https://bucket.s3.eu-west-1.amazonaws.com/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=REDACTED&X-Amz-Date=20261124T220000Z&X-Amz-Expires=3600\
             &X-Amz-Security-Token=REDACTED&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED"
        );
    }

    #[test]
    fn signed_cloudfront_url_loses_signature_policy_and_key_pair_id() {
        let url = "https://d1234.cloudfront.net/v.mp4?Expires=1764000000&Policy=eyJTdGF0\
                   &Signature=abc~def__&Key-Pair-Id=K2JCJMDEHXQW5F";
        assert_eq!(
            redact(url),
            "https://d1234.cloudfront.net/v.mp4?Expires=1764000000&Policy=REDACTED\
             &Signature=REDACTED&Key-Pair-Id=REDACTED"
        );
    }

    #[test]
    fn secret_parameter_names_match_without_case() {
        assert_eq!(
            redact("https://h/v?x-amz-signature=s&signature=t"),
            "https://h/v?x-amz-signature=REDACTED&signature=REDACTED"
        );
    }

    #[test]
    fn password_in_the_url_is_redacted() {
        assert_eq!(
            redact("https://user:hunter2@h/v.mp4"),
            "https://user:REDACTED@h/v.mp4"
        );
    }

    #[test]
    fn url_without_secrets_is_unchanged() {
        let url = "https://d1234.cloudfront.net/v.mp4?cdnprobe_bust=1a2b&q=a%20b";
        assert_eq!(redact(url), url);
    }
}
