use super::state::{AllowTo, BastionState, PortForward};
use super::*;

fn config(extra: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fan-bastion".into());
    c.set("vpc_id", "vpc-0123".into());
    c.set("subnet_id", "subnet-0123".into());
    for (k, v) in extra {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<String> {
    let mut d = Diags::default();
    crate::resource::Resource::validate(&crate::driver::Driver(BastionResource), c, &mut d);
    d.0.into_iter()
        .filter(|i| i.severity == crate::diag::Severity::Error)
        .map(|i| format!("{} @ {}", i.summary, i.path.unwrap_or_default()))
        .collect()
}

fn block(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut b = Dyn::obj();
    for (k, v) in pairs {
        b.set(k, v.clone());
    }
    Dyn::List(vec![b])
}

#[test]
fn bad_inputs_are_refused_at_their_attribute() {
    assert_eq!(errors(&config(&[])), Vec::<String>::new());
    let openvpn = ("mode", Dyn::from("openvpn"));
    let cidrs = ("allowed_cidrs", Dyn::from_strings(["203.0.113.0/24"]));
    assert_eq!(
        errors(&config(&[openvpn.clone(), cidrs.clone()])),
        Vec::<String>::new()
    );
    let cases: Vec<(Vec<(&str, Dyn)>, &str)> = vec![
        (vec![("name", "Fan_Bastion".into())], "Invalid name @ name"),
        (vec![("mode", "ssh".into())], "Invalid mode @ mode"),
        (
            vec![openvpn.clone()],
            "Missing allowed_cidrs @ allowed_cidrs",
        ),
        (
            vec![cidrs.clone()],
            "allowed_cidrs without openvpn @ allowed_cidrs",
        ),
        (
            vec![
                openvpn.clone(),
                ("allowed_cidrs", Dyn::from_strings(["203.0.113.7/24"])),
            ],
            "Invalid allowed_cidrs @ allowed_cidrs[0]",
        ),
        (
            vec![
                openvpn.clone(),
                cidrs.clone(),
                ("port_forward", block(&[("host", "db".into())])),
            ],
            "port_forward without ssm @ port_forward[0].host",
        ),
        (vec![("ami_id", "foo".into())], "Invalid ami_id @ ami_id"),
        (
            vec![("idle_session_timeout", Dyn::Number(0))],
            "Invalid idle_session_timeout @ idle_session_timeout",
        ),
        (
            vec![("session_log_retention_days", Dyn::Number(10))],
            "Invalid session_log_retention_days @ session_log_retention_days",
        ),
        (
            vec![(
                "port_forward",
                block(&[("host", "db".into()), ("port", Dyn::Number(0))]),
            )],
            "Invalid port_forward.port @ port_forward[0].port",
        ),
    ];
    for (extra, want) in cases {
        let got = errors(&config(&extra));
        assert!(got.iter().any(|g| g == want), "{want}: got {got:?}");
    }
}

fn ssm_bastion() -> BastionState {
    BastionState {
        name: "fan-bastion".into(),
        instance_id: Some("i-0abc".into()),
        role_arn: Some("arn:aws:iam::123456789012:role/fan-bastion-bastion".into()),
        port_forward: Some(PortForward {
            host: "db.cluster-x.ap-northeast-2.rds.amazonaws.com".into(),
            port: 3306,
            local_port: Some(13306),
        }),
        allow_to: vec![AllowTo {
            security_group_id: "sg-db".into(),
            port: 3306,
        }],
        ..BastionState::default()
    }
}

#[test]
fn developers_may_start_sessions_on_this_host_with_its_documents_only() {
    let b = ssm_bastion();
    let policy: serde_json::Value =
        serde_json::from_str(&b.developer_policy("ap-northeast-2").expect("policy")).expect("json");
    let start = &policy["Statement"][0];
    assert_eq!(start["Action"], "ssm:StartSession");
    assert_eq!(
        start["Resource"],
        serde_json::json!([
            "arn:aws:ec2:ap-northeast-2:123456789012:instance/i-0abc",
            "arn:aws:ssm:ap-northeast-2:123456789012:document/fan-bastion-sessions",
            "arn:aws:ssm:ap-northeast-2:123456789012:document/fan-bastion-port-forward"
        ])
    );
    assert_eq!(
        start["Condition"]["BoolIfExists"]["ssm:SessionDocumentAccessCheck"],
        "true"
    );
    let own = &policy["Statement"][1];
    assert_eq!(own["Resource"], "arn:aws:ssm:*:*:session/${aws:userid}-*");
    assert_eq!(
        b.port_forward_command("ap-northeast-2").as_deref(),
        Some("aws ssm start-session --region ap-northeast-2 --target i-0abc --document-name fan-bastion-port-forward --parameters localPortNumber=13306")
    );
}

#[test]
fn the_port_forward_document_fixes_host_and_port() {
    let b = ssm_bastion();
    let doc: serde_json::Value =
        serde_json::from_str(&b.port_forward_document_content().expect("doc")).expect("json");
    assert_eq!(doc["sessionType"], "Port");
    assert_eq!(doc["properties"]["type"], "LocalPortForwarding");
    assert_eq!(
        doc["properties"]["host"],
        "db.cluster-x.ap-northeast-2.rds.amazonaws.com"
    );
    assert_eq!(doc["properties"]["portNumber"], "3306");
    assert_eq!(
        doc["properties"]["localPortNumber"],
        "{{ localPortNumber }}"
    );
    assert!(doc["parameters"].get("host").is_none());
    assert!(doc["parameters"].get("portNumber").is_none());
}

#[test]
fn sessions_are_logged_to_the_bastion_s_group() {
    let mut b = ssm_bastion();
    b.session_log_bucket = Some("fan-audit".into());
    let doc: serde_json::Value = serde_json::from_str(&b.session_document_content()).expect("json");
    assert_eq!(doc["sessionType"], "Standard_Stream");
    assert_eq!(
        doc["inputs"]["cloudWatchLogGroupName"],
        "/fansite/bastion/fan-bastion"
    );
    assert_eq!(doc["inputs"]["cloudWatchStreamingEnabled"], true);
    assert_eq!(doc["inputs"]["s3BucketName"], "fan-audit");
    assert_eq!(doc["inputs"]["s3EncryptionEnabled"], true);
    assert_eq!(doc["inputs"]["idleSessionTimeout"], "20");
    let role: serde_json::Value =
        serde_json::from_str(&b.role_policy("ap-northeast-2", "123456789012")).expect("json");
    let text = role.to_string();
    assert!(text.contains("log-group:/fansite/bastion/fan-bastion"));
    assert!(text.contains("arn:aws:s3:::fan-audit/bastion/fan-bastion/*"));
    assert!(!text.contains("secretsmanager"));
}

#[test]
fn the_openvpn_host_reads_its_password_and_is_never_given_it() {
    let b = BastionState {
        name: "fan-vpn".into(),
        mode: "openvpn".into(),
        admin_secret_arn: Some(
            "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/fan-vpn/openvpn-admin-AbCdEf"
                .into(),
        ),
        vpn_routes: Some(vec!["10.0.0.0/16".into()]),
        ..BastionState::default()
    };
    let script = b.openvpn_user_data("ap-northeast-2");
    assert!(script.contains("--secret-id arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/fan-vpn/openvpn-admin-AbCdEf"));
    assert!(script.contains("private_network.0 --value 10.0.0.0/16"));
    let role = b.role_policy("ap-northeast-2", "123456789012");
    assert!(role.contains("secretsmanager:GetSecretValue"));
    assert!(!role.contains("logs:"));
    assert_eq!(b.developer_policy("ap-northeast-2"), None);
}

#[test]
fn a_new_ami_type_or_subnet_needs_a_new_host() {
    let b = ssm_bastion();
    assert!(!b.host_differs(&b.clone()));
    for changed in [
        BastionState {
            ami_id: "ami-new".into(),
            ..b.clone()
        },
        BastionState {
            instance_type: "t4g.micro".into(),
            ..b.clone()
        },
        BastionState {
            subnet_id: "subnet-other".into(),
            ..b.clone()
        },
    ] {
        assert!(b.host_differs(&changed));
    }
    // The routes count only for OpenVPN, whose first boot they are given to.
    assert!(!b.host_differs(&BastionState {
        vpn_routes: Some(vec!["10.1.0.0/16".into()]),
        ..b.clone()
    }));
    assert!(!b.host_differs(&BastionState {
        idle_session_timeout: 5,
        ..b.clone()
    }));
}
