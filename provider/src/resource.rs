//! The interface every composite resource implements, and the plan engine that
//! is the same for all of them. Nothing here knows the plugin protocol.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::Aws;
use crate::diag::{AttrPath, Diags};
use crate::schema::{Mode, Schema};
use crate::value::Dyn;

/// One composite resource: `fansite_<name>`.
///
/// Every method gets and returns whole objects of the resource's schema.
/// `create` and `update` return `Some(state)` whenever anything was made,
/// even with errors in `diags`: that partial state is what lets the next
/// apply resume and `terraform destroy` clean up.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The name after `fansite_`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks the configuration without calling AWS. Unknown values pass.
    fn validate(&self, config: &Dyn, diags: &mut Diags);

    /// Fills in what the plan can know: defaults that need AWS (may be `None`
    /// when the provider is not configured yet), derived inputs, and which
    /// outputs become unknown. `planned` already has schema defaults applied,
    /// prior computed values carried over, and new computed values unknown.
    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn;

    /// Replace triggers beyond the `force_new` attributes (a change inside a map, say).
    fn replace_paths(&self, prior: &Dyn, planned: &Dyn) -> Vec<AttrPath> {
        let _ = (prior, planned);
        Vec::new()
    }

    /// Checks a planned replacement before Terraform shows it: a warning when
    /// the old object's data goes with it, an error when deletion protection
    /// would stop the destroy half. `paths` are the attributes forcing it.
    fn check_replace(&self, prior: &Dyn, planned: &Dyn, paths: &[AttrPath], diags: &mut Diags) {
        let _ = (prior, planned, paths, diags);
    }

    /// Checks a planned destroy (e.g. deletion protection). Default: allowed.
    fn plan_destroy(&self, prior: &Dyn, diags: &mut Diags) {
        let _ = (prior, diags);
    }

    async fn create(&self, aws: &Aws, planned: &Dyn, diags: &mut Diags) -> Option<Dyn>;

    /// `None`: the primary part is gone, and the resource leaves state.
    async fn read(&self, aws: &Aws, state: &Dyn, diags: &mut Diags) -> Option<Dyn>;

    async fn update(&self, aws: &Aws, prior: &Dyn, planned: &Dyn, diags: &mut Diags)
        -> Option<Dyn>;

    /// Removes every part; parts already gone are not an error.
    async fn delete(&self, aws: &Aws, state: &Dyn, diags: &mut Diags);

    /// A state from an import id; `read` then refreshes it.
    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<Dyn>;

    /// The resource's identity (Terraform 1.12): what names its object in
    /// AWS. `None`: it has none.
    fn identity(&self) -> Option<Identity> {
        None
    }

    /// Import ids of every object of this type the provider made in the
    /// region, for `terraform query` (Terraform 1.14).
    async fn list(&self, aws: &Aws, diags: &mut Diags) -> Option<Vec<String>> {
        let _ = (aws, diags);
        None
    }
}

pub type SharedResource = Arc<dyn Resource>;

/// A resource's identity: `region` (when `regional`, the provider's region,
/// which `import { identity }` may leave out) and its own attributes, all
/// strings and all needed to import.
#[derive(Clone, Copy)]
pub struct Identity {
    pub regional: bool,
    /// Name and description of each attribute beside `region`.
    pub attributes: &'static [(&'static str, &'static str)],
    /// The attributes' values from a state, in order; `None` while not known.
    pub of_state: fn(&Dyn) -> Option<Vec<String>>,
    /// The import id that the attributes' values stand for.
    pub import_id: fn(&[String]) -> String,
}

impl Identity {
    /// The identity of a state as an object, or `None` while not all known.
    pub fn value(&self, region: &str, state: &Dyn) -> Option<Dyn> {
        let values = (self.of_state)(state)?;
        if values.len() != self.attributes.len() || values.iter().any(String::is_empty) {
            return None;
        }
        let mut out = Dyn::obj();
        if self.regional {
            out.set("region", Dyn::String(region.to_string()));
        }
        for ((name, _), v) in self.attributes.iter().zip(values) {
            out.set(name, Dyn::String(v));
        }
        Some(out)
    }

    /// The import id an `import { identity = {...} }` stands for, checked
    /// against the provider's region.
    pub fn import_id_of(&self, region: &str, identity: &Dyn, diags: &mut Diags) -> Option<String> {
        if self.regional {
            if let Some(r) = identity.get("region").as_str().filter(|r| *r != region) {
                diags.attr_error(
                    AttrPath::attr("region"),
                    "Identity in another region",
                    format!("The identity names region {r:?}, and this provider works in {region:?}: import it with a provider configured for {r:?}."),
                );
                return None;
            }
        }
        let mut values = Vec::new();
        for (name, _) in self.attributes {
            match identity.get(name).as_str().filter(|v| !v.is_empty()) {
                Some(v) => values.push(v.to_string()),
                None => {
                    diags.attr_error(
                        AttrPath::attr(name),
                        "Missing identity attribute",
                        format!("Importing by identity needs {name:?}."),
                    );
                    return None;
                }
            }
        }
        Some((self.import_id)(&values))
    }
}

/// The result of planning one change.
pub struct Plan {
    pub planned: Dyn,
    pub requires_replace: Vec<AttrPath>,
}

