# Running perftest's tools on rxe0 in a guest, shared by the smoke and
# perftest-dmabuf suites. Source after tests/lib/result.sh.

perftest_port=18515

# tcp_listening PORT: whether a socket listens on TCP PORT. /proc/net/tcp
# and tcp6 are read in the shell: a fork costs 0.1-0.4 s in a guest.
tcp_listening() {
	local hex f local_addr state _
	printf -v hex ':%04X' "$1"
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		while read -r _ local_addr _ state _; do
			[[ $local_addr == *"$hex" && $state == 0A ]] && return 0
		done < "$f"
	done
	return 1
}

# perftest_pair TOOL ARGS...: start TOOL's server on rxe0 and, once it
# listens (perftest's client does not retry a refused connection), its
# client; print the client's output, then "--- server" and the server's.
# With NO_STDIN set, the server runs with standard input closed.
perftest_pair() {
	local tool=$1 srv rc i
	shift
	if [ -n "${NO_STDIN:-}" ]; then
		"$tool" -d rxe0 -x 1 "$@" >"/tmp/$tool.server.log" 2>&1 0<&- &
	else
		"$tool" -d rxe0 -x 1 "$@" >"/tmp/$tool.server.log" 2>&1 &
	fi
	srv=$!
	for ((i = 0; i < 600; i++)); do
		tcp_listening "$perftest_port" && break
		sleep 0.05
	done
	timeout 120 "$tool" -d rxe0 -x 1 "$@" "$RDG_SERVER_IP"
	rc=$?
	wait "$srv" || rc=1
	echo "--- server"
	cat "/tmp/$tool.server.log"
	return "$rc"
}
