//! Reading a fansite_database back from AWS.

use std::collections::BTreeMap;

use crate::aws::{autoscaling, ec2, rds, secrets, Aws};
use crate::error::Result;

use super::state::{
    engine_version_read, instance_number, parse_connection, sort_instances, DatabaseState, Readers,
    PORT,
};
use crate::resources::{in_configured_order, null_if_unset, own_tags};

/// The database as AWS has it now, field by field. `None`: nothing of the
/// database is left.
///
/// `engine_version` keeps its configured value while AWS runs a newer minor
/// release of it or has it pending ([`engine_version_read`]);
/// `engine_version_actual` is AWS's. `instance_class` is the pending class
/// when a change waits for the maintenance window.
///
/// Not refreshed, because AWS does not hold them (listed in the docs):
/// `skip_final_snapshot` and `apply_immediately` (how the provider deletes and
/// modifies). `vpc_id` and `allowed_security_group_ids` come from the
/// security group, and keep their prior value while it is gone; the
/// subnets' and sources' configured order is kept when the set is the same.
pub async fn find_database(aws: &Aws, hints: &DatabaseState) -> Result<Option<DatabaseState>> {
    let cluster = rds::describe_cluster(&aws.rds, &hints.name)
        .await?
        .filter(|c| c.status != "deleting");
    let Some(cluster) = cluster else {
        return Ok(without_cluster(hints));
    };

    let (subnet_ids, subnet_group_name) =
        match rds::subnet_group_subnets(&aws.rds, &cluster.subnet_group).await? {
            Some(subnets) => (
                in_configured_order(&hints.subnet_ids, subnets),
                Some(cluster.subnet_group.clone()),
            ),
            // emulator: ModifyDBSubnetGroup drops the group from the endpoint's
            // tables (moto 5.2.5); on AWS a missing group is real drift.
            None => (hints.subnet_ids.clone(), None),
        };

    // The security group: ours is the one named `<name>-db` among the cluster's.
    let sg_id = hints
        .security_group_id
        .clone()
        .filter(|id| cluster.security_group_ids.contains(id))
        .or_else(|| cluster.security_group_ids.first().cloned());
    let sg = match sg_id {
        Some(id) => ec2::find_security_group(&aws.ec2, &id, PORT, &hints.rule_marker()).await?,
        None => None,
    };
    let (vpc_id, allowed_security_group_ids) = match &sg {
        Some(sg) => (
            sg.vpc_id.clone(),
            match &hints.allowed_security_group_ids {
                None if sg.sources.is_empty() => None,
                Some(h) => Some(in_configured_order(h, sg.sources.clone())),
                None => Some(sg.sources.clone()),
            },
        ),
        None => (
            hints.vpc_id.clone(),
            hints.allowed_security_group_ids.clone(),
        ),
    };

    // Instances: ours are `<name>-<n>`; the writer is whichever AWS says.
    let instance_ids: Vec<String> = cluster
        .members
        .keys()
        .filter(|id| hints.owns_instance(id))
        .cloned()
        .collect();
    // An instance being deleted (by hand, say) stays a member until it is
    // gone, but it is going: it is not counted, so the plan makes it again.
    // One call reads them all.
    let instances = if instance_ids.is_empty() {
        BTreeMap::new()
    } else {
        rds::cluster_instances(&aws.rds, &cluster.id).await?
    };
    let mut instance_ids: Vec<String> = instance_ids
        .into_iter()
        .filter(|id| instances.get(id).is_some_and(|i| i.status != "deleting"))
        .collect();
    sort_instances(&mut instance_ids);
    let writer_instance_id = cluster
        .members
        .iter()
        .find(|(_, writer)| **writer)
        .map(|(id, _)| id.clone());
    let class_of = writer_instance_id
        .clone()
        .filter(|w| instance_ids.contains(w))
        .or_else(|| instance_ids.first().cloned());
    let instance_class = class_of
        .and_then(|id| instances.get(&id))
        // A change left for the maintenance window is what was asked for.
        .map(|i| i.pending_class.clone().unwrap_or_else(|| i.class.clone()))
        .unwrap_or_else(|| hints.instance_class.clone());

    // Readers: how many this resource's readers run, and autoscaling's bounds.
    let readers_made = i32::try_from(instance_ids.len().saturating_sub(1)).unwrap_or(0);
    let target_cpu = hints.readers().target_cpu;
    let readers = match autoscaling::reader_scaling(&aws.autoscaling, &hints.name).await? {
        Some((_, max, target)) => Readers {
            min: readers_made,
            max,
            target_cpu: target.map(|t| t.round() as i32).unwrap_or(target_cpu),
        },
        None => Readers {
            min: readers_made,
            max: readers_made,
            target_cpu,
        },
    };
    let readers_block =
        (hints.readers_block.is_some() || readers != Readers::DEFAULT).then_some(readers);

    // The connection secret.
    let secret_arn = match &hints.connection_secret_arn {
        Some(arn) => Some(arn.clone()),
        None => secrets::secret_named(&aws.secrets, &hints.connection_secret_name()).await?,
    };
    let (connection_secret_arn, connection) = match secret_arn {
        Some(arn) => match secrets::read_secret(&aws.secrets, &arn).await? {
            Some((json, _)) => (Some(arn), Some(parse_connection(&json))),
            None => (None, None),
        },
        None => (None, None),
    };

    Ok(Some(DatabaseState {
        name: cluster.id.clone(),
        vpc_id,
        subnet_ids,
        allowed_security_group_ids,
        engine_version: engine_version_read(
            &hints.engine_version,
            &cluster.engine_version,
            cluster.pending_engine_version.as_deref(),
        ),
        engine_version_actual: Some(cluster.engine_version.clone()),
        database_name: cluster.database_name.clone(),
        master_username: cluster.master_username.clone(),
        instance_class,
        readers_block,
        backup_retention_days: cluster.backup_retention_days,
        backup_window: cluster.backup_window.clone(),
        maintenance_window: cluster.maintenance_window.clone(),
        deletion_protection: cluster.deletion_protection,
        skip_final_snapshot: hints.skip_final_snapshot,
        apply_immediately: hints.apply_immediately,
        tags: null_if_unset(&hints.tags, own_tags(&cluster.tags, &aws.default_tags)),
        tags_all: cluster.tags.clone(),
        cluster_id: Some(cluster.id.clone()),
        cluster_arn: Some(cluster.arn.clone()),
        writer_endpoint: Some(cluster.writer_endpoint.clone()),
        reader_endpoint: Some(cluster.reader_endpoint.clone()),
        port: Some(cluster.port),
        security_group_id: sg.map(|sg| sg.id),
        subnet_group_name,
        instance_ids,
        writer_instance_id,
        master_secret_arn: cluster.master_secret_arn.clone(),
        connection_secret_arn,
        connection,
    }))
}

