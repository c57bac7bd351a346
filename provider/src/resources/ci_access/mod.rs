//! `fansite_ci_access`: keyless AWS access for the release pipelines: the
//! account's OpenID Connect provider for GitHub Actions and one least-privilege
//! role per pipeline.
//!
//! Lifecycle in order: schema, validate, read, plan, create and update (one
//! converge), delete, import.

mod find;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::{iam, Aws};
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Timeouts};
use crate::error::Result;
use crate::schema::Schema;
use crate::value::Dyn;

pub use state::CiAccessState;
use state::POLICY;

/// The kind in the roles' and provider's owner tag.
pub const OWNER_KIND: &str = "fansite_ci_access";

/// IAM answers at once, but a role may take seconds to accept a provider made
/// just before it; five minutes leaves room for that and for throttling.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

pub struct CiAccessResource;

#[async_trait]
impl Composite for CiAccessResource {
    type State = CiAccessState;
    const NAME: &'static str = "ci_access";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_TIMEOUT,
        update: DEFAULT_TIMEOUT,
        delete: DEFAULT_TIMEOUT,
    };

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn label(&self, state: &CiAccessState) -> String {
        format!("ci_access {:?}", state.name)
    }

    fn unmade(&self, want: &CiAccessState) -> CiAccessState {
        CiAccessState {
            oidc_provider_arn: None,
            oidc_provider_made: false,
            role_arns: None,
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &CiAccessState) -> bool {
        state.role_arns.as_ref().is_some_and(|m| !m.is_empty())
            || (state.oidc_provider_made && state.oidc_provider_arn.is_some())
    }

    async fn find(&self, aws: &Aws, hints: &CiAccessState) -> Result<Option<CiAccessState>> {
        find::find(aws, hints).await
    }

    async fn plan(
        &self,
        _aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        _config: &Dyn,
        _diags: &mut Diags,
    ) -> Dyn {
        let names: Option<BTreeSet<String>> = planned.get("pipeline").as_list().map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("name").as_str().map(str::to_string))
                .collect()
        });
        let Some(prior) = prior else {
            return planned;
        };
        // The roles' ARNs stay while every pipeline has its role.
        let arns = prior.get("role_arns").string_map();
        let same = names.is_some_and(|n| n.iter().eq(arns.keys()));
        planned.set(
            "role_arns",
            if same {
                Dyn::from_string_map(arns.iter())
            } else {
                Dyn::Unknown
            },
        );
        if prior.get("oidc_provider_arn").is_null() {
            planned.set("oidc_provider_arn", Dyn::Unknown);
            planned.set("oidc_provider_made", Dyn::Unknown);
        }
        planned
    }

    async fn create(&self, aws: &Aws, cur: &mut CiAccessState, want: &CiAccessState) -> Result<()> {
        converge(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut CiAccessState, want: &CiAccessState) -> Result<()> {
        converge(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &CiAccessState) -> Result<()> {
        let c = &aws.iam;
        let owner = crate::aws::owner(OWNER_KIND, &cur.name, &aws.region);
        let names: Vec<String> = cur
            .pipeline
            .iter()
            .map(|p| cur.role_name(&p.name))
            .collect();
        for name in &names {
            iam::delete_role(c, name, &owner).await?;
        }
        if let Some((arn, tag)) = iam::github_oidc_provider(c).await? {
            // There is one provider per account: it goes only when this
            // resource made it and no other role trusts it.
            if crate::aws::owned(tag.as_deref(), &owner)
                && !iam::others_trust(c, &arn, &names).await?
            {
                iam::delete_oidc_provider(c, &arn).await?;
            }
        }
        Ok(())
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<CiAccessState> {
        if let Some(why) = rules::name(id) {
            diags.error(
                "Invalid import ID",
                format!("Import a fansite_ci_access by its name. {why}"),
            );
            return None;
        }
        match find::pipelines_named(aws, id).await {
            Ok(pipelines) if !pipelines.is_empty() => Some(CiAccessState {
                name: id.to_string(),
                pipeline: pipelines,
                max_session_hours: state::DEFAULT_MAX_SESSION_HOURS,
                ..CiAccessState::default()
            }),
            Ok(_) => {
                diags.error(
                    "Cannot import non-existent CI access",
                    format!("No IAM role named {id:?}-<pipeline> made by fansite_ci_access {id:?} in {} was found.", aws.region),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }
}

/// The provider first (a role's trust names it), then each pipeline's role,
/// its trust, session length, permissions and tags; roles no longer wanted last.
async fn converge(aws: &Aws, cur: &mut CiAccessState, want: &CiAccessState) -> Result<()> {
    let c = &aws.iam;
    let owner = crate::aws::owner(OWNER_KIND, &want.name, &aws.region);
    let provider = match iam::github_oidc_provider(c).await? {
        Some((arn, tag)) => {
            cur.oidc_provider_made = crate::aws::owned(tag.as_deref(), &owner);
            arn
        }
        None => {
            let arn = iam::create_github_oidc_provider(c, &want.tags_all, &owner).await?;
            // Made here, unless another stack's create won the race.
            cur.oidc_provider_made = match iam::github_oidc_provider(c).await? {
                Some((_, tag)) => crate::aws::owned(tag.as_deref(), &owner),
                None => true,
            };
            arn
        }
    };
    cur.oidc_provider_arn = Some(provider.clone());
    if cur.oidc_provider_made && cur.tags_all != want.tags_all {
        iam::set_oidc_provider_tags(c, &provider, &cur.tags_all, &want.tags_all).await?;
    }
    let had: BTreeMap<String, state::Pipeline> = cur
        .pipeline
        .iter()
        .map(|p| (p.name.clone(), p.clone()))
        .collect();
    let mut arns = cur.role_arns.clone().unwrap_or_default();
    for p in &want.pipeline {
        let name = want.role_name(&p.name);
        let trust = p.trust(&provider);
        let existed = arns.contains_key(&p.name);
        let arn = iam::ensure_federated_role(
            c,
            &name,
            &trust,
            want.max_session_seconds(),
            &want.tags_all,
            &owner,
        )
        .await?;
        arns.insert(p.name.clone(), arn);
        cur.role_arns = Some(arns.clone());
        let before = had.get(&p.name).filter(|_| existed);
        if before.is_some_and(|b| b.trust(&provider) != trust || b.repository != p.repository) {
            iam::set_trust(c, &name, &trust).await?;
        }
        if existed && cur.max_session_hours != want.max_session_hours {
            iam::set_max_session(c, &name, want.max_session_seconds()).await?;
        }
        if before.is_none_or(|b| b.policy() != p.policy()) {
            iam::put_inline_policy(c, &name, POLICY, &p.policy()).await?;
        }
        if existed && cur.tags_all != want.tags_all {
            iam::set_role_tags(c, &name, &cur.tags_all, &want.tags_all).await?;
        }
    }
    let wanted: BTreeSet<&str> = want.pipeline.iter().map(|p| p.name.as_str()).collect();
    for gone in had.keys().filter(|n| !wanted.contains(n.as_str())) {
        iam::delete_role(c, &cur.role_name(gone), &owner).await?;
        arns.remove(gone);
        cur.role_arns = Some(arns.clone());
    }
    let made = (cur.oidc_provider_arn.clone(), cur.oidc_provider_made);
    *cur = CiAccessState {
        oidc_provider_arn: made.0,
        oidc_provider_made: made.1,
        role_arns: Some(arns),
        ..want.clone()
    };
    Ok(())
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    fn arn_of(s: &str, service: &str, rest_prefix: &str) -> bool {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == service
            && parts[5].starts_with(rest_prefix)
            && parts[5].len() > rest_prefix.len()
    }

    pub fn name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 40
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (!ok).then(|| format!("{name:?}: use 1 to 40 letters, digits, '-' or '_' (the roles' names are <name>-<pipeline>, at most 64 characters)."))
    }

    pub fn pipeline_name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 23
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        (!ok).then(|| format!("{name:?}: use 1 to 23 letters, digits or '-'."))
    }

    pub fn repository(repo: &str) -> Option<String> {
        let ok = repo.split_once('/').is_some_and(|(o, n)| {
            !o.is_empty()
                && !n.is_empty()
                && !n.contains('/')
                && repo
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        });
        (!ok).then(|| {
            format!("{repo:?} is not a GitHub repository such as \"fansite/fansite-api\".")
        })
    }

    pub fn git_ref(r: &str) -> Option<String> {
        let ok = (r.starts_with("refs/heads/") || r.starts_with("refs/tags/")) && r.len() > 11;
        (!ok)
            .then(|| format!("{r:?} is not a ref such as \"refs/tags/v*\" or \"refs/heads/main\"."))
    }

    pub fn ecr_repository_arn(arn: &str) -> Option<String> {
        (!arn_of(arn, "ecr", "repository/")).then(|| format!("{arn:?} is not an ECR repository ARN such as \"arn:aws:ecr:ap-northeast-2:123456789012:repository/fansite-api\"."))
    }

    pub fn bucket_arn(arn: &str) -> Option<String> {
        let ok = arn.starts_with("arn:aws")
            && arn.split(':').nth(2) == Some("s3")
            && arn
                .split(":::")
                .nth(1)
                .is_some_and(|b| !b.is_empty() && !b.contains('/'));
        (!ok).then(|| {
            format!("{arn:?} is not an S3 bucket ARN such as \"arn:aws:s3:::fansite-site\".")
        })
    }

    pub fn distribution_arn(arn: &str) -> Option<String> {
        (!arn_of(arn, "cloudfront", "distribution/")).then(|| format!("{arn:?} is not a CloudFront distribution ARN such as \"arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL\"."))
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let Some(pipelines) = config.get("pipeline").as_list() else {
        return;
    };
    if pipelines.is_empty() && !config.get("pipeline").is_unknown() {
        diags.attr_error(
            AttrPath::attr("name"),
            "No pipeline",
            "Give at least one pipeline {} block: the role a release workflow assumes.",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, p) in pipelines.iter().enumerate() {
        let at = |a: &str| AttrPath::attr("pipeline").then_index(i).then_attr(a);
        if let Some(name) = p.get("name").as_str() {
            if !seen.insert(name.to_string()) {
                diags.attr_error(
                    at("name"),
                    "Duplicate pipeline",
                    format!("Two pipelines are named {name:?}: each names its own role."),
                );
            }
        }
        let grants = ["ecr_repository_arns", "bucket_arns", "distribution_arns"];
        let unknown = grants.iter().any(|g| p.get(g).has_unknown());
        let none = grants
            .iter()
            .all(|g| p.get(g).as_list().is_none_or(<[Dyn]>::is_empty));
        if none && !unknown && !p.is_unknown() {
            diags.attr_error(at("repository"), "A pipeline that may do nothing", "Give the pipeline what it deploys: ecr_repository_arns (the API's image), or bucket_arns and distribution_arns (the site).");
        }
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            }
        }
    }
}
