#!/usr/bin/env bash
# Regenerates docs/report.png, the README's picture of report.html: trains a
# small VAE on the embedded sample, runs `eval -task all`, copies report.html
# alone into an empty directory (as when it is sent on) and screenshots it in
# headless Chromium (Debian's chromium package).
# Usage: scripts/report-screenshot.sh [EPOCHS]   (default 5; about a minute on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-5}"
command -v chromium >/dev/null || { echo "needs chromium: apt-get install chromium" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go run ./cmd/train -model vae -epochs "$epochs" -out "$tmp/run" >/dev/null
go run ./cmd/eval -checkpoint "$tmp/run/best.safetensors" -task all -limit 500 -knn-train 2000 -out "$tmp/eval" >/dev/null
mkdir "$tmp/away"
cp "$tmp/eval/report.html" "$tmp/away/"
# 0.6 device pixels per CSS pixel keep the picture small: 660×1020.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
	--user-data-dir="$tmp/profile" --window-size=1100,1700 --force-device-scale-factor=0.6 \
	--screenshot="$PWD/docs/report.png" "file://$tmp/away/report.html" 2>/dev/null
ls -l docs/report.png
