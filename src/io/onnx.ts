// A network as a standard ONNX model, built in memory (no file system), so the command line and the
// pages offer the same file. The graph is the network's inference pass as our evaluation runs it:
// no dropout (the presets' dropout is inverted, kept inputs scaled by 1 / keep while training, so
// nothing is rescaled at inference), and a layer's input map (D sees pixels as 2x - 1) as Mul + Add.
//
// The protobuf is encoded by protobufjs: the most used and actively released protobuf library for
// JavaScript, whose full build parses .proto text in a browser as in Node. The schema below is the
// subset of onnx/onnx.proto (proto2, field numbers as published) that an inference graph of dense
// layers uses; the ONNX-specific packages on npm pin protobufjs 6 and are no longer released.
import protobuf from 'protobufjs';
import { biasName, layerInputs, networkClasses, parameterLayout, view, weightName } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import type { TrainingState } from '../spec/state';
import { exportedNetwork, exportedWeight, type ExportChoice, type Player } from './model-export';

const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    optional string denotation = 3;
  };
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/**
 * Opset 13 (ONNX 1.8, 2020): read by onnxruntime, onnxruntime-web, TensorRT, OpenVINO, Core ML's
 * converters and PyTorch's onnx2torch alike. Its ReduceMax still takes `axes` as an attribute.
 */
export const ONNX_OPSET = 13;
/** The IR version that opset 13 shipped with. */
const IR_VERSION = 7;
const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;
/** The symbolic batch dimension of the inputs and outputs: any number of rows per run. */
export const ONNX_BATCH_DIM = 'batch';

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** The graph's input and output names for a network, by its role. */
export function onnxNames(spec: NetworkSpec): { input: string; output: string; probability?: string } {
  if (spec.name === 'generator') return { input: 'z', output: 'x' };
  if (spec.name === 'discriminator') return { input: 'x', output: 'logit', probability: 'probability' };
  return { input: 'input', output: 'output' };
}

export interface OnnxOptions {
  /** Written into the model's metadata_props (a viewer such as Netron shows them). */
  metadata?: Record<string, string>;
  docString?: string;
}

interface Node {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute?: { name: string; type: number; i?: number; ints?: number[] }[];
}

function floatTensor(name: string, dims: number[], data: Float32Array) {
  // Little-endian by the ONNX spec, whatever the platform's byte order.
  const bytes = new Uint8Array(data.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return { name, dims, data_type: FLOAT, raw_data: bytes };
}

function int64Tensor(name: string, values: number[]) {
  const bytes = new Uint8Array(values.length * 8);
  const dv = new DataView(bytes.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], data_type: INT64, raw_data: bytes };
}

function valueInfo(name: string, features: number) {
  return {
    name,
    type: {
      tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: ONNX_BATCH_DIM }, { dim_value: features }] } },
    },
  };
}

/** A conditional network's second input: the class as a one-hot float vector, (batch, classes). */
export const ONNX_CLASS_INPUT = 'class';

/**
 * The network's inference pass as an ONNX model (opset 13), `params` laid out by the network's
 * layout table (src/nn/layout.ts), as a checkpoint decodes them. Per layer: [Mul, Add for an input
 * map], Gemm with our [in, out] weight (transB = 0), then Relu, Sigmoid, nothing for identity, or
 * for maxout Reshape to (batch, pieces, units) and ReduceMax over the pieces: our weight columns are
 * piece * units + unit. Initializers keep the checkpoint's tensor names. A discriminator gets a
 * second output, `probability` = Sigmoid(logit), the paper's D(x). A conditional network has a second
 * input, `class` (batch, classes), the one-hot class, concatenated to the first layer's input after
 * its input map (the map is x's alone), and that layer's weight has the class rows below its own.
 */
