#!/usr/bin/env bash
# `make demo`: applies examples/network (the whole fan site as resources land)
# with real Terraform on the local endpoint, prints the outputs, shows that a
# second plan is empty, then destroys. KEEP=1 keeps the stack and the endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${TERRAFORM:-}" ]; then TF=$TERRAFORM
elif command -v terraform >/dev/null 2>&1; then TF=$(command -v terraform)
else TF=$PWD/.tools/bin/terraform
fi
KEEP=${KEEP:-0}
KEEP_ENDPOINT=$KEEP . scripts/endpoint.sh
export TF_CLI_CONFIG_FILE=$PWD/.tools/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_aws_endpoint=$FANSITE_AWS_ENDPOINT
DIR=target/demo
rm -rf "$DIR" && mkdir -p "$DIR"
cp examples/network/main.tf "$DIR/"
cd "$DIR"
echo "demo: $("$TF" version | head -1), local AWS endpoint $FANSITE_AWS_ENDPOINT"
"$TF" init -input=false -no-color > init.log
echo "demo: terraform apply"
"$TF" apply -auto-approve -input=false -no-color | sed -n '/^Apply complete/,$p'
echo "demo: second terraform plan"
set +e
"$TF" plan -detailed-exitcode -input=false -no-color > plan.log
rc=$?
set -e
if [ $rc -ne 0 ]; then cat plan.log; echo "demo: the second plan is NOT empty (exit $rc)" >&2; exit 1; fi
grep -E "^No changes" plan.log
if [ "$KEEP" = 1 ]; then
  echo "demo: kept. In $DIR: TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE TF_VAR_aws_endpoint=$FANSITE_AWS_ENDPOINT $TF destroy"
  echo "demo: the endpoint (moto_server, pid ${FANSITE_MOTO_PID:-external}) keeps running; kill it when done"
  exit 0
fi
echo "demo: terraform destroy"
"$TF" destroy -auto-approve -input=false -no-color | tail -1
