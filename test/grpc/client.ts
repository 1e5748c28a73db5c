// A KServe v2 gRPC client made the usual way: @grpc/proto-loader over the .proto file, grpc-js
// for the calls. It shares nothing with the server code but the .proto file.
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = path.resolve(__dirname, '../../lib/serve/grpc/proto/grpc_predict_v2.proto');

export interface InferenceClient {
  call<T = any>(method: string, request: object, options?: { token?: string; deadline?: Date }): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): void;
}

export function connect(address: string, channelOptions: grpc.ChannelOptions = {}): InferenceClient {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const { inference } = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure(), channelOptions);
  return {
    call(method, request, options = {}) {
      const metadata = new grpc.Metadata();
      if (options.token) metadata.set('authorization', `Bearer ${options.token}`);
      return new Promise((resolve, reject) => {
        client[method](request, metadata, { deadline: options.deadline }, (err: grpc.ServiceError | null, response: unknown) => (err ? reject(err) : resolve(response as never)));
      });
    },
    close: () => client.close(),
  };
}

/** The status code and details a call failed with. */
export async function failure(promise: Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await promise;
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded; a failure was expected');
}
