//! Secrets Manager as AWS answers right after a forced delete (the SDK's own
//! test doubles): the local endpoint forgets a force-deleted name at once.

use std::time::Duration;

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::test_mocks::{self, json_error};

/// C6: CreateSecret of a name force-deleted a moment ago answers
/// InvalidRequestException "scheduled for deletion" until the background
/// deletion is done; it is retried, and any other InvalidRequestException is not.
#[tokio::test(start_paused = true)]
async fn a_name_still_scheduled_for_deletion_is_retried() {
    let create = mock!(aws_sdk_secretsmanager::Client::create_secret)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "InvalidRequestException",
                "You can't create this secret because a secret with this name is already scheduled for deletion.",
            )),
        )
        .times(6)
        .output(|| {
            CreateSecretOutput::builder()
                .arn("arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/fan-db/connection-AbCdEf")
                .build()
        })
        .build();
    let c = test_mocks::secrets(&[&create]);
    let started = tokio::time::Instant::now();
    let arn = create_secret(&c, "fansite/fan-db/connection", "d", "{}", &Tags::new())
        .await
        .expect("made");
    assert!(arn.ends_with("-AbCdEf"), "{arn}");
    assert_eq!(create.num_calls(), 7);
    // Six refusals, each followed by a pause of at least 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(6 * 200));

    let other = mock!(aws_sdk_secretsmanager::Client::create_secret)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "InvalidRequestException",
                "You can't use this KMS key.",
            )),
        )
        .build();
    let c = test_mocks::secrets(&[&other]);
    let res = create_secret(&c, "fansite/fan-db/connection", "d", "{}", &Tags::new()).await;
    assert!(res.is_err());
    assert_eq!(other.num_calls(), 1);
}
