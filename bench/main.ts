// npm run bench [-- SUITE... [--flag=value...]]: runs the named suites (all when none is named). Each suite
// times onnxforge against onnxruntime-node in the same run and writes JSON and a markdown table: to the
// committed bench/results only with --write, else to --out=DIR or a folder in the temp dir.
import { runClusterBench } from './cluster';
import { runClusterFaultsBench } from './cluster-faults';
import { runCudaBench } from './cuda';
import { runEngineBench } from './engine';
import { runEngineConvBench } from './engine-conv';
import { runFloatBench } from './float';
import { runInt8Bench } from './int8';
import { runPruneBench } from './prune';
import { runQuantizeBench } from './quantize';
import { runQuantizeAutoBench } from './quantize-auto';
import { runSparseBench } from './sparse';
import { runTrainBench } from './train';
import { runServeBench } from './serve';
import { runServeGrpcBench } from './serve-grpc';
import { runServeStormBench } from './serve-storm';

const suites: Record<string, (args: string[]) => Promise<void>> = {
  engine: runEngineBench,
  'engine-conv': runEngineConvBench,
  int8: runInt8Bench,
  float: runFloatBench,
  prune: runPruneBench,
  train: runTrainBench,
  quantize: runQuantizeBench,
  'quantize-auto': runQuantizeAutoBench,
  sparse: runSparseBench,
  serve: runServeBench,
  'serve-grpc': runServeGrpcBench,
  'serve-storm': runServeStormBench,
  cuda: runCudaBench,
  cluster: runClusterBench,
  'cluster-faults': runClusterFaultsBench,
};

const USAGE = `npm run bench [-- SUITE... [--write] [--out=DIR] [--flag=value...]]
Runs the named suites (all when none is named); results go to bench/results only with --write.
Suites: ${Object.keys(suites).join(', ')}
`;

async function main(argv: string[]): Promise<void> {
  // Help runs nothing.
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const flags = argv.filter((a) => a.startsWith('--'));
  const named = argv.filter((a) => !a.startsWith('--'));
  const unknown = named.filter((n) => !(n in suites));
  if (unknown.length) throw new Error(`unknown suite(s) ${unknown.join(', ')}; available: ${Object.keys(suites).join(', ')}`);
  for (const name of named.length ? named : Object.keys(suites)) await suites[name](flags);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
