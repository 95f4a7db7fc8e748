# Source this file. private_apt DIR LINE: set apt_opts, the apt-get options
# of a private apt configuration in DIR whose only source is LINE (a
# sources.list line), so that the host's own sources.list is neither read
# nor changed; its package lists are fetched once (DIR/lists/.updated).
# On failure it prints why, prefixed with $0's name, and returns 1.
private_apt() {
	local dir=$1 line=$2
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	echo "$line" > "$dir/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
		  -o "Dir::Etc::SourceParts=/dev/null"
		  -o "Dir::State::Lists=$dir/lists"
		  -o "Dir::Cache=$dir/cache"
		  -o "APT::Sandbox::User=root")
	[ -e "$dir/lists/.updated" ] && return 0
	if ! apt-get "${apt_opts[@]}" update >"$dir/update.log" 2>&1; then
		echo "$(basename "$0"): apt-get update for '$line' failed," \
		     "see $dir/update.log" >&2
		return 1
	fi
	touch "$dir/lists/.updated"
}
