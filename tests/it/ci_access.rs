//! fansite_ci_access against the resource contract's nine tests. IAM is
//! global to the account and the account has one OpenID Connect provider for
//! GitHub Actions, so these tests run one at a time (`.config/nextest.toml`).

use aws_sdk_iam::Client;
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{endpoint, iam, run_name, Config, Terraform, Workspace};

const ADDR: &str = "fansite_ci_access.test";
const PROVIDER_URL: &str = "https://token.actions.githubusercontent.com";

fn ecr_arn(region: &str, repo: &str) -> String {
    format!("arn:aws:ecr:{region}:123456789012:repository/{repo}")
}

/// The API's pipeline block.
fn api_block(region: &str) -> String {
    format!(
        "pipeline {{\n    name                = \"api\"\n    repository          = \"fansite/fansite-api\"\n    ecr_repository_arns = [\"{}\"]\n  }}",
        ecr_arn(region, "fansite-api")
    )
}

const SITE_BLOCK: &str = "pipeline {\n    name              = \"site\"\n    repository        = \"fansite/fansite-web\"\n    bucket_arns       = [\"arn:aws:s3:::fansite-site\"]\n    distribution_arns = [\"arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL\"]\n  }";

/// An API pipeline and a site pipeline, named after the test. The blocks
/// are one body line, so that `with("pipeline …")` replaces them all.
fn access(region: &'static str, test: &str, tf: &Terraform) -> Config {
    Config::new("fansite_ci_access", region, run_name(test, tf))
        .with("tags = { app = \"fansite\" }")
        .with(&format!("{}\n  {SITE_BLOCK}", api_block(region)))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn decoded(doc: &str) -> Value {
    let text = percent_decode(doc);
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("policy JSON: {text}"))
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The account's provider for GitHub Actions, if there is one.
async fn provider(c: &Client) -> Option<String> {
    c.list_open_id_connect_providers()
        .send()
        .await
        .expect("list providers")
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|a| a.ends_with("oidc-provider/token.actions.githubusercontent.com"))
        .map(str::to_string)
}

/// The provider's `fansite:owner` tag, when there is a provider.
async fn provider_owner(c: &Client) -> Option<Option<String>> {
    let arn = provider(c).await?;
    let p = c
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .expect("get provider");
    Some(
        p.tags()
            .iter()
            .find(|t| t.key() == "fansite:owner")
            .map(|t| t.value().to_string()),
    )
}

fn owner_of(c: &Config) -> String {
    format!("fansite_ci_access/{}/{}", c.name, c.region)
}

/// The role's trust policy, or `None` when there is no such role.
async fn trust(c: &Client, role: &str) -> Option<Value> {
    match c.get_role().role_name(role).send().await {
        Ok(r) => r
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .map(decoded),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => panic!("get role {role}: {e:?}"),
    }
}

async fn policy(c: &Client, role: &str) -> Value {
    decoded(
        c.get_role_policy()
            .role_name(role)
            .policy_name("deploy")
            .send()
            .await
            .expect("role policy")
            .policy_document(),
    )
}

