import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import type { AttentionParams, LayerNormParams, TransformerEncoderParams } from "../src/layers/index.js";
import { key } from "../src/random/key.js";
import { batchNorm, crossAttention, dense, frozen, layerNorm, multiHeadAttention, relu, residual, rmsNorm, sequential, transformerEncoderBlock, type BatchNormParams, type BatchNormState, type TransformerEncoderBlock, type NoParams } from "../src/layers/index.js";

const k = key(0);
/** A value of type `T`, for type tests only. */
declare function typeOf<T>(): T;
declare const tokens: Tensor<["N", 64, 128]>;
declare const memory: Tensor<["N", 10, 128]>;
declare const otherBatch: Tensor<["M", 10, 128]>;
declare const images: Tensor<["N", 7, 7, 64]>;
declare const padding: Tensor<["N", 64], "bool">;

// layerNorm and rmsNorm: [...B, F] to itself, parameters of [F]
const ln = layerNorm(128);
const pln = ln.init(k);
expectType<{ scale: Tensor<[128]>; bias: Tensor<[128]> }>(pln);
expectType<{ scale: Tensor<[128]> }>(layerNorm(128, { useBias: false }).init(k));
expectType<NoParams>(layerNorm(128, { useScale: false, useBias: false }).init(k));
expectType<Tensor<["N", 64, 128]>>(ln.apply(pln, tokens));
expectType<Tensor<[32, 128]>>(ln.apply(pln, zeros([32, 128])));
expectError(ln.apply(pln, zeros([32, 64])));
expectError(ln.apply(pln, zeros([])));
const rms = rmsNorm(128);
expectType<{ scale: Tensor<[128]> }>(rms.init(k));
expectType<Tensor<["N", 64, 128]>>(rms.apply(rms.init(k), tokens));
expectError(rms.apply(rms.init(k), zeros([4, 100])));

// batchNorm: a stateful layer, channels last
const bn = batchNorm(64);
const pbn = bn.init(k);
const state = bn.initState();
expectType<BatchNormState<64>>(state);
expectType<{ mean: Tensor<[64]>; var: Tensor<[64]> }>(state);
expectType<[Tensor<["N", 7, 7, 64]>, BatchNormState<64>]>(bn.apply(pbn, state, images, { training: true }));
expectError(bn.apply(pbn, state, zeros([8, 32])));
expectError(bn.apply(pbn, batchNorm(32).initState(), images));

// batchNorm in a stack: the stack has state too, a tuple with one entry per layer ({} for a layer without state)
const trained = sequential(dense(128, 64), batchNorm(64), relu(), dense(64, 10));
const ptrained = trained.init(k);
const strained = trained.initState();
expectType<[NoParams, BatchNormState<64>, NoParams, NoParams]>(strained);
expectType<BatchNormParams<64>>(ptrained[1]);
expectType<[Tensor<[8, 10]>, [NoParams, BatchNormState<64>, NoParams, NoParams]]>(trained.apply(ptrained, strained, zeros([8, 128]), { training: true }));
expectError(trained.apply(ptrained, strained, zeros([8, 100])));
expectError(trained.apply(ptrained, [{}, batchNorm(32).initState(), {}, {}], zeros([8, 128])));
expectError(trained.apply(ptrained, zeros([8, 128])));
expectError(sequential(dense(128, 32), batchNorm(64)));
// nested: the outer stack's state holds the inner stack's tuple; frozen takes a stateful stack whole
const nested = sequential(sequential(batchNorm(128), dense(128, 64)), relu(), batchNorm(64));
expectType<[[BatchNormState<128>, NoParams], NoParams, BatchNormState<64>]>(nested.initState());
expectType<Tensor<["N", 64, 64]>>(nested.apply(nested.init(k), nested.initState(), tokens)[0]);
expectType<Tensor<[8, 10]>>(frozen(trained).apply(frozen(trained).init(k), zeros([8, 128])));
// a stack without a stateful layer stays a plain layer
expectType<Tensor<[8, 10]>>(sequential(dense(128, 10), relu()).apply(sequential(dense(128, 10), relu()).init(k), zeros([8, 128])));

// ... and taken frozen (inference mode, its state a parameter), a plain layer
const bnStack = sequential(dense(128, 64), frozen(batchNorm(64)), relu(), dense(64, 10));
const pbnStack = bnStack.init(k);
expectType<{ params: { scale: Tensor<[64]>; bias: Tensor<[64]> }; state: BatchNormState<64> }>(pbnStack[1]);
expectType<Tensor<[8, 10]>>(bnStack.apply(pbnStack, zeros([8, 128])));
expectType<Tensor<["N", 7, 7, 64]>>(frozen(bn).apply(frozen(bn).init(k), images));
expectError(sequential(dense(128, 32), frozen(batchNorm(64))));
expectError(frozen(bn).apply(frozen(bn).init(k), zeros([8, 32])));

