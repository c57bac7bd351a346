//! The plugin protocol, through the `tf-provider` crate. This is the only file
//! that names its types: everything else speaks `Dyn`, `Diags` and `Schema`
//! from this crate, so the protocol layer can be replaced here alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute as TfAttribute, AttributeConstraint, AttributeType, Block as TfBlock, Description,
    NestedBlock as TfNestedBlock, Schema as TfSchema,
};
use tf_provider::schema::{IdentityAttribute, IdentitySchema};
use tf_provider::{
    AttributePath, ClientCapabilities, Diagnostic, Diagnostics, DynamicAction,
    DynamicEphemeralResource, DynamicListResource, DynamicResource, Listed, Opened, Provider,
    RawValue, Resource as TfResource,
};
use tokio::sync::RwLock;

use crate::aws::Aws;
use crate::config::{parse_provider_config, provider_schema};
use crate::ctx::StopSignal;
use crate::diag::{AttrPath, Diags, Severity, Step};
use crate::extra::{SharedAction, SharedEphemeral};
use crate::resource::Identity;
use crate::resource::{plan_change, SharedResource};
use crate::schema::{Block, Mode, Nesting, Schema, Ty};
use crate::value::Dyn;

/// The provider's name: resources are `fansite_<name>`.
pub const PROVIDER_NAME: &str = "fansite";

/// What the provider serves.
#[derive(Default)]
pub struct Served {
    pub resources: Vec<SharedResource>,
    pub ephemerals: Vec<SharedEphemeral>,
    pub actions: Vec<SharedAction>,
}

/// Serves the provider until Terraform stops it.
pub async fn serve(served: Served) -> Result<(), String> {
    let aws = Arc::new(RwLock::new(None));
    let provider = FansiteProvider {
        aws,
        resources: served.resources,
        ephemerals: served.ephemerals,
        actions: served.actions,
        stop: StopSignal::new(),
    };
    tf_provider::serve(PROVIDER_NAME, provider)
        .await
        .map_err(|e| e.to_string())
}

type SharedAws = Arc<RwLock<Option<Arc<Aws>>>>;

struct FansiteProvider {
    aws: SharedAws,
    resources: Vec<SharedResource>,
    ephemerals: Vec<SharedEphemeral>,
    actions: Vec<SharedAction>,
    /// Fired by Terraform's StopProvider (Ctrl-C): in-flight operations end
    /// and return the state made so far.
    stop: StopSignal,
}

/// A Terraform value on the wire (msgpack or JSON). tf-provider's own dynamic
/// value has no fractional numbers, so a `1.5` would fail to decode before any
/// attribute check could name it; this one keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ValueAny {
    String(String),
    Number(i64),
    Float(f64),
    Bool(bool),
    List(Vec<ValueAny>),
    Map(BTreeMap<String, ValueAny>),
    Null,
    #[serde(with = "unknown")]
    Unknown,
}

/// Terraform's "unknown" is msgpack extension 0, which rmp-serde presents as
/// the newtype struct `_ExtStruct`.
mod unknown {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename = "_ExtStruct")]
    struct ExtStruct((i8, serde_bytes::ByteBuf));

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        ExtStruct((0, serde_bytes::ByteBuf::new())).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        ExtStruct::deserialize(d).map(|_| ())
    }
}

/// Largest float that is still a whole i64 (2^63).
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

fn to_dyn(v: ValueAny) -> Dyn {
    match v {
        ValueAny::Null => Dyn::Null,
        ValueAny::Unknown => Dyn::Unknown,
        ValueAny::Bool(b) => Dyn::Bool(b),
        ValueAny::Number(n) => Dyn::Number(n),
        #[allow(clippy::cast_possible_truncation)]
        ValueAny::Float(f) if f.fract() == 0.0 && f.abs() < I64_BOUND => Dyn::Number(f as i64),
        ValueAny::Float(f) => Dyn::Float(f),
        ValueAny::String(s) => Dyn::String(s),
        ValueAny::List(items) => Dyn::List(items.into_iter().map(to_dyn).collect()),
        ValueAny::Map(m) => Dyn::Map(m.into_iter().map(|(k, v)| (k, to_dyn(v))).collect()),
    }
}

