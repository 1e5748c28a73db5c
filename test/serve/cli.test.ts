// onnxforge serve, run in-process: the built-in example model answers, SIGINT shuts it down.
import { main } from '../../lib/cli/main';
import { parseByteSize } from '../../lib/cli/commands/serve';
import { post } from './http';
import * as fs from 'fs';
import * as path from 'path';
import { buildMlp, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';

describe('onnxforge serve', () => {
  test('parses memory sizes', () => {
    expect(parseByteSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('2GB')).toBe(2e9);
    expect(parseByteSize('1.5kib')).toBe(1536);
    expect(parseByteSize('1000')).toBe(1000);
    expect(() => parseByteSize('lots')).toThrow(/expected a size like 512MiB/);
  });

  test('without a repository it serves the example model until SIGINT', async () => {
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const run = main(['node', 'onnxforge', 'serve', '--port', '0', '--json']);
      while (!written.join('').includes('"url"')) await new Promise((r) => setTimeout(r, 20));
      const ready = JSON.parse(written.join('')) as { url: string; models: { name: string; state: string }[] };
      expect(ready.models).toEqual([{ name: 'example', version: '1', state: 'READY' }]);
      const reply = await post(`${ready.url}/v2/models/example/infer`, {
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [0.1, 0.2, 0.3, 0.4] }],
      });
      expect(reply.status).toBe(200);
      expect(reply.json.outputs[0].shape).toEqual([1, 3]);
      process.emit('SIGINT');
      await run;
      expect(process.exitCode ?? 0).toBe(0);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });

  test('a repository that is not a folder is a one-line failure', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await main(['node', 'onnxforge', 'serve', '/nonexistent/repo']);
      expect(stderr).toHaveBeenCalledWith('onnxforge: model repository /nonexistent/repo is not a directory\n');
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = 0;
      stderr.mockRestore();
    }
  });

  test('a folder of loose .onnx files fails at startup, saying where each file belongs', () => {
    const repo = makeTempDir();
    try {
      saveModel(buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 }), path.join(repo, 'resnet.onnx'));
      fs.copyFileSync(path.join(repo, 'resnet.onnx'), path.join(repo, 'bert.onnx'));
      const r = runCli(['serve', repo, '--port', '0']);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`model repository ${repo} holds loose .onnx files; each model needs its own folder, <repo>/<model>/<version>/model.onnx`);
      expect(lines[0]).toContain(`${path.join(repo, 'bert.onnx')} should be ${path.join(repo, 'bert', '1', 'model.onnx')}`);
      expect(lines[0]).toContain(`${path.join(repo, 'resnet.onnx')} should be ${path.join(repo, 'resnet', '1', 'model.onnx')}`);
    } finally {
      removeDir(repo);
    }
  });
});
