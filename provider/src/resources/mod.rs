//! The composite resources, one folder each.

pub mod auth;
pub mod bastion;
pub mod ci_access;
pub mod database;
pub mod edge;
pub mod network;
pub mod observability;
pub mod service;

use std::sync::Arc;

use crate::driver::Driver;
use crate::resource::SharedResource;

/// Every resource this provider serves.
pub fn all() -> Vec<SharedResource> {
    vec![
        Arc::new(Driver(network::NetworkResource)),
        Arc::new(Driver(auth::AuthResource)),
        Arc::new(Driver(database::DatabaseResource)),
        Arc::new(Driver(edge::EdgeResource)),
        Arc::new(Driver(service::ServiceResource)),
        Arc::new(Driver(observability::ObservabilityResource)),
        Arc::new(Driver(ci_access::CiAccessResource)),
        Arc::new(Driver(bastion::BastionResource)),
    ]
}

/// Everything this provider serves: resources, ephemeral resources, actions.
pub fn served() -> crate::tf::Served {
    crate::tf::Served {
        resources: all(),
        ephemerals: vec![Arc::new(database::credentials::DatabaseCredentials)],
        actions: vec![
            Arc::new(edge::invalidate::EdgeInvalidate),
            Arc::new(service::redeploy::ServiceRedeploy),
        ],
    }
}

pub use crate::aws::Tags;

/// An `allow_to {}` item of a service or a bastion: a security group its
/// own group may reach, on a TCP port (the rule is added to that group).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AllowTo {
    pub security_group_id: String,
    pub port: i32,
}

impl Default for AllowTo {
    fn default() -> Self {
        AllowTo {
            security_group_id: String::new(),
            port: 3306,
        }
    }
}

/// The ids AWS lists, in the configured order when they are the same set
/// (sorted when they differ), so that a set read back shows no false change.
pub fn in_configured_order(configured: &[String], mut found: Vec<String>) -> Vec<String> {
    let mut want = configured.to_vec();
    want.sort();
    found.sort();
    if want == found {
        configured.to_vec()
    } else {
        found
    }
}

/// What AWS has, or null when the configuration left it unset and AWS has
/// nothing: an optional list, map or tag set that was not set stays null
/// rather than turning empty.
pub fn null_if_unset<T: Default + PartialEq>(hint: &Option<T>, found: T) -> Option<T> {
    if hint.is_none() && found == T::default() {
        None
    } else {
        Some(found)
    }
}

/// The resource's own tags: those of `tags_all` that the provider's
/// `default_tags` do not supply with the same value.
pub fn own_tags(tags_all: &Tags, default_tags: &Tags) -> Tags {
    tags_all
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Rules for AWS ids, declared on the attributes that take them (`Attribute::rule`).
pub mod ids {
    fn id(s: &str, prefix: &str, what: &str) -> Option<String> {
        (!s.starts_with(prefix))
            .then(|| format!("{s:?} is not a {what} such as \"{prefix}0123456789abcdef0\"."))
    }

    pub fn vpc(s: &str) -> Option<String> {
        id(s, "vpc-", "VPC ID")
    }

    pub fn subnet(s: &str) -> Option<String> {
        id(s, "subnet-", "subnet ID")
    }

    pub fn security_group(s: &str) -> Option<String> {
        id(s, "sg-", "security group ID")
    }

    /// `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`.
    pub fn secret_arn(arn: &str) -> Option<String> {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        let ok = parts.len() == 7
            && parts[0] == "arn"
            && parts[2] == "secretsmanager"
            && parts[5] == "secret"
            && !parts[6].is_empty();
        (!ok).then(|| format!("{arn:?} is not a Secrets Manager secret ARN such as a fansite_service's origin_secret_arn or a fansite_database's connection_secret_arn (\"arn:aws:secretsmanager:<region>:<account>:secret:<name>\")."))
    }
}

/// Plan-time check of the subnets given to each attribute of `given`: each
/// exists, each attribute's span two zones at least (`two_zones` says why
/// they must), and each is in `vpc`. One DescribeSubnets for all of them.
pub async fn check_subnets(
    aws: &crate::aws::Aws,
    vpc: &str,
    given: &[(&str, Vec<String>)],
    two_zones: &str,
    diags: &mut crate::diag::Diags,
) {
    use crate::diag::AttrPath;
    let all: Vec<String> = given.iter().flat_map(|(_, ids)| ids.clone()).collect();
    if all.is_empty() {
        return;
    }
    let places = match crate::aws::ec2::subnet_places(&aws.ec2, &all).await {
        Ok(p) => p,
        Err(e) => {
            for (attr, _) in given {
                diags.attr_error(
                    AttrPath::attr(attr),
                    "Unknown subnet",
                    format!("{e}; use the IDs of existing subnets, such as a fansite_network's subnet IDs."),
                );
            }
            return;
        }
    };
    for (attr, ids) in given {
        for id in ids {
            match places.get(id) {
                None => diags.attr_error(
                    AttrPath::attr(attr),
                    "Unknown subnet",
                    format!("Subnet {id} was not found in {}.", aws.region),
                ),
                Some(p) if p.vpc != vpc => diags.attr_error(
                    AttrPath::attr(attr),
                    "Subnet outside the VPC",
                    format!("Subnet {id} is in {}, not in vpc_id {vpc}.", p.vpc),
                ),
                Some(_) => {}
            }
        }
        let mut zones: Vec<&str> = ids
            .iter()
            .filter_map(|id| places.get(id))
            .map(|p| p.zone.as_str())
            .collect();
        let found = zones.len();
        zones.sort_unstable();
        zones.dedup();
        if found == ids.len() && zones.len() < 2 {
            diags.attr_error(
                AttrPath::attr(attr),
                "Subnets in one availability zone",
                format!(
                    "{two_zones}; these are all in {}.",
                    zones.first().copied().unwrap_or("one zone")
                ),
            );
        }
    }
}
