#!/usr/bin/env bash
# Peak RSS of `hourglass train` on sharded data streamed through a shuffle
# buffer, against the same data loaded whole (docs/streaming.md records the
# figures). Writes ROWS×64 float32 samples as .npy shards of 25,000 rows
# (the last one held out for validation) and the same values as one CSV,
# trains the default deep table model for EPOCHS epochs on each under
# /usr/bin/time -v and prints the peak RSS and wall time of every run.
#
#   scripts/stream-rss.sh                    # 400,000 rows (97.7 MiB), buffer 10,000
#   ROWS=1600000 scripts/stream-rss.sh       # 4× the data: the streamed peak should not move
#   WHOLE=0 ROWS=100000 scripts/stream-rss.sh
#
# Needs /usr/bin/time (Debian: apt-get install time) and about 4 × the
# data's size of free space under TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-400000}
buffer=${BUFFER:-10000}
epochs=${EPOCHS:-3}
whole=${WHOLE:-1}
export GOFLAGS=-buildvcs=false
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/hourglass" ./cmd/hourglass
go build -o "$work/streamrss" ./dataset/internal/streamrss
shards=$(( (rows + 24999) / 25000 ))
mkdir "$work/npy"
"$work/streamrss" -rows "$rows" -dim 64 -shards "$shards" -dir "$work/npy" -epochs 0 >/dev/null
measure() { # name, then the train command's flags
  local name=$1
  shift
  /usr/bin/time -v "$work/hourglass" train -epochs "$epochs" -out "$work/run-$name" "$@" >/dev/null 2>"$work/$name.err" ||
    { cat "$work/$name.err"; exit 1; }
  local kb wall
  kb=$(awk -F: '/Maximum resident set size/ {print $2}' "$work/$name.err")
  wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/$name.err")
  printf '%-8s %9d rows  peak RSS %7.1f MiB  wall %s\n' "$name" "$rows" "$(echo "$kb/1024" | bc -l)" "$wall"
  grep -E '^epoch ' "$work/$name.err" | sed 's/^/         /'
}
measure stream -data "$work/npy" -buffer "$buffer"
if [ "$whole" = 1 ]; then
  mkdir "$work/csv"
  "$work/streamrss" -rows "$rows" -dim 64 -shards "$shards" -format csv -dir "$work/csv" -epochs 0 >/dev/null
  cat "$work"/csv/*.csv >"$work/all.csv"
  rm -r "$work/csv"
  # The same rows loaded whole, the last shard's share held out as -val-frac.
  measure whole -data "$work/all.csv" -val-frac "$(echo "25000/$rows" | bc -l | cut -c1-8)"
fi
