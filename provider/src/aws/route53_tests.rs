//! Alias records, with Route53 as AWS answers (the SDK's own test doubles):
//! the local endpoint's changes are in sync at once, and it does not refuse
//! a batch that deletes a record it no longer has.

use std::sync::{Arc, Mutex};

use aws_sdk_route53::operation::{
    change_resource_record_sets::ChangeResourceRecordSetsOutput, get_change::GetChangeOutput,
    list_resource_record_sets::ListResourceRecordSetsOutput,
};
use aws_sdk_route53::types::{ChangeInfo, ChangeStatus};
use aws_smithy_mocks::{mock, MockResponse};

use super::*;
use crate::aws::test_mocks::{self, rest_xml_error};

const TARGET: &str = "d111.cloudfront.net";

fn change(status: ChangeStatus) -> ChangeInfo {
    ChangeInfo::builder()
        .id("/change/C1")
        .status(status)
        .submitted_at(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .expect("change")
}

fn listed(name: &str, ty: RrType, target: &str) -> ResourceRecordSet {
    record(name, ty, target, "test").expect("record")
}

/// E5: a delete names exactly the records that are there and point at the
/// distribution (here the AAAA of one alias is already gone, and another
/// alias was pointed elsewhere), so the transactional batch is not refused
/// and the records that remain are removed; E10: it waits until in sync.
#[tokio::test(start_paused = true)]
async fn delete_removes_exactly_the_records_that_remain_and_waits_in_sync() {
    let list =
        mock!(aws_sdk_route53::Client::list_resource_record_sets).then_compute_output(|input| {
            let sets = match input.start_record_name() {
                Some("www.fans.example.com") => vec![
                    listed("www.fans.example.com.", RrType::A, "D111.cloudfront.net."),
                    listed("zzz.fans.example.com.", RrType::A, TARGET),
                ],
                _ => vec![listed(
                    "fans.example.com.",
                    RrType::A,
                    "elsewhere.example.net",
                )],
            };
            ListResourceRecordSetsOutput::builder()
                .set_resource_record_sets(Some(sets))
                .is_truncated(false)
                .max_items(10)
                .build()
                .expect("listing")
        });
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = sent.clone();
    let changes = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .then_compute_response(move |input| {
            for ch in input
                .change_batch()
                .map(|b| b.changes())
                .unwrap_or_default()
            {
                let set = ch.resource_record_set().expect("set");
                log.lock().expect("lock").push(format!(
                    "{} {} {}",
                    ch.action().as_str(),
                    set.name(),
                    set.r#type().as_str()
                ));
            }
            MockResponse::Output(
                ChangeResourceRecordSetsOutput::builder()
                    .change_info(change(ChangeStatus::Pending))
                    .build(),
            )
        });
    let get_change = mock!(aws_sdk_route53::Client::get_change)
        .sequence()
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change(ChangeStatus::Pending))
                .build()
        })
        .times(2)
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change(ChangeStatus::Insync))
                .build()
        })
        .build();
    let c = test_mocks::route53(&[&list, &changes, &get_change]);
    test_mocks::in_operation(alias_records(
        &c,
        "Z0ZONE",
        &["www.fans.example.com".into(), "fans.example.com".into()],
        TARGET,
        RecordChange::Delete,
    ))
    .await
    .expect("deleted");
    assert_eq!(
        *sent.lock().expect("lock"),
        vec!["DELETE www.fans.example.com. A"]
    );
    assert_eq!(get_change.num_calls(), 3, "waited until INSYNC");
}

/// E5: a batch refused while the records are still there as listed is a
/// real error, not done.
#[tokio::test(start_paused = true)]
async fn a_refused_delete_is_not_swallowed() {
    let list = mock!(aws_sdk_route53::Client::list_resource_record_sets).then_output(|| {
        ListResourceRecordSetsOutput::builder()
            .resource_record_sets(listed("www.fans.example.com.", RrType::A, TARGET))
            .is_truncated(false)
            .max_items(10)
            .build()
            .expect("listing")
    });
    let changes = test_mocks::always(
        mock!(aws_sdk_route53::Client::change_resource_record_sets),
        400,
        rest_xml_error(
            "InvalidChangeBatch",
            "Tried to delete resource record set but the values provided do not match",
        ),
    );
    let c = test_mocks::route53(&[&list, &changes]);
    let err = test_mocks::in_operation(alias_records(
        &c,
        "Z0ZONE",
        &["www.fans.example.com".into()],
        TARGET,
        RecordChange::Delete,
    ))
    .await
    .expect_err("refused");
    assert_eq!(err.code(), Some("InvalidChangeBatch"));
    assert_eq!(list.num_calls(), 2, "listed again");
    assert_eq!(changes.num_calls(), 1, "the same records: not sent again");
}

/// C3: records in a zone that is gone are gone.
#[tokio::test(start_paused = true)]
async fn delete_in_a_gone_zone_is_done() {
    let list = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .sequence()
        .http_status(404, Some(rest_xml_error("NoSuchHostedZone", "gone")))
        .build();
    let c = test_mocks::route53(&[&list]);
    test_mocks::in_operation(alias_records(
        &c,
        "Z0ZONE",
        &["www.fans.example.com".into()],
        TARGET,
        RecordChange::Delete,
    ))
    .await
    .expect("gone is done");
}

/// E10: an upsert waits until Route53 has the records everywhere.
#[tokio::test(start_paused = true)]
async fn upsert_waits_in_sync() {
    let changes = mock!(aws_sdk_route53::Client::change_resource_record_sets).then_output(|| {
        ChangeResourceRecordSetsOutput::builder()
            .change_info(change(ChangeStatus::Pending))
            .build()
    });
    let get_change = mock!(aws_sdk_route53::Client::get_change)
        .sequence()
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change(ChangeStatus::Pending))
                .build()
        })
        .output(|| {
            GetChangeOutput::builder()
                .change_info(change(ChangeStatus::Insync))
                .build()
        })
        .build();
    let c = test_mocks::route53(&[&changes, &get_change]);
    test_mocks::in_operation(alias_records(
        &c,
        "Z0ZONE",
        &["www.fans.example.com".into()],
        TARGET,
        RecordChange::Upsert,
    ))
    .await
    .expect("in sync");
    assert_eq!(get_change.num_calls(), 2);
}
