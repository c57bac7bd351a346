//! fansite_database against the resource contract's nine tests, composed
//! with a fansite_network as a user would.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{
    autoscaling, ec2, endpoint, rds, run_name, secrets, Block, Config, Terraform, Workspace,
};

/// A fansite_database with the tests' defaults, in a fansite_network of the
/// region's first two zones.
pub(crate) fn database(region: &'static str, test: &str, tf: &Terraform) -> Config {
    database_in(network, region, test, tf)
}

/// A fansite_database with the tests' defaults, in `network`.
fn database_in(network: Block, region: &'static str, test: &str, tf: &Terraform) -> Config {
    // Unique per run; lowercase letters, digits and '-' as cluster ids need.
    Config::new("fansite_database", region, run_name(test, tf))
        .attr("vpc_id", "fansite_network.net.vpc_id")
        .attr("subnet_ids", "fansite_network.net.private_subnet_ids")
        .with("skip_final_snapshot = true")
        .with("tags = { app = \"fansite\" }")
        .extra(network)
}

/// The database's fansite_network: the region's first two zones, named as the database.
fn network(db: &Config) -> String {
    network_of(db, "")
}

/// The database's fansite_network in zones a, b and c.
fn network_in_three_zones(db: &Config) -> String {
    network_of(
        db,
        &format!(
            "  availability_zones = [\"{r}a\", \"{r}b\", \"{r}c\"]\n",
            r = db.region
        ),
    )
}

fn network_of(db: &Config, zones: &str) -> String {
    format!(
        "resource \"fansite_network\" \"net\" {{\n  name               = \"{name}\"\n  cidr_block         = \"10.60.0.0/16\"\n{zones}  nat_strategy       = \"none\"\n}}\n",
        name = db.name,
    )
}

const ADDR: &str = "fansite_database.test";

/// One in-place change to a configuration.
type Change<'a> = Box<dyn Fn(Config) -> Config + 'a>;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Applies the network alone and makes an "app" security group in it through
/// the API (standing in for a service's), then returns the workspace and the group.
pub(crate) async fn setup(db: &Config, tf: &Terraform, test: &str) -> (Workspace, String) {
    let ws = Workspace::applied(tf, test, &db.clone().extras_only().hcl());
    let vpc = s(&ws.state_values("fansite_network.net")["vpc_id"]);
    let sg = app_group(db.region, &vpc, &format!("{}-app", db.name)).await;
    (ws, sg)
}

async fn app_group(region: &str, vpc: &str, name: &str) -> String {
    ec2(region)
        .await
        .create_security_group()
        .vpc_id(vpc)
        .group_name(name)
        .description("app")
        .send()
        .await
        .expect("app security group")
        .group_id()
        .unwrap_or_default()
        .to_string()
}

/// The ids of the clusters DescribeDBClusters gives for `name`:
/// DBClusterNotFoundFault means none; any other error fails the test.
async fn cluster_ids(region: &str, name: &str) -> Vec<String> {
    match rds(region)
        .await
        .describe_db_clusters()
        .db_cluster_identifier(name)
        .send()
        .await
    {
        Ok(c) => c
            .db_clusters()
            .iter()
            .map(|c| c.db_cluster_identifier().unwrap_or_default().to_string())
            .collect(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_db_cluster_not_found_fault()) =>
        {
            Vec::new()
        }
        Err(e) => panic!("describe DB clusters {name}: {e:?}"),
    }
}

