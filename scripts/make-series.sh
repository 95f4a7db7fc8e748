#!/bin/bash
# Write the project's changes to upstream as git format-patch series:
#
#   build/series/linux/       against Debian's linux-source-6.12
#   build/series/linux-7.3/   against Debian's linux-source-7.3 (mainline),
#                             with a cover letter (kernel/7.3/cover-letter)
#   build/series/rdma-core/   against rdma-core's orig tarball
#   build/series/perftest/    against perftest's orig tarball
#
# Each series is rebuilt by `git am` onto a git tree of the pristine files,
# so what comes out is exactly what upstream would receive. Kernel files
# that are wholly ours live in the drivers/ overlay; each joins the first
# patch after which a Makefile or an #include refers to it, which keeps the
# series bisectable. See CONTRIBUTING for the round trip.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
out=$build/series
work=$build/series-work
author_ident=(-c user.name="rdma-dmabuf series" -c user.email="series@rdma-dmabuf.invalid")

rm -rf "$out" "$work"
mkdir -p "$out" "$work"
g() { git -C "$1" "${author_ident[@]}" "${@:2}"; }

# series_from_tree [--cover FILE] NAME TREE PATCH...: commit TREE as the
# base, git am the patches, format them into build/series/NAME; with
# --cover, a cover letter whose subject is FILE's first line and whose
# text is the rest, followed by git's shortlog and diffstat.
series_from_tree() {
	local cover=
	[ "$1" = --cover ] && { cover=$2; shift 2; }
	local name=$1 tree=$2
	shift 2
	g "$tree" init -q
	# -f: a tarball may carry a .gitignore that hides its own files.
	g "$tree" add -A -f
	g "$tree" commit -q -m "pristine $name"
	g "$tree" tag base
	if [ $# -gt 0 ]; then
		g "$tree" am -q --keep-cr "$@" || {
			echo "make-series: a $name patch does not apply with git am" >&2
			exit 1
		}
	fi
	mkdir -p "$out/$name"
	g "$tree" format-patch -q ${cover:+--cover-letter} -o "$out/$name" base..HEAD
	[ -z "$cover" ] || fill_cover_letter "$cover" "$out/$name/0000-cover-letter.patch"
	echo "  SERIES  $name: $(git -C "$tree" rev-list --count base..HEAD) patch(es) in build/series/$name${cover:+, with a cover letter}"
}

# fill_cover_letter FILE LETTER: put FILE's subject (first line) and text
# (after the blank second line) in place of git's placeholders in LETTER.
fill_cover_letter() {
	local subject
	subject=$(sed -n 1p "$1")
	[ -n "$subject" ] && [ -z "$(sed -n 2p "$1")" ] || {
		echo "make-series: $1 must start with a subject line and a blank line" >&2
		exit 1
	}
	awk -v subject="$subject" -v body="$1" '
		i = index($0, "*** SUBJECT HERE ***") {
			$0 = substr($0, 1, i - 1) subject substr($0, i + 20)
		}
		/^\*\*\* BLURB HERE \*\*\*$/ {
			while ((getline line < body) > 0)
				if (++n > 2)
					print line
			next
		}
		{ print }' "$2" > "$2.tmp"
	mv "$2.tmp" "$2"
	! grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$2" || {
		echo "make-series: git's cover letter placeholders were not replaced in $2" >&2
		exit 1
	}
}

