// Where every suite's figures go: <results folder>/<suite>.json and .md (printed too), with the machine
// named; the folder is bench/results only with --write (see flags.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernels } from '../lib/kernels';
import { COMMITTED_RESULTS } from './flags';

/** CPU model, logical cores and the ISA level our kernels run at. */
export function machineName(): string {
  return `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, ${kernels.cpuInfo().isa}`;
}

export function writeResults(outDir: string, suite: string, result: object, markdown: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `${suite}.json`), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, `${suite}.md`), markdown);
  process.stdout.write(markdown);
  const committed = path.resolve(outDir) === path.resolve(COMMITTED_RESULTS);
  process.stdout.write(`\n${suite}: results written to ${outDir}${committed ? '' : ' (--write updates the committed bench/results)'}\n`);
}