export function networkToOnnx(spec: NetworkSpec, params: Float32Array, options: OnnxOptions = {}): Uint8Array {
  const layout = parameterLayout(spec);
  if (params.length !== layout.totalFloats)
    throw new Error(`${spec.name}: ${params.length} parameters given, the layout has ${layout.totalFloats}`);
  const names = onnxNames(spec);
  const nodes: Node[] = [];
  const initializers: ReturnType<typeof floatTensor>[] = [];
  let h = names.input;
  spec.layers.forEach((layer, l) => {
    const last = l === spec.layers.length - 1;
    const at = `${spec.name}.${l}`;
    if (layer.inputMap) {
      initializers.push(
        floatTensor(`${at}.input_scale`, [], Float32Array.of(layer.inputMap.scale)),
        floatTensor(`${at}.input_shift`, [], Float32Array.of(layer.inputMap.shift)),
      );
      nodes.push({
        op_type: 'Mul',
        name: `${at}.input_map.mul`,
        input: [h, `${at}.input_scale`],
        output: [`${at}.input_scaled`],
      });
      nodes.push({
        op_type: 'Add',
        name: `${at}.input_map.add`,
        input: [`${at}.input_scaled`, `${at}.input_shift`],
        output: [`${at}.input_mapped`],
      });
      h = `${at}.input_mapped`;
    }
    const width = layer.units * layer.pieces;
    const [w, b] = [weightName(spec, l), biasName(spec, l)];
    const exported = exportedWeight(spec, params, l);
    if (exported.inputs !== layerInputs(spec, l)) {
      nodes.push({
        op_type: 'Concat',
        name: `${at}.class_concat`,
        input: [h, ONNX_CLASS_INPUT],
        output: [`${at}.with_class`],
        attribute: [{ name: 'axis', type: ATTRIBUTE_INT, i: 1 }],
      });
      h = `${at}.with_class`;
    }
    initializers.push(
      floatTensor(w, [exported.inputs, width], exported.weight),
      floatTensor(b, [width], view(params, layout, b)),
    );
    const out = last ? names.output : `${at}.output`;
    const linear = layer.activation === 'identity' ? out : `${at}.linear`;
    nodes.push({ op_type: 'Gemm', name: `${at}.gemm`, input: [h, w, b], output: [linear] });
    if (layer.activation === 'relu')
      nodes.push({ op_type: 'Relu', name: `${at}.relu`, input: [linear], output: [out] });
    if (layer.activation === 'sigmoid')
      nodes.push({ op_type: 'Sigmoid', name: `${at}.sigmoid`, input: [linear], output: [out] });
    if (layer.activation === 'maxout') {
      // 0 copies the batch dimension (Reshape's allowzero defaults to 0 in opset 13).
      initializers.push(int64Tensor(`${at}.maxout_shape`, [0, layer.pieces, layer.units]));
      nodes.push({
        op_type: 'Reshape',
        name: `${at}.maxout.reshape`,
        input: [linear, `${at}.maxout_shape`],
        output: [`${at}.pieces`],
      });
      nodes.push({
        op_type: 'ReduceMax',
        name: `${at}.maxout.max`,
        input: [`${at}.pieces`],
        output: [out],
        attribute: [
          { name: 'axes', type: ATTRIBUTE_INTS, ints: [1] },
          { name: 'keepdims', type: ATTRIBUTE_INT, i: 0 },
        ],
      });
    }
    h = out;
  });
  const outputUnits = spec.layers[spec.layers.length - 1].units;
  const outputs = [valueInfo(names.output, outputUnits)];
  if (names.probability) {
    nodes.push({
      op_type: 'Sigmoid',
      name: `${spec.name}.probability`,
      input: [names.output],
      output: [names.probability],
    });
    outputs.push(valueInfo(names.probability, outputUnits));
  }
  const model = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'webgpu-gan',
    producer_version: '1',
    doc_string: options.docString ?? '',
    graph: {
      name: spec.name,
      node: nodes,
      initializer: initializers,
      input: [
        valueInfo(names.input, spec.inputFeatures),
        ...(networkClasses(spec) > 0 ? [valueInfo(ONNX_CLASS_INPUT, networkClasses(spec))] : []),
      ],
      output: outputs,
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const type = onnxModelType();
  const message = type.fromObject(model);
  const bytes = type.encode(message).finish();
  // Node's protobufjs writer hands back a Buffer; callers (a Blob in the page) want a plain Uint8Array.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A checkpoint's G (its moving average when it keeps one, unless `rawGenerator`) or D as an ONNX
 * file's bytes: what `gan export --onnx` writes and the page offers for download.
 */
export function checkpointToOnnx(
  state: TrainingState,
  player: Player = 'generator',
  choice: ExportChoice = {},
): Uint8Array {
  const { spec, params, metadata } = exportedNetwork(state, player, choice);
  const conditional = state.config.classes > 0 ? `, given 'class', the one-hot class of ${state.config.classes}` : '';
  const what =
    (player === 'generator'
      ? `G(z), z ${state.config.noise.dim} numbers from the ${state.config.noise.distribution} noise in metadata 'noise'`
      : "D's logit and probability that x is data") + conditional;
  return networkToOnnx(spec, params, {
    metadata,
    docString: `${state.config.preset} at iteration ${state.iteration}: ${what}.`,
  });
}
