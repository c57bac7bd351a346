//! The database's state: its inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use crate::aws::rds::ClusterSpec;
use crate::value::Dyn;

use super::{
    DEFAULT_BACKUP_WINDOW, DEFAULT_ENGINE_VERSION, DEFAULT_INSTANCE_CLASS,
    DEFAULT_MAINTENANCE_WINDOW, DEFAULT_MAX_READERS, DEFAULT_MIN_READERS, DEFAULT_TARGET_CPU,
};

pub type Tags = BTreeMap<String, String>;

/// The port Aurora MySQL listens on.
pub const PORT: i32 = 3306;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readers {
    pub min: i32,
    pub max: i32,
    pub target_cpu: i32,
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

#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseState {
    pub name: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub allowed_security_group_ids: Option<Vec<String>>,
    pub engine_version: String,
    pub database_name: String,
    pub master_username: String,
    pub instance_class: String,
    pub readers: Readers,
    /// Whether the configuration has a `readers {}` block.
    pub readers_block: bool,
    pub backup_retention_days: i32,
    pub backup_window: String,
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
    pub instance_ids: Vec<String>,
    pub writer_instance_id: Option<String>,
    pub master_secret_arn: Option<String>,
    pub connection_secret_arn: Option<String>,
    /// What the connection secret holds (read back from it).
    pub connection: Option<BTreeMap<String, String>>,
    pub timeouts: Dyn,
}

fn int(v: &Dyn, name: &str, default: i32) -> i32 {
    v.get(name)
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(default)
}

