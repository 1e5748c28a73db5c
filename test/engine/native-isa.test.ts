// The native engine on every ISA path this CPU can run, each in its own process.
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { IsaName } from '../../binding';
import { kernels } from '../../lib/kernels';

const ORDER: IsaName[] = ['scalar', 'avx2', 'avx512vnni', 'amx'];
const detected = kernels.cpuInfo().detectedIsa;
const levels = ORDER.filter((isa) => ORDER.indexOf(isa) <= ORDER.indexOf(detected));

interface ChildResult {
  isa: IsaName;
  variants: Record<string, { kinds: string[]; steps: Record<string, number>; cosine: number; maxRelativeError: number }>;
}

describe.each(levels)('ISA %s', (isa) => {
  const child = spawnSync(process.execPath, [path.join(__dirname, 'native-isa-child.js')], {
    env: { ...process.env, ONNXFORGE_ISA: isa }, encoding: 'utf8', timeout: 120000,
  });
  const result: ChildResult | undefined = child.status === 0 ? JSON.parse(child.stdout) : undefined;

  test('the child ran at that ISA', () => {
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(result!.isa).toBe(isa);
  });

  test('float32 models match onnxruntime within the float bounds', () => {
    for (const name of ['float32', 'sparse', 'mlp', 'conv', 'mobilenet', 'conv-ops', 'resnet-sparse']) {
      const v = result!.variants[name];
      expect(v.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(v.maxRelativeError).toBeLessThanOrEqual(1e-4);
    }
    expect(result!.variants.sparse.kinds.every((k) => k === 'sparse')).toBe(true);
    // The 20 convolutions (pruned to 80%, past the conv crossover) sparse; the Gemm head (linear crossover) dense.
    expect(result!.variants['resnet-sparse'].kinds).toEqual([...Array(20).fill('sparse'), 'dense']);
  });

  test('quantized models match onnxruntime within the quantized bound', () => {
    for (const name of ['int8', 'sparse-int8']) expect(result!.variants[name].cosine).toBeGreaterThanOrEqual(0.9999);
    expect(result!.variants['sparse-int8'].kinds.every((k) => k === 'sparse-int8')).toBe(true);
  });

  test('conv nets run natively: depthwise, pooling, Pad, ConvTranspose, Resize; static QDQ through code tables and lookups', () => {
    expect(result!.variants.mobilenet.steps).toMatchObject({ DepthwiseConv: 11 });
    expect(result!.variants['conv-ops'].steps).toMatchObject({ ConvTranspose: 1, Resize: 2 });
    const quantized = result!.variants['mobilenet-int8'];
    expect(quantized.steps.QuantizeLookup).toBeGreaterThan(0);
    expect(quantized.steps.QConv).toBeGreaterThan(0);
    expect(quantized.cosine).toBeGreaterThanOrEqual(0.999);
  });
});
