//! The composite resources, one folder each.

pub mod auth;
pub mod database;
pub mod edge;
pub mod network;
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
    ]
}
