//! The bastion's state, and the documents and policies made from it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use crate::resources::Tags;

pub const DEFAULT_MODE: &str = "ssm";
/// Graviton, like the default AMI: the smallest type, for a host that only relays.
pub const SSM_INSTANCE_TYPE: &str = "t4g.nano";
/// OpenVPN Access Server's Marketplace AMI is x86_64; its vendor suggests t3.small.
pub const OPENVPN_INSTANCE_TYPE: &str = "t3.small";
pub const SSM_AMI_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/// OpenVPN Access Server (BYOL, 2 connected devices free) in the AWS Marketplace.
pub const OPENVPN_PRODUCT_CODE: &str = "f2ew2wrz425a1jagnifd02u5t";
pub const DEFAULT_LOG_RETENTION: i64 = 90;
pub const DEFAULT_IDLE_MINUTES: i64 = 20;
/// The kind in the owner tag of the account-global parts (role, instance profile).
pub const OWNER_KIND: &str = "fansite_bastion";
/// The inline policy on the host's role.
pub const ROLE_POLICY: &str = "bastion";
/// OpenVPN Access Server's ports: the VPN over UDP and TCP, and its admin UI.
pub const VPN_PORTS: &[(&str, i32)] = &[("udp", 1194), ("tcp", 443), ("tcp", 943)];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BastionState {
    pub name: String,
    pub mode: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub instance_type: String,
    pub ami_id: String,
    pub allowed_cidrs: Option<Vec<String>>,
    pub vpn_routes: Option<Vec<String>>,
    pub session_log_retention_days: i64,
    pub session_log_bucket: Option<String>,
    pub idle_session_timeout: i64,
    pub allow_to: Vec<AllowTo>,
    #[serde(with = "crate::typed::one_block")]
    pub port_forward: Option<PortForward>,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    // What has been made.
    pub instance_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub elastic_ip_id: Option<String>,
    pub security_group_id: Option<String>,
    pub role_arn: Option<String>,
    pub log_group_name: Option<String>,
    pub session_document_name: Option<String>,
    pub port_forward_document_name: Option<String>,
    pub admin_secret_arn: Option<String>,
}

impl Default for BastionState {
    fn default() -> Self {
        BastionState {
            name: String::new(),
            mode: DEFAULT_MODE.into(),
            vpc_id: String::new(),
            subnet_id: String::new(),
            instance_type: String::new(),
            ami_id: String::new(),
            allowed_cidrs: None,
            vpn_routes: None,
            session_log_retention_days: DEFAULT_LOG_RETENTION,
            session_log_bucket: None,
            idle_session_timeout: DEFAULT_IDLE_MINUTES,
            allow_to: Vec::new(),
            port_forward: None,
            tags: None,
            tags_all: Tags::new(),
            instance_id: None,
            private_ip: None,
            public_ip: None,
            elastic_ip_id: None,
            security_group_id: None,
            role_arn: None,
            log_group_name: None,
            session_document_name: None,
            port_forward_document_name: None,
            admin_secret_arn: None,
        }
    }
}

pub use crate::resources::AllowTo;

/// The `port_forward {}` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortForward {
    pub host: String,
    pub port: i64,
    /// `None`: the same as `port` (the plan fills it in).
    pub local_port: Option<i64>,
}

impl Default for PortForward {
    fn default() -> Self {
        PortForward {
            host: String::new(),
            port: 3306,
            local_port: None,
        }
    }
}

impl BastionState {
    pub fn openvpn(&self) -> bool {
        self.mode == "openvpn"
    }

    /// The host's role and instance profile.
    pub fn role_name(&self) -> String {
        format!("{}-bastion", self.name)
    }

    pub fn security_group_name(&self) -> String {
        format!("{}-bastion", self.name)
    }

    pub fn log_group(&self) -> String {
        format!("/fansite/bastion/{}", self.name)
    }

    pub fn session_document(&self) -> String {
        format!("{}-sessions", self.name)
    }

    pub fn port_forward_document(&self) -> String {
        format!("{}-port-forward", self.name)
    }

    pub fn admin_secret_name(&self) -> String {
        format!("fansite/{}/openvpn-admin", self.name)
    }

    /// The description that marks ingress rules this bastion adds to other groups.
    pub fn rule_marker(&self) -> String {
        format!("fansite_bastion {}", self.name)
    }

    pub fn owner(&self, region: &str) -> String {
        crate::aws::owner(OWNER_KIND, &self.name, region)
    }

    /// Whether `other` needs another host: what an instance is launched with.
    pub fn host_differs(&self, other: &BastionState) -> bool {
        (
            &self.ami_id,
            &self.instance_type,
            &self.subnet_id,
            self.openvpn().then_some(&self.vpn_routes),
        ) != (
            &other.ami_id,
            &other.instance_type,
            &other.subnet_id,
            other.openvpn().then_some(&other.vpn_routes),
        )
    }

    /// The Session Manager preferences of this bastion's shell sessions
    /// (schema 1.0, `Standard_Stream`): every session streamed to the log
    /// group (and at its end to the bucket), encrypted, ended after
    /// `idle_session_timeout` minutes without input.
    pub fn session_document_content(&self) -> String {
        json!({
            "schemaVersion": "1.0",
            "description": format!("Session preferences of the fansite bastion {}: sessions logged to {}.", self.name, self.log_group()),
            "sessionType": "Standard_Stream",
            "inputs": {
                "s3BucketName": self.session_log_bucket.clone().unwrap_or_default(),
                "s3KeyPrefix": if self.session_log_bucket.is_some() { format!("bastion/{}", self.name) } else { String::new() },
                "s3EncryptionEnabled": self.session_log_bucket.is_some(),
                "cloudWatchLogGroupName": self.log_group(),
                "cloudWatchEncryptionEnabled": false,
                "cloudWatchStreamingEnabled": true,
                "idleSessionTimeout": self.idle_session_timeout.to_string(),
                "runAsEnabled": false,
                "shellProfile": { "linux": "cd ~ && bash", "windows": "" }
            }
        })
        .to_string()
    }