fn from_dyn(v: &Dyn) -> ValueAny {
    match v {
        Dyn::Null => ValueAny::Null,
        Dyn::Unknown => ValueAny::Unknown,
        Dyn::Bool(b) => ValueAny::Bool(*b),
        Dyn::Number(n) => ValueAny::Number(*n),
        Dyn::Float(f) => ValueAny::Float(*f),
        Dyn::String(s) => ValueAny::String(s.clone()),
        Dyn::List(items) => ValueAny::List(items.iter().map(from_dyn).collect()),
        Dyn::Map(m) => ValueAny::Map(m.iter().map(|(k, v)| (k.clone(), from_dyn(v))).collect()),
    }
}

fn to_tf_type(t: &Ty) -> AttributeType {
    match t {
        Ty::String => AttributeType::String,
        Ty::Number => AttributeType::Number,
        Ty::Bool => AttributeType::Bool,
        Ty::List(t) => AttributeType::List(Box::new(to_tf_type(t))),
        Ty::Set(t) => AttributeType::Set(Box::new(to_tf_type(t))),
        Ty::Map(t) => AttributeType::Map(Box::new(to_tf_type(t))),
        Ty::Object(fields) => AttributeType::Object(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), to_tf_type(t)))
                .collect(),
        ),
    }
}

fn to_tf_block(b: &Block) -> TfBlock {
    let attributes = b
        .attributes
        .iter()
        .map(|a| {
            let constraint = match a.mode {
                Mode::Required => AttributeConstraint::Required,
                Mode::Optional => AttributeConstraint::Optional,
                Mode::OptionalComputed => AttributeConstraint::OptionalComputed,
                Mode::Computed => AttributeConstraint::Computed,
            };
            (
                a.name.to_string(),
                TfAttribute {
                    attr_type: to_tf_type(&a.ty),
                    description: Description::markdown(&a.description),
                    constraint,
                    sensitive: a.sensitive,
                    deprecated: a.deprecated.is_some(),
                    deprecation_message: a.deprecated.unwrap_or_default().to_string(),
                    write_only: a.write_only,
                },
            )
        })
        .collect();
    let blocks = b
        .blocks
        .iter()
        .map(|nb| {
            let inner = to_tf_block(&nb.block);
            let nested = match nb.nesting {
                Nesting::OptionalSingle => TfNestedBlock::Optional(inner),
                Nesting::List => TfNestedBlock::List(inner),
            };
            (nb.name.to_string(), nested)
        })
        .collect::<HashMap<_, _>>();
    TfBlock {
        version: 1,
        attributes,
        blocks,
        description: Description::markdown(&b.description),
        deprecated: false,
        deprecation_message: String::new(),
    }
}

fn to_tf_schema(s: &Schema) -> TfSchema {
    TfSchema {
        version: s.version,
        block: to_tf_block(&s.block),
    }
}

fn to_tf_path(p: &AttrPath) -> AttributePath {
    let mut out = AttributePath::root();
    for step in &p.0 {
        match step {
            Step::Attr(a) => out.add_attribute(a.clone()),
            Step::Key(k) => out.add_key(k.clone()),
            Step::Index(i) => out.add_index(*i),
        };
    }
    out
}

/// Our diagnostics into the protocol's: the one place they are converted.
fn report(ours: Diags, diags: &mut Diagnostics) {
    for d in ours.0 {
        let path = d.path.as_ref().map(to_tf_path).unwrap_or_default();
        let diag = Diagnostic::new(d.summary, d.detail, path);
        match d.severity {
            Severity::Error => diags.add_error(diag),
            Severity::Warning => diags.add_warning(diag),
        }
    }
}

