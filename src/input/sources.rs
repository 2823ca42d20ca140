//! What the inputs name: files, directories (recursive) and object-store prefixes, each turned
//! into a sorted list of sample files (CSV or Parquet), pruned by the layout's partitions.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;

use super::selection::Selection;
use crate::error::UsageError;
pub use crate::layout::Format;
use crate::layout::partitions;
use crate::store::{self, Location, StoreArgs};

/// Where a sample file's bytes are.
#[derive(Debug, Clone)]
pub enum Body {
    File(PathBuf),
    Object(Location, ObjectPath),
}

/// One sample file to read, named as messages name it (a path or an URL).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub format: Format,
    pub body: Body,
}

/// A source's bytes, ready to parse: a local file, or an object fetched whole.
pub enum Data {
    File(PathBuf),
    Bytes(Bytes),
}

impl Data {
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Data::File(path) => Box::new(std::fs::File::open(path)?),
            Data::Bytes(bytes) => Box::new(&bytes[..]),
        })
    }

    /// The bytes from `offset` on (to find where a bad row starts).
    pub fn buffered_from(&self, offset: u64) -> std::io::Result<Box<dyn BufRead + '_>> {
        use std::io::{Seek, SeekFrom};
        Ok(match self {
            Data::File(path) => {
                let mut file = std::fs::File::open(path)?;
                file.seek(SeekFrom::Start(offset))?;
                Box::new(std::io::BufReader::new(file))
            }
            Data::Bytes(bytes) => Box::new(bytes.get(offset as usize..).unwrap_or_default()),
        })
    }
}

/// The sample files the inputs name, in input order, each directory or prefix sorted by name.
/// A foreign object under a prefix (not `.csv` or `.parquet`) is bad input unless `skip_bad`,
/// which warns and goes on; in a local directory other files are ignored, as they always were.
pub fn resolve(
    inputs: &[PathBuf],
    selection: &Selection,
    store_args: &StoreArgs,
    runtime: &tokio::runtime::Runtime,
    skip_bad: bool,
) -> Result<Vec<Source>, UsageError> {
    let mut sources = Vec::new();
    for input in inputs {
        match input.to_str().filter(|text| store::is_url(text)) {
            Some(url) => {
                let location = store::open(url, store_args, store::DEFAULT_RETRY_FOR)?;
                let listed = runtime.block_on(list(url, &location))?;
                for key in listed {
                    let name = location.url_of(&key);
                    let segments: Vec<String> =
                        key.parts().map(|part| part.as_ref().to_owned()).collect();
                    let parts = partitions(segments.iter().map(String::as_str));
                    if parts.kind.as_deref().is_some_and(|kind| kind != "samples")
                        || !selection.may_hold(&parts)
                    {
                        continue;
                    }
                    match Format::of(key.as_ref()) {
                        Some(format) => sources.push(Source {
                            name,
                            format,
                            body: Body::Object(location.clone(), key),
                        }),
                        None if skip_bad => {
                            eprintln!("cdnprobe: warning: skipping {name}: not a sample file");
                        }
                        None => {
                            return Err(UsageError(format!(
                                "{name}: not a sample file (expected .csv or .parquet; --skip-bad skips it)"
                            )));
                        }
                    }
                }
            }
            None if input.is_dir() => {
                let mut found = Vec::new();
                walk(input, input, selection, &mut found)
                    .map_err(|e| UsageError(format!("{}: {e}", input.display())))?;
                if found.is_empty() {
                    return Err(UsageError(format!(
                        "{}: directory has no .csv or .parquet files{}",
                        input.display(),
                        if selection.is_everything() {
                            ""
                        } else {
                            " selected"
                        }
                    )));
                }
                found.sort();
                sources.extend(found.into_iter().map(|path| local(path, None)));
            }
            None if input.is_file() => {
                let format = Format::of(&input.to_string_lossy()).unwrap_or(Format::Csv);
                sources.push(local(input.clone(), Some(format)));
            }
            None => {
                return Err(UsageError(format!(
                    "{}: no such file or directory",
                    input.display()
                )));
            }
        }
    }
    if sources.is_empty() {
        return Err(UsageError("no input files".into()));
    }
    Ok(sources)
}

fn local(path: PathBuf, format: Option<Format>) -> Source {
    let name = path.display().to_string();
    let format = format.or_else(|| Format::of(&name)).unwrap_or(Format::Csv);
    Source {
        name,
        format,
        body: Body::File(path),
    }
}

/// Sample files under `dir`, recursively; hidden entries (a report's staging directory) skipped.
fn walk(
    root: &Path,
    dir: &Path,
    selection: &Selection,
    found: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        let relative: Vec<String> = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect();
        let parts = partitions(relative.iter().map(String::as_str));
        if !selection.may_hold(&parts) || parts.kind.as_deref().is_some_and(|k| k != "samples") {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, selection, found)?;
        } else if Format::of(&path.to_string_lossy()).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

/// Every object under the URL's prefix, sorted by key; or the one object the URL names.
async fn list(url: &str, location: &Location) -> Result<Vec<ObjectPath>, UsageError> {
    let failed = |e: object_store::Error| UsageError(format!("{url}: {}", store::describe(&e)));
    let prefix = (!location.prefix.as_ref().is_empty()).then_some(&location.prefix);
    let mut keys: Vec<ObjectPath> = location
        .store
        .list(prefix)
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(failed)?;
    if keys.is_empty() && prefix.is_some() {
        match location.store.head(&location.prefix).await {
            Ok(meta) => keys.push(meta.location),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(failed(e)),
        }
    }
    if keys.is_empty() {
        return Err(UsageError(format!("{url}: no objects under this prefix")));
    }
    keys.sort();
    Ok(keys)
}
