use crate::resources::ids;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema, Ty};

use super::rules;
use super::state::*;

fn block(name: &'static str, nesting: Nesting, block: Block) -> NestedBlock {
    NestedBlock {
        name,
        nesting,
        block,
    }
}

pub fn schema() -> Schema {
    let allow_to = Block {
        description: "A security group the host may reach, such as a fansite_database's: the ingress rule is added to that group, and removed on destroy.".into(),
        attributes: vec![
            Attribute::required("security_group_id", Ty::String, "The group to open, such as a fansite_database's `security_group_id`.").rule(ids::security_group, "a security group ID"),
            Attribute::optional_computed("port", Ty::Number, "Its TCP port (default 3306, MySQL).").default(3306i64).range(1, 65535),
        ],
        blocks: vec![],
    };
    let port_forward = Block {
        description: "With `mode = \"ssm\"`: the one place developers may forward a local port to through the host, such as the database's writer endpoint. A Session Manager document of the resource's own (`<name>-port-forward`, of session type `Port`) fixes the host and the port, since IAM has no condition on the parameters of AWS's `AWS-StartPortForwardingSessionToRemoteHost`; `developer_policy_json` allows that document only.".into(),
        attributes: vec![
            Attribute::required("host", Ty::String, "Host to reach from the bastion, such as a fansite_database's `endpoint`."),
            Attribute::optional_computed("port", Ty::Number, "Its TCP port (default 3306, MySQL).").default(3306i64).range(1, 65535),
            Attribute::optional_computed("local_port", Ty::Number, "Port on the developer's machine (default: `port`).").range(1, 65535),
        ],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: "Audited developer access into the VPC. `mode = \"ssm\"` (the default): a small EC2 instance in a private subnet with no inbound rule and no SSH key, reached only through AWS Systems Manager Session Manager, whose sessions are logged to CloudWatch Logs (and optionally S3) through a session document of the resource's own; developers forward a local port to the database through it. `mode = \"openvpn\"`: the OpenVPN Access Server from its AWS Marketplace AMI in a public subnet with an Elastic IP, its admin password made by the provider and kept in Secrets Manager only. A new AMI (or instance type, or subnet) replaces the host in place: the new one is made and healthy before the old one goes.\n\n**Session logging.** Session Manager's preferences live in a `Standard_Stream` session document. The account-wide one, `SSM-SessionManagerRunShell`, exists once per region (made by the console when preferences are first saved, and then refused to CreateDocument with `DocumentAlreadyExists`) and belongs to whoever set it, so the bastion brings its own: `<name>-sessions` streams every shell session to the log group `/fansite/bastion/<name>` as it happens (and writes it, encrypted, to `session_log_bucket` under `bastion/<name>/` when the session ends), ends a session after `idle_session_timeout` idle minutes, and the host's role may write only there. `developer_policy_json` lets developers start sessions on this host only and only with this bastion's documents, with `ssm:SessionDocumentAccessCheck`: without that condition a `start-session` that names no document runs the account's default shell document, whose logging this resource does not control. Port forwarding (`<name>-port-forward`) carries no shell, and Session Manager logs no session content for it: its start, end and who started it are in CloudTrail (`StartSession`, `TerminateSession`), and what the developer does on the database is the database's to audit.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the bastion, and of its role and instance profile (`<name>-bastion`), security group, log group (`/fansite/bastion/<name>`) and session documents (`<name>-sessions`, `<name>-port-forward`): lowercase letters, digits and `-`, starting with a letter, at most 32. Changing it replaces the bastion.").force_new().rule(rules::name, "1 to 32 lowercase letters, digits and `-`, starting with a letter"),
                Attribute::optional_computed("mode", Ty::String, "`ssm` (the default: Session Manager, no inbound rule) or `openvpn` (OpenVPN Access Server). Changing it replaces the bastion.").default(DEFAULT_MODE).one_of(&["ssm", "openvpn"]).force_new(),
                Attribute::required("vpc_id", Ty::String, "VPC of the bastion, such as a fansite_network's `vpc_id`. Changing it replaces the bastion.").force_new().not_refreshed("the host names its subnet and group, not their VPC; a change replaces the bastion.").rule(ids::vpc, "a VPC ID"),
                Attribute::required("subnet_id", Ty::String, "Subnet of the host: a private one with `ssm` (a fansite_network's `private_subnet_ids[0]`; it needs a route to Systems Manager, through the NAT gateway or interface endpoints), a public one with `openvpn`. A change moves the host: a new one is made there before the old one goes.").rule(ids::subnet, "a subnet ID"),
                Attribute::optional_computed("instance_type", Ty::String, &format!("EC2 instance type (default `{SSM_INSTANCE_TYPE}` with `ssm`, Graviton like the default AMI; `{OPENVPN_INSTANCE_TYPE}` with `openvpn`, whose AMI is x86_64). A change replaces the host in place.")),
                Attribute::optional_computed("ami_id", Ty::String, &format!("AMI of the host. Left out: with `ssm` the latest Amazon Linux 2023 arm64 AMI, from the public parameter `{SSM_AMI_PARAMETER}`; with `openvpn` the newest OpenVPN Access Server AMI of the AWS Marketplace (product code `{OPENVPN_PRODUCT_CODE}`, to which the account must be subscribed). Looked up at each plan, so that a new AMI shows as a change, which replaces the host in place.")).rule(rules::ami, "an AMI ID"),
                Attribute::optional("allowed_cidrs", Ty::list_of_strings(), "With `openvpn` (and only there, where it is required): the IPv4 ranges that may reach the VPN (UDP 1194 and TCP 443) and its admin UI (TCP 943), such as the office's.").rule(rules::cidr, "IPv4 CIDR blocks"),
                Attribute::optional_computed("vpn_routes", Ty::list_of_strings(), "With `openvpn`: the ranges the VPN routes to the VPC, pushed to clients (default: the VPC's CIDR block). A change replaces the host in place.").rule(rules::cidr, "IPv4 CIDR blocks").not_refreshed("given to the host at its first boot, which AWS keeps only in its user data."),
                Attribute::optional_computed("session_log_retention_days", Ty::Number, &format!("Days CloudWatch Logs keeps the session logs: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653 (default {DEFAULT_LOG_RETENTION}).")).default(DEFAULT_LOG_RETENTION),
                Attribute::optional("session_log_bucket", Ty::String, "An S3 bucket that also keeps each session's log (encrypted), under `bastion/<name>/`; the host's role may write there only."),
                Attribute::optional_computed("idle_session_timeout", Ty::Number, &format!("Minutes without input after which Session Manager ends a session (default {DEFAULT_IDLE_MINUTES}).")).default(DEFAULT_IDLE_MINUTES).range(1, 60),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for every part, on top of the provider's `default_tags`. Keys starting with `aws:` are reserved."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the bastion: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("instance_id", Ty::String, "ID of the EC2 instance; the target of `aws ssm start-session`."),
                Attribute::computed("private_ip", Ty::String, "Private IPv4 address of the host."),
                Attribute::computed("public_ip", Ty::String, "With `openvpn`: the Elastic IP that clients connect to; it moves to a new host when the host is replaced."),
                Attribute::computed("elastic_ip_id", Ty::String, "With `openvpn`: allocation ID of the Elastic IP."),
                Attribute::computed("security_group_id", Ty::String, "Security group of the host: no inbound rule with `ssm`; the VPN's ports from `allowed_cidrs` with `openvpn`."),
                Attribute::computed("role_arn", Ty::String, "Role the host runs as: Systems Manager's core permissions, and writing its session logs (or, with `openvpn`, reading its admin password)."),
                Attribute::computed("log_group_name", Ty::String, "CloudWatch Logs group of the session logs."),
                Attribute::computed("session_document_name", Ty::String, "With `ssm`: Session Manager preferences document of this bastion (`<name>-sessions`): logging and the idle timeout. `aws ssm start-session --document-name` it for a logged shell."),
                Attribute::computed("port_forward_document_name", Ty::String, "With `port_forward`: the document that forwards a local port to its host and port only."),
                Attribute::computed("port_forward_command", Ty::String, "With `port_forward`: the command a developer runs to reach it, then connects to `127.0.0.1:<local_port>`."),
                Attribute::computed("developer_policy_json", Ty::String, "With `ssm`: an IAM policy to attach to developers: start sessions on this host only, with this bastion's documents only (`ssm:SessionDocumentAccessCheck`), and end or resume their own sessions only."),
                Attribute::computed("admin_secret_arn", Ty::String, "With `openvpn`: Secrets Manager secret holding the `openvpn` admin user's password, made by the provider; its value is never in the plan or the state, nor in the host's user data (the host reads it with its role at boot)."),
                Attribute::computed("admin_url", Ty::String, "With `openvpn`: the admin UI, `https://<public_ip>:943/admin`."),
            ],
            blocks: vec![
                block("allow_to", Nesting::List, allow_to),
                block("port_forward", Nesting::OptionalSingle, port_forward),
            ],
        },
    }
}
