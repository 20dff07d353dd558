#!/usr/bin/env bash
# Installs what astreinte needs to build on a fresh Debian 12 machine:
# a C compiler (SQLite is linked through cgo) and Go 1.26. Run as root (or
# with sudo); it does nothing that is already done.
set -euo pipefail

GO_VERSION=1.26.8
need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || need_apt+=(curl ca-certificates)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "setup: installing ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

have_go() {
	local go=$1
	[ -x "$go" ] || return 1
	local v
	v=$("$go" env GOVERSION 2>/dev/null | sed 's/^go//')
	[ -n "$v" ] || return 1
	# Need at least 1.26.
	local major minor
	major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
	[ "$major" -gt 1 ] || [ "$minor" -ge 26 ]
}

GO=""
for cand in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "/opt/go$GO_VERSION/go/bin/go"; do
	if [ -n "$cand" ] && have_go "$cand"; then GO=$cand; break; fi
done
if [ -z "$GO" ]; then
	# The Go toolchain is published as a module on the Go module proxy.
	proxy=${GOPROXY:-https://proxy.golang.org}
	proxy=${proxy%%,*}
	url="$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$(dpkg --print-architecture).zip"
	echo "setup: installing Go $GO_VERSION from $url"
	tmp=$(mktemp -d)
	curl -fsSL -o "$tmp/go.zip" "$url"
	mkdir -p "/opt/go$GO_VERSION"
	unzip -q "$tmp/go.zip" -d "$tmp/x"
	rm -rf "/opt/go$GO_VERSION/go"
	mv "$tmp/x/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$(dpkg --print-architecture)" "/opt/go$GO_VERSION/go"
	chmod +x "/opt/go$GO_VERSION/go/bin/"* "/opt/go$GO_VERSION/go/pkg/tool/"*/* 2>/dev/null || true
	rm -rf "$tmp"
	GO="/opt/go$GO_VERSION/go/bin/go"
fi
echo "$GO"
