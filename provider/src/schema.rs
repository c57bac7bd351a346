//! The provider's own schema description. `tf.rs` turns it into the protocol's,
//! `docs.rs` into Markdown, and the plan engine (`resource.rs`) reads
//! `force_new` and `default` from it.

use crate::diag::{AttrPath, Diags};
use crate::value::Dyn;

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Object(Vec<(&'static str, Ty)>),
}

impl Ty {
    pub fn list_of_strings() -> Ty {
        Ty::List(Box::new(Ty::String))
    }

    pub fn map_of_strings() -> Ty {
        Ty::Map(Box::new(Ty::String))
    }

    /// Terraform's type expression, as the docs show it.
    pub fn hcl(&self) -> String {
        match self {
            Ty::String => "string".into(),
            Ty::Number => "number".into(),
            Ty::Bool => "bool".into(),
            Ty::List(t) => format!("list({})", t.hcl()),
            Ty::Set(t) => format!("set({})", t.hcl()),
            Ty::Map(t) => format!("map({})", t.hcl()),
            Ty::Object(fields) => format!(
                "object({{ {} }})",
                fields
                    .iter()
                    .map(|(n, t)| format!("{n} = {}", t.hcl()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    /// Optional; the provider fills it in when it is not set.
    OptionalComputed,
    /// Output only.
    Computed,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Ty,
    pub mode: Mode,
    pub description: String,
    pub sensitive: bool,
    /// A change replaces the whole resource.
    pub force_new: bool,
    /// The value planned when the configuration leaves it out (OptionalComputed only).
    pub default: Option<Dyn>,
    /// What a configured value must be: run by the driver at validate, shown in the docs.
    pub checks: Vec<Check>,
    /// Why read does not take this input back from AWS (AWS does not hold
    /// it), shown in the docs under "Not refreshed". `None`: read refreshes it.
    pub not_refreshed: Option<&'static str>,
    /// Sent by Terraform in the configuration only: never in plan or state
    /// (Terraform 1.11 and later).
    pub write_only: bool,
    /// Why the attribute is deprecated and what to use instead.
    pub deprecated: Option<&'static str>,
}

/// A check of one attribute's configured value, declared on the attribute.
/// Unknown and null values pass; checks across attributes stay code.
#[derive(Clone, Debug)]
pub enum Check {
    /// A whole number from `lo` to `hi`.
    Range(i64, i64),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A string that `ok` accepts; `expected` names it, as in
    /// "a VPC ID such as \"vpc-0123456789abcdef0\"".
    Shape {
        ok: fn(&str) -> bool,
        expected: &'static str,
    },
    /// A string that `problem` finds nothing wrong with; its answer is the
    /// message, for rules whose failures differ ("AWS allows VPC prefixes
    /// from /16 to /28"). `expected` is what the docs say.
    Rule {
        problem: fn(&str) -> Option<String>,
        expected: &'static str,
    },
}

/// `"a", "b" or "c"`.
pub fn or_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl Check {
    /// What the docs say: "Must be a whole number from 1 to 65535."
    pub fn describe(&self) -> String {
        match self {
            Check::Range(lo, hi) => format!("Must be a whole number from {lo} to {hi}."),
            Check::OneOf(items) => format!("Must be one of {}.", or_list(items)),
            Check::Shape { expected, .. } | Check::Rule { expected, .. } => {
                format!("Must be {expected}.")
            }
        }
    }

    /// Why `v` fails the check, or `None` when it passes (or is not known yet).
    pub fn problem(&self, v: &Dyn) -> Option<String> {
        match (self, v) {
            (Check::Range(lo, hi), Dyn::Number(n)) if !(lo..=hi).contains(&n) => Some(format!(
                "{n} is out of range; use a whole number from {lo} to {hi}."
            )),
            (Check::Range(lo, hi), Dyn::Float(f)) => Some(format!(
                "{f} is not a whole number; use one from {lo} to {hi}."
            )),
            (Check::OneOf(items), Dyn::String(s)) if !items.contains(&s.as_str()) => {
                Some(format!("{s:?} is not allowed; use {}.", or_list(items)))
            }
            (Check::Shape { ok, expected }, Dyn::String(s)) if !ok(s) => {
                Some(format!("{s:?} is not {expected}."))
            }
            (Check::Rule { problem, .. }, Dyn::String(s)) => problem(s),
            _ => None,
        }
    }
}

/// `v` when it is a whole number from `lo` to `hi`: for checks across
/// attributes, which leave a value out of its range to its declared check.
pub fn whole_in(v: &Dyn, lo: i64, hi: i64) -> Option<i64> {
    v.as_i64().filter(|n| (lo..=hi).contains(n))
}

impl Attribute {
    fn new(name: &'static str, ty: Ty, mode: Mode, description: &str) -> Self {
        Attribute {
            name,
            ty,
            mode,
            description: description.to_string(),
            sensitive: false,
            force_new: false,
            default: None,
            checks: Vec::new(),
            not_refreshed: None,
            write_only: false,
            deprecated: None,
        }
    }

    pub fn required(name: &'static str, ty: Ty, description: &str) -> Self {
        Self::new(name, ty, Mode::Required, description)
    }

    pub fn optional(name: &'static str, ty: Ty, description: &str) -> Self {
        Self::new(name, ty, Mode::Optional, description)
    }

    pub fn optional_computed(name: &'static str, ty: Ty, description: &str) -> Self {
        Self::new(name, ty, Mode::OptionalComputed, description)
    }

    pub fn computed(name: &'static str, ty: Ty, description: &str) -> Self {
        Self::new(name, ty, Mode::Computed, description)
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// A default makes the attribute optional-and-computed: the plan shows the default.
    pub fn default(mut self, value: impl Into<Dyn>) -> Self {
        self.mode = Mode::OptionalComputed;
        self.default = Some(value.into());
        self
    }

    /// A whole number from `lo` to `hi`.
    pub fn range(mut self, lo: i64, hi: i64) -> Self {
        self.checks.push(Check::Range(lo, hi));
        self
    }

    /// One of `items`.
    pub fn one_of(mut self, items: &'static [&'static str]) -> Self {
        self.checks.push(Check::OneOf(items));
        self
    }

    /// A string that `ok` accepts, named by `expected`.
    pub fn shape(mut self, ok: fn(&str) -> bool, expected: &'static str) -> Self {
        self.checks.push(Check::Shape { ok, expected });
        self
    }

    /// An input that read keeps from the state, and why: AWS does not hold it.
    pub fn not_refreshed(mut self, why: &'static str) -> Self {
        self.not_refreshed = Some(why);
        self
    }

    /// A rule for a string, or for each string of a list or map: `problem`
    /// gives the message when the value breaks it.
    pub fn rule(mut self, problem: fn(&str) -> Option<String>, expected: &'static str) -> Self {
        self.checks.push(Check::Rule { problem, expected });
        self
    }

    /// Write-only (and so sensitive): the value reaches create and update,
    /// and never plan, state or logs.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.sensitive = true;
        self
    }

    /// Deprecated, with what to use instead.
    pub fn deprecated(mut self, message: &'static str) -> Self {
        self.deprecated = Some(message);
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(self.mode, Mode::Computed | Mode::OptionalComputed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// Zero or one block; on the wire a list of at most one object.
    OptionalSingle,
    List,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Runs every declared check on `config` (an object of this block), and on
    /// every item of its nested blocks. A failure is an error on the
    /// attribute's path, summarised as "Invalid <block>.<attribute>".
    pub fn check(&self, config: &Dyn, at: &AttrPath, label: &str, diags: &mut Diags) {
        for a in &self.attributes {
            let name = if label.is_empty() {
                a.name.to_string()
            } else {
                format!("{label}.{}", a.name)
            };
            let path = if at.0.is_empty() {
                AttrPath::attr(a.name)
            } else {
                at.clone().then_attr(a.name)
            };
            // A list's, set's or map's checks are its items' (a set's item has
            // no index: its errors are on the set).
            let values: Vec<(AttrPath, &Dyn)> = match config.get(a.name) {
                Dyn::List(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match a.ty {
                        Ty::Set(_) => (path.clone(), v),
                        _ => (path.clone().then_index(i), v),
                    })
                    .collect(),
                Dyn::Map(m) if matches!(a.ty, Ty::Map(_)) => m
                    .iter()
                    .map(|(k, v)| (path.clone().then_key(k), v))
                    .collect(),
                v => vec![(path.clone(), v)],
            };
            for (at, v) in values {
                for c in &a.checks {
                    if let Some(why) = c.problem(v) {
                        diags.attr_error(at.clone(), format!("Invalid {name}"), why);
                    }
                }
            }
        }
        for b in &self.blocks {
            let Some(items) = config.get(b.name).as_list() else {
                continue;
            };
            let label = if label.is_empty() {
                b.name.to_string()
            } else {
                format!("{label}.{}", b.name)
            };
            for (i, item) in items.iter().enumerate() {
                let path = if at.0.is_empty() {
                    AttrPath::attr(b.name)
                } else {
                    at.clone().then_attr(b.name)
                };
                b.block.check(item, &path.then_index(i), &label, diags);
            }
        }
    }

    /// `value` with every write-only attribute null, at any depth: what plan
    /// and state hold.
    pub fn without_write_only(&self, value: &Dyn) -> Dyn {
        self.write_only_walk(value, &Dyn::Null)
    }

    /// `value` with the write-only attributes taken from `config` (the object
    /// of this block's type that Terraform sent as configuration).
    pub fn with_write_only(&self, value: &Dyn, config: &Dyn) -> Dyn {
        self.write_only_walk(value, config)
    }

    fn write_only_walk(&self, value: &Dyn, config: &Dyn) -> Dyn {
        if !matches!(value, Dyn::Map(_)) {
            return value.clone();
        }
        let mut out = value.clone();
        for a in self.attributes.iter().filter(|a| a.write_only) {
            out.set(a.name, config.get(a.name).clone());
        }
        for b in &self.blocks {
            if let Some(items) = value.get(b.name).as_list() {
                let configured = config.get(b.name).as_list().unwrap_or_default();
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        b.block
                            .write_only_walk(item, configured.get(i).unwrap_or(&Dyn::Null))
                    })
                    .collect();
                out.set(b.name, Dyn::List(items));
            }
        }
        out
    }

    /// Every write-only attribute set in `config`, with its path.
    pub fn write_only_set(&self, config: &Dyn, at: &AttrPath) -> Vec<(AttrPath, &'static str)> {
        self.set_in(config, at)
            .into_iter()
            .filter(|(_, a)| a.write_only)
            .map(|(path, a)| (path, a.name))
            .collect()
    }

    /// Every deprecated attribute set in `config`: path, name and message.
    pub fn deprecated_set(
        &self,
        config: &Dyn,
        at: &AttrPath,
    ) -> Vec<(AttrPath, &'static str, &'static str)> {
        self.set_in(config, at)
            .into_iter()
            .filter_map(|(path, a)| Some((path, a.name, a.deprecated?)))
            .collect()
    }

    /// Every attribute set (not null) in `config`, at any depth, with its path.
    fn set_in(&self, config: &Dyn, at: &AttrPath) -> Vec<(AttrPath, &Attribute)> {
        let path = |name: &'static str| {
            if at.0.is_empty() {
                AttrPath::attr(name)
            } else {
                at.clone().then_attr(name)
            }
        };
        let mut out: Vec<(AttrPath, &Attribute)> = self
            .attributes
            .iter()
            .filter(|a| !config.get(a.name).is_null())
            .map(|a| (path(a.name), a))
            .collect();
        for b in &self.blocks {
            for (i, item) in config
                .get(b.name)
                .as_list()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                out.extend(b.block.set_in(item, &path(b.name).then_index(i)));
            }
        }
        out
    }

    /// The value with every attribute and block present, as Terraform expects an
    /// object of this block's type to be: missing attributes become null, missing
    /// blocks an empty list.
    pub fn conform(&self, value: &Dyn) -> Dyn {
        if value.is_unknown() {
            return Dyn::Unknown;
        }
        let mut out = Dyn::obj();
        for a in &self.attributes {
            out.set(a.name, value.get(a.name).clone());
        }
        for b in &self.blocks {
            let items = match value.get(b.name) {
                Dyn::List(items) => Dyn::List(items.iter().map(|i| b.block.conform(i)).collect()),
                Dyn::Unknown => Dyn::Unknown,
                _ => Dyn::List(Vec::new()),
            };
            out.set(b.name, items);
        }
        out
    }
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

/// The standard `timeouts` block: how long create, update and delete may wait.
pub fn timeouts_block(create: &str, update: &str, delete: &str) -> NestedBlock {
    let attr = |name: &'static str, default: &str| {
        Attribute::optional(
            name,
            Ty::String,
            &format!(
                "How long {name} may take, as a duration such as `30m` or `1h30m` (default `{default}`)."
            ),
        )
    };
    NestedBlock {
        name: "timeouts",
        nesting: Nesting::OptionalSingle,
        block: Block {
            description: "How long each operation may wait before it gives up. Waits, and retries while AWS catches up (a network interface that outlives its load balancer, a role not yet assumable), run until this deadline; Ctrl-C ends them at once, and the state keeps every part made so far.".into(),
            attributes: vec![
                attr("create", create),
                attr("update", update),
                attr("delete", delete),
            ],
            blocks: vec![],
        },
    }
}
