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
}
