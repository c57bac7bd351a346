//! RDS: Aurora clusters, their instances, DB subnet groups and tags.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_rds::types::{Filter, Tag};
use aws_sdk_rds::Client;

use super::wait::{Missing, Seen, Wait};
use super::{answered, aws_error, gone_is_done, not_found_if, retry_eventual};
use crate::error::Result;

pub use super::Tags;

/// The engine every cluster uses: Aurora MySQL.
pub const ENGINE: &str = "aurora-mysql";

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

pub async fn create_subnet_group(
    c: &Client,
    name: &str,
    subnets: &[String],
    tags: &Tags,
) -> Result<()> {
    c.create_db_subnet_group()
        .db_subnet_group_name(name)
        .db_subnet_group_description(format!("Subnets of Aurora cluster {name}"))
        .set_subnet_ids(Some(subnets.to_vec()))
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("DB subnet group {name:?}"), e))?;
    Ok(())
}

pub async fn modify_subnet_group(c: &Client, name: &str, subnets: &[String]) -> Result<()> {
    c.modify_db_subnet_group()
        .db_subnet_group_name(name)
        .set_subnet_ids(Some(subnets.to_vec()))
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("DB subnet group {name:?}"), e))?;
    Ok(())
}

/// The subnet ids of the group, or `None` when it is gone.
pub async fn subnet_group_subnets(c: &Client, name: &str) -> Result<Option<Vec<String>>> {
    match c
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_subnet_groups().first().map(|g| {
            let mut ids: Vec<String> = g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier().map(str::to_string))
                .collect();
            ids.sort();
            ids
        })),
        Err(e) => {
            let e = not_found_if("describing", &format!("DB subnet group {name:?}"), e, |e| {
                e.is_db_subnet_group_not_found_fault()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub async fn delete_subnet_group(c: &Client, name: &str) -> Result<()> {
    let part = format!("DB subnet group {name:?}");
    // The group stays in use for a while after its cluster's last instance is
    // deleted: InvalidDBSubnetGroupStateFault until RDS lets go of it.
    let res = retry_eventual(&["InvalidDBSubnetGroupStateFault"], || async {
        c.delete_db_subnet_group()
            .db_subnet_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &part, e, |e| {
                    e.is_db_subnet_group_not_found_fault()
                })
            })
    })
    .await;
    gone_is_done(res)
}

/// What the resource sets on a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSpec {
    pub id: String,
    pub engine_version: String,
    pub database_name: String,
    pub master_username: String,
    pub subnet_group: String,
    pub security_group_id: String,
    pub backup_retention_days: i32,
    pub backup_window: String,
    pub maintenance_window: String,
    pub deletion_protection: bool,
    pub tags: Tags,
}

/// A cluster as AWS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    pub id: String,
    pub arn: String,
    pub status: String,
    pub writer_endpoint: String,
    pub reader_endpoint: String,
    pub port: i32,
    pub engine_version: String,
    /// The version a modification waits to apply (the maintenance window's).
    pub pending_engine_version: Option<String>,
    pub database_name: String,
    pub master_username: String,
    pub master_secret_arn: Option<String>,
    pub backup_retention_days: i32,
    pub backup_window: String,
    pub maintenance_window: String,
    pub deletion_protection: bool,
    pub storage_encrypted: bool,
    pub subnet_group: String,
    pub security_group_ids: Vec<String>,
    /// Instance id → whether it is the writer.
    pub members: BTreeMap<String, bool>,
    pub tags: Tags,
}

/// Creates the cluster: encrypted storage, and a master password that RDS
/// makes and keeps in Secrets Manager, so that no password passes through here.
pub async fn create_cluster(c: &Client, s: &ClusterSpec) -> Result<ClusterInfo> {
    let out = c
        .create_db_cluster()
        .db_cluster_identifier(&s.id)
        .engine(ENGINE)
        .engine_version(&s.engine_version)
        .database_name(&s.database_name)
        .master_username(&s.master_username)
        .manage_master_user_password(true)
        .db_subnet_group_name(&s.subnet_group)
        .vpc_security_group_ids(&s.security_group_id)
        .storage_encrypted(true)
        .backup_retention_period(s.backup_retention_days)
        .preferred_backup_window(&s.backup_window)
        .preferred_maintenance_window(&s.maintenance_window)
        .deletion_protection(s.deletion_protection)
        .copy_tags_to_snapshot(true)
        .set_tags(Some(to_tags(&s.tags)))
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("Aurora cluster {:?}", s.id), e))?;
    Ok(out
        .db_cluster()
        .map(cluster_info)
        .unwrap_or_else(|| ClusterInfo::named(&s.id)))
}

