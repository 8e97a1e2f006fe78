#!/usr/bin/env bash
# gpu-smoke.sh - one-shot smoke test of hourglass's CUDA build on a machine
# with an NVIDIA GPU. No network, no installs, under 8 minutes.
#
#   1. reports the driver, the GPU and the CUDA libraries it finds (and any
#      library the cuda binary needs that the dynamic linker cannot find);
#   2. trains every kind for EPOCHS epochs of the embedded sample (56 steps
#      each at batch 64: 224 steps by default) with the same seed on
#      -device cuda (the -tags cuda binary) and on -device cpu (a default
#      build: a cuda binary refuses -device cpu), and compares the two loss
#      curves: every epoch's train and validation loss must agree within a
#      relative TOL (default 0.05);
#   3. times the deep model's epochs on both devices (TIME_DATA, default sample);
#   4. prints one JSON summary as the last line of stdout.
#
# Without a GPU (nvidia-smi missing or failing), or with --dry-run, it says so
# and runs only the CPU half: the CPU trainings twice from the same seed,
# compared with the same code and tolerance (so the comparison itself is
# exercised, and a CPU run that is not reproducible shows up), and the CPU
# timing. A dry run claims nothing about a GPU.
#
# Usage:
#   scripts/gpu-smoke.sh [--dry-run] [--cuda-bin PATH] [--cpu-bin PATH]
#   scripts/gpu-smoke.sh --bundle DIR     # here: build DIR/{train-cuda,train-cpu,gpu-smoke.sh}
#
# The commands default to, in order: the binaries train-cuda / train-cpu next
# to this script (the --bundle layout), else `go run -tags cuda ./cmd/train`
# and `go run ./cmd/train` in the repository. TRAIN_CUDA / TRAIN_CPU override
# them with any command line that takes cmd/train's flags, e.g.
# TRAIN_CUDA="/opt/hg/hourglass train" for a single binary with subcommands.
#
# Environment: EPOCHS (4), TOL (0.05), KINDS ("basic deep denoising sparse
# conv vae convvae"), SEED (1), BATCH (64), TIME_DATA (sample), TIME_EPOCHS (3),
# RUN_TIMEOUT (120 s per training run), BUDGET (360 s for all training runs;
# runs past it are reported as failed, not run), TIME_TIMEOUT (45 s per
# timing run): at most 7.5 minutes in all. WORK (scratch dir, default mktemp).
# Exit status: 0 when every comparison passed, 1 otherwise, 2 on usage errors.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/.." && pwd)"

dry=0
cuda_bin="" cpu_bin="" bundle=""
while (($#)); do
  case "$1" in
    --dry-run) dry=1 ;;
    --cuda-bin) cuda_bin="${2:?--cuda-bin needs a path}"; shift ;;
    --cpu-bin) cpu_bin="${2:?--cpu-bin needs a path}"; shift ;;
    --bundle) bundle="${2:?--bundle needs a directory}"; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-smoke: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# ------------------------------------------------------------------ bundle