/// Every part of the database the endpoint still has, by kind. Only each
/// call's own not-found error means a part is gone; any other error fails
/// the test.
pub(crate) async fn live_parts(region: &str, name: &str, state: &Value) -> Vec<String> {
    let r = rds(region).await;
    let mut parts = Vec::new();
    parts.extend(
        cluster_ids(region, name)
            .await
            .into_iter()
            .map(|id| format!("cluster {id}")),
    );
    let instances = r.describe_db_instances().send().await.expect("instances");
    parts.extend(
        instances
            .db_instances()
            .iter()
            .filter(|i| i.db_cluster_identifier() == Some(name))
            .map(|i| {
                format!(
                    "instance {}",
                    i.db_instance_identifier().unwrap_or_default()
                )
            }),
    );
    match r
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
    {
        Ok(_) => parts.push(format!("subnet group {name}")),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_db_subnet_group_not_found_fault()) => {}
        Err(e) => panic!("describe DB subnet groups {name}: {e:?}"),
    }
    let sg = s(&state["security_group_id"]);
    if !sg.is_empty() && crate::service::group_exists(region, &sg).await {
        parts.push(format!("security group {sg}"));
    }
    for arn in [
        s(&state["connection_secret_arn"]),
        s(&state["master_secret_arn"]),
    ] {
        if !arn.is_empty() && crate::service::secret_live(region, &arn).await {
            parts.push(format!("secret {arn}"));
        }
    }
    let targets = autoscaling(region)
        .await
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Rds)
        .resource_ids(format!("cluster:{name}"))
        .send()
        .await
        .expect("scalable targets");
    parts.extend(
        targets
            .scalable_targets()
            .iter()
            .map(|t| format!("scalable target {}", t.resource_id())),
    );
    parts
}

/// The sources of 3306 ingress on the database's group.
async fn ingress_sources(region: &str, sg: &str) -> Vec<String> {
    let out = ec2(region)
        .await
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
        .expect("sg");
    let mut sources: Vec<String> = out.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(3306))
        .flat_map(|p| p.user_id_group_pairs())
        .filter_map(|p| p.group_id().map(str::to_string))
        .collect();
    sources.sort();
    sources
}

/// Destroys (turning deletion protection off first when it is on) and asks the
/// endpoint that none of the database's parts are left.
pub(crate) async fn destroy_and_check(ws: &Workspace, db: &Config) {
    let state = ws.state_values(ADDR);
    if state["deletion_protection"] == true {
        ws.write(&db.clone().with("deletion_protection = false").hcl());
        ws.apply();
    }
    ws.destroy();
    let left = live_parts(db.region, &db.name, &state).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

async fn database_apply_then_plan_is_empty(tf: &Terraform) {
    let db = database("eu-west-1", "db-apply", tf);
    let (ws, app) = setup(&db, tf, "database-apply").await;
    let db = db.with(&format!("allowed_security_group_ids = [{app:?}]"));
    ws.write(&db.hcl());
    ws.apply();
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let raw = std::fs::read_to_string(ws.dir.join("terraform.tfstate")).expect("state file");
    assert!(
        !raw.to_lowercase().contains("password"),
        "no password in state"
    );
    // Asked of AWS, not the state.
    let r = rds(db.region).await;
    let c = r
        .describe_db_clusters()
        .db_cluster_identifier(&db.name)
        .send()
        .await
        .expect("cluster");
    let c = &c.db_clusters()[0];
    assert_eq!(c.engine(), Some("aurora-mysql"));
    assert_eq!(c.storage_encrypted(), Some(true), "storage encrypted");
    assert_eq!(c.deletion_protection(), Some(true), "protected by default");
    let master = c
        .master_user_secret()
        .and_then(|m| m.secret_arn())
        .expect("RDS-managed master secret");
    assert_eq!(s(&state["master_secret_arn"]), master);
    assert_eq!(c.db_cluster_members().len(), 2, "a writer and one reader");
    let zones: Vec<String> = {
        let all = r.describe_db_instances().send().await.expect("instances");
        let mut z: Vec<String> = all
            .db_instances()
            .iter()
            .filter(|i| i.db_cluster_identifier() == Some(db.name.as_str()))
            .filter_map(|i| i.availability_zone().map(str::to_string))
            .collect();
        z.sort();
        z
    };
    assert_eq!(zones.len(), 2);
    assert_ne!(
        zones[0], zones[1],
        "the reader is in another zone than the writer"
    );
    let tags: Vec<(String, String)> = c
        .tag_list()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().into(),
                t.value().unwrap_or_default().into(),
            )
        })
        .collect();
    assert!(tags.contains(&("suite".into(), "e2e".into())), "{tags:?}");
    assert!(tags.contains(&("app".into(), "fansite".into())), "{tags:?}");
    // Only the allowed group reaches 3306.
    assert_eq!(
        ingress_sources(db.region, &s(&state["security_group_id"])).await,
        vec![app.clone()]
    );
    // Reader autoscaling: 1..3 at 60 % CPU by default.
    let a = autoscaling(db.region).await;
    let t = a
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Rds)
        .resource_ids(format!("cluster:{}", db.name))
        .send()
        .await
        .expect("targets");
    let t = &t.scalable_targets()[0];
    assert_eq!(
        t.scalable_dimension(),
        &ScalableDimension::RdsClusterReadReplicaCount
    );
    assert_eq!((t.min_capacity(), t.max_capacity()), (1, 3));
    let p = a
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Rds)
        .resource_id(format!("cluster:{}", db.name))
        .send()
        .await
        .expect("policies");
    let target = p.scaling_policies()[0]
        .target_tracking_scaling_policy_configuration()
        .map(|c| c.target_value());
    assert_eq!(target, Some(60.0));
    // The connection secret: what an app needs, and no password.
    let secret = secrets(db.region)
        .await
        .get_secret_value()
        .secret_id(s(&state["connection_secret_arn"]))
        .send()
        .await
        .expect("connection secret");
    let json: Value =
        serde_json::from_str(secret.secret_string().unwrap_or_default()).expect("json");
    assert_eq!(
        json["host"],
        Value::String(c.endpoint().unwrap_or_default().into())
    );
    assert_eq!(
        json["reader_host"],
        Value::String(c.reader_endpoint().unwrap_or_default().into())
    );
    assert_eq!(json["port"], 3306);
    assert_eq!(json["master_secret_arn"], Value::String(master.into()));
    assert!(json.get("password").is_none());
    destroy_and_check(&ws, &db).await;
}
per_terraform!(database_apply_then_plan_is_empty);

