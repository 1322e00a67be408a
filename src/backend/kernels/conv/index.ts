/**
 * 2-D convolution and pooling over NHWC arrays: the kernels behind
 * `conv-general` and the pooling ops, with the two gradient kernels of a
 * convolution, each a convolution in its own right.
 *
 * Layouts are TensorFlow's: input `[N, H, W, C]`, filter `[KH, KW, C / groups,
 * O]` (HWIO), output `[N, OH, OW, O]`. Output sizes and the padding of
 * `"same"` come from the shared shape rules (`convOutSize`, `windowPadding`),
 * so a kernel can never disagree with the shape its op reports.
 *
 * The gradients, and the forward pass of pointwise and very deep filters,
 * use im2col (Chellapilla, Puri and Simard, "High performance convolutional
 * neural networks for document processing", 2006; Caffe's `im2col`/`col2im`):
 * the window under each output position is copied into one row of a matrix,
 * and the convolution becomes one matrix product with the filter, done by the
 * blocked `gemm`. With HWIO filters no filter copy is needed: the filter of a
 * group is already a `[KH * KW * C / groups, O]` matrix, read in place
 * (transposed for the input gradient).
 *
 * - forward, five ways. A float32 shallow window (one or two input
 *   channels under a 3 x 3 filter, or any window of fewer than 64 taps
 *   times channels that Winograd does not take) is summed directly in
 *   WebAssembly SIMD (`conv2dDirectWasm`, `direct-wasm.ts`). A float32 3 x 3 filter with stride and dilation 1
 *   and one group, where its tiles save multiplies, takes Winograd's
 *   F(4 x 4, 3 x 3) in WebAssembly SIMD (`conv2dWinogradWasm`, 36 multiplies
 *   per 4 x 4 tile and channel pair instead of 144; 0.45 of implicit GEMM's
 *   time on bench case 2, 0.1 to 0.3 of the window kernel's below 16
 *   channels). Other 3 x 3 filters with stride and dilation 1 over at
 *   least 16 channels per group take F(2 x 2, 3 x 3) in float64
 *   (`conv2dWinograd`): 16 multiplies per 2 x 2 output tile and channel pair
 *   instead of 36, the sum over channels done as 16 `gemm` products. Other windows of up to `WINDOW_MAX_DEPTH`
 *   taps are summed directly, weight-stationary (`conv2dWindows`): the
 *   weights of 4 output channels for 9 taps sit in scalar locals while a
 *   sweep walks the output pixels, so each pixel's window values are loaded
 *   once for 36 multiply-adds (2.5x over columns at `k = 9`, where copying
 *   the columns twice dominates; 1.1x at `k = 200`; 4.7x over the direct
 *   loop that depthwise filters had before). Pointwise and deeper filters take
 *   `out = act(cols(x) @ w + bias)`, the epilogue fused into `gemm`;
 * - input gradient (the transposed convolution): `cols(dx) = dy @ w^T`,
 *   then `col2im` adds each column back under its window; a 3 x 3 filter
 *   with stride and dilation 1 and one group (float32, or at least 16
 *   output channels) instead convolves `dy` with the filter turned by 180
 *   degrees, which takes a Winograd path (`backpropByWinograd`);
 * - filter gradient: `dw = cols(x)^T @ dy`, summed over chunks of rows;
 *   a float32 3 x 3 filter with stride 1 and no epilogue, where the
 *   forward takes Winograd, takes Winograd's F(3 x 3, 4 x 4) in WebAssembly
 *   (`conv2dFilterGradWinogradWasm`: 36 products a tile, F(2, 3)'s 24 or
 *   16 at the edges).
 *
 * A 1 x 1 filter with stride 1 and no padding needs no columns at all: the
 * input is read in place. Float32 products on the WebAssembly matmul skip
 * the column matrix: the windows are packed straight into the matmul's
 * panels (implicit GEMM, `implicit.ts`). Other columns are built a chunk of output rows at a time
 * into a buffer reused across calls (every scratch buffer comes from the one
 * allocator of `../scratch.ts`), so memory stays bounded for any batch.
 *
 * Pooling (max and average) runs direct loops over the window (float32 max
 * pooling over channels in fours in WebAssembly SIMD, `wasm-pool.ts`); average
 * pooling divides by the number of input elements under the window, padding
 * excluded (as TensorFlow and Keras do with `padding="same"`). Max pooling
 * takes the first maximum on ties, and a NaN in the window wins (as NumPy's
 * `max` does); its gradient goes to that element.
 *
 * Leaves out: 1-D and 3-D convolutions (a caller reshapes 1-D to 2-D), NCHW
 * layouts, Winograd's larger tiles (F(6 x 6, 3 x 3) and up, less exact) and
 * FFT algorithms, dilated pooling, threads.
 *
 * The folder holds one concern per file: `geometry.ts` (sizes, padding,
 * checks, the walk over windows), `columns.ts` (im2col and the column
 * product), `windows.ts` (the weight-stationary window kernel), `winograd.ts`
 * (F(2 x 2, 3 x 3)), `winograd-wasm.ts` (F(4 x 4, 3 x 3) in WebAssembly), `direct-wasm.ts` (the direct sum of shallow windows in WebAssembly), `forward.ts` (which path a convolution takes),
 * `backward.ts` (both gradients, col2im), `implicit.ts` (columns packed
 * straight into the WebAssembly matmul), `pool.ts` (pooling) and
 * `wasm-pool.ts` (max pooling in WebAssembly); this file
 * is their public face.
 */

export { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from "./pool.js";
export { conv2dBackpropFilter, conv2dBackpropInput } from "./backward.js";
export { conv2d } from "./forward.js";
export { conv2dGeometry, type Conv2dOptions, type Conv2dParams, type ConvGeometry, type Padding2d, type Pool2dParams, type Size2d } from "./geometry.js";
