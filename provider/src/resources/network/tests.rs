//! Unit tests of what needs no AWS: validation, CIDR planning, state shape.

use super::*;
use crate::diag::Diags;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fan".into());
    c.set("cidr_block", "10.0.0.0/16".into());
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    // Through the driver: the declared checks, then the resource's own.
    crate::resource::Resource::validate(&crate::driver::Driver(NetworkResource), c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    let map = |k: &str, v: &str| Dyn::from_string_map([(&k.to_string(), &v.to_string())]);
    let cases: Vec<(&str, Dyn, &str, &str)> = vec![
        ("name", "".into(), "name", "Invalid name"),
        ("name", "fan site!".into(), "name", "Invalid name"),
        (
            "cidr_block",
            "10.0.0.0".into(),
            "cidr_block",
            "Invalid cidr_block",
        ),
        (
            "cidr_block",
            "10.0.0.0/8".into(),
            "cidr_block",
            "Invalid cidr_block",
        ),
        (
            "cidr_block",
            "10.0.0.1/16".into(),
            "cidr_block",
            "Invalid cidr_block",
        ),
        (
            "availability_zones",
            Dyn::List(vec![]),
            "availability_zones",
            "No availability zones",
        ),
        (
            "availability_zones",
            Dyn::from_strings(["us-east-1a", "us-east-1a"]),
            "availability_zones[1]",
            "Duplicate availability zone",
        ),
        (
            "availability_zones",
            Dyn::from_strings(["East"]),
            "availability_zones[0]",
            "Invalid availability_zones",
        ),
        (
            "nat_strategy",
            "double".into(),
            "nat_strategy",
            "Invalid nat_strategy",
        ),
        (
            "public_subnet_cidrs",
            map("us-east-1a", "192.168.0.0/24"),
            "public_subnet_cidrs[\"us-east-1a\"]",
            "Subnet outside the VPC",
        ),
        (
            "private_subnet_cidrs",
            map("us-east-1a", "nope"),
            "private_subnet_cidrs[\"us-east-1a\"]",
            "Invalid private_subnet_cidrs",
        ),
        (
            "tags",
            map("Name", "x"),
            "tags[\"Name\"]",
            "Reserved tag key",
        ),
    ];
    for (attr, value, path, summary) in cases {
        let got = errors(&config(&[(attr, value.clone())]));
        assert_eq!(
            got,
            vec![(path.to_string(), summary.to_string())],
            "{attr} = {value:?}"
        );
    }
}

#[test]
fn a_good_config_has_no_errors_and_unknowns_pass() {
    assert!(errors(&config(&[])).is_empty());
    assert!(errors(&config(&[
        ("cidr_block", Dyn::Unknown),
        ("availability_zones", Dyn::Unknown)
    ]))
    .is_empty());
}

#[test]
fn subnet_cidrs_follow_the_zone_letter_not_the_list_position() {
    let vpc: Ipv4Net = "10.0.0.0/16".parse().expect("cidr");
    assert_eq!(
        computed_subnet(vpc, "us-east-1a", false).map(|n| n.to_string()),
        Ok("10.0.0.0/20".into())
    );
    assert_eq!(
        computed_subnet(vpc, "us-east-1c", false).map(|n| n.to_string()),
        Ok("10.0.32.0/20".into())
    );
    assert_eq!(
        computed_subnet(vpc, "us-east-1a", true).map(|n| n.to_string()),
        Ok("10.0.128.0/20".into())
    );
    assert!(computed_subnet(vpc, "us-east-1z", false).is_err());
    let tiny: Ipv4Net = "10.0.0.0/26".parse().expect("cidr");
    assert!(computed_subnet(tiny, "us-east-1a", false)
        .unwrap_err()
        .contains("too small"));
}

#[test]
fn adding_a_zone_keeps_the_other_zones_cidrs() {
    let mut prior = config(&[("availability_zones", Dyn::from_strings(["us-east-1b"]))]);
    let mut d = Diags::default();
    plan_cidrs(&mut prior, None, &config(&[]), &mut d);
    let mut planned = config(&[(
        "availability_zones",
        Dyn::from_strings(["us-east-1a", "us-east-1b"]),
    )]);
    plan_cidrs(&mut planned, Some(&prior), &config(&[]), &mut d);
    assert!(!d.has_errors());
    assert_eq!(
        planned.get("public_subnet_cidrs").get("us-east-1b"),
        prior.get("public_subnet_cidrs").get("us-east-1b")
    );
    assert_eq!(NetworkResource.replace_paths(&prior, &planned), vec![]);
}

#[test]
fn changing_an_existing_zones_cidr_replaces() {
    let zones = Dyn::from_strings(["us-east-1a"]);
    let mut prior = config(&[("availability_zones", zones.clone())]);
    let mut d = Diags::default();
    plan_cidrs(&mut prior, None, &config(&[]), &mut d);
    let changed = Dyn::from_string_map([(&"us-east-1a".to_string(), &"10.0.200.0/24".to_string())]);
    // A given map must name every zone.
    let two = Dyn::from_strings(["us-east-1a", "us-east-1b"]);
    let partial = config(&[
        ("availability_zones", two),
        ("public_subnet_cidrs", changed.clone()),
    ]);
    let mut p = partial.clone();
    let mut missing = Diags::default();
    plan_cidrs(&mut p, None, &partial, &mut missing);
    assert_eq!(missing.0[0].summary, "Missing subnet CIDR");
    let cfg = config(&[
        ("availability_zones", zones.clone()),
        ("public_subnet_cidrs", changed),
    ]);
    let mut planned = cfg.clone();
    plan_cidrs(&mut planned, Some(&prior), &cfg, &mut d);
    assert_eq!(
        NetworkResource.replace_paths(&prior, &planned),
        vec![AttrPath::attr("public_subnet_cidrs")]
    );
}