async fn database_in_place_changes_update_without_replacing(tf: &Terraform) {
    let db = database_in(network_in_three_zones, "eu-west-2", "db-inplace", tf);
    let (ws, app) = setup(&db, tf, "database-inplace").await;
    let vpc = s(&ws.state_values("fansite_network.net")["vpc_id"]);
    let other = app_group(db.region, &vpc, &format!("{}-other", db.name)).await;
    let mut db = db
        .with(&format!("allowed_security_group_ids = [{app:?}]"))
        .with("apply_immediately = true")
        .attr(
            "subnet_ids",
            "slice(fansite_network.net.private_subnet_ids, 0, 2)",
        );
    ws.write(&db.hcl());
    ws.apply();
    let arn = s(&ws.state_values(ADDR)["cluster_arn"]);
    let steps: Vec<(&str, Change)> = vec![
        (
            "allowed groups",
            Box::new(|d: Config| {
                d.with(&format!(
                    "allowed_security_group_ids = [{app:?}, {other:?}]"
                ))
            }),
        ),
        (
            "subnets",
            Box::new(|d: Config| d.attr("subnet_ids", "fansite_network.net.private_subnet_ids")),
        ),
        (
            "backup retention",
            Box::new(|d: Config| d.with("backup_retention_days = 14")),
        ),
        (
            "backup window",
            Box::new(|d: Config| d.with("preferred_backup_window = \"16:00-17:00\"")),
        ),
        (
            "maintenance window",
            Box::new(|d: Config| d.with("preferred_maintenance_window = \"sat:19:00-sat:20:00\"")),
        ),
        (
            "instance class",
            Box::new(|d: Config| d.with("instance_class = \"db.r6g.xlarge\"")),
        ),
        (
            "engine version",
            Box::new(|d: Config| d.with("engine_version = \"8.0.mysql_aurora.3.10.1\"")),
        ),
        (
            "more readers",
            Box::new(|d: Config| d.with("readers {\n    min = 2\n    max = 5\n  }")),
        ),
        (
            "scaling target",
            Box::new(|d: Config| {
                d.with(
                    "readers {\n    min        = 2\n    max        = 6\n    target_cpu = 45\n  }",
                )
            }),
        ),
        (
            "fewer readers",
            Box::new(|d: Config| {
                d.with(
                    "readers {\n    min        = 1\n    max        = 6\n    target_cpu = 45\n  }",
                )
            }),
        ),
        (
            "tags",
            Box::new(|d: Config| d.with("tags = { app = \"fansite\", tier = \"data\" }")),
        ),
        (
            "final snapshot flag",
            Box::new(|d: Config| d.with("skip_final_snapshot = false")),
        ),
        (
            "deletion protection",
            Box::new(|d: Config| d.with("deletion_protection = false")),
        ),
    ];
    for (what, change) in steps {
        db = change(db);
        ws.write(&db.hcl());
        assert_eq!(ws.planned_actions(), update(), "{what}: plan says update");
        ws.apply();
        ws.assert_plan_empty();
        let now = ws.state_values(ADDR);
        assert_eq!(s(&now["cluster_arn"]), arn, "{what}: same cluster");
        if what == "more readers" {
            assert_eq!(
                now["reader_instance_ids"].as_array().map(Vec::len),
                Some(2),
                "{now}"
            );
        }
    }
    // Asked of AWS.
    let r = rds(db.region).await;
    let c = r
        .describe_db_clusters()
        .db_cluster_identifier(&db.name)
        .send()
        .await
        .expect("cluster");
    let c = &c.db_clusters()[0];
    assert_eq!(c.backup_retention_period(), Some(14));
    assert_eq!(c.preferred_backup_window(), Some("16:00-17:00"));
    assert_eq!(
        c.db_cluster_members().len(),
        2,
        "back to a writer and one reader"
    );
    let state = ws.state_values(ADDR);
    let mut both = vec![app.clone(), other.clone()];
    both.sort();
    assert_eq!(
        ingress_sources(db.region, &s(&state["security_group_id"])).await,
        both
    );
    let writer = r
        .describe_db_instances()
        .db_instance_identifier(s(&state["writer_instance_id"]))
        .send()
        .await
        .expect("writer");
    assert_eq!(
        writer.db_instances()[0].db_instance_class(),
        Some("db.r6g.xlarge")
    );
    // The local endpoint loses a DB subnet group that ModifyDBSubnetGroup
    // changed (moto 5.2.5 pops it from its table and never puts it back), so
    // the group's new subnets cannot be asked of it; the state must have them.
    assert_eq!(state["subnet_ids"].as_array().map(Vec::len), Some(3));
    destroy_and_check(&ws, &db).await;
    // skip_final_snapshot = false: the data is kept in a final snapshot.
    let snaps = r
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(&db.name)
        .send()
        .await
        .expect("snapshots");
    assert!(
        snaps.db_cluster_snapshots().iter().any(|s| s
            .db_cluster_snapshot_identifier()
            .is_some_and(|id| id.starts_with(&format!("{}-final-", db.name)))),
        "final snapshot kept"
    );
}
per_terraform!(database_in_place_changes_update_without_replacing);

