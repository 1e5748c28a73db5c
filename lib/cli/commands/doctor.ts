// onnxforge doctor: one screen about this install to paste into a bug report; exits 1 when the
// native addon does not load.
import { Command } from 'commander';
import { doctorReport, type DoctorReport } from '../../doctor/doctor';
import { printJson } from '../output';

function addonLines(r: DoctorReport): string[] {
  if (!r.addon.loaded) return [`addon: NOT LOADED: ${r.addon.error}`];
  const b = r.addon.buildInfo;
  return [
    `addon: ${r.addon.file} (${r.addon.source})`,
    `  built: onnxforge ${b.version}, ${b.target}, ${b.compiler}, ${b.buildType}, Node-API ${b.napiVersion}, ` +
      `glibc floor ${b.glibcFloor ?? 'none'}, CUDA ${b.cuda ? `nvcc ${b.cuda}` : 'not built'}`,
    `  CPU paths built: ${b.isaPaths.join(' ')}`,
    ...r.addon.passedOver.map((why) => `  passed over: ${why}`),
  ];
}

function cpuLines(r: DoctorReport): string[] {
  if (!r.cpu) return [];
  const c = r.cpu;
  const present = Object.entries(c.features).filter(([, on]) => on).map(([name]) => name);
  const cap = c.isaCap ? ` (capped by ONNXFORGE_ISA=${c.isaCap})` : '';
  return [
    `cpu: ${c.isa} in use${cap}, best detected ${c.detectedIsa}; ${c.physicalCores} physical / ${c.logicalCores} logical cores, ${c.threads} kernel threads`,
    `  features: ${present.join(' ') || 'none'}${c.amxDeniedByOs ? '; AMX present but not enabled by the OS' : ''}`,
  ];
}

function cudaLine(r: DoctorReport): string[] {
  if (!r.cuda) return [];
  const c = r.cuda;
  if (!c.compiled) return ['cuda: not built into this addon'];
  const state = c.available ? `available on device ${c.device} (int8 kernel ${c.int8Kernel})` : `not available: ${c.reason}`;
  return [`cuda: ${state}; runtime ${c.runtimeVersion}, driver ${c.driverVersion ?? 'none'}, architectures ${c.architectures}`];
}

function formatReport(r: DoctorReport): string {
  const backends = r.onnxruntime.backends.map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ');
  return [
    `onnxforge ${r.onnxforge.version} at ${r.onnxforge.root}`,
    `node ${r.node.version}, Node-API ${r.node.napiVersion}, ${r.node.platform}${r.node.glibc ? ` (glibc ${r.node.glibc})` : ''}; ` +
      `prebuilt package for it: ${r.platformPackage ?? 'none is made'}`,
    ...addonLines(r),
    ...cpuLines(r),
    ...cudaLine(r),
    `onnxruntime-node ${r.onnxruntime.version}: ${backends}; CUDA provider ${r.onnxruntime.cuda.available ? 'available' : `not available (${r.onnxruntime.cuda.reason})`}`,
  ].join('\n');
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show which native addon loaded and from where, how it was built, the CPU paths, CUDA and onnxruntime-node')
    .option('--json', 'print as JSON')
    .action((opts) => {
      const report = doctorReport();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
      if (!report.addon.loaded) process.exitCode = 1;
    });
}
