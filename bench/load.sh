#!/usr/bin/env bash
# bench/load.sh: astreinte's load benchmark in one command.
#
# Builds astreinte from this repository (or takes ASTREINTE_BIN), starts it on
# 127.0.0.1 with a benchmark configuration in a temporary directory (one line
# that is always closed, so every caller hears the greeting and leaves a
# message; paging off), drives it with SIPp and prints a markdown table:
#
#   concurrency run  N calls held T seconds each, sending audio that is
#                    recorded: failed calls, CPU per call-second, memory,
#                    goroutines/threads and files per call, UDP drops per
#                    socket, RTP timing at the receiver, recordings complete;
#   set-up run       short calls at R per second: failed calls,
#                    INVITE→200 percentiles from a capture, tickets vs
#                    messages left;
#   floor run        after the concurrency run, the same SIPp load against
#                    bench/floor (the least any answering machine must do
#                    per call, with astreinte's kind of sockets and
#                    syscalls): astreinte's CPU per call-second and RSS per
#                    call side by side with the floor's, as ratios;
#   two-node run     with --two-nodes, instead of the set-up and floor runs:
#                    after the concurrency run, the same SIPp load through
#                    Kamailio (deploy/kamailio/) onto two nodes, 127.0.0.2
#                    and 127.0.0.3, sharing a PostgreSQL server that the
#                    script starts (bench/twonodes.sh): calls taken, CPU per
#                    call-second and RSS per call of each node, Kamailio's
#                    and PostgreSQL's CPU, tickets and recordings checked,
#                    beside the single node on SQLite.
#
# Usage: bench/load.sh [-n N] [-t T] [-r R] [options]; bench/load.sh -h.
# Needs sipp (Debian sip-tester), sox, tshark, sqlite3, go, ss (iproute2);
# --two-nodes also kamailio, psql and PostgreSQL's server (postgresql).
# Everything runs on loopback; every process it starts is stopped by its PID
# and the working directory is removed at exit (--keep keeps it).
set -uo pipefail

# The whole script is one block, read before it runs: editing this file
# while a benchmark runs cannot change what that benchmark does.
{

# --- Options ------------------------------------------------------------------

N=200          # concurrency run: calls
HOLD=20        # concurrency run: seconds each call is held after the answer
CRATE=50       # concurrency run: new calls per second while ramping up
RATE=50        # set-up run: new calls per second
SETUP_SECS=10  # set-up run: seconds of new calls
PER_SIPP=250   # at most this many simultaneous calls per SIPp process
SAMPLE=20      # calls whose RTP is captured for the timing figures
CAPTURE_SECS=5 # length of that capture
RUN_CONC=1
RUN_SETUP=1
RUN_FLOOR=1
TWO_NODES=0
PROFILE=0
CPUPROFILE=0
KEEP=0
OUT=""

usage() {
	cat <<EOF
usage: bench/load.sh [options]
  -n N            concurrency run: N simultaneous calls (default $N)
  -t T            concurrency run: each call held T seconds (default $HOLD)
  -c C            concurrency run: C new calls per second while ramping up (default $CRATE)
  -r R            set-up run: R new calls per second (default $RATE)
  -s S            set-up run: for S seconds (default $SETUP_SECS)
  --per-sipp K    at most K simultaneous calls per SIPp process (default $PER_SIPP)
  --sample K      capture the RTP of K calls for timing (default $SAMPLE)
  --only-conc     skip the set-up run
  --only-setup    skip the concurrency run (and the floor run)
  --no-floor      skip the floor run (bench/floor under the same load)
  --two-nodes     after the concurrency run, the same load through Kamailio onto
                  two nodes sharing PostgreSQL (no set-up or floor run)
  --smoke         5 calls held 12 s, set-up run of 5 calls: checks the script
  --profile       perf record astreinte during the plateau (needs perf): top functions
  --cpuprofile    Go CPU profile (serve --pprof) over the whole concurrency run, calls'
                  set-up and hang-up included; heap profile at the plateau: top functions
  --keep          keep the working directory (logs, captures, recordings)
  -o FILE         also write the table to FILE
env: ASTREINTE_BIN=/path/to/astreinte   benchmark that binary instead of building one
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	-t) HOLD=$2; shift 2 ;;
	-c) CRATE=$2; shift 2 ;;
	-r) RATE=$2; shift 2 ;;
	-s) SETUP_SECS=$2; shift 2 ;;
	--per-sipp) PER_SIPP=$2; shift 2 ;;
	--sample) SAMPLE=$2; shift 2 ;;
	--only-conc) RUN_SETUP=0; shift ;;
	--only-setup) RUN_CONC=0; RUN_FLOOR=0; shift ;;
	--no-floor) RUN_FLOOR=0; shift ;;
	--two-nodes) TWO_NODES=1; shift ;;
	--smoke) N=5; HOLD=12; CRATE=5; RATE=5; SETUP_SECS=1; SAMPLE=5; CAPTURE_SECS=3; shift ;;
	--keep) KEEP=1; shift ;;
	--profile) PROFILE=1; shift ;;
	--cpuprofile) CPUPROFILE=1; shift ;;
	-o) OUT=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "load.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
for v in N HOLD CRATE RATE SETUP_SECS PER_SIPP SAMPLE; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "load.sh: $v must be a positive whole number (got ${!v})" >&2
		exit 2
	fi
done
if [ $TWO_NODES = 1 ]; then
	[ $RUN_CONC = 1 ] || { echo "load.sh: --two-nodes compares with the concurrency run: not with --only-setup" >&2; exit 2; }
	[ $PROFILE = 0 ] && [ $CPUPROFILE = 0 ] || { echo "load.sh: --two-nodes takes no --profile or --cpuprofile" >&2; exit 2; }
	RUN_SETUP=0
	RUN_FLOOR=0
fi

LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '%s load.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }
# The two-node run's functions (read now, with the rest of this block).
# shellcheck source=bench/twonodes.sh
. "$REPO/bench/twonodes.sh" || exit 1

# --- Tools --------------------------------------------------------------------

