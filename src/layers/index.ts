/**
 * Layers: pure `init`/`apply` pairs with shapes in the types, and their
 * composition (`sequential`, `residual`).
 */

export { checkParams, makeLayer, type AnyLayer, type ApplyOptions, type LayerInfo, type ApplyShape, type InputDType, type InputOf, type Layer, type LayerOut, type ParamsOf, type SameShape, type ShapeFn, type ShapeFnOf, type StatefulLayer } from "./layer.js";
export { fans, glorotUniform, heNormal, initializers, lecunNormal, zeros as zerosInit, type Initializer, type InitializerName } from "./init.js";
export { dense, type Dense, type DenseFn, type DenseOptions, type DenseParams, type DenseShape } from "./dense.js";
export { activation, gelu, relu, sigmoid, silu, softmax, tanh, type Activation, type NoParams } from "./activations.js";
export { flatten, reshape, type FlattenFn, type ReshapeFn } from "./reshape.js";
export { sequential, type AnyStatefulLayer, type CheckStack, type FoldShapes, type ParamsTuple, type Sequential, type SequentialFn, type ShapeFnsOf, type StackArgs } from "./sequential.js";
export { residual, type Residual, type ResidualFn, type SameOut } from "./residual.js";
export { embedding, type Embedding, type EmbeddingFn, type EmbeddingOptions, type EmbeddingParams } from "./embedding.js";
export { dropout, type Dropout } from "./dropout.js";
export { frozen, type Frozen, type FrozenParams } from "./frozen.js";
export { gru, lstm, rnn, type Gru, type GruParams, type HiddenState, type Lstm, type LstmParams, type LstmState, type RecurrentFn, type RecurrentOptions, type RecurrentShape, type RecurrentStateShape, type Rnn, type RnnOptions, type RnnParams } from "./recurrent.js";
export { batchNorm, layerNorm, rmsNorm, type BatchNorm, type BatchNormOptions, type BatchNormParams, type BatchNormState, type FeatureFn, type FeatureShape, type LayerNorm, type LayerNormOptions, type LayerNormParams, type RmsNorm, type RmsNormOptions, type RmsNormParams } from "./norm.js";
export { crossAttention, multiHeadAttention, transformerEncoderBlock, type AttentionApplyOptions, type AttentionLayer, type AttentionOptions, type AttentionParams, type AttentionWeightsOptions, type MultiHeadAttention, type SelfAttentionFn, type SelfAttentionShape, type SequenceFn, type SequenceShape, type TransformerEncoderBlock, type TransformerEncoderOptions, type TransformerEncoderParams } from "./attention.js";
export { conv1d, conv2d, convTranspose2d, type Conv2dWindowOptions, type Conv1d, type Conv1dFn, type Conv1dLayerOptions, type Conv2d, type Conv2dFn, type Conv2dLayerOptions, type ConvParams, type ConvLayerOptions, type ConvTranspose2d, type ConvTranspose2dFn, type ConvTranspose2dLayerOptions, type DataFormat1d, type DataFormat2d } from "./conv.js";
export { summary, type ModelSummary, type SummaryOptions, type SummaryRow } from "./summary.js";
export {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  type AdaptivePool1d,
  type AdaptivePool1dFn,
  type AdaptivePool1dLayerOptions,
  type AdaptivePool1dLayerShape,
  type AdaptivePool2d,
  type AdaptivePool2dFn,
  type AdaptivePool2dLayerOptions,
  type AdaptivePool2dLayerShape,
  type AvgPool2dLayerOptions,
} from "./pool.js";
export { avgPool2d, globalAvgPool, maxPool2d, type GlobalAvgPool, type GlobalAvgPoolFn, type GlobalAvgPoolOptions, type Pool2d, type Pool2dFn, type Pool2dLayerOptions } from "./pool.js";
export { fromTorchStateDict, toTorchStateDict, TorchImportError, type FromTorchOptions, type TorchIssue, type TorchModel, type TorchNameOptions, type TorchParamsOf, type TorchTensors } from "./torch-state-dict.js";
