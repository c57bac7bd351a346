//! The composite lifecycle, written once. A resource supplies what is its own
//! ([`Composite`]: schema, validation, plan, find, create, update, delete,
//! import) and [`Driver`] turns it into a [`Resource`]:
//!
//! - the `timeouts` block in every schema, its values checked at validate;
//! - `tags_all` (the provider's `default_tags` under the resource's `tags`) in every plan;
//! - every operation run in a [`Ctx`]: its deadline is what is left of its
//!   `timeouts` value (or [`READ_TIMEOUT`] for read and import), and
//!   Terraform's StopProvider ends it at once;
//! - after a failed, timed-out or stopped create or update: the error, and the
//!   state with every id made so far (refreshed from AWS unless stopped), or
//!   no state when nothing was made;
//! - read: the found state, or none when nothing of the resource is left; a
//!   failed read keeps the prior state.

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::aws::Aws;
use crate::ctx::{Ctx, Ended, READ_TIMEOUT};
use crate::diag::{AttrPath, Diags};
use crate::error::{Error, Result};
use crate::resource::{merge_tags, timeout, validate_timeouts, Identity, Resource};
use crate::schema::{timeouts_block, Schema};
use crate::typed;
use crate::value::Dyn;

/// The default `timeouts` of a resource, each with its reason where it is declared.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

/// A part of a composite, by the attribute that holds its id, and the outputs
/// that come with it. When read finds the part gone (its id null in the prior
/// state), the plan shows the id and these outputs unknown, and the update
/// makes the part again.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    pub id: &'static str,
    pub outputs: &'static [&'static str],
}

impl Part {
    /// A part with no outputs besides its id.
    pub const fn alone(id: &'static str) -> Part {
        Part { id, outputs: &[] }
    }
}

/// What a composite resource writes; everything else is the [`Driver`]'s.
#[async_trait]
pub trait Composite: Send + Sync + 'static {
    /// The resource's state as a Rust value, mapped to and from the schema's
    /// object by [`typed`]: its fields are the schema's attributes (derived
    /// outputs and `timeouts` aside), and absent or unknown values read as the
    /// field's `#[serde(default)]`.
    type State: Clone + Send + Sync + Serialize + DeserializeOwned + 'static;

    /// The name after `fansite_`.
    const NAME: &'static str;
    const TIMEOUTS: Timeouts;
    /// How far past its deadline an operation may run before it is cut off:
    /// waits that stop at the deadline and say what they saw tell more than a
    /// cut-off does.
    const GRACE: Duration = Duration::ZERO;
    /// The parts that an update makes again when read found them gone.
    const PARTS: &'static [Part] = &[];

    /// The schema without `timeouts` (the driver adds it).
    fn schema(&self) -> Schema;

    /// Checks the configuration without calling AWS. Unknown values pass.
    fn validate(&self, config: &Dyn, diags: &mut Diags);

    /// As [`Resource::plan`]; `planned` already has `tags_all`, and the ids
    /// and outputs of [`Composite::PARTS`] found gone are unknown.
    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn;

    fn replace_paths(&self, prior: &Dyn, planned: &Dyn) -> Vec<AttrPath> {
        let _ = (prior, planned);
        Vec::new()
    }

    fn check_replace(&self, prior: &Dyn, planned: &Dyn, paths: &[AttrPath], diags: &mut Diags) {
        let _ = (prior, planned, paths, diags);
    }

    fn plan_destroy(&self, prior: &Dyn, diags: &mut Diags) {
        let _ = (prior, diags);
    }

    /// Completes a state just read: fields that come from more than one attribute.
    fn decoded(&self, state: &mut Self::State) {
        let _ = state;
    }

    /// Outputs computed from the state's other attributes (a URL from a domain
    /// name, say), added to its encoding; `region` is the provider's.
    fn derived(&self, region: &str, state: &Self::State) -> Vec<(&'static str, Dyn)> {
        let _ = (region, state);
        Vec::new()
    }

    /// How messages name the resource: `network "main"`.
    fn label(&self, state: &Self::State) -> String;

    /// The state of a create before any part exists: `want`'s inputs, no ids.
    fn unmade(&self, want: &Self::State) -> Self::State;

    /// Whether `state` names any part that exists or may exist.
    fn has_parts(&self, state: &Self::State) -> bool;

    /// Reads every part back from AWS, starting from the ids and names in
    /// `hints`. `None`: nothing of the resource is left.
    async fn find(&self, aws: &Aws, hints: &Self::State) -> Result<Option<Self::State>>;

    /// After a failed create or update (`cur` has something): the state as
    /// AWS now has it, keeping what `find` cannot see. Default: found, else `cur`.
    async fn refresh_after_failure(&self, aws: &Aws, cur: Self::State) -> Self::State {
        match self.find(aws, &cur).await {
            Ok(Some(found)) => found,
            _ => cur,
        }
    }

    /// Makes every part of `want`, writing each id into `cur` the moment it exists.
    async fn create(&self, aws: &Aws, cur: &mut Self::State, want: &Self::State) -> Result<()>;

    /// Moves `cur` to `want`, keeping `cur` true to AWS at every step.
    async fn update(&self, aws: &Aws, cur: &mut Self::State, want: &Self::State) -> Result<()>;

    /// Removes every part; parts already gone are done.
    async fn delete(&self, aws: &Aws, cur: &Self::State) -> Result<()>;

    /// The state for an import id (read refreshes it next), or the diagnostics why not.
    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<Self::State>;

    /// The resource's identity (Terraform 1.12). Default: none.
    const IDENTITY: Option<Identity> = None;

    /// Import ids of every object of this type that the provider made in the
    /// region (found by its tags and names), for `terraform query`.
    /// `Ok(None)`: the resource cannot be listed.
    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        let _ = aws;
        Ok(None)
    }
}

