#!/bin/bash
# What the client node of the two-node tests runs for each connection to
# its remote-shell port (tests/guest/twonode-job.sh): one command line,
# read from the connection and run by bash, its output back on it. It is
# the other half of twonode-rsh-agent.sh, standing in for ssh, which the
# guests do not have, so that mpirun on the server node can start Open
# MPI's daemon here. Unauthenticated: it listens only inside a guest, on
# the private link between the two guests. Each command is logged to
# $RDG_RESULTS/rsh.log, the evidence that a rank ran on this node.
read -r cmd || exit 1
printf '%s\n' "$cmd" >> "$RDG_RESULTS/rsh.log"
exec bash -c "$cmd"
