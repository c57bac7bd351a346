//! Hosted UI domains, with Cognito as AWS answers (the SDK's own test
//! doubles): the local endpoint makes and removes a domain at once.

use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::operation::{
    delete_user_pool_domain::DeleteUserPoolDomainOutput,
    describe_user_pool_domain::DescribeUserPoolDomainOutput,
};
use aws_sdk_cognitoidentityprovider::types::{DomainDescriptionType, DomainStatusType};
use aws_smithy_mocks::{mock, MockResponse, Rule};

use super::*;
use crate::aws::test_mocks;

const POOL: &str = "ap-northeast-2_AbC123";

/// DescribeUserPoolDomain answering each of `states` in turn (`None`: no
/// such domain, an empty description), the last one from then on.
fn domain(states: Vec<Option<DomainStatusType>>) -> Rule {
    let left = Arc::new(Mutex::new(states));
    mock!(aws_sdk_cognitoidentityprovider::Client::describe_user_pool_domain).then_compute_response(
        move |_| {
            let mut left = left.lock().expect("lock");
            let s = if left.len() > 1 {
                left.remove(0)
            } else {
                left[0].clone()
            };
            let d = match s {
                Some(status) => DomainDescriptionType::builder()
                    .domain("fans-login")
                    .user_pool_id(POOL)
                    .status(status)
                    .build(),
                None => DomainDescriptionType::builder().build(),
            };
            MockResponse::Output(
                DescribeUserPoolDomainOutput::builder()
                    .domain_description(d)
                    .build(),
            )
        },
    )
}

/// A2: the delete returns only once the domain is gone, not while it is
/// DELETING, so that the pool delete (or a new domain) that follows is not
/// refused.
#[tokio::test(start_paused = true)]
async fn domain_delete_waits_until_gone() {
    let delete = mock!(aws_sdk_cognitoidentityprovider::Client::delete_user_pool_domain)
        .then_output(|| DeleteUserPoolDomainOutput::builder().build());
    let describe = domain(vec![
        Some(DomainStatusType::Deleting),
        Some(DomainStatusType::Deleting),
        Some(DomainStatusType::Deleting),
        None,
    ]);
    let c = test_mocks::cognito(&[&delete, &describe]);
    test_mocks::in_operation(delete_domain(
        &c,
        POOL,
        "fans-login",
        Duration::from_secs(600),
    ))
    .await
    .expect("gone");
    assert_eq!(describe.num_calls(), 4);
}

/// A2: a new domain is waited for until it is ACTIVE; FAILED ends the wait.
#[tokio::test(start_paused = true)]
async fn new_domain_is_waited_for_until_active() {
    let describe = domain(vec![
        None,
        Some(DomainStatusType::Creating),
        Some(DomainStatusType::Creating),
        Some(DomainStatusType::Active),
    ]);
    let c = test_mocks::cognito(&[&describe]);
    test_mocks::in_operation(wait_domain_active(
        &c,
        POOL,
        "fans-login",
        Duration::from_secs(600),
    ))
    .await
    .expect("active");
    assert_eq!(describe.num_calls(), 4);

    let describe = domain(vec![
        Some(DomainStatusType::Creating),
        Some(DomainStatusType::Failed),
    ]);
    let c = test_mocks::cognito(&[&describe]);
    let err = test_mocks::in_operation(wait_domain_active(
        &c,
        POOL,
        "fans-login",
        Duration::from_secs(600),
    ))
    .await
    .expect_err("failed");
    assert!(err.to_string().contains("FAILED"), "{err}");
}
