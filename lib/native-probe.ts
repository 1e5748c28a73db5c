// Loads a candidate addon in a child process first, as node-llama-cpp does: one that crashes as it
// loads or on its first call (built for another CPU or libc) kills the child, not the caller.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import type { BuildInfo } from '../binding';

// Run by the child: prints the addon's buildInfo() as JSON, or why it is not a usable onnxforge addon.
const PROBE = `
let addon;
try { addon = require(process.argv[1]); } catch (e) { process.stdout.write(String(e && e.message).split('\\n')[0]); process.exit(2); }
if (typeof addon.buildInfo !== 'function' || typeof addon.cpuInfo !== 'function') {
  process.stdout.write('it is not an onnxforge addon (it has no buildInfo and cpuInfo)');
  process.exit(2);
}
addon.cpuInfo();
process.stdout.write(JSON.stringify(addon.buildInfo()));
`;

export type ProbeResult = { ok: true; buildInfo: BuildInfo } | { ok: false; reason: string };

export function probeAddon(file: string): ProbeResult {
  if (!fs.existsSync(file)) return { ok: false, reason: 'no such file' };
  const child = spawnSync(process.execPath, ['-e', PROBE, file], {
    encoding: 'utf8',
    timeout: 60_000,
    // An Electron app's execPath runs as Node only when asked to.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (child.error) return { ok: false, reason: `could not start a process to test it (${child.error.message})` };
  if (child.signal) return { ok: false, reason: `loading it crashed a test process (${child.signal})` };
  if (child.status !== 0) return { ok: false, reason: child.stdout || `loading it failed in a test process (exit code ${child.status})` };
  try {
    return { ok: true, buildInfo: JSON.parse(child.stdout) as BuildInfo };
  } catch {
    return { ok: false, reason: `its buildInfo() is not JSON: ${child.stdout.slice(0, 200)}` };
  }
}
