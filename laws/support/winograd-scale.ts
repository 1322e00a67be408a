/**
 * The scale of Winograd's rounding error (F(m x n, 3 x 3)) at each output of
 * a 3 x 3 convolution with stride and dilation 1 (NHWC input, HWIO filter,
 * one group): the sum over input channels of the largest `|x|` in the
 * (m + 2) x (n + 2) input patch of the output's m x n tile times the largest
 * `|w|` of the channel's 9 taps. Winograd's transforms mix every value of a patch and
 * every tap of a filter, so a rounding in them is a fraction of these, not
 * of the terms the output's own window sums (a tap over the padding still
 * rounds with the others). Written here from the definition, for the laws of
 * `src/backend/kernels/conv/winograd-wasm.ts`.
 */

/** The sizes of the convolution, as `ConvGeometry` names them. */
export interface WinogradShape {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/** The outputs of the tiles along the output's rows and columns, in order (the last may reach past the edge). */
export interface WinogradTiles {
  readonly rows: readonly number[];
  readonly cols: readonly number[];
}

/** Per output of an axis of `size`: where its tile starts and how many outputs the tile has (4s, unless `tiles` says). */
function tileOfEach(size: number, tiles: readonly number[] | undefined): { start: number; side: number }[] {
  const sides = tiles ?? Array.from({ length: Math.ceil(size / 4) }, () => 4);
  const out: { start: number; side: number }[] = [];
  let start = 0;
  for (const side of sides) {
    for (let i = start; i < Math.min(size, start + side); i++) out.push({ start, side });
    start += side;
  }
  return out;
}

/**
 * Per output (`[N, OH, OW, O]`): `sum_c max_patch |x[c]| * max_taps |w[c, o]|`,
 * the patches those of `tiles` (4 x 4 tiles everywhere unless given).
 */
export function winogradScale(x: ArrayLike<number>, w: ArrayLike<number>, g: WinogradShape, tiles?: WinogradTiles): Float64Array {
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O } = g;
  const [rowTiles, colTiles] = [tileOfEach(g.outHeight, tiles?.rows), tileOfEach(g.outWidth, tiles?.cols)];
  const scale = new Float64Array(g.batch * g.outHeight * g.outWidth * O);
  const tap = new Float64Array(C * O);
  for (let t = 0; t < 9; t++) for (let i = 0; i < C * O; i++) tap[i] = Math.max(tap[i] ?? 0, Math.abs(w[t * C * O + i] ?? 0));
  const patch = new Float64Array(C);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        patch.fill(0);
        const [row, col] = [rowTiles[oh] ?? { start: 0, side: 0 }, colTiles[ow] ?? { start: 0, side: 0 }];
        const top = row.start - g.padTop;
        const left = col.start - g.padLeft;
        for (let ih = Math.max(0, top); ih < Math.min(H, top + row.side + 2); ih++) {
          for (let iw = Math.max(0, left); iw < Math.min(W, left + col.side + 2); iw++) {
            for (let c = 0; c < C; c++) patch[c] = Math.max(patch[c] ?? 0, Math.abs(x[((n * H + ih) * W + iw) * C + c] ?? 0));
          }
        }
        for (let o = 0; o < O; o++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += (patch[c] ?? 0) * (tap[c * O + o] ?? 0);
          scale[((n * g.outHeight + oh) * g.outWidth + ow) * O + o] = s;
        }
      }
    }
  }
  return scale;
}

/**
 * The scale of the filter gradient's rounding by F(3 x 3, 4 x 4), per entry
 * of `dw` (`[3, 3, C, O]`, the same for the nine taps): the sum over images
 * and 4 x 4 output tiles of the largest `|x[c]|` in the tile's 6 x 6 input
 * patch times the largest `|dy[o]|` in the tile. The kernel's F(2, 3) tiles
 * at the edges (one or two outputs left) cover the same outputs, and their
 * 4-wide patches are these 6-wide ones clipped to the input.
 */
export function winogradFilterGradScale(x: ArrayLike<number>, dy: ArrayLike<number>, g: WinogradShape): Float64Array {
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O, outHeight: OH, outWidth: OW } = g;
  const sums = new Float64Array(C * O);
  const patch = new Float64Array(C);
  const tile = new Float64Array(O);
  for (let n = 0; n < g.batch; n++) {
    for (let th = 0; th < Math.ceil(OH / 4); th++) {
      for (let tw = 0; tw < Math.ceil(OW / 4); tw++) {
        patch.fill(0);
        tile.fill(0);
        const top = 4 * th - g.padTop;
        const left = 4 * tw - g.padLeft;
        for (let ih = Math.max(0, top); ih < Math.min(H, top + 6); ih++) {
          for (let iw = Math.max(0, left); iw < Math.min(W, left + 6); iw++) {
            for (let c = 0; c < C; c++) patch[c] = Math.max(patch[c] ?? 0, Math.abs(x[((n * H + ih) * W + iw) * C + c] ?? 0));
          }
        }
        for (let oh = 4 * th; oh < Math.min(OH, 4 * th + 4); oh++) {
          for (let ow = 4 * tw; ow < Math.min(OW, 4 * tw + 4); ow++) {
            for (let o = 0; o < O; o++) tile[o] = Math.max(tile[o] ?? 0, Math.abs(dy[((n * OH + oh) * OW + ow) * O + o] ?? 0));
          }
        }
        for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) sums[c * O + o] = (sums[c * O + o] ?? 0) + (patch[c] ?? 0) * (tile[o] ?? 0);
      }
    }
  }
  const scale = new Float64Array(9 * C * O);
  for (let t = 0; t < 9; t++) scale.set(sums, t * C * O);
  return scale;
}
