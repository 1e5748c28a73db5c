// A test-only hook into the steps of a save, so that tests can kill a real save (SIGKILL, no handler
// runs) at each step and check what a reader finds on disk. ONNXFORGE_TEST_SAVE_STEP=list prints each
// step's name on stderr as it is reached; =<name> makes the process SIGKILL itself on reaching that
// step. Unset (always, outside tests), a step costs one property read.

const VARIABLE = 'ONNXFORGE_TEST_SAVE_STEP';

export function saveStep(name: string): void {
  const wanted = process.env[VARIABLE];
  if (wanted === undefined) return;
  if (wanted === 'list') process.stderr.write(`onnxforge-save-step ${name}\n`);
  else if (wanted === name) process.kill(process.pid, 'SIGKILL');
}