/// Which operation [`Driver::finish`] ends, and the `timeouts` it was given.
struct Step<'a> {
    action: &'static str,
    timeouts: &'a Dyn,
}

/// A [`Composite`] served as a [`Resource`].
pub struct Driver<C>(pub C);

impl<C: Composite> Driver<C> {
    /// The state in `value` (a prior state or a plan), or the error why not.
    pub fn decode(&self, value: &Dyn, diags: &mut Diags) -> Option<C::State> {
        match typed::decode(value) {
            Ok(mut state) => {
                self.0.decoded(&mut state);
                Some(state)
            }
            Err(e) => {
                diags.error(
                    format!("Reading fansite_{} failed", C::NAME),
                    format!("The value does not fit the resource's state: {e}."),
                );
                None
            }
        }
    }

    /// The schema's object for `state`: its fields, its derived outputs and
    /// the `timeouts` it was given.
    pub fn encode(&self, region: &str, state: &C::State, timeouts: &Dyn) -> Result<Dyn> {
        let mut v = typed::encode(state).map_err(|e| Error::Build {
            part: format!("the state of fansite_{}", C::NAME),
            message: e.to_string(),
        })?;
        for (name, value) in self.0.derived(region, state) {
            v.set(name, value);
        }
        v.set("timeouts", timeouts.clone());
        Ok(v)
    }

    /// [`Driver::encode`], its error reported.
    fn out(
        &self,
        region: &str,
        state: &C::State,
        timeouts: &Dyn,
        diags: &mut Diags,
    ) -> Option<Dyn> {
        self.encode(region, state, timeouts)
            .map_err(|e| e.report(diags))
            .ok()
    }

    fn ctx(&self, aws: &Aws, limit: Duration) -> Ctx {
        Ctx::new(limit, aws.stop.clone())
    }

    /// The error for an operation that did not end by itself.
    fn cut_off(&self, ended_by_stop: bool, action: &str, cur: &C::State, ctx: &Ctx) -> Error {
        let part = self.0.label(cur);
        if ended_by_stop {
            Error::Stopped {
                action: action.into(),
                part,
            }
        } else {
            Error::Timeout {
                action: action.into(),
                part,
                state: "not done".into(),
                after: ctx.limit(),
            }
        }
    }

    /// After create or update: on success the state; on failure the error,
    /// and the state with every part made so far.
    async fn finish(
        &self,
        aws: &Aws,
        ctx: &Ctx,
        cur: C::State,
        ended: Ended<Result<()>>,
        step: Step<'_>,
        diags: &mut Diags,
    ) -> Option<Dyn> {
        let Step { action, timeouts } = step;
        let (err, stopped) = match ended {
            Ended::Done(Ok(())) => return self.out(&aws.region, &cur, timeouts, diags),
            Ended::Done(Err(e)) => (e, false),
            Ended::Stopped => (self.cut_off(true, action, &cur, ctx), true),
            Ended::TimedOut => (self.cut_off(false, action, &cur, ctx), false),
        };
        tracing::warn!(error = %err, "{action} {} failed", self.0.label(&cur));
        err.report(diags);
        if !self.0.has_parts(&cur) {
            return None;
        }
        if stopped {
            // Terraform is waiting to save the state: what `cur` recorded is it.
            return self.out(&aws.region, &cur, timeouts, diags);
        }
        let refresh = self.ctx(aws, READ_TIMEOUT);
        match refresh
            .run(
                Duration::ZERO,
                self.0.refresh_after_failure(aws, cur.clone()),
            )
            .await
        {
            Ended::Done(found) => self.out(&aws.region, &found, timeouts, diags),
            _ => self.out(&aws.region, &cur, timeouts, diags),
        }
    }
}

#[async_trait]
impl<C: Composite> Resource for Driver<C> {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn schema(&self) -> Schema {
        let mins = |d: Duration| format!("{}m", d.as_secs() / 60);
        let mut schema = self.0.schema();
        schema.block.blocks.push(timeouts_block(
            &mins(C::TIMEOUTS.create),
            &mins(C::TIMEOUTS.update),
            &mins(C::TIMEOUTS.delete),
        ));
        schema
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        self.schema()
            .block
            .check(config, &AttrPath::root(), "", diags);
        self.0.validate(config, diags);
        validate_timeouts(config, diags);
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        let tags_all = match aws {
            Some(aws) => merge_tags(&aws.default_tags, planned.get("tags")),
            None => Dyn::Unknown,
        };
        planned.set("tags_all", tags_all);
        if let Some(prior) = prior {
            for part in C::PARTS.iter().filter(|p| prior.get(p.id).is_null()) {
                for name in std::iter::once(&part.id).chain(part.outputs) {
                    planned.set(name, Dyn::Unknown);
                }
            }
        }
        self.0.plan(aws, prior, planned, config, diags).await
    }

