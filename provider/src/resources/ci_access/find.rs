//! Reading a fansite_ci_access back from AWS: the provider, and each
//! pipeline's role with its trust and permissions.

use std::collections::BTreeMap;

use crate::aws::{iam, owned, Aws};
use crate::error::Result;
use crate::resources::{null_if_unset, own_tags};

use super::state::{trusts, CiAccessState, Pipeline, POLICY};
use super::OWNER_KIND;

/// The resource as AWS has it, from the pipelines in `hints`; `None` when
/// none of its roles is left and it made no provider that is left.
pub async fn find(aws: &Aws, hints: &CiAccessState) -> Result<Option<CiAccessState>> {
    let c = &aws.iam;
    let owner = crate::aws::owner(OWNER_KIND, &hints.name, &aws.region);
    let provider = iam::github_oidc_provider(c).await?;
    let mut found = hints.clone();
    let (provider_arn, made) = match &provider {
        Some((arn, tag)) => (Some(arn.clone()), owned(tag.as_deref(), &owner)),
        None => (None, false),
    };
    found.oidc_provider_arn = provider_arn.clone();
    found.oidc_provider_made = made;
    let mut arns = BTreeMap::new();
    let mut pipelines = Vec::new();
    let mut tags_all = None;
    for p in &hints.pipeline {
        let name = hints.role_name(&p.name);
        let Some(role) = iam::describe_role(c, &name).await? else {
            pipelines.push(p.clone());
            continue;
        };
        if role.tags.get(crate::aws::OWNER_TAG) != Some(&owner) {
            // A role of that name that is not ours is not this pipeline's.
            pipelines.push(p.clone());
            continue;
        }
        arns.insert(p.name.clone(), role.arn.clone());
        found.max_session_hours = i64::from(role.max_session_seconds / 3600);
        let mut read = p.clone();
        match Pipeline::from_trust(&role.trust) {
            Some((repository, refs))
                if provider_arn
                    .as_deref()
                    .is_some_and(|arn| trusts(&role.trust, arn)) =>
            {
                read.repository = repository;
                read.refs = refs;
            }
            // A trust policy that is not the one this resource writes: drift.
            _ => read.refs = Vec::new(),
        }
        let policy = iam::inline_policy(c, &name, POLICY)
            .await?
            .unwrap_or_default();
        read.set_from_policy(&policy);
        // What the policy grants, null where neither it nor the configuration names any.
        read.ecr_repository_arns = null_if_unset(
            &p.ecr_repository_arns,
            read.ecr_repository_arns.unwrap_or_default(),
        );
        read.bucket_arns = null_if_unset(&p.bucket_arns, read.bucket_arns.unwrap_or_default());
        read.distribution_arns = null_if_unset(
            &p.distribution_arns,
            read.distribution_arns.unwrap_or_default(),
        );
        pipelines.push(read);
        let mut t = role.tags.clone();
        t.remove(crate::aws::OWNER_TAG);
        tags_all.get_or_insert(t);
    }
    if arns.is_empty() && !(made && hints.oidc_provider_arn.is_some()) {
        return Ok(None);
    }
    found.pipeline = pipelines;
    found.role_arns = Some(arns);
    if let Some(t) = tags_all {
        found.tags = null_if_unset(&hints.tags, own_tags(&t, &aws.default_tags));
        found.tags_all = t;
    }
    Ok(Some(found))
}

/// The pipelines of the roles named `<name>-…` that are this resource's, for import.
pub async fn pipelines_named(aws: &Aws, name: &str) -> Result<Vec<Pipeline>> {
    let c = &aws.iam;
    let owner = crate::aws::owner(OWNER_KIND, name, &aws.region);
    let prefix = format!("{name}-");
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .list_roles()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| crate::aws::aws_error("listing", "IAM roles", e))?;
        for r in page.roles() {
            let Some(pipeline) = r.role_name().strip_prefix(&prefix) else {
                continue;
            };
            if let Some(role) = iam::describe_role(c, r.role_name()).await? {
                if role.tags.get(crate::aws::OWNER_TAG) == Some(&owner) {
                    out.push(Pipeline {
                        name: pipeline.to_string(),
                        ..Pipeline::default()
                    });
                }
            }
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            out.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(out);
        }
    }
}
