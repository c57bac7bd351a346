//! `fansite_database`: Aurora MySQL with autoscaled readers, its own security
//! group and subnet group, and credentials that never touch state.
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod converge;
pub mod credentials;
mod find;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::aws::Aws;
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::resource::Identity;
use crate::schema::{whole_in, Schema};
use crate::typed;
use crate::value::Dyn;

pub use state::DatabaseState;
use state::Readers;

/// Aurora MySQL 3.10 (MySQL 8.0-compatible), a long-term-support line: "The
/// current LTS releases of Aurora MySQL are: Aurora MySQL version 3.10.*,
/// Aurora MySQL version 3.04.*" (Aurora User Guide,
/// AuroraMySQL.Update.SpecialVersions). Non-LTS minors are withdrawn within
/// about a year, after which CreateDBCluster refuses them.
pub const DEFAULT_ENGINE_VERSION: &str = "8.0.mysql_aurora.3.10.0";
/// Graviton, memory-optimised: AWS's recommended class for production Aurora.
pub const DEFAULT_INSTANCE_CLASS: &str = "db.r6g.large";
pub const DEFAULT_MIN_READERS: i32 = 1;
pub const DEFAULT_MAX_READERS: i32 = 3;
pub const DEFAULT_TARGET_CPU: i32 = 60;
/// 02:00–03:00 in Seoul and Tokyo, the fan site's quietest hour.
pub const DEFAULT_BACKUP_WINDOW: &str = "17:00-18:00";
/// Sunday night in Seoul and Tokyo, after the backup window.
pub const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:18:30-sun:19:30";
/// Aurora allows 15 readers per cluster.
const MAX_READERS: i64 = 15;

/// A cluster (5–15 min) and its instances (5–10 min each, made together)
/// per AWS documentation, with room to spare.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// An instance class change restarts each instance in turn: 10 minutes each
/// for a writer and up to 7 readers.
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(80 * 60);
/// Instances, then the cluster with its final snapshot.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

pub struct DatabaseResource;

