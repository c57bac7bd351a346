//! The database's state: its inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use crate::aws::rds::ClusterSpec;
use serde::{Deserialize, Serialize};

use crate::value::Dyn;

use super::{
    DEFAULT_BACKUP_WINDOW, DEFAULT_ENGINE_VERSION, DEFAULT_INSTANCE_CLASS,
    DEFAULT_MAINTENANCE_WINDOW, DEFAULT_MAX_READERS, DEFAULT_MIN_READERS, DEFAULT_TARGET_CPU,
};

pub use crate::resources::Tags;

/// The port Aurora MySQL listens on.
pub const PORT: i32 = 3306;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReadersInput")]
pub struct Readers {
    pub min: i32,
    pub max: i32,
    pub target_cpu: i32,
}

/// `readers {}` as configured: `max` defaults to `min` when that is larger.
#[derive(Deserialize)]
struct ReadersInput {
    min: Option<i32>,
    max: Option<i32>,
    target_cpu: Option<i32>,
}

impl From<ReadersInput> for Readers {
    fn from(r: ReadersInput) -> Readers {
        let min = r.min.unwrap_or(DEFAULT_MIN_READERS);
        Readers {
            min,
            max: r.max.unwrap_or(DEFAULT_MAX_READERS.max(min)),
            target_cpu: r.target_cpu.unwrap_or(DEFAULT_TARGET_CPU),
        }
    }
}

impl Readers {
    pub const DEFAULT: Readers = Readers {
        min: DEFAULT_MIN_READERS,
        max: DEFAULT_MAX_READERS,
        target_cpu: DEFAULT_TARGET_CPU,
    };

    pub fn autoscaled(&self) -> bool {
        self.max > self.min
    }
}

/// The database as the schema has it. `reader_instance_ids` is read into
/// `instance_ids` (with the writer: [`DatabaseState::decoded`]) and written
/// back by [`DatabaseState::derived`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseState {
    pub name: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub allowed_security_group_ids: Option<Vec<String>>,
    pub engine_version: String,
    /// The version the cluster runs, as AWS reports it (computed).
    pub engine_version_actual: Option<String>,
    pub database_name: String,
    pub master_username: String,
    pub instance_class: String,
    /// The `readers {}` block, when the configuration has one.
    #[serde(rename = "readers", with = "crate::typed::one_block")]
    pub readers_block: Option<Readers>,
    pub backup_retention_days: i32,
    #[serde(rename = "preferred_backup_window")]
    pub backup_window: String,
    #[serde(rename = "preferred_maintenance_window")]
    pub maintenance_window: String,
    pub deletion_protection: bool,
    pub skip_final_snapshot: bool,
    pub apply_immediately: bool,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub cluster_id: Option<String>,
    pub cluster_arn: Option<String>,
    pub writer_endpoint: Option<String>,
    pub reader_endpoint: Option<String>,
    pub port: Option<i32>,
    pub security_group_id: Option<String>,
    pub subnet_group_name: Option<String>,
    /// Instances this resource made, `<name>-<n>`, by number.
    #[serde(rename = "reader_instance_ids", skip_serializing)]
    pub instance_ids: Vec<String>,
    pub writer_instance_id: Option<String>,
    pub master_secret_arn: Option<String>,
    pub connection_secret_arn: Option<String>,
    /// What the connection secret holds (read back from it).
    pub connection: Option<BTreeMap<String, String>>,
}

impl Default for DatabaseState {
    fn default() -> Self {
        DatabaseState {
            name: String::new(),
            vpc_id: String::new(),
            subnet_ids: Vec::new(),
            allowed_security_group_ids: None,
            engine_version: DEFAULT_ENGINE_VERSION.into(),
            engine_version_actual: None,
            database_name: "fansite".into(),
            master_username: "fansite_admin".into(),
            instance_class: DEFAULT_INSTANCE_CLASS.into(),
            readers_block: None,
            backup_retention_days: 7,
            backup_window: DEFAULT_BACKUP_WINDOW.into(),
            maintenance_window: DEFAULT_MAINTENANCE_WINDOW.into(),
            deletion_protection: true,
            skip_final_snapshot: false,
            apply_immediately: false,
            tags: None,
            tags_all: Tags::new(),
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
        }
    }
}

impl DatabaseState {
    /// The readers: the block's, or the defaults without one.
    pub fn readers(&self) -> Readers {
        self.readers_block.unwrap_or(Readers::DEFAULT)
    }

    /// After reading: the writer joins the readers in `instance_ids`.
    pub fn decoded(&mut self) {
        if let Some(w) = &self.writer_instance_id {
            if !self.instance_ids.contains(w) {
                self.instance_ids.push(w.clone());
            }
        }
        sort_instances(&mut self.instance_ids);
    }

    /// `reader_instance_ids`: the instances made, less the writer.
    pub fn derived(&self) -> Vec<(&'static str, Dyn)> {
        vec![(
            "reader_instance_ids",
            Dyn::from_strings(
                self.instance_ids
                    .iter()
                    .filter(|i| Some(*i) != self.writer_instance_id.as_ref())
                    .cloned(),
            ),
        )]
    }

