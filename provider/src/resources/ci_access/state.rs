//! The CI access resource's state, and the IAM documents made from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::aws::iam::{GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST};

pub use crate::resources::Tags;

/// The inline policy on each role.
pub const POLICY: &str = "deploy";
pub const DEFAULT_REF: &str = "refs/tags/v*";
pub const DEFAULT_MAX_SESSION_HOURS: i64 = 1;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CiAccessState {
    pub name: String,
    pub pipeline: Vec<Pipeline>,
    pub max_session_hours: i64,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub oidc_provider_arn: Option<String>,
    pub oidc_provider_made: bool,
    pub role_arns: Option<BTreeMap<String, String>>,
}

/// One `pipeline {}` block: a role that workflows of one repository, on
/// matching refs, may assume, and what it may do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pipeline {
    pub name: String,
    pub repository: String,
    pub refs: Vec<String>,
    pub ecr_repository_arns: Option<Vec<String>>,
    pub bucket_arns: Option<Vec<String>>,
    pub distribution_arns: Option<Vec<String>>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline {
            name: String::new(),
            repository: String::new(),
            refs: vec![DEFAULT_REF.to_string()],
            ecr_repository_arns: None,
            bucket_arns: None,
            distribution_arns: None,
        }
    }
}

const SUB: &str = "token.actions.githubusercontent.com:sub";
const AUD: &str = "token.actions.githubusercontent.com:aud";

/// The ECR actions a `docker push` (and the pull of a cached layer) needs.
pub const ECR_PUSH: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
];
pub const S3_LIST: &[&str] = &["s3:ListBucket"];
/// What `aws s3 sync --delete` does to the objects.
pub const S3_WRITE: &[&str] = &["s3:DeleteObject", "s3:GetObject", "s3:PutObject"];
pub const INVALIDATE: &[&str] = &[
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
];

impl CiAccessState {
    pub fn role_name(&self, pipeline: &str) -> String {
        format!("{}-{pipeline}", self.name)
    }

    pub fn max_session_seconds(&self) -> i32 {
        i32::try_from(self.max_session_hours * 3600).unwrap_or(3600)
    }
}

impl Pipeline {
    /// The role's trust policy: GitHub's token for this repository on one of
    /// `refs`, with AWS's audience, through the account's provider.
    pub fn trust(&self, provider_arn: &str) -> String {
        let subs: Vec<String> = self
            .refs
            .iter()
            .map(|r| format!("repo:{}:ref:{r}", self.repository))
            .collect();
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {AUD: GITHUB_OIDC_AUDIENCE},
                    "StringLike": {SUB: subs},
                },
            }],
        })
        .to_string()
    }

    /// The role's permissions: push to its image repositories, write its
    /// buckets, invalidate its distributions; nothing else.
    pub fn policy(&self) -> String {
        let mut statements = Vec::new();
        let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        let ecr = list(&self.ecr_repository_arns);
        if !ecr.is_empty() {
            // GetAuthorizationToken names no resource: "*" is the only form IAM takes.
            statements.push(json!({"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}));
            statements.push(
                json!({"Sid": "EcrPush", "Effect": "Allow", "Action": ECR_PUSH, "Resource": ecr}),
            );
        }
        let buckets = list(&self.bucket_arns);
        if !buckets.is_empty() {
            let objects: Vec<String> = buckets.iter().map(|b| format!("{b}/*")).collect();
            statements.push(json!({"Sid": "SiteBucket", "Effect": "Allow", "Action": S3_LIST, "Resource": buckets}));
            statements.push(json!({"Sid": "SiteObjects", "Effect": "Allow", "Action": S3_WRITE, "Resource": objects}));
        }
        let dists = list(&self.distribution_arns);
        if !dists.is_empty() {
            statements.push(json!({"Sid": "Invalidate", "Effect": "Allow", "Action": INVALIDATE, "Resource": dists}));
        }
        json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    /// The repository and refs a trust policy allows, if it is one of ours.
    pub fn from_trust(trust: &str) -> Option<(String, Vec<String>)> {
        let v: Value = serde_json::from_str(trust).ok()?;
        let stmt = v["Statement"].as_array()?.first()?.clone();
        let subs = match &stmt["Condition"]["StringLike"][SUB] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => return None,
        };
        let mut repo = None;
        let mut refs = Vec::new();
        for sub in subs {
            let rest = sub.strip_prefix("repo:")?;
            let (r, reference) = rest.split_once(":ref:")?;
            repo.get_or_insert_with(|| r.to_string());
            refs.push(reference.to_string());
        }
        Some((repo?, refs))
    }

    /// Sets the ARNs an inline policy grants, by its statements' `Sid`s.
    pub fn set_from_policy(&mut self, policy: &str) {
        let v: Value = serde_json::from_str(policy).unwrap_or_default();
        let by_sid = |sid: &str| -> Option<Vec<String>> {
            v["Statement"]
                .as_array()?
                .iter()
                .find(|s| s["Sid"] == sid)
                .map(|s| match &s["Resource"] {
                    Value::String(r) => vec![r.clone()],
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                })
        };
        self.ecr_repository_arns = by_sid("EcrPush");
        self.bucket_arns = by_sid("SiteBucket");
        self.distribution_arns = by_sid("Invalidate");
    }
}

/// Whether the trust policy names the provider (a policy found on a role of
/// our name that trusts another provider is drift to repair).
pub fn trusts(trust: &str, provider_arn: &str) -> bool {
    serde_json::from_str::<Value>(trust)
        .ok()
        .and_then(|v| {
            v["Statement"][0]["Principal"]["Federated"]
                .as_str()
                .map(|p| p == provider_arn)
        })
        .unwrap_or(false)
}

/// `token.actions.githubusercontent.com`, for messages.
pub const ISSUER: &str = GITHUB_OIDC_HOST;
