#!/usr/bin/env bash
# docker-train.sh - run cmd/train (or cmd/eval) in the hourglass Docker image.
#
# Usage: scripts/docker-train.sh [train|eval] [FLAGS...]
#   scripts/docker-train.sh -data fashion-mnist -epochs 20 -device cuda
#   scripts/docker-train.sh eval -h
# Environment:
#   IMAGE      image to run (default hourglass:cuda; hourglass:cpu for the CPU image)
#   RUNS_DIR   host directory for run directories, checkpoints and pictures
#              (default ./runs), mounted at /runs
#   DATA_DIR   host directory with datasets (default /usr/share/datasets),
#              mounted read-only at the same path
#   GPUS       value of docker run --gpus (default all; ignored for images
#              whose name contains "cpu")
# Files are written as the calling user, not root.
set -euo pipefail

image="${IMAGE:-hourglass:cuda}"
runs_dir="${RUNS_DIR:-$PWD/runs}"
data_dir="${DATA_DIR:-/usr/share/datasets}"

cmd=train
if [[ $# -gt 0 && ( "$1" == train || "$1" == eval ) ]]; then
  cmd="$1"
  shift
fi

command -v docker >/dev/null 2>&1 || { echo "docker-train: docker not found on PATH" >&2; exit 1; }
if ! docker image inspect "$image" >/dev/null 2>&1; then
  df=docker/Dockerfile
  [[ "$image" == *cpu* ]] && df=docker/Dockerfile.cpu
  echo "docker-train: image $image not found; build it from the repository root with:" >&2
  echo "  docker build -f $df -t $image ." >&2
  exit 1
fi
[[ -d "$data_dir" ]] || { echo "docker-train: data directory $data_dir does not exist (set DATA_DIR)" >&2; exit 1; }
mkdir -p "$runs_dir"
runs_dir="$(cd "$runs_dir" && pwd)"

args=(--rm --init
  --user "$(id -u):$(id -g)"
  -v "$runs_dir:/runs"
  -v "$data_dir:$data_dir:ro"
  -e HOURGLASS_DATA="$data_dir")
if [[ "$image" != *cpu* ]]; then
  args+=(--gpus "${GPUS:-all}")
fi
# A TTY only when we have one, so progress output stays readable and logs
# stay plain when piped.
[[ -t 0 && -t 1 ]] && args+=(-it)

exec docker run "${args[@]}" "$image" "$cmd" "$@"
