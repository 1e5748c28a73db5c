#!/usr/bin/env node
// The onnxforge command: parses arguments and hands over to one file per command.
import { Command, CommanderError } from 'commander';
import { reportFailure } from './errors';
import { registerCommands } from './commands';
import { packageVersion } from '../package-info';
import { cleanUpOrtTempFilesAtExit } from '../engine/ort-temp-files';

/** `onnxforge cluster status`, for the hint after an option error. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's usage errors in the same one-line form as every other failure, and a pointer to --help instead of the whole help. */
function configureErrors(command: Command): void {
  command
    .configureOutput({ outputError: (text, write) => write(`onnxforge: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError(`(run \`${commandPath(command)} --help\` for the ${command.parent ? 'options' : 'commands and options'})`);
  for (const sub of command.commands) configureErrors(sub);
}

/**
 * The command that `--help`/`-h` (before any `--`) asks about, or undefined. Help wins over every
 * other argument: commander would otherwise run option parsers first, and a bad value there fails
 * instead of printing the help that was asked for.
 */
function helpRequested(program: Command, args: string[]): Command | undefined {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  if (!head.includes('--help') && !head.includes('-h')) return undefined;
  let command = program;
  for (const token of head) {
    const sub = command.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (sub) command = sub;
  }
  return command;
}

export async function main(argv: string[]): Promise<void> {
  cleanUpOrtTempFilesAtExit();
  const program = new Command('onnxforge')
    .description('Convert, quantize, prune, run and serve ONNX models from Node.js')
    .version(packageVersion())
    .option('--verbose', 'print stack traces on failure')
    .exitOverride();
  registerCommands(program);
  configureErrors(program);
  const help = helpRequested(program, argv.slice(2));
  if (help) {
    help.outputHelp();
    process.exitCode = 0;
    return;
  }
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