impl ClusterInfo {
    fn named(id: &str) -> ClusterInfo {
        ClusterInfo {
            id: id.to_string(),
            arn: String::new(),
            status: String::new(),
            writer_endpoint: String::new(),
            reader_endpoint: String::new(),
            port: 3306,
            engine_version: String::new(),
            pending_engine_version: None,
            database_name: String::new(),
            master_username: String::new(),
            master_secret_arn: None,
            backup_retention_days: 0,
            backup_window: String::new(),
            maintenance_window: String::new(),
            deletion_protection: false,
            storage_encrypted: false,
            subnet_group: String::new(),
            security_group_ids: Vec::new(),
            members: BTreeMap::new(),
            tags: Tags::new(),
        }
    }
}

fn cluster_info(d: &aws_sdk_rds::types::DbCluster) -> ClusterInfo {
    let s = |v: Option<&str>| v.unwrap_or_default().to_string();
    ClusterInfo {
        id: s(d.db_cluster_identifier()),
        arn: s(d.db_cluster_arn()),
        status: s(d.status()),
        writer_endpoint: s(d.endpoint()),
        reader_endpoint: s(d.reader_endpoint()),
        port: d.port().unwrap_or(3306),
        engine_version: s(d.engine_version()),
        pending_engine_version: d
            .pending_modified_values()
            .and_then(|p| p.engine_version())
            .map(str::to_string),
        database_name: s(d.database_name()),
        master_username: s(d.master_username()),
        master_secret_arn: d
            .master_user_secret()
            .and_then(|m| m.secret_arn())
            .map(str::to_string),
        backup_retention_days: d.backup_retention_period().unwrap_or(1),
        backup_window: s(d.preferred_backup_window()),
        maintenance_window: s(d.preferred_maintenance_window()),
        deletion_protection: d.deletion_protection().unwrap_or(false),
        storage_encrypted: d.storage_encrypted().unwrap_or(false),
        subnet_group: s(d.db_subnet_group()),
        security_group_ids: d
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        members: d
            .db_cluster_members()
            .iter()
            .filter_map(|m| {
                Some((
                    m.db_instance_identifier()?.to_string(),
                    m.is_cluster_writer().unwrap_or(false),
                ))
            })
            .collect(),
        tags: tags_of(d.tag_list()),
    }
}

