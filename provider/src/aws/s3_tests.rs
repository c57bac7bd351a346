//! The site bucket's set-up and removal, with S3 as AWS answers (the SDK's
//! own test doubles): the local endpoint never lags a new bucket and never
//! refuses a key in DeleteObjects.

use aws_sdk_s3::operation::{
    create_bucket::CreateBucketOutput, delete_objects::DeleteObjectsOutput,
    list_object_versions::ListObjectVersionsOutput,
    put_bucket_encryption::PutBucketEncryptionOutput, put_bucket_tagging::PutBucketTaggingOutput,
    put_bucket_versioning::PutBucketVersioningOutput,
    put_public_access_block::PutPublicAccessBlockOutput,
};
use aws_sdk_s3::types::ObjectVersion;
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::test_mocks::{self, s3_error};

const OWNER: &str = "fansite_edge/fansite-site/ap-northeast-2";

/// GetBucketTagging answering that the bucket is this edge's.
fn ours() -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_s3::Client::get_bucket_tagging).then_output(|| {
        aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::builder()
            .tag_set(
                aws_sdk_s3::types::Tag::builder()
                    .key(OWNER_TAG)
                    .value(OWNER)
                    .build()
                    .expect("a tag"),
            )
            .build()
            .expect("an output")
    })
}

/// E8: a key that DeleteObjects refuses ends the delete with S3's code and
/// the key, instead of listing and refusing it again until the timeout.
#[tokio::test(start_paused = true)]
async fn a_key_delete_objects_refuses_fails_the_delete() {
    let list = mock!(aws_sdk_s3::Client::list_object_versions).then_output(|| {
        ListObjectVersionsOutput::builder()
            .versions(
                ObjectVersion::builder()
                    .key("index.html")
                    .version_id("v1")
                    .build(),
            )
            .build()
    });
    let delete = mock!(aws_sdk_s3::Client::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            .errors(
                aws_sdk_s3::types::Error::builder()
                    .key("index.html")
                    .version_id("v1")
                    .code("AccessDenied")
                    .message("Access Denied")
                    .build(),
            )
            .build()
    });
    let c = test_mocks::s3(&[&ours(), &list, &delete]);
    let err = test_mocks::in_operation(delete_bucket(&c, "fansite-site", true, OWNER))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(err.to_string().contains("index.html"), "{err}");
    assert_eq!(delete.num_calls(), 1);
}

/// E9: the calls that set up a bucket just made are retried while S3 does
/// not see it yet.
#[tokio::test(start_paused = true)]
async fn a_new_bucket_not_yet_visible_is_set_up_once_it_is() {
    let create = mock!(aws_sdk_s3::Client::create_bucket)
        .then_output(|| CreateBucketOutput::builder().build());
    let block = mock!(aws_sdk_s3::Client::put_public_access_block)
        .sequence()
        .http_status(
            404,
            Some(s3_error(
                "NoSuchBucket",
                "The specified bucket does not exist",
            )),
        )
        .times(2)
        .output(|| PutPublicAccessBlockOutput::builder().build())
        .build();
    let versioning = mock!(aws_sdk_s3::Client::put_bucket_versioning)
        .then_output(|| PutBucketVersioningOutput::builder().build());
    let encryption = mock!(aws_sdk_s3::Client::put_bucket_encryption)
        .then_output(|| PutBucketEncryptionOutput::builder().build());
    let tagging = mock!(aws_sdk_s3::Client::put_bucket_tagging)
        .then_output(|| PutBucketTaggingOutput::builder().build());
    let head = mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(404).expect("a status"),
            aws_smithy_types::body::SdkBody::empty(),
        )
    });
    let c = test_mocks::s3(&[&head, &create, &block, &versioning, &encryption, &tagging]);
    test_mocks::in_operation(create_bucket(
        &c,
        "fansite-site",
        "ap-northeast-2",
        &Tags::new(),
        OWNER,
    ))
    .await
    .expect("set up");
    assert_eq!(block.num_calls(), 3);
    // The owner tag goes on first, each time the set-up is tried.
    assert_eq!(tagging.num_calls(), 3);
}
