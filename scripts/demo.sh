#!/usr/bin/env bash
# `make demo`: applies each example stack (examples/network, examples/auth,
# examples/database, examples/edge, examples/service, examples/observability,
# examples/ci_access, examples/release, examples/bastion)
# with real Terraform on the local endpoint, prints its
# outputs, shows that a second plan is empty, then destroys it.
# With Terraform 1.15.5 (.tools/bin/terraform) it then shows the newer
# protocol: the network's identity, `terraform query` finding it, and the
# plan of its generated configuration, an import by identity that changes
# nothing (PROTOCOL=0 leaves it out).
# Then the backend, frontend and observability workspaces that fansite-gen
# generates, with a local backend (the backend with its bastion switched on,
# observability without its Grafana part, which only the Terraform Cloud form
# has). KEEP=1 keeps the stacks and the endpoint; EXAMPLES="auth" picks some
# examples; GEN=0 leaves out the generated workspaces.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${TERRAFORM:-}" ]; then TF=$TERRAFORM
elif command -v terraform >/dev/null 2>&1; then TF=$(command -v terraform)
else TF=$PWD/.tools/bin/terraform
fi
KEEP=${KEEP:-0}
EXAMPLES=${EXAMPLES:-network auth database edge service observability ci_access release bastion}
KEEP_ENDPOINT=$KEEP . scripts/endpoint.sh
export TF_CLI_CONFIG_FILE=$PWD/.tools/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_aws_endpoint=$FANSITE_AWS_ENDPOINT
# The realistic layer (tests/realistic/) in front of the endpoint. With
# REALISTIC=1 parts take a while to be ready and to go, as on AWS
# (FANSITE_REALISTIC_SCALE scales its windows); without it the layer has no
# windows and only answers what the endpoint lacks (CloudFront's
# PublishFunction and monitoring subscriptions, CloudWatch Logs' query
# definitions, SSM's DescribeInstanceInformation; ARCHITECTURE.md).
if [ "${REALISTIC:-0}" != 1 ]; then export FANSITE_REALISTIC_SCALE=0; fi
{
  mkdir -p target/demo
  "${CARGO_TARGET_DIR:-target}/debug/fansite-realistic" "$FANSITE_AWS_ENDPOINT" > target/demo/realistic.url 2> target/demo/realistic.log &
  FANSITE_LAYER_PID=$!
  if [ "$KEEP" = 1 ]; then
    echo "demo: the realistic layer (pid $FANSITE_LAYER_PID) keeps running with the endpoint"
  else
    trap 'kill $FANSITE_LAYER_PID 2>/dev/null || true; kill ${FANSITE_MOTO_PID:-} 2>/dev/null || true' EXIT
  fi
  for _ in $(seq 1 50); do [ -s target/demo/realistic.url ] && break; sleep 0.1; done
  TF_VAR_aws_endpoint=$(head -1 target/demo/realistic.url)
  echo "demo: realistic layer (scale ${FANSITE_REALISTIC_SCALE:-1}) at $TF_VAR_aws_endpoint (what it did: target/demo/realistic.log)"
}
echo "demo: $("$TF" version | head -1), local AWS endpoint $TF_VAR_aws_endpoint"
ROOT=$PWD
for example in $EXAMPLES; do
  [ -f "examples/$example/main.tf" ] || { echo "demo: no examples/$example" >&2; exit 1; }
  DIR=$ROOT/target/demo/$example
  rm -rf "$DIR" && mkdir -p "$DIR"
  cp "examples/$example/main.tf" "$DIR/"
  cd "$DIR"
  echo "demo [$example]: terraform apply"
  "$TF" init -input=false -no-color > init.log
  "$TF" apply -auto-approve -input=false -no-color | sed -n '/^Apply complete/,$p'
  if [ "$example" = release ]; then
    # The first apply made the service's repository, which is empty; a build
    # pushes the tag (here through the endpoint's ECR API, as a `docker push`
    # ends), and the next apply starts the service on the tag's digest.
    digest=$("$ROOT/.tools/venv/bin/python" "$ROOT/scripts/push-image.py" "$TF_VAR_aws_endpoint" ap-northeast-2 fansite-release 1.4.2)
    echo "demo [$example]: pushed fansite-release:1.4.2 as $digest; terraform apply"
    "$TF" apply -auto-approve -input=false -no-color | sed -n '/^Apply complete/,$p'
  fi
  echo "demo [$example]: second terraform plan"
  set +e
  "$TF" plan -detailed-exitcode -input=false -no-color > plan.log
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then cat plan.log; echo "demo [$example]: the second plan is NOT empty (exit $rc)" >&2; exit 1; fi
  grep -E "^No changes" plan.log
  if [ "$KEEP" = 1 ]; then
    echo "demo [$example]: kept. In $DIR: TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE TF_VAR_aws_endpoint=$TF_VAR_aws_endpoint $TF destroy"
  else
    echo "demo [$example]: terraform destroy"
    "$TF" destroy -auto-approve -input=false -no-color | tail -1
  fi
  cd "$ROOT"
