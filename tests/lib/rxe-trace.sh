# rxe's tracepoints as evidence that a run refaulted what it invalidated:
# that rxe dropped the mapping of an MR (a dma-buf move_notify, an ODP
# invalidation) and later, in the same run, mapped that same MR again.
# rxe's counters say that invalidations and refaults happened, but not
# that one followed the other on the same MR; the tracepoints name it.
#
#   rxe_trace_start dmabuf|odp   clear the trace buffer and enable that
#                                family's two events; on failure (tracefs
#                                absent, an event missing from the
#                                kernel) returns 1 with the cause in
#                                $rxe_trace_error
#   ... the run ...
#   rxe_trace_refaulted LOG      disable the events, keep their records in
#                                LOG (the first 10000), print the figures
#                                and the first pair found, and
#                                return 0 if some MR was invalidated and
#                                later refaulted (else 1, the cause in
#                                $rxe_trace_error)
#   rxe_trace_finish             empty the buffer, give tracefs back its
#                                settings
#
# The pairs:
#   dmabuf  rxe:rxe_dmabuf_invalidate of lkey K, then a later
#           rxe:rxe_dmabuf_refault of K with err=0. rxe traces an
#           invalidation only when it dropped a live mapping, and a map
#           only when the MR's first access or a refault mapped it, so
#           the second record is a refault of memory the first unmapped.
#           A key names one MR for as long as it is registered; a run's
#           MRs live from its start to its end.
#   odp     rxe_odp:rxe_odp_invalidate of [start, start + length), then a
#           later rxe_odp:rxe_odp_fault of a range overlapping it (ODP
#           events carry addresses, not keys; a run's MRs do not
#           overlap).
# "Later" is the order of the trace, which is the order in time: the
# buffer is read merged by timestamp, on the "global" trace clock, which
# is monotonic across CPUs (the default "local" one is not), and the two
# records of a pair are further ordered by a lock (the dma-buf's
# reservation lock, the ODP umem_mutex) that both are taken under.
#
# Overflow: a CPU's buffer that fills up drops the newest events
# ("options/overwrite" 0) and keeps the start of the run. A lost record
# can hide a pair but never make one, so a pair found among the kept
# records is proof however many were lost; with none found, the failure
# names the loss. The buffer is 4 MiB per CPU, some 100000 records: a
# few thousand per second of make test's storms.
#
# Builtins but for one awk per check: a fork costs 0.1-0.4 s in a TCG
# guest.

rxe_trace_dir=/sys/kernel/tracing
rxe_trace_buffer_kb=4096
rxe_trace_events=()
rxe_trace_kind=
rxe_trace_error=
rxe_trace_saved=()

# rxe_trace_write FILE VALUE: write VALUE to tracefs FILE, or say why not.
rxe_trace_write() {
	if ! echo "$2" 2>/dev/null >"$rxe_trace_dir/$1"; then
		rxe_trace_error="cannot write '$2' to $rxe_trace_dir/$1"
		return 1
	fi
}

rxe_trace_start() {
	local t=$rxe_trace_dir ev line
	rxe_trace_error=
	case $1 in
	dmabuf) rxe_trace_events=(rxe/rxe_dmabuf_invalidate rxe/rxe_dmabuf_refault) ;;
	odp) rxe_trace_events=(rxe_odp/rxe_odp_invalidate rxe_odp/rxe_odp_fault) ;;
	*) rxe_trace_error="rxe_trace_start: unknown family '$1' (dmabuf or odp)"
	   return 1 ;;
	esac
	rxe_trace_kind=$1
	if [ ! -e "$t/trace" ]; then
		rxe_trace_error="no tracefs at $t (the guest's init mounts it)"
		return 1
	fi
	for ev in "${rxe_trace_events[@]}"; do
		if [ ! -e "$t/events/$ev/enable" ]; then
			rxe_trace_error="tracepoint ${ev/\//:} is missing from $t/events: a kernel without rxe's tracepoints"
			return 1
		fi
	done
	# Set once, until rxe_trace_finish: a write to trace_clock empties
	# the buffers again even when the clock does not change.
	if [ "${#rxe_trace_saved[@]}" = 0 ]; then
		read -r line <"$t/trace_clock"
		[[ $line =~ \[([a-z0-9_-]+)\] ]] && rxe_trace_saved+=("trace_clock ${BASH_REMATCH[1]}")
		read -r line <"$t/options/overwrite"
		rxe_trace_saved+=("options/overwrite $line")
		read -r line <"$t/buffer_size_kb"
		[[ $line =~ expanded:\ ([0-9]+) ]] && line=${BASH_REMATCH[1]}
		rxe_trace_saved+=("buffer_size_kb ${line%% *}")
		rxe_trace_write trace_clock global || return 1
		rxe_trace_write options/overwrite 0 || return 1
		rxe_trace_write buffer_size_kb "$rxe_trace_buffer_kb" || return 1
	fi
	# Opening it for writing with truncation empties every CPU's buffer.
	: >"$t/trace" || { rxe_trace_error="cannot clear $t/trace"; return 1; }
	for ev in "${rxe_trace_events[@]}"; do
		rxe_trace_write "events/$ev/enable" 1 || return 1
	done
}