if [[ -n "$bundle" ]]; then
  # Builds, on a machine with the CUDA toolkit, what the GPU machine needs:
  # the cuda binary via scripts/check-cuda.sh (cuDNN stand-in when no real
  # cuDNN is installed), a CPU binary and this script.
  mkdir -p "$bundle" || exit 1
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "building the cuda binary with scripts/check-cuda.sh (OUT_DIR=$tmp) ..."
  # -s -w: no symbol table or DWARF, so both binaries fit in 64 MiB.
  if ! OUT_DIR="$tmp" SKIP_CPU=1 GO_LDFLAGS="-s -w" "$repo_root/scripts/check-cuda.sh" >"$tmp/check.log" 2>&1 || [[ ! -x "$tmp/train" ]]; then
    tail -n 30 "$tmp/check.log"
    echo "gpu-smoke --bundle: scripts/check-cuda.sh failed or built no train binary" >&2
    exit 1
  fi
  sed -n '/^=== summary/,$p' "$tmp/check.log"
  cp "$tmp/train" "$bundle/train-cuda"
  (cd "$repo_root" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$bundle/train-cpu" ./cmd/train) || exit 1
  cp "$0" "$bundle/gpu-smoke.sh"
  total=0
  for f in "$bundle/train-cuda" "$bundle/train-cpu" "$bundle/gpu-smoke.sh"; do
    s=$(stat -c %s "$f"); total=$((total + s))
    printf '%10d  %s\n' "$s" "$f"
  done
  printf '%10d  total (%d MiB; the GPU check allows 64 MiB)\n' "$total" $((total / 1048576))
  ((total <= 64 * 1048576)) || { echo "gpu-smoke --bundle: bundle exceeds 64 MiB" >&2; exit 1; }
  exit 0
fi

epochs="${EPOCHS:-4}"
tol="${TOL:-0.05}"
kinds="${KINDS:-basic deep denoising sparse conv vae convvae}"
seed="${SEED:-1}"
batch="${BATCH:-64}"
time_data="${TIME_DATA:-sample}"
time_epochs="${TIME_EPOCHS:-3}"
run_timeout="${RUN_TIMEOUT:-120}"
budget="${BUDGET:-360}"
time_timeout="${TIME_TIMEOUT:-45}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work" || exit 1
start=$SECONDS

# ------------------------------------------------------------- commands
if [[ -n "$cuda_bin" ]]; then TRAIN_CUDA="$cuda_bin"
elif [[ -z "${TRAIN_CUDA:-}" ]]; then
  if [[ -x "$here/train-cuda" ]]; then TRAIN_CUDA="$here/train-cuda"; else TRAIN_CUDA="go run -tags cuda ./cmd/train"; fi
fi
if [[ -n "$cpu_bin" ]]; then TRAIN_CPU="$cpu_bin"
elif [[ -z "${TRAIN_CPU:-}" ]]; then
  if [[ -x "$here/train-cpu" ]]; then TRAIN_CPU="$here/train-cpu"; else TRAIN_CPU="go run ./cmd/train"; fi
fi
# go run needs the repository as working directory; binaries do not care.
cd "$repo_root" 2>/dev/null || cd "$here" || exit 1

# json_str S: S as a JSON string.
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/ }"
  s="${s//$'\t'/ }"
  printf '"%s"' "$s"
}

# --------------------------------------------------------- 1. environment
echo "=== 1. driver, GPU, libraries"
gpu_ok=0
driver="" gpu=""
if ((dry)); then
  echo "dry run requested (--dry-run): the CUDA half is not run"
  why_dry="--dry-run"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "no GPU: nvidia-smi not found, so this is a DRY RUN (CPU half only)"
  dry=1 why_dry="nvidia-smi not found"
elif ! q="$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1)"; then
  echo "no usable GPU: nvidia-smi failed ($q), so this is a DRY RUN (CPU half only)"
  dry=1 why_dry="nvidia-smi failed"
else
  gpu_ok=1
  gpu="$(head -n 1 <<<"$q")"
  driver="$(cut -d, -f2 <<<"$gpu" | tr -d ' ')"
  echo "GPU 0: $gpu  (name, driver, memory, compute capability)"
  nvidia-smi | sed -n '1,4p'
fi
libs=()
for l in libcuda.so.1 libcudart.so.11.0 libcublas.so.11 libcublasLt.so.11 libcudnn.so.8 libnvrtc.so.11.2; do
  p="$(ldconfig -p 2>/dev/null | awk -v l="$l" '$1 == l {print $NF; exit}')"
  libs+=("$(json_str "$l"):$(json_str "${p:-not found}")")
  printf '  %-20s %s\n' "$l" "${p:-not found}"
done
missing=""
first_word="${TRAIN_CUDA%% *}"
if [[ -f "$first_word" ]] && command -v ldd >/dev/null 2>&1; then
  missing="$(ldd "$first_word" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
  echo "  cuda binary $first_word: $(stat -c %s "$first_word") bytes; libraries not found: ${missing:-none}"
fi
echo "cuda command: $TRAIN_CUDA"
echo "cpu command:  $TRAIN_CPU"

