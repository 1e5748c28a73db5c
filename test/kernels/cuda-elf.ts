// The DT_NEEDED entries of an ELF64 little-endian shared object: the libraries the
// dynamic loader must find before the addon can load.
import * as fs from 'fs';

export function neededLibraries(file: string): string[] {
  const elf = fs.readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file} is not an ELF64 little-endian file`);
  const sectionOffset = Number(elf.readBigUInt64LE(0x28));
  const sectionSize = elf.readUInt16LE(0x3a);
  const sectionCount = elf.readUInt16LE(0x3c);
  const sections = Array.from({ length: sectionCount }, (_, i) => {
    const at = sectionOffset + i * sectionSize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), size: Number(elf.readBigUInt64LE(at + 0x20)), link: elf.readUInt32LE(at + 0x28) };
  });
  const SHT_DYNAMIC = 6;
  const DT_NEEDED = 1n;
  const dynamic = sections.find((s) => s.type === SHT_DYNAMIC);
  if (!dynamic) return [];
  const strings = sections[dynamic.link];
  const needed: string[] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = elf.readBigUInt64LE(at);
    if (tag === 0n) break;
    if (tag !== DT_NEEDED) continue;
    const start = strings.offset + Number(elf.readBigUInt64LE(at + 8));
    needed.push(elf.toString('latin1', start, elf.indexOf(0, start)));
  }
  return needed;
}
