// onnxforge cpu: what the native kernels detected and will use.
import { Command } from 'commander';
import { kernels } from '../../kernels';
import { printJson } from '../output';

export function registerCpu(program: Command): void {
  program
    .command('cpu')
    .description('show the CPU features the native kernels detected, the ISA level in use and the thread count')
    .option('--json', 'print as JSON')
    .action((opts) => {
      const info = kernels.cpuInfo();
      if (opts.json) return printJson(info);
      const present = Object.entries(info.features).filter(([, on]) => on).map(([name]) => name);
      const cap = info.isaCap ? ` (capped by ONNXFORGE_ISA=${info.isaCap})` : '';
      process.stdout.write(
        [
          `isa: ${info.isa}${cap}; best detected: ${info.detectedIsa}`,
          `features: ${present.join(' ') || 'none'}`,
          info.amxDeniedByOs ? 'amx: present in the CPU but not enabled by the OS' : '',
          `cores: ${info.physicalCores} physical, ${info.logicalCores} logical; kernel threads: ${info.threads}`,
        ].filter(Boolean).join('\n') + '\n',
      );
    });
}
