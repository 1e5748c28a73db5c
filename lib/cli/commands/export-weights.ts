// onnxforge export-weights MODEL -o W.safetensors: the model's weights as a safetensors file.
import { Command } from 'commander';
import { exportWeights } from '../../convert/weights';
import { loadModel } from '../../onnx/load';
import { UsageError } from '../errors';
import { formatBytes } from '../../format-bytes';
import { printJson } from '../output';

function collectMetadata(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^=]+)=(.*)$/.exec(value);
  if (!match) throw new UsageError(`expected KEY=VALUE, got "${value}"`);
  return { ...previous, [match[1]]: match[2] };
}

export function registerExportWeights(program: Command): void {
  program
    .command('export-weights')
    .description('write the model\'s initializers (every graph, If/Loop bodies included) to a .safetensors file, for `convert --weights` or other tools')
    .argument('<model>', 'model (.onnx)')
    .requiredOption('-o, --output <file>', 'the .safetensors file to write')
    .option('--constants', 'export every Constant node\'s value, named by its output (without it, only the Constants that feed a weight input: MatMul B, Conv W, ...)')
    .option('--metadata <key=value>', 'a __metadata__ entry (repeatable; e.g. format=pt for PyTorch loaders)', collectMetadata, {})
    .option('--json', 'print the report as JSON')
    .action((input: string, opts) => {
      const report = exportWeights(loadModel(input), opts.output, { constants: opts.constants === true, metadata: opts.metadata });
      if (opts.json) {
        printJson(report);
        return;
      }
      const lines = [`${input} -> ${report.file}: ${report.tensors} tensor(s), ${formatBytes(report.bytes)}`];
      if (report.skipped.length > 0) {
        lines.push(`skipped ${report.skipped.length} tensor(s) safetensors cannot hold: ${report.skipped.map((s) => `${s.name} (${s.dtype})`).join(', ')}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