#[async_trait]
impl Provider for FansiteProvider {
    type Config<'a> = ValueAny;
    type MetaState<'a> = ValueAny;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<TfSchema> {
        Some(to_tf_schema(&provider_schema()))
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: ValueAny) -> Option<()> {
        let mut ours = Diags::default();
        parse_provider_config(&to_dyn(config), &mut ours);
        report(ours, diags);
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: ValueAny,
    ) -> Option<()> {
        let config = to_dyn(config);
        if config.has_unknown() {
            tracing::info!("provider configuration has unknown values; configuring at apply");
            return Some(());
        }
        let mut ours = Diags::default();
        let parsed = parse_provider_config(&config, &mut ours);
        if !ours.has_errors() {
            match Aws::connect(&parsed, self.stop.clone()).await {
                Ok(aws) => {
                    tracing::info!(%terraform_version, region = %aws.region, "provider configured");
                    *self.aws.write().await = Some(Arc::new(aws));
                }
                Err(e) => e.report(&mut ours),
            }
        }
        report(ours, diags);
        Some(())
    }

    fn stop(&self) {
        tracing::info!("Terraform asked the provider to stop: ending in-flight operations");
        self.stop.cancel();
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(by_name::<_, dyn DynamicResource>(
            &self.resources,
            |r| r.name(),
            |inner| {
                Box::new(ResourceAdapter {
                    inner,
                    aws: self.aws.clone(),
                })
            },
        ))
    }

    fn get_list_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicListResource>>> {
        let listed: Vec<SharedResource> = self
            .resources
            .iter()
            .filter(|r| r.identity().is_some())
            .cloned()
            .collect();
        Some(by_name::<_, dyn DynamicListResource>(
            &listed,
            |r| r.name(),
            |inner| {
                Box::new(ResourceAdapter {
                    inner,
                    aws: self.aws.clone(),
                })
            },
        ))
    }

    fn get_ephemeral_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicEphemeralResource>>> {
        Some(by_name::<_, dyn DynamicEphemeralResource>(
            &self.ephemerals,
            |e| e.name(),
            |inner| {
                Box::new(EphemeralAdapter {
                    inner,
                    aws: self.aws.clone(),
                })
            },
        ))
    }

    fn get_actions(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicAction>>> {
        Some(by_name::<_, dyn DynamicAction>(
            &self.actions,
            |a| a.name(),
            |inner| {
                Box::new(ActionAdapter {
                    inner,
                    aws: self.aws.clone(),
                })
            },
        ))
    }
}

/// What the provider serves of one kind, by name, each in its adapter.
fn by_name<T: ?Sized, D: ?Sized>(
    items: &[Arc<T>],
    name: impl Fn(&T) -> &'static str,
    adapt: impl Fn(Arc<T>) -> Box<D>,
) -> HashMap<String, Box<D>> {
    items
        .iter()
        .map(|item| (name(item).to_string(), adapt(item.clone())))
        .collect()
}

/// The configured clients, or an error saying the provider is not configured.
async fn configured(aws: &SharedAws, diags: &mut Diagnostics) -> Option<Arc<Aws>> {
    let aws = aws.read().await.clone();
    if aws.is_none() {
        diags.root_error_short(
            "The fansite provider is not configured yet: its configuration has values that are known only after apply",
        );
    }
    aws
}

/// A value Terraform sent, decoded; a value that does not decode is an error.
fn decode(raw: &RawValue, diags: &mut Diagnostics) -> Option<Dyn> {
    raw.deserialize::<ValueAny>(diags).map(to_dyn)
}

fn encode(v: &Dyn, diags: &mut Diagnostics) -> Option<RawValue> {
    RawValue::serialize(diags, &from_dyn(v))
}

/// Checks that every protocol feature the configuration uses is one this
/// Terraform has, and warns of deprecated attributes set.
fn check_capabilities(
    block: &Block,
    config: &Dyn,
    capabilities: ClientCapabilities,
    diags: &mut Diags,
) {
    if !capabilities.write_only_attributes_allowed {
        for (path, name) in block.write_only_set(config, &AttrPath::root()) {
            diags.attr_error(
                path,
                "Write-only attribute needs Terraform 1.11 or later",
                format!("`{name}` is write-only: Terraform passes its value to the provider and keeps it out of plan and state. This Terraform does not support write-only attributes; use Terraform 1.11 or later."),
            );
        }
    }
    for (path, name, message) in block.deprecated_set(config, &AttrPath::root()) {
        diags.warning(
            Some(path),
            "Deprecated attribute",
            format!("`{name}` is deprecated: {message}"),
        );
    }
}

struct ResourceAdapter {
    inner: SharedResource,
    aws: SharedAws,
}

impl ResourceAdapter {
    async fn aws(&self) -> Option<Arc<Aws>> {
        self.aws.read().await.clone()
    }

