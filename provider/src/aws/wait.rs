//! The provider's own status polls, instead of the SDK's waiters.
//!
//! The SDK's waiters back off up to 30 minutes between polls (RDS: `min_delay`
//! 30 s, `max_delay` 1800 s; CloudFront 60 s and 2100 s), poll once at once,
//! and fail at once on a not-found that the first poll of a just-made part can
//! meet. terraform-provider-aws polls its state changes every few seconds, at
//! most every 10–30 s (`retry.StateChangeConf`, `MinTimeout`), and guards new
//! parts with `RetryWhenNewResourceNotFound`. [`Wait::until`] does the same:
//! it polls at once, then after a pause that grows with the time waited
//! ([`pause_after`]: a tenth of it, from 1 s up to [`MAX_POLL`]), tolerates
//! not-found for [`NEW_PART_GRACE`] after a create when asked to, stops at the
//! current operation's deadline, and logs each poll at INFO so that
//! `TF_LOG=info` shows where an apply spends its time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// The first pause before a poll, and the shortest.
pub const FIRST_POLL: Duration = Duration::from_secs(1);
/// The longest pause between two polls (terraform-provider-aws: 10 s for most
/// waits, 30 s for RDS and CloudFront; 15 s is between).
pub const MAX_POLL: Duration = Duration::from_secs(15);
/// How long a part just made may still read as not found
/// (terraform-provider-aws `PropagationTimeout`-style guard, 1 minute).
pub const NEW_PART_GRACE: Duration = Duration::from_secs(60);

/// The pause before the next poll of a wait that has lasted `waited`: a
/// tenth of it, at least `min` and at most `max`.
///
/// Most AWS parts are ready in seconds (a security group rule, a Route53
/// change, a service-linked role), some in minutes (a NAT gateway, an RDS
/// instance, a CloudFront deployment). A pause that doubles from the start
/// (the SDK's waiters, terraform-plugin-sdk's `StateChangeConf`) may sleep
/// nearly as long again as the part took, past the moment it was ready: a
/// part ready after 4 s was seen after 7 s. A pause of a tenth of the time
/// waited never adds more than a tenth to a wait (a composite's waits follow
/// each other, so what each adds is summed), and still makes only about 70
/// calls in ten minutes (one every 15 s once two and a half minutes have
/// passed), well within the APIs' request rates.
pub fn pause_after(waited: Duration, min: Duration, max: Duration) -> Duration {
    (waited / 10).clamp(min, max)
}

/// What one poll saw of the part.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub status: String,
    /// AWS's reason for a failed state (a NAT gateway's `FailureMessage`, say).
    pub reason: String,
}

impl Seen {
    pub fn status(status: impl Into<String>) -> Seen {
        Seen {
            status: status.into(),
            reason: String::new(),
        }
    }

    pub fn with_reason(status: impl Into<String>, reason: impl Into<String>) -> Seen {
        Seen {
            status: status.into(),
            reason: reason.into(),
        }
    }
}

/// What a poll that finds nothing means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Missing {
    /// The wait is for the part to go: not found is done.
    Done,
    /// The part was just made: not found is waited out for [`NEW_PART_GRACE`],
    /// then it is an error.
    WhileNew,
    /// Not found is an error at once.
    Fails,
}

/// A wait for a part to reach one of `done`, passing only through `pending`.
#[derive(Clone, Debug)]
pub struct Wait<'a> {
    /// "NAT gateway nat-0ab…": what the log lines and errors name.
    pub part: &'a str,
    /// "available", "deleted": what the log lines say it waits for.
    pub goal: &'a str,
    /// The states that end the wait successfully.
    pub done: &'a [&'a str],
    /// The states that keep it waiting; any other state fails the wait with
    /// [`Error::Failed`] and AWS's reason.
    pub pending: &'a [&'a str],
    pub missing: Missing,
    /// At most this long; never past the current operation's deadline.
    pub timeout: Duration,
}

impl Wait<'_> {
    /// Polls until the part is in a `done` state, and returns that state.
    pub async fn until<F, Fut>(&self, mut poll: F) -> Result<String>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<Seen>>>,
    {
        let limit = crate::ctx::within(self.timeout);
        let started = Instant::now();
        let deadline = started + limit;
        let mut last: String;
        let what = || format!("{} to be {}", self.part, self.goal);
        loop {
            let seen = match poll().await {
                Ok(seen) => seen,
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e),
            };
            match seen {
                Some(s) if self.done.contains(&s.status.as_str()) => return Ok(s.status),
                Some(s) if self.pending.contains(&s.status.as_str()) => last = s.status,
                Some(s) => {
                    return Err(Error::Failed {
                        action: "waiting for".into(),
                        part: what(),
                        state: s.status,
                        reason: s.reason,
                    })
                }
                None => match self.missing {
                    Missing::Done => return Ok("deleted".into()),
                    Missing::WhileNew if started.elapsed() < NEW_PART_GRACE => {
                        last = "not yet visible".into()
                    }
                    _ => {
                        return Err(Error::NotFound {
                            action: "waiting for".into(),
                            part: what(),
                        })
                    }
                },
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    action: "waiting for".into(),
                    part: what(),
                    state: last,
                    after: limit,
                });
            }
            tracing::info!(
                "waiting for {} to be {} ({last}), {} of {}",
                self.part,
                self.goal,
                human(now - started),
                human(limit)
            );
            let pause = pause_after(now - started, FIRST_POLL, MAX_POLL);
            tokio::time::sleep(pause.min(deadline - now)).await;
        }
    }
}

/// "40 s", "3 m 5 s", "30 m": how the wait log lines write a duration.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} m"),
        (m, s) => format!("{m} m {s} s"),
    }
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