#[async_trait]
impl Composite for DatabaseResource {
    type State = DatabaseState;
    const NAME: &'static str = "database";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };
    const PARTS: &'static [Part] = &[
        // The cluster, when it was deleted outside Terraform: made again with
        // its instances, taking over the group, subnet group and secret.
        Part {
            id: "cluster_id",
            outputs: &[
                "cluster_arn",
                "writer_endpoint",
                "reader_endpoint",
                "port",
                "writer_instance_id",
                "reader_instance_ids",
                "master_secret_arn",
                "engine_version_actual",
            ],
        },
        Part::alone("connection_secret_arn"),
    ];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn decoded(&self, state: &mut DatabaseState) {
        state.decoded();
    }

    fn derived(&self, _region: &str, state: &DatabaseState) -> Vec<(&'static str, Dyn)> {
        state.derived()
    }

    fn label(&self, state: &DatabaseState) -> String {
        format!("database {:?}", state.name)
    }

    fn unmade(&self, want: &DatabaseState) -> DatabaseState {
        DatabaseState {
            cluster_id: None,
            cluster_arn: None,
            writer_endpoint: None,
            reader_endpoint: None,
            port: None,
            security_group_id: None,
            subnet_group_name: None,
            instance_ids: Vec::new(),
            writer_instance_id: None,
            master_secret_arn: None,
            connection_secret_arn: None,
            connection: None,
            allowed_security_group_ids: None,
            engine_version_actual: None,
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &DatabaseState) -> bool {
        state.security_group_id.is_some() || state.cluster_id.is_some()
    }

    async fn find(&self, aws: &Aws, hints: &DatabaseState) -> Result<Option<DatabaseState>> {
        find::find_database(aws, hints).await
    }

    /// Parts made before the cluster are kept even when the cluster is not there.
    async fn refresh_after_failure(&self, aws: &Aws, cur: DatabaseState) -> DatabaseState {
        match find::find_database(aws, &cur).await {
            Ok(Some(mut found)) => {
                found.security_group_id = found.security_group_id.or(cur.security_group_id);
                found
            }
            _ => cur,
        }
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        // readers {}: fill in what the block leaves out.
        if let Some(block) = planned
            .get("readers")
            .as_list()
            .and_then(|l| l.first())
            .cloned()
        {
            let mut b = block.clone();
            if b.get("min").is_null() {
                b.set("min", i64::from(DEFAULT_MIN_READERS).into());
            }
            if b.get("max").is_null() {
                let max = match b.get("min") {
                    Dyn::Number(min) => Dyn::Number(i64::from(DEFAULT_MAX_READERS).max(*min)),
                    _ => Dyn::Unknown,
                };
                b.set("max", max);
            }
            if b.get("target_cpu").is_null() {
                b.set("target_cpu", i64::from(DEFAULT_TARGET_CPU).into());
            }
            planned.set("readers", Dyn::List(vec![b]));
        }

        // Subnets in at least two zones, all in the VPC: known before any part is made.
        if let (Some(aws), Some(subnets), Some(vpc)) = (
            aws,
            config.get("subnet_ids").as_list(),
            config.get("vpc_id").as_str(),
        ) {
            let ids: Option<Vec<String>> = subnets
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect();
            if let Some(ids) = ids.filter(|ids| !ids.is_empty()) {
                check_subnets(aws, vpc, &ids, diags).await;
            }
        }

        if let Some(prior) = prior {
            let decoded = (
                typed::decode::<DatabaseState>(prior),
                typed::decode::<DatabaseState>(&planned),
            );
            let (before, after) = match decoded {
                (Ok(before), Ok(after)) => (before, after),
                (Err(e), _) | (_, Err(e)) => {
                    diags.error("Planning fansite_database failed", e.to_string());
                    return planned;
                }
            };
            // A class change fails the writer over to an updated reader.
            if before.readers().min != after.readers().min
                || before.instance_class != after.instance_class
            {
                planned.set("reader_instance_ids", Dyn::Unknown);
                planned.set("writer_instance_id", Dyn::Unknown);
            }
            if before.engine_version != after.engine_version {
                planned.set("engine_version_actual", Dyn::Unknown);
            }
            // The connection secret: made again when gone, rewritten when it differs.
            let expected = before.expected_connection();
            planned.set(
                "connection",
                expected
                    .map(|m| Dyn::from_string_map(m.iter()))
                    .unwrap_or(Dyn::Unknown),
            );
        }
        planned
    }

    fn check_replace(&self, prior: &Dyn, _planned: &Dyn, paths: &[AttrPath], diags: &mut Diags) {
        let what = paths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let name = prior.get("name").as_str().unwrap_or_default().to_string();
        if prior.get("deletion_protection").as_bool() == Some(true) {
            diags.attr_error(
                paths.first().cloned().unwrap_or_else(|| AttrPath::attr("name")),
                "Replacing the cluster is blocked by deletion protection",
                format!("Changing {what} replaces Aurora cluster {name:?}, which deletes its data. deletion_protection is on, so this is refused. To replace it anyway, first apply deletion_protection = false with the old {what}."),
            );
        } else {
            let snapshot = if prior.get("skip_final_snapshot").as_bool() == Some(true) {
                "skip_final_snapshot is true, so no snapshot is kept"
            } else {
                "a final snapshot is kept"
            };
            diags.warning(
                paths.first().cloned(),
                "Replacing the cluster deletes its data",
                format!("Changing {what} replaces Aurora cluster {name:?}: the new cluster starts empty ({snapshot})."),
            );
        }
    }

    fn plan_destroy(&self, prior: &Dyn, diags: &mut Diags) {
        if prior.get("deletion_protection").as_bool() == Some(true) {
            diags.error(
                "Deletion protection is on",
                format!("fansite_database {:?} has deletion_protection = true, so it cannot be destroyed. Set deletion_protection = false and apply first.", prior.get("name").as_str().unwrap_or_default()),
            );
        }
    }

    async fn create(&self, aws: &Aws, cur: &mut DatabaseState, want: &DatabaseState) -> Result<()> {
        converge::create_all(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut DatabaseState, want: &DatabaseState) -> Result<()> {
        converge::update_all(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &DatabaseState) -> Result<()> {
        let snapshot = (!cur.skip_final_snapshot).then(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            format!("{}-final-{now}", cur.name)
        });
        converge::delete_all(aws, cur, snapshot).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<DatabaseState> {
        if let Some(why) = name_problem(id) {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not a cluster identifier ({why}); import a fansite_database by its cluster identifier, such as \"fansite-db\"."),
            );
            return None;
        }
        let hints = DatabaseState {
            name: id.to_string(),
            // Nothing configured yet: the version read is AWS's.
            engine_version: String::new(),
            ..DatabaseState::default()
        };
        match find::find_database(aws, &hints).await {
            Ok(Some(found))
                if found.security_group_id.is_none() || found.instance_ids.is_empty() =>
            {
                diags.error(
                    "Cannot import a cluster that fansite_database did not make",
                    format!("Aurora cluster {id} has no security group or no instances named \"{id}-<n>\": only a cluster made by fansite_database can be imported, since its parts are found by those names."),
                );
                None
            }
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent database",
                    format!("No Aurora cluster {id:?} was found in {}.", aws.region),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }

    /// The cluster, as import takes it.
    const IDENTITY: Option<Identity> = Some(Identity {
        regional: true,
        attributes: &[(
            "cluster_identifier",
            "Identifier of the Aurora cluster (the database's `name`).",
        )],
        of_state: identity_of,
        import_id: import_id_of,
    });

    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        find::list_databases(aws).await.map(Some)
    }
}

