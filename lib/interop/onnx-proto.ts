// The ONNX messages rnnkit reads and writes, encoded and decoded by protobufjs from the schema
// in onnx-schema.ts (camelCase field names, int64 as numbers, bytes as Uint8Array).
import * as protobuf from 'protobufjs';
import { ONNX_SCHEMA } from './onnx-schema';

/** TensorProto.DataType values rnnkit uses. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  name?: string;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  stringData?: Uint8Array[];
  externalData?: Array<{ key?: string; value?: string }>;
  dataLocation?: number;
  segment?: unknown;
}
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: unknown;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: unknown[];
  refAttrName?: string;
}
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
}
export interface Dim {
  dimValue?: number;
  dimParam?: string;
}
export interface ValueInfoProto {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Dim[] } } };
}
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: unknown[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}
export interface ModelProto {
  irVersion?: number;
  opsetImport?: Array<{ domain?: string; version?: number }>;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  functions?: unknown[];
}

let modelType: protobuf.Type | null = null;
function model(): protobuf.Type {
  if (!modelType)
    modelType = protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

export function encodeModel(m: ModelProto): Uint8Array {
  const t = model();
  return t.encode(t.fromObject(m as Record<string, unknown>)).finish();
}

/** Decodes a ModelProto; a malformed buffer throws protobufjs's error. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const t = model();
  return t.toObject(t.decode(bytes), {
    longs: Number,
    enums: Number,
    bytes: Uint8Array,
    defaults: false,
  }) as ModelProto;
}
