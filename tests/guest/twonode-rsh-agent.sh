#!/bin/bash
# Open MPI's remote agent (plm_rsh_agent) in the two-node tests, in place
# of ssh: "twonode-rsh-agent.sh HOST COMMAND..." runs COMMAND on HOST
# through the listener that tests/guest/twonode-job.sh starts on the
# client node (twonode-rsh-shell.sh). As with ssh, the words of COMMAND
# are joined by spaces and the remote shell parses them; the agent ends
# when the remote command does.
set -euo pipefail
[ $# -ge 2 ] && [ "${1#-}" = "$1" ] || {
	echo "twonode-rsh-agent: usage: $0 HOST COMMAND..." >&2
	exit 2
}
host=$1
shift
printf '%s\n' "$*" | exec busybox nc "$host" "${TWONODE_RSH_PORT:?}"
