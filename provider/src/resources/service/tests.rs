use super::state::{resource_label, secret_arn_of, split_image};
use super::*;

fn config(extra: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fansite-api".into());
    c.set(
        "image",
        "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api".into(),
    );
    c.set("image_tag", "1.4.2".into());
    c.set("vpc_id", "vpc-0123".into());
    c.set(
        "public_subnet_ids",
        Dyn::from_strings(["subnet-a", "subnet-b"]),
    );
    c.set(
        "private_subnet_ids",
        Dyn::from_strings(["subnet-c", "subnet-d"]),
    );
    for (k, v) in extra {
        c.set(k, v.clone());
    }
    c
}

fn block(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut b = Dyn::obj();
    for (k, v) in pairs {
        b.set(k, v.clone());
    }
    Dyn::List(vec![b])
}

fn errors(c: &Dyn) -> Vec<String> {
    let mut d = Diags::default();
    // Through the driver: the declared checks, then the resource's own.
    crate::resource::Resource::validate(&crate::driver::Driver(ServiceResource), c, &mut d);
    d.0.into_iter()
        .filter(|i| i.severity == crate::diag::Severity::Error)
        .map(|i| format!("{} @ {}", i.summary, i.path.unwrap_or_default()))
        .collect()
}

#[test]
fn a_good_configuration_passes() {
    assert_eq!(errors(&config(&[])), Vec::<String>::new());
}

#[test]
fn bad_inputs_are_refused_at_their_attribute() {
    let cases: Vec<(Vec<(&str, Dyn)>, &str)> = vec![
        (vec![("name", "Fan_API".into())], "Invalid name @ name"),
        (
            vec![("name", "a-name-that-is-far-too-long-for-an-alb".into())],
            "Invalid name @ name",
        ),
        (
            vec![("image_tag", "latest".into())],
            "Invalid image_tag @ image_tag",
        ),
        (
            vec![("image_tag", "1.2".into())],
            "Invalid image_tag @ image_tag",
        ),
        (
            vec![("image_tag", "01.2.3".into())],
            "Invalid image_tag @ image_tag",
        ),
        (
            vec![("image", "repo/fansite-api:1.0.0".into())],
            "Invalid image @ image",
        ),
        (vec![("cpu", Dyn::Number(300))], "Invalid cpu @ cpu"),
        (
            vec![("cpu", Dyn::Number(256)), ("memory", Dyn::Number(4096))],
            "Invalid memory for cpu @ memory",
        ),
        (
            vec![("container_port", Dyn::Number(70000))],
            "Invalid container_port @ container_port",
        ),
        (
            vec![(
                "secrets",
                Dyn::from_string_map([(&"DB".to_string(), &"plain".to_string())]),
            )],
            "Invalid secrets @ secrets[\"DB\"]",
        ),
        (
            vec![("log_retention_days", Dyn::Number(10))],
            "Invalid log_retention_days @ log_retention_days",
        ),
        (
            vec![("ingress", "everyone".into())],
            "Invalid ingress @ ingress",
        ),
        (
            vec![("keep_revisions", Dyn::Number(0))],
            "Invalid keep_revisions @ keep_revisions",
        ),
        (
            vec![("desired_count", Dyn::Number(-1))],
            "Invalid desired_count @ desired_count",
        ),
        (
            vec![("public_subnet_ids", Dyn::from_strings(["subnet-a"]))],
            "Too few subnets @ public_subnet_ids",
        ),
        (
            vec![("vpc_id", "default".into())],
            "Invalid vpc_id @ vpc_id",
        ),
        (
            vec![("certificate_arn", "cert".into())],
            "Invalid certificate_arn @ certificate_arn",
        ),
        (
            vec![(
                "autoscaling",
                block(&[("min", Dyn::Number(5)), ("max", Dyn::Number(3))]),
            )],
            "Invalid autoscaling.max @ autoscaling[0].max",
        ),
        (
            vec![("autoscaling", block(&[("target_cpu", Dyn::Number(95))]))],
            "Invalid autoscaling.target_cpu @ autoscaling[0].target_cpu",
        ),
        (
            vec![("health_check", block(&[("path", "health".into())]))],
            "Invalid health_check.path @ health_check[0].path",
        ),
        (
            vec![("health_check", block(&[("matcher", "ok".into())]))],
            "Invalid health_check.matcher @ health_check[0].matcher",
        ),
        (
            vec![(
                "deployment",
                block(&[("maximum_percent", Dyn::Number(100))]),
            )],
            "Deployment cannot start @ deployment[0].maximum_percent",
        ),
        (
            vec![(
                "alerts",
                block(&[("slack_webhook_url", "http://hooks".into())]),
            )],
            "Invalid slack_webhook_url @ alerts[0].slack_webhook_url",
        ),
        (
            vec![("allow_to", block(&[("security_group_id", "db".into())]))],
            "Invalid allow_to.security_group_id @ allow_to[0].security_group_id",
        ),
        (
            vec![("origin_secret_rotation", "2026-12".into())],
            "Origin secret without CloudFront ingress @ origin_secret_rotation",
        ),
    ];
    for (extra, want) in cases {
        let got = errors(&config(&extra));
        assert!(got.iter().any(|g| g == want), "{want}: got {got:?}");
    }
}

