// A small builder of ONNX graphs: nodes, initializers, graph inputs and outputs with dynamic
// dimensions (dim_param), and the ModelProto around them.
import { AT, DT } from './onnx-proto';
import type { AttributeProto, Dim, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnx-proto';

/** The opset of the default domain rnnkit writes, and the IR version that goes with it. */
export const EXPORT_OPSET = 14;
export const EXPORT_IR_VERSION = 8;

export type AttrValue = number | string | number[] | string[] | { float: number } | { floats: number[] };

function attribute(name: string, v: AttrValue): AttributeProto {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: enc(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return { name, type: AT.STRINGS, strings: (v as string[]).map(enc) };
    return { name, type: AT.INTS, ints: v as number[] };
  }
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  return { name, type: AT.FLOATS, floats: v.floats };
}

function littleEndian(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  // typed arrays are in the machine's order; every platform Node runs on is little-endian
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private count = 0;
  private readonly constants = new Map<string, string>();

  constructor(readonly name: string) {}

  /** A fresh value name. */
  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** A float32 initializer. */
  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    const a = Float32Array.from(data);
    if (a.length !== dims.reduce((p, d) => p * d, 1)) throw new Error(`exportOnnx: initializer ${name} size mismatch`);
    this.initializers.push({ name, dims, dataType: DT.FLOAT, rawData: littleEndian(a) });
    return name;
  }
  /** An int64 constant initializer (shared between uses of the same values). */
  int64s(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join(',')}:${values.join(',')}`;
    const have = this.constants.get(key);
    if (have) return have;
    const name = this.fresh('const');
    this.initializers.push({
      name,
      dims,
      dataType: DT.INT64,
      rawData: littleEndian(BigInt64Array.from(values.map((v) => BigInt(v)))),
    });
    this.constants.set(key, name);
    return name;
  }
  /** A float32 scalar-shaped constant. */
  scalar(value: number, dims: number[] = []): string {
    const key = `f32:${dims.join(',')}:${value}`;
    const have = this.constants.get(key);
    if (have) return have;
    const name = this.fresh('const');
    this.initializers.push({ name, dims, dataType: DT.FLOAT, rawData: littleEndian(Float32Array.of(value)) });
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node; returns its output names (`outputs` fresh names unless given). */
  node(op: string, inputs: string[], outputs: number | string[] = 1, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op)) : outputs;
    this.nodes.push({
      opType: op,
      name: this.fresh(`${op}_node`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }
  /** One-output node. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.node(op, inputs, output ? [output] : 1, attrs)[0];
  }

  input(name: string, elemType: number, dims: Array<number | string>): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }
  output(name: string, elemType: number, dims: Array<number | string>): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  model(docString: string): ModelProto {
    return {
      irVersion: EXPORT_IR_VERSION,
      opsetImport: [{ domain: '', version: EXPORT_OPSET }],
      producerName: 'rnnkit',
      producerVersion: '0.1.0',
      docString,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): ValueInfoProto {
  const dim: Dim[] = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}
