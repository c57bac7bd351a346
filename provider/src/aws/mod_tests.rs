use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn aws(code: &str) -> Error {
    Error::Aws {
        action: "creating".into(),
        part: "thing".into(),
        code: code.into(),
        message: "m".into(),
    }
}

#[tokio::test]
async fn eventual_consistency_is_retried_until_it_clears() {
    let calls = AtomicU32::new(0);
    let res = retry_eventual_from(Duration::ZERO, &["DependencyViolation"], || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 => Err(aws("InvalidVpcID.NotFound")),
            1 => Err(aws("DependencyViolation")),
            _ => Ok(7),
        }
    })
    .await;
    assert_eq!(res.ok(), Some(7));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_eventual_from(Duration::ZERO, &[], || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(aws("InvalidSubnetID.NotFound"))
    })
    .await;
    assert!(res.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), EVENTUAL_CONSISTENCY_TRIES);
}

#[tokio::test]
async fn a_real_error_stops_at_once() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_eventual_from(Duration::ZERO, &["DependencyViolation"], || async {
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