    /// A `Port` session document that forwards a local port to the one host
    /// and port of `port_forward`: the developer chooses only the local port.
    pub fn port_forward_document_content(&self) -> Option<String> {
        let p = self.port_forward.as_ref()?;
        Some(
            json!({
                "schemaVersion": "1.0",
                "description": format!("Forwards a local port to {}:{} through the fansite bastion {}.", p.host, p.port, self.name),
                "sessionType": "Port",
                "parameters": {
                    "localPortNumber": {
                        "type": "String",
                        "description": "Port on the developer's machine.",
                        "allowedPattern": "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$",
                        "default": p.local_port.unwrap_or(p.port).to_string()
                    }
                },
                "properties": {
                    "type": "LocalPortForwarding",
                    "host": p.host,
                    "portNumber": p.port.to_string(),
                    "localPortNumber": "{{ localPortNumber }}"
                }
            })
            .to_string(),
        )
    }

    pub fn port_forward_command(&self, region: &str) -> Option<String> {
        let p = self.port_forward.as_ref()?;
        let id = self.instance_id.as_deref()?;
        Some(format!(
            "aws ssm start-session --region {region} --target {id} --document-name {} --parameters localPortNumber={}",
            self.port_forward_document(),
            p.local_port.unwrap_or(p.port)
        ))
    }

    /// The policy for developers: sessions on this host only, with this
    /// bastion's documents only, and their own sessions only.
    pub fn developer_policy(&self, region: &str) -> Option<String> {
        let id = self.instance_id.as_deref()?;
        let account = self.role_arn.as_deref().and_then(|a| a.split(':').nth(4))?;
        let mut documents = vec![format!(
            "arn:aws:ssm:{region}:{account}:document/{}",
            self.session_document()
        )];
        if self.port_forward.is_some() {
            documents.push(format!(
                "arn:aws:ssm:{region}:{account}:document/{}",
                self.port_forward_document()
            ));
        }
        let mut resources = vec![format!("arn:aws:ec2:{region}:{account}:instance/{id}")];
        resources.extend(documents);
        Some(
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "StartSessionsOnTheBastionWithItsDocumentsOnly",
                        "Effect": "Allow",
                        "Action": "ssm:StartSession",
                        "Resource": resources,
                        "Condition": { "BoolIfExists": { "ssm:SessionDocumentAccessCheck": "true" } }
                    },
                    {
                        "Sid": "OwnSessionsOnly",
                        "Effect": "Allow",
                        "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
                        "Resource": "arn:aws:ssm:*:*:session/${aws:userid}-*"
                    }
                ]
            })
            .to_string(),
        )
    }

    /// The host role's own permissions, besides AmazonSSMManagedInstanceCore:
    /// writing its session logs (ssm), or reading its admin password (openvpn).
    pub fn role_policy(&self, region: &str, account: &str) -> String {
        let mut statements: Vec<Value> = Vec::new();
        if self.openvpn() {
            if let Some(arn) = &self.admin_secret_arn {
                statements.push(json!({
                    "Sid": "ReadTheAdminPassword",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": arn
                }));
            }
        } else {
            statements.push(json!({
                "Sid": "WriteSessionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [
                    format!("arn:aws:logs:{region}:{account}:log-group:{}", self.log_group()),
                    format!("arn:aws:logs:{region}:{account}:log-group:{}:*", self.log_group())
                ]
            }));
            statements.push(json!({
                "Sid": "FindTheLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*"
            }));
            if let Some(bucket) = &self.session_log_bucket {
                statements.push(json!({
                    "Sid": "WriteSessionLogsToTheBucket",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": format!("arn:aws:s3:::{bucket}/bastion/{}/*", self.name)
                }));
                statements.push(json!({
                    "Sid": "CheckTheBucketsEncryption",
                    "Effect": "Allow",
                    "Action": "s3:GetEncryptionConfiguration",
                    "Resource": format!("arn:aws:s3:::{bucket}")
                }));
            }
        }
        json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
    }

    /// The OpenVPN host's first boot: the admin password read from Secrets
    /// Manager with the host's role (the user data holds only its ARN), and
    /// the routes to the VPC pushed to clients.
    pub fn openvpn_user_data(&self, region: &str) -> String {
        let secret = self.admin_secret_arn.clone().unwrap_or_default();
        let mut routes = String::new();
        for (i, cidr) in self.vpn_routes.iter().flatten().enumerate() {
            routes.push_str(&format!(
                "$SACLI --key vpn.server.routing.private_network.{i} --value {cidr} ConfigPut\n"
            ));
        }
        format!(
            "#!/bin/bash\n\
             # fansite_bastion {name}: OpenVPN Access Server's first boot.\n\
             set -euo pipefail\n\
             command -v aws >/dev/null || (apt-get update -q && apt-get install -yq awscli)\n\
             SACLI=/usr/local/openvpn_as/scripts/sacli\n\
             for _ in $(seq 1 60); do [ -x \"$SACLI\" ] && break; sleep 5; done\n\
             PW=$(aws secretsmanager get-secret-value --region {region} --secret-id {secret} --query SecretString --output text)\n\
             $SACLI --user openvpn --new_pass \"$PW\" SetLocalPassword\n\
             unset PW\n\
             $SACLI --key vpn.client.routing.reroute_gw --value false ConfigPut\n\
             {routes}\
             $SACLI start\n",
            name = self.name
        )
    }
}
