// createExampleServer: what `onnxforge serve` runs without a folder, for library users too.
import * as fs from 'fs';
import { createExampleServer, EXAMPLE_MODEL, EXAMPLE_REQUEST } from '../../lib/serve';
import { post } from './http';

test('serves the example model from a temporary repository that close() removes', async () => {
  const server = createExampleServer();
  expect(fs.readdirSync(server.repository)).toEqual([EXAMPLE_MODEL]);
  try {
    const url = await server.listen({ port: 0 });
    await server.ready();
    const reply = await post(`${url}/v2/models/${EXAMPLE_MODEL}/infer`, EXAMPLE_REQUEST);
    expect(reply.status).toBe(200);
    expect(reply.json.outputs[0]).toMatchObject({ name: 'output', shape: [1, 3] });
  } finally {
    await server.close();
  }
  expect(fs.existsSync(server.repository)).toBe(false);
});