async fn database_replacing_changes_plan_a_replace(tf: &Terraform) {
    let db = database("eu-central-1", "db-replace", tf);
    let (ws, _) = setup(&db, tf, "database-replace").await;
    ws.write(&db.hcl());
    ws.apply();
    // Protected (the default): a replacement is refused at plan time.
    let renamed = db.clone().named(format!("{}-2", db.name));
    ws.write(&renamed.hcl().replace(
        &format!("name               = \"{}-2\"", db.name),
        &format!("name               = \"{}\"", db.name),
    ));
    let diags = ws.plan_diagnostics();
    assert!(
        diags.iter().any(|d| d.severity == "error"
            && d.summary == "Replacing the cluster is blocked by deletion protection"
            && d.code.contains("name")),
        "{diags:#?}"
    );
    let unprotected = db.clone().with("deletion_protection = false");
    ws.write(&unprotected.hcl());
    ws.apply();
    let replace = vec![(
        ADDR.to_string(),
        vec!["delete".to_string(), "create".to_string()],
    )];
    for (what, line) in [
        ("database_name", "database_name = \"fans\""),
        ("master_username", "master_username = \"fan_admin\""),
    ] {
        ws.write(&unprotected.clone().with(line).hcl());
        assert_eq!(ws.planned_actions(), replace, "{what}");
        let plan = ws.plan();
        assert!(
            plan.contains("Replacing the cluster deletes its data"),
            "{what}: {plan}"
        );
    }
    ws.write(&unprotected.hcl());
    destroy_and_check(&ws, &unprotected).await;
}
per_terraform!(database_replacing_changes_plan_a_replace);

