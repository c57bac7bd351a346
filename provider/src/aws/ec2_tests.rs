//! EC2 answers as AWS gives them when it is slow, from the SDK's own test
//! doubles: the local endpoint deletes at once, keeps no ENIs behind and has
//! no NAT gateway `pending` or `deleting`.

use std::sync::{Arc, Mutex};

use aws_sdk_ec2::operation::{
    create_route::CreateRouteOutput, delete_internet_gateway::DeleteInternetGatewayOutput,
    delete_security_group::DeleteSecurityGroupOutput, delete_subnet::DeleteSubnetOutput,
    delete_vpc::DeleteVpcOutput, describe_nat_gateways::DescribeNatGatewaysOutput,
    detach_internet_gateway::DetachInternetGatewayOutput, replace_route::ReplaceRouteOutput,
};
use aws_sdk_ec2::types::{NatGateway, NatGatewayAddress, NatGatewayState};
use aws_smithy_mocks::{mock, MockResponse};
use tokio::time::Instant;

use super::*;
use crate::aws::test_mocks::{self, ec2_error, refused};
use crate::ctx::{Ctx, Ended, StopSignal};

const HELD: Duration = Duration::from_secs(5 * 60);

fn violation<O, E>() -> MockResponse<O, E> {
    refused(ec2_error(
        "DependencyViolation",
        "resource has a dependent object",
    ))
}

fn delete_timeout() -> Ctx {
    Ctx::new(Duration::from_secs(30 * 60), StopSignal::new())
}

/// N1: a subnet, VPC and security group held for 5 minutes by the ENIs of a
/// load balancer or task just deleted are deleted: DependencyViolation is
/// retried for the delete's whole timeout (the old try count gave up after
/// about 16 s).
#[tokio::test(start_paused = true)]
async fn deletes_wait_out_lingering_network_interfaces() {
    let started = Instant::now();
    let held = move || started.elapsed() < HELD;
    let subnet = mock!(aws_sdk_ec2::Client::delete_subnet).then_compute_response(move |_| {
        if held() {
            violation()
        } else {
            MockResponse::Output(DeleteSubnetOutput::builder().build())
        }
    });
    let sg = mock!(aws_sdk_ec2::Client::delete_security_group).then_compute_response(move |_| {
        if held() {
            violation()
        } else {
            MockResponse::Output(DeleteSecurityGroupOutput::builder().build())
        }
    });
    let vpc = mock!(aws_sdk_ec2::Client::delete_vpc).then_compute_response(move |_| {
        if held() {
            violation()
        } else {
            MockResponse::Output(DeleteVpcOutput::builder().build())
        }
    });
    let c = test_mocks::ec2(&[&subnet, &sg, &vpc]);
    let ended = delete_timeout()
        .run(Duration::ZERO, async {
            delete_subnet(&c, "subnet-1").await?;
            delete_security_group(&c, "sg-1").await?;
            delete_vpc(&c, "vpc-1").await
        })
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    assert!(started.elapsed() >= HELD, "{:?}", started.elapsed());
    assert!(subnet.num_calls() > 8, "{}", subnet.num_calls());
    assert_eq!((sg.num_calls(), vpc.num_calls()), (1, 1));
}

/// N2: DetachInternetGateway answers DependencyViolation ("mapped public
/// address(es)") while an ALB's ENIs still hold public IPs; it is retried,
/// then the gateway is deleted.
#[tokio::test(start_paused = true)]
async fn internet_gateway_detach_waits_out_mapped_addresses() {
    let detach = mock!(aws_sdk_ec2::Client::detach_internet_gateway)
        .sequence()
        .http_status(
            400,
            Some(ec2_error(
                "DependencyViolation",
                "Network vpc-1 has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.",
            )),
        )
        .times(20)
        .output(|| DetachInternetGatewayOutput::builder().build())
        .build();
    let delete = mock!(aws_sdk_ec2::Client::delete_internet_gateway)
        .then_output(|| DeleteInternetGatewayOutput::builder().build());
    let c = test_mocks::ec2(&[&detach, &delete]);
    let ended = delete_timeout()
        .run(
            Duration::ZERO,
            delete_internet_gateway(&c, "igw-1", "vpc-1"),
        )
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    assert_eq!((detach.num_calls(), delete.num_calls()), (21, 1));
}

