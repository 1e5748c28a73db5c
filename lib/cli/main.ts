#!/usr/bin/env node
// The onnxforge command: parses arguments and hands over to one file per command.
import { Command, CommanderError } from 'commander';
import { reportFailure } from './errors';
import { registerCommands } from './commands';
import { packageVersion } from '../package-info';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('onnxforge')
    .description('Convert, quantize, prune, run and serve ONNX models from Node.js')
    .version(packageVersion())
    .option('--verbose', 'print stack traces on failure')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit cleanly; commander already printed usage errors.
      process.exitCode = err.exitCode === 0 ? 0 : 1;
      return;
    }
    reportFailure(err, program.opts().verbose === true || argv.includes('--verbose'));
  }
}

if (require.main === module) {
  void main(process.argv);
}
