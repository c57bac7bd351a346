//! fansite_service's `repository {}`: the image's ECR repository, made or
//! used, and `image_tag` pinned to the digest it names. Images are pushed
//! through the endpoint's ECR API (PutImage with a manifest), as a build's
//! `docker push` ends; every check asks ECR or ECS, not the state.

use serde_json::{json, Value};

use crate::harness::{ecr, ecs, Config, Terraform, Workspace};

const ADDR: &str = "fansite_service.test";

/// The service tests' fansite_service, without `image` and with `repository {}`.
fn service(region: &'static str, test: &str, tf: &Terraform, repository: &str) -> Config {
    crate::service::service(region, test, tf)
        .without("image")
        .with(&format!("repository {{\n{repository}\n  }}"))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Pushes an image whose one layer is `layer` as `tag`; returns its digest,
/// as ECR reports it.
async fn push(region: &str, repository: &str, tag: &str, layer: u32) -> Result<String, String> {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": format!("sha256:{:064x}", 0xc0f1_u32)
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 32654,
            "digest": format!("sha256:{layer:064x}")
        }]
    });
    ecr(region)
        .await
        .put_image()
        .repository_name(repository)
        .image_manifest(manifest.to_string())
        .image_tag(tag)
        .send()
        .await
        .map(|o| {
            o.image()
                .and_then(|i| i.image_id())
                .and_then(|i| i.image_digest())
                .unwrap_or_default()
                .to_string()
        })
        .map_err(|e| {
            use aws_sdk_ecr::error::ProvideErrorMetadata;
            e.code().unwrap_or("no code").to_string()
        })
}

/// The image and Docker labels of the revision the ECS service runs.
async fn running(region: &str, name: &str) -> (String, Value) {
    let e = ecs(region).await;
    let svc = e
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .expect("describe service");
    let svc = svc
        .services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .expect("an active service");
    let td = e
        .describe_task_definition()
        .task_definition(svc.task_definition().unwrap_or_default())
        .send()
        .await
        .expect("task definition");
    let c = &td.task_definition().expect("td").container_definitions()[0];
    (
        c.image().unwrap_or_default().to_string(),
        json!(c.docker_labels()),
    )
}

async fn service_active(region: &str, name: &str) -> bool {
    ecs(region)
        .await
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .map(|o| o.services().iter().any(|s| s.status() == Some("ACTIVE")))
        .unwrap_or(false)
}

/// The repository's settings as ECR has them: (immutable, scan on push,
/// lifecycle policy), `None` when it is gone.
async fn repository(region: &str, name: &str) -> Option<(bool, bool, Option<Value>)> {
    let c = ecr(region).await;
    let out = c
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .ok()?;
    let r = out.repositories().first()?;
    let policy = c
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
        .ok()
        .and_then(|p| p.lifecycle_policy_text().map(str::to_string))
        .and_then(|t| serde_json::from_str(&t).ok());
    Some((
        r.image_tag_mutability() == Some(&aws_sdk_ecr::types::ImageTagMutability::Immutable),
        r.image_scanning_configuration()
            .is_some_and(|s| s.scan_on_push()),
        policy,
    ))
}

