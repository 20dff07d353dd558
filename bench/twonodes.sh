# bench/twonodes.sh: bench/load.sh's two-node run (--two-nodes), sourced by
# load.sh: functions only, run by load.sh after its concurrency run.
#
# The same SIPp load as the concurrency run (N calls held HOLD seconds,
# CRATE new per second, PER_SIPP calls per SIPp process), sent to Kamailio
# running the shipped deploy/kamailio/kamailio.cfg on 127.0.0.1, which
# dispatches it round robin to two astreinte nodes, A on 127.0.0.2 and B on
# 127.0.0.3 (same SIP port, RTP ranges and data directories of their own),
# sharing one PostgreSQL server started here (initdb in the working
# directory, a loopback port picked at run time, stopped by its PID).
#
# Reported beside the single node on SQLite (the concurrency run): calls
# each node took, each node's CPU per call-second (whole run and plateau)
# and RSS per call, from /proc of its PID as for the single node;
# Kamailio's and PostgreSQL's CPU (every process of each: the main one, its
# live children, and the children it reaped). Then every answered call is
# checked in PostgreSQL: one call row, one ticket with a recording, the WAV
# on the disk of the node that took it, as long as the call was held (the
# recorder runs from the answer); no recording left half-written. Any miss is a
# failure: a bold FAILED row and load.sh exits 1.
#
# Uses load.sh's variables and functions (WORK, BIN, REPORT, N, HOLD,
# CRATE, PER_SIPP, take_port, take_rtp_block, write_config, spread_sipp,
# wait_pids, stop_pid, cpu_ticks, status_kb, fd_count, row, fmtn, log, die,
# PIDS, STOPSIG). Needs kamailio, psql and PostgreSQL's initdb and postgres
# (Debian's postgresql: /usr/lib/postgresql/VERSION/bin).

# shellcheck shell=bash
# (Sourced: the variables it reads and sets are load.sh's.)
# shellcheck disable=SC2154,SC2034

NODE_PIDS=() # the two nodes' PIDs, once started (other_benchmarks skips them)
TWO_FAILED=0 # set to 1 by the two-node run's checks

# pg_bin NAME: the path of PostgreSQL's program NAME, on PATH or in Debian's
# /usr/lib/postgresql/VERSION/bin (newest version first).
pg_bin() {
	local d
	if command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		[ -x "$d/$1" ] && echo "$d/$1" && return 0
	done
	return 1
}

# tree_ticks PID: CPU ticks of PID, of its live children, and of the
# children it has reaped (a PostgreSQL backend that ended, a Kamailio
# child): /proc/PID/stat's utime + stime + cutime + cstime, plus utime +
# stime of each live child.
tree_ticks() {
	local pid=$1 own kids c
	own=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null) || own=0
	kids=0
	for c in $(pgrep -P "$pid" 2>/dev/null); do
		kids=$((kids + $(cpu_ticks "$c")))
	done
	echo $((${own:-0} + kids))
}

