// kernels.readFileLarge: the native engine's way to read a model file.
import * as fs from 'fs';
import * as path from 'path';
import { kernels } from '../../lib/kernels';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir: string;
beforeAll(() => { dir = makeTempDir(); });
afterAll(() => removeDir(dir));

test('gives the bytes of the file', () => {
  const file = path.join(dir, 'bytes.bin');
  const data = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 255);
  fs.writeFileSync(file, data);
  expect(Buffer.from(kernels.readFileLarge(file)).equals(Buffer.from(data))).toBe(true);
});

test('the bytes are a copy: rewriting the file later changes nothing read', () => {
  const file = path.join(dir, 'copy.bin');
  fs.writeFileSync(file, Uint8Array.of(1, 2, 3, 4));
  const read = kernels.readFileLarge(file);
  fs.writeFileSync(file, Uint8Array.of(9));
  expect(Array.from(read)).toEqual([1, 2, 3, 4]);
});

test('an empty file gives no bytes', () => {
  const file = path.join(dir, 'empty.bin');
  fs.writeFileSync(file, new Uint8Array(0));
  expect(kernels.readFileLarge(file).length).toBe(0);
});

test.each([
  ['a missing file', () => path.join(dir, 'missing.bin'), /cannot open .*missing\.bin: No such file/],
  ['a directory', () => dir, /cannot read .*: not a regular file|cannot open/],
])('%s is an Error naming the path', (_what, file, message) => {
  expect(() => kernels.readFileLarge(file())).toThrow(message);
});

test('a path that is not a string is a TypeError', () => {
  expect(() => kernels.readFileLarge(42 as never)).toThrow(TypeError);
});
