//! Lambda: the Slack notifier a service's alarm topic invokes.

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use aws_sdk_lambda::Client;

use super::wait::{Missing, Seen, Wait};
use super::{
    aws_error, gone_is_done, not_found_if, retry_eventual, retry_eventual_when, tag_changes,
};
use crate::error::Result;

pub use super::Tags;

#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub role_arn: String,
    pub handler: String,
    pub zip: Vec<u8>,
    pub environment: BTreeMap<String, String>,
}

/// CreateFunction answers these until IAM catches up with a role just made
/// (terraform-provider-aws `retryFunctionOp`, for `lambdaPropagationTimeout`):
/// any other InvalidParameterValueException is a real error, at once.
const CREATE_PASSING: &[(&str, &str)] = &[
    (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda",
    ),
    (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions",
    ),
    ("InvalidParameterValueException", "throttled by EC2"),
];

/// Updates answer ResourceConflictException while the function is Pending or
/// another update is in progress (Lambda Developer Guide, "Lambda function
/// states"); the update waits for the function to be ready first, and
/// retries this should another call get in between (terraform-provider-aws
/// `retryFunctionOp` retries it too).
const UPDATE_PASSING: &[&str] = &["ResourceConflictException"];

/// The id of the statement that lets the alarm topic invoke the function.
pub const SNS_STATEMENT: &str = "fansite-alarm-topic";

/// Makes the function, or updates the code and settings of the one of that
/// name left by an earlier create; returns its ARN once the function is
/// Active with no update in progress. A role made a moment ago may not be
/// assumable yet: that is retried.
pub async fn ensure_function(c: &Client, f: &FunctionSpec, tags: &Tags) -> Result<String> {
    let part = format!("Lambda function {:?}", f.name);
    if let Some((arn, env)) = function(c, &f.name).await? {
        // A create that failed midway may have left it Pending.
        wait_function_ready(c, &f.name).await?;
        // The package is the one this plugin ships: sent again, so that a
        // plugin upgrade brings its notifier along.
        retry_eventual(UPDATE_PASSING, || async {
            c.update_function_code()
                .function_name(&f.name)
                .zip_file(Blob::new(f.zip.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("updating code of", &part, e))
        })
        .await?;
        wait_function_ready(c, &f.name).await?;
        if env != f.environment {
            update_environment(c, &f.name, &f.environment).await?;
        }
        return Ok(arn);
    }
    let arn = retry_eventual_when(CREATE_PASSING, || async {
        c.create_function()
            .function_name(&f.name)
            .runtime(Runtime::Python312)
            .role(&f.role_arn)
            .handler(&f.handler)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(f.zip.clone()))
                    .build(),
            )
            .timeout(10)
            .memory_size(128)
            .environment(
                Environment::builder()
                    .set_variables(Some(f.environment.clone().into_iter().collect()))
                    .build(),
            )
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map(|o| o.function_arn().unwrap_or_default().to_string())
            .map_err(|e| aws_error("creating", &part, e))
    })
    .await?;
    // terraform-provider-aws `waitFunctionCreated`: Pending until Active.
    wait_function_ready(c, &f.name).await?;
    Ok(arn)
}

/// Sets the function's environment, once no other update is in progress,
/// and waits for the update to finish.
pub async fn update_environment(
    c: &Client,
    name: &str,
    env: &BTreeMap<String, String>,
) -> Result<()> {
    let part = format!("Lambda function {name:?}");
    wait_function_ready(c, name).await?;
    retry_eventual(UPDATE_PASSING, || async {
        c.update_function_configuration()
            .function_name(name)
            .environment(
                Environment::builder()
                    .set_variables(Some(env.clone().into_iter().collect()))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("configuring", &part, e))
    })
    .await?;
    // terraform-provider-aws `waitFunctionUpdated`: InProgress until Successful.
    wait_function_ready(c, name).await
}

/// What GetFunctionConfiguration says of the function's readiness: "Pending"
/// (just made), "InProgress" (an update), "Failed" (with Lambda's reason),
/// or "ready" (Active, or Inactive, which an update wakes, with no update in
/// progress).
async fn function_seen(c: &Client, name: &str) -> Result<Option<Seen>> {
    let conf = match c
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            return Err(not_found_if(
                "reading",
                &format!("Lambda function {name:?}"),
                e,
                |e| e.is_resource_not_found_exception(),
            ))
        }
    };
    Ok(Some(readiness(
        conf.state(),
        conf.state_reason(),
        conf.last_update_status(),
        conf.last_update_status_reason(),
    )))
}

/// Folds a function's `State` and `LastUpdateStatus` into one status.
pub fn readiness(
    state: Option<&State>,
    state_reason: Option<&str>,
    update: Option<&LastUpdateStatus>,
    update_reason: Option<&str>,
) -> Seen {
    match (state, update) {
        (Some(State::Failed), _) => Seen::with_reason("Failed", state_reason.unwrap_or_default()),
        (Some(State::Pending), _) => Seen::status("Pending"),
        (_, Some(LastUpdateStatus::InProgress)) => Seen::status("InProgress"),
        (_, Some(LastUpdateStatus::Failed)) => {
            Seen::with_reason("Failed", update_reason.unwrap_or_default())
        }
        _ => Seen::status("ready"),
    }
}

