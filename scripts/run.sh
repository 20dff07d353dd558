#!/usr/bin/env bash
# Builds astreinte and runs it. With no arguments it serves with the built-in
# configuration (SIP on port 5060, data in ./data); any arguments are passed
# to `astreinte serve`, e.g. scripts/run.sh --config /etc/astreinte.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
GO=$(bash scripts/setup.sh | tail -n 1)
mkdir -p bin
"$GO" build -o bin/astreinte ./cmd/astreinte
exec ./bin/astreinte serve "$@"
