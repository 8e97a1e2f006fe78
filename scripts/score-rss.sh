#!/usr/bin/env bash
# Peak RSS of scoring every kind over Fashion-MNIST's 60,000 training images
# (the anomaly threshold's normal set) plus the 10,000 test images, and of one
# training epoch on the full set: issue 18's memory targets (scoring under
# 600 MB, training under 1 GiB).
#
#   scripts/score-rss.sh                # every kind
#   scripts/score-rss.sh conv vae       # a subset
#
# Each kind's checkpoint comes from one epoch on the embedded sample (the
# weights do not change the memory a pass takes). Needs GNU time
# (/usr/bin/time) and dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(basic deep denoising sparse conv vae convvae)
[ -x /usr/bin/time ] || { echo "score-rss: needs GNU time: apt-get install time" >&2; exit 1; }
[ -d /usr/share/datasets/fashion-mnist ] || { echo "score-rss: needs dataset-fashion-mnist" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/hourglass" ./cmd/hourglass
# rss COMMAND...: peak RSS in MB and wall seconds (time's last line: a line
# about the exit status may come first).
rss() { /usr/bin/time -f '%M %e' -o "$dir/time" "$@" > /dev/null 2>&1 || true; read -r kb secs < <(tail -n 1 "$dir/time"); echo "$((kb / 1024)) $secs"; }
printf '%-10s %16s %10s %20s\n' kind "score RSS MB" "score s" "train epoch RSS MB"
for k in "${kinds[@]}"; do
  "$dir/hourglass" train -model "$k" -epochs 1 -no-pca -out "$dir/$k" > /dev/null 2>&1
  read -r smb ss < <(rss "$dir/hourglass" eval -checkpoint "$dir/$k/last.safetensors" -data fashion-mnist -task anomaly -percentile 99 -out "$dir/$k-eval")
  # One full-data epoch is minutes for the conv kinds; 90 s is enough to
  # have allocated the graph, the optimizer and the data.
  read -r tmb _ < <(rss timeout 90 "$dir/hourglass" train -model "$k" -data fashion-mnist -epochs 1 -no-pca -out "$dir/$k-full")
  printf '%-10s %16s %10s %20s\n' "$k" "$smb" "$ss" "$tmb"
done
