#!/usr/bin/env bash
# Runs a command with the servers the integration tests need, and stops them afterwards,
# also when the command fails or is interrupted:
#   - a PostgreSQL 15 server on 127.0.0.1 (DR_TEST_PG_CONNINFO)
#   - the moto AWS emulator with request authentication on (DR_TEST_MOTO_URL, and an access key
#     it knows: DR_TEST_AWS_ACCESS_KEY_ID / DR_TEST_AWS_SECRET_ACCESS_KEY)
#   - a second moto with authentication off, for Route 53 (DR_TEST_MOTO_NOAUTH_URL): moto's
#     signature check wrongly rejects Route 53's body-less GET/DELETE requests
# Tests read these variables and fail loudly when one is missing; they never skip.
#
# Nothing leaves the machine: AWS_EC2_METADATA_DISABLED=true for every test and every process
# they start (instance-metadata tests name a local server), and every AWS request the tests make,
# in the test process or in a `dr` it runs, is recorded (DR_AWS_REQUEST_LOG) and afterwards
# checked against the botocore service models installed with moto, and every HTTP request dr's
# transport sent against 127.0.0.1 (scripts/check-aws-requests.py). A violation fails the run.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/dr-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  stop_moto "$work/moto-auth"
  stop_moto "$work/moto-noauth"
  stop_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export AWS_EC2_METADATA_DISABLED=true
export DR_AWS_REQUEST_LOG="$work/aws-requests.jsonl"
: > "$DR_AWS_REQUEST_LOG"

pg_port=$(free_port)
pg_password="dr-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_postgres "$work/pg" "$pg_port" "$pg_password"
export DR_TEST_PG_CONNINFO="host=127.0.0.1 port=$pg_port dbname=postgres user=postgres password=$pg_password"
export DR_TEST_PG_BINDIR="$(pg_bindir)"
export DR_TEST_WORK="$work"

moto_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=1000 start_moto "$work/moto-auth" "$moto_port"
eval "$(python3 "$(dirname "$0")/moto-bootstrap.py" "http://127.0.0.1:$moto_port")"
export DR_TEST_MOTO_URL="http://127.0.0.1:$moto_port" DR_TEST_AWS_ACCESS_KEY_ID DR_TEST_AWS_SECRET_ACCESS_KEY
moto_noauth_port=$(free_port)
start_moto "$work/moto-noauth" "$moto_noauth_port"
export DR_TEST_MOTO_NOAUTH_URL="http://127.0.0.1:$moto_noauth_port"
echo "test servers: postgres on 127.0.0.1:$pg_port, moto (auth) on 127.0.0.1:$moto_port, moto (no auth) on 127.0.0.1:$moto_noauth_port" >&2

status=0
"$@" || status=$?
# Every AWS request the run made, against the service models (0 violations, or the run fails).
python3 "$(dirname "$0")/check-aws-requests.py" --quiet "$DR_AWS_REQUEST_LOG" || { [ "$status" -ne 0 ] || status=1; }
exit "$status"
