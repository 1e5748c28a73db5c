// Option checks shared by the conv look-alikes: the input's spatial size and positive-integer sizes.

export interface ImageSizeOptions {
  /** Height and width of a square input. */
  size?: number;
  /** Input height (default `size`). */
  height?: number;
  /** Input width (default `size`). */
  width?: number;
}

/** Throws RangeError naming the first value that is not an integer >= `min`. */
export function checkIntegers(values: Record<string, number | readonly number[]>, min = 1): void {
  for (const [name, value] of Object.entries(values)) {
    for (const v of typeof value === 'number' ? [value] : value) {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`${name}: ${v} is not an integer >= ${min}`);
    }
  }
}

/** The input's height and width, each at least `min` (the smallest the net's pooling chain accepts). */
export function imageSize(options: ImageSizeOptions, defaultSize: number, min = 1): { height: number; width: number } {
  const size = options.size ?? defaultSize;
  const height = options.height ?? size;
  const width = options.width ?? size;
  checkIntegers({ height, width }, min);
  return { height, width };
}
