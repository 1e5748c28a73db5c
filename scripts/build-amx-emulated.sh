#!/usr/bin/env bash
# Builds the addon with the AMX int8 kernels running on emulated tiles
# (ONNXFORGE_AMX_EMULATE) into build/amx-emulated/, so machines without AMX can
# test the AMX path's packing, tiling and epilogue: with ONNXFORGE_ISA=amx that
# build runs the AMX kernels whenever the CPU has AVX512-VNNI (isa_dispatch.cc). Tests pick
# up its test addon, build/amx-emulated/Release/onnxforge_test.node.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/amx-emulated  # cmake-js keeps a cached configuration otherwise
npx cmake-js compile --out build/amx-emulated --CDONNXFORGE_CUDA=OFF \
  "--CDCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG -DONNXFORGE_AMX_EMULATE=1" "$@"
