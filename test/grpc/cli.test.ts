// The serve command's gRPC options: a gRPC port that cannot be bound fails start-up with one line
// (and the HTTP side is closed again, so the process exits); --grpc-port with --cluster is refused.
import * as net from 'net';
import { runCli } from '../helpers/cli';
import { removeDir } from '../helpers/temp';
import { smallMlp, writeRepository } from '../runtime/fixtures';

test('a gRPC port already in use: exit 1 with one line naming the address', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const busy = (holder.address() as net.AddressInfo).port;
  const repo = writeRepository({ mlp: { versions: { 1: smallMlp() } } });
  try {
    const r = runCli(['serve', repo, '--port', '0', '--grpc-port', String(busy)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^onnxforge: cannot serve gRPC on 127\\.0\\.0\\.1:${busy}: `));
  } finally {
    holder.close();
    removeDir(repo);
  }
});

test('--grpc-port with --cluster is refused before anything starts', () => {
  const r = runCli(['serve', '--cluster', 'redis://127.0.0.1:1', '--grpc-port', '0']);
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n').pop()).toBe('onnxforge: --grpc-port is not available with --cluster yet');
});

test('--grpc-max-message-bytes takes a size', () => {
  const r = runCli(['serve', '--grpc-port', '0', '--grpc-max-message-bytes', 'lots']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('expected a size like 512MiB or 2GB, got "lots"');
});
