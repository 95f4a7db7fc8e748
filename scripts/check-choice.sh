#!/bin/bash
# usage: check-choice.sh VARIABLE VALUE ALLOWED...
# Fail with a clear message when a make variable has a value we do not know.
var=$1 value=$2
shift 2
for allowed in "$@"; do
	[ "$value" = "$allowed" ] && exit 0
done
echo "make: $var=$value is not valid; use one of: $*" >&2
exit 2
