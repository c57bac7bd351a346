//! Account-global names (IAM roles, S3 buckets) are taken over or deleted
//! only when their `fansite:owner` tag says they are this resource's (the
//! SDK's own test doubles: the local endpoint never holds a second stack of
//! the same name, in another region or another workspace).

use aws_sdk_iam::operation::create_role::CreateRoleOutput;
use aws_sdk_iam::operation::delete_role::DeleteRoleOutput;
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
use aws_sdk_iam::types::{Role, Tag};
use aws_sdk_s3::operation::create_bucket::CreateBucketOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_smithy_mocks::{mock, Rule};

use super::*;
use crate::aws::test_mocks::{self, query_error};

const OURS: &str = "fansite_service/api/ap-northeast-2";
const ELSEWHERE: &str = "fansite_service/api/eu-west-1";

fn role_tagged(owner: Option<&'static str>) -> Rule {
    mock!(aws_sdk_iam::Client::get_role).then_output(move || {
        let mut role = Role::builder()
            .path("/")
            .role_name("api-exec")
            .role_id("AROAEXAMPLE")
            .arn("arn:aws:iam::123456789012:role/api-exec")
            .create_date(aws_smithy_types::DateTime::from_secs(0));
        if let Some(owner) = owner {
            role = role.tags(
                Tag::builder()
                    .key(OWNER_TAG)
                    .value(owner)
                    .build()
                    .expect("a tag"),
            );
        }
        GetRoleOutput::builder()
            .role(role.build().expect("a role"))
            .build()
    })
}

/// What CreateRole answers for the role made.
fn made_role() -> CreateRoleOutput {
    CreateRoleOutput::builder()
        .role(
            Role::builder()
                .path("/")
                .role_name("api-exec")
                .role_id("AROANEW")
                .arn("arn:aws:iam::123456789012:role/api-exec")
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .expect("a role"),
        )
        .build()
}

fn create_role() -> Rule {
    mock!(aws_sdk_iam::Client::create_role).then_output(made_role)
}

#[tokio::test]
async fn a_role_of_another_region_or_made_by_hand_is_refused_not_taken_over() {
    for found in [Some(ELSEWHERE), None] {
        let (get, create) = (role_tagged(found), create_role());
        let iam = test_mocks::iam(&[&get, &create]);
        let res = iam::ensure_role(
            &iam,
            "api-exec",
            "ecs-tasks.amazonaws.com",
            &Tags::new(),
            OURS,
        )
        .await;
        let e = res.expect_err("another's role is refused");
        let msg = e.to_string();
        assert!(
            msg.contains("IAM role \"api-exec\"") && msg.contains("Choose another `name`"),
            "{msg}"
        );
        if let Some(other) = found {
            assert!(msg.contains(other), "the refusal names the owner: {msg}");
        }
        assert_eq!(create.num_calls(), 0, "no role is made over it");
    }
}

#[tokio::test]
async fn a_role_left_by_this_resource_is_taken_over() {
    let (get, create) = (role_tagged(Some(OURS)), create_role());
    let iam = test_mocks::iam(&[&get, &create]);
    let arn = iam::ensure_role(
        &iam,
        "api-exec",
        "ecs-tasks.amazonaws.com",
        &Tags::new(),
        OURS,
    )
    .await
    .expect("ours is taken over");
    assert_eq!(arn, "arn:aws:iam::123456789012:role/api-exec");
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn a_new_role_carries_the_owner_tag() {
    let get = mock!(aws_sdk_iam::Client::get_role).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(404).expect("a status"),
            aws_smithy_types::body::SdkBody::from(query_error("NoSuchEntity", "no role")),
        )
    });
    let create = mock!(aws_sdk_iam::Client::create_role)
        .match_requests(|r| {
            r.tags()
                .iter()
                .any(|t| t.key() == OWNER_TAG && t.value() == OURS)
        })
        .then_output(made_role);
    let iam = test_mocks::iam(&[&get, &create]);
    iam::ensure_role(
        &iam,
        "api-exec",
        "ecs-tasks.amazonaws.com",
        &Tags::new(),
        OURS,
    )
    .await
    .expect("made");
    assert_eq!(
        create.num_calls(),
        1,
        "CreateRole carried fansite:owner={OURS}"
    );
}

