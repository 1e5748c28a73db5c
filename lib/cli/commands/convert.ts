// onnxforge convert MODEL -o OUT: float precision, weights from safetensors, external data layout.
import { Command, Option } from 'commander';
import { convertFile, type ConvertFileOptions, type ConvertFileReport } from '../../convert/convert-file';
import { DEFAULT_BLOCKED_OPS } from '../../convert/block-list';
import { readWeightMap } from '../../convert/weights';
import { UsageError } from '../errors';
import { nonNegativeInt } from '../options';
import { againstOriginal } from '../compare-tables';
import { formatBytes } from '../../format-bytes';
import { formatCount, printJson } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

/** Repeatable comma-separated list option. */
function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

function formatReport(r: ConvertFileReport): string {
  const lines = [
    `${r.input} -> ${r.output}`,
    `size: ${formatBytes(r.bytesBefore)} -> ${formatBytes(r.bytesAfter)} (${r.sizeRatio.toFixed(3)}x)`,
  ];
  if (r.weights) {
    const w = r.weights;
    lines.push(`weights: ${w.replaced} tensor(s) replaced from ${w.file} (${formatBytes(w.bytesReplaced)}), ${w.ignored} ignored, ${w.initializersUntouched} initializer(s) untouched`);
  }
  if (r.float) {
    const f = r.float;
    lines.push(`${f.dtype}: ${f.tensorsConverted} tensor(s), ${formatCount(f.valuesConverted)} values converted (${formatBytes(f.tensorBytesBefore)} -> ${formatBytes(f.tensorBytesAfter)}); ${f.valuesClamped} clamped to the ${f.dtype} range, ${f.valuesUnderflowed} underflowed to zero`);
    lines.push(`  casts: ${f.castsInserted} inserted, ${f.castsRemoved} redundant removed (${f.castsBefore} -> ${f.castsAfter})`);
    const kept = Object.entries(f.keptOps).map(([op, n]) => `${op} ${n}`).join(', ');
    const between = f.nodesKeptBetweenKept > 0 ? ` (${f.nodesKeptBetweenKept} only because their neighbours are float32)` : '';
    if (f.nodesKept > 0) lines.push(`  kept in float32: ${f.nodesKept} node(s)${between}: ${kept}`);
  }
  lines.push(r.layout === 'external'
    ? `layout: external data, ${r.externalTensors} tensor(s) in ${r.dataFiles.length} file(s)${r.dataFiles.length <= 3 ? `: ${r.dataFiles.join(', ')}` : ''}`
    : 'layout: inline (one .onnx file)');
  if (r.compare) {
    lines.push(...againstOriginal(r.compare, 'converted', r.compareNote));
  }
  return lines.join('\n');
}

export function registerConvert(program: Command): void {
  addCompareOptions(program
    .command('convert')
    .description('convert float precision (float16/bfloat16, or back to float32), replace weights from safetensors, and move tensors to or from external data')
    .argument('<model>', 'model (.onnx)')
    .requiredOption('-o, --output <file>', 'where to write the converted model')
    .addOption(new Option('--dtype <type>', 'float precision to convert to. Ops whose ONNX schema at the model\'s opset lacks the type stay float32 '
      + '(bfloat16 needs opset 13; Conv and LSTM take it from opset 22). bfloat16 models do not run on onnxruntime\'s CPU provider '
      + '(no bfloat16 MatMul/Add/Relu kernels): check them with --compare, or convert back with --dtype float32')
      .choices(['float16', 'bfloat16', 'float32']))
    .option('--keep-io-types', 'keep float32 graph inputs and outputs, with Casts at the edges')
    .option('--block-ops <ops>', `op types to keep in float32, comma-separated, repeatable (in addition to the default list: ${DEFAULT_BLOCKED_OPS.join(', ')})`, collectList, [])
    .option('--block-nodes <names>', 'node names to keep in float32, comma-separated, repeatable', collectList, [])
    .option('--no-default-block-list', 'convert the numerically fragile ops of the default block list too')
    .option('--weights <file>', 'replace initializers (and Constant values) by name from a .safetensors file; dtype and shape must match')
    .option('--map <file>', 'JSON object mapping safetensors names to model tensor names (null skips a tensor)')
    .option('--external-data', 'store tensors in external data files next to the model (needed above 2 GiB)')
    .option('--external-threshold <bytes>', 'tensors of at least this many bytes go to external data (default 1024)', nonNegativeInt)
    .option('--single-file', 'all external tensors in one "<output>.data" file (the default)')
    .option('--no-single-file', 'one external data file per tensor')
    .option('--external-location <name>', 'file name of the single external data file (default "<output name>.data")')
    .option('--inline', 'store every tensor inside the .onnx (fails above 2 GiB)')
    .option('--compare', 'run the result and the original on the same inputs and report accuracy'), { prefix: 'with --compare: ', runs: 0 })
    .option('--json', 'print the report as JSON')
    .action(async (input: string, opts) => {
      if (opts.inline && opts.externalData) throw new UsageError('--inline and --external-data contradict each other');
      const externalOptions = opts.externalThreshold !== undefined || opts.singleFile !== undefined || opts.externalLocation !== undefined;
      if (externalOptions && !opts.externalData) throw new UsageError('--external-threshold, --single-file, --no-single-file and --external-location need --external-data');
      if (opts.map && !opts.weights) throw new UsageError('--map needs --weights');
      const floatOnly = opts.keepIoTypes || opts.blockOps.length > 0 || opts.blockNodes.length > 0 || opts.defaultBlockList === false;
      if (floatOnly && (!opts.dtype || opts.dtype === 'float32')) throw new UsageError('--keep-io-types, --block-ops, --block-nodes and --no-default-block-list need --dtype float16 or bfloat16');

      const options: ConvertFileOptions = {};
      if (opts.dtype) {
        options.float = {
          dtype: opts.dtype, keepIoTypes: opts.keepIoTypes === true, blockOps: opts.blockOps, blockNodes: opts.blockNodes,
          defaultBlockList: opts.defaultBlockList !== false,
        };
      }
      if (opts.weights) options.weights = { file: opts.weights, map: opts.map ? readWeightMap(opts.map) : undefined };
      if (opts.inline) options.layout = 'inline';
      if (opts.externalData) {
        options.layout = 'external';
        options.external = { threshold: opts.externalThreshold, singleFile: opts.singleFile, location: opts.externalLocation };
      }
      const progress = createProgress('compare');
      if (opts.compare) {
        options.compare = compareOptionsFrom(opts, (done, total) => progress.update(done, total));
      }
      const report = await convertFile(input, opts.output, options);
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