/// The cluster, or `None` when it is gone.
pub async fn describe_cluster(c: &Client, id: &str) -> Result<Option<ClusterInfo>> {
    match c
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_clusters().first().map(cluster_info)),
        Err(e) => {
            let e = not_found_if("describing", &format!("Aurora cluster {id:?}"), e, |e| {
                e.is_db_cluster_not_found_fault()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Every Aurora MySQL cluster of the region: one DescribeDBClusters, filtered
/// by engine, paged.
pub async fn list_clusters(c: &Client) -> Result<Vec<ClusterInfo>> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .describe_db_clusters()
            .filters(Filter::builder().name("engine").values(ENGINE).build())
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| aws_error("listing", "Aurora clusters", e))?;
        out.extend(page.db_clusters().iter().map(cluster_info));
        marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

/// While a cluster is in one of these, a modification is refused
/// (`InvalidDBClusterStateFault`) and retried until the deadline: after an
/// instance is added or removed, or an initial backup, the cluster is briefly
/// not `available` (terraform-provider-aws `resourceClusterUpdate` retries
/// InvalidDBClusterStateFault; `resourceClusterDelete` "is not currently in
/// the available state").
const CLUSTER_STATE_CODES: &[&str] = &["InvalidDBClusterStateFault", "InvalidDBInstanceState"];

/// The statuses a cluster passes through on its way to `available`
/// (terraform-provider-aws `waitDBClusterCreated` and `waitDBClusterUpdated`),
/// and `failing-over` after FailoverDBCluster.
const CLUSTER_BUSY: &[&str] = &[
    "creating",
    "backing-up",
    "modifying",
    "upgrading",
    "migrating",
    "preparing-data-migration",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "configuring-iam-database-auth",
    "scaling-compute",
    "maintenance",
    "failing-over",
];

/// The statuses a cluster may show until it is gone (terraform-provider-aws
/// `waitDBClusterDeleted`: available, backing-up, deleting, modifying,
/// promoting, scaling-compute; plus the passing ones above).
const CLUSTER_GOING: &[&str] = &[
    "available",
    "deleting",
    "promoting",
    "creating",
    "backing-up",
    "modifying",
    "upgrading",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "configuring-iam-database-auth",
    "scaling-compute",
    "maintenance",
    "failing-over",
];

/// Sets what can change in place. The engine version only when `send_version`
/// (its configured value changed): a version sent again after AWS's own minor
/// upgrade would ask for a downgrade (terraform-provider-aws sets
/// `EngineVersion` only when `d.HasChange("engine_version")`).
/// `apply_immediately` false leaves the changes AWS defers (engine version) to
/// the maintenance window.
pub async fn modify_cluster(
    c: &Client,
    s: &ClusterSpec,
    send_version: bool,
    apply_immediately: bool,
) -> Result<()> {
    let part = format!("Aurora cluster {:?}", s.id);
    retry_eventual(CLUSTER_STATE_CODES, || async {
        c.modify_db_cluster()
            .db_cluster_identifier(&s.id)
            .set_engine_version(send_version.then(|| s.engine_version.clone()))
            .backup_retention_period(s.backup_retention_days)
            .preferred_backup_window(&s.backup_window)
            .preferred_maintenance_window(&s.maintenance_window)
            .deletion_protection(s.deletion_protection)
            .allow_major_version_upgrade(false)
            .apply_immediately(apply_immediately)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("updating", &part, e))
    })
    .await
}

/// Deletes the cluster, with a final snapshot of this name unless `None`.
/// Gone is done; a cluster already deleting is done too (the wait follows).
pub async fn delete_cluster(c: &Client, id: &str, final_snapshot: Option<&str>) -> Result<()> {
    let part = format!("Aurora cluster {id:?}");
    let res = retry_eventual(CLUSTER_STATE_CODES, || async {
        let res = c
            .delete_db_cluster()
            .db_cluster_identifier(id)
            .skip_final_snapshot(final_snapshot.is_none())
            .set_final_db_snapshot_identifier(final_snapshot.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("deleting", &part, e, |e| e.is_db_cluster_not_found_fault()));
        match res {
            Err(e) if answered(&e, "InvalidDBClusterStateFault", "is already being deleted") => {
                Ok(())
            }
            other => other,
        }
    })
    .await;
    gone_is_done(res)
}

/// Asks RDS to make `target` the writer (FailoverDBCluster), then waits until
/// it is and the cluster is available again.
pub async fn failover_cluster(c: &Client, id: &str, target: &str, timeout: Duration) -> Result<()> {
    let part = format!("Aurora cluster {id:?}");
    retry_eventual(CLUSTER_STATE_CODES, || async {
        c.failover_db_cluster()
            .db_cluster_identifier(id)
            .target_db_instance_identifier(target)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("failing over", &part, e))
    })
    .await?;
    let goal = format!("available with {target} as its writer");
    Wait {
        part: &part,
        goal: &goal,
        done: &["available"],
        pending: CLUSTER_BUSY,
        missing: Missing::Fails,
        timeout,
    }
    .until(|| async {
        Ok(describe_cluster(c, id).await?.map(|cl| {
            let writer = cl.members.get(target).copied().unwrap_or(false);
            match cl.status.as_str() {
                // Until RDS has switched, the cluster may still read as available.
                "available" if !writer => Seen::status("failing-over"),
                status => Seen::status(status),
            }
        }))
    })
    .await
    .map(|_| ())
}

/// What a cluster poll reads as: its status, or `modifying` while `available`
/// with an engine version still pending when `no_pending` asks to wait it out
/// (terraform-provider-aws `waitDBClusterUpdated` with
/// `waitNoPendingModifiedValues`).
fn cluster_seen(cl: &ClusterInfo, no_pending: bool) -> Seen {
    if no_pending && cl.status == "available" && cl.pending_engine_version.is_some() {
        return Seen::status("modifying");
    }
    Seen::status(cl.status.clone())
}

/// Aurora clusters take 5–15 minutes to become available (AWS documentation).
/// A just-made cluster may not be visible at once: not found is waited out for
/// a minute (terraform-provider-aws `RetryWhenNewResourceNotFound`).
pub async fn wait_cluster_available(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    wait_cluster(c, id, false, Missing::WhileNew, timeout).await
}

/// After ModifyDBCluster with apply_immediately: until it is available with no
/// modification pending.
pub async fn wait_cluster_modified(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    wait_cluster(c, id, true, Missing::Fails, timeout).await
}

