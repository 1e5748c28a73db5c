// Resize and Upsample of the spatial axes (nearest or bilinear), run in NHWC like the
// convolutions around them. Scales and sizes must be constants; N and C keep their size.
import { LoweringError } from '../errors';
import { intsAttr, stringAttr, type IrNode } from '../ir';
import { valuesOf } from '../tensor-data';
import { as4d, NHWC, refOf, requireSpatial } from './conv-ops';
import type { LowerArgs, OpDef, Shaped } from './types';

const MODES: Record<string, number> = { nearest: 0, linear: 1, bilinear: 1 };
const TRANSFORMS: Record<string, number> = {
  half_pixel: 0, pytorch_half_pixel: 1, align_corners: 2, asymmetric: 3, tf_half_pixel_for_nn: 4, half_pixel_symmetric: 5,
};
const NEAREST: Record<string, number> = { round_prefer_floor: 0, round_prefer_ceil: 1, floor: 2, ceil: 3 };

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

interface Resampling {
  /** Output spatial dims and the scales the coordinate transform divides by. */
  out: number[];
  scales: number[];
  mode: number;
  transform: number;
  nearest: number;
}

/** Scale and size per spatial axis from full-rank scales or sizes (N and C must stay). */
function spatialOf(node: IrNode, x: Shaped, scales: number[] | undefined, sizes: number[] | undefined): { out: number[]; scales: number[] } {
  const rank = x.dims.length;
  const axes = (intsAttr(node, 'axes') ?? x.dims.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const full = (values: number[], fill: (axis: number) => number) => {
    if (values.length !== axes.length) fail(node, `${values.length} scales or sizes for ${axes.length} axes`);
    const out = x.dims.map((_, i) => fill(i));
    axes.forEach((a, i) => { out[a] = values[i]; });
    return out;
  };
  let out: number[], factors: number[];
  if (sizes && sizes.length > 0) {
    if (stringAttr(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') fail(node, 'only keep_aspect_ratio_policy "stretch" is supported');
    out = full(sizes, (i) => x.dims[i]);
    factors = out.map((o, i) => Math.fround(o / x.dims[i]));
  } else if (scales && scales.length > 0) {
    factors = full(scales, () => 1).map((s) => Math.fround(s));
    out = x.dims.map((d, i) => Math.floor(Math.fround(d * factors[i])));
  } else {
    fail(node, 'needs scales or sizes');
  }
  if (out[0] !== x.dims[0] || out[1] !== x.dims[1]) fail(node, 'only the spatial axes can be resized');
  if (out.some((o) => o < 0) || factors.slice(2).some((f) => !(f > 0) || !Number.isFinite(f))) fail(node, 'scales must be positive');
  return { out: out.slice(2), scales: factors.slice(2) };
}

function resizeOf(node: IrNode, inputs: (Shaped | undefined)[], opset: number): Resampling {
  const x = requireSpatial(node, inputs[0]);
  if (x.dtype !== 'float32') fail(node, 'the input must be float32');
  const mode = MODES[stringAttr(node, 'mode', 'nearest')];
  if (mode === undefined) fail(node, `mode "${stringAttr(node, 'mode', '')}" is not supported (nearest and linear are)`);
  if (Number(node.attrs.antialias ?? 0)) fail(node, 'antialias is not supported');
  const constant = (i: number) => (inputs[i]?.value ? valuesOf(inputs[i]!.value!) : undefined);
  const { out, scales } = node.op === 'Upsample'
    ? spatialOf(node, x, opset >= 9 ? constant(1) : intsAttr(node, 'scales'), undefined)
    : spatialOf(node, x, opset >= 11 ? constant(2) : constant(1), opset >= 11 ? constant(3) : undefined);
  // Before opset 11 both ops sample at out / scale, and nearest takes the floor (exact for upscaling).
  const legacy = node.op === 'Upsample' || opset < 11;
  const transformName = legacy ? 'asymmetric' : stringAttr(node, 'coordinate_transformation_mode', 'half_pixel');
  const transform = TRANSFORMS[transformName];
  if (transform === undefined) fail(node, `coordinate_transformation_mode "${transformName}" is not supported`);
  if (legacy && mode === 0 && scales.some((s) => s < 1)) fail(node, 'nearest downscaling before opset 11 is not supported');
  const nearestName = legacy ? 'floor' : stringAttr(node, 'nearest_mode', 'round_prefer_floor');
  const nearest = NEAREST[nearestName];
  if (nearest === undefined) fail(node, `nearest_mode "${nearestName}" is not supported`);
  return { out, scales, mode, transform, nearest };
}

const resample: OpDef = {
  constInputs: [1, 2, 3],
  infer(node, inputs, opset) {
    const x = inputs[0]!;
    return [{ dtype: 'float32', dims: [x.dims[0], x.dims[1], ...resizeOf(node, inputs, opset).out] }];
  },
  lower(args: LowerArgs) {
    const { ctx, node, shaped, outputs, opset } = args;
    const r = resizeOf(node, shaped, opset);
    const x = refOf(args, 0);
    const x4 = as4d(x);
    const [oh, ow] = r.out.length === 2 ? r.out : [1, r.out[0]];
    const [sh, sw] = r.scales.length === 2 ? r.scales : [1, r.scales[0]];
    const dims4 = [x4.dims[0], x4.dims[1], oh, ow];
    const out = ctx.arenaInOrder('float32', dims4, NHWC);
    if (dims4.every((d) => d > 0)) {
      const xh = ctx.packedIn(x4, NHWC);
      const [n, c, h, w] = x4.dims;
      ctx.step('Resize', [ctx.flat(xh)], [ctx.flat(out)], [n, h, w, c, oh, ow, r.mode, r.transform, r.nearest], [sh, sw]);
    }
    if (x.dims.length === 4) return [out];
    return [{ ...out, dims: outputs[0].dims, strides: [out.strides[0], out.strides[1], out.strides[3]] }];
  },
};

export const RESAMPLE_OPS: Record<string, OpDef> = { Resize: resample, Upsample: resample };
