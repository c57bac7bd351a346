//! The provider's one error type, and the one place errors become diagnostics.
//!
//! `Aws` holds only what AWS answered. Everything the provider decides itself
//! (a refusal, a rolled-back deploy, a stop, a deadline) is a variant of its own.

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
    /// The request got no answer from AWS (connection, TLS, a response that did not parse),
    /// after the SDK's own retries.
    #[error("{action} {part}: the request failed: {message}")]
    Request {
        action: String,
        part: String,
        message: String,
    },
    /// The part does not exist (any more).
    #[error("{action} {part}: not found")]
    NotFound { action: String, part: String },
    /// A wait reached its deadline: what the part still was.
    #[error("{action} {part}: still {state} after {after:?}; raise the `timeouts` value if this is expected")]
    Timeout {
        action: String,
        part: String,
        state: String,
        after: Duration,
    },
    /// A part reached a state it cannot leave by itself (a NAT gateway `failed`, say).
    #[error("{action} {part}: it reached the state {state:?}{}", detail(.reason))]
    Failed {
        action: String,
        part: String,
        state: String,
        reason: String,
    },
    /// The provider itself refuses, before AWS is asked: data would be lost, say.
    #[error("{action} {part}: {why}")]
    Refused {
        action: String,
        part: String,
        why: String,
    },
    /// ECS's circuit breaker rolled a deployment back.
    #[error("{action} {part}: the deployment failed and the service runs {running}: {reason}")]
    RolledBack {
        action: String,
        part: String,
        running: String,
        reason: String,
    },
    /// Terraform asked the plugin to stop (Ctrl-C) while this ran.
    #[error("{action} {part}: stopped because Terraform asked the provider to stop; the parts made so far are in the state")]
    Stopped { action: String, part: String },
    /// An SDK builder refused a request the provider built (a bug of ours).
    #[error("building the request for {part}: {message}")]
    Build { part: String, message: String },
    /// AWS answered, but without what the call is for (an id, say).
    #[error("{action} {part}: AWS's answer has no {missing}")]
    Incomplete {
        action: String,
        part: String,
        missing: String,
    },
    /// The configuration is wrong at `path`.
    #[error("{why}")]
    Invalid { path: AttrPath, why: String },
    /// Steps that ran side by side failed each on its own: every error, in
    /// the order of the steps (at least two; see [`all_of`]).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<Error>),
}

/// The outcome of steps that ran side by side: done when every one is,
/// else its error, or [`Error::Several`] when more than one failed (each
/// is shown to the user as a diagnostic of its own; the same error twice,
/// such as two steps stopped by Terraform, once).
pub fn all_of(results: impl IntoIterator<Item = Result<()>>) -> Result<()> {
    let mut errors: Vec<Error> = Vec::new();
    for e in results.into_iter().filter_map(Result::err) {
        if !errors.iter().any(|seen| seen.to_string() == e.to_string()) {
            errors.push(e);
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Several(errors)),
    }
}

fn detail(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

impl Error {
    /// The part does not exist: [`Error::NotFound`] (decided from the
    /// operation's typed error), or an EC2 answer whose code says so.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::Aws { code, .. } => is_not_found_code(code),
            _ => false,
        }
    }

    /// AWS's code, when AWS answered with one.
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
            Error::Several(all) => all.iter().for_each(|e| e.report(diags)),
            Error::Invalid { path, why } => diags.attr_error(path.clone(), why.clone(), ""),
            Error::Build { part, .. } => {
                diags.error(format!("building {part} failed"), self.to_string())
            }
            Error::Aws { action, part, .. }
            | Error::Request { action, part, .. }
            | Error::NotFound { action, part }
            | Error::Timeout { action, part, .. }
            | Error::Failed { action, part, .. }
            | Error::Refused { action, part, .. }
            | Error::RolledBack { action, part, .. }
            | Error::Stopped { action, part }
            | Error::Incomplete { action, part, .. } => {
                diags.error(format!("{action} {part} failed"), self.to_string())
            }
        }
    }
}

/// EC2's "does not exist" codes: `InvalidVpcID.NotFound`, `InvalidGroup.NotFound`
/// and every other `….NotFound`, and `NatGatewayNotFound`.
///
/// EC2's SDK models no error shapes (every EC2 error is its operation's
/// `Unhandled` variant), so EC2's codes are matched as strings. Every other
/// service's "does not exist" is decided per operation from the SDK's typed
/// error, when the error is made ([`crate::aws::not_found_if`]).
pub fn is_not_found_code(code: &str) -> bool {
    code.ends_with(".NotFound") || code == "NatGatewayNotFound"
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
