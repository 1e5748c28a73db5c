// Loads the KServe v2 gRPC service definition from the .proto file that ships beside this code
// (npm run build:ts copies proto/ into dist/). Servers and clients use the same definition.
import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_FILE = path.join(__dirname, 'proto', 'grpc_predict_v2.proto');

/** int64 as decimal strings (no precision lost past 2^53), snake_case field names as in the .proto. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let cached: grpc.ServiceDefinition | undefined;

/** The GRPCInferenceService definition (method paths, serializers) for a grpc-js server or client. */
export function inferenceServiceDefinition(): grpc.ServiceDefinition {
  if (cached) return cached;
  if (!fs.existsSync(PROTO_FILE)) throw new Error(`the gRPC service definition ${PROTO_FILE} is missing (a build that did not copy lib/serve/grpc/proto)`);
  const definition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  cached = loaded.inference.GRPCInferenceService.service;
  return cached;
}

/** A client constructor for the service, e.g. `new (inferenceClient())('127.0.0.1:8001', grpc.credentials.createInsecure())`. */
export function inferenceClient(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(inferenceServiceDefinition(), 'GRPCInferenceService');
}
