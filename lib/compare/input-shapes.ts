// Shapes of generated inputs: symbolic dims set by name (--dim batch=4), whole inputs set by
// input name (--shape input=1,512, which also reaches unnamed dims), and what is assumed (1) otherwise.
import { InputError } from './input-error';

export interface ShapeOverrides {
  /** Values for symbolic dims, by dim name (e.g. batch=4). */
  dims?: Record<string, number>;
  /** Whole shapes, by input name (e.g. input_ids=[1, 512]); wins over `dims`. */
  shapes?: Record<string, readonly number[]>;
}

/** An input as engines and models describe it: numbers for fixed dims, strings for symbolic ones, null or -1 when unknown. */
export interface ShapedInput {
  name: string;
  shape: readonly (number | string | null)[] | null;
}

/** A dim no override sets, generated as 1. */
export interface AssumedDim {
  input: string;
  axis: number;
  /** The symbolic name; null for an unnamed dim. */
  dim: string | null;
  value: number;
}

const isFixed = (d: number | string | null): d is number => typeof d === 'number' && d >= 0;

function symbolicNames(inputs: readonly ShapedInput[]): string[] {
  return [...new Set(inputs.flatMap((i) => (i.shape ?? []).filter((d): d is string => typeof d === 'string')))];
}

/** Refuses a dim name no input has and an input name the model does not take, naming the valid ones. */
export function checkShapeOverrides(inputs: readonly ShapedInput[], o: ShapeOverrides): void {
  const names = symbolicNames(inputs);
  for (const dim of Object.keys(o.dims ?? {})) {
    if (!names.includes(dim)) {
      const valid = names.length ? `symbolic dims: ${names.join(', ')}` : 'the inputs have no symbolic dims; set whole shapes with --shape INPUT=D1,D2,...';
      throw new InputError(`unknown dim "${dim}" (--dim); ${valid}`);
    }
  }
  for (const name of Object.keys(o.shapes ?? {})) {
    const input = inputs.find((i) => i.name === name);
    if (!input) throw new InputError(`unknown input "${name}" (--shape); inputs: ${inputs.map((i) => i.name).join(', ')}`);
    const shape = o.shapes![name];
    if (input.shape && input.shape.length !== shape.length) {
      throw new InputError(`--shape ${name}=${shape.join(',')} has rank ${shape.length}; input ${name} has rank ${input.shape.length} [${describe(input.shape)}]`);
    }
    input.shape?.forEach((d, axis) => {
      if (isFixed(d) && d !== shape[axis]) {
        throw new InputError(`--shape ${name}=${shape.join(',')} sets dim ${axis} to ${shape[axis]}; input ${name} fixes it at ${d}`);
      }
    });
  }
}

function describe(shape: readonly (number | string | null)[]): string {
  return shape.map((d) => (isFixed(d) ? String(d) : typeof d === 'string' ? d : '?')).join(', ');
}

/** The concrete shape of one generated input; dims no override sets are 1. */
export function resolveInputShape(input: ShapedInput, o: ShapeOverrides = {}): number[] {
  const whole = o.shapes?.[input.name];
  if (whole) return [...whole];
  if (!input.shape) return [];
  return input.shape.map((d) => {
    if (isFixed(d)) return d;
    if (typeof d === 'string' && o.dims?.[d] !== undefined) return o.dims[d];
    return 1;
  });
}

/** The dims generated as 1 because no override sets them. */
export function assumedDims(inputs: readonly ShapedInput[], o: ShapeOverrides = {}): AssumedDim[] {
  const assumed: AssumedDim[] = [];
  for (const input of inputs) {
    if (o.shapes?.[input.name] || !input.shape) continue;
    input.shape.forEach((d, axis) => {
      if (isFixed(d)) return;
      if (typeof d === 'string' && o.dims?.[d] !== undefined) return;
      assumed.push({ input: input.name, axis, dim: typeof d === 'string' ? d : null, value: 1 });
    });
  }
  return assumed;
}