fn subs(trust: &Value) -> Value {
    trust["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
        .clone()
}

/// Destroys and asks IAM that no role and no provider made by the test is left.
async fn destroy_and_check(ws: &Workspace, c: &Config) {
    ws.destroy();
    let client = iam().await;
    for p in ["api", "site", "docs"] {
        assert_eq!(
            trust(&client, &format!("{}-{p}", c.name)).await,
            None,
            "role {p} left"
        );
    }
    // The account's one provider may be another test's (tests run one at a
    // time, but one that failed may have left its own): it must not be ours.
    assert_ne!(
        provider_owner(&client).await.flatten(),
        Some(owner_of(c)),
        "the provider it made is left"
    );
}

async fn ci_access_apply_then_plan_is_empty(tf: &Terraform) {
    let c = access("us-east-1", "ci-apply", tf);
    let client = iam().await;
    let had = provider(&client).await;
    let ws = Workspace::applied(tf, "ci-apply", &c.hcl());
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let made = provider(&client).await.expect("provider made");
    assert_eq!(s(&state["oidc_provider_arn"]), made);
    // Made by this resource when the account had none, and tagged so.
    assert_eq!(state["oidc_provider_made"], had.is_none(), "{state}");
    if had.is_none() {
        assert_eq!(provider_owner(&client).await, Some(Some(owner_of(&c))));
    }
    let api = trust(&client, &format!("{}-api", c.name))
        .await
        .expect("api role");
    assert_eq!(api["Statement"][0]["Principal"]["Federated"], made.as_str());
    assert_eq!(
        api["Statement"][0]["Action"],
        "sts:AssumeRoleWithWebIdentity"
    );
    assert_eq!(
        subs(&api),
        serde_json::json!(["repo:fansite/fansite-api:ref:refs/tags/v*"])
    );
    let p = policy(&client, &format!("{}-api", c.name)).await;
    let resources: Vec<String> = p["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Resource"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        resources,
        vec!["*".to_string(), ecr_arn("us-east-1", "fansite-api")],
        "the API's role: ECR only"
    );
    let site = policy(&client, &format!("{}-site", c.name))
        .await
        .to_string();
    assert!(
        site.contains("s3:PutObject")
            && site.contains("cloudfront:CreateInvalidation")
            && !site.contains("ecr:"),
        "{site}"
    );
    assert_eq!(
        state["role_arns"]["api"],
        Value::String(format!("arn:aws:iam::123456789012:role/{}-api", c.name))
    );
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_apply_then_plan_is_empty);

async fn ci_access_in_place_changes_update_without_replacing(tf: &Terraform) {
    let c = access("us-east-2", "ci-update", tf);
    let ws = Workspace::applied(tf, "ci-update", &c.hcl());
    let client = iam().await;
    let api_role = format!("{}-api", c.name);
    let changed = c
        .clone()
        .with("max_session_hours = 2")
        .with("tags = { app = \"fansite\", team = \"platform\" }")
        .with(&format!(
            "pipeline {{\n    name                = \"api\"\n    repository          = \"fansite/fansite-api\"\n    refs                = [\"refs/tags/v*\", \"refs/heads/release\"]\n    ecr_repository_arns = [\"{}\", \"{}\"]\n  }}\n  {SITE_BLOCK}",
            ecr_arn("us-east-2", "fansite-api"),
            ecr_arn("us-east-2", "fansite-worker")
        ));
    ws.write(&changed.hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])]
    );
    ws.apply();
    ws.assert_plan_empty();
    // Asked of IAM.
    let t = trust(&client, &api_role).await.expect("role");
    assert_eq!(
        subs(&t),
        serde_json::json!([
            "repo:fansite/fansite-api:ref:refs/tags/v*",
            "repo:fansite/fansite-api:ref:refs/heads/release"
        ])
    );
    assert!(policy(&client, &api_role)
        .await
        .to_string()
        .contains("fansite-worker"));
    let r = client
        .get_role()
        .role_name(&api_role)
        .send()
        .await
        .expect("role");
    let r = r.role().expect("role");
    assert_eq!(r.max_session_duration(), Some(7200));
    assert!(
        r.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "platform"),
        "{:?}",
        r.tags()
    );
    // A pipeline dropped: its role goes, in place.
    let api_only = c.clone().with(&api_block("us-east-2"));
    ws.write(&api_only.hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])]
    );
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        trust(&client, &format!("{}-site", c.name)).await,
        None,
        "site role gone"
    );
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_in_place_changes_update_without_replacing);

async fn ci_access_replacing_changes_plan_a_replace(tf: &Terraform) {
    let c = access("us-west-1", "ci-replace", tf);
    let ws = Workspace::applied(tf, "ci-replace", &c.hcl());
    ws.write(&c.clone().named(format!("{}-b", c.name)).hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(
            ADDR.to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )]
    );
    ws.write(&c.hcl());
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_replacing_changes_plan_a_replace);

