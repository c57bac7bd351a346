//! Lambda: the Slack notifier a service's alarm topic invokes.

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use aws_sdk_lambda::Client;

use super::{aws_error, gone_is_done, not_found_if, retry_eventual};
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

/// Makes the function, or updates the code and settings of the one of that
/// name left by an earlier create; returns its ARN. A role made a moment ago
/// may not be assumable yet: that is retried.
pub async fn ensure_function(c: &Client, f: &FunctionSpec, tags: &Tags) -> Result<String> {
    let part = format!("Lambda function {:?}", f.name);
    if let Some((arn, _)) = function(c, &f.name).await? {
        c.update_function_code()
            .function_name(&f.name)
            .zip_file(Blob::new(f.zip.clone()))
            .send()
            .await
            .map_err(|e| aws_error("updating code of", &part, e))?;
        update_environment(c, &f.name, &f.environment).await?;
        return Ok(arn);
    }
    // A role just made is not assumable by Lambda for several seconds (IAM
    // propagation): CreateFunction answers InvalidParameterValueException
    // "The role defined for the function cannot be assumed by Lambda".
    retry_eventual(&["InvalidParameterValueException"], || async {
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
    .await
}

pub async fn update_environment(
    c: &Client,
    name: &str,
    env: &BTreeMap<String, String>,
) -> Result<()> {
    c.update_function_configuration()
        .function_name(name)
        .environment(
            Environment::builder()
                .set_variables(Some(env.clone().into_iter().collect()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("configuring", &format!("Lambda function {name:?}"), e))?;
    Ok(())
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

/// Lets the SNS topic invoke the function.
pub async fn allow_sns(c: &Client, name: &str, topic_arn: &str) -> Result<()> {
    let res = c
        .add_permission()
        .function_name(name)
        .statement_id("fansite-alarm-topic")
        .action("lambda:InvokeFunction")
        .principal("sns.amazonaws.com")
        .source_arn(topic_arn)
        .send()
        .await
        .map_err(|e| aws_error("allowing", &format!("{topic_arn} to invoke {name:?}"), e));
    match res {
        Err(e) if e.code() == Some("ResourceConflictException") => Ok(()),
        other => other.map(|_| ()),
    }
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
