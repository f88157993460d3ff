// Regenerates lib/interop/onnx-schema.ts (the protobufjs JSON descriptor of lib/interop/onnx.proto):
//   node scripts/onnx-schema.cjs && npx prettier --write lib/interop/onnx-schema.ts
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');

const dir = path.join(__dirname, '..', 'lib', 'interop');
const root = protobuf.loadSync(path.join(dir, 'onnx.proto'));
const head = [
  '// The ONNX protobuf schema (lib/interop/onnx.proto, copied from the onnx Python package 1.12;',
  '// Apache-2.0, see THIRD_PARTY_NOTICES) as a protobufjs JSON descriptor, generated once by',
  '// scripts/onnx-schema.cjs (protobuf.loadSync(onnx.proto).toJSON()): nothing is read from disk at',
  '// run time and the package ships no .proto file.',
  '',
];
fs.writeFileSync(
  path.join(dir, 'onnx-schema.ts'),
  head.join('\n') + 'export const ONNX_SCHEMA = ' + JSON.stringify(root.toJSON()) + ';\n',
);
