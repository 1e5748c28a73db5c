#!/usr/bin/env bash
# Regenerates lib/onnx/gen/onnx_pb.ts from lib/onnx/proto/onnx.proto with protoc-gen-es (via buf).
# The generated file is committed so that installing the package never needs buf.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
buf generate --template lib/onnx/proto/buf.gen.yaml lib/onnx/proto
echo "generated lib/onnx/gen/onnx_pb.ts"
