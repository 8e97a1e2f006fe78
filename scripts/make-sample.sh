#!/usr/bin/env bash
# Regenerates dataset/sample/*.gz, the Fashion-MNIST sample embedded in package
# dataset: the first 4000 training and first 1000 test images and labels.
# Usage: scripts/make-sample.sh [SRC_DIR]   (default /usr/share/datasets/fashion-mnist,
# from Debian's dataset-fashion-mnist package or scripts/get-data.sh fashion-mnist -> data/fashion-mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-/usr/share/datasets/fashion-mnist}"
go run ./dataset/internal/makesample -src "$src" -out dataset/sample -train 4000 -test 1000
ls -l dataset/sample