/// An existing, mutable repository (`create = false`): the plan shows the
/// digest the tag names, the task definition runs `<repository>@<digest>`,
/// a tag pushed again with other content is drift that the plan shows as a
/// new digest, a tag not pushed is a plan error on `image_tag`, and destroy
/// leaves the repository and its images.
async fn service_image_runs_the_digest_and_shows_a_repushed_tag(tf: &Terraform) {
    let r = "ap-southeast-1";
    let probe = service(r, "svc-img", tf, "");
    let repo_name = format!("{}-images", probe.name);
    let svc = service(
        r,
        "svc-img",
        tf,
        &format!("    name   = \"{repo_name}\"\n    create = false"),
    );
    let ws = Workspace::applied(tf, "service-image", &svc.clone().extras_only().hcl());
    let made = ecr(r)
        .await
        .create_repository()
        .repository_name(&repo_name)
        .send()
        .await
        .expect("create repository");
    let uri = made
        .repository()
        .and_then(|x| x.repository_uri())
        .unwrap_or_default()
        .to_string();
    let first = push(r, &repo_name, "1.0.0", 1).await.expect("push 1.0.0");
    ws.write(&svc.hcl());

    // The plan shows the digest ECR gives for the tag.
    let change = ws.planned_change(ADDR);
    assert_eq!(change["actions"], json!(["create"]));
    assert_eq!(s(&change["after"]["image_digest"]), first);
    assert_eq!(s(&change["after"]["image"]), uri);

    ws.apply();
    let (image, labels) = running(r, &svc.name).await;
    assert_eq!(
        image,
        format!("{uri}@{first}"),
        "the revision runs the digest"
    );
    assert_eq!(labels["org.opencontainers.image.version"], "1.0.0");
    ws.assert_plan_empty();

    // The same tag pushed again with other content: drift, shown as a new digest.
    let second = push(r, &repo_name, "1.0.0", 2).await.expect("push again");
    assert_ne!(first, second);
    let change = ws.planned_change(ADDR);
    assert_eq!(change["actions"], json!(["update"]));
    assert_eq!(s(&change["before"]["image_digest"]), first);
    assert_eq!(s(&change["after"]["image_digest"]), second);
    ws.apply();
    let (image, _) = running(r, &svc.name).await;
    assert_eq!(image, format!("{uri}@{second}"), "the new digest runs");
    ws.assert_plan_empty();

    // A tag that is not in the repository is refused at plan, naming it.
    ws.write(&svc.clone().with("image_tag = \"9.9.9\"").hcl());
    let diags = ws.assert_plan_error("tag not pushed", "Image not pushed", "image_tag");
    assert!(
        diags.iter().any(|d| d.detail.contains(&repo_name)),
        "{diags:#?}"
    );
    let (image, _) = running(r, &svc.name).await;
    assert_eq!(image, format!("{uri}@{second}"), "nothing changed");

    // Destroy leaves a repository made elsewhere, with its images.
    ws.write(&svc.hcl());
    ws.destroy();
    assert!(!service_active(r, &svc.name).await);
    let left = ecr(r)
        .await
        .list_images()
        .repository_name(&repo_name)
        .send()
        .await
        .expect("the repository is kept");
    assert_eq!(left.image_ids().len(), 1);
}
per_terraform!(service_image_runs_the_digest_and_shows_a_repushed_tag);

