// Where every suite's figures go: bench/results/<suite>.json and .md (printed too), with the machine named.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernels } from '../lib/kernels';

/** CPU model, logical cores and the ISA level our kernels run at. */
export function machineName(): string {
  return `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, ${kernels.cpuInfo().isa}`;
}

export function writeResults(outDir: string, suite: string, result: object, markdown: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `${suite}.json`), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, `${suite}.md`), markdown);
  process.stdout.write(markdown);
}