/// N3: moving private subnets to another NAT gateway swaps the default route
/// in one ReplaceRoute: no DeleteRoute, so egress never stops; a table
/// without a default route gets CreateRoute.
#[tokio::test]
async fn a_default_route_is_replaced_not_deleted_and_made_again() {
    let replace = mock!(aws_sdk_ec2::Client::replace_route)
        .match_requests(|r| r.nat_gateway_id() == Some("nat-2") && r.gateway_id().is_none())
        .then_output(|| ReplaceRouteOutput::builder().build());
    let create = mock!(aws_sdk_ec2::Client::create_route)
        .match_requests(|r| r.nat_gateway_id() == Some("nat-2"))
        .then_output(|| CreateRouteOutput::builder().build());
    // No rule answers DeleteRoute: a call to it fails the test.
    let c = test_mocks::ec2(&[&replace, &create]);
    let had = DefaultRoute::NatGateway("nat-1".into());
    let want = DefaultRoute::NatGateway("nat-2".into());
    set_default_route(&c, "rtb-1", &had, &want)
        .await
        .expect("replaced");
    assert_eq!((replace.num_calls(), create.num_calls()), (1, 0));
    set_default_route(&c, "rtb-1", &DefaultRoute::None, &want)
        .await
        .expect("created");
    assert_eq!((replace.num_calls(), create.num_calls()), (1, 1));
}

fn nat(id: &str, state: NatGatewayState) -> NatGateway {
    NatGateway::builder()
        .nat_gateway_id(id)
        .state(state)
        .nat_gateway_addresses(
            NatGatewayAddress::builder()
                .allocation_id("eipalloc-1")
                .build(),
        )
        .build()
}

fn nat_answers(states: Vec<NatGateway>) -> aws_smithy_mocks::Rule {
    let left = Arc::new(Mutex::new(states));
    mock!(aws_sdk_ec2::Client::describe_nat_gateways).then_compute_response(move |_| {
        let mut left = left.lock().expect("lock");
        let n = if left.len() > 1 {
            left.remove(0)
        } else {
            left[0].clone()
        };
        MockResponse::Output(DescribeNatGatewaysOutput::builder().nat_gateways(n).build())
    })
}

/// C4: a NAT gateway `pending` for minutes is waited for with polls at most
/// 15 s apart (the SDK waiter's back-off), and one `deleting` until `deleted`.
#[tokio::test(start_paused = true)]
async fn nat_gateway_waits_poll_through_pending_and_deleting() {
    let mut states = vec![nat("nat-1", NatGatewayState::Pending); 20];
    states.push(nat("nat-1", NatGatewayState::Available));
    let describe = nat_answers(states);
    let c = test_mocks::ec2(&[&describe]);
    test_mocks::in_operation(wait_nat_gateway_available(
        &c,
        "nat-1",
        Duration::from_secs(600),
    ))
    .await
    .expect("available");
    assert_eq!(describe.num_calls(), 21);

    let mut states = vec![nat("nat-1", NatGatewayState::Deleting); 5];
    states.push(nat("nat-1", NatGatewayState::Deleted));
    let describe = nat_answers(states);
    let c = test_mocks::ec2(&[&describe]);
    test_mocks::in_operation(wait_nat_gateway_deleted(
        &c,
        "nat-1",
        Duration::from_secs(600),
    ))
    .await
    .expect("deleted");
    assert_eq!(describe.num_calls(), 6);
}

/// N5: a NAT gateway that fails says why: AWS's FailureCode and
/// FailureMessage are in the error, not only "failed".
#[tokio::test(start_paused = true)]
async fn a_failed_nat_gateway_keeps_aws_s_reason() {
    let failed = NatGateway::builder()
        .nat_gateway_id("nat-1")
        .state(NatGatewayState::Failed)
        .failure_code("Gateway.NotAttached")
        .failure_message("Network vpc-1 has no Internet gateway attached")
        .build();
    let describe = nat_answers(vec![nat("nat-1", NatGatewayState::Pending), failed]);
    let c = test_mocks::ec2(&[&describe]);
    let err = test_mocks::in_operation(wait_nat_gateway_available(
        &c,
        "nat-1",
        Duration::from_secs(600),
    ))
    .await
    .expect_err("failed");
    let text = err.to_string();
    assert!(text.contains("\"failed\""), "{text}");
    assert!(
        text.contains("Gateway.NotAttached: Network vpc-1 has no Internet gateway attached"),
        "{text}"
    );
}

/// N4: the NAT gateway still `deleting` that holds a kept elastic IP is found
/// by the address, so the repair can wait for it and reuse the address.
#[tokio::test]
async fn the_deleting_gateway_that_holds_an_address_is_found() {
    let describe = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
        .match_requests(|r| {
            r.filter()
                .iter()
                .any(|f| f.name() == Some("state") && f.values().iter().any(|v| v == "deleting"))
        })
        .then_output(|| {
            DescribeNatGatewaysOutput::builder()
                .nat_gateways(nat("nat-old", NatGatewayState::Deleting))
                .build()
        });
    let c = test_mocks::ec2(&[&describe]);
    let found = nat_gateway_releasing(&c, "vpc-1", "eipalloc-1").await;
    assert_eq!(found.ok().flatten().as_deref(), Some("nat-old"));
    let other = nat_gateway_releasing(&c, "vpc-1", "eipalloc-2").await;
    assert_eq!(other.ok().flatten(), None);
}

