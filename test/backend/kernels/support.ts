/** Shared by the matmul kernel tests: a reference product. */

/** The triple loop over row-major `[m, k]` and `[k, n]`, summed in float64. */
export function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] ?? 0) * (b[p * n + j] ?? 0);
      out.push(s);
    }
  }
  return out;
}
