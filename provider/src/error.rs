//! The provider's one error type, and the one place errors become diagnostics.

use std::time::Duration;

use crate::diag::{AttrPath, Diags};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// AWS answered with an error: the action, the part it was done to, AWS's code and message.
    #[error("{action} {part}: {code}: {message}")]
    Aws {
        action: String,
        part: String,
        code: String,
        message: String,
    },
    /// The part does not exist (any more).
    #[error("{action} {part}: not found")]
    NotFound { action: String, part: String },
    #[error("{action} {part}: still {state} after {after:?}; raise the `timeouts` value if this is expected")]
    Timeout {
        action: String,
        part: String,
        state: String,
        after: Duration,
    },
    /// The configuration is wrong at `path`.
    #[error("{why}")]
    Invalid { path: AttrPath, why: String },
}

impl Error {
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::Aws { code, .. } => is_not_found_code(code),
            _ => false,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Adds this error to the diagnostics: on the attribute when it is a
    /// configuration error, at the resource otherwise.
    pub fn report(&self, diags: &mut Diags) {
        match self {
            Error::Invalid { path, why } => diags.attr_error(path.clone(), why.clone(), ""),
            Error::Aws { action, part, .. }
            | Error::NotFound { action, part }
            | Error::Timeout { action, part, .. } => {
                diags.error(format!("{action} {part} failed"), self.to_string())
            }
        }
    }
}

/// AWS's "does not exist" codes: `InvalidVpcID.NotFound`, `ResourceNotFoundException`,
/// `NoSuchEntity`, `DBClusterNotFoundFault`, ...
pub fn is_not_found_code(code: &str) -> bool {
    code.ends_with(".NotFound")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.ends_with("NotFoundFault")
        || code == "NoSuchEntity"
        || code == "NoSuchBucket"
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
