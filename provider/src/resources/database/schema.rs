use crate::resources::ids;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema, Ty};

use super::{
    rules, DEFAULT_BACKUP_WINDOW, DEFAULT_ENGINE_VERSION, DEFAULT_INSTANCE_CLASS,
    DEFAULT_MAINTENANCE_WINDOW, DEFAULT_MAX_READERS, DEFAULT_MIN_READERS, DEFAULT_TARGET_CPU,
};

pub fn schema() -> Schema {
    let readers = Block {
        description: "Reader instances: at least `min`, in other availability zones than the writer; when `max` is above `min`, Application Auto Scaling adds readers up to `max` to hold the readers' average CPU at `target_cpu`. Left out: one reader, scaling to three at 60 %.".into(),
        attributes: vec![
            Attribute::optional_computed("min", Ty::Number, &format!("Reader instances that always run (default {DEFAULT_MIN_READERS}). With 0 the cluster has no failover target.")).range(0, 15),
            Attribute::optional_computed("max", Ty::Number, &format!("Most readers autoscaling may run, at least `min` (default {DEFAULT_MAX_READERS}, or `min` when that is larger). Equal to `min`: no autoscaling.")).range(0, 15),
            Attribute::optional_computed("target_cpu", Ty::Number, &format!("Average reader CPU, in percent, that autoscaling holds (default {DEFAULT_TARGET_CPU}).")).range(10, 90),
        ],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: "An Aurora MySQL cluster across availability zones: a writer, readers with autoscaling, a DB subnet group, its own security group, encrypted storage, backups. RDS keeps the master password in Secrets Manager, so it never reaches Terraform state; a second secret holds what an app needs to connect, for ECS `valueFrom`.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Cluster identifier, and the prefix of its instances (`<name>-1`, ...), subnet group and security group: lowercase letters, digits and `-`, starting with a letter, at most 50. Changing it replaces the cluster.").force_new().rule(rules::name, "1 to 50 lowercase letters, digits and `-`, starting with a letter, with no `--` and no `-` at the end"),
                Attribute::required("vpc_id", Ty::String, "VPC of the cluster's security group, such as a fansite_network's `vpc_id`. Changing it replaces the cluster.").force_new().rule(ids::vpc, "a VPC ID"),
                Attribute::required("subnet_ids", Ty::Set(Box::new(Ty::String)), "Private subnets for the DB subnet group, in at least two availability zones (a fansite_network's `private_subnet_ids`). Changes in place within the VPC.").rule(ids::subnet, "subnet IDs"),
                Attribute::optional("allowed_security_group_ids", Ty::Set(Box::new(Ty::String)), "Security groups whose members may connect on the cluster's port (3306); nothing else can. Changes in place: new rules are added before old ones are removed.").rule(ids::security_group, "security group IDs"),
                Attribute::optional_computed("engine_version", Ty::String, "Aurora MySQL engine version. The default is a long-term-support (LTS) release. Changes in place (minor versions; at the next maintenance window unless `apply_immediately`); only a change of this value is sent, and never one older than the cluster runs. When AWS upgrades the cluster to a newer minor release of it (auto minor version upgrade, or a release leaving support), this keeps its configured value and `engine_version_actual` shows what runs.").default(DEFAULT_ENGINE_VERSION).rule(rules::engine_version, "an Aurora MySQL 3 version, `8.0.mysql_aurora.3.*`"),
                Attribute::computed("engine_version_actual", Ty::String, "Engine version the cluster runs now, as AWS reports it: newer than `engine_version` after AWS's own minor-version upgrade."),
                Attribute::optional_computed("database_name", Ty::String, "Name of the database created in the cluster: letters, digits and `_`, starting with a letter, at most 64. Changing it replaces the cluster.").default("fansite").force_new().rule(rules::database_name, "1 to 64 letters, digits and `_`, starting with a letter"),
                Attribute::optional_computed("master_username", Ty::String, "Master user name: letters, digits and `_`, starting with a letter, at most 16. Its password is made and rotated by RDS in Secrets Manager (`master_secret_arn`). Changing it replaces the cluster.").default("fansite_admin").force_new().rule(rules::master_username, "1 to 16 letters, digits and `_`, starting with a letter, and not a name MySQL or RDS reserves"),
                Attribute::optional_computed("instance_class", Ty::String, "Instance class of the writer and the readers this resource makes, such as `db.r6g.large` (readers added by autoscaling take the writer's). Changes in place: with `apply_immediately`, one instance at a time, readers first, and the writer last after a failover to an updated reader (so `writer_instance_id` may change); otherwise in the maintenance window.").default(DEFAULT_INSTANCE_CLASS).rule(rules::instance_class, "an instance class such as `db.r6g.large`"),
                Attribute::optional_computed("backup_retention_days", Ty::Number, "Days of automated backups kept.").default(7i64).range(1, 35),
                Attribute::optional_computed("preferred_backup_window", Ty::String, "Daily UTC window for automated backups, `hh24:mi-hh24:mi`, at least 30 minutes. Default 17:00-18:00 UTC (02:00 in Seoul and Tokyo).").default(DEFAULT_BACKUP_WINDOW),
                Attribute::optional_computed("preferred_maintenance_window", Ty::String, "Weekly UTC window for maintenance, `ddd:hh24:mi-ddd:hh24:mi`, not overlapping the backup window.").default(DEFAULT_MAINTENANCE_WINDOW),
                Attribute::optional_computed("deletion_protection", Ty::Bool, "While true, AWS refuses to delete the cluster, and the plan refuses a destroy or a replacement. Set it to false and apply before destroying.").default(true),
                Attribute::optional_computed("skip_final_snapshot", Ty::Bool, "When false (the default), deleting the cluster first takes a final snapshot named `<name>-final-<unix time>`.").default(false).not_refreshed("how the provider deletes the cluster, not a setting of the cluster."),
                Attribute::optional_computed("apply_immediately", Ty::Bool, "Apply engine version and instance class changes now instead of in the maintenance window.").default(false).not_refreshed("how the provider sends a modification, not a setting of the cluster."),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for every part, on top of the provider's `default_tags`. Keys starting with `aws:` are reserved."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the cluster: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("cluster_id", Ty::String, "Cluster identifier."),
                Attribute::computed("cluster_arn", Ty::String, "ARN of the cluster."),
                Attribute::computed("writer_endpoint", Ty::String, "DNS name that always points at the writer."),
                Attribute::computed("reader_endpoint", Ty::String, "DNS name that spreads connections over the readers."),
                Attribute::computed("port", Ty::Number, "Port the cluster listens on."),
                Attribute::computed("security_group_id", Ty::String, "ID of the cluster's security group."),
                Attribute::computed("subnet_group_name", Ty::String, "Name of the DB subnet group."),
                Attribute::computed("writer_instance_id", Ty::String, "Identifier of the instance that is the writer now."),
                Attribute::computed("reader_instance_ids", Ty::list_of_strings(), "Identifiers of the reader instances this resource made (not those autoscaling added)."),
                Attribute::computed("master_secret_arn", Ty::String, "ARN of the Secrets Manager secret where RDS keeps the master user name and password (keys `username`, `password`). Read the password from there; it is never in state."),
                Attribute::computed("connection_secret_arn", Ty::String, "ARN of a secret with the JSON an app needs: `engine`, `host`, `reader_host`, `port`, `dbname`, `username`, `master_secret_arn`. In ECS, `valueFrom = \"<arn>:host::\"` gives one key."),
                Attribute::computed("connection", Ty::map_of_strings(), "What `connection_secret_arn` holds, as a map (no password)."),
            ],
            blocks: vec![
                NestedBlock { name: "readers", nesting: Nesting::OptionalSingle, block: readers },
            ],
        },
    }
}