/// The identity's values in a state: the cluster identifier, its `name`.
fn identity_of(state: &Dyn) -> Option<Vec<String>> {
    Some(vec![state.get("name").as_str()?.to_string()])
}

/// The import id of an identity: its cluster identifier.
fn import_id_of(values: &[String]) -> String {
    values.concat()
}

async fn check_subnets(aws: &Aws, vpc: &str, ids: &[String], diags: &mut Diags) {
    crate::resources::check_subnets(
        aws,
        vpc,
        &[("subnet_ids", ids.to_vec())],
        "Aurora needs subnets in at least two availability zones",
        diags,
    )
    .await;
}

/// Why `name` is not a valid cluster identifier, if it is not.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 50 {
        return Some("1 to 50 characters");
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
        return Some("it must start with a lowercase letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("only lowercase letters, digits and '-'");
    }
    if name.ends_with('-') || name.contains("--") {
        return Some("no '--' and no '-' at the end");
    }
    None
}

fn identifier_problem(s: &str, max: usize) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!ok).then(|| format!("{s:?}: use 1 to {max} letters, digits and '_', starting with a letter."))
}

/// `hh24:mi-hh24:mi` → minutes of the day, start and end.
fn parse_daily(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let hm = |t: &str| -> Option<u32> {
        let (h, m) = t.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    Some((hm(a)?, hm(b)?))
}

/// `ddd:hh24:mi-ddd:hh24:mi` → minutes of the week, start and end.
fn parse_weekly(s: &str) -> Option<(u32, u32)> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let (a, b) = s.split_once('-')?;
    let one = |t: &str| -> Option<u32> {
        let (d, hm) = t.split_once(':')?;
        let day = DAYS.iter().position(|x| *x == d)?;
        let (h, m) = hm.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(u32::try_from(day).ok()? * 1440 + h * 60 + m)
    };
    Some((one(a)?, one(b)?))
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    use super::{identifier_problem, name_problem, DEFAULT_ENGINE_VERSION, DEFAULT_INSTANCE_CLASS};

    pub fn name(name: &str) -> Option<String> {
        name_problem(name).map(|why| format!("{name:?}: {why}."))
    }

    pub fn engine_version(v: &str) -> Option<String> {
        (!v.starts_with("8.0.mysql_aurora.3.")).then(|| format!("{v:?}: use an Aurora MySQL 3 (MySQL 8.0-compatible) version such as \"{DEFAULT_ENGINE_VERSION}\"."))
    }

    pub fn instance_class(c: &str) -> Option<String> {
        let ok = c.starts_with("db.") && c.split('.').count() == 3 && !c.contains(' ');
        (!ok).then(|| {
            format!("{c:?} is not an instance class such as \"{DEFAULT_INSTANCE_CLASS}\".")
        })
    }

    pub fn database_name(d: &str) -> Option<String> {
        identifier_problem(d, 64)
    }

    pub fn master_username(u: &str) -> Option<String> {
        identifier_problem(u, 16).or_else(|| {
            // `admin` is allowed (the console's default); RDS reserves `rdsadmin`.
            ["root", "rdsadmin", "mysql"]
                .contains(&u.to_ascii_lowercase().as_str())
                .then(|| format!("{u:?} is reserved by MySQL or RDS; choose another name."))
        })
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    if let Some(subnets) = config.get("subnet_ids").as_list() {
        if subnets.len() < 2 && !subnets.iter().any(Dyn::is_unknown) {
            diags.attr_error(
                AttrPath::attr("subnet_ids"),
                "Too few subnets",
                "Aurora needs subnets in at least two availability zones: list two or more.",
            );
        }
    }
    let backup_set = config.get("preferred_backup_window").as_str();
    let maint_set = config.get("preferred_maintenance_window").as_str();
    let backup = match backup_set {
        Some(w) => match parse_daily(w) {
            None => {
                diags.attr_error(
                    AttrPath::attr("preferred_backup_window"),
                    "Invalid preferred_backup_window",
                    format!("{w:?} is not a UTC window like \"17:00-18:00\"."),
                );
                None
            }
            Some((a, b)) if (b + 1440 - a) % 1440 < 30 => {
                diags.attr_error(
                    AttrPath::attr("preferred_backup_window"),
                    "Invalid preferred_backup_window",
                    format!("{w:?} is shorter than the 30 minutes AWS requires."),
                );
                None
            }
            parsed => parsed,
        },
        None if config.get("preferred_backup_window").is_unknown() => None,
        None => parse_daily(DEFAULT_BACKUP_WINDOW),
    };
    let week = 7 * 1440;
    let maint = match maint_set {
        Some(w) => match parse_weekly(w) {
            None => {
                diags.attr_error(
                    AttrPath::attr("preferred_maintenance_window"),
                    "Invalid preferred_maintenance_window",
                    format!("{w:?} is not a UTC window like \"sun:18:30-sun:19:30\"."),
                );
                None
            }
            Some((a, b)) if (b + week - a) % week < 30 => {
                diags.attr_error(
                    AttrPath::attr("preferred_maintenance_window"),
                    "Invalid preferred_maintenance_window",
                    format!("{w:?} is shorter than the 30 minutes AWS requires."),
                );
                None
            }
            parsed => parsed,
        },
        None if config.get("preferred_maintenance_window").is_unknown() => None,
        None => parse_weekly(DEFAULT_MAINTENANCE_WINDOW),
    };
    if let (Some((ba, bb)), Some((a, b))) = (backup, maint) {
        let backup_len = (bb + 1440 - ba) % 1440;
        let maint_len = (b + week - a) % week;
        let overlaps = (0..7u32).any(|day| {
            let start = day * 1440 + ba;
            (start + week - a) % week < maint_len || (a + week - start) % week < backup_len
        });
        if overlaps {
            // On the window the configuration sets (the maintenance one when both are).
            let at = if maint_set.is_some() || backup_set.is_none() {
                "preferred_maintenance_window"
            } else {
                "preferred_backup_window"
            };
            diags.attr_error(
                AttrPath::attr(at),
                "Overlapping windows",
                format!("The maintenance window {:?} overlaps the daily backup window {:?}; AWS requires them apart.", maint_set.unwrap_or(DEFAULT_MAINTENANCE_WINDOW), backup_set.unwrap_or(DEFAULT_BACKUP_WINDOW)),
            );
        }
    }
    if let Some(block) = config.get("readers").as_list().and_then(|l| l.first()) {
        let path = |a: &str| AttrPath::attr("readers").then_index(0).then_attr(a);
        let min = whole_in(block.get("min"), 0, MAX_READERS);
        let max = whole_in(block.get("max"), 0, MAX_READERS);
        let min_v = min.unwrap_or(i64::from(DEFAULT_MIN_READERS));
        if let Some(max) = max {
            if max < min_v {
                diags.attr_error(path("max"), "Invalid readers.max", format!("max ({max}) is below min ({min_v}); use a number from {min_v} to {MAX_READERS}."));
            }
        }
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            } else if key == "Name" {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    "\"Name\" is set on each part from `name`.",
                );
            }
        }
    }
}

impl Readers {
    #[cfg(test)]
    fn of(min: i32, max: i32, target_cpu: i32) -> Readers {
        Readers {
            min,
            max,
            target_cpu,
        }
    }
}
