#!/usr/bin/env bash
# A real STS endpoint for the credential tests: moto's server (PyPI `moto[server]`) on 127.0.0.1
# only, a random free port, with one IAM user allowed to assume one role. moto checks a request's
# Signature V4 with botocore's signer, and the role's trust policy, once its authentication is on
# (the tests turn it on and off: POST /moto-api/reset-auth).
#
#   scripts/sts-server.sh start   starts it, creates the user and the role, writes
#                                 .build/sts-server/env (MREG_TEST_STS_ENDPOINT, _ACCESS_KEY,
#                                 _SECRET_KEY, _ROLE_ARN; `source` it) and prints its path
#   scripts/sts-server.sh stop    stops it by its PID
#
# moto comes from a venv this script makes (.venv-sts).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.build/sts-server
envfile=$state/env

# shellcheck source=scripts/service-lib.sh
source scripts/service-lib.sh

stop() {
  stop_service "$state"
  rm -rf "$state"
}

start() {
  stop
  if [ ! -x .venv-sts/bin/moto_server ]; then
    echo "sts-server: installing moto[server] into .venv-sts" >&2
    python3 -m venv .venv-sts >&2
    .venv-sts/bin/pip install -q "moto[server]" >&2
  fi
  mkdir -p "$state"
  port=$(free_port)
  .venv-sts/bin/moto_server -H 127.0.0.1 -p "$port" > "$state/moto.log" 2>&1 &
  echo $! > "$state/pid"
  endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    if curl -sf "$endpoint/moto-api/" >/dev/null 2>&1; then
      read -r key secret role < <(.venv-sts/bin/python - "$endpoint" <<'PY'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
user = iam.create_user(UserName="mreg-deployer")["User"]
key = iam.create_access_key(UserName="mreg-deployer")["AccessKey"]
trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="mreg-registry-writer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.put_user_policy(UserName="mreg-deployer", PolicyName="assume-registry-writer", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]}))
print(key["AccessKeyId"], key["SecretAccessKey"], role["Arn"])
PY
)
      cat > "$envfile" <<ENV
export MREG_TEST_STS_ENDPOINT=$endpoint
export MREG_TEST_STS_ACCESS_KEY=$key
export MREG_TEST_STS_SECRET_KEY=$secret
export MREG_TEST_STS_ROLE_ARN=$role
ENV
      echo "$envfile"
      return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "sts-server: moto did not answer on $endpoint; its log:" >&2
  cat "$state/moto.log" >&2 || true
  stop
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
