export type { Backend, DType } from './backend';
export { CpuBackend, cpu } from './cpu-backend';
export type * from './native';
import { cpu } from './cpu-backend';
import type { BackendInfo } from './native';

/** GEMM in use ('openblas' or 'builtin'), SIMD level and thread count of the CPU backend. */
export function backendInfo(): BackendInfo {
  return cpu().info();
}
/** Threads used by every kernel (one pool; OpenBLAS is driven from it single-threaded). */
export function setNumThreads(n: number): void {
  cpu().setNumThreads(n);
}
export { FlatParameters, recurrentParameterShapes } from './params';
export { memoryInfo, memoryLimit, setMemoryLimit } from './memory';
export type { ModelMemoryInfo } from './models/memory-info';
export type { ParamEntry } from './params';
export { Sequential } from './sequential';
export { Rng } from './rng';
export { runSync, runAsync, Exec } from './exec';
export type { Gen, Step } from './exec';
export { Tape, Scratch, ScratchPool } from './graph/tape';
export { Tensor } from './device/tensor';
export type { TensorDType, HostData } from './device/tensor';
export type { Device, TransferCounts, OnTensors } from './device/device';
export { DEVICE_OPS } from './device/device';
export { CpuDevice, cpuDevice } from './device/cpu';
export { defaultDevice, setDefaultDevice } from './device/default';
export type { DeviceOption } from './device/default';
export { OpaqueDevice, opaqueDevice } from './device/opaque';
export { CudaDevice, cudaDevice, cudaInfo, cudaAvailable } from './device/cuda';
export type { CudaInfo } from './device/cuda';
export { Layer } from './layers/layer';
export type { Act, SeqAct, VecAct, IdsAct, ActShape, Ctx, RecurrentState, Lengths } from './layers/layer';
export { Linear } from './layers/linear';
export type { LinearOptions } from './layers/linear';
export { Embedding } from './layers/embedding';
export type { EmbeddingOptions } from './layers/embedding';
export { Dropout } from './layers/dropout';
export type { DropoutOptions } from './layers/dropout';
export { TimePooling } from './layers/pooling';
export type { PoolingOptions } from './layers/pooling';
export { TimeDelay } from './layers/time-delay';
export type { TimeDelayOptions } from './layers/time-delay';
export { SimpleRNN, LSTM, GRU } from './layers/recurrent';
export type { RecurrentOptions, StepState, StepResult } from './layers/recurrent';
export { resolveOptions } from './options';
export type { FieldSpec, Schema } from './options';
export { SequenceModel } from './models/base';
export { SequenceClassifier, SequenceTagger } from './models/ready';
export { Model } from './models/model';
export { TDNN } from './models/tdnn';
export type { TDNNOptions } from './models/tdnn';
export type { ModelOptions as CustomModelOptions } from './models/model';
export { registerLayer, registeredLayers, layerFromSpec, layerSpec } from './graph/registry';
export type { LayerSpec } from './graph/registry';
export type { ModelOptions, ClassifierOptions } from './models/ready';
export type { FitOptions, History, EpochInfo, BatchInfo, Metrics } from './train/fit-options';
export { MetricsLog } from './train/fit-log';
export type { LogStream, MetricsRecord } from './train/fit-log';
export type { SummaryRow } from './models/summary';
export type { OptimizerOptions } from './train/optimizer';
export type { ScheduleOptions } from './train/schedules';
export type { SequenceInput, TargetInput, ShapedSequences, FloatRow } from './train/data';
export type { LabeledTargets } from './models/labels';
export {
  saveCheckpoint,
  loadCheckpoint,
  saveCheckpointSync,
  loadCheckpointSync,
  encodeCheckpoint,
  decodeCheckpoint,
  CheckpointError,
} from './checkpoint';
export type { Checkpoint, CheckpointTensor } from './checkpoint';
export {
  saveSafetensors,
  saveSafetensorsSync,
  loadSafetensors,
  loadSafetensorsSync,
  encodeSafetensors,
  decodeSafetensors,
  SafetensorsError,
} from './interop/safetensors';
export type {
  Safetensors,
  SafetensorsDType,
  SafetensorsInput,
  SafetensorsTensor,
  LoadSafetensorsOptions,
  WeightsModel,
} from './interop/safetensors';
export { LanguageModel } from './models/language-model';
export type { LanguageModelOptions, TextFitOptions, GenerateOptions } from './models/language-model';
export { Vocabulary } from './text/vocab';
export { Seq2Seq } from './models/seq2seq';
export type { Seq2SeqOptions, Seq2SeqFitOptions, DecodeOptions, BeamOptions, Decoded } from './models/seq2seq';
export { LuongAttention } from './layers/attention';
export { ExactRtrl } from './online/exact-rtrl';
export type { RtrlSpec, OnlineAlgorithm } from './online/exact-rtrl';
export { OnlineLearner } from './online/learner';
export type { OnlineLearnerOptions } from './online/learner';
export { mackeyGlass } from './timeseries/mackey-glass';
export type { MackeyGlassOptions } from './timeseries/mackey-glass';
export { NARX } from './models/narx';
export type { NARXOptions, NARXSeries, NARXFitOptions } from './models/narx';
export { rmse, nrmse, ndei, mape } from './timeseries/metrics';
export { StandardScaler, MinMaxScaler, scalerFromJSON } from './timeseries/scalers';
export type { ScalerJSON, StandardScalerJSON, MinMaxScalerJSON } from './timeseries/scalers';
export { slidingWindows, chronologicalSplit } from './timeseries/windows';
export type { SeriesData, WindowOptions, Windows, SplitOptions, Split } from './timeseries/windows';
export { exportOnnx, encodeOnnx } from './interop/onnx-export';
export type { ExportOnnxOptions, EncodeOnnxOptions } from './interop/onnx-export';
export { importOnnx, importOnnxSync, decodeOnnx, OnnxModel } from './interop/onnx-import';
export type { OnnxTensor, OnnxFeed } from './interop/onnx-import';
