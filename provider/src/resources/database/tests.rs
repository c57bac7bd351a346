//! Unit tests of what needs no AWS: validation, placement, the state's shape.

use super::state::{connection_json, parse_connection, sort_instances};
use super::*;
use crate::diag::Diags;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fan-db".into());
    c.set("vpc_id", "vpc-1".into());
    c.set("subnet_ids", Dyn::from_strings(["subnet-a", "subnet-b"]));
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn readers(min: Dyn, max: Dyn, cpu: Dyn) -> Dyn {
    let mut b = Dyn::obj();
    b.set("min", min);
    b.set("max", max);
    b.set("target_cpu", cpu);
    Dyn::List(vec![b])
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    // Through the driver: the declared checks, then the resource's own.
    crate::resource::Resource::validate(&crate::driver::Driver(DatabaseResource), c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("name", "Fan_DB".into())], "name", "Invalid name"),
        (vec![("name", "fan--db".into())], "name", "Invalid name"),
        (vec![("vpc_id", "net-1".into())], "vpc_id", "Invalid vpc_id"),
        (
            vec![("subnet_ids", Dyn::from_strings(["subnet-a"]))],
            "subnet_ids",
            "Too few subnets",
        ),
        (
            vec![("subnet_ids", Dyn::from_strings(["subnet-a", "sn-b"]))],
            "subnet_ids",
            "Invalid subnet_ids",
        ),
        (
            vec![("allowed_security_group_ids", Dyn::from_strings(["group"]))],
            "allowed_security_group_ids",
            "Invalid allowed_security_group_ids",
        ),
        (
            vec![("engine_version", "5.7.mysql_aurora.2.11.2".into())],
            "engine_version",
            "Invalid engine_version",
        ),
        (
            vec![("database_name", "fan-site".into())],
            "database_name",
            "Invalid database_name",
        ),
        (
            vec![("master_username", "rdsadmin".into())],
            "master_username",
            "Invalid master_username",
        ),
        (
            vec![("instance_class", "r6g.large".into())],
            "instance_class",
            "Invalid instance_class",
        ),
        (
            vec![("backup_retention_days", 0i64.into())],
            "backup_retention_days",
            "Invalid backup_retention_days",
        ),
        (
            vec![("preferred_backup_window", "17:00-17:10".into())],
            "preferred_backup_window",
            "Invalid preferred_backup_window",
        ),
        (
            vec![("preferred_maintenance_window", "sunday".into())],
            "preferred_maintenance_window",
            "Invalid preferred_maintenance_window",
        ),
        (
            vec![
                ("preferred_backup_window", "18:00-19:00".into()),
                ("preferred_maintenance_window", "sun:18:30-sun:19:30".into()),
            ],
            "preferred_maintenance_window",
            "Overlapping windows",
        ),
        (
            vec![("readers", readers(2i64.into(), 1i64.into(), Dyn::Null))],
            "readers[0].max",
            "Invalid readers.max",
        ),
        (
            vec![("readers", readers(16i64.into(), Dyn::Null, Dyn::Null))],
            "readers[0].min",
            "Invalid readers.min",
        ),
        (
            vec![("readers", readers(Dyn::Null, Dyn::Null, 95i64.into()))],
            "readers[0].target_cpu",
            "Invalid readers.target_cpu",
        ),
        (
            vec![(
                "tags",
                Dyn::from_string_map([(&"Name".to_string(), &"x".to_string())]),
            )],
            "tags[\"Name\"]",
            "Reserved tag key",
        ),
    ];
    for (pairs, path, summary) in cases {
        let got = errors(&config(&pairs));
        assert!(
            got.iter().any(|(p, s)| p == path && s == summary),
            "{pairs:?}: expected {summary:?} at {path}, got {got:?}"
        );
    }
}

#[test]
fn defaults_and_a_good_config_pass() {
    assert_eq!(errors(&config(&[])), vec![]);
    let c = config(&[
        ("readers", readers(2i64.into(), 6i64.into(), 50i64.into())),
        ("preferred_backup_window", "17:00-18:00".into()),
        ("preferred_maintenance_window", "sun:18:30-sun:19:30".into()),
        ("subnet_ids", Dyn::List(vec![Dyn::Unknown])),
    ]);
    assert_eq!(errors(&c), vec![]);
}

#[test]
fn readers_go_to_other_zones_than_the_writer() {
    let zones: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|z| format!("us-east-1{z}"))
        .collect();
    let placed: Vec<&str> = (1..=5)
        .filter_map(|n| converge::zone_for_test(&zones, n))
        .collect();
    assert_eq!(
        placed,
        [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1b",
            "us-east-1c"
        ]
    );
    let one = vec!["us-east-1a".to_string()];
    assert_eq!(converge::zone_for_test(&one, 3), Some("us-east-1a"));
}

