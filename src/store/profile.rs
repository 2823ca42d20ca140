//! The AWS shared credentials file (`~/.aws/credentials`, profile `AWS_PROFILE` or `default`),
//! which `object_store` does not read itself. Used only when the environment holds no keys, so
//! the environment wins, as in the AWS CLI; without a file the builder goes on down the chain
//! (web identity, container credentials, instance role).

use std::path::PathBuf;

use object_store::aws::AmazonS3Builder;

use crate::error::UsageError;

/// Keys (and the region, from `~/.aws/config`) of one profile.
pub struct Profile {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: Option<String>,
}

impl Profile {
    pub fn apply(self, mut builder: AmazonS3Builder) -> AmazonS3Builder {
        builder = builder
            .with_access_key_id(self.access_key_id)
            .with_secret_access_key(self.secret_access_key);
        if let Some(token) = self.session_token {
            builder = builder.with_token(token);
        }
        let region_in_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        match self.region {
            Some(region) if !region_in_env => builder.with_region(region),
            _ => builder,
        }
    }
}

/// The profile's keys, or `None` when the environment has keys or there is no credentials file.
/// A profile named by `AWS_PROFILE` that the file lacks is bad input.
pub fn credentials() -> Result<Option<Profile>, UsageError> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(None);
    }
    let named = std::env::var("AWS_PROFILE").ok();
    let name = named.clone().unwrap_or_else(|| "default".into());
    let Some(file) = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials") else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    let Some(keys) = section(&text, &name) else {
        return match named {
            Some(_) => Err(UsageError(format!(
                "AWS_PROFILE={name}: no such profile in {}",
                file.display()
            ))),
            None => Ok(None),
        };
    };
    let value = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let (Some(access_key_id), Some(secret_access_key)) =
        (value("aws_access_key_id"), value("aws_secret_access_key"))
    else {
        return Err(UsageError(format!(
            "profile {name} in {}: needs aws_access_key_id and aws_secret_access_key",
            file.display()
        )));
    };
    // ~/.aws/config names profiles "[profile NAME]", except "[default]".
    let config_section = match name.as_str() {
        "default" => "default".to_owned(),
        other => format!("profile {other}"),
    };
    let region = aws_file("AWS_CONFIG_FILE", "config")
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| section(&text, &config_section))
        .and_then(|keys| {
            keys.into_iter()
                .find(|(k, _)| k == "region")
                .map(|(_, v)| v)
        });
    Ok(Some(Profile {
        access_key_id,
        secret_access_key,
        session_token: value("aws_session_token"),
        region,
    }))
}

fn aws_file(variable: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(
            PathBuf::from(std::env::var_os("HOME")?)
                .join(".aws")
                .join(name),
        ),
    }
}

/// The `key = value` lines of the INI section `[name]`.
fn section(text: &str, name: &str) -> Option<Vec<(String, String)>> {
    let mut lines = text.lines().map(str::trim);
    lines.find(|line| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) == Some(name))?;
    Some(
        lines
            .take_while(|line| !line.starts_with('['))
            .filter(|line| !line.starts_with('#') && !line.starts_with(';'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_read_up_to_the_next_one() {
        let text = "[default]\naws_access_key_id = A\n# note\n[other]\naws_access_key_id = B\n";
        assert_eq!(
            section(text, "default").unwrap(),
            [("aws_access_key_id".to_owned(), "A".to_owned())]
        );
        assert_eq!(section(text, "other").unwrap()[0].1, "B");
        assert!(section(text, "missing").is_none());
    }
}
