//! Reading a fansite_database back from AWS.

use crate::aws::{autoscaling, ec2, rds, secrets, Aws};
use crate::error::Result;

use super::state::{parse_connection, sort_instances, DatabaseState, Readers, Tags, PORT};

/// The database as AWS has it now; `hints` (the state) supply what AWS does not
/// hold (skip_final_snapshot, apply_immediately, timeouts). `None`: nothing
/// of the database is left.
pub async fn find_database(aws: &Aws, hints: &DatabaseState) -> Result<Option<DatabaseState>> {
    let cluster = rds::describe_cluster(&aws.rds, &hints.name)
        .await?
        .filter(|c| c.status != "deleting");
    let Some(cluster) = cluster else {
        return Ok(without_cluster(hints));
    };
    let mut found = hints.clone();
    found.cluster_id = Some(cluster.id.clone());
    found.cluster_arn = Some(cluster.arn.clone());
    found.writer_endpoint = Some(cluster.writer_endpoint.clone());
    found.reader_endpoint = Some(cluster.reader_endpoint.clone());
    found.port = Some(cluster.port);
    found.engine_version = cluster.engine_version.clone();
    found.database_name = cluster.database_name.clone();
    found.master_username = cluster.master_username.clone();
    found.master_secret_arn = cluster.master_secret_arn.clone();
    found.backup_retention_days = cluster.backup_retention_days;
    found.backup_window = cluster.backup_window.clone();
    found.maintenance_window = cluster.maintenance_window.clone();
    found.deletion_protection = cluster.deletion_protection;

    // Tags: the cluster's, less the provider's defaults.
    let own: Tags = cluster
        .tags
        .iter()
        .filter(|(k, v)| aws.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    found.tags = match (&hints.tags, own.is_empty()) {
        (None, true) => None,
        _ => Some(own),
    };
    found.tags_all = cluster.tags.clone();

    // Subnets.
    match rds::subnet_group_subnets(&aws.rds, &cluster.subnet_group).await? {
        Some(mut subnets) => {
            let mut hinted = hints.subnet_ids.clone();
            hinted.sort();
            // Keep the configured order when the set is the same.
            if hinted == subnets {
                subnets = hints.subnet_ids.clone();
            }
            found.subnet_ids = subnets;
            found.subnet_group_name = Some(cluster.subnet_group.clone());
        }
        // emulator: ModifyDBSubnetGroup drops the group from the endpoint's
        // tables (moto 5.2.5); on AWS a missing group is real drift.
        None => found.subnet_group_name = None,
    }

    // The security group: ours is the one named `<name>-db` among the cluster's.
    let sg_id = hints
        .security_group_id
        .clone()
        .filter(|id| cluster.security_group_ids.contains(id))
        .or_else(|| cluster.security_group_ids.first().cloned());
    found.security_group_id = None;
    if let Some(sg_id) = sg_id {
        if let Some(sg) =
            ec2::find_security_group(&aws.ec2, &sg_id, PORT, &hints.rule_marker()).await?
        {
            found.vpc_id = sg.vpc_id.clone();
            let mut hinted = hints.allowed_security_group_ids.clone().unwrap_or_default();
            hinted.sort();
            found.allowed_security_group_ids =
                match (&hints.allowed_security_group_ids, sg.sources.is_empty()) {
                    (None, true) => None,
                    (Some(h), _) if hinted == sg.sources => Some(h.clone()),
                    _ => Some(sg.sources.clone()),
                };
            found.security_group_id = Some(sg.id);
        }
    }

    // Instances: ours are `<name>-<n>`; the writer is whichever AWS says.
    let mut ours: Vec<String> = cluster
        .members
        .keys()
        .filter(|id| hints.owns_instance(id))
        .cloned()
        .collect();
    sort_instances(&mut ours);
    found.writer_instance_id = cluster
        .members
        .iter()
        .find(|(_, writer)| **writer)
        .map(|(id, _)| id.clone());
    let class_of = found
        .writer_instance_id
        .clone()
        .filter(|w| ours.contains(w))
        .or_else(|| ours.first().cloned());
    if let Some(id) = class_of {
        if let Some(i) = rds::describe_instance(&aws.rds, &id).await? {
            found.instance_class = i.class;
        }
    }
    let readers_made = i32::try_from(ours.len().saturating_sub(1)).unwrap_or(0);
    found.instance_ids = ours;

    // Readers: how many this resource's readers run, and autoscaling's bounds.
    let scaling = autoscaling::reader_scaling(&aws.autoscaling, &hints.name).await?;
    found.readers = match scaling {
        Some((_, max, target)) => Readers {
            min: readers_made,
            max,
            target_cpu: target
                .map(|t| t.round() as i32)
                .unwrap_or(hints.readers.target_cpu),
        },
        None => Readers {
            min: readers_made,
            max: readers_made,
            target_cpu: hints.readers.target_cpu,
        },
    };
    found.readers_block = hints.readers_block || found.readers != Readers::DEFAULT;

    // The connection secret.
    found.connection = None;
    if hints.connection_secret_arn.is_none() {
        found.connection_secret_arn =
            secrets::secret_named(&aws.secrets, &hints.connection_secret_name()).await?;
    }
    if let Some(arn) = found.connection_secret_arn.clone() {
        match secrets::read_secret(&aws.secrets, &arn).await? {
            Some((json, _)) => found.connection = Some(parse_connection(&json)),
            None => found.connection_secret_arn = None,
        }
    }
    Ok(Some(found))
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
        instance_ids: Vec::new(),
        writer_instance_id: None,
        master_secret_arn: None,
        connection: None,
        ..hints.clone()
    })
}
