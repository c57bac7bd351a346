use std::sync::atomic::{AtomicU32, Ordering};

use tokio::time::Instant;

use super::*;
use crate::ctx::{Ctx, Ended, StopSignal};

fn aws(code: &str) -> Error {
    Error::Aws {
        action: "creating".into(),
        part: "thing".into(),
        code: code.into(),
        message: "m".into(),
    }
}

fn not_found() -> Error {
    aws("InvalidVpcID.NotFound")
}

#[tokio::test(start_paused = true)]
async fn eventual_consistency_is_retried_until_it_clears() {
    let calls = AtomicU32::new(0);
    let res = retry_while_new(|| async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(not_found()),
            _ => Ok(7),
        }
    })
    .await;
    assert_eq!(res.ok(), Some(7));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let calls = AtomicU32::new(0);
    let res = retry_eventual(&["DependencyViolation"], || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(aws("DependencyViolation")),
            _ => Ok(8),
        }
    })
    .await;
    assert_eq!(res.ok(), Some(8));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// A dependency that lingers for 10 minutes (an ENI of a deleted load
/// balancer, say) is waited out within a 30-minute delete: the old try count
/// gave up after about 16 s.
#[tokio::test(start_paused = true)]
async fn retries_run_until_the_operation_s_deadline_not_a_count() {
    let ctx = Ctx::new(Duration::from_secs(30 * 60), StopSignal::new());
    let started = Instant::now();
    let calls = AtomicU32::new(0);
    let ended = ctx
        .run(Duration::ZERO, async {
            retry_eventual(&["DependencyViolation"], || async {
                calls.fetch_add(1, Ordering::SeqCst);
                if started.elapsed() < Duration::from_secs(600) {
                    Err(aws("DependencyViolation"))
                } else {
                    Ok(())
                }
            })
            .await
        })
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(600), "{waited:?}");
    // The pauses grow to 10 s and no further: AWS is asked again soon after it clears.
    assert!(waited <= Duration::from_secs(611), "{waited:?}");
    assert!(calls.load(Ordering::SeqCst) > 8);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_deadline_with_aws_s_error() {
    let ctx = Ctx::new(Duration::from_secs(120), StopSignal::new());
    let started = Instant::now();
    let ended = ctx
        .run(Duration::ZERO, async {
            retry_eventual(&["DependencyViolation"], || async {
                Err::<(), _>(aws("DependencyViolation"))
            })
            .await
        })
        .await;
    let Ended::Done(Err(e)) = ended else {
        panic!("{ended:?}");
    };
    assert_eq!(e.code(), Some("DependencyViolation"));
    assert_eq!(started.elapsed(), Duration::from_secs(120));
}

#[tokio::test(start_paused = true)]
async fn not_found_is_not_retried_where_it_means_done() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_eventual(&["DependencyViolation"], || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(not_found())
    })
    .await;
    assert!(res.is_err_and(|e| e.is_not_found()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_real_error_stops_at_once() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_while_new(|| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(aws("InvalidParameterValue"))
    })
    .await;
    assert_eq!(
        res.err()
            .and_then(|e| e.code().map(str::to_string))
            .as_deref(),
        Some("InvalidParameterValue")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn every_no_such_code_is_not_found() {
    for code in [
        "NoSuchOriginAccessControl",
        "NoSuchDistribution",
        "NoSuchInvalidation",
        "NoSuchHostedZone",
        "NoSuchBucket",
        "NoSuchEntity",
        "InvalidGroup.NotFound",
        "DBClusterNotFoundFault",
        "ResourceNotFoundException",
    ] {
        assert!(crate::error::is_not_found_code(code), "{code}");
    }
    for code in [
        "DependencyViolation",
        "InvalidDBClusterStateFault",
        "Throttling",
    ] {
        assert!(!crate::error::is_not_found_code(code), "{code}");
    }
}