# start_postgres: initdb in $WORK/pg, postgres on 127.0.0.1:PG_PORT (sets
# PG_PID, PG_PORT, PG_DSN). As root the server runs as the "postgres" user
# (PostgreSQL refuses root), through setpriv, which execs: PG_PID is the
# postmaster. Production settings (fsync, synchronous_commit on), except
# loopback only and no Unix socket.
start_postgres() {
	local initdb postgres dir=$WORK/pg as=() i
	initdb=$(pg_bin initdb) || die "PostgreSQL's initdb not found"
	postgres=$(pg_bin postgres) || die "PostgreSQL's postgres not found"
	mkdir -p "$dir/data"
	chmod 700 "$dir/data"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root, PostgreSQL needs the unprivileged user postgres (Debian's postgresql package makes it)"
		# The server must reach its directory: let it through $WORK (no
		# listing, no reading) and own the data directory.
		chmod o+x "$WORK"
		chown -R postgres: "$dir"
		as=(setpriv --reuid=postgres --regid=postgres --init-groups)
	fi
	"${as[@]}" "$initdb" -D "$dir/data" -U astreinte --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.out" 2>&1 9>&- ||
		{ cat "$dir/initdb.out" >&2; die "initdb failed"; }
	take_port 1
	PG_PORT=$PORT
	"${as[@]}" "$postgres" -D "$dir/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
		-c max_connections=200 -c log_min_messages=warning >"$dir/postgres.log" 2>&1 9>&- &
	PG_PID=$!
	PIDS+=("$PG_PID")
	# TERM waits for the clients to leave; INT (fast shutdown) disconnects
	# them.
	STOPSIG[$PG_PID]=INT
	for i in $(seq 300); do
		psql -h 127.0.0.1 -p "$PG_PORT" -U astreinte -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1 && break
		kill -0 "$PG_PID" 2>/dev/null || { cat "$dir/postgres.log" >&2; die "postgres exited at start-up"; }
		sleep 0.1
	done
	psql -h 127.0.0.1 -p "$PG_PORT" -U astreinte -d postgres -Atqc 'CREATE DATABASE astreinte' >/dev/null ||
		{ tail -20 "$dir/postgres.log" >&2; die "PostgreSQL not ready after 30 s"; }
	PG_DSN="postgres://astreinte@127.0.0.1:$PG_PORT/astreinte?sslmode=disable"
	log "PostgreSQL $("$postgres" --version | awk '{print $3}') pid $PG_PID on 127.0.0.1:$PG_PORT"
}

# pg_query SQL: rows of SQL on the benchmark's database, fields split by |.
pg_query() { psql -h 127.0.0.1 -p "$PG_PORT" -U astreinte -d astreinte -AtqX -F '|' -c "$1"; }

# start_node NAME IP RTP_LO: an astreinte node on IP:NODE_PORT with its
# own data directory and RTP range, on the PostgreSQL store; waits until it
# is ready. Sets NODE_PID.
start_node() {
	local name=$1 ip=$2 rtp=$3 cfg=$WORK/astreinte-$1.yaml nlog=$WORK/node-$1.log i hport
	take_port 1
	hport=$PORT
	mkdir -p "$WORK/data-$name"
	write_config "$cfg" "$WORK/data-$name" "$ip:$NODE_PORT" "$rtp" "$ip:$hport" "{driver: postgres, dsn: '$PG_DSN'}"
	"$BIN" serve --config "$cfg" >"$nlog" 2>&1 9>&- &
	NODE_PID=$!
	PIDS+=("$NODE_PID")
	for i in $(seq 300); do
		grep -q '"astreinte ready"' "$nlog" 2>/dev/null && break
		kill -0 "$NODE_PID" 2>/dev/null || { tail -30 "$nlog" >&2; die "node $name exited at start-up"; }
		sleep 0.1
	done
	grep -q '"astreinte ready"' "$nlog" || { tail -20 "$nlog" >&2; die "node $name not ready after 30 s"; }
	log "node $name pid $NODE_PID, SIP $ip:$NODE_PORT, RTP $rtp-$((rtp + RTP_SPAN)), HTTP $hport"
}

# start_kamailio: deploy/kamailio/kamailio.cfg on 127.0.0.1:KAM_PORT with
# the two nodes as its dispatcher set, with the defines the end-to-end
# tests give it (e2e/nodes_test.go, frontKamailioWith): OPTIONS every
# second, 1 s for a node's first answer. Sets KAM_PID.
start_kamailio() {
	local dir=$WORK/kamailio i
	mkdir -p "$dir"
	take_port 1
	KAM_PORT=$PORT
	printf '1 sip:127.0.0.2:%d\n1 sip:127.0.0.3:%d\n' "$NODE_PORT" "$NODE_PORT" >"$dir/dispatcher.list"
	# -m: shared memory (MB) for the transactions of N calls' set-up and
	# hang-up (the tests' 32 MB hold a handful of calls).
	kamailio -f "$REPO/deploy/kamailio/kamailio.cfg" -DD -E -m 128 -M 8 \
		-A "LISTEN=udp:127.0.0.1:$KAM_PORT" -A "DSLIST=\"$dir/dispatcher.list\"" \
		-A PING_INTERVAL=1 -A FR_TIMER=1000 >"$dir/kamailio.log" 2>&1 9>&- &
	KAM_PID=$!
	PIDS+=("$KAM_PID")
	for i in $(seq 200); do
		ss -Hlnu "sport = :$KAM_PORT" 2>/dev/null | grep -q 127.0.0.1 && break
		kill -0 "$KAM_PID" 2>/dev/null || { tail -30 "$dir/kamailio.log" >&2; die "kamailio exited at start-up"; }
		sleep 0.1
	done
	ss -Hlnu "sport = :$KAM_PORT" 2>/dev/null | grep -q 127.0.0.1 || die "kamailio does not listen on 127.0.0.1:$KAM_PORT after 20 s"
	# Its first OPTIONS to both nodes, answered.
	sleep 2
	log "kamailio $(kamailio -v 2>/dev/null | awk 'NR==1 {print $3}') pid $KAM_PID on 127.0.0.1:$KAM_PORT"
}

# node_calls NAME: calls node NAME took ("incoming call" in its log).
node_calls() { grep -c '"msg":"incoming call"' "$WORK/node-$1.log"; }
# nodes_up: calls up on both nodes together.
nodes_up() {
	echo $(($(cat "$WORK/node-a.log" "$WORK/node-b.log" | grep -c '"msg":"incoming call"') - $(cat "$WORK/node-a.log" "$WORK/node-b.log" | grep -c '"msg":"call ended"')))
}

# two_sampler OUT SECS: every second until $WORK/stop-two-sampler: time,
# then CPU ticks, RSS kB and open files of node A and of node B.
two_sampler() {
	local out=$1 secs=$2 i a=${NODE_PIDS[0]} b=${NODE_PIDS[1]}
	for ((i = 0; i < secs; i++)); do
		[ -e "$WORK/stop-two-sampler" ] && break
		echo "$(date +%s.%N) $(cpu_ticks "$a") $(status_kb "$a" VmRSS) $(fd_count "$a") $(cpu_ticks "$b") $(status_kb "$b" VmRSS) $(fd_count "$b")" >>"$out"
		other_benchmarks >>"$WORK/others"
		sleep 1
	done
}

# check_recordings: every answered call's ticket and recording, from
# PostgreSQL and the nodes' disks. Writes rows; sets TWO_FAILED on a miss.
# ok: calls SIPp saw succeed.
check_recordings() {
	local ok=$1 ncalls ntickets nrec missing=0 shortn=0 longn=0 part wav s lo hi nums orphans
	pg_query "SELECT c.sip_call_id, COALESCE(t.recording, ''), COALESCE(t.duration_ms, 0), COALESCE(c.answered_at, '')
		FROM calls c LEFT JOIN tickets t ON t.call_id = c.id WHERE c.line = 'bench'" >"$WORK/two.calls" ||
		{ row "**FAILED**: calls and tickets" "psql failed"; TWO_FAILED=1; return; }
	ncalls=$(pg_query "SELECT COUNT(*) FROM calls WHERE line = 'bench' AND answered_at IS NOT NULL")
	ntickets=$(pg_query "SELECT COUNT(*) FROM tickets t JOIN calls c ON t.call_id = c.id WHERE c.line = 'bench'")
	nrec=$(awk -F'|' '$2 != ""' "$WORK/two.calls" | wc -l)
	orphans=$(pg_query "SELECT COUNT(*) FROM tickets WHERE call_id IS NULL")
	row "call rows the nodes could not write (\"call log: create\" errors) / tickets without their call row" "$(cat "$WORK/node-a.log" "$WORK/node-b.log" | grep -c '"msg":"call log: create"') / $orphans"
	# Per node, from the call rows (calls.node_id → nodes).
	row "calls answered in PostgreSQL, per node row (calls.node_id)" "$(pg_query "SELECT COALESCE(node_id::text, 'none') || ': ' || COUNT(*) FROM calls WHERE line = 'bench' AND answered_at IS NOT NULL GROUP BY node_id ORDER BY node_id" | tr '\n' ' ')"
	nums=$(pg_query "SELECT COUNT(*) || ' / ' || COUNT(DISTINCT number) || ' / ' || COALESCE(MAX(seq) - MIN(seq) + 1, 0) FROM tickets")
	row "tickets / distinct numbers / span of their sequence numbers (gap-free: all equal)" "$nums"
	# The WAVs: each on the disk of the node that took the call, holding at
	# least the whole message (from the end of the beep, which the node
	# logs with its time after the answer, to the BYE: HOLD − after_answer,
	# 0.5 s of slack for the first and last packets) and at most the call
	# (HOLD + 1 s: the BYE's way back through Kamailio). The recorder runs
	# from the answer; a late start under load costs greeting time only.
	cat "$WORK/node-a.log" "$WORK/node-b.log" |
		sed -n 's/.*"msg":"beep","call_id":"\([^"]*\)".*"after_answer":\([0-9]*\).*/\1 \2/p' >"$WORK/two.beeps"
	hi=$(awk -v h="$HOLD" 'BEGIN{print (h + 1) * 8000}')
	: >"$WORK/two.badwavs"
	local id after
	declare -A beep=()
	while read -r id after; do beep[$id]=$after; done <"$WORK/two.beeps"
	while IFS='|' read -r id wav _ _; do
		[ -n "$wav" ] || continue
		if ! [ -s "$wav" ]; then
			missing=$((missing + 1))
			echo "missing $wav" >>"$WORK/two.badwavs"
			continue
		fi
		s=$(soxi -s "$wav" 2>/dev/null || echo 0)
		lo=$(awk -v h="$HOLD" -v a="${beep[$id]:-0}" 'BEGIN{print (h - a / 1e9 - 0.5) * 8000}')
		if awk -v s="$s" -v lo="$lo" 'BEGIN{exit !(s < lo)}'; then
			shortn=$((shortn + 1))
			echo "short $wav $s samples, want $lo" >>"$WORK/two.badwavs"
		elif awk -v s="$s" -v hi="$hi" 'BEGIN{exit !(s > hi)}'; then
			longn=$((longn + 1))
			echo "long $wav $s samples, want at most $hi" >>"$WORK/two.badwavs"
		fi
	done <"$WORK/two.calls"
	part=$(find "$WORK/data-a" "$WORK/data-b" -name '*.part' 2>/dev/null | wc -l)
	check_store_copies

	row "calls answered (SIPp) / call rows answered / tickets / tickets with a recording" "$ok / $ncalls / $ntickets / $nrec"
	row "recordings missing / shorter than the message (beep → BYE, −0.5 s) / longer than the call (${HOLD} s + 1 s) / left half-written (.part)" "$missing / $shortn / $longn / $part"
	if [ "$ncalls" != "$ok" ] || [ "$orphans" != 0 ] || [ "$ntickets" != "$ok" ] || [ "$nrec" != "$ok" ] || [ $missing -gt 0 ] || [ $shortn -gt 0 ] || [ $longn -gt 0 ] || [ "$part" -gt 0 ]; then
		TWO_FAILED=1
		row "**FAILED**" "**not every answered call has its ticket and its complete recording** (list: $WORK/two.badwavs and two.calls, with --keep)"
		log "two-node run FAILED: calls $ok, call rows $ncalls, tickets $ntickets, with a recording $nrec, WAVs missing $missing short $shortn long $longn, .part $part"
		head -5 "$WORK/two.badwavs" >&2
	fi
	# The single node's per-call analysis, over both nodes' logs and disks.
	cat "$WORK/node-a.log" "$WORK/node-b.log" >"$WORK/two.log"
	find "$WORK/data-a/recordings" "$WORK/data-b/recordings" -name '*.wav' -exec stat -c '%n|%w' {} + >"$WORK/two.births" 2>/dev/null
	"$REPORT" calls "$WORK/two.log" "$WORK/two.calls" "$WORK/two.births" "$PRELUDE_LONG" 300ms >>"$ROWS" || row "recordings" "analysis failed"
}

# check_store_copies: each recording's copy in PostgreSQL (the rows its
# node shipped during the call, and those it owed and wrote later from the
# file) covers the audio of the WAV on the node's disk, byte 0 to its end,
# without a hole: what another node would serve. (Rows past the end are
# what the final trim cut; the load's calls never restart a message, so
# rows do not overlap.) Waits up to 60 s for the nodes to catch up; writes
# a row; sets TWO_FAILED on a hole.
check_store_copies() {
	local i bad=0 total waited=0
	awk -F'|' '$2 != "" {print $2}' "$WORK/two.calls" | while read -r wav; do
		[ -s "$wav" ] && echo "$wav|$(($(stat -c %s "$wav") - 44))"
	done >"$WORK/two.filebytes"
	total=$(wc -l <"$WORK/two.filebytes")
	for i in $(seq 0 60); do
		waited=$i
		pg_query "SELECT recording, offset_bytes, length(pcm) FROM recording_chunks WHERE length(pcm) > 0" >"$WORK/two.storerows"
		awk -F'|' 'NR == FNR {size[$1] = $2; next}
			($1 in size) && $2 < size[$1] {e = $2 + $3; if (e > size[$1]) e = size[$1]; cover[$1] += e - $2}
			END {for (r in size) if (cover[r] != size[r]) print r "|" size[r] "|" cover[r] + 0}' \
			"$WORK/two.filebytes" "$WORK/two.storerows" >"$WORK/two.storediff"
		bad=$(wc -l <"$WORK/two.storediff")
		[ "$bad" = 0 ] && break
		sleep 1
	done
	row "recordings whose copy in PostgreSQL does not cover the node's WAV (bytes of audio), of $total; waited for the nodes' late rows" "$bad; ${waited} s (list: two.storediff, with --keep)"
	if [ "$bad" != 0 ]; then
		TWO_FAILED=1
		row "**FAILED**" "**a recording's copy in the shared store is not the whole recording**"
	fi
}

# two_node_run: the concurrency run's load through Kamailio onto two nodes
# on PostgreSQL, after the single node (stopped first: its idle process
# would share the cores).
two_node_run() {
	local nsipp ramp timeout i pids=() stats=()
	stop_pid "$APID"
	SINGLE_STOPPED=1
	start_postgres
	take_port 1
	NODE_PORT=$PORT
	take_rtp_block
	local rtp_a=$RTP_BLOCK
	take_rtp_block
	local rtp_b=$RTP_BLOCK
	start_node a 127.0.0.2 "$rtp_a"
	local apid=$NODE_PID
	start_node b 127.0.0.3 "$rtp_b"
	local bpid=$NODE_PID
	NODE_PIDS=("$apid" "$bpid")
	start_kamailio

	nsipp=$(((N + PER_SIPP - 1) / PER_SIPP))
	ramp=$(awk -v n=$N -v r=$CRATE 'BEGIN{print n/r}')
	timeout=$(awk -v r=$ramp -v h=$HOLD 'BEGIN{printf "%d", r + h + 60}')
	log "two-node run: $N calls held ${HOLD}s through kamailio, ramp ${ramp}s at ${CRATE}/s, $nsipp SIPp process(es)"
	local idle_a idle_b t0 ca0 cb0 ck0 cp0 busy0
	idle_a=$(status_kb "$apid" VmRSS)
	idle_b=$(status_kb "$bpid" VmRSS)
	rm -f "$WORK/stop-two-sampler"
	t0=$(date +%s.%N)
	ca0=$(cpu_ticks "$apid")
	cb0=$(cpu_ticks "$bpid")
	ck0=$(tree_ticks "$KAM_PID")
	cp0=$(tree_ticks "$PG_PID")
	busy0=$(machine_busy)
	spread_sipp two "$KAM_PORT" "$nsipp" "$timeout"
	pids=("${SIPP_PIDS[@]}")
	stats=("${SIPP_STATS[@]}")
	two_sampler "$WORK/two.samples" "$timeout" 9>&- &
	local spid=$!
	PIDS+=("$spid")
	# The plateau: the same window as the single node's (every call up,
	# none hung up yet).
	local capat tp0 pa0 pb0 pk0 pp0 up0 tp1 pa1 pb1 pk1 pp1 up1
	capat=$(awk -v r=$ramp -v h=$HOLD -v c=$CAPTURE_SECS 'BEGIN{t = r + 1; if (t + c > h) t = h - c - 0.5; if (t < 1) t = 1; print t}')
	sleep "$capat"
	up0=$(nodes_up)
	tp0=$(date +%s.%N)
	pa0=$(cpu_ticks "$apid")
	pb0=$(cpu_ticks "$bpid")
	pk0=$(tree_ticks "$KAM_PID")
	pp0=$(tree_ticks "$PG_PID")
	sleep "$CAPTURE_SECS"
	tp1=$(date +%s.%N)
	pa1=$(cpu_ticks "$apid")
	pb1=$(cpu_ticks "$bpid")
	pk1=$(tree_ticks "$KAM_PID")
	pp1=$(tree_ticks "$PG_PID")
	up1=$(nodes_up)
	wait_pids "$timeout" "${pids[@]}"
	# Every call taken has ended on its node.
	for i in $(seq 150); do [ "$(nodes_up)" -le 0 ] && break; sleep 0.1; done
	sleep 0.5 # the last tickets' commits
	local t1 ca1 cb1 ck1 cp1 busy1
	t1=$(date +%s.%N)
	ca1=$(cpu_ticks "$apid")
	cb1=$(cpu_ticks "$bpid")
	ck1=$(tree_ticks "$KAM_PID")
	cp1=$(tree_ticks "$PG_PID")
	busy1=$(machine_busy)
	touch "$WORK/stop-two-sampler"
	wait_pids 5 "$spid"

	{
		echo
		echo "### Two nodes: the same $N calls held ${HOLD}s through Kamailio onto node A (127.0.0.2) and node B (127.0.0.3), PostgreSQL shared"
		echo
		echo "| measure | value |"
		echo "|---|---|"
	} >>"$ROWS"
	"$REPORT" sipp "$N" "${stats[@]}" >>"$ROWS" || row "SIPp statistics" "unreadable"
	local ok
	ok=$(grep "placed / successful" "$ROWS" | tail -1 | awk -F"|" "{split(\$3, a, \"/\"); print a[3]+0}")
	local na nb
	na=$(node_calls a)
	nb=$(node_calls b)
	row "calls taken by node A / node B (their logs)" "$na / $nb"
	local wall busy_s
	wall=$(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}')
	busy_s=$(awk -v a=$busy0 -v b=$busy1 -v t=$CLK_TCK 'BEGIN{print (b-a)/t}')
	row "machine CPU during the run ($(nproc) cores)" "$(awk -v b=$busy_s -v w=$wall -v n="$(nproc)" 'BEGIN{printf "%.0f", 100*b/(w*n)}') % busy over $(fmtn "$wall" '%.1f') s"
	if [ "${ok:-0}" -gt 0 ] 2>/dev/null; then
		check_recordings "$ok"
	else
		row "**FAILED**" "no call succeeded"
		TWO_FAILED=1
	fi

	# Beside the single node on SQLite.
	local cpu_a cpu_b cpu_k cpu_p whole_a whole_b plat_a plat_b rss_a rss_b upn pw
	sec() { awk -v a="$1" -v b="$2" -v t=$CLK_TCK 'BEGIN{print (b-a)/t}'; }
	cpu_a=$(sec "$ca0" "$ca1")
	cpu_b=$(sec "$cb0" "$cb1")
	cpu_k=$(sec "$ck0" "$ck1")
	cpu_p=$(sec "$cp0" "$cp1")
	per() { awk -v c="$1" -v n="$2" -v h="$HOLD" 'BEGIN{if (n > 0) printf "%.3f", 1000*c/(n*h); else print "—"}'; }
	whole_a=$(per "$cpu_a" "$na")
	whole_b=$(per "$cpu_b" "$nb")
	pw=$(awk -v a=$tp0 -v b=$tp1 'BEGIN{print b-a}')
	upn=$(awk -v a=$up0 -v b=$up1 'BEGIN{x=(a+b)/4; if (x < 1) x = 1; print x}') # calls up per node
	plat_a=$(awk -v c="$(sec "$pa0" "$pa1")" -v n=$upn -v w=$pw 'BEGIN{printf "%.3f", 1000*c/(n*w)}')
	plat_b=$(awk -v c="$(sec "$pb0" "$pb1")" -v n=$upn -v w=$pw 'BEGIN{printf "%.3f", 1000*c/(n*w)}')
	local pa pb
	pa=$(awk 'BEGIN{m=0} $3 > m {m=$3} END{print m}' "$WORK/two.samples")
	pb=$(awk 'BEGIN{m=0} $6 > m {m=$6} END{print m}' "$WORK/two.samples")
	rss_a=$(awk -v a="$idle_a" -v b="$pa" -v n="$na" 'BEGIN{if (n > 0) printf "%.1f", (b-a)/n; else print "—"}')
	rss_b=$(awk -v a="$idle_b" -v b="$pb" -v n="$nb" 'BEGIN{if (n > 0) printf "%.1f", (b-a)/n; else print "—"}')
	local callsec=$((${ok:-0} * HOLD))
	{
		echo
		echo "### Two nodes beside the single node on SQLite (the concurrency run above)"
		echo
		echo "| measure | single node, SQLite | node A, PostgreSQL | node B, PostgreSQL | Kamailio | PostgreSQL |"
		echo "|---|---|---|---|---|---|"
		echo "| calls taken | ${ok_astreinte:-—} | $na | $nb | $ok (answered, SIPp) | |"
		echo "| CPU over the whole run | ${A_CPU:-—} s | $(fmtn "$cpu_a" '%.2f') s | $(fmtn "$cpu_b" '%.2f') s | $(fmtn "$cpu_k" '%.2f') s | $(fmtn "$cpu_p" '%.2f') s |"
		echo "| **CPU per call-second, whole run** (per call it took; Kamailio and PostgreSQL: per call of the run) | ${A_WHOLE:-—} ms | **$whole_a ms** | **$whole_b ms** | $(awk -v c="$cpu_k" -v s=$callsec 'BEGIN{if (s > 0) printf "%.3f", 1000*c/s; else print "—"}') ms | $(awk -v c="$cpu_p" -v s=$callsec 'BEGIN{if (s > 0) printf "%.3f", 1000*c/s; else print "—"}') ms |"
		echo "| CPU per call-second at the plateau ($up0 → $up1 calls up on both, $(fmtn "$pw" '%.1f') s) | ${A_PLAT:-—} ms | $plat_a ms | $plat_b ms | $(awk -v a="$pk0" -v b="$pk1" -v t=$CLK_TCK -v w=$pw 'BEGIN{printf "%.1f", 100*(b-a)/t/w}') % of a core | $(awk -v a="$pp0" -v b="$pp1" -v t=$CLK_TCK -v w=$pw 'BEGIN{printf "%.1f", 100*(b-a)/t/w}') % of a core |"
		echo "| RSS per call (peak − idle) | ${A_RSS:-—} KiB | $rss_a KiB ($((idle_a / 1024)) → $((pa / 1024)) MiB) | $rss_b KiB ($((idle_b / 1024)) → $((pb / 1024)) MiB) | | |"
	} >>"$ROWS"
	# What the nodes complained about.
	{
		echo
		echo "| node log | ERROR lines | WARN lines (most frequent) |"
		echo "|---|---|---|"
		local n lvl top e
		for n in a b; do
			e=$(grep -c '"level":"ERROR"' "$WORK/node-$n.log")
			lvl=$(grep -c '"level":"WARN"' "$WORK/node-$n.log")
			top=$(grep '"level":"WARN"' "$WORK/node-$n.log" | sed -n 's/.*"msg":"\([^"]*\)".*/\1/p' | sort | uniq -c | sort -rn | head -1 | sed 's/^ *//')
			echo "| node $n | $e | $lvl${top:+ ($top)} |"
		done
		echo "| PostgreSQL's log | $(grep -c -E 'ERROR|FATAL|PANIC' "$WORK/pg/postgres.log") | $(grep -c WARNING "$WORK/pg/postgres.log") |"
		echo "| Kamailio's warnings and errors | $(grep -c -E 'ERROR|WARNING' "$WORK/kamailio/kamailio.log") | $(grep -E 'ERROR|WARNING' "$WORK/kamailio/kamailio.log" | sed 's/^.*: //' | cut -c1-80 | sort | uniq -c | sort -rn | head -1 | sed 's/^ *//' | tr '|' '/') |"
	} >>"$ROWS"
	local p
	for n in a b; do
		p=$apid
		[ $n = b ] && p=$bpid
		kill -0 "$p" 2>/dev/null && continue
		row "**FAILED**: node $n exited during the run" "$(tail -c 300 "$WORK/node-$n.log" | tr '\n|' ' /')"
		TWO_FAILED=1
	done
}