    /// The configured clients, or an error saying the provider is not configured.
    async fn configured(&self, diags: &mut Diagnostics) -> Option<Arc<Aws>> {
        configured(&self.aws, diags).await
    }

    /// A state to hand back: conformed to the schema, with no unknowns left
    /// and no write-only value.
    fn state_out(&self, v: Dyn) -> ValueAny {
        let block = self.inner.schema().block;
        from_dyn(&block.without_write_only(&block.conform(&v.known_or_null())))
    }

    /// A plan to hand back: no write-only value.
    fn planned_out(&self, planned: &Dyn) -> ValueAny {
        from_dyn(&self.inner.schema().block.without_write_only(planned))
    }

    /// The planned state with the write-only values of the configuration:
    /// what create and update work from.
    fn with_config(&self, planned: ValueAny, config: ValueAny) -> Dyn {
        self.inner
            .schema()
            .block
            .with_write_only(&to_dyn(planned), &to_dyn(config))
    }

    /// The provider's region, once configured.
    fn region(&self) -> Option<String> {
        let aws = self.aws.try_read().ok()?.clone()?;
        Some(aws.region.clone())
    }

    /// The resource's identity schema, as the protocol has it.
    fn identity_schema_of(identity: &Identity) -> IdentitySchema {
        let mut attributes: HashMap<String, IdentityAttribute> = identity
            .attributes
            .iter()
            .map(|(name, description)| {
                (
                    name.to_string(),
                    IdentityAttribute {
                        attr_type: AttributeType::String,
                        description: Description::markdown(description),
                        required_for_import: true,
                    },
                )
            })
            .collect();
        if identity.regional {
            attributes.insert(
                "region".into(),
                IdentityAttribute {
                    attr_type: AttributeType::String,
                    description: Description::markdown(
                        "AWS region of the object. Left out of `import { identity }`, the provider's region.",
                    ),
                    required_for_import: false,
                },
            );
        }
        IdentitySchema {
            version: 0,
            attributes,
        }
    }
}