async fn wait_cluster(
    c: &Client,
    id: &str,
    no_pending: bool,
    missing: Missing,
    timeout: Duration,
) -> Result<()> {
    let part = format!("Aurora cluster {id:?}");
    Wait {
        part: &part,
        goal: "available",
        done: &["available"],
        pending: CLUSTER_BUSY,
        missing,
        timeout,
    }
    .until(|| async {
        Ok(describe_cluster(c, id)
            .await?
            .map(|cl| cluster_seen(&cl, no_pending)))
    })
    .await
    .map(|_| ())
}

pub async fn wait_cluster_deleted(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("Aurora cluster {id:?}");
    Wait {
        part: &part,
        goal: "deleted",
        done: &[],
        pending: CLUSTER_GOING,
        missing: Missing::Done,
        timeout,
    }
    .until(|| async {
        Ok(describe_cluster(c, id)
            .await?
            .map(|cl| cluster_seen(&cl, false)))
    })
    .await
    .map(|_| ())
}

/// An instance as AWS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceInfo {
    pub id: String,
    pub class: String,
    /// The class a modification waits to apply (the maintenance window's).
    pub pending_class: Option<String>,
    pub zone: String,
    pub status: String,
}

/// The statuses an instance passes through on its way to `available`
/// (terraform-provider-aws `waitDBClusterInstanceCreated` and
/// `waitDBClusterInstanceUpdated`).
const INSTANCE_BUSY: &[&str] = &[
    "backing-up",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
    "creating",
    "maintenance",
    "modifying",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "starting",
    "storage-optimization",
    "upgrading",
];

/// The statuses an instance may show until it is gone: terraform-provider-aws
/// `waitDBInstanceDeleted` (available, backing-up,
/// configuring-enhanced-monitoring, configuring-log-exports, creating,
/// delete-precheck, deleting, incompatible-parameters, modifying, starting,
/// stopping, storage-full, storage-optimization), plus the passing ones the
/// SDK's DBInstanceDeleted waiter wrongly fails on (rebooting,
/// resetting-master-credentials, …): an autoscaled reader still being made,
/// or one still changing class, is waited out.
const INSTANCE_GOING: &[&str] = &[
    "available",
    "backing-up",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
    "creating",
    "delete-precheck",
    "deleting",
    "incompatible-parameters",
    "maintenance",
    "modifying",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "starting",
    "stopping",
    "storage-full",
    "storage-optimization",
    "upgrading",
];

/// While an instance is not available, RDS refuses to change it
/// (`InvalidDBInstanceState`), or its cluster (`InvalidDBClusterStateFault`).
const INSTANCE_STATE_CODES: &[&str] = &["InvalidDBInstanceState", "InvalidDBClusterStateFault"];

pub async fn create_instance(
    c: &Client,
    id: &str,
    cluster: &str,
    class: &str,
    zone: Option<&str>,
    tags: &Tags,
) -> Result<()> {
    let part = format!("DB instance {id:?}");
    // The cluster is briefly not available after an instance was added or
    // removed (terraform-provider-aws `resourceClusterInstanceCreate` retries
    // InvalidDBClusterStateFault).
    retry_eventual(&["InvalidDBClusterStateFault"], || async {
        c.create_db_instance()
            .db_instance_identifier(id)
            .db_cluster_identifier(cluster)
            .engine(ENGINE)
            .db_instance_class(class)
            .set_availability_zone(zone.map(str::to_string))
            .publicly_accessible(false)
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("creating", &part, e))
    })
    .await
}

fn instance_info(d: &aws_sdk_rds::types::DbInstance) -> InstanceInfo {
    InstanceInfo {
        id: d.db_instance_identifier().unwrap_or_default().to_string(),
        class: d.db_instance_class().unwrap_or_default().to_string(),
        pending_class: d
            .pending_modified_values()
            .and_then(|p| p.db_instance_class())
            .map(str::to_string),
        zone: d.availability_zone().unwrap_or_default().to_string(),
        status: d.db_instance_status().unwrap_or_default().to_string(),
    }
}

/// Every instance of the cluster, by its id: one DescribeDBInstances filtered
/// by `db-cluster-id`, paged, instead of one call per instance.
pub async fn cluster_instances(
    c: &Client,
    cluster: &str,
) -> Result<BTreeMap<String, InstanceInfo>> {
    let mut out = BTreeMap::new();
    let mut marker = None;
    loop {
        let page = c
            .describe_db_instances()
            .filters(
                Filter::builder()
                    .name("db-cluster-id")
                    .values(cluster)
                    .build(),
            )
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    "describing",
                    &format!("the instances of cluster {cluster:?}"),
                    e,
                )
            })?;
        for d in page.db_instances() {
            let info = instance_info(d);
            out.insert(info.id.clone(), info);
        }
        marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

