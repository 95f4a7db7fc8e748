# Running a server and its client on rxe0 in a guest, perftest's tools
# among them: shared by the smoke, perftest-dmabuf and clients suites and
# the benches (tests/bench). Source after tests/lib/result.sh in a suite.
# shellcheck shell=bash

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

# serve_and_connect TIMEOUT PORT SERVER_LOG SERVER_CMD... -- CLIENT_CMD...:
# start the server with its output in SERVER_LOG and, once it listens on
# TCP PORT (the clients run here do not retry a refused connection) or has
# died, the client in the foreground; each under TIMEOUT seconds. Sets
# server_rc and client_rc. With NO_STDIN set, the server runs with
# standard input closed.
serve_and_connect() {
	local limit=$1 port=$2 slog=$3 srv i server=()
	shift 3
	while [ "$1" != -- ]; do server+=("$1"); shift; done
	shift
	if [ -n "${NO_STDIN:-}" ]; then
		timeout "$limit" "${server[@]}" >"$slog" 2>&1 0<&- &
	else
		timeout "$limit" "${server[@]}" >"$slog" 2>&1 &
	fi
	srv=$!
	for ((i = 0; i < 600; i++)); do
		tcp_listening "$port" && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.05
	done
	timeout "$limit" "$@"
	client_rc=$?
	wait "$srv"
	server_rc=$?
}

# perftest_pair TOOL ARGS...: TOOL's server and client on rxe0, both with
# ARGS; print the client's output, then "--- server" and the server's.
# Fails with the client's status, or 1 if only the server failed.
perftest_pair() {
	local tool=$1 slog=/tmp/$1.server.log
	shift
	serve_and_connect 120 "$perftest_port" "$slog" \
		"$tool" -d rxe0 -x 1 "$@" -- "$tool" -d rxe0 -x 1 "$@" "$RDG_SERVER_IP"
	echo "--- server"
	cat "$slog"
	[ "$client_rc" != 0 ] && return "$client_rc"
	[ "$server_rc" = 0 ] || return 1
}
