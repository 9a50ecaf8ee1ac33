#!/usr/bin/env bash
# make bench (AWS part): wall time of one `dr aws describe-db-instances` (one DescribeDBInstances
# call, SigV4-signed, over libcurl) versus `aws rds describe-db-instances`, against the same local
# moto server, started and stopped here. Best and median of N runs each.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
command -v aws >/dev/null || python3 -m pip install -q awscli
DR=${DR_BIN:-.build/release/dr}
N=${BENCH_N:-20}
work=$(mktemp -d /tmp/dr-bench-aws.XXXXXX)
trap 'stop_moto "$work/moto"; rm -rf "$work"' EXIT
port=$(free_port)
start_moto "$work/moto" "$port"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
url="http://127.0.0.1:$port"
# One instance so the response has content to decode.
aws --endpoint-url "$url" rds create-db-instance --db-instance-identifier bench-db --db-instance-class db.t3.micro \
  --engine postgres --allocated-storage 20 --master-username dr --master-user-password not-a-password >/dev/null
"$DR" aws describe-db-instances --endpoint-url "$url" | grep -q bench-db
aws --endpoint-url "$url" rds describe-db-instances | grep -q bench-db

time_runs() { # prints sorted per-run milliseconds
  local i
  for i in $(seq 1 "$N"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
  done | sort -n
}
dr_ms=$(time_runs "$DR" aws describe-db-instances --endpoint-url "$url")
cli_ms=$(time_runs aws --endpoint-url "$url" rds describe-db-instances)
best() { echo "$1" | head -1; }
median() { echo "$1" | sed -n "$(( (N + 1) / 2 ))p"; }
echo "aws: one DescribeDBInstances against local moto, $N runs each"
echo "  dr  aws describe-db-instances : best $(best "$dr_ms") ms, median $(median "$dr_ms") ms"
echo "  aws rds describe-db-instances : best $(best "$cli_ms") ms, median $(median "$cli_ms") ms"
awk -v d="$(median "$dr_ms")" -v c="$(median "$cli_ms")" 'BEGIN { printf "  ratio (median): dr takes %.1f%% of the AWS CLI time (target <= 10%%)\n", 100 * d / c }'