#[test]
fn overlapping_and_stray_cidrs_are_plan_errors() {
    let zones = Dyn::from_strings(["us-east-1a"]);
    let overlap = Dyn::from_string_map([(&"us-east-1a".to_string(), &"10.0.128.0/24".to_string())]);
    let cfg = config(&[
        ("availability_zones", zones.clone()),
        ("public_subnet_cidrs", overlap),
    ]);
    let mut planned = cfg.clone();
    let mut d = Diags::default();
    plan_cidrs(&mut planned, None, &cfg, &mut d);
    assert_eq!(d.0[0].summary, "Overlapping subnets");

    let stray = Dyn::from_string_map([(&"us-east-1f".to_string(), &"10.0.250.0/24".to_string())]);
    let cfg = config(&[
        ("availability_zones", zones),
        ("public_subnet_cidrs", stray),
    ]);
    let mut planned = cfg.clone();
    let mut d = Diags::default();
    plan_cidrs(&mut planned, None, &cfg, &mut d);
    assert_eq!(
        d.0[0].path.clone().unwrap_or_default().to_string(),
        "public_subnet_cidrs[\"us-east-1f\"]"
    );
}

#[test]
fn nat_strategy_reads_back_from_the_gateways_found() {
    use super::find::nat_strategy_of;
    assert_eq!(nat_strategy_of("single", 1, 3), "single");
    assert_eq!(nat_strategy_of("per_az", 3, 3), "per_az");
    assert_eq!(nat_strategy_of("per_az", 2, 3), "partial");
    assert_eq!(nat_strategy_of("single", 0, 2), "none");
    assert_eq!(nat_strategy_of("single", 2, 2), "per_az");
}

#[test]
fn state_round_trips_through_the_schema_shape() {
    let mut s = crate::typed::decode::<NetworkState>(&config(&[(
        "availability_zones",
        Dyn::from_strings(["us-east-1a"]),
    )]))
    .unwrap();
    s.vpc_id = Some("vpc-1".into());
    s.azs.insert(
        "us-east-1a".into(),
        state::AzParts {
            public_subnet_id: Some("subnet-1".into()),
            ..Default::default()
        },
    );
    let v = crate::driver::Driver(NetworkResource)
        .encode("us-east-1", &s, &Dyn::Null)
        .unwrap();
    assert_eq!(crate::typed::decode::<NetworkState>(&v).unwrap(), s);
    assert_eq!(v.get("public_subnet_ids"), &Dyn::from_strings(["subnet-1"]));
    assert!(v
        .get("subnets_by_az")
        .get("us-east-1a")
        .get("nat_gateway_id")
        .is_null());
}

mod repair {
    //! The repair of a NAT gateway deleted outside Terraform, with EC2 as AWS
    //! answers it: the local endpoint has no gateway `deleting` that still
    //! holds its address.

    use std::time::Duration;

    use super::super::converge::converge;
    use super::super::state::{AzParts, NetworkState};
    use crate::aws::test_fakes::NatStillDeleting;
    use crate::ctx::{Ctx, Ended, StopSignal};

    fn network() -> NetworkState {
        let az = "ap-northeast-2a".to_string();
        NetworkState {
            name: "fan".into(),
            cidr_block: "10.0.0.0/16".into(),
            availability_zones: vec![az.clone()],
            vpc_id: Some("vpc-1".into()),
            internet_gateway_id: Some("igw-1".into()),
            public_route_table_id: Some("rtb-public".into()),
            azs: [(
                az,
                AzParts {
                    public_subnet_id: Some("subnet-public".into()),
                    private_subnet_id: Some("subnet-private".into()),
                    private_route_table_id: Some("rtb-private".into()),
                    nat_gateway_id: None,
                    nat_eip_allocation_id: Some("eipalloc-1".into()),
                },
            )]
            .into(),
            ..NetworkState::default()
        }
    }

    /// N4: the NAT gateway was deleted outside Terraform and is still
    /// `deleting`, so its elastic IP is still associated (CreateNatGateway:
    /// Resource.AlreadyAssociated). The repair waits for that gateway to be
    /// `deleted` and makes the new one with the same address: no
    /// ReleaseAddress (InvalidIPAddress.InUse for minutes), no new address.
    #[tokio::test(start_paused = true)]
    async fn a_nat_gateway_still_deleting_gives_its_address_back_for_the_repair() {
        let fake = NatStillDeleting::new();
        let want = network();
        let mut cur = network();
        let ended = Ctx::new(Duration::from_secs(30 * 60), StopSignal::new())
            .run(Duration::ZERO, converge(&fake.aws, &mut cur, &want))
            .await;
        assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
        let parts = &cur.azs["ap-northeast-2a"];
        assert_eq!(parts.nat_gateway_id.as_deref(), Some("nat-new"));
        assert_eq!(parts.nat_eip_allocation_id.as_deref(), Some("eipalloc-1"));
        assert_eq!(fake.creates(), 2);
        assert!(
            fake.old_gateway_polls() >= 4,
            "{}",
            fake.old_gateway_polls()
        );
        assert_eq!(fake.routes_to_the_new_gateway(), 1);
    }
}