#[test]
fn environment_and_secrets_do_not_overlap() {
    let env = Dyn::from_string_map([(&"DB_HOST".to_string(), &"x".to_string())]);
    let arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf:host::"
        .to_string();
    let sec = Dyn::from_string_map([(&"DB_HOST".to_string(), &arn)]);
    let got = errors(&config(&[("environment", env), ("secrets", sec)]));
    assert!(
        got.iter().any(|g| g.starts_with("Variable set twice")),
        "{got:?}"
    );
}

#[test]
fn a_password_in_the_environment_is_warned_about() {
    let env = Dyn::from_string_map([(&"DB_PASSWORD".to_string(), &"x".to_string())]);
    let mut d = Diags::default();
    validate_config(&config(&[("environment", env)]), &mut d);
    assert!(d
        .0
        .iter()
        .any(|i| i.severity == crate::diag::Severity::Warning
            && i.summary == "Secret in plain environment"));
}

#[test]
fn semantic_versions() {
    for ok in [
        "1.2.3",
        "v1.2.3",
        "0.0.1",
        "1.5.0-rc.1",
        "2.0.0+build.7",
        "10.20.30",
    ] {
        assert_eq!(semver_problem(ok), None, "{ok}");
    }
    for bad in [
        "latest", "1.2", "v1", "1.2.3.4", "01.2.3", "1.2.x", "", "1.2.3-", "stable",
    ] {
        assert!(semver_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn fargate_sizes() {
    assert_eq!(fargate_memory(256), Some(vec![512, 1024, 2048]));
    assert!(fargate_memory(512)
        .is_some_and(|m| m.contains(&1024) && m.contains(&4096) && !m.contains(&512)));
    assert!(fargate_memory(8192)
        .is_some_and(|m| m.contains(&16384) && m.contains(&61440) && !m.contains(&17408)));
    assert_eq!(fargate_memory(300), None);
}

#[test]
fn state_round_trips() {
    let mut c = config(&[
        (
            "autoscaling",
            block(&[
                ("min", Dyn::Number(3)),
                ("max", Dyn::Number(12)),
                ("target_cpu", Dyn::Number(55)),
                ("requests_per_target", Dyn::Number(900)),
                ("scheduled", Dyn::List(vec![])),
            ]),
        ),
        (
            "alerts",
            block(&[
                ("cpu_threshold", Dyn::Number(70)),
                ("evaluation_periods", Dyn::Number(2)),
                ("slack_webhook_url", "https://hooks.slack.com/x".into()),
            ]),
        ),
    ]);
    c.set("revision", Dyn::Number(7));
    c.set(
        "allow_to",
        block(&[
            ("security_group_id", "sg-1".into()),
            ("port", Dyn::Number(3306)),
        ]),
    );
    let s: ServiceState = crate::typed::decode(&c).expect("decodes");
    let out = crate::typed::encode(&s).expect("encodes");
    assert_eq!(
        crate::typed::decode::<ServiceState>(&out).expect("decodes"),
        s
    );
    assert_eq!(s.scaling().requests_per_target, Some(900));
    assert_eq!(
        s.allow_to,
        vec![state::AllowTo {
            security_group_id: "sg-1".into(),
            port: 3306
        }]
    );
    assert_eq!(
        s.cluster(),
        "fansite-api",
        "the cluster is the service's own when none is named"
    );
    assert!(s.owns_cluster());
}

#[test]
fn names_and_arns() {
    assert_eq!(
        secret_arn_of(
            "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf:host::"
        ),
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf"
    );
    assert_eq!(
        secret_arn_of(
            "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf"
        ),
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf"
    );
    assert_eq!(
        resource_label(
            "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fansite-api/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/fansite-api/943f017f100becff"
        ),
        "app/fansite-api/50dc6c495c0c9188/targetgroup/fansite-api/943f017f100becff"
    );
    assert_eq!(
        split_image("registry:5000/team/api:1.2.3"),
        ("registry:5000/team/api".to_string(), "1.2.3".to_string())
    );
    assert_eq!(
        split_image("team/api"),
        ("team/api".to_string(), String::new())
    );
}

#[test]
fn the_notifier_package_is_a_zip_python_can_read() {
    assert_eq!(
        notifier::crc32_for_test(b"123456789"),
        0xcbf4_3926,
        "the standard CRC-32 check value"
    );
    let zip = notifier::package();
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert_eq!(zip, notifier::package(), "the same bytes each time");
    let dir = std::env::temp_dir().join(format!("fansite-notifier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("notifier.zip");
    std::fs::write(&path, &zip).expect("write");
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; sys.stdout.write(z.read('notifier.py').decode())"])
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), notifier::SOURCE);
    let _ = std::fs::remove_dir_all(dir);
}

/// S10: a partial secret ARN (without the 6 characters Secrets Manager adds
/// to the name) works in ECS but matches nothing in the execution role's
/// policy: refused on its key, saying what to write. Full secret ARNs, with
/// or without a JSON key, and SSM parameter ARNs pass.
#[test]
fn secrets_need_full_arns() {
    let with = |v: &str| {
        errors(&config(&[(
            "secrets",
            Dyn::from_string_map([(&"DB_HOST".to_string(), &v.to_string())]),
        )]))
    };
    for ok in [
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf",
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db-AbCdEf:host::",
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-52b46777-UnXfUT:password:AWSCURRENT:",
        "arn:aws:ssm:ap-northeast-2:123456789012:parameter/fansite/api/key",
    ] {
        assert_eq!(with(ok), Vec::<String>::new(), "{ok}");
    }
    for bad in [
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db",
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db:host::",
        "arn:aws:ssm:ap-northeast-2:123456789012:parameter/",
        "fansite/db-AbCdEf",
    ] {
        assert_eq!(
            with(bad),
            vec!["Invalid secrets @ secrets[\"DB_HOST\"]".to_string()],
            "{bad}"
        );
    }
    let why = rules::secret_reference(
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db:host::",
    )
    .unwrap_or_default();
    assert!(
        why.contains("partial secret ARN") && why.contains("-AbCdEf"),
        "{why}"
    );
}

/// S10: a value known only at plan (another resource's output) is checked there.
#[test]
fn secrets_known_only_at_plan_are_checked_at_plan() {
    let c = config(&[(
        "secrets",
        Dyn::from_string_map([(
            &"DB_HOST".to_string(),
            &"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/db".to_string(),
        )]),
    )]);
    let mut d = Diags::default();
    check_known_at_plan(&c, &mut d);
    let got: Vec<String> =
        d.0.into_iter()
            .map(|i| format!("{} @ {}", i.summary, i.path.unwrap_or_default()))
            .collect();
    assert_eq!(
        got,
        vec!["Invalid secrets @ secrets[\"DB_HOST\"]".to_string()]
    );
}

/// S13: a certificate of another region (CloudFront's, in us-east-1) is
/// refused at plan time, before any part is made.
#[test]
fn the_certificate_must_be_in_the_load_balancer_s_region() {
    let cert = |arn: &str| config(&[("certificate_arn", arn.into())]);
    let mut d = Diags::default();
    check_certificate_region(
        "ap-northeast-2",
        &cert("arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"),
        &mut d,
    );
    assert!(d.0.is_empty(), "{:?}", d.0);
    check_certificate_region(
        "ap-northeast-2",
        &cert("arn:aws:acm:us-east-1:123456789012:certificate/abc"),
        &mut d,
    );
    let got: Vec<String> =
        d.0.iter()
            .map(|i| format!("{} @ {}", i.summary, i.path.clone().unwrap_or_default()))
            .collect();
    assert_eq!(
        got,
        vec!["Certificate in another region @ certificate_arn".to_string()]
    );
    assert!(d.0[0].detail.contains("us-east-1"), "{}", d.0[0].detail);
}

/// The listeners and origin secret of `cur` brought to `want` on the fake load balancer.
async fn sync(
    alb: &crate::aws::test_fakes::OriginAlb,
    cur: &mut ServiceState,
    want: &ServiceState,
) -> crate::error::Result<()> {
    crate::aws::test_mocks::in_operation(converge::sync_listeners(
        &alb.aws,
        cur,
        want,
        crate::aws::test_fakes::ORIGIN_LB_ARN,
        "tg",
    ))
    .await
}

/// A service that takes requests from CloudFront only, as the fake load
/// balancer has it (its secret's current value sent by the edge).
fn from_cloudfront(rotation: &str) -> ServiceState {
    ServiceState {
        name: "fan-api".into(),
        ingress: "cloudfront".into(),
        origin_secret_rotation: Some(rotation.into()),
        origin_secret_arn: Some(crate::aws::test_fakes::ORIGIN_SECRET_ARN.into()),
        origin_secret_version: Some("version-1".into()),
        origin_rule_arn: Some("rule".into()),
        ..ServiceState::default()
    }
}

/// A rotation makes the rule accept a new value next to the current one
/// before the new value becomes current: at no moment is a request refused
/// that carries the value the edge sent, or the new current value (what an
/// edge applied at that moment sends). Writing the secret first would refuse
/// the new value until the rule had it.
#[tokio::test]
async fn a_rotation_never_refuses_what_an_edge_may_send() {
    let alb = crate::aws::test_fakes::OriginAlb::new(true);
    let mut cur = from_cloudfront("2026-11");
    let want = from_cloudfront("2026-12");
    sync(&alb, &mut cur, &want).await.expect("rotated");
    assert_eq!(alb.refused(), Vec::<String>::new(), "{:?}", alb.log());
    assert_eq!(alb.log(), vec!["ModifyRule", "PutSecretValue"]);
    assert_eq!(
        alb.current().as_deref(),
        Some("v2"),
        "a new value is current"
    );
    assert_eq!(
        alb.listener(),
        (Some(vec!["v2".to_string(), "v1".to_string()]), false),
        "the new and the previous value are accepted, nothing else"
    );
    assert_eq!(cur.origin_secret_version.as_deref(), Some("version-2"));
    assert_eq!(cur.origin_secret_rotation.as_deref(), Some("2026-12"));

    // The same rotation again changes nothing.
    let log = alb.log();
    sync(&alb, &mut cur, &want).await.expect("unchanged");
    assert_eq!(alb.log(), log, "nothing to change");
}

/// Back to `ingress = "internet"`: the listener forwards everything before
/// the rule goes, then the secret is deleted.
#[tokio::test]
async fn leaving_cloudfront_forwards_before_the_rule_goes() {
    let alb = crate::aws::test_fakes::OriginAlb::new(true);
    let mut cur = from_cloudfront("1");
    let want = ServiceState {
        ingress: "internet".into(),
        origin_secret_rotation: None,
        ..from_cloudfront("1")
    };
    sync(&alb, &mut cur, &want).await.expect("internet");
    assert_eq!(
        alb.log(),
        vec!["ModifyListener (forward)", "DeleteRule", "DeleteSecret"]
    );
    assert_eq!(alb.refused(), Vec::<String>::new());
    assert_eq!(alb.listener(), (None, true));
    assert_eq!(
        (cur.origin_secret_arn, cur.origin_rule_arn),
        (None, None),
        "nothing of the origin secret is left in state"
    );
}

/// To `ingress = "cloudfront"` (the secret found by its name, as a create
/// that failed left it): the rule forwards the secret before the listener
/// refuses the rest, and nothing is rotated.
#[tokio::test]
async fn taking_cloudfront_only_makes_the_rule_before_refusing() {
    let alb = crate::aws::test_fakes::OriginAlb::new(false);
    let mut cur = ServiceState {
        name: "fan-api".into(),
        ..ServiceState::default()
    };
    let want = ServiceState {
        origin_secret_arn: None,
        origin_secret_version: None,
        origin_rule_arn: None,
        ..from_cloudfront("1")
    };
    sync(&alb, &mut cur, &want).await.expect("cloudfront");
    assert_eq!(
        alb.log(),
        vec!["CreateRule", "ModifyListener (fixed-response)"]
    );
    assert_eq!(alb.refused(), Vec::<String>::new());
    assert_eq!(alb.listener(), (Some(vec!["v1".to_string()]), false));
    assert!(cur.origin_rule_arn.is_some());
}

/// The origin parts are planned only with `ingress = "cloudfront"`, made
/// again when read found them gone, and a rotation plans a new version.
#[test]
fn origin_parts_are_planned_with_cloudfront_only() {
    let mut prior = Dyn::obj();
    prior.set("ingress", "cloudfront".into());
    prior.set("origin_secret_rotation", "1".into());
    prior.set("origin_secret_arn", "arn".into());
    prior.set("origin_secret_version", "v1".into());
    prior.set("origin_rule_arn", "rule".into());
    let plan = |f: &dyn Fn(&mut Dyn)| {
        let mut planned = prior.clone();
        f(&mut planned);
        plan_origin(Some(&prior), &mut planned);
        [
            "origin_secret_arn",
            "origin_secret_version",
            "origin_rule_arn",
        ]
        .map(|p| planned.get(p).clone())
    };
    let known = |s: &str| Dyn::String(s.into());
    assert_eq!(
        plan(&|_| {}),
        [known("arn"), known("v1"), known("rule")],
        "unchanged"
    );
    assert_eq!(
        plan(&|p| p.set("origin_secret_rotation", "2".into())),
        [known("arn"), Dyn::Unknown, known("rule")],
        "a rotation: a new version"
    );
    let mut gone = prior.clone();
    gone.set("origin_rule_arn", Dyn::Null);
    let mut planned = gone.clone();
    plan_origin(Some(&gone), &mut planned);
    assert!(
        planned.get("origin_rule_arn").is_unknown(),
        "a rule gone is made again"
    );
    assert_eq!(
        plan(&|p| p.set("ingress", "internet".into())),
        [Dyn::Null, Dyn::Null, Dyn::Null],
        "none from the internet"
    );
}

#[test]
fn the_image_is_given_or_a_repository_s() {
    let no_image = {
        let mut c = config(&[]);
        c.set("image", Dyn::Null);
        c
    };
    assert_eq!(errors(&no_image), vec!["Missing image @ image"]);
    let repo = |pairs: &[(&str, Dyn)]| {
        let mut c = no_image.clone();
        c.set("repository", block(pairs));
        c
    };
    assert_eq!(errors(&repo(&[])), Vec::<String>::new());
    assert_eq!(
        errors(&config(&[("repository", block(&[]))])),
        vec!["image with a repository block @ image"]
    );
    assert_eq!(
        errors(&repo(&[("name", "Fan_API".into())])),
        vec!["Invalid repository.name @ repository[0].name"]
    );
    assert_eq!(
        errors(&repo(&[
            ("create", false.into()),
            ("keep_images", Dyn::Number(3)),
            ("force_delete", true.into()),
        ])),
        vec![
            "Setting of a repository made elsewhere @ repository[0].keep_images",
            "Setting of a repository made elsewhere @ repository[0].force_delete",
        ]
    );
    assert_eq!(
        errors(&repo(&[
            ("create", false.into()),
            ("name", "team/api".into())
        ])),
        Vec::<String>::new()
    );
}

#[test]
fn repository_names_follow_ecr() {
    for good in ["fansite-api", "team/api", "a.b_c-d", "42"] {
        assert_eq!(rules::repository_name(good), None, "{good}");
    }
    for bad in ["a", "Fan", "-api", "team//api", "team/-api", "api name"] {
        assert!(rules::repository_name(bad).is_some(), "{bad}");
    }
}

#[test]
fn a_pinned_image_runs_the_digest_and_reads_back_its_tag() {
    let pinned = ServiceState {
        image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api".into(),
        image_tag: "1.4.2".into(),
        image_digest: Some("sha256:abc".into()),
        ..ServiceState::default()
    };
    let spec = pinned.task_spec("ap-northeast-2");
    assert_eq!(
        spec.image,
        "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api@sha256:abc"
    );
    assert_eq!(
        spec.labels
            .get(crate::aws::ecr::VERSION_LABEL)
            .map(String::as_str),
        Some("1.4.2")
    );
    assert_eq!(
        state::split_running(&spec.image, &spec.labels),
        (
            pinned.image.clone(),
            "1.4.2".to_string(),
            Some("sha256:abc".to_string())
        )
    );
    // Unpinned: `image:tag`, no label.
    let by_tag = ServiceState {
        image_digest: None,
        ..pinned.clone()
    };
    let spec = by_tag.task_spec("ap-northeast-2");
    assert!(spec.image.ends_with("/fansite-api:1.4.2"));
    assert!(spec.labels.is_empty());
    assert_eq!(
        state::split_running(&spec.image, &spec.labels),
        (pinned.image.clone(), "1.4.2".to_string(), None)
    );
    // Another digest for the same tag is another container: a new revision.
    let repushed = ServiceState {
        image_digest: Some("sha256:def".into()),
        ..pinned.clone()
    };
    assert!(pinned.container_differs(&repushed));
    assert!(!pinned.container_differs(&pinned.clone()));
}

const HOOK: &str = "https://hooks.slack.com/services/T0/B0/first";
const HOOK_2: &str = "https://hooks.slack.com/services/T0/B0/second";

/// The write-only webhook needs its version (a change to a value Terraform
/// never shows is seen only by it), excludes the deprecated one, and is
/// checked as that one is; one not known yet (an ephemeral value) passes.
/// No message echoes a webhook.
#[test]
fn the_write_only_webhook_needs_its_version_and_excludes_the_old_one() {
    let alerts = |pairs: &[(&str, Dyn)]| errors(&config(&[("alerts", block(pairs))]));
    let wo = || ("slack_webhook_url_wo", Dyn::from(HOOK));
    let version = || ("slack_webhook_url_wo_version", Dyn::from("1"));
    assert_eq!(alerts(&[wo(), version()]), Vec::<String>::new());
    assert_eq!(
        alerts(&[("slack_webhook_url_wo", Dyn::Unknown), version()]),
        Vec::<String>::new()
    );
    assert_eq!(
        alerts(&[wo(), version(), ("slack_webhook_url", HOOK.into())]),
        vec!["Conflicting Slack webhooks @ alerts[0].slack_webhook_url_wo"]
    );
    assert_eq!(
        alerts(&[wo()]),
        vec!["Missing slack_webhook_url_wo_version @ alerts[0].slack_webhook_url_wo_version"]
    );
    assert_eq!(
        alerts(&[version()]),
        vec![
            "slack_webhook_url_wo_version without slack_webhook_url_wo @ alerts[0].slack_webhook_url_wo_version"
        ]
    );
    assert_eq!(
        alerts(&[("slack_webhook_url_wo", "http://hooks".into()), version()]),
        vec!["Invalid slack_webhook_url_wo @ alerts[0].slack_webhook_url_wo"]
    );
    assert_eq!(
        alerts(&[("slack_webhook_url", HOOK.into())]),
        Vec::<String>::new(),
        "the deprecated webhook alone still passes"
    );

    let mut d = Diags::default();
    validate_config(
        &config(&[("alerts", block(&[wo(), ("slack_webhook_url", HOOK.into())]))]),
        &mut d,
    );
    let missing =
        d.0.iter()
            .find(|i| i.summary == "Missing slack_webhook_url_wo_version")
            .map(|i| i.detail.clone())
            .unwrap_or_default();
    assert!(
        missing.contains("never shows its value"),
        "says why the version is needed: {missing}"
    );
    assert!(
        d.0.iter().all(|i| !i.detail.contains("T0/B0/first")),
        "no message echoes the webhook"
    );
}

/// The write-only webhook is sensitive and in no plan or state; its version
/// is kept in state and not read back; the old webhook is deprecated, naming
/// what replaces it.
#[test]
fn the_write_only_webhook_is_kept_out_of_plan_and_state() {
    let s = schema::schema();
    let alerts = &s
        .block
        .blocks
        .iter()
        .find(|b| b.name == "alerts")
        .expect("alerts block")
        .block;
    let wo = alerts.attribute("slack_webhook_url_wo").expect("wo");
    assert!(wo.write_only && wo.sensitive);
    let version = alerts
        .attribute("slack_webhook_url_wo_version")
        .expect("version");
    assert!(!version.write_only && version.not_refreshed.is_some());
    let old = alerts.attribute("slack_webhook_url").expect("old");
    assert!(old
        .deprecated
        .is_some_and(|m| m.contains("slack_webhook_url_wo_version")));

    let c = config(&[(
        "alerts",
        block(&[
            ("slack_webhook_url_wo", HOOK.into()),
            ("slack_webhook_url_wo_version", "1".into()),
        ]),
    )]);
    let kept = first(&s.block.without_write_only(&c), "alerts").expect("alerts");
    assert_eq!(kept.get("slack_webhook_url_wo"), &Dyn::Null);
    assert_eq!(kept.get("slack_webhook_url_wo_version"), &Dyn::from("1"));
}

/// A service whose state has the write-only webhook at `version` in the
/// fake's secret: the version, never the value.
fn webhook_stored(version: &str) -> ServiceState {
    ServiceState {
        name: "fan-api".into(),
        alerts: Some(state::Alerts {
            slack_webhook_url_wo_version: Some(version.into()),
            ..state::Alerts::default()
        }),
        webhook_secret_arn: Some(crate::aws::test_fakes::ORIGIN_SECRET_ARN.into()),
        ..ServiceState::default()
    }
}

/// What an apply works from: the write-only webhook `url` (from the
/// configuration) at `version`.
fn webhook_wanted(url: &str, version: &str) -> ServiceState {
    let mut want = webhook_stored(version);
    if let Some(a) = &mut want.alerts {
        a.slack_webhook_url_wo = Some(url.into());
    }
    want
}

/// The deprecated webhook `url`, in the fake's secret.
fn webhook_by_url(url: &str) -> ServiceState {
    ServiceState {
        alerts: Some(state::Alerts {
            slack_webhook_url: Some(url.into()),
            ..state::Alerts::default()
        }),
        ..webhook_stored("unused")
    }
}

/// The webhook's secret of `cur` brought to `want` on the fake's Secrets Manager.
async fn write_webhook(
    fake: &crate::aws::test_fakes::OriginAlb,
    cur: &mut ServiceState,
    want: &ServiceState,
) -> crate::error::Result<String> {
    crate::aws::test_mocks::in_operation(converge::sync_webhook_secret(&fake.aws, cur, want)).await
}

/// A new write-only webhook under the same version is not written
/// (PutSecretValue): no state could say that it differs. A new version
/// writes it, once; the state keeps the version, never the value.
#[tokio::test]
async fn the_write_only_webhook_is_written_only_when_its_version_changes() {
    let fake = crate::aws::test_fakes::OriginAlb::new(false);
    let mut cur = webhook_stored("1");
    let arn = write_webhook(&fake, &mut cur, &webhook_wanted(HOOK_2, "1"))
        .await
        .expect("same version");
    assert_eq!(arn, crate::aws::test_fakes::ORIGIN_SECRET_ARN);
    assert_eq!(
        fake.log(),
        Vec::<String>::new(),
        "the same version: nothing written"
    );
    assert_eq!(fake.current().as_deref(), Some("v1"));

    write_webhook(&fake, &mut cur, &webhook_wanted(HOOK_2, "2"))
        .await
        .expect("new version");
    assert_eq!(fake.log(), vec!["PutSecretValue"]);
    assert_eq!(fake.current().as_deref(), Some(HOOK_2));
    assert_eq!(
        cur.slack_webhook_url_wo_version().map(String::as_str),
        Some("2")
    );
    assert_eq!(cur.slack_webhook_url_wo(), None, "the state holds no value");
    assert_eq!(cur.slack_webhook_url(), None);

    write_webhook(&fake, &mut cur, &webhook_wanted(HOOK, "2"))
        .await
        .expect("same version again");
    assert_eq!(fake.log(), vec!["PutSecretValue"], "nothing more");
}

/// The deprecated webhook is written when it differs from the state's, as
/// before; moving to the write-only form writes its value and keeps only
/// its version; a secret found by its name (a create that failed left it)
/// is written whatever the version, since what it holds is not known.
#[tokio::test]
async fn the_deprecated_webhook_and_a_secret_found_by_name_are_written() {
    let fake = crate::aws::test_fakes::OriginAlb::new(false);
    let mut cur = webhook_by_url(HOOK);
    write_webhook(&fake, &mut cur, &webhook_by_url(HOOK))
        .await
        .expect("same webhook");
    assert_eq!(fake.log(), Vec::<String>::new());
    write_webhook(&fake, &mut cur, &webhook_by_url(HOOK_2))
        .await
        .expect("new webhook");
    assert_eq!(fake.log(), vec!["PutSecretValue"]);
    assert_eq!(fake.current().as_deref(), Some(HOOK_2));
    assert_eq!(cur.slack_webhook_url().map(String::as_str), Some(HOOK_2));

    write_webhook(&fake, &mut cur, &webhook_wanted(HOOK, "1"))
        .await
        .expect("to the write-only form");
    assert_eq!(fake.log(), vec!["PutSecretValue", "PutSecretValue"]);
    assert_eq!(fake.current().as_deref(), Some(HOOK));
    assert_eq!(cur.slack_webhook_url(), None);
    assert_eq!(
        cur.slack_webhook_url_wo_version().map(String::as_str),
        Some("1")
    );

    let mut left = ServiceState {
        webhook_secret_arn: None,
        ..webhook_stored("1")
    };
    let arn = write_webhook(&fake, &mut left, &webhook_wanted(HOOK_2, "1"))
        .await
        .expect("found by name");
    assert_eq!(arn, crate::aws::test_fakes::ORIGIN_SECRET_ARN);
    assert_eq!(left.webhook_secret_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(
        fake.log(),
        vec!["PutSecretValue", "PutSecretValue", "PutSecretValue"]
    );
    assert_eq!(fake.current().as_deref(), Some(HOOK_2));
}

/// A new version with no write-only value to write (Terraform passed none)
/// is an error on the attribute, and nothing is written.
#[tokio::test]
async fn a_new_version_without_a_value_is_refused() {
    let fake = crate::aws::test_fakes::OriginAlb::new(false);
    let err = write_webhook(&fake, &mut webhook_stored("1"), &webhook_stored("2"))
        .await
        .expect_err("no value");
    match err {
        crate::error::Error::Invalid { path, .. } => {
            assert_eq!(path.to_string(), "alerts[0].slack_webhook_url_wo")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.log(), Vec::<String>::new());
}

/// Refresh with the write-only webhook asks only whether its secret is
/// there (DescribeSecret), never for its value: the fake answers
/// GetSecretValue only for a version named, so a read of the current value
/// fails, as the deprecated form's read shows. A secret deleted outside
/// Terraform reads as gone, so that the plan makes it again.
#[tokio::test]
async fn refresh_never_reads_the_write_only_webhook() {
    let fake = crate::aws::test_fakes::OriginAlb::new(false);
    let arn = crate::aws::test_fakes::ORIGIN_SECRET_ARN;
    let found =
        crate::aws::test_mocks::in_operation(find::find_webhook(&fake.aws, &webhook_stored("1")))
            .await
            .expect("found");
    assert_eq!(found, (None, Some(arn.to_string())));
    assert!(
        crate::aws::test_mocks::in_operation(find::find_webhook(&fake.aws, &webhook_by_url(HOOK)))
            .await
            .is_err(),
        "the deprecated form reads the value"
    );

    crate::aws::test_mocks::in_operation(crate::aws::secrets::delete_secret(
        &fake.aws.secrets,
        arn,
    ))
    .await
    .expect("deleted");
    let found =
        crate::aws::test_mocks::in_operation(find::find_webhook(&fake.aws, &webhook_stored("1")))
            .await
            .expect("gone");
    assert_eq!(found, (None, None));
}

/// The notifier's parts are planned by the write-only webhook's version as
/// by the deprecated webhook: kept when it changes, made again when read
/// found them gone, gone with the webhook.
#[tokio::test]
async fn the_notifier_is_planned_with_the_write_only_webhook() {
    let alerts = |webhook: Option<(&'static str, &'static str)>| {
        let mut pairs: Vec<(&str, Dyn)> = vec![
            ("cpu_threshold", Dyn::Number(80)),
            ("evaluation_periods", Dyn::Number(3)),
        ];
        pairs.extend(webhook.map(|(k, v)| (k, Dyn::from(v))));
        block(&pairs)
    };
    let version = |v: &'static str| Some(("slack_webhook_url_wo_version", v));
    let mut prior = config(&[("alerts", alerts(version("1")))]);
    prior.set("notifier_function_arn", "function".into());
    prior.set("webhook_secret_arn", "secret".into());
    let known = |s: &str| Dyn::String(s.into());

    assert_eq!(
        notifier_planned(&prior, alerts(version("2"))).await,
        [known("function"), known("secret")],
        "a new version: the same parts"
    );
    assert_eq!(
        notifier_planned(&prior, alerts(None)).await,
        [Dyn::Null, Dyn::Null],
        "no webhook: no notifier"
    );
    assert_eq!(
        notifier_planned(&prior, alerts(Some(("slack_webhook_url", HOOK)))).await,
        [known("function"), known("secret")],
        "the deprecated webhook: the same parts"
    );
    let mut gone = prior.clone();
    gone.set("webhook_secret_arn", Dyn::Null);
    assert_eq!(
        notifier_planned(&gone, alerts(version("1"))).await,
        [known("function"), Dyn::Unknown],
        "a secret read as gone is made again"
    );
}

/// `notifier_function_arn` and `webhook_secret_arn` as planned from `prior`
/// with the `alerts` block `alerts`.
async fn notifier_planned(prior: &Dyn, alerts: Dyn) -> [Dyn; 2] {
    let mut planned = prior.clone();
    planned.set("alerts", alerts);
    let config = planned.clone();
    let mut d = Diags::default();
    let planned = ServiceResource
        .plan(None, Some(prior), planned, &config, &mut d)
        .await;
    assert!(!d.has_errors(), "{:?}", d.0);
    ["notifier_function_arn", "webhook_secret_arn"].map(|p| planned.get(p).clone())
}