    fn replace_paths(&self, prior: &Dyn, planned: &Dyn) -> Vec<AttrPath> {
        self.0.replace_paths(prior, planned)
    }

    fn check_replace(&self, prior: &Dyn, planned: &Dyn, paths: &[AttrPath], diags: &mut Diags) {
        self.0.check_replace(prior, planned, paths, diags);
    }

    fn plan_destroy(&self, prior: &Dyn, diags: &mut Diags) {
        self.0.plan_destroy(prior, diags);
    }

    async fn create(&self, aws: &Aws, planned: &Dyn, diags: &mut Diags) -> Option<Dyn> {
        let want = self.decode(planned, diags)?;
        let mut cur = self.0.unmade(&want);
        let ctx = self.ctx(aws, timeout(planned, "create", C::TIMEOUTS.create));
        let ended = ctx.run(C::GRACE, self.0.create(aws, &mut cur, &want)).await;
        let step = Step {
            action: "creating",
            timeouts: planned.get("timeouts"),
        };
        self.finish(aws, &ctx, cur, ended, step, diags).await
    }

    async fn read(&self, aws: &Aws, state: &Dyn, diags: &mut Diags) -> Option<Dyn> {
        let Some(hints) = self.decode(state, diags) else {
            return Some(state.clone());
        };
        let ctx = self.ctx(aws, READ_TIMEOUT);
        match ctx.run(Duration::ZERO, self.0.find(aws, &hints)).await {
            Ended::Done(Ok(Some(found))) => self
                .out(&aws.region, &found, state.get("timeouts"), diags)
                .or_else(|| Some(state.clone())),
            Ended::Done(Ok(None)) => None,
            Ended::Done(Err(e)) => {
                e.report(diags);
                Some(state.clone())
            }
            cut => {
                let stopped = matches!(cut, Ended::Stopped);
                self.cut_off(stopped, "reading", &hints, &ctx).report(diags);
                Some(state.clone())
            }
        }
    }

    async fn update(
        &self,
        aws: &Aws,
        prior: &Dyn,
        planned: &Dyn,
        diags: &mut Diags,
    ) -> Option<Dyn> {
        let (Some(want), Some(mut cur)) = (self.decode(planned, diags), self.decode(prior, diags))
        else {
            return Some(prior.clone());
        };
        let ctx = self.ctx(aws, timeout(planned, "update", C::TIMEOUTS.update));
        let ended = ctx.run(C::GRACE, self.0.update(aws, &mut cur, &want)).await;
        let step = Step {
            action: "updating",
            timeouts: planned.get("timeouts"),
        };
        self.finish(aws, &ctx, cur, ended, step, diags).await
    }

    async fn delete(&self, aws: &Aws, state: &Dyn, diags: &mut Diags) {
        let Some(cur) = self.decode(state, diags) else {
            return;
        };
        let ctx = self.ctx(aws, timeout(state, "delete", C::TIMEOUTS.delete));
        let err = match ctx.run(C::GRACE, self.0.delete(aws, &cur)).await {
            Ended::Done(Ok(())) => return,
            Ended::Done(Err(e)) => e,
            Ended::Stopped => self.cut_off(true, "deleting", &cur, &ctx),
            Ended::TimedOut => self.cut_off(false, "deleting", &cur, &ctx),
        };
        tracing::warn!(error = %err, "deleting {} failed", self.0.label(&cur));
        err.report(diags);
    }

    fn identity(&self) -> Option<Identity> {
        C::IDENTITY
    }

    async fn list(&self, aws: &Aws, diags: &mut Diags) -> Option<Vec<String>> {
        let ctx = self.ctx(aws, READ_TIMEOUT);
        match ctx.run(Duration::ZERO, self.0.list(aws)).await {
            Ended::Done(Ok(ids)) => ids,
            Ended::Done(Err(e)) => {
                e.report(diags);
                Some(Vec::new())
            }
            Ended::Stopped | Ended::TimedOut => {
                diags.error(
                    "Listing did not finish",
                    format!(
                        "Listing fansite_{} was stopped, or took longer than {READ_TIMEOUT:?}.",
                        C::NAME
                    ),
                );
                Some(Vec::new())
            }
        }
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<Dyn> {
        let ctx = self.ctx(aws, READ_TIMEOUT);
        let ended = ctx.run(Duration::ZERO, self.0.import(aws, id, diags)).await;
        match ended {
            Ended::Done(found) => found.and_then(|s| self.out(&aws.region, &s, &Dyn::Null, diags)),
            Ended::Stopped | Ended::TimedOut => {
                diags.error(
                    "Import did not finish",
                    format!("Importing fansite_{} {id:?} was stopped, or took longer than {READ_TIMEOUT:?}.", C::NAME),
                );
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
