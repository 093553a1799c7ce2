#!/usr/bin/env bash
# The integration module's tests against real databases: starts a throwaway
# PostgreSQL (.ci/postgres.sh), runs `go test -race -count=1 -v ./...` in
# integration/ with HIPOPAY_TEST_POSTGRES_DSN and HIPOPAY_TEST_PG_RESTART
# set, the chaos test (which restarts PostgreSQL mid-storm) on its own
# afterwards so that it cannot break tests of another package running
# beside it, fails if any test was skipped (a PostgreSQL test skips when the
# DSN is missing), prints the chaos test's lines (its figures and the faults
# it verified), and stops the server on exit whatever happened. Run from
# anywhere; needs Go, and root or an installed PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# A state folder of its own, so that a server a developer started by hand
# with .ci/postgres.sh is left alone.
HIPOPAY_PG_STATE_DIR=$(mktemp -d /tmp/hipopay-pg-ci.XXXXXX)
export HIPOPAY_PG_STATE_DIR
log=$(mktemp /tmp/hipopay-integration.XXXXXX.log)
cleanup() {
    "$root/.ci/postgres.sh" stop || true
    rm -rf -- "$HIPOPAY_PG_STATE_DIR" "$log"
}
trap cleanup EXIT

env_line=$("$root/.ci/postgres.sh" start)
eval "$env_line"
[[ -n ${HIPOPAY_TEST_POSTGRES_DSN:-} ]] || { echo "integration.sh: postgres.sh gave no DSN" >&2; exit 1; }
[[ -n ${HIPOPAY_TEST_PG_RESTART:-} ]] || { echo "integration.sh: postgres.sh gave no restart command" >&2; exit 1; }

echo "integration.sh: go test -race -count=1 -v -skip Chaos ./... in integration/"
(cd integration && go test -race -count=1 -v -skip 'Chaos' ./...) 2>&1 | tee "$log"
echo "integration.sh: go test -race -count=1 -v -run Chaos ./... in integration/ (restarts PostgreSQL)"
(cd integration && go test -race -count=1 -v -run 'Chaos' ./...) 2>&1 | tee -a "$log"
grep -q '^=== RUN   TestPostgresChaos' "$log" || { echo "integration.sh: FAIL: the chaos test did not run" >&2; exit 1; }

if grep -q -- '--- SKIP' "$log"; then
    echo "integration.sh: FAIL: tests were skipped:" >&2
    grep -B1 -- '--- SKIP' "$log" >&2 || true
    exit 1
fi
grep -qE 'chaos: payments=[0-9]+ .* lost=0 doubled=0 ' "$log" || { echo "integration.sh: FAIL: no chaos line with lost=0 doubled=0" >&2; exit 1; }
echo "integration.sh: all integration tests ran and passed; the chaos test's lines:"
grep -E 'chaos_test.go:[0-9]+: chaos( faults)?:' "$log" | sed -E 's/^ *chaos_test.go:[0-9]+: //'

