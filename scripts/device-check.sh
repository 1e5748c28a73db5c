#!/usr/bin/env bash
# The GPU check of the CUDA kernels, for a machine with an NVIDIA GPU that may have no
# Node.js and reaches no package registry. Three steps:
#
#   scripts/device-check.sh pack    here: writes .device-carry/ (ignored by git): node_modules
#                                   without what the check does not need and, unless --no-node,
#                                   this machine's node binary, xz-compressed (about 52 MB)
#   scripts/device-check.sh run     there, with .device-carry carried: probes the machine (node?
#                                   cmake? nvcc? g++? driver?), builds the addon with CUDA
#                                   (ONNXFORGE_CUDA=ON), runs the GPU tests and the GPU benchmark,
#                                   and writes JSON to $OUT (or ./device-out)
#   scripts/device-check.sh probe   there: only the probe (seconds)
#
# `run` takes about 6 minutes on 16 cores (give the call timeout_s=600) and never stops at
# the first failure. $OUT gets summary.json (the probe and each step's status, time and
# output tail, rewritten after every step), logs.txt, jest.json, cuda.json and cuda.md.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARRY=.device-carry
MODE=${1:-run}
OUT=${OUT:-$ROOT/device-out}

json_escape() { python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))' 2>/dev/null || printf '"%s"' "$(cat | tr -d '"\\' | tr '\n' ' ')"; }

probe() {
  local node_version cmake_version nvcc_version gxx_version gpu driver
  node_version=$( (command -v node >/dev/null && node --version) 2>/dev/null || echo none)
  cmake_version=$( (cmake --version | head -1 | awk '{print $3}') 2>/dev/null || echo none)
  nvcc_version=$( (nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') 2>/dev/null)
  [ -z "$nvcc_version" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc_version="$(/usr/local/cuda/bin/nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') (/usr/local/cuda/bin)"
  gxx_version=$( (g++ -dumpfullversion) 2>/dev/null || echo none)
  gpu=$( (nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv,noheader | head -1) 2>/dev/null || echo none)
  driver=$( (nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1) 2>/dev/null || echo none)
  cat <<EOF
{
  "node": "$node_version", "cmake": "$cmake_version", "nvcc": "${nvcc_version:-none}", "g++": "$gxx_version",
  "ninja": "$( (ninja --version) 2>/dev/null || echo none)", "xz": "$(command -v xz >/dev/null && echo yes || echo no)",
  "gpu": "$gpu", "driver": "$driver", "cpus": $(nproc), "carried": "$( [ -d "$CARRY" ] && ls "$CARRY" | tr '\n' ' ')"
}
EOF
}

pack() {
  mkdir -p "$CARRY"
  grep -qx "/$CARRY/" .git/info/exclude 2>/dev/null || echo "/$CARRY/" >>.git/info/exclude
  echo "device-check: packing node_modules into $CARRY/node_modules.tar.xz" >&2
  tar -cf - \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
    --exclude='node_modules/@bufbuild/buf*' --exclude='node_modules/@bufbuild/protoc-gen-es' \
    --exclude='node_modules/@bufbuild/protoplugin' \
    --exclude='node_modules/@gutenye' --exclude='node_modules/@ricky0123' \
    node_modules | xz -6 -T0 >"$CARRY/node_modules.tar.xz"
  if [ "${2:-}" != "--no-node" ]; then
    echo "device-check: packing $(command -v node) ($(node --version)) into $CARRY/node.xz" >&2
    xz -6 -T0 -c "$(command -v node)" >"$CARRY/node.xz"
  fi
  du -ch "$CARRY"/* >&2
}

LOGS=/tmp/device-check-logs
STEPS=()
summary() {
  local IFS=,
  echo "{\"probe\": $(cat "$LOGS/probe.json"), \"steps\": [${STEPS[*]}]}" >"$OUT/summary.json"
  : >"$OUT/logs.txt"
  for log in "$LOGS"/*.log; do
    [ -f "$log" ] && { echo "===== $(basename "$log")"; tail -c 20000 "$log"; } >>"$OUT/logs.txt"
  done
}

# Runs a step with a time limit; its output goes to $LOGS/<name>.log, its status to the summary.
step() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS status
  echo "device-check: $name" >&2
  timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1
  status=$?
  STEPS+=("{\"step\": \"$name\", \"status\": $status, \"seconds\": $((SECONDS - start)), \"tail\": $(tail -c 1500 "$LOGS/$name.log" | json_escape)}")
  tail -5 "$LOGS/$name.log" >&2
  summary
  return $status
}

run() {
  mkdir -p "$OUT" "$LOGS"
  probe | tee "$LOGS/probe.json" >&2
  # Node: the machine's own when it is 20 or newer, else the carried binary.
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
    if [ -f "$CARRY/node.xz" ]; then
      mkdir -p /tmp/device-node/bin
      xz -dc "$CARRY/node.xz" >/tmp/device-node/bin/node && chmod +x /tmp/device-node/bin/node
      export PATH=/tmp/device-node/bin:$PATH
    else
      echo "device-check: no Node.js 20+ here and none carried (run 'scripts/device-check.sh pack' and carry $CARRY)" >&2
    fi
  fi
  if [ ! -d node_modules ] && [ -f "$CARRY/node_modules.tar.xz" ]; then
    tar -xJf "$CARRY/node_modules.tar.xz"
  fi
  command -v nvcc >/dev/null || export PATH=$PATH:/usr/local/cuda/bin
  export CUDACXX=${CUDACXX:-$(command -v nvcc)}
  # The npm-free path: cmake-js from node_modules, run by the node found above.
  CMAKE_JS="node node_modules/cmake-js/bin/cmake-js"
  step build 300 $CMAKE_JS compile --out build --CDONNXFORGE_CUDA=ON
  local built=$?
  step addon 60 node -e "
    const a = require('./build/Release/onnxforge.node');
    console.log(JSON.stringify({ info: a.cudaInfo(), devices: a.cudaDevices(), cpu: a.cpuInfo().isa }, null, 1));
    if (!a.cudaAvailable()) process.exit(3);"
  if [ $built -eq 0 ]; then
    step tests 240 node node_modules/jest/bin/jest.js --ci --json --outputFile="$OUT/jest.json" \
      test/kernels/cuda test/kernels/int8-api test/kernels/sparse-api test/engine
    step tsc 150 node node_modules/typescript/bin/tsc -p tsconfig.json
    step bench 240 node dist/bench/main.js cuda --quick --out="$OUT"
  fi
  summary
  echo "device-check: wrote $(ls "$OUT" | tr '\n' ' ')to $OUT" >&2
}

case "$MODE" in
  probe) probe ;;
  pack) pack "$@" ;;
  run) run ;;
  *) echo "usage: scripts/device-check.sh [pack [--no-node] | run | probe]" >&2; exit 2 ;;
esac