    pub fn cluster_spec(&self) -> ClusterSpec {
        ClusterSpec {
            id: self.name.clone(),
            engine_version: self.engine_version.clone(),
            database_name: self.database_name.clone(),
            master_username: self.master_username.clone(),
            subnet_group: self.name.clone(),
            security_group_id: self.security_group_id.clone().unwrap_or_default(),
            backup_retention_days: self.backup_retention_days,
            backup_window: self.backup_window.clone(),
            maintenance_window: self.maintenance_window.clone(),
            deletion_protection: self.deletion_protection,
            tags: self.tags_all.clone(),
        }
    }

    /// What the connection secret should hold, once the cluster's endpoints are known.
    pub fn expected_connection(&self) -> Option<BTreeMap<String, String>> {
        let host = self.writer_endpoint.clone()?;
        let mut m = BTreeMap::new();
        m.insert("engine".to_string(), "mysql".to_string());
        m.insert("host".to_string(), host);
        m.insert(
            "reader_host".to_string(),
            self.reader_endpoint.clone().unwrap_or_default(),
        );
        m.insert("port".to_string(), self.port.unwrap_or(PORT).to_string());
        m.insert("dbname".to_string(), self.database_name.clone());
        m.insert("username".to_string(), self.master_username.clone());
        m.insert(
            "master_secret_arn".to_string(),
            self.master_secret_arn.clone().unwrap_or_default(),
        );
        Some(m)
    }

    /// The name of instance `n` (1-based) this resource makes.
    pub fn instance_name(&self, n: usize) -> String {
        format!("{}-{n}", self.name)
    }

    /// Whether `id` is one of this resource's own instances, `<name>-<n>`.
    pub fn owns_instance(&self, id: &str) -> bool {
        instance_number(&self.name, id).is_some()
    }

    /// The security group's name, and the description that marks its ingress rules.
    pub fn security_group_name(&self) -> String {
        format!("{}-db", self.name)
    }

    pub fn rule_marker(&self) -> String {
        format!("fansite_database {}", self.name)
    }

    pub fn connection_secret_name(&self) -> String {
        format!("fansite/{}/connection", self.name)
    }
}

/// One dot-separated part of a version: numbers compare as numbers.
fn version_parts(v: &str) -> Vec<Result<u64, &str>> {
    v.split('.')
        .map(|p| p.parse::<u64>().map_err(|_| p))
        .collect()
}

/// Aurora versions compared numerically part by part (`3.10.0` is newer than
/// `3.9.2` and `3.08.2`), as terraform-provider-aws `engineVersionIsNewer`
/// compares "Aurora-style versions".
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let cmp = |x: &Result<u64, &str>, y: &Result<u64, &str>| match (x, y) {
        (Ok(x), Ok(y)) => x.cmp(y),
        (x, y) => format!("{x:?}").cmp(&format!("{y:?}")),
    };
    let (a, b) = (version_parts(a), version_parts(b));
    a.iter()
        .zip(&b)
        .map(|(x, y)| cmp(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// The major line of an Aurora MySQL version: `8.0.mysql_aurora.3` of
/// `8.0.mysql_aurora.3.10.0`.
fn major_line(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split('.').collect();
    (parts.len() > 4).then(|| parts[..4].join("."))
}

/// `engine_version` as read: the configured value while AWS runs a newer
/// release of the same major line (its own minor upgrade: auto minor version
/// upgrade, or a release leaving support) or has the configured one pending
/// (a change left for the maintenance window); AWS's version otherwise, as
/// drift (terraform-provider-aws `compareActualEngineVersion`).
pub fn engine_version_read(configured: &str, actual: &str, pending: Option<&str>) -> String {
    let same_line = major_line(actual).is_some() && major_line(actual) == major_line(configured);
    let upgraded = same_line && compare_versions(actual, configured).is_gt();
    if !configured.is_empty() && (upgraded || pending == Some(configured)) {
        configured.to_string()
    } else {
        actual.to_string()
    }
}

/// Whether an update sends `EngineVersion`: only when its configured value
/// changed, and to a newer version than the cluster runs. A configured
/// version at or below what AWS already runs is recorded, not sent: RDS
/// refuses a downgrade.
pub fn engine_version_to_send(cur: &DatabaseState, want: &DatabaseState) -> bool {
    cur.engine_version != want.engine_version
        && cur
            .engine_version_actual
            .as_deref()
            .is_none_or(|actual| compare_versions(&want.engine_version, actual).is_gt())
}

pub fn instance_number(name: &str, id: &str) -> Option<usize> {
    id.strip_prefix(name)?.strip_prefix('-')?.parse().ok()
}

/// Sorts `<name>-<n>` ids by their number (so `-10` comes after `-9`).
pub fn sort_instances(ids: &mut [String]) {
    ids.sort_by_key(|id| {
        let n = id
            .rsplit('-')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        (n, id.clone())
    });
}

/// The connection secret's JSON.
pub fn connection_json(m: &BTreeMap<String, String>) -> String {
    let mut obj = serde_json::Map::new();
    for (k, v) in m {
        let value = match k.as_str() {
            "port" => v
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(v.clone())),
            _ => serde_json::Value::from(v.clone()),
        };
        obj.insert(k.clone(), value);
    }
    serde_json::Value::Object(obj).to_string()
}

/// The connection secret's JSON back as a map of strings.
pub fn parse_connection(json: &str) -> BTreeMap<String, String> {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(json) else {
        return BTreeMap::new();
    };
    obj.into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect()
}
