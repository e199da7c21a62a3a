/**
 * Builds small ONNX models in memory for tests and benchmarks, with a protobuf writer of its own (no
 * dependency): a colour classifier whose answer is known in advance, models with any output shapes (to
 * exercise layout detection), and optional `metadata_props` as Ultralytics writes them.
 */

/** A dimension: a size, or a name for a dynamic one. */
export type BuildDim = number | string;

export interface ValueSpec {
  name: string;
  shape: BuildDim[];
  /** ONNX element type; float32 when absent. */
  elemType?: "float32" | "int64";
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[]>;
}

export interface InitializerSpec {
  name: string;
  dims: number[];
  /** float32 values, or int64 values when `int64` is set. */
  values: number[];
  int64?: boolean;
}

export interface GraphSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  metadata?: Record<string, string>;
}

const ELEM_TYPE = { float32: 1, int64: 7 } as const;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** Protobuf encoding: a message is a list of fields, each a tag and a value. */
class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  varint(field: number, value: number): this {
    this.parts.push(tag(field, 0), encodeVarint(value));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.parts.push(tag(field, 2), encodeVarint(value.length), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

const tag = (field: number, wireType: number) => encodeVarint(field * 8 + wireType);

/** Varints of non-negative integers, and of negative ones as 64-bit two's complement (ten bytes). */
function encodeVarint(value: number): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

function valueInfo(spec: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of spec.shape) shape.message(1, typeof d === "number" ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, ELEM_TYPE[spec.elemType ?? "float32"]).message(2, shape);
  return new ProtoWriter().string(1, spec.name).message(2, new ProtoWriter().message(1, tensorType));
}

function node(spec: NodeSpec, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of spec.inputs) w.string(1, i);
  for (const o of spec.outputs) w.string(2, o);
  w.string(3, `${spec.op.toLowerCase()}_${index}`).string(4, spec.op);
  for (const [name, value] of Object.entries(spec.attributes ?? {})) {
    const attr = new ProtoWriter().string(1, name);
    if (Array.isArray(value)) {
      for (const v of value) attr.varint(8, v);
      attr.varint(20, ATTR_INTS);
    } else attr.varint(3, value).varint(20, ATTR_INT);
    w.message(5, attr);
  }
  return w;
}

function initializer(spec: InitializerSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of spec.dims) w.varint(1, d);
  w.varint(2, spec.int64 ? ELEM_TYPE.int64 : ELEM_TYPE.float32).string(8, spec.name);
  const raw = spec.int64 ? new BigInt64Array(spec.values.map((v) => BigInt(v))) : new Float32Array(spec.values);
  return w.bytes(9, new Uint8Array(raw.buffer));
}

/** A ModelProto (ir_version 8, default-domain opset 13) holding one graph. */
export function buildModel(spec: GraphSpec): Uint8Array {
  const graph = new ProtoWriter();
  spec.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, "test-graph");
  for (const init of spec.initializers ?? []) graph.message(5, initializer(init));
  for (const i of spec.inputs) graph.message(11, valueInfo(i));
  for (const o of spec.outputs) graph.message(12, valueInfo(o));
  const model = new ProtoWriter().varint(1, 8).string(2, "vbatch-onnx-builder").message(7, graph);
  model.message(8, new ProtoWriter().string(1, "").varint(2, 13));
  for (const [key, value] of Object.entries(spec.metadata ?? {})) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}

export interface ClassifierSpec {
  /** One row per input channel (R, G, B), one column per class: logits = mean(channel) · weights + bias. */
  weights: [number[], number[], number[]];
  bias?: number[];
  height: number;
  width: number;
  metadata?: Record<string, string>;
}

/**
 * `images` float32 [N,3,H,W] (N dynamic) → `probs` [N,C]: GlobalAveragePool → Flatten → MatMul → Add →
 * Softmax. With weights favouring one channel per class, a crop of a plain colour gets a known class.
 */
export function classifierModel(spec: ClassifierSpec): Uint8Array {
  const classes = spec.weights[0].length;
  return buildModel({
    inputs: [{ name: "images", shape: ["batch", 3, spec.height, spec.width] }],
    outputs: [{ name: "probs", shape: ["batch", classes] }],
    nodes: [
      { op: "GlobalAveragePool", inputs: ["images"], outputs: ["pooled"] },
      { op: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "MatMul", inputs: ["flat", "weights"], outputs: ["logits"] },
      { op: "Add", inputs: ["logits", "bias"], outputs: ["biased"] },
      { op: "Softmax", inputs: ["biased"], outputs: ["probs"], attributes: { axis: 1 } },
    ],
    initializers: [
      { name: "weights", dims: [3, classes], values: spec.weights.flat() },
      { name: "bias", dims: [classes], values: spec.bias ?? new Array(classes).fill(0) },
    ],
    metadata: spec.metadata,
  });
}

export interface ShapedOutputsSpec {
  input: BuildDim[];
  outputs: { name: string; shape: BuildDim[] }[];
  metadata?: Record<string, string>;
}

/**
 * A model with the given input and output shapes whose outputs are zeros (ConstantOfShape). A dynamic
 * output dimension named like one of the input's takes that dimension's size when run (so it stays
 * dynamic in the model); other dynamic dimensions are 1.
 */
export function shapedOutputsModel(spec: ShapedOutputsSpec): Uint8Array {
  const nodes: NodeSpec[] = [{ op: "Shape", inputs: ["images"], outputs: ["input_shape"] }];
  const initializers: InitializerSpec[] = [];
  for (const o of spec.outputs) {
    const pieces = o.shape.map((d, i) => {
      const piece = `${o.name}_dim${i}`;
      const fromInput = typeof d === "string" ? spec.input.indexOf(d) : -1;
      if (fromInput >= 0) {
        initializers.push({ name: `${piece}_index`, dims: [1], values: [fromInput], int64: true });
        nodes.push({ op: "Gather", inputs: ["input_shape", `${piece}_index`], outputs: [piece] });
      } else initializers.push({ name: piece, dims: [1], values: [typeof d === "number" ? d : 1], int64: true });
      return piece;
    });
    nodes.push({ op: "Concat", inputs: pieces, outputs: [`${o.name}_shape`], attributes: { axis: 0 } });
    nodes.push({ op: "ConstantOfShape", inputs: [`${o.name}_shape`], outputs: [o.name] });
  }
  return buildModel({ inputs: [{ name: "images", shape: spec.input }], outputs: spec.outputs, nodes, initializers, metadata: spec.metadata });
}
