//! The context an operation runs in: its deadline (what is left of its
//! `timeouts` value) and the plugin's stop signal (Terraform's StopProvider,
//! sent when the user presses Ctrl-C).
//!
//! The driver (`driver.rs`) runs every create, read, update, delete and import
//! inside [`Ctx::run`]. Code below it asks [`remaining`] how long it may still
//! wait or retry; it never counts tries. The context is task-local: a future
//! the operation awaits (or joins) sees it, a task it spawns does not.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
pub use tokio_util::sync::CancellationToken as StopSignal;

/// How long a call made outside any operation may wait or retry: a plan-time
/// check, say, or a unit test. terraform-provider-aws waits this long for IAM
/// and EC2 changes to propagate (`propagationTimeout`, 2 minutes).
pub const OUTSIDE_OPERATION: Duration = Duration::from_secs(2 * 60);

/// How long `read` and `import` may wait for AWS: they have no `timeouts`
/// value in Terraform. The same propagation bound as above.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2 * 60);

/// What an operation runs under.
#[derive(Clone, Debug)]
pub struct Ctx {
    deadline: Instant,
    limit: Duration,
    stop: StopSignal,
}

/// How [`Ctx::run`] ended.
#[derive(Debug)]
pub enum Ended<T> {
    /// The operation finished (successfully or not) by itself.
    Done(T),
    /// Terraform asked the plugin to stop; the operation was dropped where it was.
    Stopped,
    /// The deadline plus the grace passed; the operation was dropped where it was.
    TimedOut,
}

tokio::task_local! {
    static CURRENT: Ctx;
}

impl Ctx {
    /// A context whose deadline is `limit` from now.
    pub fn new(limit: Duration, stop: StopSignal) -> Ctx {
        Ctx {
            deadline: Instant::now() + limit,
            limit,
            stop,
        }
    }

    /// The operation's whole `timeouts` value.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// What is left until the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Runs `op` with this context as the current one. `op` is dropped where it
    /// stands when Terraform stops the plugin, or `grace` after the deadline
    /// (the waits inside stop at the deadline and say what they saw, which
    /// tells more than a cut-off). Whatever `op` recorded before that (ids
    /// written into a state it borrows) stays recorded.
    pub async fn run<T>(&self, grace: Duration, op: impl Future<Output = T>) -> Ended<T> {
        let stop = self.stop.clone();
        let cut_off = self.deadline + grace;
        tokio::select! {
            biased;
            _ = stop.cancelled() => Ended::Stopped,
            out = CURRENT.scope(self.clone(), op) => Ended::Done(out),
            _ = tokio::time::sleep_until(cut_off) => Ended::TimedOut,
        }
    }
}

/// The current operation's context; outside any operation, one of
/// [`OUTSIDE_OPERATION`] from now that no stop signal reaches.
pub fn current() -> Ctx {
    CURRENT
        .try_with(Ctx::clone)
        .unwrap_or_else(|_| Ctx::new(OUTSIDE_OPERATION, StopSignal::new()))
}

/// What is left of the current operation's time.
pub fn remaining() -> Duration {
    current().remaining()
}

/// `at_most`, or what is left of the current operation's time when that is less.
pub fn within(at_most: Duration) -> Duration {
    at_most.min(remaining())
}

#[cfg(test)]
#[path = "ctx_tests.rs"]
mod tests;
