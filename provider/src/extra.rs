//! What the provider serves beside resources: ephemeral resources (Terraform
//! 1.10) and actions (Terraform 1.14). Like [`crate::resource::Resource`],
//! nothing here knows the plugin protocol; `tf.rs` serves them.

use std::sync::Arc;

use async_trait::async_trait;

use crate::aws::Aws;
use crate::diag::Diags;
use crate::schema::Schema;
use crate::value::Dyn;

/// `fansite_<name>` as an ephemeral resource: a value opened for one run,
/// never written to plan or state.
#[async_trait]
pub trait Ephemeral: Send + Sync + 'static {
    /// The name after `fansite_`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks the configuration without calling AWS. Unknown values pass.
    fn validate(&self, config: &Dyn, diags: &mut Diags);

    /// The value, an object of the schema (inputs as configured, results filled in).
    async fn open(&self, aws: &Aws, config: &Dyn, diags: &mut Diags) -> Option<Dyn>;
}

/// Where an action's progress goes: each message is shown at once.
pub type Progress<'a> = &'a (dyn Fn(String) + Send + Sync);

/// `fansite_<name>` as an action: does a thing without a resource change,
/// from `action_trigger` or `terraform apply -invoke`.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    /// The name after `fansite_`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks the configuration without calling AWS. Unknown values pass.
    fn validate(&self, config: &Dyn, diags: &mut Diags);

    /// Does it, and waits until it is done; errors go to `diags`.
    async fn invoke(&self, aws: &Aws, config: &Dyn, progress: Progress<'_>, diags: &mut Diags);
}

pub type SharedEphemeral = Arc<dyn Ephemeral>;
pub type SharedAction = Arc<dyn Action>;
