#!/usr/bin/env bash
# Downloads the four IDX files of an MNIST-style dataset into ./data/NAME,
# where package dataset's Load("NAME") looks for them.
# Usage: scripts/get-data.sh fashion-mnist|mnist
# Fashion-MNIST is also packaged by Debian: apt-get install dataset-fashion-mnist
# (installs into /usr/share/datasets/fashion-mnist, which Load searches too).
# Each file is downloaded to a temporary name, checked to be a complete gzip
# stream holding a ubyte IDX file with the expected item count, and only then
# moved into place; files already present and valid are kept.
set -euo pipefail

usage() { echo "usage: $0 fashion-mnist|mnist" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
name=$1
case "$name" in
fashion-mnist)
	mirrors=(
		"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
		"https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"
	)
	;;
mnist)
	mirrors=(
		"https://ossci-datasets.s3.amazonaws.com/mnist"
	)
	;;
*) usage ;;
esac

cd "$(dirname "$0")/.."
dest="data/$name"
mkdir -p "$dest"

if command -v curl >/dev/null 2>&1; then
	fetch() { curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
	fetch() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
	echo "$0: need curl or wget" >&2
	exit 1
fi

# check FILE WANT_NDIMS WANT_COUNT: gzip magic 1f 8b, intact stream, IDX
# magic 00 00 08 NDIMS and first dimension WANT_COUNT.
check() {
	local f=$1 nd=$2 count=$3 magic hdr
	magic=$(head -c 2 "$f" | od -An -tx1 | tr -d ' \n')
	if [[ "$magic" != "1f8b" ]]; then
		echo "$f: not gzip (starts with '$magic', want 1f8b); an HTML error page?" >&2
		return 1
	fi
	if ! gzip -t "$f" 2>/dev/null; then
		echo "$f: corrupt or truncated gzip stream" >&2
		return 1
	fi
	# Read the 8-byte header through a file, not a pipe into head, so
	# pipefail does not trip on gzip's SIGPIPE.
	hdr=$(gzip -dc "$f" | od -An -tx1 -N8 | tr -d ' \n' || true)
	local want
	want=$(printf '000008%02x%08x' "$nd" "$count")
	if [[ "$hdr" != "$want" ]]; then
		echo "$f: IDX header $hdr, want $want (ubyte, $nd dims, $count items)" >&2
		return 1
	fi
}

files=(
	"train-images-idx3-ubyte.gz 3 60000"
	"train-labels-idx1-ubyte.gz 1 60000"
	"t10k-images-idx3-ubyte.gz 3 10000"
	"t10k-labels-idx1-ubyte.gz 1 10000"
)
for entry in "${files[@]}"; do
	read -r file nd count <<<"$entry"
	out="$dest/$file"
	if [[ -f "$out" ]] && check "$out" "$nd" "$count" 2>/dev/null; then
		echo "$out: present, ok"
		continue
	fi
	tmp="$out.part"
	ok=0
	for m in "${mirrors[@]}"; do
		echo "fetching $m/$file"
		if fetch "$m/$file" "$tmp" && check "$tmp" "$nd" "$count"; then
			mv -f "$tmp" "$out"
			ok=1
			break
		fi
		echo "  failed from $m" >&2
	done
	rm -f "$tmp"
	if [[ $ok -ne 1 ]]; then
		echo "$0: could not download a valid $file for $name from: ${mirrors[*]}" >&2
		exit 1
	fi
	echo "$out: ok"
done
echo "done: $dest (use source \"$name\")"
