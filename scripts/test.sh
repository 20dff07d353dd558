#!/usr/bin/env bash
# Runs the whole test suite: formatting, vet and staticcheck, unit tests with the race
# detector, and the end-to-end tests that call the built binary with real
# SIP peers (SIPp, baresip) on 127.0.0.1. Installs what it needs on Debian
# (as root); with CI=true a peer that cannot be installed fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=$(bash scripts/setup.sh | tail -n 1)
export PATH="$(dirname "$GO"):$PATH"

peers=(sipp baresip sox espeak-ng tshark kamailio chromium postgres)
missing=()
for p in "${peers[@]}"; do
	# Debian keeps PostgreSQL's server programs off PATH, in /usr/lib/postgresql/VERSION/bin.
	if [ "$p" = postgres ] && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then continue; fi
	command -v "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "test: installing the test peers (${missing[*]})"
		export DEBIAN_FRONTEND=noninteractive
		echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
		apt-get update -q
		apt-get install -y -q --no-install-recommends sip-tester baresip-core sox libsox-fmt-all espeak-ng tshark kamailio chromium postgresql
	else
		echo "test: missing ${missing[*]}; install them with:" >&2
		echo "  sudo apt-get install -y sip-tester baresip-core sox libsox-fmt-all espeak-ng tshark kamailio chromium postgresql" >&2
		[ "${CI:-}" = true ] && exit 1
	fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed: $unformatted" >&2; exit 1; fi
echo "== go vet"
"$GO" vet ./...
echo "== staticcheck"
"$GO" tool staticcheck ./...
echo "== unit tests (race detector)"
"$GO" test -race -count=1 -timeout 15m $("$GO" list ./... | grep -v /e2e)
echo "== end-to-end tests (built binary, SIPp, baresip, Kamailio, Chromium)"
set +e
"$GO" test -count=1 -timeout 25m -v ./e2e/ 2>&1 | tee /tmp/astreinte-e2e.log | grep --line-buffered -E '^\s*(--- |PASS|FAIL|ok|panic)|e2e:'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
	echo "end-to-end tests failed; full log: /tmp/astreinte-e2e.log" >&2
	tail -150 /tmp/astreinte-e2e.log >&2
	exit "$status"
fi
tail -3 /tmp/astreinte-e2e.log
echo "== page latency: caller hang-up → first page (20 callers, webhook and email receivers)"
"$GO" test -count=1 -run '^$' -bench PageLatency -benchtime 1x -timeout 10m ./e2e/ | grep -E 'Benchmark|hang-up|ok|FAIL'
echo "== per-packet media path and recorder: allocations"
"$GO" test -count=1 -run '^$' -bench 'Receive|Send|Write' -benchmem -benchtime 2000x ./sip/media/ ./voicemail/ ./vad/ | grep -E '^(Benchmark|ok|FAIL)' 