/// The instance, or `None` when it is gone.
pub async fn describe_instance(c: &Client, id: &str) -> Result<Option<InstanceInfo>> {
    match c
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_instances().first().map(|d| InstanceInfo {
            id: id.to_string(),
            ..instance_info(d)
        })),
        Err(e) => {
            let e = not_found_if("describing", &format!("DB instance {id:?}"), e, |e| {
                e.is_db_instance_not_found_fault()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Sends the new class; retried while the instance or its cluster is busy.
pub async fn modify_instance_class(
    c: &Client,
    id: &str,
    class: &str,
    apply_immediately: bool,
) -> Result<()> {
    let part = format!("DB instance {id:?}");
    retry_eventual(INSTANCE_STATE_CODES, || async {
        c.modify_db_instance()
            .db_instance_identifier(id)
            .db_instance_class(class)
            .apply_immediately(apply_immediately)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("updating", &part, e))
    })
    .await
}

/// Deletes the instance. Gone is done, and so is "already being deleted"
/// (terraform-provider-aws PR #5624); any other refusal for its state (still
/// being made, say) is retried until the deadline.
pub async fn delete_instance(c: &Client, id: &str) -> Result<()> {
    let part = format!("DB instance {id:?}");
    let res = retry_eventual(INSTANCE_STATE_CODES, || async {
        let res = c
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &part, e, |e| e.is_db_instance_not_found_fault())
            });
        match res {
            Err(e) if answered(&e, "InvalidDBInstanceState", "is already being deleted") => Ok(()),
            other => other,
        }
    })
    .await;
    gone_is_done(res)
}

/// RDS gives no reason beside the status: a failed wait names the status
/// itself (`failed`, `inaccessible-encryption-credentials`, …).
fn instance_seen(i: &InstanceInfo) -> Seen {
    Seen::status(i.status.clone())
}

/// Aurora instances take 5–10 minutes to become available (AWS documentation).
pub async fn wait_instance_available(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("DB instance {id:?}");
    Wait {
        part: &part,
        goal: "available",
        done: &["available"],
        pending: INSTANCE_BUSY,
        missing: Missing::WhileNew,
        timeout,
    }
    .until(|| async { Ok(describe_instance(c, id).await?.map(|i| instance_seen(&i))) })
    .await
    .map(|_| ())
}

/// After ModifyDBInstance with apply_immediately: until the instance runs as
/// `class` and is available again. An instance that still reads `available`
/// with its old class has not started the change yet, so it counts as
/// `modifying` (terraform-provider-aws waits 30 s before its first poll for
/// the same reason).
pub async fn wait_instance_class(
    c: &Client,
    id: &str,
    class: &str,
    timeout: Duration,
) -> Result<()> {
    let part = format!("DB instance {id:?}");
    let goal = format!("available as {class}");
    Wait {
        part: &part,
        goal: &goal,
        done: &["available"],
        pending: INSTANCE_BUSY,
        missing: Missing::Fails,
        timeout,
    }
    .until(|| async {
        Ok(describe_instance(c, id).await?.map(|i| {
            let applied = i.class == class && i.pending_class.is_none();
            if i.status == "available" && !applied {
                Seen::status("modifying")
            } else {
                instance_seen(&i)
            }
        }))
    })
    .await
    .map(|_| ())
}

pub async fn wait_instance_deleted(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("DB instance {id:?}");
    Wait {
        part: &part,
        goal: "deleted",
        done: &[],
        pending: INSTANCE_GOING,
        missing: Missing::Done,
        timeout,
    }
    .until(|| async { Ok(describe_instance(c, id).await?.map(|i| instance_seen(&i))) })
    .await
    .map(|_| ())
}

/// Makes the tags on `arn` equal `want`.
pub async fn set_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let changed: Tags = want
        .iter()
        .filter(|(k, v)| had.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        c.add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(to_tags(&changed)))
            .send()
            .await
            .map_err(|e| aws_error("tagging", arn, e))?;
    }
    let removed: Vec<String> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        c.remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", arn, e))?;
    }
    Ok(())
}

/// Whether a cluster snapshot of this name exists.
pub async fn cluster_snapshot_exists(c: &Client, id: &str) -> Result<bool> {
    match c
        .describe_db_cluster_snapshots()
        .db_cluster_snapshot_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(!out.db_cluster_snapshots().is_empty()),
        Err(e) => {
            let e = not_found_if("describing", &format!("cluster snapshot {id:?}"), e, |e| {
                e.is_db_cluster_snapshot_not_found_fault()
            });
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[path = "rds_tests.rs"]
mod tests;