/// Waits until the function is Active with no update in progress (Lambda
/// Developer Guide, "Lambda function states": while it is Pending, or an
/// update is InProgress, other calls that change it fail). A function just
/// made may not be visible at once.
pub async fn wait_function_ready(c: &Client, name: &str) -> Result<()> {
    let part = format!("Lambda function {name:?}");
    Wait {
        part: &part,
        goal: "active with no update in progress",
        done: &["ready"],
        pending: &["Pending", "InProgress"],
        missing: Missing::WhileNew,
        timeout: crate::ctx::remaining(),
    }
    .until(|| function_seen(c, name))
    .await
    .map(|_| ())
}

/// The function's ARN and environment, or `None`.
pub async fn function(
    c: &Client,
    name: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>> {
    match c.get_function().function_name(name).send().await {
        Ok(o) => {
            let conf = o.configuration();
            Ok(Some((
                conf.and_then(|c| c.function_arn())
                    .unwrap_or_default()
                    .to_string(),
                conf.and_then(|c| c.environment())
                    .and_then(|e| e.variables())
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            )))
        }
        Err(e) => {
            let e = not_found_if("reading", &format!("Lambda function {name:?}"), e, |e| {
                e.is_resource_not_found_exception()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Lets the SNS topic invoke the function (statement [`SNS_STATEMENT`]).
///
/// AddPermission answers ResourceConflictException both when the statement
/// exists and while the function is Pending or being updated, so the policy
/// is read to tell them apart: a statement for this topic is done, one for
/// another topic is replaced, and a conflict without it is retried until the
/// operation's deadline (terraform-provider-aws `resourcePermissionCreate`
/// retries ResourceConflictException and ResourceNotFoundException for
/// `lambdaPropagationTimeout`, "for IAM and Lambda eventual consistency").
pub async fn allow_sns(c: &Client, name: &str, topic_arn: &str) -> Result<()> {
    let part = format!("{topic_arn} to invoke {name:?}");
    match statement_source(c, name, SNS_STATEMENT).await? {
        Some(src) if src == topic_arn => return Ok(()),
        Some(_) => remove_permission(c, name, SNS_STATEMENT).await?,
        None => {}
    }
    retry_eventual(
        &["ResourceConflictException", "ResourceNotFoundException"],
        || async {
            let res = c
                .add_permission()
                .function_name(name)
                .statement_id(SNS_STATEMENT)
                .action("lambda:InvokeFunction")
                .principal("sns.amazonaws.com")
                .source_arn(topic_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("allowing", &part, e));
            match res {
                Err(e) if e.code() == Some("ResourceConflictException") => {
                    match statement_source(c, name, SNS_STATEMENT).await? {
                        Some(src) if src == topic_arn => Ok(()),
                        _ => Err(e),
                    }
                }
                other => other,
            }
        },
    )
    .await
}

/// The `AWS:SourceArn` of the function policy's statement `sid`, or `None`
/// when the function has no such statement (or no policy, or is gone).
pub async fn statement_source(c: &Client, name: &str, sid: &str) -> Result<Option<String>> {
    let out = match c.get_policy().function_name(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let e = not_found_if(
                "reading",
                &format!("policy of Lambda function {name:?}"),
                e,
                |e| e.is_resource_not_found_exception(),
            );
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(source_of(out.policy().unwrap_or_default(), sid))
}

/// The `AWS:SourceArn` condition of statement `sid` in a function policy document.
pub fn source_of(policy: &str, sid: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    let st = statements.iter().find(|s| s["Sid"].as_str() == Some(sid))?;
    let cond = &st["Condition"];
    ["ArnLike", "ArnEquals"]
        .iter()
        .find_map(|op| cond[op]["AWS:SourceArn"].as_str())
        .map(str::to_string)
        .or_else(|| Some(String::new()))
}

async fn remove_permission(c: &Client, name: &str, sid: &str) -> Result<()> {
    let part = format!("statement {sid:?} of Lambda function {name:?}");
    let res = retry_eventual(UPDATE_PASSING, || async {
        c.remove_permission()
            .function_name(name)
            .statement_id(sid)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("removing", &part, e, |e| {
                    e.is_resource_not_found_exception()
                })
            })
    })
    .await;
    gone_is_done(res)
}

pub async fn delete_function(c: &Client, name: &str) -> Result<()> {
    gone_is_done(
        c.delete_function()
            .function_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("Lambda function {name:?}"), e, |e| {
                    e.is_resource_not_found_exception()
                })
            }),
    )
}

/// Retags the function (by its ARN).
pub async fn set_function_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("Lambda function {arn}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_resource()
            .resource(arn)
            .set_tags(Some(set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .resource(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "lambda_tests.rs"]
mod tests;