# --- rdma-core and perftest: their patch directories are the series.
. "$top/upstream.versions"
for name in rdma-core perftest; do
	var=${name//-/_}
	var=${var^^}_VERSION
	version=${!var}
	tarball=$build/dl/${name}_$version.orig.tar.gz
	[ -f "$tarball" ] || "$top/scripts/build-userspace.sh" "$name" >/dev/null
	mkdir -p "$work/$name"
	tar -xzf "$tarball" -C "$work/$name" --strip-components=1
	patches=()
	for p in "$top/$name-patches"/*.patch; do [ -f "$p" ] && patches+=("$p"); done
	series_from_tree "$name" "$work/$name" "${patches[@]}"
done

# --- linux: kernel/patches in series order, overlay files joining the
# first commit that refers to them. Only the touched files are tracked,
# which is all git am needs and keeps this fast.
"$top/kernel/prepare-source.sh" >/dev/null
pristine=$build/linux-pristine
tree=$work/linux
mkdir -p "$tree"
patches=()
if [ -f "$top/kernel/patches/series" ]; then
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		patches+=("$top/kernel/patches/$p")
	done < "$top/kernel/patches/series"
fi
overlay=()
[ -d "$top/drivers" ] && mapfile -t overlay < <(cd "$top" && find drivers -type f | sort)
for p in "${patches[@]}"; do
	for f in $(sed -n 's|^--- a/\([^[:space:]]*\).*|\1|p' "$p"); do
		mkdir -p "$tree/$(dirname "$f")"
		cp "$pristine/$f" "$tree/$f"
	done
done
# Context for the reference scan: the Makefiles of the overlay's directories.
for f in "${overlay[@]}"; do
	d=$(dirname "$f")
	[ -f "$pristine/$d/Makefile" ] && [ ! -f "$tree/$d/Makefile" ] &&
		mkdir -p "$tree/$d" && cp "$pristine/$d/Makefile" "$tree/$d/Makefile"
done
g "$tree" init -q
g "$tree" add -A
g "$tree" commit -q --allow-empty -m "pristine linux-source-6.12"
g "$tree" tag base

pending=("${overlay[@]}")
# add_referenced: amend HEAD with every pending overlay file that a tracked
# Makefile (as an object) or source file (as an #include) now refers to.
add_referenced() {
	local progress=1 f base obj rest
	while [ "$progress" = 1 ]; do
		progress=0 rest=()
		for f in "${pending[@]}"; do
			base=$(basename "$f")
			obj=${base%.c}.o
			if git -C "$tree" grep -qE "(^|[[:space:]/])${obj//./\\.}([[:space:]]|$)" -- '*Makefile' '*Kbuild' 2>/dev/null ||
			   git -C "$tree" grep -qF "#include \"$base\"" 2>/dev/null; then
				mkdir -p "$tree/$(dirname "$f")"
				cp "$top/$f" "$tree/$f"
				g "$tree" add "$f"
				progress=1
			else
				rest+=("$f")
			fi
		done
		pending=("${rest[@]}")
	done
	g "$tree" diff --cached --quiet || g "$tree" commit -q --amend --no-edit
}
for p in "${patches[@]}"; do
	g "$tree" am -q "$p" || {
		echo "make-series: kernel patch $(basename "$p") does not apply with git am" >&2
		exit 1
	}
	add_referenced
done
if [ "${#pending[@]}" -gt 0 ]; then
	echo "make-series: overlay files no patch refers to: ${pending[*]}" >&2
	exit 1
fi
mkdir -p "$out/linux"
g "$tree" format-patch -q -o "$out/linux" base..HEAD
echo "  SERIES  linux: ${#patches[@]} patch(es) in build/series/linux"

# --- linux-7.3: kernel/7.3/patches on Debian's linux-source-7.3, mainline's
# base (kernel/7.3/prepare.sh fetches it). It has no overlay: the files
# wholly ours are created by the patches that first need them.
# Its base comes from the network: if it cannot be had, the other series
# are still written, and this one fails on its own.
status=0
if "$top/kernel/7.3/prepare.sh" source >/dev/null; then
	pristine=$build/linux-7.3-pristine
	tree=$work/linux-7.3
	patches=()
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		patches+=("$top/kernel/7.3/patches/$p")
	done < "$top/kernel/7.3/patches/series"
	mkdir -p "$tree/drivers/infiniband/sw"
	cp -r "$pristine/drivers/infiniband/sw/rxe" "$tree/drivers/infiniband/sw/"
	series_from_tree --cover "$top/kernel/7.3/cover-letter" linux-7.3 \
		"$tree" "${patches[@]}"
else
	echo "make-series: no 7.3 base (kernel/7.3/prepare.sh failed): build/series/linux-7.3 not written" >&2
	status=1
fi
rm -rf "$work"
exit "$status"