/// Plans a create (`prior` is `None`) or an update, the same way for every resource:
/// schema defaults, prior computed values kept, new computed values unknown,
/// then the resource's own `plan`, then the replace triggers from `force_new`.
pub async fn plan_change(
    resource: &dyn Resource,
    aws: Option<&Aws>,
    prior: Option<&Dyn>,
    proposed: &Dyn,
    config: &Dyn,
    diags: &mut Diags,
) -> Plan {
    let schema = resource.schema();
    let mut planned = schema.block.conform(proposed);
    for a in &schema.block.attributes {
        let configured = config.get(a.name);
        if a.mode == Mode::OptionalComputed && configured.is_null() {
            if let Some(default) = &a.default {
                planned.set(a.name, default.clone());
            }
        }
    }
    planned = fill_block_defaults(&schema.block, planned, config);
    // Replacing: the outputs of the new object are not known yet.
    let replacing = prior.is_some_and(|prior| {
        schema
            .block
            .attributes
            .iter()
            .any(|a| a.force_new && planned.get(a.name) != prior.get(a.name))
    });
    let prior_for_plan = if replacing { None } else { prior };
    for a in &schema.block.attributes {
        if a.mode == Mode::Computed && prior_for_plan.is_none() {
            planned.set(a.name, Dyn::Unknown);
        }
    }
    let mut planned = resource
        .plan(aws, prior_for_plan, planned, config, diags)
        .await;
    // What the resource's plan left null but can compute becomes unknown.
    for a in &schema.block.attributes {
        if a.is_computed()
            && config.get(a.name).is_null()
            && planned.get(a.name).is_null()
            && prior_for_plan.is_none()
        {
            planned.set(a.name, Dyn::Unknown);
        }
    }
    let requires_replace = match prior {
        Some(prior) => {
            let mut paths: Vec<AttrPath> = schema
                .block
                .attributes
                .iter()
                .filter(|a| a.force_new && planned.get(a.name) != prior.get(a.name))
                .map(|a| AttrPath::attr(a.name))
                .collect();
            paths.extend(resource.replace_paths(prior, &planned));
            paths
        }
        None => Vec::new(),
    };
    if let (Some(prior), false) = (prior, requires_replace.is_empty()) {
        resource.check_replace(prior, &planned, &requires_replace, diags);
    }
    Plan {
        planned: schema.block.conform(&planned),
        requires_replace,
    }
}

/// Inside nested blocks: attributes with a default that the configuration
/// leaves out get it (Terraform itself never fills in a nested block's
/// defaults, and proposes the prior value of an optional and computed one, so
/// that a value drifted away from the default would otherwise stay).
fn fill_block_defaults(block: &crate::schema::Block, mut value: Dyn, config: &Dyn) -> Dyn {
    for b in &block.blocks {
        let Some(items) = value.get(b.name).as_list() else {
            continue;
        };
        let configured = config.get(b.name).as_list().unwrap_or_default();
        let items: Vec<Dyn> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                if item.is_unknown() {
                    return item.clone();
                }
                let config_item = configured.get(i).cloned().unwrap_or(Dyn::Null);
                let mut item = item.clone();
                for a in &b.block.attributes {
                    let left_out = config_item.get(a.name).is_null() && !config_item.is_unknown();
                    if let (Some(default), true) =
                        (&a.default, item.get(a.name).is_null() || left_out)
                    {
                        item.set(a.name, default.clone());
                    }
                }
                fill_block_defaults(&b.block, item, &config_item)
            })
            .collect();
        value.set(b.name, Dyn::List(items));
    }
    value
}

/// The `timeouts` block's value for `op` (`create`, `update`, `delete`), or the default.
pub fn timeout(state: &Dyn, op: &str, default: Duration) -> Duration {
    state
        .get("timeouts")
        .as_list()
        .and_then(|l| l.first())
        .and_then(|t| t.get(op).as_str())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// Parses Go-style durations as Terraform users write them: `90s`, `30m`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut total = 0u64;
    let mut num = String::new();
    let mut saw_unit = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a duration like \"30m\" or \"1h30m\""))?;
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "{s:?} has unit {c:?}; use h, m or s, as in \"1h30m\""
                ))
            }
        };
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
        saw_unit = true;
    }
    if !num.is_empty() || !saw_unit {
        return Err(format!("{s:?} is not a duration like \"30m\" or \"1h30m\""));
    }
    Ok(Duration::from_secs(total))
}

/// Validates the `timeouts` block's values.
pub fn validate_timeouts(config: &Dyn, diags: &mut Diags) {
    let Some(blocks) = config.get("timeouts").as_list() else {
        return;
    };
    for (i, block) in blocks.iter().enumerate() {
        for op in ["create", "update", "delete"] {
            if let Some(s) = block.get(op).as_str() {
                if let Err(why) = parse_duration(s) {
                    diags.attr_error(
                        AttrPath::attr("timeouts").then_index(i).then_attr(op),
                        "Invalid duration",
                        why,
                    );
                }
            }
        }
    }
}

/// `tags_all`: the provider's default tags overlaid with the resource's own.
pub fn merge_tags(default_tags: &BTreeMap<String, String>, tags: &Dyn) -> Dyn {
    if tags.has_unknown() {
        return Dyn::Unknown;
    }
    let mut all = default_tags.clone();
    all.extend(tags.string_map());
    Dyn::from_string_map(all.iter())
}

#[cfg(test)]
#[path = "resource_tests.rs"]
mod tests;