async fn ci_access_import_gives_an_empty_plan(tf: &Terraform) {
    let c = access("us-west-2", "ci-import", tf);
    let ws = Workspace::applied(tf, "ci-import", &c.hcl());
    let applied = ws.state_values(ADDR);
    ws.assert_imports_as_applied(ADDR, &c.name, &c.hcl(), &applied);
    let other = "fansite_ci_access.other";
    ws.write(&format!("{}\nresource \"fansite_ci_access\" \"other\" {{\n  name = \"other\"\n  pipeline {{\n    name        = \"x\"\n    repository  = \"a/b\"\n    bucket_arns = [\"arn:aws:s3:::b\"]\n  }}\n}}\n", c.hcl()));
    assert!(ws
        .import_fails(other, "not a name!")
        .contains("Invalid import ID"));
    assert!(ws
        .import_fails(other, "nobody-made-this")
        .contains("Cannot import non-existent CI access"));
    ws.write(&c.hcl());
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_import_gives_an_empty_plan);

async fn ci_access_drift_is_shown_and_repaired(tf: &Terraform) {
    let c = access("eu-west-1", "ci-drift", tf);
    let ws = Workspace::applied(tf, "ci-drift", &c.hcl());
    let client = iam().await;
    let api_role = format!("{}-api", c.name);
    let made = provider(&client).await.expect("provider");
    // Someone widens the API's trust to every branch and gives it S3.
    let wide = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": made}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:fansite/fansite-api:ref:refs/heads/*"]}}}]});
    client
        .update_assume_role_policy()
        .role_name(&api_role)
        .policy_document(wide.to_string())
        .send()
        .await
        .expect("widen trust");
    let more = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "SiteBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::other"]}]});
    client
        .put_role_policy()
        .role_name(&api_role)
        .policy_name("deploy")
        .policy_document(more.to_string())
        .send()
        .await
        .expect("change policy");
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])]
    );
    let plan = ws.ok(&["show", "-no-color", "tfplan"]);
    assert!(
        plan.contains("refs/heads/*") && plan.contains("arn:aws:s3:::other"),
        "{plan}"
    );
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        subs(&trust(&client, &api_role).await.expect("role")),
        serde_json::json!(["repo:fansite/fansite-api:ref:refs/tags/v*"])
    );
    assert!(
        !policy(&client, &api_role).await.to_string().contains("s3:"),
        "repaired"
    );
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_drift_is_shown_and_repaired);

async fn ci_access_deleted_role_is_recreated(tf: &Terraform) {
    let c = access("eu-west-2", "ci-gone", tf);
    let ws = Workspace::applied(tf, "ci-gone", &c.hcl());
    let client = iam().await;
    let remove = |role: String| {
        let client = client.clone();
        async move {
            client
                .delete_role_policy()
                .role_name(&role)
                .policy_name("deploy")
                .send()
                .await
                .expect("delete policy");
            client
                .delete_role()
                .role_name(&role)
                .send()
                .await
                .expect("delete role");
        }
    };
    // One role gone: made again in place.
    remove(format!("{}-api", c.name)).await;
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])]
    );
    ws.apply();
    ws.assert_plan_empty();
    assert!(
        trust(&client, &format!("{}-api", c.name)).await.is_some(),
        "made again"
    );
    // Every part gone: the resource is made again.
    remove(format!("{}-api", c.name)).await;
    remove(format!("{}-site", c.name)).await;
    let arn = provider(&client).await.expect("provider");
    client
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .expect("delete provider");
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["create".to_string()])]
    );
    ws.apply();
    ws.assert_plan_empty();
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_deleted_role_is_recreated);

