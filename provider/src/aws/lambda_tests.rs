//! The notifier's function as Lambda answers (the SDK's own test doubles):
//! the local endpoint makes a function Active at once and applies updates
//! at once, so it never shows Pending, InProgress or their conflicts.

use std::sync::{Arc, Mutex};

use aws_sdk_lambda::operation::{
    add_permission::AddPermissionOutput, create_function::CreateFunctionOutput,
    get_function::GetFunctionOutput, get_function_configuration::GetFunctionConfigurationOutput,
    get_policy::GetPolicyOutput, update_function_code::UpdateFunctionCodeOutput,
    update_function_configuration::UpdateFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::{EnvironmentResponse, FunctionConfiguration};
use aws_smithy_mocks::{mock, MockResponse, Rule};

use super::*;
use crate::aws::test_mocks::{self, in_operation, json_error, refused};

const ARN: &str = "arn:aws:lambda:ap-northeast-2:123456789012:function:fansite-api-slack";
const TOPIC: &str = "arn:aws:sns:ap-northeast-2:123456789012:fansite-api-alarms";

fn spec() -> FunctionSpec {
    FunctionSpec {
        name: "fansite-api-slack".into(),
        role_arn: "arn:aws:iam::123456789012:role/fansite-api-notifier".into(),
        handler: "notifier.handler".into(),
        zip: vec![1, 2, 3],
        environment: [("WEBHOOK_SECRET_ARN".to_string(), "arn:new".to_string())]
            .into_iter()
            .collect(),
    }
}

fn conflict() -> String {
    json_error(
        "ResourceConflictException",
        &format!("The operation cannot be performed at this time. An update is in progress for resource: {ARN}"),
    )
}

/// A function as Lambda keeps it: each update is InProgress for `polls`
/// looks, and a change meanwhile is refused with ResourceConflictException.
#[derive(Default)]
struct Function {
    in_progress: u32,
    conflicts: u32,
    updates: Vec<&'static str>,
}

fn fake(polls: u32) -> (Arc<Mutex<Function>>, Vec<Rule>) {
    let f = Arc::new(Mutex::new(Function::default()));
    let get = mock!(aws_sdk_lambda::Client::get_function).then_output(|| {
        GetFunctionOutput::builder()
            .configuration(
                FunctionConfiguration::builder()
                    .function_arn(ARN)
                    .environment(
                        EnvironmentResponse::builder()
                            .variables("WEBHOOK_SECRET_ARN", "arn:old")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let seen = f.clone();
    let conf = mock!(aws_sdk_lambda::Client::get_function_configuration).then_compute_response(
        move |_| {
            let mut f = seen.lock().expect("lock");
            let status = if f.in_progress > 0 {
                f.in_progress -= 1;
                LastUpdateStatus::InProgress
            } else {
                LastUpdateStatus::Successful
            };
            MockResponse::Output(
                GetFunctionConfigurationOutput::builder()
                    .state(State::Active)
                    .last_update_status(status)
                    .build(),
            )
        },
    );
    let update = |name: &'static str, f: Arc<Mutex<Function>>| {
        move || {
            let mut f = f.lock().expect("lock");
            if f.in_progress > 0 {
                f.conflicts += 1;
                return Err(());
            }
            f.in_progress = polls;
            f.updates.push(name);
            Ok(())
        }
    };
    let code_update = update("code", f.clone());
    let code =
        mock!(aws_sdk_lambda::Client::update_function_code).then_compute_response(move |_| {
            match code_update() {
                Ok(()) => MockResponse::Output(UpdateFunctionCodeOutput::builder().build()),
                Err(()) => refused(conflict()),
            }
        });
    let env_update = update("environment", f.clone());
    let env = mock!(aws_sdk_lambda::Client::update_function_configuration).then_compute_response(
        move |_| match env_update() {
            Ok(()) => MockResponse::Output(UpdateFunctionConfigurationOutput::builder().build()),
            Err(()) => refused(conflict()),
        },
    );
    (f, vec![get, conf, code, env])
}

/// S3: a new webhook updates the function's code and then its environment,
/// each once the update before it has finished: no ResourceConflictException.
#[tokio::test(start_paused = true)]
async fn each_update_waits_for_the_one_before() {
    let (f, rules) = fake(2);
    let c = test_mocks::lambda(&rules.iter().collect::<Vec<_>>());
    let arn = in_operation(ensure_function(&c, &spec(), &Tags::new()))
        .await
        .expect("updated");
    assert_eq!(arn, ARN);
    let f = f.lock().expect("lock");
    assert_eq!(f.updates, vec!["code", "environment"]);
    assert_eq!(f.conflicts, 0, "no update met one in progress");
    assert_eq!(f.in_progress, 0, "returned once the last update finished");
}

/// S4: CreateFunction is retried while the new role is not yet assumable,
/// for longer than the old 16 s, then waited for until Active.
#[tokio::test(start_paused = true)]
async fn create_waits_for_the_role_then_for_active() {
    let missing = mock!(aws_sdk_lambda::Client::get_function).then_http_response(|| {
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            404.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::from(json_error(
                "ResourceNotFoundException",
                "Function not found",
            )),
        )
    });
    let create = mock!(aws_sdk_lambda::Client::create_function)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )),
        )
        .times(8)
        .output(|| CreateFunctionOutput::builder().function_arn(ARN).build())
        .build();
    let conf = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .sequence()
        .output(|| {
            GetFunctionConfigurationOutput::builder()
                .state(State::Pending)
                .build()
        })
        .times(2)
        .output(|| {
            GetFunctionConfigurationOutput::builder()
                .state(State::Active)
                .build()
        })
        .build();
    let c = test_mocks::lambda(&[&missing, &create, &conf]);
    let started = tokio::time::Instant::now();
    let arn = in_operation(ensure_function(&c, &spec(), &Tags::new()))
        .await
        .expect("created");
    assert_eq!(arn, ARN);
    assert_eq!((create.num_calls(), conf.num_calls()), (9, 3));
    // Eight refusals, each followed by a pause of at least 200 ms.
    assert!(started.elapsed() >= std::time::Duration::from_millis(8 * 200));
}

