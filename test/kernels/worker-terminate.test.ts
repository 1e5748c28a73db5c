// worker.terminate() while a kernel runs in that worker ends the worker, never the process (issue 22).
import { spawnSync } from 'child_process';
import * as path from 'path';

test.each(['linearInt8', 'linearInt8Async', 'quantize'])('terminating workers inside %s leaves the process running', (call) => {
  const child = spawnSync(process.execPath, [path.join(__dirname, 'worker-terminate-child.js'), call], { encoding: 'utf8', timeout: 120000 });
  expect(child.signal).toBeNull();
  expect(child.stderr).not.toMatch(/terminate called|FATAL ERROR/);
  expect(child.status).toBe(0);
  expect(child.stdout.trim()).toBe('ended 8');
});
