#!/usr/bin/env bash
# @module bench/gpu — the GPU benchmark: lightning-ts on WebGPU (Node + Dawn + Vulkan) beside
# PyTorch CUDA fp32 (TF32 off), one table with ratios. See bench/gpu.mjs for what is measured.
#
# On an NVIDIA H100 device machine (no node there; about 3-5 minutes):
#   here:   bash bench/gpu-prepare.sh
#   device: run `bash bench/gpu.sh` with carry [".devcarry/node.xz", ".devcarry/rt", ".devcarry/deb"]
# Locally, on a CPU WebGPU adapter (SwiftShader), tiny sizes, to prove the pipeline end to end:
#   bash bench/gpu-prepare.sh && bash bench/gpu.sh --smoke
# Results go to $OUT (the device run's returned folder) or /tmp/lts-gpu-bench: ours.json,
# torch.json, table.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
C="$ROOT/.devcarry"
MODE=()
[ "${1:-}" = "--smoke" ] && MODE=(--smoke)
RESULTS="${OUT:-/tmp/lts-gpu-bench}"
mkdir -p "$RESULTS"
WORK=/tmp/lts-gpu-run
mkdir -p "$WORK"

for need in "$C/node.xz" "$C/rt/runtime/index.js" "$C/rt/node_modules/webgpu/dist/linux-x64/dawn.node.xz"; do
  [ -e "$need" ] || { echo "bench/gpu.sh: missing $need; expected what bench/gpu-prepare.sh writes (run it first)" >&2; exit 1; }
done

# The carried node, and Dawn unpacked beside its package (index.js loads dist/linux-x64/dawn.node).
xz -dc "$C/node.xz" > "$WORK/node"
chmod +x "$WORK/node"
NODE="$WORK/node"
RT="$WORK/rt"
rm -rf "$RT"
cp -r "$C/rt" "$RT"
xz -d "$RT/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
export LTS_RT="$RT"

# Vulkan: the loader from the carried .deb when the machine has none; the driver by manifest.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  DEB=$(ls "$C"/deb/libvulkan1_*.deb 2>/dev/null | head -1 || true)
  [ -n "$DEB" ] || { echo "bench/gpu.sh: no libvulkan.so.1 here and no carried .devcarry/deb/libvulkan1_*.deb" >&2; exit 1; }
  dpkg -x "$DEB" "$WORK/vk"
  export LD_LIBRARY_PATH="$WORK/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "bench/gpu.sh: Vulkan loader from $(basename "$DEB")"
fi
if [ ${#MODE[@]} -gt 0 ]; then
  # CPU WebGPU: Dawn refuses this machine's lavapipe (no dynamic uniform array indexing), so SwiftShader.
  for icd in /usr/lib/chromium/vk_swiftshader_icd.json "$ROOT"/node_modules/playwright-core/.local-browsers/*/chrome-linux/vk_swiftshader_icd.json; do
    if [ -f "$icd" ]; then export VK_ICD_FILENAMES="$icd"; break; fi
  done
else
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then export VK_DRIVER_FILES="$icd"; fi
  done
fi
echo "bench/gpu.sh: node $("$NODE" --version); VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader || true

rm -f "$RESULTS/ours.json" "$RESULTS/torch.json"
"$NODE" bench/gpu.mjs "${MODE[@]}" --out "$RESULTS/ours.json" 2>&1 | tee "$RESULTS/ours.log"

# The first python3 that imports torch (the device's plain python3 holds PyTorch).
PY=""
for p in "$(command -v python3 || true)" /usr/bin/python3; do
  if [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import torch' 2>/dev/null; then PY="$p"; break; fi
done
TORCH_FLAGS=()
[ ${#MODE[@]} -gt 0 ] && TORCH_FLAGS=(--cpu-check)
if [ -n "$PY" ]; then
  PYTHONUNBUFFERED=1 "$PY" bench/gpu_torch.py --config "$RESULTS/ours.json" --out "$RESULTS/torch.json" "${TORCH_FLAGS[@]}" 2>&1 | tee "$RESULTS/torch.log" \
    || echo "bench/gpu.sh: bench/gpu_torch.py failed (see torch.log); the table has no torch column"
else
  echo "bench/gpu.sh: no python3 with torch; the table has no torch column"
fi
"$NODE" bench/gpu.mjs --table "$RESULTS/ours.json" "$RESULTS/torch.json" | tee "$RESULTS/table.txt"
