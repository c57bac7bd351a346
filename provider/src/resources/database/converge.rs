//! Making, changing and removing the database's parts, recording each id in
//! `cur` the moment the part exists, so that a failure loses nothing.

use crate::aws::{autoscaling, ec2, rds, secrets, Aws};
use crate::error::Result;

use super::state::{
    connection_json, engine_version_to_send, instance_number, sort_instances, DatabaseState, Tags,
    PORT,
};

fn part_tags(s: &DatabaseState, name: &str) -> Tags {
    let mut t = s.tags_all.clone();
    t.insert("Name".into(), name.to_string());
    t
}

/// The zones instances go to: the writer in the first zone of the subnets, each
/// reader in the next zone other than the writer's, round robin.
async fn instance_zones(aws: &Aws, s: &DatabaseState) -> Result<Vec<String>> {
    let zones = ec2::subnet_zones(&aws.ec2, &s.subnet_ids).await?;
    let mut out: Vec<String> = s
        .subnet_ids
        .iter()
        .filter_map(|id| zones.get(id).cloned())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

fn zone_for(zones: &[String], n: usize) -> Option<&str> {
    // n is 1-based: 1 is the first writer.
    match zones.len() {
        0 => None,
        1 => zones.first().map(String::as_str),
        len => {
            if n == 1 {
                zones.first().map(String::as_str)
            } else {
                // readers cycle over the zones after the writer's
                zones.get(1 + (n - 2) % (len - 1)).map(String::as_str)
            }
        }
    }
}

/// Makes every part. Parts left by an earlier cluster of the same name (its
/// cluster deleted outside Terraform) are taken over, not orphaned: the
/// security group, subnet group and connection secret are found by name.
pub async fn create_all(aws: &Aws, cur: &mut DatabaseState, want: &DatabaseState) -> Result<()> {
    // The security group, open on 3306 only to the allowed groups.
    let sg_name = want.security_group_name();
    let (sg, had) = match ec2::security_group_named(&aws.ec2, &want.vpc_id, &sg_name).await? {
        Some(id) => {
            let had = ec2::find_security_group(&aws.ec2, &id, PORT, &want.rule_marker())
                .await?
                .map(|g| g.sources)
                .unwrap_or_default();
            (id, had)
        }
        None => {
            let id = ec2::create_security_group(
                &aws.ec2,
                &want.vpc_id,
                &sg_name,
                &format!(
                    "Aurora cluster {}: MySQL from allowed security groups only",
                    want.name
                ),
                &part_tags(want, &sg_name),
            )
            .await?;
            (id, Vec::new())
        }
    };
    cur.security_group_id = Some(sg.clone());
    let wanted = want.allowed_security_group_ids.clone().unwrap_or_default();
    for source in wanted.iter().filter(|s| !had.contains(s)) {
        ec2::allow_from(&aws.ec2, &sg, source, PORT, &want.rule_marker()).await?;
    }
    for source in had.iter().filter(|s| !wanted.contains(s)) {
        ec2::revoke_from(&aws.ec2, &sg, source, PORT, &want.rule_marker()).await?;
    }
    cur.allowed_security_group_ids = want.allowed_security_group_ids.clone();

    if rds::subnet_group_subnets(&aws.rds, &want.name)
        .await?
        .is_some()
    {
        rds::modify_subnet_group(&aws.rds, &want.name, &want.subnet_ids).await?;
    } else {
        rds::create_subnet_group(
            &aws.rds,
            &want.name,
            &want.subnet_ids,
            &part_tags(want, &want.name),
        )
        .await?;
    }
    cur.subnet_group_name = Some(want.name.clone());
    cur.connection_secret_arn =
        secrets::secret_named(&aws.secrets, &want.connection_secret_name()).await?;

    // Protection goes on last: a cluster whose create failed midway can still be removed.
    let spec = rds::ClusterSpec {
        deletion_protection: false,
        ..cur.cluster_spec()
    };
    // A cluster of this name still being deleted (deleted outside Terraform a
    // moment ago) must be gone before one of the same name can be made: RDS
    // answers DBClusterAlreadyExistsFault meanwhile, and a create that took it
    // over would wait for a cluster that then disappears. Its instances are
    // gone before it is.
    if let Some(old) = rds::describe_cluster(&aws.rds, &want.name).await? {
        if old.status == "deleting" {
            rds::wait_cluster_deleted(&aws.rds, &want.name, crate::ctx::remaining()).await?;
        }
    }
    let made = rds::create_cluster(&aws.rds, &spec).await?;
    cur.cluster_id = Some(want.name.clone());
    cur.cluster_arn = Some(made.arn.clone()).filter(|a| !a.is_empty());
    cur.master_secret_arn = made.master_secret_arn.clone();
    cur.deletion_protection = false;
    rds::wait_cluster_available(&aws.rds, &want.name, crate::ctx::remaining()).await?;

    let zones = instance_zones(aws, want).await?;
    let count = 1 + usize::try_from(want.readers().min).unwrap_or(0);
    make_instances(aws, cur, want, &zones, count).await?;

    set_scaling(aws, want).await?;
    refresh_cluster(aws, cur).await?;
    sync_connection_secret(aws, cur, want).await?;

    if want.deletion_protection {
        rds::modify_cluster(&aws.rds, &want.cluster_spec(), false, false).await?;
        cur.deletion_protection = true;
        // The apply ends with the cluster available, not still `modifying`:
        // a change made right after (by the next apply or by hand) would be
        // refused with InvalidDBClusterStateFault.
        rds::wait_cluster_available(&aws.rds, &want.name, crate::ctx::remaining()).await?;
    }
    Ok(())
}

/// Makes instances `<name>-<n>` until this resource has `count`, then waits for them.
async fn make_instances(
    aws: &Aws,
    cur: &mut DatabaseState,
    want: &DatabaseState,
    zones: &[String],
    count: usize,
) -> Result<()> {
    let mut made = Vec::new();
    let mut n = cur
        .instance_ids
        .iter()
        .filter_map(|id| instance_number(&cur.name, id))
        .max()
        .unwrap_or(0);
    while cur.instance_ids.len() < count {
        n += 1;
        let id = cur.instance_name(n);
        // A name still held by an instance being deleted is skipped: RDS
        // refuses it (DBInstanceAlreadyExists) until that one is gone.
        if rds::describe_instance(&aws.rds, &id).await?.is_some() {
            continue;
        }
        rds::create_instance(
            &aws.rds,
            &id,
            &want.name,
            &want.instance_class,
            zone_for(zones, n),
            &part_tags(want, &id),
        )
        .await?;
        if cur.writer_instance_id.is_none() {
            cur.writer_instance_id = Some(id.clone());
        }
        cur.instance_ids.push(id.clone());
        made.push(id);
    }
    for id in made {
        rds::wait_instance_available(&aws.rds, &id, crate::ctx::remaining()).await?;
    }
    Ok(())
}

async fn set_scaling(aws: &Aws, want: &DatabaseState) -> Result<()> {
    if want.readers().autoscaled() {
        autoscaling::scale_readers(
            &aws.autoscaling,
            &want.name,
            want.readers().min,
            want.readers().max,
            f64::from(want.readers().target_cpu),
        )
        .await
    } else {
        autoscaling::stop_scaling(&aws.autoscaling, &want.name).await
    }
}

/// Endpoints, port and the writer, as the cluster has them now.
async fn refresh_cluster(aws: &Aws, cur: &mut DatabaseState) -> Result<()> {
    if let Some(c) = rds::describe_cluster(&aws.rds, &cur.name).await? {
        cur.cluster_arn = Some(c.arn);
        cur.writer_endpoint = Some(c.writer_endpoint);
        cur.reader_endpoint = Some(c.reader_endpoint);
        cur.port = Some(c.port);
        cur.master_secret_arn = c.master_secret_arn;
        cur.engine_version_actual = Some(c.engine_version);
        if let Some((id, _)) = c.members.iter().find(|(_, w)| **w) {
            cur.writer_instance_id = Some(id.clone());
        }
    }
    Ok(())
}

/// Writes the connection secret: made when missing, rewritten when it differs.
async fn sync_connection_secret(
    aws: &Aws,
    cur: &mut DatabaseState,
    want: &DatabaseState,
) -> Result<()> {
    let Some(expected) = cur.expected_connection() else {
        return Ok(());
    };
    let json = connection_json(&expected);
    match &cur.connection_secret_arn {
        None => {
            let arn = secrets::create_secret(
                &aws.secrets,
                &want.connection_secret_name(),
                &format!(
                    "How to connect to Aurora cluster {} (the password is in the master secret)",
                    want.name
                ),
                &json,
                &part_tags(want, &want.connection_secret_name()),
            )
            .await?;
            cur.connection_secret_arn = Some(arn);
        }
        Some(arn) if cur.connection.as_ref() != Some(&expected) => {
            secrets::put_value(&aws.secrets, arn, &json).await?;
        }
        Some(_) => {}
    }
    cur.connection = Some(expected);
    Ok(())
}

/// Changes what differs, in an order that keeps the database serving:
/// access rules are added before old ones go; readers are added before
/// any are removed, and the writer is never removed; readers change class
/// one at a time before the writer, which changes after a failover.
pub async fn update_all(aws: &Aws, cur: &mut DatabaseState, want: &DatabaseState) -> Result<()> {
    let (Some(sg), Some(_)) = (cur.security_group_id.clone(), &cur.cluster_id) else {
        // A part is gone (the cluster deleted outside Terraform, say): made
        // again, taking over what remains.
        return create_all(aws, cur, want).await;
    };
    let had = cur.allowed_security_group_ids.clone().unwrap_or_default();
    let wanted = want.allowed_security_group_ids.clone().unwrap_or_default();
    for source in wanted.iter().filter(|s| !had.contains(s)) {
        ec2::allow_from(&aws.ec2, &sg, source, PORT, &want.rule_marker()).await?;
    }
    for source in had.iter().filter(|s| !wanted.contains(s)) {
        ec2::revoke_from(&aws.ec2, &sg, source, PORT, &want.rule_marker()).await?;
    }
    cur.allowed_security_group_ids = want.allowed_security_group_ids.clone();

    if cur.subnet_ids != want.subnet_ids {
        let (mut a, mut b) = (cur.subnet_ids.clone(), want.subnet_ids.clone());
        a.sort();
        b.sort();
        if a != b {
            rds::modify_subnet_group(&aws.rds, &want.name, &want.subnet_ids).await?;
        }
        cur.subnet_ids = want.subnet_ids.clone();
    }

    update_cluster(aws, cur, want, &sg).await?;
    cur.skip_final_snapshot = want.skip_final_snapshot;
    cur.apply_immediately = want.apply_immediately;

    if cur.tags_all != want.tags_all {
        set_all_tags(aws, cur, want).await?;
    }
    cur.tags = want.tags.clone();
    cur.tags_all = want.tags_all.clone();

    // Readers: add first, then remove surplus (never the writer).
    let zones = instance_zones(aws, want).await?;
    let count = 1 + usize::try_from(want.readers().min).unwrap_or(0);
    if cur.instance_ids.len() < count {
        make_instances(aws, cur, want, &zones, count).await?;
    }
    if cur.instance_class != want.instance_class {
        change_class(aws, cur, &want.instance_class, want.apply_immediately).await?;
        cur.instance_class = want.instance_class.clone();
    }
    set_scaling(aws, want).await?;
    cur.readers_block = want.readers_block;
    if cur.instance_ids.len() > count {
        let mut surplus: Vec<String> = cur
            .instance_ids
            .iter()
            .filter(|id| Some(*id) != cur.writer_instance_id.as_ref())
            .cloned()
            .collect();
        sort_instances(&mut surplus);
        let remove: Vec<String> = surplus
            .into_iter()
            .rev()
            .take(cur.instance_ids.len() - count)
            .collect();
        for id in &remove {
            rds::delete_instance(&aws.rds, id).await?;
        }
        for id in &remove {
            rds::wait_instance_deleted(&aws.rds, id, crate::ctx::remaining()).await?;
            cur.instance_ids.retain(|i| i != id);
        }
    }
    refresh_cluster(aws, cur).await?;
    sync_connection_secret(aws, cur, want).await
}

/// ModifyDBCluster for what changed, then waits until the cluster is
/// available again (terraform-provider-aws `resourceClusterUpdate`:
/// ModifyDBCluster, then `waitDBClusterUpdated`), so that the instance
/// changes after it are not refused for the cluster's state. The engine
/// version is sent only when its configured value changed to a newer one
/// than AWS runs (never a downgrade).
async fn update_cluster(
    aws: &Aws,
    cur: &mut DatabaseState,
    want: &DatabaseState,
    sg: &str,
) -> Result<()> {
    let send_version = engine_version_to_send(cur, want);
    let (a, b) = (cur.cluster_spec(), want.cluster_spec());
    let others_changed = (
        a.backup_retention_days,
        a.backup_window,
        a.maintenance_window,
        a.deletion_protection,
    ) != (
        b.backup_retention_days,
        b.backup_window,
        b.maintenance_window,
        b.deletion_protection,
    );
    if send_version || others_changed {
        let spec = rds::ClusterSpec {
            security_group_id: sg.to_string(),
            ..want.cluster_spec()
        };
        rds::modify_cluster(&aws.rds, &spec, send_version, want.apply_immediately).await?;
        if want.apply_immediately {
            rds::wait_cluster_modified(&aws.rds, &want.name, crate::ctx::remaining()).await?;
        } else {
            rds::wait_cluster_available(&aws.rds, &want.name, crate::ctx::remaining()).await?;
        }
    }
    cur.engine_version = want.engine_version.clone();
    cur.backup_retention_days = want.backup_retention_days;
    cur.backup_window = want.backup_window.clone();
    cur.maintenance_window = want.maintenance_window.clone();
    cur.deletion_protection = want.deletion_protection;
    Ok(())
}

/// Changes the class of this resource's instances so that the cluster keeps
/// serving: with `apply_immediately`, one at a time, readers first, each
/// waited for through `modifying` back to `available`; then a failover to an
/// updated reader (FailoverDBCluster), so the old writer changes as a reader;
/// the writer is last. (Without a reader the writer changes in place, with
/// the restart that implies.) Without `apply_immediately` the changes wait
/// for the maintenance window, where AWS applies them.
pub(super) async fn change_class(
    aws: &Aws,
    cur: &mut DatabaseState,
    class: &str,
    apply_immediately: bool,
) -> Result<()> {
    let writer = cur
        .writer_instance_id
        .clone()
        .filter(|w| cur.instance_ids.contains(w));
    let readers: Vec<String> = cur
        .instance_ids
        .iter()
        .filter(|id| Some(*id) != writer.as_ref())
        .cloned()
        .collect();
    if !apply_immediately {
        for id in readers.iter().chain(writer.iter()) {
            rds::modify_instance_class(&aws.rds, id, class, false).await?;
        }
        return Ok(());
    }
    for id in &readers {
        restart_as(aws, id, class).await?;
    }
    let Some(writer) = writer else {
        return Ok(());
    };
    if let Some(target) = readers.first() {
        rds::failover_cluster(&aws.rds, &cur.name, target, crate::ctx::remaining()).await?;
        cur.writer_instance_id = Some(target.clone());
    }
    restart_as(aws, &writer, class).await
}

/// ModifyDBInstance to `class` now, and waits until the instance is back as
/// `class` (terraform-provider-aws `resourceClusterInstanceUpdate`, then
/// `waitDBClusterInstanceUpdated`). A reader just made already has it.
async fn restart_as(aws: &Aws, id: &str, class: &str) -> Result<()> {
    let c = &aws.rds;
    let now = rds::describe_instance(c, id).await?;
    if now.is_some_and(|i| i.class == class && i.pending_class.is_none()) {
        return Ok(());
    }
    rds::modify_instance_class(c, id, class, true).await?;
    rds::wait_instance_class(c, id, class, crate::ctx::remaining()).await
}

async fn set_all_tags(aws: &Aws, cur: &DatabaseState, want: &DatabaseState) -> Result<()> {
    if let Some(arn) = &cur.cluster_arn {
        rds::set_tags(&aws.rds, arn, &cur.tags_all, &want.tags_all).await?;
    }
    let arn_prefix = cur
        .cluster_arn
        .as_deref()
        .and_then(|a| a.rsplit_once(":cluster:").map(|(p, _)| p.to_string()));
    if let Some(prefix) = &arn_prefix {
        for id in &cur.instance_ids {
            rds::set_tags(
                &aws.rds,
                &format!("{prefix}:db:{id}"),
                &part_tags(cur, id),
                &part_tags(want, id),
            )
            .await?;
        }
        let sg_name = &cur.name;
        rds::set_tags(
            &aws.rds,
            &format!("{prefix}:subgrp:{sg_name}"),
            &part_tags(cur, sg_name),
            &part_tags(want, sg_name),
        )
        .await?;
    }
    if let Some(sg) = &cur.security_group_id {
        let name = cur.security_group_name();
        ec2::set_tags(
            &aws.ec2,
            sg,
            &part_tags(cur, &name),
            &part_tags(want, &name),
        )
        .await?;
    }
    if let Some(arn) = &cur.connection_secret_arn {
        let name = cur.connection_secret_name();
        secrets::set_tags(
            &aws.secrets,
            arn,
            &part_tags(cur, &name),
            &part_tags(want, &name),
        )
        .await?;
    }
    Ok(())
}

/// Removes every part, autoscaled readers included, in dependency order.
pub async fn delete_all(
    aws: &Aws,
    cur: &DatabaseState,
    final_snapshot: Option<String>,
) -> Result<()> {
    autoscaling::stop_scaling(&aws.autoscaling, &cur.name).await?;
    if let Some(arn) = &cur.connection_secret_arn {
        secrets::delete_secret(&aws.secrets, arn).await?;
    }
    let members: Vec<String> = match rds::describe_cluster(&aws.rds, &cur.name).await? {
        Some(c) => c.members.keys().cloned().collect(),
        None => Vec::new(),
    };
    let mut instances: Vec<String> = members;
    for id in &cur.instance_ids {
        if !instances.contains(id) {
            instances.push(id.clone());
        }
    }
    for id in &instances {
        rds::delete_instance(&aws.rds, id).await?;
    }
    for id in &instances {
        rds::wait_instance_deleted(&aws.rds, id, crate::ctx::remaining()).await?;
    }
    if cur.cluster_id.is_some() || rds::describe_cluster(&aws.rds, &cur.name).await?.is_some() {
        rds::delete_cluster(&aws.rds, &cur.name, final_snapshot.as_deref()).await?;
        rds::wait_cluster_deleted(&aws.rds, &cur.name, crate::ctx::remaining()).await?;
    }
    if cur.subnet_group_name.is_some() {
        rds::delete_subnet_group(&aws.rds, &cur.name).await?;
    }
    if let Some(sg) = &cur.security_group_id {
        ec2::delete_security_group(&aws.ec2, sg).await?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) fn zone_for_test(zones: &[String], n: usize) -> Option<&str> {
    zone_for(zones, n)
}
