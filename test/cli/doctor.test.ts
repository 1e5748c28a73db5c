// onnxforge doctor: one screen (or JSON) about the install, and still a report when the addon fails.
import * as fs from 'fs';
import * as path from 'path';
import type { DoctorReport } from '../../lib/doctor/doctor';
import { kernels } from '../../lib/kernels';
import { packageVersion } from '../../lib/package-info';
import { runCli } from '../helpers/cli';
import { ADDON, ROOT } from '../helpers/test-addon';

const ortVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;

describe('onnxforge doctor', () => {
  test('--json: the local build, its build info, the CPU paths, CUDA and onnxruntime-node', () => {
    const r = runCli(['doctor', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.addon).toMatchObject({ loaded: true, source: 'local build', file: ADDON, buildInfo: kernels.buildInfo() });
    expect(report.onnxforge.version).toBe(packageVersion());
    expect(report.cpu?.isa).toBe(kernels.cpuInfo().isa);
    expect(report.cuda).toEqual(kernels.cudaInfo());
    expect(report.onnxruntime.version).toBe(ortVersion);
    expect(report.onnxruntime.backends.map((b) => b.name)).toContain('cpu');
  });

  test('the screen names the addon and its source, how it was built, and each part', () => {
    const r = runCli(['doctor']);
    expect(r.status).toBe(0);
    const info = kernels.buildInfo();
    expect(r.stdout).toContain(`addon: ${ADDON} (local build)\n`);
    expect(r.stdout).toContain(`  CPU paths built: ${info.isaPaths.join(' ')}\n`);
    expect(r.stdout).toMatch(new RegExp(`^cpu: ${kernels.cpuInfo().isa} in use`, 'm'));
    expect(r.stdout).toMatch(kernels.cudaInfo().compiled ? /^cuda: (available|not available: )/m : /^cuda: not built into this addon$/m);
    expect(r.stdout).toMatch(new RegExp(`^onnxruntime-node ${ortVersion.replace(/\./g, '\\.')}: cpu`, 'm'));
  });

  test('an addon that does not load is reported, the rest still shown, and the exit code is 1', () => {
    const r = runCli(['doctor'], { ONNXFORGE_BINARY: '/nonexistent/onnxforge.node' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('addon: NOT LOADED: ONNXFORGE_BINARY=/nonexistent/onnxforge.node cannot be loaded: no such file\n');
    expect(r.stdout).toMatch(/^onnxruntime-node \d/m);
    expect(r.stdout).not.toMatch(/^cpu: /m);
  });
});