/// S2: a deleted load balancer's interfaces ("ELB app/<name>/<id>") are
/// waited for until they are released, so that its security group and the
/// subnets can go.
#[tokio::test(start_paused = true)]
async fn a_load_balancer_s_interfaces_are_waited_for_until_released() {
    use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
    use aws_sdk_ec2::types::NetworkInterface;
    let held = || {
        DescribeNetworkInterfacesOutput::builder()
            .network_interfaces(
                NetworkInterface::builder()
                    .network_interface_id("eni-1")
                    .description("ELB app/fan-api/50dc6c495c0c9188")
                    .build(),
            )
            .build()
    };
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
        .match_requests(|r| {
            r.filters().iter().any(|f| {
                f.name() == Some("description")
                    && f.values() == ["ELB app/fan-api/50dc6c495c0c9188"]
            })
        })
        .sequence()
        .output(held)
        .times(3)
        .output(|| DescribeNetworkInterfacesOutput::builder().build())
        .build();
    let c = test_mocks::ec2(&[&enis]);
    let ended = delete_timeout()
        .run(
            Duration::ZERO,
            wait_interfaces_released(
                &c,
                &crate::aws::elbv2::interface_description(
                    "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fan-api/50dc6c495c0c9188",
                ),
                LOAD_BALANCER_INTERFACES_RELEASE,
            ),
        )
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    assert_eq!(enis.num_calls(), 4);
}

/// `ingress = "cloudfront"`: CloudFront's origin-facing list is allowed on the
/// one port before the world's rules are revoked (traffic allowed before and
/// after is never refused in between), and back again the other way round.
#[tokio::test]
async fn the_load_balancer_s_ingress_changes_without_a_gap() {
    use aws_sdk_ec2::operation::{
        authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput,
        describe_managed_prefix_lists::DescribeManagedPrefixListsOutput,
        revoke_security_group_ingress::RevokeSecurityGroupIngressOutput,
    };
    use aws_sdk_ec2::types::ManagedPrefixList;
    let lists = mock!(aws_sdk_ec2::Client::describe_managed_prefix_lists).then_output(|| {
        DescribeManagedPrefixListsOutput::builder()
            .prefix_lists(
                ManagedPrefixList::builder()
                    .prefix_list_name(CLOUDFRONT_ORIGIN_FACING)
                    .prefix_list_id("pl-3b927c52")
                    .build(),
            )
            .build()
    });
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let describe = |p: &aws_sdk_ec2::types::IpPermission| {
        let port = p.from_port().unwrap_or_default();
        match (p.prefix_list_ids().first(), p.ip_ranges().is_empty()) {
            (Some(l), _) => format!("{port} from {}", l.prefix_list_id().unwrap_or_default()),
            (None, false) => format!("{port} from anywhere (IPv4)"),
            (None, true) => format!("{port} from anywhere (IPv6)"),
        }
    };
    let (a, r) = (calls.clone(), calls.clone());
    let allow = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
        .match_requests(move |i| {
            for p in i.ip_permissions() {
                a.lock()
                    .expect("lock")
                    .push(format!("allow {}", describe(p)));
            }
            true
        })
        .then_output(|| AuthorizeSecurityGroupIngressOutput::builder().build());
    let revoke = mock!(aws_sdk_ec2::Client::revoke_security_group_ingress)
        .match_requests(move |i| {
            for p in i.ip_permissions() {
                r.lock()
                    .expect("lock")
                    .push(format!("revoke {}", describe(p)));
            }
            true
        })
        .then_output(|| RevokeSecurityGroupIngressOutput::builder().build());
    let c = test_mocks::ec2(&[&lists, &allow, &revoke]);
    set_load_balancer_ingress(&c, "sg-alb", Ingress::CloudFront { port: 443 }, "fansite")
        .await
        .expect("to cloudfront");
    assert_eq!(
        calls.lock().expect("lock").clone(),
        [
            "allow 443 from pl-3b927c52",
            "revoke 80 from anywhere (IPv4)",
            "revoke 80 from anywhere (IPv6)",
            "revoke 443 from anywhere (IPv4)",
            "revoke 443 from anywhere (IPv6)",
            "revoke 80 from pl-3b927c52",
        ]
    );
    calls.lock().expect("lock").clear();
    set_load_balancer_ingress(&c, "sg-alb", Ingress::Internet, "fansite")
        .await
        .expect("to the internet");
    assert_eq!(
        calls.lock().expect("lock").clone(),
        [
            "allow 80 from anywhere (IPv4)",
            "allow 80 from anywhere (IPv6)",
            "allow 443 from anywhere (IPv4)",
            "allow 443 from anywhere (IPv6)",
            "revoke 80 from pl-3b927c52",
            "revoke 443 from pl-3b927c52",
        ]
    );
}
