//! The text fields of an upload — `title`, `description`, `tags` — checked before anything is
//! kept: valid UTF-8 (never silently repaired), within documented sizes, and no control
//! characters where a line of text is expected. A field that breaks a rule refuses the whole
//! upload (400), so nothing half-described is ever stored.

use crate::error::ApiError;

/// Largest `title`, in bytes of UTF-8.
pub const TITLE_MAX_BYTES: usize = 512;
/// Largest `description`, in bytes of UTF-8 (newlines and tabs allowed).
pub const DESCRIPTION_MAX_BYTES: usize = 8 << 10;
/// Largest `tags` field (comma-separated), in bytes of UTF-8.
pub const TAGS_FIELD_MAX_BYTES: usize = 2 << 10;
/// Largest single tag, in bytes of UTF-8, after trimming.
pub const TAG_MAX_BYTES: usize = 64;
/// Most tags an upload may carry, over all its `tags` fields.
pub const MAX_TAGS: usize = 32;

/// The text fields of one upload, as they arrive.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

impl Metadata {
    /// Takes one form field's raw bytes. `name` is one of `title`, `description`, `tags`.
    pub fn add(&mut self, name: &str, value: &[u8]) -> Result<(), ApiError> {
        match name {
            "title" => set_once(&mut self.title, name, line(name, value, TITLE_MAX_BYTES)?),
            "description" => {
                let text = text(name, value, DESCRIPTION_MAX_BYTES)?;
                if let Some(c) = text
                    .chars()
                    .find(|c| c.is_control() && !"\n\r\t".contains(*c))
                {
                    return Err(control_character(name, c));
                }
                set_once(&mut self.description, name, text.to_string())
            }
            "tags" => {
                let field = line(name, value, TAGS_FIELD_MAX_BYTES)?;
                for tag in field
                    .split(',')
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                {
                    if tag.len() > TAG_MAX_BYTES {
                        return Err(ApiError::BadRequest(format!(
                            "a tag is longer than {TAG_MAX_BYTES} bytes"
                        )));
                    }
                    if self.tags.len() == MAX_TAGS {
                        return Err(ApiError::BadRequest(format!("more than {MAX_TAGS} tags")));
                    }
                    self.tags.push(tag.to_string());
                }
                Ok(())
            }
            other => Err(ApiError::BadRequest(format!(
                "unknown form field {other:?}; expected file, title, description, tags"
            ))),
        }
    }
}

/// UTF-8 text of at most `max` bytes.
fn text<'a>(name: &str, value: &'a [u8], max: usize) -> Result<&'a str, ApiError> {
    if value.len() > max {
        return Err(ApiError::BadRequest(format!(
            "{name} is longer than {max} bytes"
        )));
    }
    std::str::from_utf8(value)
        .map_err(|_| ApiError::BadRequest(format!("{name} is not valid UTF-8")))
}

/// One line of text: [`text`] without any control character.
fn line(name: &str, value: &[u8], max: usize) -> Result<String, ApiError> {
    let text = text(name, value, max)?;
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(control_character(name, c)),
        None => Ok(text.to_string()),
    }
}

fn control_character(name: &str, c: char) -> ApiError {
    ApiError::BadRequest(format!(
        "{name} contains the control character U+{:04X}",
        c as u32
    ))
}

fn set_once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::BadRequest(format!("more than one {name} field")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str, value: &[u8]) -> String {
        match Metadata::default().add(name, value) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("{name}={value:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn valid_fields_are_kept() {
        let mut metadata = Metadata::default();
        metadata.add("title", "Test – pattern".as_bytes()).unwrap();
        metadata
            .add("description", b"two\nlines\twith a tab")
            .unwrap();
        metadata.add("tags", b" a, b ,,c").unwrap();
        metadata.add("tags", b"d").unwrap();
        assert_eq!(metadata.title.as_deref(), Some("Test – pattern"));
        assert_eq!(metadata.tags, ["a", "b", "c", "d"]);
    }

    #[test]
    fn invalid_utf8_is_refused_not_repaired() {
        for name in ["title", "description", "tags"] {
            assert!(refused(name, b"caf\xe9").contains("UTF-8"));
        }
    }

    #[test]
    fn each_field_has_its_byte_limit() {
        assert!(refused("title", &[b't'; TITLE_MAX_BYTES + 1]).contains("longer"));
        assert!(refused("description", &[b'd'; DESCRIPTION_MAX_BYTES + 1]).contains("longer"));
        assert!(refused("tags", &[b'x'; TAG_MAX_BYTES + 1]).contains("tag is longer"));
        Metadata::default()
            .add("title", &[b't'; TITLE_MAX_BYTES])
            .unwrap();
    }

    #[test]
    fn too_many_tags_over_several_fields_are_refused() {
        let mut metadata = Metadata::default();
        let half: Vec<String> = (0..MAX_TAGS / 2).map(|i| format!("t{i}")).collect();
        metadata.add("tags", half.join(",").as_bytes()).unwrap();
        metadata.add("tags", half.join(",").as_bytes()).unwrap();
        assert!(matches!(
            metadata.add("tags", b"one-more"),
            Err(ApiError::BadRequest(message)) if message.contains("more than")
        ));
    }

    #[test]
    fn control_characters_are_refused_in_lines() {
        assert!(refused("title", b"a\nb").contains("U+000A"));
        assert!(refused("tags", b"a\x1bb").contains("U+001B"));
        assert!(refused("description", b"bell\x07").contains("U+0007"));
    }

    #[test]
    fn a_second_title_is_refused() {
        let mut metadata = Metadata::default();
        metadata.add("title", b"one").unwrap();
        assert!(metadata.add("title", b"two").is_err());
    }
}
