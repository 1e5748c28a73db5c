// Float64 JavaScript forms of the ops onnxruntime runs only in float32, for finite differences in float64.

/** erf(x) = 2x/√π · e^(-x²) · Σ (2x²)^n / (1·3·…·(2n+1)): every term positive, so no cancellation. */
export function erfReference(x: number): number {
  let term = 1;
  let total = 1;
  for (let n = 1; n < 200 && term > 1e-17 * total; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    total += term;
  }
  return ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-x * x) * total;
}

export function hardSigmoidReference(x: number, alpha: number, beta: number): number {
  return Math.max(0, Math.min(1, alpha * x + beta));
}

export function hardSwishReference(x: number): number {
  return x * hardSigmoidReference(x, 1 / 6, 0.5);
}

export interface Conv2d {
  x: Float64Array;
  xDims: number[];
  w: Float64Array;
  wDims: number[];
  b?: Float64Array;
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

/** NCHW convolution with groups, strides, explicit pads and dilations. */
export function conv2dReference(c: Conv2d): { y: Float64Array; dims: number[] } {
  const [n, channels, h, wd] = c.xDims;
  const [m, perGroup, kh, kw] = c.wDims;
  const oh = Math.floor((h + c.pads[0] + c.pads[2] - ((kh - 1) * c.dilations[0] + 1)) / c.strides[0]) + 1;
  const ow = Math.floor((wd + c.pads[1] + c.pads[3] - ((kw - 1) * c.dilations[1] + 1)) / c.strides[1]) + 1;
  const outPerGroup = m / c.group;
  const y = new Float64Array(n * m * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / outPerGroup);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = c.b ? c.b[o] : 0;
          for (let ci = 0; ci < perGroup; ci++) {
            const channel = g * perGroup + ci;
            for (let u = 0; u < kh; u++) {
              const r = i * c.strides[0] - c.pads[0] + u * c.dilations[0];
              if (r < 0 || r >= h) continue;
              for (let v = 0; v < kw; v++) {
                const col = j * c.strides[1] - c.pads[1] + v * c.dilations[1];
                if (col < 0 || col >= wd) continue;
                s += c.x[((b * channels + channel) * h + r) * wd + col] * c.w[((o * perGroup + ci) * kh + u) * kw + v];
              }
            }
          }
          y[((b * m + o) * oh + i) * ow + j] = s;
        }
      }
    }
  }
  return { y, dims: [n, m, oh, ow] };
}

export interface Pool2d {
  x: Float64Array;
  xDims: number[];
  kernel: number[];
  strides: number[];
  pads: number[];
  countIncludePad: boolean;
  ceil?: boolean;
}

/** NCHW average pooling with explicit pads. */
export function averagePool2dReference(p: Pool2d): Float64Array {
  const [n, channels, h, w] = p.xDims;
  const size = (extent: number, axis: number): number => {
    const span = (extent + p.pads[axis] + p.pads[axis + 2] - p.kernel[axis]) / p.strides[axis];
    return (p.ceil ? Math.ceil(span) : Math.floor(span)) + 1;
  };
  const oh = size(h, 0);
  const ow = size(w, 1);
  const y = new Float64Array(n * channels * oh * ow);
  for (let bc = 0; bc < n * channels; bc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0;
        let count = 0;
        for (let u = 0; u < p.kernel[0]; u++) {
          for (let v = 0; v < p.kernel[1]; v++) {
            const r = i * p.strides[0] - p.pads[0] + u;
            const c = j * p.strides[1] - p.pads[1] + v;
            const inside = r >= 0 && r < h && c >= 0 && c < w;
            const inPadded = r >= -p.pads[0] && r < h + p.pads[2] && c >= -p.pads[1] && c < w + p.pads[3];
            if (inside) s += p.x[(bc * h + r) * w + c];
            if (inside || (p.countIncludePad && inPadded)) count++;
          }
        }
        y[(bc * oh + i) * ow + j] = s / count;
      }
    }
  }
  return y;
}

/** Mean over every spatial position of each (sample, channel). */
export function globalAveragePoolReference(x: Float64Array, dims: number[]): Float64Array {
  const spatial = dims.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float64Array(dims[0] * dims[1]);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < spatial; k++) s += x[i * spatial + k];
    out[i] = s / spatial;
  }
  return out;
}