/// S4: any other InvalidParameterValueException is a real error, at once.
#[tokio::test(start_paused = true)]
async fn create_fails_at_once_on_a_real_error() {
    let missing = mock!(aws_sdk_lambda::Client::get_function).then_http_response(|| {
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            404.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::from(json_error(
                "ResourceNotFoundException",
                "Function not found",
            )),
        )
    });
    let create = mock!(aws_sdk_lambda::Client::create_function).then_http_response(|| {
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            400.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::from(json_error(
                "InvalidParameterValueException",
                "Unzipped size must be smaller than 262144000 bytes",
            )),
        )
    });
    let c = test_mocks::lambda(&[&missing, &create]);
    let err = in_operation(ensure_function(&c, &spec(), &Tags::new()))
        .await
        .expect_err("refused");
    assert_eq!(create.num_calls(), 1, "{err}");
}

fn policy(topic: &str) -> GetPolicyOutput {
    GetPolicyOutput::builder()
        .policy(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": SNS_STATEMENT,
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "lambda:InvokeFunction",
                    "Resource": ARN,
                    "Condition": {"ArnLike": {"AWS:SourceArn": topic}}
                }]
            })
            .to_string(),
        )
        .build()
}

fn no_policy(
) -> MockResponse<GetPolicyOutput, aws_sdk_lambda::operation::get_policy::GetPolicyError> {
    MockResponse::Http(
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            404.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::from(json_error(
                "ResourceNotFoundException",
                "The resource you requested does not exist.",
            )),
        ),
    )
}

/// S5: AddPermission refused because the function is still Pending is not
/// taken for "the statement exists": the policy is read, and the call is
/// retried until the permission is there.
#[tokio::test(start_paused = true)]
async fn a_conflicting_add_permission_is_retried_until_the_statement_exists() {
    let added = Arc::new(Mutex::new(false));
    let read = added.clone();
    let get = mock!(aws_sdk_lambda::Client::get_policy).then_compute_response(move |_| {
        if *read.lock().expect("lock") {
            MockResponse::Output(policy(TOPIC))
        } else {
            no_policy()
        }
    });
    let tries = Arc::new(Mutex::new(0));
    let (t, a) = (tries.clone(), added.clone());
    let add = mock!(aws_sdk_lambda::Client::add_permission).then_compute_response(move |_| {
        let mut t = t.lock().expect("lock");
        *t += 1;
        if *t < 3 {
            refused(conflict())
        } else {
            *a.lock().expect("lock") = true;
            MockResponse::Output(AddPermissionOutput::builder().build())
        }
    });
    let c = test_mocks::lambda(&[&get, &add]);
    in_operation(allow_sns(&c, "fansite-api-slack", TOPIC))
        .await
        .expect("allowed");
    assert_eq!(*tries.lock().expect("lock"), 3);
    assert!(*added.lock().expect("lock"));
}

/// S5: a statement for this topic is done; one for another topic is replaced.
#[tokio::test(start_paused = true)]
async fn an_existing_statement_is_kept_or_replaced_by_its_topic() {
    use aws_sdk_lambda::operation::remove_permission::RemovePermissionOutput;
    let get = mock!(aws_sdk_lambda::Client::get_policy).then_output(|| policy(TOPIC));
    let add = mock!(aws_sdk_lambda::Client::add_permission)
        .then_output(|| AddPermissionOutput::builder().build());
    let c = test_mocks::lambda(&[&get, &add]);
    in_operation(allow_sns(&c, "fansite-api-slack", TOPIC))
        .await
        .expect("allowed");
    assert_eq!(add.num_calls(), 0);

    let old = mock!(aws_sdk_lambda::Client::get_policy).then_output(|| policy("arn:old-topic"));
    let remove = mock!(aws_sdk_lambda::Client::remove_permission)
        .match_requests(|r| r.statement_id() == Some(SNS_STATEMENT))
        .then_output(|| RemovePermissionOutput::builder().build());
    let c = test_mocks::lambda(&[&old, &remove, &add]);
    in_operation(allow_sns(&c, "fansite-api-slack", TOPIC))
        .await
        .expect("allowed");
    assert_eq!((remove.num_calls(), add.num_calls()), (1, 1));
}

#[test]
fn readiness_folds_state_and_last_update() {
    let r = |s, u| readiness(s, Some("why"), u, Some("because")).status;
    assert_eq!(r(Some(&State::Pending), None), "Pending");
    assert_eq!(
        r(Some(&State::Active), Some(&LastUpdateStatus::InProgress)),
        "InProgress"
    );
    assert_eq!(
        r(Some(&State::Active), Some(&LastUpdateStatus::Successful)),
        "ready"
    );
    assert_eq!(r(Some(&State::Inactive), None), "ready");
    let failed = readiness(
        Some(&State::Active),
        None,
        Some(&LastUpdateStatus::Failed),
        Some("bad zip"),
    );
    assert_eq!(
        (failed.status.as_str(), failed.reason.as_str()),
        ("Failed", "bad zip")
    );
    assert_eq!(
        source_of(policy(TOPIC).policy().unwrap_or_default(), SNS_STATEMENT).as_deref(),
        Some(TOPIC)
    );
    assert_eq!(source_of("{\"Statement\": []}", SNS_STATEMENT), None);
}
