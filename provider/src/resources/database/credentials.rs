//! `fansite_database_credentials`: the user name and password of an Aurora
//! cluster, with its endpoints, read from Secrets Manager for one Terraform
//! run. An ephemeral resource: Terraform never writes it to plan or state, so
//! the password can reach a write-only attribute or a provider configuration
//! without being stored.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::secrets::SecretValue;
use crate::aws::{rds, secrets, Aws, Tags};
use crate::ctx::{Ctx, Ended, READ_TIMEOUT};
use crate::diag::{AttrPath, Diags};
use crate::error::{Error, Result};
use crate::extra::Ephemeral;
use crate::schema::{Attribute, Block, Schema, Ty};
use crate::value::Dyn;

use super::state::parse_connection;

/// The tag RDS puts on a master user secret it manages: the ARN of the
/// cluster whose password it holds (Aurora User Guide, "Password management
/// with Amazon Aurora and AWS Secrets Manager").
const RDS_CLUSTER_TAG: &str = "aws:rds:primaryDBClusterArn";

pub struct DatabaseCredentials;

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "The user name and password of an Aurora cluster, with its endpoints, read from Secrets Manager each time Terraform plans or applies. Ephemeral: Terraform keeps it in neither plan nor state, so it can go to a write-only attribute or a provider configuration. Give exactly one of `cluster_identifier` (the master user secret RDS keeps for the cluster) or `secret_arn` (a secret holding the credentials, such as a fansite_database's `connection_secret_arn` or `master_secret_arn`).".into(),
            attributes: vec![
                Attribute::optional("cluster_identifier", Ty::String, "Identifier of an Aurora cluster whose master password RDS manages in Secrets Manager (such as a fansite_database's `name`): its master user secret is read, and its endpoints from the cluster. Conflicts with `secret_arn`.").rule(cluster_identifier_problem, "an Aurora cluster identifier: 1 to 63 letters, digits and `-`, starting with a letter, with no `--` and no `-` at the end"),
                Attribute::optional_computed("secret_arn", Ty::String, "ARN of a Secrets Manager secret holding the credentials as JSON: either `username` and `password` (with `host`, `reader_host` and `port` when it has them; an RDS-managed master secret's endpoints are read from its cluster), or a fansite_database's connection secret, whose `master_secret_arn` gives the password. Conflicts with `cluster_identifier`; with `cluster_identifier`, the ARN of the cluster's master user secret.").rule(crate::resources::ids::secret_arn, "the ARN of a Secrets Manager secret"),
                Attribute::computed("username", Ty::String, "User name, as the secret holds it.").sensitive(),
                Attribute::computed("password", Ty::String, "Password, as Secrets Manager holds it now (RDS rotates a master password it manages).").sensitive(),
                Attribute::computed("host", Ty::String, "Writer endpoint: the DNS name that reaches the cluster's writer. Null when neither the secret nor a cluster gives it.").sensitive(),
                Attribute::computed("reader_host", Ty::String, "Reader endpoint: the DNS name that spreads connections over the readers. Null when neither the secret nor a cluster gives it.").sensitive(),
                Attribute::computed("port", Ty::Number, "Port the cluster listens on. Null when neither the secret nor a cluster gives it.").sensitive(),
            ],
            blocks: vec![],
        },
    }
}