#[async_trait]
impl TfResource for ResourceAdapter {
    type State<'a> = ValueAny;
    type PrivateState<'a> = ValueAny;
    type ProviderMetaState<'a> = ValueAny;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<TfSchema> {
        Some(to_tf_schema(&self.inner.schema()))
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: ValueAny) -> Option<()> {
        TfResource::validate_with(self, diags, config, ClientCapabilities::default()).await
    }

    async fn validate_with<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ValueAny,
        capabilities: ClientCapabilities,
    ) -> Option<()> {
        let config = to_dyn(config);
        let mut ours = Diags::default();
        check_capabilities(&self.inner.schema().block, &config, capabilities, &mut ours);
        self.inner.validate(&config, &mut ours);
        report(ours, diags);
        Some(())
    }

    fn identity_schema(&self, _diags: &mut Diagnostics) -> Option<IdentitySchema> {
        self.inner.identity().as_ref().map(Self::identity_schema_of)
    }

    fn identity<'a>(&self, diags: &mut Diagnostics, state: &ValueAny) -> Option<RawValue> {
        let identity = self.inner.identity()?;
        let value = identity.value(&self.region()?, &to_dyn(state.clone()))?;
        encode(&value, diags)
    }

    async fn import_identity<'a>(
        &self,
        diags: &mut Diagnostics,
        identity: RawValue,
    ) -> Option<(ValueAny, ValueAny)> {
        let aws = self.configured(diags).await?;
        let identity_value = decode(&identity, diags)?;
        let mut ours = Diags::default();
        let imported = match self.inner.identity() {
            Some(spec) => match spec.import_id_of(&aws.region, &identity_value, &mut ours) {
                Some(id) => self.inner.import(&aws, &id, &mut ours).await,
                None => None,
            },
            None => {
                ours.error(
                    "Import by identity is not supported",
                    format!(
                        "fansite_{} has no resource identity; import it by its ID.",
                        self.inner.name()
                    ),
                );
                None
            }
        };
        report(ours, diags);
        imported.map(|s| (self.state_out(s), ValueAny::Null))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: ValueAny,
        private: ValueAny,
        _meta: ValueAny,
    ) -> Option<(ValueAny, ValueAny)> {
        let Some(aws) = self.configured(diags).await else {
            return Some((state, private));
        };
        let mut ours = Diags::default();
        let found = self.inner.read(&aws, &to_dyn(state), &mut ours).await;
        report(ours, diags);
        found.map(|s| (self.state_out(s), private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: ValueAny,
        config: ValueAny,
        _meta: ValueAny,
    ) -> Option<(ValueAny, ValueAny)> {
        let aws = self.aws().await;
        let mut ours = Diags::default();
        let plan = plan_change(
            self.inner.as_ref(),
            aws.as_deref(),
            None,
            &to_dyn(proposed),
            &to_dyn(config),
            &mut ours,
        )
        .await;
        report(ours, diags);
        Some((self.planned_out(&plan.planned), ValueAny::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ValueAny,
        proposed: ValueAny,
        config: ValueAny,
        private: ValueAny,
        _meta: ValueAny,
    ) -> Option<(ValueAny, ValueAny, Vec<AttributePath>)> {
        let aws = self.aws().await;
        let mut ours = Diags::default();
        let prior = to_dyn(prior);
        let plan = plan_change(
            self.inner.as_ref(),
            aws.as_deref(),
            Some(&prior),
            &to_dyn(proposed),
            &to_dyn(config),
            &mut ours,
        )
        .await;
        report(ours, diags);
        let replace = plan.requires_replace.iter().map(to_tf_path).collect();
        Some((self.planned_out(&plan.planned), private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ValueAny,
        private: ValueAny,
        _meta: ValueAny,
    ) -> Option<ValueAny> {
        let mut ours = Diags::default();
        self.inner.plan_destroy(&to_dyn(prior), &mut ours);
        report(ours, diags);
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: ValueAny,
        config: ValueAny,
        private: ValueAny,
        _meta: ValueAny,
    ) -> Option<(ValueAny, ValueAny)> {
        let aws = self.configured(diags).await?;
        let mut ours = Diags::default();
        let planned = self.with_config(planned, config);
        let made = self.inner.create(&aws, &planned, &mut ours).await;
        let failed_with_nothing = made.is_none() && !ours.has_errors();
        report(ours, diags);
        if failed_with_nothing {
            diags.root_error_short("create returned nothing");
        }
        made.map(|s| (self.state_out(s), private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ValueAny,
        planned: ValueAny,
        config: ValueAny,
        private: ValueAny,
        _meta: ValueAny,
    ) -> Option<(ValueAny, ValueAny)> {
        let aws = self.configured(diags).await?;
        let mut ours = Diags::default();
        let planned = self.with_config(planned, config);
        let updated = self
            .inner
            .update(&aws, &to_dyn(prior), &planned, &mut ours)
            .await;
        report(ours, diags);
        updated.map(|s| (self.state_out(s), private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ValueAny,
        _private: ValueAny,
        _meta: ValueAny,
    ) -> Option<()> {
        let Some(aws) = self.configured(diags).await else {
            return Some(());
        };
        let mut ours = Diags::default();
        self.inner.delete(&aws, &to_dyn(prior), &mut ours).await;
        report(ours, diags);
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(ValueAny, ValueAny)> {
        let aws = self.configured(diags).await?;
        let mut ours = Diags::default();
        let imported = self.inner.import(&aws, &id, &mut ours).await;
        report(ours, diags);
        imported.map(|s| (self.state_out(s), ValueAny::Null))
    }
}

/// `list "fansite_<name>"`: the objects the provider made, by their identity.
#[async_trait]
impl DynamicListResource for ResourceAdapter {
    fn schema(&self, _diags: &mut Diagnostics) -> Option<TfSchema> {
        Some(to_tf_schema(&list_schema(self.inner.name())))
    }

    async fn list(
        &self,
        diags: &mut Diagnostics,
        config: RawValue,
        include_resource_object: bool,
        limit: i64,
    ) -> Vec<Listed> {
        let (Some(aws), Some(config)) = (self.configured(diags).await, decode(&config, diags))
        else {
            return Vec::new();
        };
        let Some(identity) = self.inner.identity() else {
            return Vec::new();
        };
        let mut ours = Diags::default();
        let ids = self.inner.list(&aws, &mut ours).await.unwrap_or_default();
        let wanted = config.get("name").as_str().map(str::to_string);
        let limit = usize::try_from(limit)
            .ok()
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for id in ids {
            if out.len() >= limit {
                break;
            }
            let mut item = Diags::default();
            let Some(state) = self.inner.import(&aws, &id, &mut item).await else {
                ours.extend(item);
                continue;
            };
            let state = match self.inner.read(&aws, &state, &mut item).await {
                Some(read) => read,
                None => continue,
            };
            let name = state.get("name").as_str().unwrap_or(&id).to_string();
            if wanted.as_ref().is_some_and(|w| *w != name) {
                continue;
            }
            let mut item_diags = Diagnostics::default();
            report(item, &mut item_diags);
            let Some(identity_value) = identity
                .value(&aws.region, &state)
                .and_then(|v| encode(&v, &mut item_diags))
            else {
                continue;
            };
            let resource_object = if include_resource_object {
                RawValue::serialize(&mut item_diags, &self.state_out(state))
            } else {
                None
            };
            out.push(Listed {
                identity: identity_value,
                display_name: name,
                resource_object,
                diags: item_diags,
            });
        }
        report(ours, diags);
        out
    }
}

/// The `config` block of `list "fansite_<name>"`.
fn list_schema(name: &str) -> Schema {
    use crate::schema::Attribute;
    Schema {
        version: 0,
        block: Block {
            description: format!("Finds every fansite_{name} that the provider made in its region (by their tags and names)."),
            attributes: vec![Attribute::optional(
                "name",
                Ty::String,
                "Only the one of this name. Left out: all of them.",
            )],
            blocks: vec![],
        },
    }
}

struct EphemeralAdapter {
    inner: SharedEphemeral,
    aws: SharedAws,
}

#[async_trait]
impl DynamicEphemeralResource for EphemeralAdapter {
    fn schema(&self, _diags: &mut Diagnostics) -> Option<TfSchema> {
        Some(to_tf_schema(&self.inner.schema()))
    }

    async fn validate(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        let config = decode(&config, diags)?;
        let mut ours = Diags::default();
        self.inner.validate(&config, &mut ours);
        report(ours, diags);
        Some(())
    }

    async fn open(
        &self,
        diags: &mut Diagnostics,
        config: RawValue,
        _capabilities: ClientCapabilities,
    ) -> Option<Opened> {
        let aws = configured(&self.aws, diags).await?;
        let config = decode(&config, diags)?;
        let mut ours = Diags::default();
        let opened = self.inner.open(&aws, &config, &mut ours).await;
        report(ours, diags);
        let block = self.inner.schema().block;
        let result = encode(&block.conform(&opened?.known_or_null()), diags)?;
        Some(Opened {
            result,
            private: None,
            renew_at: None,
        })
    }
}

struct ActionAdapter {
    inner: SharedAction,
    aws: SharedAws,
}

#[async_trait]
impl DynamicAction for ActionAdapter {
    fn schema(&self, _diags: &mut Diagnostics) -> Option<TfSchema> {
        Some(to_tf_schema(&self.inner.schema()))
    }

    async fn validate(&self, diags: &mut Diagnostics, config: RawValue) -> Option<()> {
        let config = decode(&config, diags)?;
        let mut ours = Diags::default();
        self.inner.validate(&config, &mut ours);
        report(ours, diags);
        Some(())
    }

    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: RawValue,
        progress: tf_provider::Progress,
    ) {
        let (Some(aws), Some(config)) =
            (configured(&self.aws, diags).await, decode(&config, diags))
        else {
            return;
        };
        let mut ours = Diags::default();
        let send = move |message: String| {
            let _ = progress.send(message);
        };
        self.inner.invoke(&aws, &config, &send, &mut ours).await;
        report(ours, diags);
    }
}

/// The full Terraform names of the resources served (`fansite_network`, ...).
pub fn served_resource_names(resources: &[SharedResource]) -> Vec<String> {
    resources
        .iter()
        .map(|r| format!("{PROVIDER_NAME}_{}", r.name()))
        .collect()
}

#[cfg(test)]
#[path = "tf_tests.rs"]
mod tests;
