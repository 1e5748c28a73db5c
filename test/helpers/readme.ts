// The commands README.md shows in its ```sh blocks, and shell-style word splitting to run them.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const README = path.resolve(__dirname, '../../README.md');

/** Every command of every sh block: continuation lines joined, comments dropped, `a && b` as two. */
export function readmeCommands(markdown = fs.readFileSync(README, 'utf8')): string[] {
  const commands: string[] = [];
  for (const [, block] of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const lines = block.replace(/\\\n\s*/g, '').split('\n');
    for (const line of lines) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      for (const command of line.replace(/\s+#\s.*$/, '').split(' && ')) commands.push(command.trim().replace(/\s+/g, ' '));
    }
  }
  return commands;
}

/** Splits a command line into words as sh does for the forms the README uses: '…', "…" with $NAME, plain words. */
export function shellWords(line: string, env: Record<string, string> = {}): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (text: string) => text.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_, name: string) => env[name] ?? '');
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${line}`);
      const text = line.slice(i + 1, end);
      word = (word ?? '') + (c === '"' ? expand(text) : text);
      i = end;
    } else {
      const plain = /^[^ '"]+/.exec(line.slice(i))![0];
      word = (word ?? '') + expand(plain);
      i += plain.length - 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
