# Two QEMU guests joined by -netdev stream on 127.0.0.1, one rxe each: how
# tests/twonode.sh launches the pair. Source it with $top set to the
# checkout.
#
# twonode_run DIR TIMEOUT SERVER_CMD... -- CLIENT_CMD...
#   boots the server guest (rxe0 at 10.20.0.1) running SERVER_CMD and the
#   client guest (10.20.0.2) running CLIENT_CMD once the server answers
#   ping, each for at most TIMEOUT seconds. Their results go to DIR/server
#   and DIR/client (output.log holds the command's output), run-guest's
#   own output to DIR/server.out and DIR/client.out. Sets
#   twonode_server_rc and twonode_client_rc to run-guest's exit statuses.
# Each guest gets 768 MiB: enough for these jobs, and a debug kernel
# boots in 33 s under TCG with it against 47 s with the default 2 GiB
# (KASAN shadow and struct pages for all of it).
twonode_run() {
	local dir=$1 timeout=$2 port server
	local server_cmd=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		server_cmd+=("$1")
		shift
	done
	shift
	mkdir -p "$dir"
	port=$((20000 + $$ % 20000))
	"$top/kernel/run-guest.sh" --backend qemu --smp 1 --mem 768M --quiet \
		--timeout "$timeout" --results "$dir/server" \
		--node-addr 10.20.0.1/24 --listen "$port" -- \
		"${server_cmd[@]}" > "$dir/server.out" 2>&1 &
	server=$!
	# QEMU listens as soon as it starts; give it that moment. The client
	# job then waits until the server guest answers ping, after which
	# the server's command is seconds away, well within rdma_xfer's own
	# connect retry.
	for _ in $(seq 50); do
		ss -ltn "sport = :$port" | grep -q LISTEN && break
		sleep 0.2
	done
	"$top/kernel/run-guest.sh" --backend qemu --smp 1 --mem 768M --quiet \
		--timeout "$timeout" --results "$dir/client" \
		--node-addr 10.20.0.2/24 --connect "$port" -- \
		bash -c 'for _ in $(seq 300); do ping -c1 -W1 10.20.0.1 >/dev/null && break; done
			exec "$@"' twonode-client "$@" \
		> "$dir/client.out" 2>&1
	twonode_client_rc=$?
	wait "$server"
	twonode_server_rc=$?
}