// multiHeadAttention: [N, T, D] to itself; cross-attention keeps the query's shape
const mha = multiHeadAttention(128, 4);
const pmha = mha.init(k);
expectType<Tensor<[128, 128]>>(pmha.wq);
expectType<Tensor<[128]>>(pmha.bo);
const wide = multiHeadAttention(128, 4, { keyDim: 16, valueDim: 8 }).init(k);
expectType<Tensor<[128, 64]>>(wide.wk);
expectType<Tensor<[128, 32]>>(wide.wv);
expectType<Tensor<[32, 128]>>(wide.wo);
expectType<Tensor<["N", 64, 128]>>(mha.apply(pmha, tokens));
expectType<Tensor<["N", 64, 128]>>(mha.apply(pmha, tokens, { causal: true, mask: padding }));
expectType<Tensor<["N", 64, 128]>>(mha.attend(pmha, tokens, memory));
expectType<Tensor<[2, 5, 128]>>(mha.attend(pmha, zeros([2, 5, 128]), zeros([2, 3, 128])));
expectError(mha.apply(pmha, zeros([2, 5, 64])));
expectError(mha.apply(pmha, zeros([5, 128])));
expectError(mha.apply(pmha, zeros([2, 2, 5, 128])));
expectError(mha.attend(pmha, tokens, zeros([2, 10, 64])));
expectError(mha.attend(pmha, tokens, otherBatch));

// kdim and vdim: keys and values of other widths, typed by attend(p, query, key, value)
declare const keys64: Tensor<["N", 10, 64]>;
declare const values32: Tensor<["N", 10, 32]>;
declare const values32short: Tensor<["N", 9, 32]>;
const cross = multiHeadAttention(128, 4, { kdim: 64, vdim: 32 });
const pcross = cross.init(k);
expectType<Tensor<[64, 128]>>(pcross.wk);
expectType<Tensor<[32, 128]>>(pcross.wv);
expectType<Tensor<[128, 128]>>(pcross.wq);
expectType<Tensor<["N", 64, 128]>>(cross.attend(pcross, tokens, keys64, values32));
expectType<[Tensor<["N", 64, 128]>, Tensor<["N", 64, 10]>]>(cross.attend(pcross, tokens, keys64, values32, { needWeights: true }));
expectType<[Tensor<["N", 64, 128]>, Tensor<["N", 64, 10]>]>(cross.attend(pcross, tokens, keys64, values32, { needWeights: true, averageWeights: true }));
expectType<[Tensor<["N", 4, 64, 10]>, Tensor<["N", 4, 64, 10]>][1]>(cross.attend(pcross, tokens, keys64, values32, { needWeights: true, averageWeights: false })[1]);
expectType<Tensor<["N", 64, 128]>>(cross.attend(pcross, tokens, keys64, values32, { keyPaddingMask: typeOf<Tensor<["N", 10], "bool">>(), attnMask: typeOf<Tensor<[64, 10]>>() }));
expectType<[Tensor<["N", 64, 128]>, Tensor<["N", 64, 10]>]>(mha.attend(pmha, tokens, memory, memory, { needWeights: true, causal: true }));
expectError(cross.attend(pcross, tokens, values32, keys64)); // key and value widths swapped
expectError(cross.attend(pcross, tokens, keys64, values32short)); // 9 values for 10 keys
expectError(cross.attend(pcross, tokens, keys64)); // one keyValue needs kdim = vdim
expectError(cross.attend(pcross, tokens, keys64, values32, { needWeights: false, averageWeights: false }));
expectError(cross.attend(pcross, tokens, keys64, values32, { keyPaddingMask: typeOf<Tensor<["N", 10], "int32">>() }));
expectError(cross.apply(pcross, tokens)); // self-attention needs kdim = vdim = dModel
expectError(sequential(cross, layerNorm(128)));
expectError(multiHeadAttention(128, 4, { kdim: "64" }));
// kdim = vdim = dModel stays a self-attention layer for stacks
const same = multiHeadAttention(128, 4, { kdim: 128, vdim: 128 });
expectType<Tensor<["N", 64, 128]>>(same.apply(same.init(k), tokens));
const selfStack = sequential(same, layerNorm(128));
expectType<Tensor<["N", 64, 128]>>(selfStack.apply(selfStack.init(k), tokens));