missing=()
for tool in sipp:sip-tester sox:sox tshark:tshark sqlite3:sqlite3 ss:iproute2 curl:curl; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
[ $PROFILE = 1 ] && ! command -v perf >/dev/null 2>&1 && missing+=(linux-perf)
if [ $TWO_NODES = 1 ]; then
	command -v kamailio >/dev/null 2>&1 || missing+=(kamailio)
	command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
	command -v soxi >/dev/null 2>&1 || missing+=(sox)
	[ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null 2>&1 && missing+=(util-linux)
	{ pg_bin initdb && pg_bin postgres; } >/dev/null 2>&1 || missing+=(postgresql)
fi
nogo=0
command -v go >/dev/null 2>&1 || nogo=1
if [ ${#missing[@]} -gt 0 ] || [ $nogo = 1 ]; then
	echo "load.sh: missing tools." >&2
	if [ ${#missing[@]} -gt 0 ]; then
		echo "Install them with (Debian):" >&2
		echo "  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections" >&2
		echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
	fi
	[ $nogo = 1 ] && echo "Install Go (the version go.mod names) from https://go.dev/dl/ and put it on PATH." >&2
	exit 2
fi
if [ "$(id -u)" != 0 ] && ! dumpcap -D >/dev/null 2>&1; then
	die "tshark cannot capture on lo as $(id -un): run as root or add yourself to the wireshark group"
fi

# --- One benchmark at a time ----------------------------------------------------

# Two benchmarks at once share the cores and measure each other: wait for the
# other one (up to 15 minutes). The processes started below do not inherit
# the lock (9>&-), so it ends with this script.
exec 9>>/tmp/astreinte-bench.lock
if ! flock -n 9; then
	echo "load.sh: another bench/load.sh is running; waiting for it (up to 15 min)" >&2
	flock -w 900 9 || { echo "load.sh: still running after 15 min; giving up" >&2; exit 1; }
fi

# --- Working directory and clean-up ------------------------------------------

WORK=$(mktemp -d /tmp/astreinte-bench.XXXXXX)
PIDS=()
# STOPSIG[PID]: the signal that stops PID when TERM is not the right one
# (PostgreSQL: TERM waits for its clients to leave, INT disconnects them).
declare -A STOPSIG=()

stop_pid() { # stop_pid PID: TERM (or STOPSIG[PID]), up to 10 s, then KILL
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -"${STOPSIG[$pid]:-TERM}" "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

cleanup() {
	local i
	# Newest first: the load before what it loads, the nodes before their
	# database.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	wait 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		log "working directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Ports --------------------------------------------------------------------

# Ports are picked at run time from 61000-64999 (above the kernel's
# ephemeral range on Debian, away from the e2e tests' 12000-31999), checked
# free with ss; the RTP range is a block from 40000 up that ss shows free.
declare -A TAKEN=()
refresh_taken() {
	TAKEN=()
	local p
	for p in $(ss -Hlnu 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}') \
		$(ss -Hlnt 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}'); do
		TAKEN[$p]=1
	done
}
NEXT_PORT=$((61000 + (RANDOM % 1000) * 2))
# take_port K: sets PORT to the first of K consecutive free ports (not in a
# $(...) subshell, which would lose TAKEN and NEXT_PORT).
take_port() {
	local k=$1 p ok i
	for _ in $(seq 400); do
		p=$NEXT_PORT
		NEXT_PORT=$((NEXT_PORT + k + (k % 2)))
		[ $NEXT_PORT -gt 64990 ] && NEXT_PORT=61000
		ok=1
		for ((i = 0; i < k; i++)); do
			[ -n "${TAKEN[$((p + i))]:-}" ] && ok=0 && break
		done
		if [ $ok = 1 ]; then
			for ((i = 0; i < k; i++)); do TAKEN[$((p + i))]=1; done
			PORT=$p
			return 0
		fi
	done
	die "no $k free port(s) in 61000-64999"
}

# --- Build --------------------------------------------------------------------

cd "$REPO" || exit 1
if [ -n "${ASTREINTE_BIN:-}" ]; then
	BIN=$ASTREINTE_BIN
	[ -x "$BIN" ] || die "ASTREINTE_BIN=$BIN is not an executable"
	log "benchmarking $BIN"
else
	BIN=$WORK/astreinte
	log "building astreinte from $REPO"
	go build -o "$BIN" ./cmd/astreinte || die "go build failed"
fi
REPORT=$WORK/loadreport
go build -o "$REPORT" ./bench/loadreport || die "go build ./bench/loadreport failed"
FLOOR=$WORK/floor
go build -o "$FLOOR" ./bench/floor || die "go build ./bench/floor failed"

# --- Audio and configuration -------------------------------------------------

# Prompts: a 5.2-s greeting and short menu and instructions, so that a call
# spends most of its time recording; the set-up line's prompts are shorter
# still. The beep is astreinte's own (0.4 s).
tone() { sox -n -r 8000 -c 1 -b 16 "$1" synth "$2" sine "$3" vol 0.3 || die "sox failed"; }
mkdir -p "$WORK/prompts-long" "$WORK/prompts-short" "$WORK/data"
tone "$WORK/prompts-long/greeting_closed.wav" 5.2 440
tone "$WORK/prompts-long/menu_urgency.wav" 0.3 550
tone "$WORK/prompts-long/record_instructions.wav" 0.5 660
tone "$WORK/prompts-short/greeting_closed.wav" 0.5 440
tone "$WORK/prompts-short/menu_urgency.wav" 0.2 550
tone "$WORK/prompts-short/record_instructions.wav" 0.2 660
BEEP=0.4
# From "urgency chosen" to the start of recording: instructions + beep.
PRELUDE_LONG=$(awk -v b=$BEEP 'BEGIN{print (0.5+b)*1000 "ms"}')
PRELUDE_SHORT=$(awk -v b=$BEEP 'BEGIN{print (0.2+b)*1000 "ms"}')
# The beep ends 7.2 s after the answer on the bench line (5.2 + 0.3 of
# silence + 0.3 + 0.5 urgency_timeout + 0.5 + 0.4), 1.9 s on the quick line
# (0.5 + 0.3 + 0.2 + 0.3 + 0.2 + 0.4).
# The caller: a sweep, well above the silence threshold, whose level swings
# 20 dB four times a second as a voice's does (the voice detector takes a
# steady tone for noise: the caller would be asked to speak), as headerless
# µ-law for SIPp's rtp_stream (looped until the BYE).
sox -n -r 8000 -c 1 -t ul "$WORK/caller.ulaw" synth 10 sine 300-1200 vol 0.5 tremolo 4 90 || die "sox failed"
sed "s|@STREAM@|$WORK/caller.ulaw,-1,0|" "$REPO/bench/uac_hold.xml" >"$WORK/uac_hold.xml"

refresh_taken
take_port 1
SIP_PORT=$PORT
take_port 1
HTTP_PORT=$PORT
take_port 1
PPROF_PORT=$PORT
MAXCALLS=$((N > RATE * 4 ? N : RATE * 4))
# An RTP range: a block free of UDP sockets, picked at random between 33000
# and 61000 (away from the e2e tests' 20000-31999 and sip's unit tests'
# 40000-40100), so that astreinte does not share ports with anything else.
RTP_SPAN=$((2 * MAXCALLS + 400))
[ $RTP_SPAN -le 27000 ] || die "too many calls for one RTP range"
# take_rtp_block: sets RTP_BLOCK to the first port of a free block of
# RTP_SPAN + 1 ports, and marks them taken (the two-node run takes a second
# one).
take_rtp_block() {
	local base p busy
	for base in $(seq 33000 500 $((61000 - RTP_SPAN)) | shuf); do
		[ "$base" -le 40100 ] && [ $((base + RTP_SPAN)) -ge 40000 ] && continue
		busy=0
		for ((p = base; p <= base + RTP_SPAN; p++)); do
			[ -n "${TAKEN[$p]:-}" ] && busy=1 && break
		done
		if [ $busy = 0 ]; then
			for ((p = base; p <= base + RTP_SPAN; p++)); do TAKEN[$p]=1; done
			RTP_BLOCK=$base
			return 0
		fi
	done
	die "no free block of $RTP_SPAN UDP ports for RTP in 33000-61000"
}
take_rtp_block
RTP_LO=$RTP_BLOCK
RTP_HI=$((RTP_LO + RTP_SPAN))
MAXLEN=$((HOLD + 60))
CFG=$WORK/astreinte.yaml
# write_config FILE DATA_DIR SIP_ADDR RTP_LO HTTP_ADDR [STORE]: the
# benchmark's configuration; STORE, a YAML value, replaces the default
# SQLite file in DATA_DIR.
write_config() {
	local file=$1 data=$2 sip=$3 rtp=$4 http=$5 store=${6:-}
	cat >"$file" <<EOF
# Written by bench/load.sh: every call is out of hours and leaves a message.
data_dir: $data
log: {level: info, format: json}
${store:+store: $store}
sip:
  listen: $sip
  transports: [udp]
  rtp_ports: $rtp-$((rtp + RTP_SPAN))
  first_packet_timeout: 30s
  media_timeout: 15s
  drain_timeout: 5s
http:
  listen: $http
# All the load comes from one address, as from a PBX or a carrier's
# proxy: the per-source limits a first run has (10 new calls/s, 50 at
# once) would refuse it. The global cap stays above the run.
security:
  limits:
    requests_per_second: 100000
    requests_burst: 100000
    calls_per_second: 10000
    calls_burst: 10000
    calls_per_source: $((MAXCALLS + 100))
    max_calls: $((MAXCALLS + 100))  # sizes the RTP receive buffers and GOMEMLIMIT
calendar:
  timezone: Europe/Paris
  hours: {}                # no opening hours: always closed
  holidays: {country: none}
lines:
  - name: bench
    numbers: [bench]
    language: en
    prompts_dir: $WORK/prompts-long
    answer_after: 0s
    page: never
    urgency_timeout: 500ms
    record: {max_length: ${MAXLEN}s, silence: 5s, min_length: 1s}
  - name: quick
    numbers: [quick]
    language: en
    prompts_dir: $WORK/prompts-short
    answer_after: 0s
    page: never
    urgency_timeout: 300ms
    record: {max_length: 10s, silence: 5s, min_length: 1s}
paging:
  sip: {enabled: false}
EOF
	"$BIN" config check "$file" >"$file.check" 2>&1 || { cat "$file.check" >&2; die "benchmark configuration $file rejected"; }
}
write_config "$CFG" "$WORK/data" "127.0.0.1:$SIP_PORT" "$RTP_LO" "127.0.0.1:$HTTP_PORT"

# --- astreinte ---------------------------------------------------------------

ALOG=$WORK/astreinte.log
PPROF_FLAG=()
# (The help is read whole first: grep -q exiting early would fail the
# pipeline under pipefail.)
serve_help=$("$BIN" serve --help 2>&1)
grep -q -- '--pprof' <<<"$serve_help" && PPROF_FLAG=(--pprof "127.0.0.1:$PPROF_PORT")
"$BIN" serve --config "$CFG" "${PPROF_FLAG[@]}" >"$ALOG" 2>&1 9>&- &
APID=$!
PIDS+=("$APID")
for i in $(seq 200); do
	grep -q '"astreinte ready"' "$ALOG" 2>/dev/null && break
	kill -0 "$APID" 2>/dev/null || { cat "$ALOG" >&2; die "astreinte exited at start-up"; }
	sleep 0.1
done
grep -q '"astreinte ready"' "$ALOG" || { tail -20 "$ALOG" >&2; die "astreinte not ready after 20 s"; }
log "astreinte pid $APID, SIP 127.0.0.1:$SIP_PORT, RTP $RTP_LO-$RTP_HI, HTTP $HTTP_PORT"

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine_busy: CPU ticks spent by every process on the machine (all cores).
machine_busy() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
PPROF=0
PPROF_URL=http://127.0.0.1:$PPROF_PORT/debug/pprof
curl -fs -m 2 "$PPROF_URL/goroutine?debug=1" -o /dev/null 2>/dev/null && PPROF=1
[ $CPUPROFILE = 1 ] && [ $PPROF = 0 ] && die "--cpuprofile: $BIN serves no /debug/pprof (serve --pprof)"
goroutines() {
	if [ $PPROF = 1 ]; then
		curl -fs -m 2 "$PPROF_URL/goroutine?debug=1" 2>/dev/null |
			awk 'NR==1 {for (i=1;i<=NF;i++) if ($i ~ /^total/) print $(i+1)}'
	else
		status_kb "$1" Threads
	fi
}
GLABEL=threads
[ $PPROF = 1 ] && GLABEL=goroutines

# udp_errors: the machine's UDP InErrors and RcvbufErrors (/proc/net/snmp).
udp_errors() {
	awk '$1 == "Udp:" && !h {for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next}
		$1 == "Udp:" {print $col["InErrors"], $col["RcvbufErrors"]}' /proc/net/snmp
}

# socket_drops PID...: "inode drops" for every UDP socket the processes hold.
socket_drops() {
	local pid
	{
		echo x # keeps NR==FNR on the inode list even when it is empty
		for pid in "$@"; do
			ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p'
		done
	} | awk 'NR==FNR {own[$1]=1; next} FNR > 1 && ($10 in own) {split($2, a, ":"); print $10, $NF, a[2]}' - /proc/net/udp /proc/net/udp6 2>/dev/null
}
# sum_max_drops FILE: sum over sockets of the highest drop count seen.
# With a second argument, only sockets whose port (hex, as in /proc/net/udp)
# is listed in that file (in: those; out: the others).
sum_max_drops() {
	if [ $# -eq 3 ]; then
		awk -v want=$3 'NR==FNR {p[$1]=1; next} (($3 in p) == (want == "in")) {if ($2 > m[$1]) m[$1] = $2} END {s=0; for (k in m) s += m[k]; print s+0}' "$2" "$1"
		return
	fi
	awk '{if ($2 > m[$1]) m[$1] = $2} END {s=0; for (k in m) s += m[k]; print s+0}' "$1"
}

# other_benchmarks: PIDs of other astreinte load benchmarks running now (an
# astreinte serving a bench/load.sh configuration that is not ours: the
# single node's or a two-node run's).
other_benchmarks() {
	local p
	for p in $(pgrep -f 'astreinte-bench\.[A-Za-z0-9]+/astreinte(-[ab])?\.yaml' 2>/dev/null); do
		[[ " $APID ${NODE_PIDS[*]} " == *" $p "* ]] || echo "$p"
	done
}

# sampler OUT SECS PID...: every second for at most SECS seconds (or until
# $WORK/stop-sampler exists): time, astreinte CPU ticks, RSS kB, threads or
# goroutines, open files; drops per socket to OUT.drops and OUT.sippdrops.
sampler() {
	local out=$1 secs=$2 i p
	shift 2
	for ((i = 0; i < secs; i++)); do
		[ -e "$WORK/stop-sampler" ] && break
		echo "$(date +%s.%N) $(cpu_ticks "$APID") $(status_kb "$APID" VmRSS) $(goroutines "$APID") $(fd_count "$APID")" >>"$out"
		socket_drops "$APID" >>"$out.drops"
		[ $# -gt 0 ] && socket_drops "$@" >>"$out.sippdrops"
		for p in "$@"; do echo "$p $(cpu_ticks "$p")"; done >>"$out.sippcpu"
		other_benchmarks >>"$WORK/others"
		sleep 1
	done
}

# start_sipp NAME SERVICE CALLS LIMIT RATE HOLD_MS TIMEOUT_S: one SIPp
# process in the background, its own SIP, media and control ports; sets
# SIPP_PID.
start_sipp() {
	local name=$1 svc=$2 calls=$3 limit=$4 rate=$5 hold=$6 timeout=$7
	local p mp cp
	take_port 1
	p=$PORT
	take_port 1
	cp=$PORT
	take_port 4
	mp=$PORT
	printf '%04X\n%04X\n' "$mp" $((mp + 2)) >>"$WORK/media-ports"
	# Each SIPp process calls from numbers of its own (06, its index on two
	# digits, the call number): astreinte joins a caller's calls into one
	# open ticket, and two processes' call 1 must not be one caller.
	local idx=${name//[!0-9]/}
	sipp -sf "$WORK/uac_hold.xml" -key caller "$(printf '06%02d' "$((10#${idx:-0}))")" \
		-i 127.0.0.1 -mi 127.0.0.1 -ci 127.0.0.1 -cp "$cp" \
		-p "$p" -mp "$mp" -s "$svc" -m "$calls" -l "$limit" -r "$rate" -d "$hold" \
		-nostdin -timeout "${timeout}s" -timeout_error -max_retrans 3 \
		-trace_err -error_file "$WORK/$name-errors.log" \
		-trace_stat -stf "$WORK/$name-stat.csv" -fd 1 \
		"127.0.0.1:$SIP_PORT" >"$WORK/$name.out" 2>&1 9>&- &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
}

# spread_sipp PREFIX PORT NSIPP TIMEOUT_S: the concurrency run's load (N
# calls to the bench line, each held HOLD seconds, CRATE new per second in
# all, at least 1 per second per process) spread over NSIPP SIPp processes
# PREFIX0, PREFIX1, … calling 127.0.0.1:PORT; sets SIPP_PIDS and
# SIPP_STATS (their -trace_stat files).
spread_sipp() {
	# SIP_PORT is local: start_sipp, called from here, sends to PORT, and the
	# caller's SIP_PORT is untouched.
	local prefix=$1 SIP_PORT=$2 nsipp=$3 timeout=$4 i calls rate left=$N
	SIPP_PIDS=()
	SIPP_STATS=()
	for ((i = 0; i < nsipp; i++)); do
		calls=$((left / (nsipp - i)))
		left=$((left - calls))
		rate=$(awk -v c=$CRATE -v n=$nsipp 'BEGIN{r=c/n; if (r < 1) r = 1; printf "%g", r}')
		start_sipp "$prefix$i" bench "$calls" "$calls" "$rate" $((HOLD * 1000)) "$timeout"
		SIPP_PIDS+=("$SIPP_PID")
		SIPP_STATS+=("$WORK/$prefix$i-stat.csv")
	done
}

# wait_pids SECS PID...: wait for the processes to end, at most SECS.
wait_pids() {
	local secs=$1 i pid alive
	shift
	for ((i = 0; i < secs * 10; i++)); do
		alive=0
		for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	log "processes still running after ${secs}s: stopping them"
	for pid in "$@"; do stop_pid "$pid"; done
	return 1
}

# calls_up: calls astreinte took and has not ended yet, from its log.
calls_up() { echo $(($(grep -c '"msg":"incoming call"' "$ALOG") - $(grep -c '"msg":"call ended"' "$ALOG"))); }

# wait_calls_ended COUNT SECS: until COUNT more "call ended" lines than at
# the mark, or SECS.
wait_calls_ended() {
	local want=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(grep -c '"call ended"' "$ALOG")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_capture FILE FILTER SECS: tshark on lo into a classic pcap; returns
# once the capture is running. Sets CAP_PID.
start_capture() {
	local file=$1 filter=$2 secs=$3 i
	tshark -i lo -q -F pcap -w "$file" -f "$filter" -a "duration:$secs" >"$file.out" 2>&1 9>&- &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	for i in $(seq 100); do
		grep -q "Capturing on" "$file.out" 2>/dev/null && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "tshark did not start: $(cat "$file.out")"
	return 1
}

# call_rows LINE: every call of the line with its ticket's recording, if any.
call_rows() {
	sqlite3 -separator '|' "$WORK/data/astreinte.db" \
		"SELECT c.sip_call_id, COALESCE(t.recording, ''), COALESCE(t.duration_ms, 0), COALESCE(c.answered_at, '')
		 FROM calls c LEFT JOIN tickets t ON t.call_id = c.id WHERE c.line = '$1'"
}
# births: each recording's creation time (when recording started).
births() { find "$WORK/data/recordings" -name '*.wav' -exec stat -c '%n|%w' {} + 2>/dev/null; }

ROWS=$WORK/rows.md
: >"$ROWS"
row() { echo "| $1 | $2 |" >>"$ROWS"; }
fmtn() { awk -v x="$1" -v f="$2" 'BEGIN{printf f, x}'; }

# --- Concurrency run ----------------------------------------------------------

concurrency_run() {
	local nsipp ramp timeout pids=() stats=()
	nsipp=$(((N + PER_SIPP - 1) / PER_SIPP))
	ramp=$(awk -v n=$N -v r=$CRATE 'BEGIN{print n/r}')
	timeout=$(awk -v r=$ramp -v h=$HOLD 'BEGIN{printf "%d", r + h + 60}')
	log "concurrency run: $N calls held ${HOLD}s, ramp ${ramp}s at ${CRATE}/s, $nsipp SIPp process(es)"
	if awk -v r=$ramp -v h=$HOLD 'BEGIN{exit !(h < r + 6)}'; then
		log "warning: T=${HOLD}s leaves under 6 s with every call up (ramp ${ramp}s): raise -t or -c"
	fi
	local mark idle_rss idle_g idle_fd t0 c0 t1 c1
	mark=$(grep -c '"call ended"' "$ALOG")
	local off0
	off0=$(stat -c %s "$ALOG")
	idle_rss=$(status_kb "$APID" VmRSS)
	idle_g=$(goroutines "$APID")
	idle_fd=$(fd_count "$APID")
	rm -f "$WORK/stop-sampler"
	t0=$(date +%s.%N)
	c0=$(cpu_ticks "$APID")
	local busy0 snmp0
	busy0=$(machine_busy)
	snmp0=$(udp_errors)
	local profpid=""
	if [ $CPUPROFILE = 1 ]; then
		# The whole run: ramp, plateau, hang-ups, up to the timeout.
		curl -fs -m $((timeout + 30)) "$PPROF_URL/profile?seconds=$(awk -v r=$ramp -v h=$HOLD 'BEGIN{printf "%d", r + h + 4}')" -o "$WORK/cpu.pprof" 9>&- &
		profpid=$!
		PIDS+=("$profpid")
	fi
	spread_sipp conc "$SIP_PORT" "$nsipp" "$timeout"
	pids=("${SIPP_PIDS[@]}")
	stats=("${SIPP_STATS[@]}")
	sampler "$WORK/conc.samples" "$timeout" "${pids[@]}" 9>&- &
	local spid=$!
	PIDS+=("$spid")
	# The RTP sample: the first calls' ports, captured once all calls are up.
	local capat
	capat=$(awk -v r=$ramp -v h=$HOLD -v c=$CAPTURE_SECS 'BEGIN{t = r + 1; if (t + c > h) t = h - c - 0.5; if (t < 1) t = 1; print t}')
	sleep "$capat"
	local s_n=$((SAMPLE < N ? SAMPLE : N))
	start_capture "$WORK/rtp.pcap" "udp and src portrange $RTP_LO-$((RTP_LO + 2 * s_n - 1))" "$CAPTURE_SECS"
	# Calls up, from astreinte's log, before and after.
	local up0 up1
	up0=$(calls_up)
	local tcap ccap
	tcap=$(date +%s.%N)
	ccap=$(cpu_ticks "$APID")
	local perfpid=""
	if [ $PROFILE = 1 ]; then
		perf record -F 499 -g -p "$APID" -o "$WORK/perf.data" -- sleep "$CAPTURE_SECS" >"$WORK/perf.out" 2>&1 9>&- &
		perfpid=$!
		PIDS+=("$perfpid")
	fi
	[ $PPROF = 1 ] && curl -fs -m 10 "$PPROF_URL/heap" -o "$WORK/heap.pprof"
	[ $PPROF = 1 ] && curl -fs -m 10 "$PPROF_URL/heap?debug=1" 2>/dev/null | grep '^# ' >"$WORK/memstats.txt"
	local rcvbuf
	rcvbuf=$(ss -Huamn "sport = :$RTP_LO" 2>/dev/null | grep -o 'rb[0-9]*' | head -1)
	wait_pids $((CAPTURE_SECS + 10)) "$CAP_PID" $perfpid
	local tcap1 ccap1
	tcap1=$(date +%s.%N)
	ccap1=$(cpu_ticks "$APID")
	up1=$(calls_up)
	wait_pids "$timeout" "${pids[@]}"
	wait_calls_ended $((mark + N)) 15
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$APID")
	local busy1 snmp1
	busy1=$(machine_busy)
	snmp1=$(udp_errors)
	touch "$WORK/stop-sampler"
	wait_pids 5 "$spid"
	dd if="$ALOG" bs=1M iflag=skip_bytes skip="$off0" status=none >"$WORK/conc.log"

	{
		echo
		echo "### Concurrency run: $N calls held ${HOLD}s (${CRATE} new/s, $nsipp SIPp)"
		echo
		echo "| measure | value |"
		echo "|---|---|"
	} >>"$ROWS"
	"$REPORT" sipp "$N" "${stats[@]}" >>"$ROWS" || row "SIPp statistics" "unreadable"
	local ok
	ok=$(grep "placed / successful" "$ROWS" | tail -1 | awk -F"|" "{split(\$3, a, \"/\"); print a[3]+0}")
	if ! [ "$ok" -gt 0 ] 2>/dev/null; then
		row "CPU per call-second" "n/a: no call succeeded"
		return
	fi
	ok_astreinte=$ok
	local cpu_s wall callsec
	cpu_s=$(awk -v a=$c0 -v b=$c1 -v t=$CLK_TCK 'BEGIN{print (b-a)/t}')
	wall=$(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}')
	callsec=$((ok * HOLD))
	A_WHOLE=$(awk -v c=$cpu_s -v s=$callsec 'BEGIN{printf "%.3f", 1000*c/s}')
	A_CPU=$(fmtn "$cpu_s" '%.2f')
	row "astreinte CPU, whole run (set-up, media, hang-up)" "$(fmtn "$cpu_s" '%.2f') s over $(fmtn "$wall" '%.1f') s wall = $(awk -v c=$cpu_s -v w=$wall 'BEGIN{printf "%.1f", 100*c/w}') % of a core"
	row "**CPU per call-second**, whole run" "**$(awk -v c=$cpu_s -v s=$callsec 'BEGIN{printf "%.3f", 1000*c/s}') ms** ($callsec call-seconds)"
	local sipp_s busy_s
	sipp_s=$(awk -v t=$CLK_TCK '{if ($2 > m[$1]) m[$1] = $2} END {s = 0; for (k in m) s += m[k]; print s / t}' "$WORK/conc.samples.sippcpu")
	busy_s=$(awk -v a=$busy0 -v b=$busy1 -v t=$CLK_TCK 'BEGIN{print (b-a)/t}')
	row "machine CPU during the run ($(nproc) cores)" "$(awk -v b=$busy_s -v w=$wall -v n="$(nproc)" 'BEGIN{printf "%.0f", 100*b/(w*n)}') % busy: astreinte $(fmtn "$cpu_s" '%.1f') s, SIPp $(fmtn "$sipp_s" '%.1f') s, everything else $(awk -v b=$busy_s -v a=$cpu_s -v s=$sipp_s 'BEGIN{x=b-a-s; if (x<0) x=0; printf "%.1f", x}') s (tshark, the sampler, other users)"
	# Plateau: every call up, none hung up yet (the capture window).
	local pcpu pwall
	pcpu=$(awk -v a=$ccap -v b=$ccap1 -v t=$CLK_TCK 'BEGIN{print (b-a)/t}')
	pwall=$(awk -v a=$tcap -v b=$tcap1 'BEGIN{print b-a}')
	local upn
	upn=$(awk -v a=$up0 -v b=$up1 'BEGIN{x=(a+b)/2; if (x < 1) x = 1; print x}')
	A_PLAT=$(awk -v c=$pcpu -v n=$upn -v w=$pwall 'BEGIN{printf "%.3f", 1000*c/(n*w)}')
	row "CPU per call-second at the plateau ($up0 → $up1 calls up, $(fmtn "$pwall" '%.1f') s window)" "$(awk -v c=$pcpu -v n=$upn -v w=$pwall 'BEGIN{printf "%.3f", 1000*c/(n*w)}') ms = $(awk -v c=$pcpu -v w=$pwall 'BEGIN{printf "%.1f", 100*c/w}') % of a core"
	local prss pg pfd
	prss=$(awk 'BEGIN{m=0} $3 > m {m=$3} END{print m}' "$WORK/conc.samples")
	A_RSS=$(awk -v a=$idle_rss -v b=$prss -v n=$N 'BEGIN{printf "%.1f", (b-a)/n}')
	pg=$(awk 'BEGIN{m=0} $4 > m {m=$4} END{print m}' "$WORK/conc.samples")
	pfd=$(awk 'BEGIN{m=0} $5 > m {m=$5} END{print m}' "$WORK/conc.samples")
	row "RSS idle → peak (per call)" "$(fmtn $((idle_rss / 1024)) '%d') → $(fmtn $((prss / 1024)) '%d') MiB ($(awk -v a=$idle_rss -v b=$prss -v n=$N 'BEGIN{printf "%.1f", (b-a)/n}') KiB per call)"
	if [ -s "$WORK/memstats.txt" ]; then
		row "Go memory at the plateau (runtime.MemStats): heap in use / idle not returned / stacks, per call" "$(awk -v n=$N '
			$2 == "HeapInuse" {hi = $4} $2 == "HeapIdle" {hd = $4} $2 == "HeapReleased" {hr = $4} $2 == "Stack" {st = $4}
			END {printf "%.1f / %.1f / %.1f MiB (%.1f / %.1f / %.1f KiB)", hi/1048576, (hd-hr)/1048576, st/1048576, hi/1024/n, (hd-hr)/1024/n, st/1024/n}' "$WORK/memstats.txt")"
	fi
	row "$GLABEL idle → peak (per call)" "$idle_g → $pg ($(awk -v a=$idle_g -v b=$pg -v n=$N 'BEGIN{printf "%.2f", (b-a)/n}') per call)"
	row "open files idle → peak (per call)" "$idle_fd → $pfd ($(awk -v a=$idle_fd -v b=$pfd -v n=$N 'BEGIN{printf "%.2f", (b-a)/n}') per call)"
	row "UDP receive-buffer drops at astreinte's sockets" "$(sum_max_drops "$WORK/conc.samples.drops") (over $(awk '{print $1}' "$WORK/conc.samples.drops" | sort -u | wc -l) sockets)"
	row "UDP receive-buffer drops at SIPp's SIP sockets" "$(sum_max_drops "$WORK/conc.samples.sippdrops" "$WORK/media-ports" out)"
	row "receive buffer of astreinte's first RTP socket (ss skmem rb, bytes)" "${rcvbuf#rb}"
	row "UDP errors on the whole machine during the run (/proc/net/snmp InErrors / RcvbufErrors; SIPp's unread media ports included)" "$(awk -v a="$snmp0" -v b="$snmp1" 'BEGIN{split(a, x, " "); split(b, y, " "); printf "%d / %d", y[1]-x[1], y[2]-x[2]}')"
	row "… at SIPp's media ports (SIPp 3.6.1 never reads them without -rtp_echo: astreinte's packets past a full buffer, not a limit)" "$(sum_max_drops "$WORK/conc.samples.sippdrops" "$WORK/media-ports" in)"
	"$REPORT" rtp "$WORK/rtp.pcap" >>"$ROWS" || row "RTP sample" "capture unreadable"
	if [ $PROFILE = 1 ] && [ -s "$WORK/perf.data" ]; then
		perf report -i "$WORK/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
			grep -E '^ +[0-9.]+%' >"$WORK/perf-symbols.txt"
		{
			echo
			echo "Where astreinte's CPU went at the plateau (perf, $(grep -o '[0-9]* samples' "$WORK/perf.out"), self time):"
			echo
			echo '```'
			awk '{p=$1; sub("%","",p); sym=$3
				if ($2 == "[k]") c = "kernel: syscalls, scheduler, UDP"
				else if (sym ~ /^runtime\./ || sym ~ /^internal\/runtime/ || sym ~ /^sync/) c = "Go runtime: scheduler, channels, timers, GC"
				else if (sym ~ /sip\/media/) c = "sip/media: RTP, jitter buffer, G.711"
				else if (sym ~ /^net\.|internal\/poll|^syscall/) c = "net, poll, syscall wrappers"
				else if (sym ~ /voicemail/) c = "voicemail: recorder, WAV"
				else c = "other: sipgo, sqlite, logging, vdso"
				t[c] += p} END {for (k in t) printf "%5.1f%%  %s\n", t[k], k}' "$WORK/perf-symbols.txt" | sort -rn
			echo
			awk '{printf "%7s  %s %s\n", $1, $2, $3}' "$WORK/perf-symbols.txt" | head -12
			echo '```'
			echo
			echo "| measure | value |"
			echo "|---|---|"
		} >>"$ROWS"
	fi
	if [ -n "$profpid" ]; then
		wait_pids 30 "$profpid"
		{
			echo
			echo "Go CPU profile of the whole run (\`go tool pprof -top\`, flat; $WORK/cpu.pprof with --keep):"
			echo
			echo '```'
			go tool pprof -top -nodecount=25 "$BIN" "$WORK/cpu.pprof" 2>/dev/null | sed -n '1,32p'
			echo '```'
			echo
			echo "Live heap at the plateau (\`go tool pprof -sample_index=inuse_space -top\`):"
			echo
			echo '```'
			go tool pprof -sample_index=inuse_space -top -nodecount=15 "$BIN" "$WORK/heap.pprof" 2>/dev/null | sed -n '1,22p'
			echo '```'
			echo
			echo "| measure | value |"
			echo "|---|---|"
		} >>"$ROWS"
	fi
	call_rows bench >"$WORK/conc.calls" || row "calls" "sqlite3 failed"
	births >"$WORK/conc.births"
	"$REPORT" calls "$WORK/conc.log" "$WORK/conc.calls" "$WORK/conc.births" "$PRELUDE_LONG" 300ms >>"$ROWS" || row "recordings" "analysis failed"
}

# --- Floor run ----------------------------------------------------------------

# floor_run: the concurrency run's SIPp load (same calls, rate, hold, SIPp
# processes, RTP capture at the same moment) against bench/floor, which runs
# while astreinte idles; then astreinte's figures beside the floor's.
floor_run() {
	local nsipp ramp timeout i pids=() stats=()
	local fport fdir flog fpid
	take_port 1
	fport=$PORT
	fdir=$WORK/floor-rec
	flog=$WORK/floor.log
	mkdir -p "$fdir"
	"$FLOOR" -listen "127.0.0.1:$fport" -rtp "$RTP_LO-$RTP_HI" -dir "$fdir" >"$flog" 2>&1 9>&- &
	fpid=$!
	PIDS+=("$fpid")
	for i in $(seq 100); do
		grep -q '^floor ready' "$flog" 2>/dev/null && break
		kill -0 "$fpid" 2>/dev/null || { cat "$flog" >&2; die "floor exited at start-up"; }
		sleep 0.1
	done
	nsipp=$(((N + PER_SIPP - 1) / PER_SIPP))
	ramp=$(awk -v n=$N -v r=$CRATE 'BEGIN{print n/r}')
	timeout=$(awk -v r=$ramp -v h=$HOLD 'BEGIN{printf "%d", r + h + 60}')
	log "floor run: the same $N calls against bench/floor (pid $fpid, SIP 127.0.0.1:$fport)"
	floor_up() { echo $(($(grep -c '^call start' "$flog") - $(grep -c '^call end' "$flog"))); }
	local idle_rss t0 c0 t1 c1
	idle_rss=$(status_kb "$fpid" VmRSS)
	t0=$(date +%s.%N)
	c0=$(cpu_ticks "$fpid")
	spread_sipp floor "$fport" "$nsipp" "$timeout"
	pids=("${SIPP_PIDS[@]}")
	stats=("${SIPP_STATS[@]}")
	# Peak RSS, sampled as astreinte's is.
	(
		for ((i = 0; i < timeout; i++)); do
			[ -e "$WORK/stop-floor-sampler" ] && break
			status_kb "$fpid" VmRSS
			sleep 1
		done >"$WORK/floor.rss"
	) 9>&- &
	local spid=$!
	PIDS+=("$spid")
	local capat s_n=$((SAMPLE < N ? SAMPLE : N))
	capat=$(awk -v r=$ramp -v h=$HOLD -v c=$CAPTURE_SECS 'BEGIN{t = r + 1; if (t + c > h) t = h - c - 0.5; if (t < 1) t = 1; print t}')
	sleep "$capat"
	start_capture "$WORK/floor-rtp.pcap" "udp and src portrange $RTP_LO-$((RTP_LO + 2 * s_n - 1))" "$CAPTURE_SECS"
	local up0 up1 tcap ccap tcap1 ccap1
	up0=$(floor_up)
	tcap=$(date +%s.%N)
	ccap=$(cpu_ticks "$fpid")
	wait_pids $((CAPTURE_SECS + 10)) "$CAP_PID"
	tcap1=$(date +%s.%N)
	ccap1=$(cpu_ticks "$fpid")
	up1=$(floor_up)
	wait_pids "$timeout" "${pids[@]}"
	for i in $(seq 150); do [ "$(floor_up)" -le 0 ] && break; sleep 0.1; done
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$fpid")
	touch "$WORK/stop-floor-sampler"
	wait_pids 5 "$spid"
	stop_pid "$fpid"

	"$REPORT" sipp "$N" "${stats[@]}" >"$WORK/floor-sipp.md" || :
	local ok
	ok=$(grep "placed / successful" "$WORK/floor-sipp.md" | tail -1 | awk -F"|" "{split(\$3, a, \"/\"); print a[3]+0}")
	{
		echo
		echo "### Against the floor: the same $N calls held ${HOLD}s against bench/floor, right after"
		echo
		echo "| measure | astreinte | floor | **ratio** |"
		echo "|---|---|---|---|"
	} >>"$ROWS"
	if ! [ "${ok:-0}" -gt 0 ] 2>/dev/null; then
		echo "| floor run | — | no call succeeded ($(tr '\n|' ' /' <"$WORK/floor-sipp.md")) | — |" >>"$ROWS"
		return
	fi
	local f_whole f_plat f_rss upn prss
	f_whole=$(awk -v a=$c0 -v b=$c1 -v t=$CLK_TCK -v s=$((ok * HOLD)) 'BEGIN{printf "%.3f", 1000*(b-a)/t/s}')
	upn=$(awk -v a=$up0 -v b=$up1 'BEGIN{x=(a+b)/2; if (x < 1) x = 1; print x}')
	f_plat=$(awk -v a=$ccap -v b=$ccap1 -v t=$CLK_TCK -v n=$upn -v w0=$tcap -v w1=$tcap1 'BEGIN{printf "%.3f", 1000*(b-a)/t/(n*(w1-w0))}')
	prss=$(awk 'BEGIN{m=0} $1 > m {m=$1} END{print m}' "$WORK/floor.rss")
	f_rss=$(awk -v a=$idle_rss -v b=$prss -v n=$N 'BEGIN{printf "%.1f", (b-a)/n}')
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b > 0) printf "%.2f×", a/b; else print "—"}'; }
	echo "| calls successful (SIPp) | $ok_astreinte | $ok | |" >>"$ROWS"
	echo "| **CPU per call-second, whole run** (target ≤ 1.6×) | $A_WHOLE ms | $f_whole ms | **$(ratio "$A_WHOLE" "$f_whole")** |" >>"$ROWS"
	echo "| **CPU per call-second at the plateau** (target ≤ 1.3×; floor: $up0 → $up1 calls up) | $A_PLAT ms | $f_plat ms | **$(ratio "$A_PLAT" "$f_plat")** |" >>"$ROWS"
	echo "| RSS per call (peak − idle) | $A_RSS KiB | $f_rss KiB | $(ratio "$A_RSS" "$f_rss") |" >>"$ROWS"
	echo "| floor's recordings (bytes of PCM ÷ 16,000 per call-second held) | | $(du -cb "$fdir"/*.pcm 2>/dev/null | tail -1 | awk -v s=$((ok * HOLD)) '{printf "%.3f", $1/16000/s}') | |" >>"$ROWS"
}

# --- Set-up run ---------------------------------------------------------------

setup_run() {
	local total=$((RATE * SETUP_SECS)) hold_ms=3400 nsipp conc i calls rate left pids=() stats=()
	# Each call: to the beep ~1.9 s, then ~1.5 s of message, then BYE.
	conc=$(awk -v r=$RATE -v h=$hold_ms 'BEGIN{printf "%d", r*h/1000 + 1}')
	nsipp=$(((conc + PER_SIPP - 1) / PER_SIPP))
	[ $nsipp -gt $total ] && nsipp=$total
	left=$total
	log "set-up run: $total calls at ${RATE}/s, ${hold_ms} ms each, $nsipp SIPp process(es)"
	local mark off0
	mark=$(grep -c '"call ended"' "$ALOG")
	off0=$(stat -c %s "$ALOG")
	start_capture "$WORK/sip.pcap" "udp port $SIP_PORT" $((SETUP_SECS + 60)) || return
	local cap=$CAP_PID
	for ((i = 0; i < nsipp; i++)); do
		calls=$((left / (nsipp - i)))
		left=$((left - calls))
		rate=$(awk -v c=$RATE -v n=$nsipp 'BEGIN{printf "%g", c/n}')
		start_sipp "setup$i" quick "$calls" "$calls" "$rate" "$hold_ms" $((SETUP_SECS + 60))
		pids+=("$SIPP_PID")
		stats+=("$WORK/setup$i-stat.csv")
	done
	other_benchmarks >>"$WORK/others"
	wait_pids $((SETUP_SECS + 70)) "${pids[@]}"
	other_benchmarks >>"$WORK/others"
	wait_calls_ended $((mark + total)) 15
	stop_pid "$cap"
	sleep 0.5 # the last tickets' commits
	dd if="$ALOG" bs=1M iflag=skip_bytes skip="$off0" status=none >"$WORK/setup.log"
	{
		echo
		echo "### Set-up run: $total short calls at ${RATE}/s (each ~3.4 s: prompts, ~1.5 s message, BYE)"
		echo
		echo "| measure | value |"
		echo "|---|---|"
	} >>"$ROWS"
	"$REPORT" sipp "$total" "${stats[@]}" >>"$ROWS" || row "SIPp statistics" "unreadable"
	"$REPORT" sip "$WORK/sip.pcap" "$SIP_PORT" >>"$ROWS" || row "INVITE→200" "capture unreadable"
	call_rows quick >"$WORK/setup.calls" || row "calls" "sqlite3 failed"
	births >"$WORK/setup.births"
	"$REPORT" calls "$WORK/setup.log" "$WORK/setup.calls" "$WORK/setup.births" "$PRELUDE_SHORT" 300ms >>"$ROWS" || row "recordings" "analysis failed"
}

[ $RUN_CONC = 1 ] && concurrency_run
[ $RUN_CONC = 1 ] && [ $RUN_FLOOR = 1 ] && [ -n "${A_WHOLE:-}" ] && floor_run
[ $RUN_SETUP = 1 ] && setup_run
[ $TWO_NODES = 1 ] && two_node_run

if [ "${SINGLE_STOPPED:-0}" = 0 ] && ! kill -0 "$APID" 2>/dev/null; then
	wait "$APID"
	row "**astreinte exited during the run**" "status $?; the end of its log: $(tail -c 300 "$ALOG" | tr '\n|' ' /')"
fi

# What astreinte itself complained about during the runs.
if [ -s "$ALOG" ]; then
	{
		echo
		echo "### astreinte's log"
		echo
		echo "| level | lines (most frequent message) |"
		echo "|---|---|"
		for lvl in ERROR WARN; do
			n=$(grep -c "\"level\":\"$lvl\"" "$ALOG")
			top=$(grep "\"level\":\"$lvl\"" "$ALOG" | sed -n 's/.*"msg":"\([^"]*\)".*/\1/p' | sort | uniq -c | sort -rn | head -1 | sed 's/^ *//')
			echo "| $lvl | $n${top:+ ($top)} |"
		done
	} >>"$ROWS"
fi

# --- Table --------------------------------------------------------------------

{
	echo "## astreinte load benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), Linux $(uname -r), $(go version | awk '{print $3}'); load average before the run: $LOADAVG."
	others=$( { other_benchmarks; cat "$WORK/others" 2>/dev/null; } | sort -un | tr '\n' ' ')
	if [ -n "$others" ]; then
		echo "**Another astreinte benchmark ran at the same time (astreinte pid $others): these figures measure both.**"
		echo
	fi
	echo "Binary: ${ASTREINTE_BIN:-built from $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "$REPO")}. Goroutines: $([ $PPROF = 1 ] && echo "from /debug/pprof" || echo "no pprof endpoint, OS threads shown instead")."
	cat "$ROWS"
} >"$WORK/table.md"
cat "$WORK/table.md"
[ -n "$OUT" ] && cp "$WORK/table.md" "$OUT"
if grep -q '"level":"ERROR"' "$ALOG"; then
	log "astreinte logged errors: $(grep -c '"level":"ERROR"' "$ALOG") (first: $(grep -m1 '"level":"ERROR"' "$ALOG" | cut -c1-300))"
fi
if [ "$TWO_FAILED" = 1 ]; then
	log "two-node run FAILED: see the rows marked FAILED"
	exit 1
fi
exit 0
}
