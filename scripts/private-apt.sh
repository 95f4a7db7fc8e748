# Source this file.
#
# private_apt PREFIX DIR LINE: set apt_opts, the apt-get options of a
# private apt configuration in DIR whose only source is LINE (a
# sources.list line), so that the host's own sources.list is neither read
# nor changed. Its package lists are fetched once per source line
# (DIR/lists/.updated records the line). On failure it prints why,
# prefixed with PREFIX, and returns 1.
#
# private_apt_update PREFIX: fetch the lists of the last private_apt's
# configuration again (a pinned version newer than the lists, say).
private_apt() {
	local prefix=$1 line=$3
	private_apt_dir=$2
	mkdir -p "$private_apt_dir/lists/partial" "$private_apt_dir/cache/archives/partial"
	echo "$line" > "$private_apt_dir/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$private_apt_dir/sources.list"
		  -o "Dir::Etc::SourceParts=/dev/null"
		  -o "Dir::State::Lists=$private_apt_dir/lists"
		  -o "Dir::Cache=$private_apt_dir/cache"
		  -o "APT::Sandbox::User=root")
	[ "$(cat "$private_apt_dir/lists/.updated" 2>/dev/null)" = "$line" ] ||
		private_apt_update "$prefix"
}

private_apt_update() {
	local line
	line=$(cat "$private_apt_dir/sources.list")
	rm -f "$private_apt_dir/lists/.updated"
	if ! apt-get "${apt_opts[@]}" update >"$private_apt_dir/update.log" 2>&1; then
		echo "$1: apt-get update for '$line' failed," \
		     "see $private_apt_dir/update.log" >&2
		return 1
	fi
	echo "$line" > "$private_apt_dir/lists/.updated"
}

# private_apt_download PREFIX DIR NAME VERSION SHA256 SUITE: set deb_file to
# the package NAME=VERSION in DIR, downloaded with the last private_apt's
# configuration unless DIR has it already, and checked against SHA256.
# SUITE names the archive in the message when it no longer has the
# version. On failure it prints why, prefixed with PREFIX, and returns 1.
private_apt_download() {
	local prefix=$1 dir=$2 name=$3 version=$4 sha256=$5 suite=$6 pattern
	pattern=$(printf '%s_%s_*.deb' "$name" "${version//:/%3a}")
	mkdir -p "$dir"
	deb_file=$(compgen -G "$dir/$pattern" | head -n 1 || true)
	if [ -z "$deb_file" ]; then
		echo "  APT     $name $version"
		# Package lists fetched earlier may predate the pin: on a
		# failure, fetch them again once and retry.
		if ! (cd "$dir" && apt-get "${apt_opts[@]}" download \
		      "$name=$version" > "$dir/$name.log" 2>&1) &&
		   ! { private_apt_update "$prefix" &&
		       (cd "$dir" && apt-get "${apt_opts[@]}" download \
			"$name=$version" > "$dir/$name.log" 2>&1); }; then
			echo "$prefix: cannot download $name=$version from Debian's" \
			     "$suite (the archive may have moved on: pick a version" \
			     "it has, with its sha256, in upstream.versions;" \
			     "log: $dir/$name.log)" >&2
			return 1
		fi
		deb_file=$(compgen -G "$dir/$pattern" | head -n 1 || true)
		if [ -z "$deb_file" ]; then
			echo "$prefix: apt-get download $name=$version left no $pattern in $dir" >&2
			return 1
		fi
	fi
	if ! echo "$sha256  $deb_file" | sha256sum --check --status; then
		echo "$prefix: $(basename "$deb_file") has sha256" \
		     "$(sha256sum "$deb_file" | cut -d' ' -f1), upstream.versions" \
		     "pins $sha256; refusing it (delete the file to fetch it again)" >&2
		return 1
	fi
}
