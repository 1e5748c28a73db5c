// Malformed command lines: each command that writes or reads a model, with one bad argument each
// (values out of range, of the wrong kind, paths that are folders, devices, missing or the input
// itself, options without values, unknown options). Paths are relative to a folder holding mlp.onnx.

export interface CliCase {
  id: string;
  args: string[];
}

const MODEL = 'mlp.onnx';

const COMMANDS: Record<string, string[]> = {
  inspect: ['inspect', MODEL],
  convert: ['convert', MODEL, '-o', 'out.onnx', '--dtype', 'float16'],
  quantize: ['quantize', MODEL, '-o', 'out.onnx', '--mode', 'dynamic', '--runs', '0', '--no-verify'],
  prune: ['prune', MODEL, '-o', 'out.onnx', '--sparsity', '0.5', '--no-compare'],
  optimize: ['optimize', MODEL, '-o', 'out.onnx'],
  'export-weights': ['export-weights', MODEL, '-o', 'out.safetensors'],
  compare: ['compare', MODEL, MODEL],
  bench: ['bench', MODEL, '--runs', '1', '--warmup', '0', '--engine', 'ort'],
};

/** Edits of a valid command line that make it wrong. */
const BREAKERS: Record<string, (args: string[]) => string[]> = {
  'the model is missing': (a) => a.map((x) => (x === MODEL ? 'missing.onnx' : x)),
  'the model is a folder': (a) => a.map((x) => (x === MODEL ? '.' : x)),
  'the model is /dev/null': (a) => a.map((x) => (x === MODEL ? '/dev/null' : x)),
  'the model is not ONNX': (a) => a.map((x) => (x === MODEL ? 'notes.txt' : x)),
  'the model path is empty': (a) => a.map((x) => (x === MODEL ? '' : x)),
  'the output is the input': (a) => a.map((x) => (x === 'out.onnx' || x === 'out.safetensors' ? MODEL : x)),
  'the output is a folder': (a) => a.map((x) => (x === 'out.onnx' || x === 'out.safetensors' ? '.' : x)),
  'the output is in a missing folder': (a) => a.map((x) => (x === 'out.onnx' || x === 'out.safetensors' ? 'no/such/dir/out.onnx' : x)),
  'the output is /dev/null': (a) => a.map((x) => (x === 'out.onnx' || x === 'out.safetensors' ? '/dev/null' : x)),
  'an unknown option': (a) => [...a, '--frobnicate'],
  'an option without its value': (a) => [...a, '--dim'],
  'a --dim with no number': (a) => [...a, '--dim', 'batch=x'],
  'a negative --dim': (a) => [...a, '--dim', 'batch=-3'],
  'a huge --dim': (a) => [...a, '--dim', 'batch=1e300'],
  'a --shape with NaN': (a) => [...a, '--shape', 'input=NaN,32'],
  'a --shape without a name': (a) => [...a, '--shape', '=1,32'],
  'a fractional --runs': (a) => [...a, '--runs', '1.5'],
  '--threads of 1e9': (a) => [...a, '--threads', '1e9'],
  'a --sparsity of 2': (a) => [...a, '--sparsity', '2'],
  'a --sparsity of NaN': (a) => [...a, '--sparsity', 'NaN'],
  'a --mode nobody knows': (a) => [...a, '--mode', 'quantum'],
  'a --dtype nobody knows': (a) => [...a, '--dtype', 'float99'],
  'an --engine nobody knows': (a) => [...a, '--engine', 'warp'],
  'a 100 000 character argument': (a) => [...a, 'x'.repeat(100000)],
  'an extra positional argument': (a) => [...a, 'extra.onnx'],
};

/** Every command with every breaker (each an error for that command, or a case it must run cleanly). */
export function cliCases(): CliCase[] {
  const out: CliCase[] = [{ id: 'no command at all, just a bad option', args: ['--frobnicate'] }, { id: 'an unknown command', args: ['frobnicate'] }];
  for (const [command, args] of Object.entries(COMMANDS)) {
    for (const [breaker, edit] of Object.entries(BREAKERS)) {
      const edited = edit(args);
      if (edited.join('\0') === args.join('\0')) continue; // the edit does not apply to this command
      out.push({ id: `${command}: ${breaker}`, args: edited });
    }
  }
  return out;
}
