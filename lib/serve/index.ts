// The KServe v2 model server.
export { createServer, type ServerOptions, type ListenOptions, type ModelServer } from './server';
export { writeExampleRepository, createExampleServer, EXAMPLE_MODEL, EXAMPLE_REQUEST } from './example';
