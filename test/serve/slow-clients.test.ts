// Slow and idle clients cannot hold the server (issue 22: slowloris held sockets forever): headers that
// trickle in past headersTimeoutMs get 408 and a closed socket; connections past maxConnections are
// closed at once; the server answers the next request either way. Real sockets on 127.0.0.1; the tests
// wait for the server's own events (a close), never for a time.
import * as net from 'net';
import { createServer, ModelServer } from '../../lib/serve/server';
import { writeRepository, smallMlp } from '../runtime/fixtures';
import { request } from './http';

function connect(url: string): Promise<net.Socket> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the socket. */
function untilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
    socket.on('error', () => {});
    socket.once('close', () => resolve(received));
  });
}

async function serving(options: Parameters<typeof createServer>[0]): Promise<{ server: ModelServer; url: string }> {
  const server = createServer(options);
  const url = await server.listen({ port: 0 });
  await server.ready();
  return { server, url };
}

const repository = () => writeRepository({ mlp: { versions: { 1: smallMlp() } } });

test('headers trickled in past headersTimeoutMs: 408 and the socket closed; the next request is answered', async () => {
  const { server, url } = await serving({ repository: repository(), headersTimeoutMs: 200, requestTimeoutMs: 400 });
  try {
    const slow = await connect(url);
    const closed = untilClosed(slow);
    slow.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');  // and never the blank line
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200 });
  } finally {
    await server.close();
  }
});

test('connections past maxConnections are closed at once; the ones held are served', async () => {
  const { server, url } = await serving({ repository: repository(), maxConnections: 2 });
  try {
    const held = [await connect(url), await connect(url)];
    const third = await connect(url);
    expect(await untilClosed(third)).toBe('');
    // A held connection still gets its answer.
    const answer = new Promise<string>((resolve) => held[0].once('data', (chunk) => resolve(chunk.toString('latin1'))));
    held[0].write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
    for (const socket of held) socket.destroy();
  } finally {
    await server.close();
  }
});