#[test]
fn state_round_trips_and_readers_default() {
    let mut v = config(&[("readers", readers(2i64.into(), 4i64.into(), 55i64.into()))]);
    v.set("writer_instance_id", "fan-db-1".into());
    v.set(
        "reader_instance_ids",
        Dyn::from_strings(["fan-db-10", "fan-db-2"]),
    );
    let driver = crate::driver::Driver(DatabaseResource);
    let mut diags = Diags::default();
    let s = driver.decode(&v, &mut diags).expect("decodes");
    assert_eq!(s.readers(), Readers::of(2, 4, 55));
    assert_eq!(s.instance_ids, ["fan-db-1", "fan-db-2", "fan-db-10"]);
    let out = driver.encode("us-east-1", &s, &Dyn::Null).expect("encodes");
    assert_eq!(
        out.get("reader_instance_ids"),
        &Dyn::from_strings(["fan-db-2", "fan-db-10"])
    );
    let back = driver.decode(&out, &mut diags).expect("decodes");
    assert_eq!(back, s);
    let plain = driver.decode(&config(&[]), &mut diags).expect("decodes");
    assert_eq!(plain.readers(), Readers::DEFAULT);
    assert!(plain.readers().autoscaled());
    assert!(!diags.has_errors(), "{diags:?}");
    assert!(plain.deletion_protection, "protected by default");
    assert!(!plain.skip_final_snapshot, "final snapshot by default");
    assert!(s.owns_instance("fan-db-3"));
    assert!(!s.owns_instance("application-autoscaling-1234"));
    assert!(!s.owns_instance("fan-db-x"));
}

#[test]
fn the_connection_secret_has_no_password_and_a_numeric_port() {
    let mut s: DatabaseState = crate::typed::decode(&config(&[])).expect("decodes");
    s.writer_endpoint = Some("w.example".into());
    s.reader_endpoint = Some("r.example".into());
    s.port = Some(3306);
    s.master_secret_arn = Some("arn:aws:secretsmanager:x".into());
    let m = s.expected_connection().expect("known");
    let json = connection_json(&m);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["port"], 3306);
    assert_eq!(v["host"], "w.example");
    assert!(v.get("password").is_none());
    assert_eq!(parse_connection(&json), m);
    let mut ids = vec!["x-2".to_string(), "x-10".to_string(), "x-1".to_string()];
    sort_instances(&mut ids);
    assert_eq!(ids, ["x-1", "x-2", "x-10"]);
}

/// D8: `admin` is a valid master user name (AWS accepts it; the console's
/// default); `rdsadmin` is reserved by RDS.
#[test]
fn admin_is_a_valid_master_username() {
    assert!(rules::master_username("admin").is_none());
    assert!(rules::master_username("rdsadmin").is_some());
}

/// D7: the default engine version is one of Aurora MySQL's LTS lines (3.10),
/// and passes the version rule.
#[test]
fn the_default_engine_version_is_lts() {
    assert!(
        DEFAULT_ENGINE_VERSION.starts_with("8.0.mysql_aurora.3.10."),
        "{DEFAULT_ENGINE_VERSION}"
    );
    assert!(rules::engine_version(DEFAULT_ENGINE_VERSION).is_none());
}

mod engine_version {
    use super::super::state::{compare_versions, engine_version_read, engine_version_to_send};
    use super::super::DatabaseState;

    const V3_10_0: &str = "8.0.mysql_aurora.3.10.0";
    const V3_10_2: &str = "8.0.mysql_aurora.3.10.2";
    const V3_08_2: &str = "8.0.mysql_aurora.3.08.2";

    /// D2: versions compare part by part as numbers.
    #[test]
    fn versions_compare_as_numbers() {
        assert!(compare_versions(V3_10_0, V3_08_2).is_gt());
        assert!(compare_versions("8.0.mysql_aurora.3.9.2", V3_10_0).is_lt());
        assert!(compare_versions(V3_10_2, V3_10_0).is_gt());
        assert!(compare_versions(V3_10_0, V3_10_0).is_eq());
    }

    /// D2: after AWS's own minor upgrade (3.10.0 → 3.10.2) the configured
    /// version is kept, so the plan shows no drift; a pending change equal to
    /// the configured one is kept too; anything else is AWS's (drift).
    #[test]
    fn read_keeps_the_configured_version_over_aws_s_minor_upgrade() {
        assert_eq!(engine_version_read(V3_10_0, V3_10_2, None), V3_10_0);
        assert_eq!(
            engine_version_read(V3_10_2, V3_10_0, Some(V3_10_2)),
            V3_10_2
        );
        assert_eq!(engine_version_read(V3_10_2, V3_10_0, None), V3_10_0);
        assert_eq!(
            engine_version_read("8.0.mysql_aurora.2.11.2", V3_10_0, None),
            V3_10_0
        );
        // Nothing configured (an import): AWS's.
        assert_eq!(engine_version_read("", V3_10_2, None), V3_10_2);
    }

