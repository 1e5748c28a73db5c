// What a built ELF addon asks of the machine that loads it: its CPU (e_machine) and the symbol versions
// it needs from each shared library (.gnu.version_r), read directly so that it works for a cross-built
// file too (the host's objdump may not know the target).
import * as fs from 'fs';

const ELF_MACHINES: Record<number, string> = { 3: 'x86', 40: 'arm', 62: 'x86_64', 183: 'aarch64' };
const SHT_GNU_VERNEED = 0x6ffffffe;

export interface ElfInfo {
  machine: string;
  /** Library file name -> the version names needed from it (e.g. libc.so.6 -> GLIBC_2.2.5, ...). */
  versionNeeds: Record<string, string[]>;
}

function cString(data: Buffer, offset: number): string {
  const end = data.indexOf(0, offset);
  return data.toString('latin1', offset, end < 0 ? data.length : end);
}

/** Reads a 64-bit little-endian ELF file (every platform this project builds for Linux). */
export function readElfInfo(file: string): ElfInfo {
  const data = fs.readFileSync(file);
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  if (data[4] !== 2 || data[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const machineCode = data.readUInt16LE(18);
  const sectionsAt = Number(data.readBigUInt64LE(40));
  const sectionSize = data.readUInt16LE(58);
  const sectionCount = data.readUInt16LE(60);
  const section = (i: number) => {
    const at = sectionsAt + i * sectionSize;
    return { type: data.readUInt32LE(at + 4), offset: Number(data.readBigUInt64LE(at + 24)), link: data.readUInt32LE(at + 40), info: data.readUInt32LE(at + 44) };
  };
  const versionNeeds: Record<string, string[]> = {};
  for (let i = 0; i < sectionCount; i++) {
    const verneed = section(i);
    if (verneed.type !== SHT_GNU_VERNEED) continue;
    const strings = section(verneed.link).offset;
    // Elf64_Verneed {vn_version, vn_cnt, vn_file, vn_aux, vn_next}, then vn_cnt Elf64_Vernaux {hash, flags, other, name, next}.
    let need = verneed.offset;
    for (let n = 0; n < verneed.info; n++) {
      const library = cString(data, strings + data.readUInt32LE(need + 4));
      const names: string[] = [];
      let aux = need + data.readUInt32LE(need + 8);
      for (let a = 0; a < data.readUInt16LE(need + 2); a++) {
        names.push(cString(data, strings + data.readUInt32LE(aux + 8)));
        aux += data.readUInt32LE(aux + 12);
      }
      versionNeeds[library] = names;
      need += data.readUInt32LE(need + 12);
    }
  }
  return { machine: ELF_MACHINES[machineCode] ?? `machine ${machineCode}`, versionNeeds };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest version of `prefix` (e.g. 'GLIBC') needed from any library, e.g. '2.27'; null when none is. */
export function newestNeeded(info: ElfInfo, prefix: string): string | null {
  const versions = Object.values(info.versionNeeds).flat()
    .filter((name) => name.startsWith(`${prefix}_`))
    .map((name) => name.slice(prefix.length + 1));
  return versions.sort(compareVersions).pop() ?? null;
}

/** Whether version a is at most b. */
export function versionAtMost(a: string, b: string): boolean {
  return compareVersions(a, b) <= 0;
}