async fn database_import_gives_an_empty_plan(tf: &Terraform) {
    // skip_final_snapshot and apply_immediately are not held by AWS: an import
    // gives their defaults, so this configuration uses the defaults.
    let db = database("us-east-2", "db-import", tf)
        .without("skip_final_snapshot")
        .with("readers {\n    min = 1\n    max = 2\n  }");
    let (ws, app) = setup(&db, tf, "database-import").await;
    let db = db.with(&format!("allowed_security_group_ids = [{app:?}]"));
    ws.write(&db.hcl());
    ws.apply();
    let applied = ws.state_values(ADDR);

    ws.assert_imports_as_applied(ADDR, &db.name, &db.hcl(), &applied);

    let other = "fansite_database.other";
    ws.write(&format!(
        "{}\nresource \"fansite_database\" \"other\" {{\n  name       = \"other\"\n  vpc_id     = fansite_network.net.vpc_id\n  subnet_ids = fansite_network.net.private_subnet_ids\n}}\n",
        db.hcl()
    ));
    let bad = ws.import_fails(other, "Not_A_Cluster");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let bad = ws.import_fails(other, "no-such-cluster");
    assert!(bad.contains("Cannot import non-existent database"), "{bad}");

    ws.write(&db.hcl());
    destroy_and_check(&ws, &db.clone().with("skip_final_snapshot = true")).await;
}
per_terraform!(database_import_gives_an_empty_plan);