done
# The newer protocol, on Terraform 1.15.5: resource identity, `terraform
# query` and its generated configuration, import by identity.
TF15=$ROOT/.tools/bin/terraform
if [ "${PROTOCOL:-1}" = 1 ] && [ -x "$TF15" ]; then
  DIR=$ROOT/target/demo/protocol
  rm -rf "$DIR" && mkdir -p "$DIR/stack" "$DIR/found"
  cp examples/network/main.tf "$DIR/stack/"
  cd "$DIR/stack"
  echo "demo [protocol]: $("$TF15" version | head -1): apply examples/network"
  "$TF15" init -input=false -no-color > init.log
  "$TF15" apply -auto-approve -input=false -no-color | sed -n '/^Apply complete/p'
  echo "demo [protocol]: the network's identity in the state"
  "$TF15" show -json | "$ROOT/.tools/venv/bin/python" -c 'import json, sys; [print("  ", r["address"], json.dumps(r.get("identity"))) for r in json.load(sys.stdin)["values"]["root_module"]["resources"]]'
  # `terraform query` in a configuration of the provider alone: it finds the
  # network by its tags and writes its configuration with an import block.
  sed '/^resource /,$d' main.tf > "$DIR/found/main.tf"
  printf 'list "fansite_network" "all" {\n  provider = fansite\n}\n' > "$DIR/found/find.tfquery.hcl"
  cd "$DIR/found"
  "$TF15" init -input=false -no-color > init.log
  echo "demo [protocol]: terraform query"
  "$TF15" query -no-color -generate-config-out=generated.tf | sed -n '/^list\./p'
  rm find.tfquery.hcl
  echo "demo [protocol]: terraform plan of the generated configuration (import by identity)"
  "$TF15" plan -input=false -no-color | grep -E "^Plan:|will be imported|identity|No changes" || true
  cd "$DIR/stack"
  echo "demo [protocol]: terraform destroy"
  "$TF15" destroy -auto-approve -input=false -no-color | tail -1
  cd "$ROOT"
fi
# The Terraform Cloud workspaces fansite-gen generates, with a local state file
# instead of the cloud block: the backend, then the frontend reading its outputs,
# then observability reading both (its Grafana part is left out of this form:
# it needs the aws and grafana providers).
if [ "${GEN:-1}" = 1 ]; then
  GEN_DIR=$ROOT/target/demo/gen
  rm -rf "$GEN_DIR"
  "${CARGO_TARGET_DIR:-target}/debug/fansite-gen" render --backend local --out "$GEN_DIR"
  # The spec's own region (ap-northeast-2), apart from the examples' us-east-1: the local
  # endpoint keeps a deleted cluster's automated snapshots, named by the minute.
  export TF_VAR_deletion_protection=false TF_VAR_force_destroy=true
  # The backend's bastion, off by default in its spec, on here: developers'
  # access to the database through Session Manager (fansite_bastion.dev).
  export TF_VAR_bastion=true
  # What Terraform Cloud holds as workspace variables: the deployed tag, and
  # the webhook as a sensitive variable.
  export TF_VAR_image_tag=1.0.0
  export TF_VAR_slack_webhook_url=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
  for part in backend frontend observability; do
    cd "$GEN_DIR/workspaces/$part"
    echo "demo [generated $part workspace]: terraform apply"
    "$TF" init -input=false -no-color > init.log
    "$TF" apply -auto-approve -input=false -no-color | sed -n '/^Apply complete/,$p'
    "$TF" plan -detailed-exitcode -input=false -no-color > plan.log || { cat plan.log; echo "demo [generated $part]: the second plan is NOT empty" >&2; exit 1; }
    cd "$ROOT"
  done
  if [ "$KEEP" != 1 ]; then
    for part in observability frontend backend; do
      cd "$GEN_DIR/workspaces/$part"
      echo "demo [generated $part workspace]: terraform destroy"
      "$TF" destroy -auto-approve -input=false -no-color | tail -1
      cd "$ROOT"
    done
  fi
fi
if [ "$KEEP" = 1 ]; then
  echo "demo: the endpoint (moto_server, pid ${FANSITE_MOTO_PID:-external}) keeps running; kill it when done"
fi
