#!/usr/bin/env bash
# check-cuda.sh - check the CUDA build of hourglass as far as it can be checked
# on a machine WITHOUT a GPU.
#
# What it does, in order:
#   1. finds nvcc, or installs Debian bookworm's CUDA 11.8 toolkit
#      (nvidia-cuda-toolkit, non-free) through a PRIVATE apt configuration
#      under $HOURGLASS_APT_DIR: the machine's own sources and package lists
#      are neither read for this nor modified (needs root, ~1.6 GB download);
#   2. generates gorgonia's kernels as PTX for compute_80 with
#      scripts/gen-cuda-kernels.sh, checks the .version/.target lines and
#      assembles every PTX file with ptxas for sm_80, sm_86 and sm_90 (what the
#      driver's JIT does on A100 / RTX 30xx / H100); compares the result with the
#      committed device/cudakernels_cuda.go;
#   3. checks go.mod requires gorgonia.org/cu >= v0.9.6;
#   4. compiles (cgo, no GPU needed) gorgonia.org/cu and gorgonia.org/cu/blas
#      with -tags cuda against the CUDA headers; then, against cuDNN 8 (a real
#      one from CUDNN_DIR or the system, otherwise hourglass's compile- and
#      link-time stand-in in third_party/cudnn-stub, built here into a
#      temporary directory), gorgonia.org/cu/dnn, gorgonia.org/gorgonia,
#      `go vet -tags cuda ./...` and `go build -tags cuda` of every command
#      in ./cmd/... (compiled and linked; the stub is never run or shipped);
#   5. vets and tests ./device/ and ./graph/ in the default (CPU) build (SKIP_CPU=1 skips
#      it, for callers such as .ci/run that run `go test ./...` anyway).
# Nothing here executes a kernel: that needs a GPU (see docs/gpu.md).
#
# Exit status: 0 when every step that could run passed, 1 when a step that
# should work failed. Steps that cannot run here are listed with the reason.
#
# Environment:
#   HOURGLASS_APT_DIR  private apt state (default /var/tmp/hourglass-apt)
#   NO_INSTALL=1       never install anything; missing tools -> NOT RUN
#   CUDNN_DIR          cuDNN 8 install prefix (include/cudnn.h, lib/libcudnn.so)
#   CUDNN_STUB=1       use third_party/cudnn-stub even when a real cudnn.h is found
#   OUT_DIR            keep the -tags cuda binaries of step 4 there (default: discarded)
#   GO_LDFLAGS         -ldflags for those binaries (scripts/gpu-smoke.sh --bundle: "-s -w")
#   SKIP_CPU=1         skip step 5
#   CUDA_ARCH          compute capability for step 2 (default 80)
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 1
arch="${CUDA_ARCH:-80}"
apt_dir="${HOURGLASS_APT_DIR:-/var/tmp/hourglass-apt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

summary=()
failed=0
pass() { summary+=("PASS     $1"); echo "==> PASS: $1"; }
fail() { summary+=("FAIL     $1"); echo "==> FAIL: $1"; failed=1; }
notrun() { summary+=("NOT RUN  $1"); echo "==> NOT RUN: $1"; }
step() { echo; echo "=== $*"; }
# run LOGNAME CMD... : runs CMD, keeps its output in $work/LOGNAME.log and
# shows the last lines when it fails.
run() {
  local log="$work/$1.log"; shift
  echo "+ $*"
  "$@" >"$log" 2>&1 && return 0
  local rc=$?
  tail -n 25 "$log" | sed 's/^/    /'
  return "$rc"
}

# ---------------------------------------------------------------- 1. toolkit
step "1. CUDA toolkit (nvcc, ptxas, headers)"
find_nvcc() {
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then echo /usr/local/cuda/bin/nvcc
  else return 1
  fi
}

apt_private_install() {
  # A complete private source list (main for dependencies, non-free for
  # CUDA) in deb822 format, with private package lists and caches, so that
  # /etc/apt/sources.list{,.d} and /var/lib/apt/lists stay as they are.
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r "$keyring" ]] || { echo "missing $keyring"; return 1; }
  mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  cat >"$apt_dir/hourglass.sources" <<EOS
# Written by hourglass scripts/check-cuda.sh; used only through -o Dir::Etc::sourcelist.
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main contrib non-free non-free-firmware
Signed-By: $keyring

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib non-free non-free-firmware
Signed-By: $keyring
EOS
  local opts=(
    -o "Dir::Etc::sourcelist=$apt_dir/hourglass.sources"
    -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Get::List-Cleanup=0"
  )
  run apt-update apt-get "${opts[@]}" update || return 1
  # Recommends would pull in the NVIDIA driver and kernel modules.
  DEBIAN_FRONTEND=noninteractive run apt-install apt-get "${opts[@]}" install -y \
    --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev || return 1
  tail -n 3 "$work/apt-install.log" | sed 's/^/    /'
}

