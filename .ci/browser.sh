#!/usr/bin/env bash
# The browser tests of the mock's dashboard (browsertest/, a module of its
# own with chromedp): installs Chromium when /usr/bin/chromium is missing
# (apt-get install chromium, as root or with sudo -n), checks the module's
# formatting, vet and staticcheck, runs its tests with the race detector and
# fails if any test was skipped (they skip only when there is no Chromium).
# Run from anywhere; needs Go.
set -euo pipefail
cd "$(dirname "$0")/.."

printf '\n== %s\n' "browser tests of the mock's dashboard (headless Chromium)"
if [ ! -x /usr/bin/chromium ] && [ -z "${HIPOPAY_CHROMIUM:-}" ]; then
  echo "browser.sh: installing Chromium"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

cd browsertest
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "browser.sh: not formatted:"; echo "$unformatted"; exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

log=$(mktemp /tmp/hipopay-browser.XXXXXX.log)
trap 'rm -f -- "$log"' EXIT
echo "browser.sh: go test -race -count=1 -v ./... in browsertest/"
go test -race -count=1 -v ./... 2>&1 | tee "$log"
if grep -q -- '--- SKIP' "$log"; then
  echo "browser.sh: FAIL: tests were skipped:" >&2
  grep -A1 -- '--- SKIP' "$log" >&2 || true
  exit 1
fi
echo "browser.sh: all browser tests ran and passed"