fn string(v: &Dyn, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

fn or(v: Option<String>, default: &str) -> String {
    v.unwrap_or_else(|| default.to_string())
}

impl DatabaseState {
    /// From a state or a plan; unknown values read as their defaults.
    pub fn from_dyn(v: &Dyn) -> DatabaseState {
        let block = v.get("readers").as_list().and_then(|l| l.first()).cloned();
        let readers = match &block {
            Some(b) => {
                let min = int(b, "min", DEFAULT_MIN_READERS);
                Readers {
                    min,
                    max: int(b, "max", DEFAULT_MAX_READERS.max(min)),
                    target_cpu: int(b, "target_cpu", DEFAULT_TARGET_CPU),
                }
            }
            None => Readers::DEFAULT,
        };
        let flag = |name: &str, default: bool| v.get(name).as_bool().unwrap_or(default);
        DatabaseState {
            name: or(string(v, "name"), ""),
            vpc_id: or(string(v, "vpc_id"), ""),
            subnet_ids: v.get("subnet_ids").string_list(),
            allowed_security_group_ids: v
                .get("allowed_security_group_ids")
                .as_list()
                .map(|_| v.get("allowed_security_group_ids").string_list()),
            engine_version: or(string(v, "engine_version"), DEFAULT_ENGINE_VERSION),
            database_name: or(string(v, "database_name"), "fansite"),
            master_username: or(string(v, "master_username"), "fansite_admin"),
            instance_class: or(string(v, "instance_class"), DEFAULT_INSTANCE_CLASS),
            readers,
            readers_block: block.is_some(),
            backup_retention_days: int(v, "backup_retention_days", 7),
            backup_window: or(string(v, "preferred_backup_window"), DEFAULT_BACKUP_WINDOW),
            maintenance_window: or(
                string(v, "preferred_maintenance_window"),
                DEFAULT_MAINTENANCE_WINDOW,
            ),
            deletion_protection: flag("deletion_protection", true),
            skip_final_snapshot: flag("skip_final_snapshot", false),
            apply_immediately: flag("apply_immediately", false),
            tags: v.get("tags").as_map().map(|_| v.get("tags").string_map()),
            tags_all: v.get("tags_all").string_map(),
            cluster_id: string(v, "cluster_id"),
            cluster_arn: string(v, "cluster_arn"),
            writer_endpoint: string(v, "writer_endpoint"),
            reader_endpoint: string(v, "reader_endpoint"),
            port: v.get("port").as_i64().and_then(|p| i32::try_from(p).ok()),
            security_group_id: string(v, "security_group_id"),
            subnet_group_name: string(v, "subnet_group_name"),
            instance_ids: {
                let mut ids = Vec::new();
                ids.extend(string(v, "writer_instance_id"));
                ids.extend(v.get("reader_instance_ids").string_list());
                sort_instances(&mut ids);
                ids
            },
            writer_instance_id: string(v, "writer_instance_id"),
            master_secret_arn: string(v, "master_secret_arn"),
            connection_secret_arn: string(v, "connection_secret_arn"),
            connection: v
                .get("connection")
                .as_map()
                .map(|_| v.get("connection").string_map()),
            timeouts: v.get("timeouts").clone(),
        }
    }

    pub fn to_dyn(&self) -> Dyn {
        let mut v = Dyn::obj();
        let opt = |s: &Option<String>| s.clone().into();
        v.set("name", self.name.clone().into());
        v.set("vpc_id", self.vpc_id.clone().into());
        v.set(
            "subnet_ids",
            Dyn::from_strings(self.subnet_ids.iter().cloned()),
        );
        v.set(
            "allowed_security_group_ids",
            self.allowed_security_group_ids
                .as_ref()
                .map(|l| Dyn::from_strings(l.iter().cloned()))
                .unwrap_or(Dyn::Null),
        );
        v.set("engine_version", self.engine_version.clone().into());
        v.set("database_name", self.database_name.clone().into());
        v.set("master_username", self.master_username.clone().into());
        v.set("instance_class", self.instance_class.clone().into());
        let readers = if self.readers_block {
            let mut b = Dyn::obj();
            b.set("min", i64::from(self.readers.min).into());
            b.set("max", i64::from(self.readers.max).into());
            b.set("target_cpu", i64::from(self.readers.target_cpu).into());
            Dyn::List(vec![b])
        } else {
            Dyn::List(vec![])
        };
        v.set("readers", readers);
        v.set(
            "backup_retention_days",
            i64::from(self.backup_retention_days).into(),
        );
        v.set("preferred_backup_window", self.backup_window.clone().into());
        v.set(
            "preferred_maintenance_window",
            self.maintenance_window.clone().into(),
        );
        v.set("deletion_protection", self.deletion_protection.into());
        v.set("skip_final_snapshot", self.skip_final_snapshot.into());
        v.set("apply_immediately", self.apply_immediately.into());
        v.set(
            "tags",
            self.tags
                .as_ref()
                .map(|t| Dyn::from_string_map(t.iter()))
                .unwrap_or(Dyn::Null),
        );
        v.set("tags_all", Dyn::from_string_map(self.tags_all.iter()));
        v.set("cluster_id", opt(&self.cluster_id));
        v.set("cluster_arn", opt(&self.cluster_arn));
        v.set("writer_endpoint", opt(&self.writer_endpoint));
        v.set("reader_endpoint", opt(&self.reader_endpoint));
        v.set(
            "port",
            self.port
                .map(|p| Dyn::Number(i64::from(p)))
                .unwrap_or(Dyn::Null),
        );
        v.set("security_group_id", opt(&self.security_group_id));
        v.set("subnet_group_name", opt(&self.subnet_group_name));
        v.set("writer_instance_id", opt(&self.writer_instance_id));
        v.set(
            "reader_instance_ids",
            Dyn::from_strings(
                self.instance_ids
                    .iter()
                    .filter(|i| Some(*i) != self.writer_instance_id.as_ref())
                    .cloned(),
            ),
        );
        v.set("master_secret_arn", opt(&self.master_secret_arn));
        v.set("connection_secret_arn", opt(&self.connection_secret_arn));
        v.set(
            "connection",
            self.connection
                .as_ref()
                .map(|m| Dyn::from_string_map(m.iter()))
                .unwrap_or(Dyn::Null),
        );
        v.set("timeouts", self.timeouts.clone());
        v
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
