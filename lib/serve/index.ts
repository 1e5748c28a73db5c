// The KServe v2 model server.
export { createServer, type ServerOptions, type ListenOptions, type ModelServer } from './server';
export { writeExampleRepository, createExampleServer, EXAMPLE_MODEL, EXAMPLE_REQUEST } from './example';
export { serveGrpc, type GrpcOptions, type GrpcServer } from './grpc/server';
export { inferenceClient, PROTO_FILE as GRPC_PROTO_FILE } from './grpc/proto';