# ------------------------------------------------------------ 2. training
# train LABEL DEVICE CMD... : one run; its metrics.jsonl lands in $work/LABEL.
train_run() {
  local label="$1" dev="$2"; shift 2
  local dir="$work/$label"
  rm -rf "$dir"
  local t0=$SECONDS left=$((budget - (SECONDS - start)))
  if ((left < 10)); then
    echo "    $label: not run, the ${budget}s budget is spent"
    echo 0 >"$work/$label.secs"
    return 125
  fi
  ((left > run_timeout)) && left=$run_timeout
  timeout "$left" "$@" -data sample -epochs "$epochs" -batch "$batch" -seed "$seed" \
    -device "$dev" -no-pca -json -out "$dir" >"$work/$label.out" 2>"$work/$label.err"
  local rc=$?
  echo "$((SECONDS - t0))" >"$work/$label.secs"
  if ((rc != 0)); then
    echo "    $label: exit status $rc$( ((rc == 124)) && echo " (timed out after ${left}s)")"
    tail -n 5 "$work/$label.err" | sed 's/^/      /'
  fi
  return "$rc"
}

# curve LABEL KEY: the KEY values of metrics.jsonl, one per epoch.
curve() {
  sed -n "s/.*\"$2\":\([-0-9.eE+naNIf]*\).*/\1/p" "$work/$1/metrics.jsonl" 2>/dev/null
}

# compare A B: prints the largest relative difference of the train and
# validation curves; fails when the curves differ in length or exceed TOL.
compare() {
  local a b
  a="$(paste -d' ' <(curve "$1" train_loss) <(curve "$1" val_loss))"
  b="$(paste -d' ' <(curve "$2" train_loss) <(curve "$2" val_loss))"
  awk -v tol="$tol" -v n="$epochs" '
    NR == FNR { ta[FNR] = $1; va[FNR] = $2; na = FNR; next }
    { tb[FNR] = $1; vb[FNR] = $2; nb = FNR }
    function rel(x, y) { d = x - y; if (d < 0) d = -d; m = (y < 0 ? -y : y); if (m < 1e-12) m = 1e-12; return d / m }
    END {
      if (na != n || nb != n) { printf "nan"; exit 1 }
      worst = 0
      for (i = 1; i <= n; i++) {
        if (ta[i] != ta[i] + 0 || tb[i] != tb[i] + 0) { printf "nan"; exit 1 }
        r = rel(ta[i], tb[i]); if (r > worst) worst = r
        r = rel(va[i], vb[i]); if (r > worst) worst = r
      }
      printf "%.3g", worst
      exit (worst <= tol ? 0 : 1)
    }' <(echo "$a") <(echo "$b")
}

# json_curve LABEL KEY: [v1,v2,...]
json_curve() { printf '[%s]' "$(curve "$1" "$2" | paste -sd, -)"; }

echo
if ((gpu_ok)); then
  echo "=== 2. every kind, $epochs epochs of the sample (seed $seed, batch $batch) on cuda and cpu; tolerance $tol (relative, per epoch, train and validation loss)"
else
  echo "=== 2. DRY RUN: every kind, $epochs epochs of the sample (seed $seed, batch $batch) on cpu twice; tolerance $tol"