/// The identifiers of the region's clusters that fansite_database made, as
/// import asks: Aurora MySQL, not being deleted, in a security group, with
/// an instance named `<identifier>-<n>`. The clusters carry no tag of the
/// resource's own, so this is read from one DescribeDBClusters (filtered by
/// engine) alone.
pub async fn list_databases(aws: &Aws) -> Result<Vec<String>> {
    Ok(rds::list_clusters(&aws.rds)
        .await?
        .into_iter()
        .filter(|c| {
            c.status != "deleting"
                && !c.security_group_ids.is_empty()
                && c.members
                    .keys()
                    .any(|m| instance_number(&c.id, m).is_some())
        })
        .map(|c| c.id)
        .collect())
}

/// The cluster is gone (or going) while its security group, subnet group or
/// connection secret may remain: those are kept, so that the next apply makes
/// the cluster again in place and a destroy (whose refresh comes first) still
/// removes them. `None` when nothing remains.
fn without_cluster(hints: &DatabaseState) -> Option<DatabaseState> {
    let remains = hints.security_group_id.is_some()
        || hints.subnet_group_name.is_some()
        || hints.connection_secret_arn.is_some();
    remains.then(|| DatabaseState {
        cluster_id: None,
        cluster_arn: None,
        writer_endpoint: None,
        reader_endpoint: None,
        port: None,
        engine_version_actual: None,
        instance_ids: Vec::new(),
        writer_instance_id: None,
        master_secret_arn: None,
        connection: None,
        ..hints.clone()
    })
}
