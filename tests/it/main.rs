//! End-to-end tests: real Terraform, the provider from the local mirror, and a
//! local AWS endpoint. Each test runs on every Terraform version found.

mod auth;
mod database;
mod edge;
mod fault_proxy;
mod gen;
mod harness;
mod network;
mod provider;
mod service;