#[tokio::test]
async fn a_destroy_leaves_a_role_that_is_not_this_resources_alone() {
    for (found, deleted) in [(Some(ELSEWHERE), 0), (None, 0), (Some(OURS), 1)] {
        let get = role_tagged(found);
        let attached = mock!(aws_sdk_iam::Client::list_attached_role_policies)
            .then_output(|| ListAttachedRolePoliciesOutput::builder().build());
        let inline = mock!(aws_sdk_iam::Client::list_role_policies).then_output(|| {
            ListRolePoliciesOutput::builder()
                .set_policy_names(Some(vec![]))
                .build()
                .expect("an output")
        });
        let delete = mock!(aws_sdk_iam::Client::delete_role)
            .then_output(|| DeleteRoleOutput::builder().build());
        let iam = test_mocks::iam(&[&get, &attached, &inline, &delete]);
        iam::delete_role(&iam, "api-exec", OURS)
            .await
            .expect("done");
        assert_eq!(delete.num_calls(), deleted, "owner {found:?}");
    }
}

const EDGE: &str = "fansite_edge/site/us-east-1";

fn bucket_exists() -> Rule {
    mock!(aws_sdk_s3::Client::head_bucket).then_output(|| HeadBucketOutput::builder().build())
}

fn bucket_tagged(owner: &'static str) -> Rule {
    mock!(aws_sdk_s3::Client::get_bucket_tagging).then_output(move || {
        GetBucketTaggingOutput::builder()
            .tag_set(
                aws_sdk_s3::types::Tag::builder()
                    .key(OWNER_TAG)
                    .value(owner)
                    .build()
                    .expect("a tag"),
            )
            .build()
            .expect("an output")
    })
}

fn bucket_untagged() -> Rule {
    mock!(aws_sdk_s3::Client::get_bucket_tagging).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(404).expect("a status"),
            aws_smithy_types::body::SdkBody::from(
                "<Error><Code>NoSuchTagSet</Code><Message>The TagSet does not exist</Message></Error>",
            ),
        )
    })
}

#[tokio::test]
async fn a_bucket_of_that_name_not_made_by_this_edge_is_refused_not_taken_over() {
    // In us-east-1 CreateBucket answers 200 for the account's own bucket: it must not be reached.
    for tagging in [
        bucket_tagged("fansite_edge/site/eu-west-1"),
        bucket_untagged(),
    ] {
        let head = bucket_exists();
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .then_output(|| CreateBucketOutput::builder().build());
        let s3 = test_mocks::s3(&[&head, &tagging, &create]);
        let res = s3::create_bucket(&s3, "site", "us-east-1", &Tags::new(), EDGE).await;
        let msg = res.expect_err("refused").to_string();
        assert!(
            msg.contains("bucket \"site\"") && msg.contains("global"),
            "{msg}"
        );
        assert_eq!(
            create.num_calls(),
            0,
            "CreateBucket is not sent for a bucket that exists"
        );
    }
}

#[tokio::test]
async fn a_destroy_leaves_a_bucket_that_is_not_this_edges_alone() {
    // Nothing but the tag read is answered: emptying or deleting would fail the test.
    for tagging in [
        bucket_tagged("fansite_edge/site/eu-west-1"),
        bucket_untagged(),
    ] {
        let s3 = test_mocks::s3(&[&tagging]);
        s3::delete_bucket(&s3, "site", true, EDGE)
            .await
            .expect("left alone");
        assert_eq!(tagging.num_calls(), 1);
    }
}
