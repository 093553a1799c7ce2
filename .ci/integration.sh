#!/usr/bin/env bash
# The integration module's tests against real databases: starts a throwaway
# PostgreSQL (.ci/postgres.sh), runs `go test -race -count=1 -v ./...` in
# integration/ with HIPOPAY_TEST_POSTGRES_DSN set, fails if any test was
# skipped (a PostgreSQL test skips when the DSN is missing), and stops the
# server on exit whatever happened. Run from anywhere; needs Go, and root or
# an installed PostgreSQL.
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

echo "integration.sh: go test -race -count=1 -v ./... in integration/"
(cd integration && go test -race -count=1 -v ./...) 2>&1 | tee "$log"

if grep -q -- '--- SKIP' "$log"; then
    echo "integration.sh: FAIL: tests were skipped:" >&2
    grep -B1 -- '--- SKIP' "$log" >&2 || true
    exit 1
fi
echo "integration.sh: all integration tests ran and passed"
