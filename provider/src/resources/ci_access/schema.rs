use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema, Ty};

use super::rules;
use super::state::{DEFAULT_MAX_SESSION_HOURS, DEFAULT_REF};

pub fn schema() -> Schema {
    let pipeline = Block {
        description: "A role that the GitHub Actions workflows of one repository, on matching refs, may assume through OpenID Connect, with only the permissions its pipeline needs.".into(),
        attributes: vec![
            Attribute::required("name", Ty::String, "Name of the pipeline, such as `api` or `site`; its role is `<name>-<pipeline name>`. Letters, digits and `-`.").rule(rules::pipeline_name, "letters, digits and `-`"),
            Attribute::required("repository", Ty::String, "The GitHub repository whose workflows may assume the role, `owner/name`.").rule(rules::repository, "a GitHub repository, `owner/name`"),
            Attribute::optional_computed("refs", Ty::list_of_strings(), &format!("Git refs whose workflow runs may assume the role, as GitHub's token names them in `sub` (`*` matches any characters): default `[\"{DEFAULT_REF}\"]`, pushed version tags only, so a branch or a pull request cannot deploy.")).default(crate::value::Dyn::from_strings([DEFAULT_REF])).rule(rules::git_ref, "refs starting with `refs/heads/` or `refs/tags/`"),
            Attribute::optional("ecr_repository_arns", Ty::list_of_strings(), "ECR repositories the role may push images to (a build's `docker push`).").rule(rules::ecr_repository_arn, "ECR repository ARNs"),
            Attribute::optional("bucket_arns", Ty::list_of_strings(), "S3 buckets whose objects the role may list, write and delete (`aws s3 sync --delete`), such as a fansite_edge's `bucket_arn`.").rule(rules::bucket_arn, "S3 bucket ARNs (`arn:aws:s3:::<bucket>`)"),
            Attribute::optional("distribution_arns", Ty::list_of_strings(), "CloudFront distributions the role may invalidate, such as a fansite_edge's `distribution_arn`.").rule(rules::distribution_arn, "CloudFront distribution ARNs"),
        ],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: format!("Access to AWS for the release pipelines, without keys: the account's OpenID Connect provider for GitHub Actions (`{}`, made when the account has none, used when it has), and one IAM role per pipeline that only a workflow of its repository on its refs can assume, allowed only what that pipeline does: the API's push its image, the site's write its bucket and invalidate its distribution.", super::state::ISSUER),
            attributes: vec![
                Attribute::required("name", Ty::String, "Prefix of the roles' names: `<name>-<pipeline name>`. Letters, digits, `-` and `_`. Changing it replaces every role.").force_new().rule(rules::name, "letters, digits, `-` and `_`, at most 40"),
                Attribute::optional_computed("max_session_hours", Ty::Number, &format!("Longest session a workflow gets from a role, in hours (default {DEFAULT_MAX_SESSION_HOURS}).")).default(DEFAULT_MAX_SESSION_HOURS).range(1, 12),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for the roles and a provider this resource makes, on top of the provider's `default_tags`."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the roles: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("oidc_provider_arn", Ty::String, "ARN of the account's OpenID Connect provider for GitHub Actions."),
                Attribute::computed("oidc_provider_made", Ty::Bool, "Whether this resource made the provider. Only then does destroy delete it, and only when no other role trusts it: there is one such provider per account."),
                Attribute::computed("role_arns", Ty::map_of_strings(), "ARN of each pipeline's role, by pipeline name: the workflow's `role-to-assume`."),
            ],
            blocks: vec![NestedBlock {
                name: "pipeline",
                nesting: Nesting::List,
                block: pipeline,
            }],
        },
    }
}