    fn state(configured: &str, actual: Option<&str>) -> DatabaseState {
        DatabaseState {
            engine_version: configured.into(),
            engine_version_actual: actual.map(str::to_string),
            ..DatabaseState::default()
        }
    }

    /// D2: EngineVersion is sent only when the configured value changed, and
    /// never to a version at or below what the cluster runs (a downgrade).
    #[test]
    fn the_version_is_sent_only_when_changed_and_newer() {
        let want = state(V3_10_2, None);
        assert!(!engine_version_to_send(
            &state(V3_10_2, Some(V3_10_2)),
            &want
        ));
        assert!(engine_version_to_send(
            &state(V3_10_0, Some(V3_10_0)),
            &want
        ));
        // AWS already runs 3.10.2: recorded, not sent.
        assert!(!engine_version_to_send(
            &state(V3_10_0, Some(V3_10_2)),
            &want
        ));
        // A configured downgrade is never sent.
        assert!(!engine_version_to_send(
            &state(V3_10_2, Some(V3_10_2)),
            &state(V3_10_0, None)
        ));
    }
}

mod rolling {
    //! The instance-class change against RDS as AWS behaves: each
    //! ModifyDBInstance puts the instance `modifying` for a while; the local
    //! endpoint applies it at once.

    use std::time::Duration;

    use super::super::converge::change_class;
    use super::super::DatabaseState;
    use crate::aws::test_fakes::RollingCluster;
    use crate::ctx::{Ctx, Ended, StopSignal};

    const OLD: &str = "db.r6g.large";
    const NEW: &str = "db.r6g.xlarge";

    /// D1: with apply_immediately, the readers change class one at a time,
    /// each waited for through `modifying` back to `available`; then the
    /// cluster fails over to an updated reader, and the old writer changes
    /// last: never two instances restarting at once, the writer never
    /// restarting while it serves.
    #[tokio::test(start_paused = true)]
    async fn a_class_change_rolls_readers_first_then_the_writer_after_a_failover() {
        let ids = ["fan-db-1", "fan-db-2", "fan-db-3"];
        let fake = RollingCluster::new("fan-db-1", &ids, OLD);
        let mut cur = DatabaseState {
            name: "fan-db".into(),
            instance_class: OLD.into(),
            instance_ids: ids.iter().map(|i| i.to_string()).collect(),
            writer_instance_id: Some("fan-db-1".into()),
            ..DatabaseState::default()
        };
        let ended = Ctx::new(Duration::from_secs(80 * 60), StopSignal::new())
            .run(Duration::ZERO, change_class(&fake.aws, &mut cur, NEW, true))
            .await;
        assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
        assert_eq!(
            fake.log(),
            [
                "modify fan-db-2",
                "modify fan-db-3",
                "failover fan-db-2 (db.r6g.xlarge)",
                "modify fan-db-1"
            ]
        );
        assert!(!fake.overlapped(), "two instances restarted at once");
        assert!(fake.all_available_as(NEW));
        assert_eq!(cur.writer_instance_id.as_deref(), Some("fan-db-2"));
    }
}

mod read_back {
    //! Reading a database back while AWS has changes pending or has upgraded
    //! it by itself: the local endpoint applies every change at once and
    //! never upgrades.

    use super::super::find::find_database;
    use super::super::DatabaseState;
    use crate::aws::test_fakes::upgraded_cluster;

    /// D2 and D3: AWS upgraded the cluster to 3.10.2 by itself, and a class
    /// change waits for the maintenance window. Read keeps the configured
    /// 3.10.0 (with `engine_version_actual` 3.10.2) and reports the pending
    /// class: the next plan is empty instead of asking for a downgrade and
    /// the class change again.
    #[tokio::test]
    async fn an_upgrade_by_aws_and_a_pending_class_are_not_drift() {
        let aws = upgraded_cluster();
        let hints = DatabaseState {
            name: "fan-db".into(),
            engine_version: "8.0.mysql_aurora.3.10.0".into(),
            instance_class: "db.r6g.xlarge".into(),
            connection_secret_arn: Some("arn:aws:secretsmanager:ap-northeast-2:1:secret:x".into()),
            ..DatabaseState::default()
        };
        let found = find_database(&aws, &hints)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(found.engine_version, "8.0.mysql_aurora.3.10.0");
        assert_eq!(
            found.engine_version_actual.as_deref(),
            Some("8.0.mysql_aurora.3.10.2")
        );
        assert_eq!(found.instance_class, "db.r6g.xlarge");
    }
}
