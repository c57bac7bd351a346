use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::ctx::{Ctx, Ended, StopSignal};

/// Runs `op` as an operation with a `limit` deadline.
async fn within<T>(limit: Duration, op: impl std::future::Future<Output = T>) -> T {
    match Ctx::new(limit, StopSignal::new())
        .run(Duration::ZERO, op)
        .await
    {
        Ended::Done(v) => v,
        _ => panic!("the operation did not finish"),
    }
}

fn nat_available(timeout: Duration) -> Wait<'static> {
    Wait {
        part: "NAT gateway nat-1",
        goal: "available",
        done: &["available"],
        pending: &["pending"],
        missing: Missing::WhileNew,
        timeout,
    }
}

/// The SDK's RDS waiter may sleep 16 minutes between two polls; ours never
/// more than MAX_POLL, so a part that is ready after 10 minutes is seen
/// within 15 s of it.
#[tokio::test(start_paused = true)]
async fn polls_back_off_to_at_most_fifteen_seconds() {
    let ready = Duration::from_secs(600);
    let (state, seen_after, _) = wait_for_part_ready_after(ready).await;
    assert_eq!(state, "available");
    assert!(seen_after <= ready + MAX_POLL, "{seen_after:?}");
}

/// Waits (up to 30 minutes) for a NAT gateway that is `pending` until
/// `ready`, then `available`: what the wait returned, when it saw the part
/// ready, and how many times it polled.
async fn wait_for_part_ready_after(ready: Duration) -> (String, Duration, u32) {
    let started = Instant::now();
    let polls = AtomicU32::new(0);
    let wait = nat_available(Duration::from_secs(1800));
    let state = within(Duration::from_secs(1800), async {
        wait.until(|| async {
            polls.fetch_add(1, Ordering::SeqCst);
            Ok(Some(Seen::status(if started.elapsed() < ready {
                "pending"
            } else {
                "available"
            })))
        })
        .await
    })
    .await
    .unwrap();
    (state, started.elapsed(), polls.load(Ordering::SeqCst))
}

/// A part ready after a few seconds is seen within a tenth of that time
/// after it was ready, and at most a second after (a pause that doubled from
/// 1 s saw a part ready after 4 s only after 7 s; a pause of a quarter of the
/// time waited saw one ready after 10 s after 12.2 s), and a ten-minute wait
/// still polls well within the APIs' request rates.
#[tokio::test(start_paused = true)]
async fn the_pause_grows_with_the_time_waited() {
    for (ready, seen_by, at_most_polls) in [
        (Duration::from_secs(4), Duration::from_secs(5), 6),
        (Duration::from_secs(10), Duration::from_secs(11), 12),
        (Duration::from_secs(30), Duration::from_secs(33), 25),
        (Duration::from_secs(600), Duration::from_secs(615), 80),
    ] {
        let (_, seen_after, polls) = wait_for_part_ready_after(ready).await;
        assert!(
            seen_after <= seen_by,
            "ready after {ready:?}, seen after {seen_after:?}"
        );
        assert!(
            polls <= at_most_polls,
            "ready after {ready:?}: {polls} polls"
        );
    }
    assert_eq!(
        pause_after(Duration::ZERO, FIRST_POLL, MAX_POLL),
        FIRST_POLL
    );
    assert_eq!(
        pause_after(Duration::from_secs(20), FIRST_POLL, MAX_POLL),
        Duration::from_secs(2)
    );
    assert_eq!(
        pause_after(Duration::from_secs(3600), FIRST_POLL, MAX_POLL),
        MAX_POLL
    );
}

/// A just-made part that a lagging describe does not show yet is waited for
/// (the SDK waiter failed at once), but not past NEW_PART_GRACE.
#[tokio::test(start_paused = true)]
async fn a_new_part_not_yet_visible_is_waited_for_a_while() {
    let calls = AtomicU32::new(0);
    let state = nat_available(Duration::from_secs(1800))
        .until(|| async {
            Ok(match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => None,
                _ => Some(Seen::status("available")),
            })
        })
        .await
        .unwrap();
    assert_eq!(state, "available");
    let err = nat_available(Duration::from_secs(1800))
        .until(|| async { Ok(None) })
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// A failed state ends the wait with AWS's reason in the message (the SDK
/// waiter said only "reached a failed state").
#[tokio::test(start_paused = true)]
async fn a_failed_state_says_aws_s_reason() {
    let err = nat_available(Duration::from_secs(60))
        .until(|| async {
            Ok(Some(Seen::with_reason(
                "failed",
                "Gateway.NotAttached: Network vpc-1 has no Internet gateway attached",
            )))
        })
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"failed\""), "{text}");
    assert!(text.contains("Gateway.NotAttached"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_wait_for_deletion_ends_when_the_part_is_gone() {
    let calls = AtomicU32::new(0);
    let wait = Wait {
        part: "DB instance db-1",
        goal: "deleted",
        done: &["deleted"],
        pending: &[
            "deleting",
            "available",
            "creating",
            "modifying",
            "backing-up",
        ],
        missing: Missing::Done,
        timeout: Duration::from_secs(60),
    };
    let state = wait
        .until(|| async {
            Ok(match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Some(Seen::status("creating")),
                1 => Some(Seen::status("deleting")),
                _ => None,
            })
        })
        .await
        .unwrap();
    assert_eq!(state, "deleted");
}

#[tokio::test(start_paused = true)]
async fn a_wait_stops_at_its_timeout_with_the_last_state() {
    let err = nat_available(Duration::from_secs(120))
        .until(|| async { Ok(Some(Seen::status("pending"))) })
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("waiting for NAT gateway nat-1 to be available: still pending after 120s"),
        "{text}"
    );
}

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(human(Duration::from_secs(40)), "40 s");
    assert_eq!(human(Duration::from_secs(1800)), "30 m");
    assert_eq!(human(Duration::from_secs(185)), "3 m 5 s");
}
