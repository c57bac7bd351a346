//! The fansite Terraform provider: composite AWS resources for a fan community site.
//!
//! Codemap: `tf` speaks the plugin protocol; `resource`, `schema`, `value` and
//! `diag` are the provider's own interface; `aws` holds every AWS SDK call;
//! `resources` the composite resources; `docs` renders the schema to Markdown.

pub mod aws;
pub mod config;
pub mod ctx;
pub mod diag;
pub mod docs;
pub mod driver;
pub mod error;
pub mod extra;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod tf;
pub mod typed;
pub mod value;

#[cfg(test)]
mod seams_tests;
