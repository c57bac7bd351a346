// fansite patch (see PATCHED.md): what protocol 6.7 to 6.10 add beside
// managed resources, data sources and functions. These traits take and give
// `RawValue`s: the implementer decodes them with `RawValue::deserialize`.

//! Ephemeral resources (6.7), list resources (6.10) and actions (6.10)

use std::time::SystemTime;

use async_trait::async_trait;

use crate::raw::RawValue;
use crate::schema::Schema;
use crate::Diagnostics;

/// What Terraform says it supports (`ClientCapabilities`)
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ClientCapabilities {
    /// Terraform can take a deferred response
    pub deferral_allowed: bool,
    /// Terraform knows write-only attributes (Terraform 1.11 and later)
    pub write_only_attributes_allowed: bool,
}

impl From<Option<crate::tfplugin6::ClientCapabilities>> for ClientCapabilities {
    fn from(value: Option<crate::tfplugin6::ClientCapabilities>) -> Self {
        value
            .map(|c| Self {
                deferral_allowed: c.deferral_allowed,
                write_only_attributes_allowed: c.write_only_attributes_allowed,
            })
            .unwrap_or_default()
    }
}

/// What an opened ephemeral resource gives back
#[derive(Clone, Debug, Default)]
pub struct Opened {
    /// The value, of the ephemeral resource's schema
    pub result: RawValue,
    /// Kept by Terraform for renew and close; never in state
    pub private: Option<Vec<u8>>,
    /// When Terraform should call `renew`, if at all
    pub renew_at: Option<SystemTime>,
}

/// An ephemeral resource (protocol 6.7, Terraform 1.10): a value opened for
/// one run, never written to plan or state
#[async_trait]
pub trait DynamicEphemeralResource: Send + Sync {
    /// Schema of the ephemeral resource
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration (values may be unknown)
    async fn validate(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Open the resource for this run
    async fn open(
        &self,
        diags: &mut Diagnostics,
        config: RawValue,
        capabilities: ClientCapabilities,
    ) -> Option<Opened>;

    /// Renew it (when `open` gave a `renew_at`); returns the next `renew_at`
    /// and private data
    async fn renew(
        &self,
        diags: &mut Diagnostics,
        private: Option<Vec<u8>>,
    ) -> Option<(Option<SystemTime>, Option<Vec<u8>>)> {
        _ = diags;
        Some((None, private))
    }

    /// Close it at the end of the run
    async fn close(&self, diags: &mut Diagnostics, private: Option<Vec<u8>>) -> Option<()> {
        _ = (diags, private);
        Some(())
    }
}

/// One object found by a list resource
#[derive(Clone, Debug, Default)]
pub struct Listed {
    /// Its identity, of the managed resource's identity schema
    pub identity: RawValue,
    /// A name for people
    pub display_name: String,
    /// Its whole state, when Terraform asked for it
    pub resource_object: Option<RawValue>,
    /// Warnings or errors about this object
    pub diags: Diagnostics,
}

/// A list resource (protocol 6.10, Terraform 1.14 `terraform query`): finds
/// existing objects of the managed resource type of the same name
#[async_trait]
pub trait DynamicListResource: Send + Sync {
    /// Schema of the `config` block of a `list` block
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration
    async fn validate(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Find the objects; at most `limit` of them
    async fn list(
        &self,
        diags: &mut Diagnostics,
        config: RawValue,
        include_resource_object: bool,
        limit: i64,
    ) -> Vec<Listed>;
}

/// Progress messages an action sends while it runs
pub type Progress = tokio::sync::mpsc::UnboundedSender<String>;

/// An action (Terraform 1.14): does a thing without a resource change, from
/// `action_trigger` or `terraform apply -invoke`
#[async_trait]
pub trait DynamicAction: Send + Sync {
    /// Schema of the action's `config` block
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration (values may be unknown)
    async fn validate(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Check the action at plan time
    async fn plan(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Do it; each message sent on `progress` is shown to the user at once
    async fn invoke(&self, diags: &mut Diagnostics, config: RawValue, progress: Progress);
}
