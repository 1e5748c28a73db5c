// Dense symmetric linear algebra GPTQ needs, on row-major Float64Array [n, n] matrices.

/** Lower Cholesky factor L of a symmetric positive-definite matrix (A = L Lᵀ); throws when A is not. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j];
    for (let k = 0; k < j; k++) s -= l[rj + k] * l[rj + k];
    if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${j} is ${s})`);
    const d = Math.sqrt(s);
    l[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= l[ri + k] * l[rj + k];
      l[ri + j] = t / d;
    }
  }
  return l;
}

/** A⁻¹ from A's lower Cholesky factor: A⁻¹ = L⁻ᵀ L⁻¹. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // M = L⁻¹, lower triangular, row by row: M[i][c] = -(Σ_{c<=k<i} L[i][k] M[k][c]) / L[i][i], summed
  // over whole rows of M so every inner loop runs along contiguous memory.
  const m = new Float64Array(n * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    acc.fill(0, 0, i);
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const a = l[ri + k];
      if (a === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) acc[c] += a * m[rk + c];
    }
    const d = l[ri + i];
    for (let c = 0; c < i; c++) m[ri + c] = -acc[c] / d;
    m[ri + i] = 1 / d;
  }
  // A⁻¹[i][j] = Σ_k M[k][i] M[k][j], k ≥ max(i, j): accumulate row by row of M.
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const v = m[rk + i];
      if (v === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) inv[ri + j] += v * m[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[j * n + i] = inv[i * n + j];
  return inv;
}

/** Upper Cholesky factor U of a symmetric positive-definite matrix (A = Uᵀ U). */
export function upperCholesky(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j];
  return u;
}