async fn database_drift_is_shown_and_repaired(tf: &Terraform) {
    let db = database("ap-southeast-1", "db-drift", tf);
    let (ws, app) = setup(&db, tf, "database-drift").await;
    let db = db.with(&format!("allowed_security_group_ids = [{app:?}]"));
    ws.write(&db.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let sg = s(&state["security_group_id"]);
    let r = rds(db.region).await;
    // Someone lowers backups, opens nothing but removes the app's access, and deletes a reader.
    r.modify_db_cluster()
        .db_cluster_identifier(&db.name)
        .backup_retention_period(1)
        .apply_immediately(true)
        .send()
        .await
        .expect("drift backups");
    ec2(db.region)
        .await
        .revoke_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3306)
                .to_port(3306)
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(&app)
                        .description(format!("fansite_database {}", db.name))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("revoke");
    let reader = state["reader_instance_ids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    r.delete_db_instance()
        .db_instance_identifier(&reader)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("delete reader");
    let plan = ws.plan();
    for shown in ["backup_retention_days", "allowed_security_group_ids", "min"] {
        assert!(plan.contains(shown), "plan shows {shown}: {plan}");
    }
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    let c = r
        .describe_db_clusters()
        .db_cluster_identifier(&db.name)
        .send()
        .await
        .expect("cluster");
    assert_eq!(c.db_clusters()[0].backup_retention_period(), Some(7));
    assert_eq!(
        c.db_clusters()[0].db_cluster_members().len(),
        2,
        "reader made again"
    );
    assert_eq!(ingress_sources(db.region, &sg).await, vec![app.clone()]);
    destroy_and_check(&ws, &db).await;
}
per_terraform!(database_drift_is_shown_and_repaired);

/// Deletes the cluster and its instances through the API, as someone outside
/// Terraform would.
async fn delete_cluster_outside_terraform(region: &str, name: &str, state: &Value) {
    let r = rds(region).await;
    for id in std::iter::once(s(&state["writer_instance_id"])).chain(
        state["reader_instance_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(s),
    ) {
        r.delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await
            .expect("delete instance");
    }
    r.delete_db_cluster()
        .db_cluster_identifier(name)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("delete cluster");
    // AWS removes a deleted cluster's automated snapshots; the local endpoint
    // keeps them, named by the minute, and would refuse a new cluster of the
    // same name within that minute. They are removed here as AWS would.
    let autos = r
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(name)
        .snapshot_type("automated")
        .send()
        .await
        .expect("automated snapshots");
    for snap in autos.db_cluster_snapshots() {
        r.delete_db_cluster_snapshot()
            .db_cluster_snapshot_identifier(
                snap.db_cluster_snapshot_identifier().unwrap_or_default(),
            )
            .send()
            .await
            .expect("delete automated snapshot");
    }
}

async fn database_deleted_cluster_is_recreated(tf: &Terraform) {
    let db = database("ap-southeast-2", "db-gone", tf).with("deletion_protection = false");
    let (ws, _) = setup(&db, tf, "database-gone").await;
    ws.write(&db.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    delete_cluster_outside_terraform(db.region, &db.name, &state).await;
    // Read keeps the group, subnet group and secret that remain, so the
    // cluster is made again in place.
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])],
        "plan re-creates the cluster in place"
    );
    ws.apply();
    ws.assert_plan_empty();
    // The security group, subnet group and connection secret the deleted
    // cluster left are taken over by the new one, not orphaned.
    let now = ws.state_values(ADDR);
    assert_eq!(s(&now["security_group_id"]), s(&state["security_group_id"]));
    assert_eq!(
        s(&now["connection_secret_arn"]),
        s(&state["connection_secret_arn"])
    );
    assert_ne!(
        s(&now["master_secret_arn"]),
        s(&state["master_secret_arn"]),
        "a new cluster, a new master secret"
    );
    // Deleted again, then a destroy: its refresh must not drop the
    // resource, or the group, subnet group and secret are orphaned.
    let now = ws.state_values(ADDR);
    delete_cluster_outside_terraform(db.region, &db.name, &now).await;
    destroy_and_check(&ws, &db).await;
}
per_terraform!(database_deleted_cluster_is_recreated);