fi
read -r -a train_cuda <<<"$TRAIN_CUDA"
read -r -a train_cpu <<<"$TRAIN_CPU"
kind_json=()
failed=0
for k in $kinds; do
  a="$k-cpu"
  if ((gpu_ok)); then b="$k-cuda"; else b="$k-cpu2"; fi
  ok=1 note=""
  train_run "$a" cpu "${train_cpu[@]}" -model "$k" || { ok=0; note="cpu run failed"; }
  if ((gpu_ok)); then
    train_run "$b" cuda "${train_cuda[@]}" -model "$k" || { ok=0; note="${note:+$note; }cuda run failed"; }
  else
    train_run "$b" cpu "${train_cpu[@]}" -model "$k" || { ok=0; note="${note:+$note; }second cpu run failed"; }
  fi
  diff="nan"
  if ((ok)); then
    if diff="$(compare "$b" "$a")"; then :; else ok=0; note="curves differ by more than $tol (or are incomplete)"; fi
  fi
  ((ok)) || failed=1
  status=$( ((ok)) && echo PASS || echo FAIL)
  printf '  %-9s %s  max rel diff %s  (%s: %ss, %s: %ss)  %s\n' "$k" "$status" "$diff" \
    "$a" "$(cat "$work/$a.secs" 2>/dev/null)" "$b" "$(cat "$work/$b.secs" 2>/dev/null)" "$note"
  printf '            %s train %s\n            %s train %s\n' "$a" "$(json_curve "$a" train_loss)" "$b" "$(json_curve "$b" train_loss)"
  kind_json+=("$(json_str "$k"):{\"status\":$(json_str "$status"),\"max_rel_diff\":$(json_str "$diff"),\"note\":$(json_str "$note"),\"$a\":{\"train\":$(json_curve "$a" train_loss),\"val\":$(json_curve "$a" val_loss),\"seconds\":$(cat "$work/$a.secs" 2>/dev/null || echo null)},\"$b\":{\"train\":$(json_curve "$b" train_loss),\"val\":$(json_curve "$b" val_loss),\"seconds\":$(cat "$work/$b.secs" 2>/dev/null || echo null)}}")
done

# -------------------------------------------------------------- 3. timing
echo
echo "=== 3. deep model, $time_epochs epochs of $time_data: seconds per epoch"
time_json=()
time_devs=(cpu)
((gpu_ok)) && time_devs+=(cuda)
for dev in "${time_devs[@]}"; do
  if [[ "$dev" == cuda ]]; then cmd=("${train_cuda[@]}"); else cmd=("${train_cpu[@]}"); fi
  out="$work/time-$dev"
  rm -rf "$out"
  if timeout "$time_timeout" "${cmd[@]}" -model deep -data "$time_data" -epochs "$time_epochs" -batch "$batch" \
      -seed "$seed" -device "$dev" -no-pca -json -out "$out" >"$out.json" 2>"$out.err"; then
    secs="$(sed -n 's/.*"epoch_seconds":\[\([^]]*\)\].*/\1/p' "$out.json" | tail -n 1)"
    echo "  $dev: [$secs]"
    time_json+=("$(json_str "$dev"):[${secs}]")
  else
    echo "  $dev: FAILED"; tail -n 5 "$out.err" | sed 's/^/    /'
    time_json+=("$(json_str "$dev"):null")
    failed=1
  fi
done

# ------------------------------------------------------------- 4. summary
first_kind="${kinds%% *}"
steps_per_epoch="$(sed -n '1s/.*"step":\([0-9]*\).*/\1/p' "$work/$first_kind-cpu/metrics.jsonl" 2>/dev/null)"
if ((failed)); then result=FAIL; elif ((gpu_ok)); then result=PASS; else result=DRY-RUN-PASS; fi
echo
echo "=== result: $result ($((SECONDS - start)) s)$( ((gpu_ok)) || echo "; no GPU was used: ${why_dry}")"
printf '{"result":%s,"mode":%s,%s"gpu":%s,"driver":%s,"libraries":{%s},"cuda_binary_missing_libraries":%s,"cuda_command":%s,"cpu_command":%s,"epochs":%s,"steps_per_epoch":%s,"seed":%s,"batch":%s,"tolerance":%s,"kinds":{%s},"deep_epoch_seconds":{%s},"time_data":%s,"seconds":%s}\n' \
  "$(json_str "$result")" "$(json_str "$( ((gpu_ok)) && echo gpu || echo dry-run)")" \
  "$( ((gpu_ok)) || printf '"dry_run_reason":%s,' "$(json_str "$why_dry")")" \
  "$(json_str "$gpu")" "$(json_str "$driver")" "$(IFS=,; echo "${libs[*]}")" "$(json_str "${missing% }")" \
  "$(json_str "$TRAIN_CUDA")" "$(json_str "$TRAIN_CPU")" "$epochs" "${steps_per_epoch:-null}" "$seed" "$batch" "$tol" \
  "$(IFS=,; echo "${kind_json[*]}")" "$(IFS=,; echo "${time_json[*]}")" "$(json_str "$time_data")" "$((SECONDS - start))"
((failed == 0))