/// `repository {}` made by the service: the first apply makes it (tag
/// immutability, scan on push, the lifecycle policy) and every part but the
/// ECS service, with a warning; after the push the next apply starts the
/// service on the digest. ECR refuses the tag pushed again. Settings changed
/// outside Terraform are drift, repaired. Destroy refuses to lose images
/// until `force_delete`, and then leaves nothing.
async fn service_repository_is_made_then_runs_the_pushed_tag(tf: &Terraform) {
    let r = "ap-southeast-2";
    let svc = service(r, "svc-repo", tf, "    keep_images = 5");
    let name = svc.name.clone();
    let ws = Workspace::applied(tf, "service-repository", &svc.clone().extras_only().hcl());
    ws.write(&svc.hcl());

    let diags = ws.plan_diagnostics();
    assert!(
        diags.iter().any(|d| d.severity == "warning"
            && d.summary == "The service starts once its image is pushed"
            && d.detail.contains(&name)),
        "{diags:#?}"
    );
    let out = ws.apply();
    assert!(out.contains("Apply complete"), "{out}");
    let (immutable, scan, policy) = repository(r, &name).await.expect("the repository is made");
    assert!(immutable && scan, "tag immutability and scan on push");
    let policy = policy.expect("a lifecycle policy");
    let rules = policy["rules"].as_array().cloned().unwrap_or_default();
    assert!(
        rules
            .iter()
            .any(|x| x["selection"]["tagStatus"] == "untagged"
                && x["selection"]["countType"] == "sinceImagePushed"
                && x["selection"]["countNumber"] == 1),
        "untagged images expire after a day: {policy}"
    );
    assert!(
        rules.iter().any(|x| x["selection"]["tagStatus"] == "tagged"
            && x["selection"]["countType"] == "imageCountMoreThan"
            && x["selection"]["countNumber"] == 5),
        "the newest 5 tagged images stay: {policy}"
    );
    assert!(
        !service_active(r, &name).await,
        "no ECS service before the image is pushed"
    );
    let state = ws.state_values(ADDR);
    let uri = s(&state["image"]);
    assert!(uri.ends_with(&format!(".amazonaws.com/{name}")), "{uri}");

    // Pushed: the next apply starts the service on the digest.
    let digest = push(r, &name, "1.0.0", 11).await.expect("push");
    let change = ws.planned_change(ADDR);
    assert_eq!(change["actions"], json!(["update"]));
    assert_eq!(s(&change["after"]["image_digest"]), digest);
    ws.apply();
    let (image, _) = running(r, &name).await;
    assert_eq!(image, format!("{uri}@{digest}"));
    ws.assert_plan_empty();
    // emulator: the local endpoint (moto 5.2.5) answers
    // ImageAlreadyExistsException where ECR answers ImageTagAlreadyExistsException.
    let again = push(r, &name, "1.0.0", 12).await;
    assert!(
        matches!(
            again.as_ref().map_err(String::as_str),
            Err("ImageTagAlreadyExistsException" | "ImageAlreadyExistsException")
        ),
        "a released tag cannot be pushed again: {again:?}"
    );

    // Settings changed outside Terraform: shown, and put back.
    let c = ecr(r).await;
    c.put_image_tag_mutability()
        .repository_name(&name)
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
        .send()
        .await
        .expect("mutable");
    c.delete_lifecycle_policy()
        .repository_name(&name)
        .send()
        .await
        .expect("delete policy");
    let change = ws.planned_change(ADDR);
    assert_eq!(change["actions"], json!(["update"]));
    assert_eq!(
        change["before"]["repository"][0]["tag_immutability"],
        json!(false)
    );
    assert_eq!(change["before"]["repository"][0]["keep_images"], json!(0));
    ws.apply();
    let (immutable, _, policy) = repository(r, &name).await.expect("repository");
    assert!(immutable, "tag immutability is back");
    assert!(policy.is_some(), "the lifecycle policy is back");
    ws.assert_plan_empty();

    // A running service cannot move to a repository that a plan would make empty.
    ws.write(
        &svc.clone()
            .with(&format!(
                "repository {{\n    name        = \"{name}-next\"\n    keep_images = 5\n  }}"
            ))
            .hcl(),
    );
    ws.assert_plan_error(
        "rename",
        "Cannot move to an empty repository",
        &format!("{name}-next"),
    );
    ws.write(&svc.hcl());

    // Import by the service's id brings the repository block back with it.
    let applied = ws.state_values(ADDR);
    ws.ok(&["state", "rm", ADDR]);
    ws.import(ADDR, &format!("{name}/{name}"));
    ws.assert_plan_empty();
    let imported = ws.state_values(ADDR);
    assert_eq!(imported["repository"], applied["repository"]);
    assert_eq!(imported["image_digest"], applied["image_digest"]);

    // Destroy would lose the image: refused before anything is deleted.
    let out = ws.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(out.contains("still holds images"), "{out}");
    assert!(service_active(r, &name).await, "nothing was deleted");
    ws.write(
        &svc.clone()
            .with("repository {\n    keep_images  = 5\n    force_delete = true\n  }")
            .hcl(),
    );
    ws.apply();
    ws.destroy();
    assert!(
        repository(r, &name).await.is_none(),
        "the repository is gone"
    );
    assert!(!service_active(r, &name).await);
}
per_terraform!(service_repository_is_made_then_runs_the_pushed_tag);
