// The flags every bench suite reads: --name=value options, --out=DIR (default bench/results), --quick.
import * as path from 'path';

export interface BenchFlags {
  flag(name: string): string | undefined;
  outDir: string;
  quick: boolean;
}

export function benchFlags(args: string[]): BenchFlags {
  const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return { flag, outDir: path.resolve(flag('out') ?? path.join(__dirname, '../../bench/results')), quick: args.includes('--quick') };
}