// crossAttention: attention to a fixed memory as a layer of a stack
const decoder = sequential(crossAttention(cross, keys64, values32), layerNorm(128), dense(128, 10));
const pdecoder = decoder.init(k);
expectType<Tensor<[64, 128]>>(pdecoder[0].wk);
expectType<Tensor<["N", 64, 10]>>(decoder.apply(pdecoder, tokens));
expectType<Tensor<["N", 64, 128]>>(crossAttention(multiHeadAttention(128, 4, { kdim: 64, vdim: 64 }), keys64).apply(multiHeadAttention(128, 4, { kdim: 64, vdim: 64 }).init(k), tokens));
expectError(crossAttention(cross, values32, keys64));
expectError(crossAttention(cross, keys64)); // one memory for keys and values needs kdim = vdim
expectError(sequential(crossAttention(cross, keys64, values32), layerNorm(64)));

// transformerEncoderBlock: [N, T, D] to itself, and in a stack
const block = transformerEncoderBlock(128, 4, 512);
const pblock = block.init(k);
expectType<Tensor<[128, 512]>>(pblock.ffn1.w);
expectType<Tensor<[512, 128]>>(pblock.ffn2.w);
expectType<Tensor<[128, 32]>>(multiHeadAttention(128, 4, { keyDim: 8 }).init(k).wq);
expectType<Tensor<["N", 64, 128]>>(block.apply(pblock, tokens, { causal: true }));
expectError(block.apply(pblock, zeros([8, 64, 64])));
expectError(block.apply(pblock, zeros([64, 128])));

const model = sequential(transformerEncoderBlock(128, 4, 512), layerNorm(128), dense(128, 10));
expectType<Tensor<["N", 64, 10]>>(model.apply(model.init(k), tokens));
expectType<Tensor<[8, 64, 10]>>(model.apply(model.init(k), zeros([8, 64, 128])));
expectError(model.apply(model.init(k), zeros([8, 64, 100])));
expectError(sequential(transformerEncoderBlock(128, 4, 512), layerNorm(64)));
expectError(sequential(dense(128, 64), transformerEncoderBlock(128, 4, 512)));
expectError(sequential(transformerEncoderBlock(128, 4, 512), relu(), layerNorm(100)));
expectType<TransformerEncoderBlock<128, 4, 512>>(transformerEncoderBlock(128, 4, 512, { activation: "geluTanh" }));
expectError(transformerEncoderBlock(128, 4, 512, { activation: "swish" }));

// attention layers compose in a stack with their own parameters (not never) and the folded output shape
const attentionStack = sequential(multiHeadAttention(128, 4), layerNorm(128), dense(128, 10));
const pAttention = attentionStack.init(k);
expectType<[AttentionParams<128, 4, 32, 32>, LayerNormParams<128>, { w: Tensor<[128, 10]>; b: Tensor<[10]> }]>(pAttention);
expectType<Tensor<["N", 64, 10]>>(attentionStack.apply(pAttention, tokens));
expectType<[TransformerEncoderParams<128, 4, 512>, LayerNormParams<128>, { w: Tensor<[128, 10]>; b: Tensor<[10]> }]>(model.init(k));
expectError(sequential(multiHeadAttention(128, 4), dense(64, 10)));
expectError(sequential(dense(128, 64), multiHeadAttention(128, 4)));
const blocks = sequential(transformerEncoderBlock(128, 4, 512), transformerEncoderBlock(128, 8, 256), multiHeadAttention(128, 2));
expectType<Tensor<[8, 64, 128]>>(blocks.apply(blocks.init(k), zeros([8, 64, 128])));
expectError(blocks.apply(blocks.init(k), zeros([8, 128])));

// numHeads must divide dModel (unless keyDim is given to multiHeadAttention); a number known only at run time is checked there
expectError(transformerEncoderBlock(128, 3, 512));
expectError(multiHeadAttention(128, 3));
expectError(sequential(transformerEncoderBlock(128, 5, 512), dense(128, 10)));
expectType<Tensor<[128, 48]>>(multiHeadAttention(128, 3, { keyDim: 16 }).init(k).wq);
declare const runtimeHeads: number;
expectType<Tensor<["N", 64, 128]>>(transformerEncoderBlock(128, runtimeHeads, 512).apply(transformerEncoderBlock(128, runtimeHeads, 512).init(k), tokens));

// residual of a stateful layer or stack: stateful too, with the layer's state
const skipBn = residual(sequential(dense(64, 64), batchNorm(64)));
expectType<[NoParams, BatchNormState<64>]>(skipBn.initState());
expectType<[Tensor<["N", 7, 7, 64]>, [NoParams, BatchNormState<64>]]>(skipBn.apply(skipBn.init(k), skipBn.initState(), images, { training: true }));
expectType<Tensor<["N", 7, 7, 64]>>(sequential(relu(), residual(batchNorm(64))).apply(sequential(relu(), residual(batchNorm(64))).init(k), [{}, batchNorm(64).initState()], images)[0]);
expectError(residual(sequential(dense(64, 32), batchNorm(32))));