rxe_trace_refaulted() {
	local log=$1 t=$rxe_trace_dir ev f line dropped=0 out rc
	rxe_trace_error=
	for ev in "${rxe_trace_events[@]}"; do
		rxe_trace_write "events/$ev/enable" 0
	done
	# With overwrite off a full buffer counts what it turned away as
	# "dropped events", with it on what it overwrote as "overrun".
	for f in "$t"/per_cpu/cpu*/stats; do
		while read -r line; do
			case $line in
			'dropped events: '*) dropped=$((dropped + ${line#*: })) ;;
			'overrun: '*) dropped=$((dropped + ${line#*: })) ;;
			esac
		done <"$f"
	done
	out=$(awk -v kind="$rxe_trace_kind" -v keep="$log" '
		# A hexadecimal "0x..." as a number (mawk has no strtonum;
		# addresses stay below 2^53, exact in a double).
		function hex(s,    i, n) {
			s = tolower(substr(s, 3))
			n = 0
			for (i = 1; i <= length(s); i++)
				n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return n
		}
		function fields(    i, kv) {
			delete f
			for (i = 1; i <= NF; i++)
				if (split($i, kv, "=") == 2)
					f[kv[1]] = kv[2]
		}
		/ rxe_dmabuf_invalidate: / && kind == "dmabuf" {
			if (++kept <= 10000) print > keep
			fields()
			ninv++
			if (!(f["lkey"] in inv))
				keys++
			inv[f["lkey"]] = $0
			next
		}
		/ rxe_dmabuf_refault: / && kind == "dmabuf" {
			if (++kept <= 10000) print > keep
			fields()
			nmap++
			if (f["err"] == 0 && (f["lkey"] in inv) && !(f["lkey"] in refaulted)) {
				refaulted[f["lkey"]] = 1
				pairs++
				if (pairs == 1)
					first = inv[f["lkey"]] "\n  then " $0
			}
			next
		}
		/ rxe_odp_invalidate: / && kind == "odp" {
			if (++kept <= 10000) print > keep
			fields()
			ninv++
			k = f["start"] " " f["length"]
			if (!(k in lo)) {
				keys++
				lo[k] = hex(f["start"])
				hi[k] = lo[k] + f["length"]
			}
			line[k] = $0
			next
		}
		/ rxe_odp_fault: / && kind == "odp" {
			if (++kept <= 10000) print > keep
			nmap++
			if (pairs)
				next
			fields()
			s = hex(f["start"])
			e = s + f["length"]
			for (k in lo)
				if (s < hi[k] && lo[k] < e) {
					pairs = 1
					first = line[k] "\n  then " $0
					break
				}
			next
		}
		END {
			if (kind == "dmabuf")
				printf "trace: %d invalidations of %d keys, %d maps; %d keys refaulted after an invalidation\n", ninv, keys, nmap, pairs
			else
				printf "trace: %d invalidations of %d ranges, %d faults; %s\n", ninv, keys, nmap, pairs ? "a fault in an invalidated range" : "no fault in an invalidated range"
			if (pairs)
				printf "first: %s\n", first
			exit !pairs
		}' "$t/trace")
	rc=$?
	printf '%s\n' "$out"
	echo "trace: $dropped records lost to a full buffer"
	[ "$rc" = 0 ] && return 0
	if [ "$dropped" -gt 0 ]; then
		rxe_trace_error="no invalidation followed by a refault of the same MR among the kept records; the trace buffer overflowed ($dropped records lost)"
	else
		rxe_trace_error="no invalidation followed by a refault of the same MR in the trace (${out%%$'\n'*})"
	fi
	return 1
}

rxe_trace_finish() {
	local s
	[ "${#rxe_trace_saved[@]}" = 0 ] && return
	: >"$rxe_trace_dir/trace"
	for s in "${rxe_trace_saved[@]}"; do
		rxe_trace_write "${s%% *}" "${s#* }"
	done
	rxe_trace_saved=()
}
