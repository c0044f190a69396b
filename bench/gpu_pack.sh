#!/usr/bin/env bash
# gpu_pack.sh: packs everything the GPU machine lacks into one folder, so the GPU campaign
# (bench/gpu_campaign.sh) runs there unattended with nothing to install or compile:
#   bin/       sac, sac_tests, sac_bench_kernels from BUILD_DIR (built with CUDA for sm_90)
#   debs/      the Debian packages of their runtime libraries (OpenBLAS, protobuf, ...) and of the
#              headers a fallback build needs (unpacked there into a private prefix)
#   mujoco/    MuJoCo 4.0.1's library and headers (from PyPI's mujoco-core, as the build used it)
#   models/ configs/    the task models and configs
#   bench/ tests/       the PyTorch reference, the report tool, the safetensors checker
#   campaign.sh         the campaign script
#   manifest.json       commit, build settings, toolkit, sizes
# Fails when a runtime library of the binaries is in no packed package, or the folder exceeds
# 60 MiB (the GPU machine takes the working tree plus carried paths up to 64 MiB).
#
# Usage: bench/gpu_pack.sh BUILD_DIR PACK_DIR      (./sac.sh gpu-pack builds and calls this)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench/gpu_pack.sh BUILD_DIR PACK_DIR" >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
pack=$2
for b in sac sac_tests sac_bench_kernels; do
  [ -x "$build/$b" ] || { echo "gpu_pack.sh: no $build/$b (a CUDA build is needed)" >&2; exit 2; }
done

# runtime libraries: glibc's and the CUDA toolkit's are the GPU machine's own
DEBS=(liblodepng0 libopenblas0 libopenblas0-pthread libgfortran5 libquadmath0
      libprotobuf-lite32  # TensorBoard's messages
      # headers and link files of a fallback build there
      nlohmann-json3-dev libgtest-dev
      googletest libopenblas-dev libopenblas-pthread-dev
      libprotobuf-dev libprotobuf32 protobuf-compiler libprotoc32)
SYSTEM_LIBS='^(linux-vdso|libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s|libcublas|libcublasLt|libcurand|libcudart)\.'
MAX_MIB=60

mujoco=$(sed -n 's/^SAC_MUJOCO_DIR:[A-Z]*=//p' "$build/CMakeCache.txt")
[ -f "$mujoco/include/mujoco/mujoco.h" ] ||
  { echo "gpu_pack.sh: no MuJoCo under '$mujoco' (SAC_MUJOCO_DIR of $build)" >&2; exit 2; }

rm -rf "$pack"
mkdir -p "$pack"/{bin,debs,models,configs,bench,tests}
cp -r "$mujoco" "$pack/mujoco"
cp "$build"/sac "$build"/sac_tests "$build"/sac_bench_kernels "$pack/bin/"
cp "$repo"/envs/models/* "$pack/models/"
cp "$repo"/configs/*.json "$pack/configs/"
cp "$repo"/bench/torch_sac.py "$repo"/bench/campaign_report.py "$pack/bench/"
cp "$repo"/tests/check_safetensors.py "$pack/tests/"
cp "$repo"/bench/gpu_campaign.sh "$pack/campaign.sh"
chmod +x "$pack/campaign.sh"

[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ] || apt-get update -qq
(cd "$pack/debs" && apt-get download -qq "${DEBS[@]}" 2>&1 | grep -v unsandboxed >&2 || true)
for p in "${DEBS[@]}"; do
  ls "$pack/debs/${p}_"*.deb >/dev/null 2>&1 ||
    { echo "gpu_pack.sh: could not download the Debian package $p" >&2; exit 1; }
done

# every library the binaries load, apart from the system's, must come from a packed package
listing=$(for d in "$pack"/debs/*.deb; do dpkg-deb -c "$d"; done |
          awk '{ print ($(NF-1) == "->") ? $(NF-2) : $NF }' | xargs -n1 basename)
missing=()
for lib in $(ldd "$pack"/bin/* | awk '/=>/ {print $1}' | sort -u); do
  [[ $lib =~ $SYSTEM_LIBS ]] && continue
  [ -e "$pack/mujoco/$lib" ] && continue
  grep -qxF "$lib" <<<"$listing" || missing+=("$lib")
done
[ ${#missing[@]} -eq 0 ] ||
  { echo "gpu_pack.sh: libraries in no packed package: ${missing[*]} (add them to DEBS)" >&2; exit 1; }

cuda_arch=$(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=//p' "$build/CMakeCache.txt")
nvcc_path=$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
mib=$(du -sm "$pack" | cut -f1)
cat > "$pack/manifest.json" <<JSON
{"commit": "$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)",
 "dirty": $( [ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ] && echo true || echo false),
 "packed_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "build_type": "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")",
 "cuda_architectures": "$cuda_arch",
 "nvcc": "$("${nvcc_path:-nvcc}" --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')",
 "packed_on": "$(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(ldd --version | head -1 | awk '{print $NF}')",
 "debs": $(ls "$pack/debs" | wc -l), "size_mib": $mib}
JSON
[ "$cuda_arch" = 90 ] || echo "gpu_pack.sh: warning: CUDA architectures '$cuda_arch', not 90 (the H200's sm_90)" >&2
if [ "$mib" -gt $MAX_MIB ]; then
  echo "gpu_pack.sh: $pack is $mib MiB, over the $MAX_MIB MiB limit" >&2
  exit 1
fi
echo "gpu_pack.sh: $pack ($mib MiB, $(ls "$pack/debs" | wc -l) packages)"
