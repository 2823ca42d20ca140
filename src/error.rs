//! Errors that decide the process exit code.

/// Bad input from the user (arguments, files): the command exits with status 2 and prints
/// this one line. Anything else that goes wrong exits with status 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Shorthand for `Err(UsageError(...).into())` in `anyhow` code.
#[macro_export]
macro_rules! usage_error {
    ($($arg:tt)*) => {
        ::anyhow::Error::from($crate::error::UsageError(format!($($arg)*)))
    };
}

/// Exit status for an error that reached `main`.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}
