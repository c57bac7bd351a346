//! The composite resources, one folder each.

pub mod auth;
pub mod database;
pub mod edge;
pub mod network;
pub mod service;

use std::sync::Arc;

use crate::resource::SharedResource;

/// Every resource this provider serves.
pub fn all() -> Vec<SharedResource> {
    vec![
        Arc::new(network::NetworkResource),
        Arc::new(auth::AuthResource),
        Arc::new(database::DatabaseResource),
        Arc::new(edge::EdgeResource),
        Arc::new(service::ServiceResource),
    ]
}