async fn database_destroy_leaves_no_parts(tf: &Terraform) {
    let db = database("sa-east-1", "db-destroy", tf);
    let (ws, app) = setup(&db, tf, "database-destroy").await;
    let db = db.with(&format!("allowed_security_group_ids = [{app:?}]"));
    ws.write(&db.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    // A reader that autoscaling added: not in state. The local endpoint does not
    // scale, so it is made the way Application Auto Scaling names its readers.
    let r = rds(db.region).await;
    let autoscaled = format!("application-autoscaling-{}", std::process::id());
    r.create_db_instance()
        .db_instance_identifier(&autoscaled)
        .db_cluster_identifier(&db.name)
        .engine("aurora-mysql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .expect("autoscaled reader");
    ws.assert_plan_empty();
    let before = live_parts(db.region, &db.name, &state).await;
    // cluster, 3 instances, subnet group, security group, 2 secrets, scalable target
    assert_eq!(before.len(), 9, "{before:?}");
    // Protected: destroy is refused before anything is deleted.
    let out = ws.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(out.contains("Deletion protection is on"), "{out}");
    assert_eq!(live_parts(db.region, &db.name, &state).await, before);
    destroy_and_check(&ws, &db).await;
    // Destroying again with nothing in state is a no-op, not an error.
    ws.destroy();
}
per_terraform!(database_destroy_leaves_no_parts);

async fn database_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let db = database("us-west-1", "db-bad", tf);
    let (ws, _) = setup(&db, tf, "database-bad").await;
    let region = db.region;
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("name", db.clone().named("Fan_DB"), "Invalid name", "name"),
        ("one subnet", db.clone().attr("subnet_ids", "[fansite_network.net.private_subnet_ids[0]]"), "Too few subnets", "subnet_ids"),
        (
            "one zone (plan time)",
            db.clone().attr("subnet_ids", "[fansite_network.net.public_subnet_ids[0], fansite_network.net.private_subnet_ids[0]]"),
            "Subnets in one availability zone",
            "subnet_ids",
        ),
        ("group id", db.clone().with("allowed_security_group_ids = [\"web\"]"), "Invalid allowed_security_group_ids", "allowed_security_group_ids"),
        ("engine", db.clone().with("engine_version = \"5.7.mysql_aurora.2.11.2\""), "Invalid engine_version", "engine_version"),
        ("database name", db.clone().with("database_name = \"fan-site\""), "Invalid database_name", "database_name"),
        ("reserved user", db.clone().with("master_username = \"rdsadmin\""), "Invalid master_username", "master_username"),
        ("retention", db.clone().with("backup_retention_days = 40"), "Invalid backup_retention_days", "backup_retention_days"),
        (
            "overlapping windows",
            db.clone().with("preferred_backup_window = \"18:00-19:00\""),
            "Overlapping windows",
            "preferred_backup_window",
        ),
        ("readers max below min", db.clone().with("readers {\n    min = 3\n    max = 2\n  }"), "Invalid readers.max", "max"),
        ("reader cpu", db.clone().with("readers {\n    target_cpu = 99\n  }"), "Invalid readers.target_cpu", "target_cpu"),
        ("bad timeout", db.clone().with("timeouts {\n    create = \"soon\"\n  }"), "Invalid duration", "create"),
        ("reserved tag", db.clone().with("tags = { Name = \"x\" }"), "Reserved tag key", "Name"),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    assert!(
        cluster_ids(region, &db.name).await.is_empty(),
        "bad input made a cluster"
    );
    ws.write(&db.clone().extras_only().hcl());
    ws.destroy();
}
per_terraform!(database_bad_inputs_fail_on_their_attribute);

async fn database_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "CreateDBInstance");
    // The database's default: deletion protection on, a final snapshot on delete.
    let db = database("us-west-2", "db-fault", tf)
        .provider(format!("  endpoints {{\n    rds = {:?}\n  }}\n", proxy.url))
        .without("skip_final_snapshot");
    let (ws, _) = setup(&db, tf, "database-fault").await;
    ws.write(&db.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed CreateDBInstance");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains(&format!("creating DB instance \"{}-1\"", db.name)),
        "the error names the action and part: {out}"
    );
    let state = ws.state_values(ADDR);
    assert_eq!(
        s(&state["cluster_id"]),
        db.name,
        "state keeps the cluster: {state}"
    );
    assert!(s(&state["security_group_id"]).starts_with("sg-"), "{state}");
    assert_eq!(s(&state["subnet_group_name"]), db.name, "{state}");
    assert_eq!(
        state["deletion_protection"], false,
        "protection goes on last: {state}"
    );
    let made = live_parts(db.region, &db.name, &state).await;
    assert!(made.contains(&format!("cluster {}", db.name)), "{made:?}");
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    ws.destroy();
    let left = live_parts(db.region, &db.name, &state).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}
per_terraform!(database_fault_midway_keeps_ids_and_destroy_cleans_up);