have_toolkit=0
if nvcc="$(find_nvcc)"; then
  pass "nvcc found: $nvcc ($("$nvcc" --version | tail -n 2 | head -n 1))"
  have_toolkit=1
elif [[ "${NO_INSTALL:-0}" == 1 ]]; then
  notrun "CUDA toolkit: nvcc not found and NO_INSTALL=1"
elif [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  notrun "CUDA toolkit: nvcc not found; installing it needs root and apt-get (Debian bookworm): run as root, or install CUDA 11.8 yourself"
elif ! grep -q 'bookworm' /etc/os-release 2>/dev/null; then
  notrun "CUDA toolkit: nvcc not found; automatic install is written for Debian bookworm only (see /etc/os-release)"
else
  echo "installing Debian's CUDA 11.8 toolkit (nvidia-cuda-toolkit, ~1.6 GB) with private apt state in $apt_dir"
  if apt_private_install && nvcc="$(find_nvcc)"; then
    pass "installed nvidia-cuda-toolkit from Debian bookworm non-free: $nvcc ($("$nvcc" --version | tail -n 2 | head -n 1))"
    have_toolkit=1
  else
    fail "installing nvidia-cuda-toolkit through the private apt list (logs above)"
  fi
fi

# CUDA headers and libraries for cgo. Debian puts them in /usr/include and
# /usr/lib/x86_64-linux-gnu (already on the default paths); NVIDIA's images in
# /usr/local/cuda.
cuda_inc=""
for d in /usr/local/cuda/include /usr/include; do
  [[ -f "$d/cuda.h" ]] && { cuda_inc="$d"; break; }
done
cudnn_inc=""
for d in ${CUDNN_DIR:+"$CUDNN_DIR/include"} /usr/include /usr/local/cuda/include /usr/include/x86_64-linux-gnu; do
  [[ -f "$d/cudnn.h" ]] && { cudnn_inc="$d"; break; }
done
cgo_cflags="${CGO_CFLAGS:-}"
cgo_ldflags="${CGO_LDFLAGS:-}"
[[ -n "$cuda_inc" ]] && cgo_cflags+=" -I$cuda_inc"
if [[ -n "${CUDNN_DIR:-}" ]]; then
  cgo_cflags+=" -I$CUDNN_DIR/include"
  cgo_ldflags+=" -L$CUDNN_DIR/lib -L$CUDNN_DIR/lib64"
fi
# libcuda.so belongs to the driver; toolkits ship a link-time stub.
for d in /usr/local/cuda/lib64/stubs /usr/lib/x86_64-linux-gnu/stubs /usr/lib/x86_64-linux-gnu/nvidia/current; do
  [[ -e "$d/libcuda.so" ]] && { cgo_ldflags+=" -L$d"; break; }
done
export CGO_ENABLED=1 CGO_CFLAGS="$cgo_cflags" CGO_LDFLAGS="$cgo_ldflags"
echo "cuda.h: ${cuda_inc:-not found}; cudnn.h: ${cudnn_inc:-not found}"
echo "CGO_CFLAGS=$CGO_CFLAGS"
echo "CGO_LDFLAGS=$CGO_LDFLAGS"

# ---------------------------------------------------------------- 2. kernels
step "2. gorgonia kernels -> PTX for compute_$arch"
if ((have_toolkit)); then
  ptxdir="$work/ptx"
  gen="$work/cudakernels_cuda.go"
  mkdir -p "$work/device"
  gen="$work/device/cudakernels_cuda.go"
  if NVCC="$nvcc" KEEP_PTX_DIR="$ptxdir" run gen scripts/gen-cuda-kernels.sh "$arch" "$gen"; then
    cat "$work/gen.log"
    pass "scripts/gen-cuda-kernels.sh $arch ($(ls "$ptxdir" | wc -l) PTX modules, $(wc -c <"$gen") bytes of Go)"
    ptxas="$(dirname "$nvcc")/ptxas"
    [[ -x "$ptxas" ]] || ptxas="$(command -v ptxas || true)"
    for ptx in "$ptxdir"/*.ptx; do
      name="$(basename "$ptx")"
      version="$(grep -m1 '^\.version' "$ptx" | tr -s ' \t' ' ')"
      target="$(grep -m1 '^\.target' "$ptx" | tr -s ' \t' ' ')"
      nfunc="$(grep -c '^\.visible \.entry' "$ptx")"
      if [[ "$target" == ".target sm_$arch" && -n "$version" && "$nfunc" -gt 0 ]]; then
        pass "$name: $version, $target, $nfunc entry points"
      else
        fail "$name: unexpected header ('$version' / '$target' / $nfunc entry points)"
      fi
      if [[ -z "$ptxas" ]]; then
        notrun "ptxas on $name: ptxas not found next to nvcc or on PATH"
        continue
      fi
      for sm in "$arch" 86 90; do
        ((sm >= arch)) || continue
        if run "ptxas-$name-$sm" "$ptxas" -arch="sm_$sm" -o "$work/$name.$sm.cubin" "$ptx"; then
          pass "ptxas -arch=sm_$sm $name ($(wc -c <"$work/$name.$sm.cubin") bytes of SASS)"
        else
          fail "ptxas -arch=sm_$sm $name"
        fi
      done
    done
    # The generated file must be valid Go of the right package.
    if gofmt -l "$gen" | grep -q .; then fail "generated Go file is not gofmt-clean"; fi
    committed=device/cudakernels_cuda.go
    if [[ ! -f "$committed" ]]; then
      notrun "compare with $committed: file not present (the Docker build generates it)"
    elif cmp -s "$gen" "$committed"; then
      pass "$committed is identical to a fresh generation for compute_$arch"
    elif ! grep -q "compute_$arch\." "$committed"; then
      notrun "compare with $committed: it was generated for another architecture ($(sed -n 2p "$committed"))"
    elif [[ "$(sed -n 2p "$committed")" != "$(sed -n 2p "$gen")" ]]; then
      notrun "compare with $committed: generated by another nvcc/gorgonia ($(sed -n 2p "$committed" | sed 's|^// ||'))"
    else
      diff "$committed" "$gen" | head -n 20 | sed 's/^/    /'
      fail "$committed differs from a fresh generation: rerun scripts/gen-cuda-kernels.sh $arch"
    fi
  else
    fail "scripts/gen-cuda-kernels.sh $arch"
  fi
else
  notrun "PTX generation and ptxas checks: no nvcc (step 1)"
fi

# ---------------------------------------------------------------- 3. go.mod
step "3. go.mod pins"
cu_version="$(go list -m -f '{{.Version}}' gorgonia.org/cu 2>/dev/null || true)"
gorgonia_version="$(go list -m -f '{{.Version}}' gorgonia.org/gorgonia 2>/dev/null || true)"
echo "gorgonia.org/gorgonia $gorgonia_version, gorgonia.org/cu $cu_version"
# v0.9.4 (gorgonia's own pin) does not build against CUDA 12 headers and
# passes blockDimY twice to cuLaunchKernel.
if [[ -z "$cu_version" ]]; then
  fail "gorgonia.org/cu is not in the module graph (go list -m gorgonia.org/cu)"
elif [[ "$(printf '%s\n%s\n' v0.9.6 "$cu_version" | sort -V | head -n1)" == v0.9.6 ]]; then
  pass "gorgonia.org/cu $cu_version >= v0.9.6"
else
  fail "gorgonia.org/cu is $cu_version; the CUDA build needs >= v0.9.6: go get gorgonia.org/cu@v0.9.6"
fi

# ---------------------------------------------------------------- 4. cgo
step "4. -tags cuda compilation (cgo against CUDA headers, no GPU needed)"
if [[ -z "$cuda_inc" ]]; then
  notrun "cgo compile of gorgonia.org/cu: cuda.h not found (step 1)"
else
  for pkg in gorgonia.org/cu gorgonia.org/cu/blas; do
    if run "build-${pkg//\//_}" go build -tags cuda "$pkg"; then
      pass "go build -tags cuda $pkg (compile only; linking needs the driver's libcuda)"
    else
      fail "go build -tags cuda $pkg"
    fi
  done
  # cuDNN: the real one when found, else the stand-in (compile and link only).
  stub_dir="$repo_root/third_party/cudnn-stub"
  cudnn_kind="real cuDNN in $cudnn_inc"
  if [[ -z "$cudnn_inc" || "${CUDNN_STUB:-0}" == 1 ]]; then
    cudnn_kind="hourglass's cuDNN 8 stand-in (third_party/cudnn-stub: headers + link-only stub, never run)"
    mkdir -p "$work/cudnn-stub/lib"
    # Soname libcudnn.so.8, as NVIDIA's: binaries linked here need the real
    # cuDNN 8 at run time and never load the stub.
    if run stub-build "${CC:-cc}" -Wall -Wextra -Werror -shared -fPIC -Wl,-soname,libcudnn.so.8 \
        -o "$work/cudnn-stub/lib/libcudnn.so" "$stub_dir/stub.c"; then
      declared="$(grep -oE '^cudnnStatus_t cudnn[A-Za-z0-9_]+\(' "$stub_dir/include/cudnn.h" | sed 's/^cudnnStatus_t //; s/($//' | sort)"
      defined="$(nm -D --defined-only "$work/cudnn-stub/lib/libcudnn.so" | awk '{print $3}' | grep '^cudnn' | sort)"
      if [[ "$declared" == "$defined" ]]; then
        pass "cuDNN stand-in: libcudnn.so (soname libcudnn.so.8) defines all $(wc -l <<<"$declared") functions declared in third_party/cudnn-stub/include/cudnn.h"
      else
        diff <(echo "$declared") <(echo "$defined") | head -n 20 | sed 's/^/    /'
        fail "cuDNN stand-in: functions declared in include/cudnn.h and defined in stub.c differ (lines above: < declared only, > defined only)"
      fi
      cudnn_inc="$stub_dir/include"
      export CGO_CFLAGS="-I$cudnn_inc $CGO_CFLAGS" CGO_LDFLAGS="-L$work/cudnn-stub/lib $CGO_LDFLAGS"
    else
      fail "cc -shared third_party/cudnn-stub/stub.c"
      cudnn_inc=""
    fi
  elif grep -q 'CUDNN_MAJOR 9' "$cudnn_inc"/cudnn_version.h 2>/dev/null; then
    fail "cuDNN in $cudnn_inc is version 9; gorgonia.org/cu/dnn needs cuDNN 8"
  fi
  echo "cuDNN: $cudnn_kind"
  if [[ -z "$cudnn_inc" ]]; then
    notrun "go build -tags cuda gorgonia.org/cu/dnn, gorgonia.org/gorgonia, go vet -tags cuda ./..., go build -tags cuda ./cmd/...: no cudnn.h (see the failure above)"
  else
    for pkg in gorgonia.org/cu/dnn gorgonia.org/gorgonia; do
      if run "build-${pkg//\//_}" go build -tags cuda "$pkg"; then
        pass "go build -tags cuda $pkg"
      else
        fail "go build -tags cuda $pkg"
      fi
    done
    if [[ ! -f device/cudakernels_cuda.go ]]; then
      notrun "go vet -tags cuda ./...: device/cudakernels_cuda.go missing (run scripts/gen-cuda-kernels.sh $arch)"
    elif run vet-cuda go vet -tags cuda ./...; then
      pass "go vet -tags cuda ./... ($(go list -tags cuda ./... | wc -l) packages)"
    else
      fail "go vet -tags cuda ./..."
    fi
    mapfile -t cmds < <(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cmd/... 2>/dev/null | grep .)
    if ((${#cmds[@]} == 0)); then
      notrun "go build -tags cuda ./cmd/...: no commands found"
    fi
    mkdir -p "$work/bin"
    for c in "${cmds[@]}"; do
      name="${c##*/}"
      if run "build-cmd-$name" go build -tags cuda -trimpath ${GO_LDFLAGS:+-ldflags="$GO_LDFLAGS"} -o "$work/bin/$name" "$c"; then
        needed="$(readelf -d "$work/bin/$name" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -E 'cud|cublas' | tr '\n' ' ')"
        pass "go build -tags cuda $c (compiled and linked, $(($(stat -c %s "$work/bin/$name") / 1048576)) MiB; needs at run time: ${needed:-?}; running needs a GPU)"
      else
        fail "go build -tags cuda $c"
      fi
    done
    if [[ -n "${OUT_DIR:-}" ]] && compgen -G "$work/bin/*" >/dev/null; then
      mkdir -p "$OUT_DIR" && cp "$work/bin/"* "$OUT_DIR/" && echo "cuda binaries kept in $OUT_DIR"
    fi
  fi
fi

# ---------------------------------------------------------------- 5. CPU build
step "5. default (CPU) build of ./device/ and ./graph/"
if [[ "${SKIP_CPU:-0}" == 1 ]]; then
  notrun "go vet, go test ./device/ ./graph/: SKIP_CPU=1 (the caller runs the CPU tests)"
else
  if run vet-graph go vet ./device/ ./graph/; then pass "go vet ./device/ ./graph/"; else fail "go vet ./device/ ./graph/"; fi
  if run test-graph go test ./device/ ./graph/; then pass "go test ./device/ ./graph/"; else fail "go test ./device/ ./graph/"; fi
fi

# ---------------------------------------------------------------- summary
echo
echo "=== summary (nothing was executed on a GPU: none is needed for, or used by, these checks)"
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "check-cuda: FAILED"
  exit 1
fi
echo "check-cuda: all steps that could run passed"