/// An Aurora cluster identifier (CreateDBCluster, `DBClusterIdentifier`: 1
/// to 63 letters, digits or hyphens; a letter first; no hyphen at the end
/// nor two in a row).
fn cluster_identifier_problem(id: &str) -> Option<String> {
    let ok = (1..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    (!ok).then(|| {
        format!("{id:?} is not an Aurora cluster identifier: use 1 to 63 letters, digits and `-`, starting with a letter, with no `--` and no `-` at the end.")
    })
}

/// What the ephemeral resource gives. `Debug` leaves the password out.
#[derive(Debug)]
struct Credentials {
    username: String,
    password: SecretValue,
    host: Option<String>,
    reader_host: Option<String>,
    port: Option<i64>,
    secret_arn: String,
}

/// The endpoints of a cluster, as it describes them.
struct Endpoints {
    host: Option<String>,
    reader_host: Option<String>,
    port: Option<i64>,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn invalid(attribute: &str, why: String) -> Error {
    Error::Invalid {
        path: AttrPath::attr(attribute),
        why,
    }
}

/// The cluster's endpoints, or `None` when there is no such cluster.
async fn endpoints(aws: &Aws, id: &str) -> Result<Option<(Endpoints, rds::ClusterInfo)>> {
    Ok(rds::describe_cluster(&aws.rds, id).await?.map(|c| {
        (
            Endpoints {
                host: non_empty(&c.writer_endpoint),
                reader_host: non_empty(&c.reader_endpoint),
                port: Some(i64::from(c.port)),
            },
            c,
        )
    }))
}

/// The secret's JSON keys (each value as a string) and its tags. A secret
/// that is gone, or does not hold a JSON object, is an error on `attribute`.
async fn secret_fields(
    aws: &Aws,
    arn: &str,
    attribute: &str,
) -> Result<(BTreeMap<String, String>, Tags)> {
    let Some((json, tags)) = secrets::read_secret(&aws.secrets, arn).await? else {
        return Err(invalid(
            attribute,
            format!("The secret {arn} does not exist or is scheduled for deletion."),
        ));
    };
    let fields = parse_connection(&json);
    if fields.is_empty() {
        return Err(invalid(
            attribute,
            format!("The secret {arn} does not hold a JSON object with `username` and `password`."),
        ));
    }
    Ok((fields, tags))
}

/// The cluster's master user credentials, from the secret RDS manages for it.
async fn of_cluster(aws: &Aws, id: &str) -> Result<Credentials> {
    let Some((ends, cluster)) = endpoints(aws, id).await? else {
        return Err(invalid(
            "cluster_identifier",
            format!("There is no Aurora cluster {id:?} in {}.", aws.region),
        ));
    };
    let Some(arn) = cluster.master_secret_arn.clone() else {
        return Err(invalid(
            "cluster_identifier",
            format!("The Aurora cluster {id:?} has no master user secret managed by RDS (ManageMasterUserPassword), so its password is not in Secrets Manager: give `secret_arn` of a secret that holds it."),
        ));
    };
    let (fields, _) = secret_fields(aws, &arn, "cluster_identifier").await?;
    let Some(password) = fields.get("password") else {
        return Err(invalid(
            "cluster_identifier",
            format!(
                "The master user secret {arn} of the Aurora cluster {id:?} holds no `password`."
            ),
        ));
    };
    Ok(Credentials {
        username: fields
            .get("username")
            .cloned()
            .unwrap_or_else(|| cluster.master_username.clone()),
        password: SecretValue::new(password.clone()),
        host: ends.host,
        reader_host: ends.reader_host,
        port: ends.port,
        secret_arn: arn,
    })
}

/// The credentials a secret holds: its own `username` and `password`, or
/// those of the secret its `master_secret_arn` names (a fansite_database's
/// connection secret). Endpoints the secret lacks are read from the cluster
/// an RDS-managed master secret is tagged with.
async fn of_secret(aws: &Aws, arn: &str) -> Result<Credentials> {
    let (fields, tags) = secret_fields(aws, arn, "secret_arn").await?;
    let (username, password) = match fields.get("password") {
        Some(password) => (fields.get("username").cloned(), password.clone()),
        None => {
            let Some(master) = fields.get("master_secret_arn").filter(|m| !m.is_empty()) else {
                return Err(invalid(
                    "secret_arn",
                    format!("The secret {arn} holds neither a `password` nor a `master_secret_arn` naming the secret that holds it."),
                ));
            };
            let (held, _) = secret_fields(aws, master, "secret_arn").await?;
            let Some(password) = held.get("password") else {
                return Err(invalid(
                    "secret_arn",
                    format!("The master user secret {master} named by the secret {arn} holds no `password`."),
                ));
            };
            let username = held
                .get("username")
                .or_else(|| fields.get("username"))
                .cloned();
            (username, password.clone())
        }
    };
    let Some(username) = username else {
        return Err(invalid(
            "secret_arn",
            format!("The secret {arn} holds no `username`."),
        ));
    };
    let mut found = Endpoints {
        host: fields.get("host").map(String::as_str).and_then(non_empty),
        reader_host: fields
            .get("reader_host")
            .map(String::as_str)
            .and_then(non_empty),
        port: fields.get("port").and_then(|p| p.parse::<i64>().ok()),
    };
    if found.host.is_none() {
        // An RDS-managed master secret holds only the user name and password.
        let cluster = tags
            .get(RDS_CLUSTER_TAG)
            .and_then(|cluster_arn| cluster_arn.rsplit(':').next())
            .filter(|id| !id.is_empty());
        if let Some(id) = cluster {
            if let Some((ends, _)) = endpoints(aws, id).await? {
                found = Endpoints {
                    host: ends.host,
                    reader_host: found.reader_host.or(ends.reader_host),
                    port: found.port.or(ends.port),
                };
            }
        }
    }
    Ok(Credentials {
        username,
        password: SecretValue::new(password),
        host: found.host,
        reader_host: found.reader_host,
        port: found.port,
        secret_arn: arn.to_string(),
    })
}

#[async_trait]
impl Ephemeral for DatabaseCredentials {
    fn name(&self) -> &'static str {
        "database_credentials"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        schema().block.check(config, &AttrPath::root(), "", diags);
        let cluster = config.get("cluster_identifier");
        let secret = config.get("secret_arn");
        match (cluster.is_null(), secret.is_null()) {
            (true, true) => diags.attr_error(
                AttrPath::attr("cluster_identifier"),
                "Missing cluster_identifier or secret_arn",
                "Give `cluster_identifier` (the cluster whose master user secret RDS manages) or `secret_arn` (a secret holding the credentials, such as a fansite_database's `connection_secret_arn`).",
            ),
            (false, false) => diags.attr_error(
                AttrPath::attr("secret_arn"),
                "Conflicting cluster_identifier and secret_arn",
                "Give only one of `cluster_identifier` and `secret_arn`.",
            ),
            _ => {}
        }
    }

    async fn open(&self, aws: &Aws, config: &Dyn, diags: &mut Diags) -> Option<Dyn> {
        let cluster = config
            .get("cluster_identifier")
            .as_str()
            .map(str::to_string);
        let secret = config.get("secret_arn").as_str().map(str::to_string);
        let read = async {
            match (&cluster, &secret) {
                (Some(id), None) => of_cluster(aws, id).await,
                (None, Some(arn)) => of_secret(aws, arn).await,
                _ => Err(invalid(
                    "cluster_identifier",
                    "Give exactly one of `cluster_identifier` and `secret_arn`.".into(),
                )),
            }
        };
        let ctx = Ctx::new(READ_TIMEOUT, aws.stop.clone());
        let found = match ctx.run(Duration::ZERO, read).await {
            Ended::Done(Ok(found)) => found,
            Ended::Done(Err(e)) => {
                e.report(diags);
                return None;
            }
            Ended::Stopped => {
                diags.error(
                    "Reading database credentials stopped",
                    "Terraform asked the provider to stop.",
                );
                return None;
            }
            Ended::TimedOut => {
                diags.error(
                    "Reading database credentials timed out",
                    format!(
                        "Secrets Manager and RDS did not answer within {} s.",
                        READ_TIMEOUT.as_secs()
                    ),
                );
                return None;
            }
        };
        tracing::info!(secret = %found.secret_arn, "read database credentials");
        let mut out = config.clone();
        out.set("secret_arn", Dyn::str(found.secret_arn));
        out.set("username", Dyn::str(found.username));
        out.set("password", Dyn::str(found.password.expose()));
        out.set("host", found.host.into());
        out.set("reader_host", found.reader_host.into());
        out.set("port", found.port.map_or(Dyn::Null, Dyn::Number));
        Some(out)
    }
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
