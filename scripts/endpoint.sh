# Sourced: starts moto_server (the local AWS endpoint) on a free loopback port,
# exports FANSITE_AWS_ENDPOINT, and stops it when the calling script exits.
# With FANSITE_AWS_ENDPOINT already set, uses that one.
if [ -z "${FANSITE_AWS_ENDPOINT:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p target
  # moto runs no ECS tasks; it reports this many running for each service,
  # so that deployments of the demo's and the tests' 2 tasks complete. AWS's
  # managed IAM policies (AmazonECSTaskExecutionRolePolicy, ...) are loaded
  # only when asked for.
  MOTO_ECS_SERVICE_RUNNING=${MOTO_ECS_SERVICE_RUNNING:-2} MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    .tools/bin/moto_server -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
  FANSITE_MOTO_PID=$!
  if [ "${KEEP_ENDPOINT:-0}" != 1 ]; then
    trap 'kill $FANSITE_MOTO_PID 2>/dev/null || true' EXIT
  fi
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.2
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "moto_server did not start; see target/moto.log" >&2; exit 1; }
  export FANSITE_AWS_ENDPOINT="http://127.0.0.1:$port"
fi
# The endpoint needs credentials, any will do; never reach for instance metadata.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_EC2_METADATA_DISABLED=true