async fn ci_access_destroy_leaves_no_parts(tf: &Terraform) {
    let c = access("eu-central-1", "ci-destroy", tf);
    let client = iam().await;
    // An account whose provider someone else made: used, never deleted.
    let theirs = match provider(&client).await {
        Some(arn) => arn,
        None => client
            .create_open_id_connect_provider()
            .url(PROVIDER_URL)
            .client_id_list("sts.amazonaws.com")
            .send()
            .await
            .expect("someone's provider")
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string(),
    };
    let ws = Workspace::applied(tf, "ci-destroy", &c.hcl());
    let state = ws.state_values(ADDR);
    assert_eq!(s(&state["oidc_provider_arn"]), theirs);
    assert_eq!(state["oidc_provider_made"], false);
    ws.destroy();
    for p in ["api", "site"] {
        assert_eq!(
            trust(&client, &format!("{}-{p}", c.name)).await,
            None,
            "role {p} left"
        );
    }
    assert_eq!(
        provider(&client).await,
        Some(theirs.clone()),
        "someone else's provider stays"
    );
    client
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&theirs)
        .send()
        .await
        .expect("clean up");
    // Its own provider goes with it.
    let ws = Workspace::applied(tf, "ci-destroy", &c.hcl());
    assert_eq!(ws.state_values(ADDR)["oidc_provider_made"], true);
    destroy_and_check(&ws, &c).await;
    ws.destroy();
}
per_terraform!(ci_access_destroy_leaves_no_parts);

async fn ci_access_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let c = access("ap-south-1", "ci-bad", tf);
    let ws = Workspace::new(tf, "ci-bad", &c.hcl());
    let pipe = |body: &str| format!("pipeline {{\n    name = \"api\"\n{body}\n  }}");
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("name", c.clone().named("fan site!"), "Invalid name", "name"),
        ("repository", c.clone().with(&pipe("    repository  = \"fansite\"\n    bucket_arns = [\"arn:aws:s3:::b\"]")), "Invalid pipeline.repository", "repository"),
        ("ref", c.clone().with(&pipe("    repository  = \"a/b\"\n    refs        = [\"v*\"]\n    bucket_arns = [\"arn:aws:s3:::b\"]")), "Invalid pipeline.refs", "refs"),
        ("ecr arn", c.clone().with(&pipe("    repository          = \"a/b\"\n    ecr_repository_arns = [\"fansite-api\"]")), "Invalid pipeline.ecr_repository_arns", "ecr_repository_arns"),
        ("bucket arn", c.clone().with(&pipe("    repository  = \"a/b\"\n    bucket_arns = [\"arn:aws:s3:::b/x\"]")), "Invalid pipeline.bucket_arns", "bucket_arns"),
        ("nothing granted", c.clone().with(&pipe("    repository = \"a/b\"")), "A pipeline that may do nothing", "repository"),
        ("session", c.clone().with("max_session_hours = 24"), "Invalid max_session_hours", "max_session_hours"),
        ("reserved tag", c.clone().with("tags = { \"aws:x\" = \"y\" }"), "Reserved tag key", "aws:x"),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    let client = iam().await;
    assert_eq!(
        trust(&client, &format!("{}-api", c.name)).await,
        None,
        "bad input made a role"
    );
}
per_terraform!(ci_access_bad_inputs_fail_on_their_attribute);

async fn ci_access_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "PutRolePolicy");
    let c = access("ap-northeast-1", "ci-fault", tf)
        .provider(format!("  endpoints {{\n    iam = {:?}\n  }}\n", proxy.url));
    let ws = Workspace::new(tf, "ci-fault", &c.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed PutRolePolicy");
    assert!(out.contains("InjectedFault"), "{out}");
    assert!(
        out.contains(&format!(
            "policy \\\"deploy\\\" of IAM role \\\"{}-api\\\"",
            c.name
        )) || out.contains(&format!("policy \"deploy\" of IAM role \"{}-api\"", c.name)),
        "the error names the part: {out}"
    );
    let state = ws.state_values(ADDR);
    assert!(state["oidc_provider_arn"].is_string(), "{state}");
    assert!(
        state["role_arns"]["api"].is_string(),
        "the role made before the fault is in state: {state}"
    );
    let client = iam().await;
    assert!(trust(&client, &format!("{}-api", c.name)).await.is_some());
    assert!(ws.plan().contains("tainted"));
    destroy_and_check(&ws, &c).await;
}
per_terraform!(ci_access_fault_midway_keeps_ids_and_destroy_cleans_up);
