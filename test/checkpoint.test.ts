import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  loadCheckpointSync,
  saveCheckpoint,
  saveCheckpointSync,
  type Checkpoint,
  type TensorData,
} from '../lib/checkpoint';
import { forEachDevice } from './device-helpers';
import { SequenceClassifier } from '../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnnkit-checkpoint-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bytesOf = (a: TensorData): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const tempFiles = (): string[] => fs.readdirSync(dir).filter((f) => f.includes('.tmp-'));

// A float32 NaN with a non-default payload, set through the bytes so nothing canonicalizes it.
function oddNaN32(): Float32Array {
  const a = new Float32Array(1);
  new DataView(a.buffer).setUint32(0, 0x7fa00001, true);
  return a;
}

function sample(): Checkpoint {
  const f32 = new Float32Array([1.5, NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 0]);
  f32.set(oddNaN32(), 7);
  const f64src = new Float64Array([0, 0.1, NaN, -0, Infinity, -Infinity, 5e-324]);
  return {
    meta: {
      arch: { cell: 'lstm', inputSize: 3, hiddenSize: 8, layers: [{ dropout: 0.1 }, { dropout: 0 }] },
      optimizer: { kind: 'adam', lr: 1e-3, betas: [0.9, 0.999], step: 1200 },
      rng: { seed: 42, state: [1, 2, 3, 4] },
      progress: { epoch: 3, bestLoss: 0.125, done: false, note: null },
      text: 'héllo ✓ 𝄞',
    },
    tensors: {
      weight_ih_l0: { data: f32, shape: [2, 4] },
      bias: { data: f64src.subarray(1), shape: [6] }, // a view with a non-zero byteOffset
      steps: { data: new Int32Array([-2147483648, 2147483647, 0, -1, 7, 9]), shape: [2, 3] },
      bytes: { data: Uint8Array.from({ length: 256 }, (_, i) => i), shape: [16, 16] },
      empty: { data: new Float32Array(0), shape: [0] },
      empty3d: { data: new Float64Array(0), shape: [2, 0, 3] },
      one: { data: new Float64Array([Math.PI]), shape: [1] },
      scalar: { data: new Int32Array([5]), shape: [] },
    },
  };
}

function expectSame(got: Checkpoint, want: Checkpoint): void {
  expect(got.meta).toEqual(want.meta);
  expect(Object.keys(got.tensors)).toEqual(Object.keys(want.tensors));
  for (const [name, t] of Object.entries(want.tensors)) {
    const g = got.tensors[name];
    expect(g.data.constructor).toBe(t.data.constructor);
    expect(g.shape).toEqual(t.shape);
    expect(bytesOf(g.data).equals(bytesOf(t.data))).toBe(true);
  }
}

// CRC-32 (IEEE), bit by bit: a reference independent of the library's table (zlib.crc32 needs Node 20.15).
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

// Splits a valid file so tests can rewrite its header and keep its data section.
function split(buf: Buffer): { header: any; data: Buffer } {
  const start = buf.subarray(0, 8).toString('ascii') === 'RNNKIT01' ? 16 : 24;
  const L = Number(buf.readBigUInt64LE(8));
  return {
    header: JSON.parse(buf.subarray(start, start + L).toString('utf8')),
    data: buf.subarray(Math.ceil((start + L) / 8) * 8),
  };
}
// A file around a header of the test's choosing, with a valid header checksum (version 2) so
// the checks behind the checksum are what a test reaches; version 1 has no header checksum.
function assemble(headerText: string | Buffer, data: Buffer, version: 1 | 2 = 2): Buffer {
  const h = Buffer.from(headerText);
  const start = version === 1 ? 16 : 24;
  const pre = Buffer.alloc(Math.ceil((start + h.length) / 8) * 8);
  pre.write(version === 1 ? 'RNNKIT01' : 'RNNKIT02', 0, 'ascii');
  pre.writeBigUInt64LE(BigInt(h.length), 8);
  if (version === 2) pre.writeUInt32LE(crc32(Buffer.concat([pre.subarray(0, 16), h])), 16);
  h.copy(pre, start);
  return Buffer.concat([pre, data]);
}
function withHeader(buf: Buffer, edit: (h: any) => void): Buffer {
  const { header, data } = split(buf);
  edit(header);
  return assemble(JSON.stringify(header), data);
}

function expectCorrupt(buf: Uint8Array, message: RegExp): void {
  let err: unknown;
  try {
    decodeCheckpoint(buf, 'model.rnnkit');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).name).toBe('CheckpointError');
  expect((err as Error).message).toMatch(/^rnnkit checkpoint model\.rnnkit: /);
  expect((err as Error).message).toMatch(message);
}

forEachDevice(() => {
  describe('checkpoint format', () => {
    it('round-trips all four dtypes, empty and scalar-like tensors and nested meta bit for bit', () => {
      const cp = sample();
      const buf = encodeCheckpoint(cp);
      expect(buf.subarray(0, 8).toString('ascii')).toBe('RNNKIT02');
      const got = decodeCheckpoint(buf);
      expectSame(got, cp);
      for (const t of Object.values(got.tensors)) {
        expect(t.data.buffer).not.toBe(buf.buffer); // copies, not views into the file
        expect(t.data.byteOffset % t.data.BYTES_PER_ELEMENT).toBe(0);
      }
      buf.fill(0xff, buf.length - 64);
      expect(bytesOf(got.tensors.bytes.data)[255]).toBe(255);
      expect(got.tensors.bytes.data[250]).toBe(250);
    });

    it('lays the data section out aligned, contiguous and covered by a standard CRC-32', () => {
      const buf = encodeCheckpoint({
        meta: null,
        tensors: { a: { data: Buffer.from('123456789'), shape: [9] }, b: { data: new Float64Array([2]), shape: [1] } },
      });
      const { header, data } = split(buf);
      expect(header.format).toBe(2);
      const L = Number(buf.readBigUInt64LE(8));
      expect(buf.readUInt32LE(16)).toBe(crc32(Buffer.concat([buf.subarray(0, 16), buf.subarray(24, 24 + L)])));
      expect(buf.readUInt32LE(20)).toBe(0);
      expect(header.tensors.a).toEqual({ dtype: 'uint8', shape: [9], offset: 0, length: 9 });
      expect(header.tensors.b).toEqual({ dtype: 'float64', shape: [1], offset: 16, length: 8 });
      expect(header.dataLength).toBe(24);
      expect(data.length).toBe(24);
      expect((buf.length - data.length) % 8).toBe(0);
      const single = split(
        encodeCheckpoint({ meta: null, tensors: { a: { data: Buffer.from('123456789'), shape: [9] } } }),
      );
      expect(single.header.crc32).toBe(0xcbf43926); // the CRC-32 check value of "123456789"
    });

    it("keeps a tensor named '__proto__' and undefined meta becomes null", () => {
      const tensors = JSON.parse('{"__proto__": {"shape": [2]}}');
      tensors.__proto__.data = new Int32Array([1, 2]);
      const got = decodeCheckpoint(encodeCheckpoint({ meta: undefined, tensors }));
      expect(Object.keys(got.tensors)).toEqual(['__proto__']);
      expect(Array.from(Object.getOwnPropertyDescriptor(got.tensors, '__proto__')!.value.data)).toEqual([1, 2]);
      expect(Object.getPrototypeOf(got.tensors)).toBe(Object.prototype);
      expect(got.meta).toBeNull();
    });

    it('rejects invalid input when encoding', () => {
      const f = new Float32Array(6);
      expect(() => encodeCheckpoint({ meta: 1, tensors: { w: { data: f, shape: [4, 2] } } })).toThrow(
        /shape \[4,2\] has 8 elements but data has 6/,
      );
      expect(() => encodeCheckpoint({ meta: 1, tensors: { w: { data: f, shape: [-6] } } })).toThrow(
        /non-negative integers/,
      );
      expect(() => encodeCheckpoint({ meta: 1, tensors: { w: { data: f, shape: [2.5, 2.4] } } })).toThrow(
        /non-negative integers/,
      );
      expect(() => encodeCheckpoint({ meta: 1, tensors: { '': { data: f, shape: [6] } } })).toThrow(/non-empty/);
      expect(() => encodeCheckpoint({ meta: 1, tensors: { w: { data: [1, 2] as any, shape: [2] } } })).toThrow(
        /Float32Array/,
      );
      expect(() =>
        encodeCheckpoint({ meta: 1, tensors: { w: { data: new Int16Array(2) as any, shape: [2] } } }),
      ).toThrow(/Float32Array/);
      expect(() => encodeCheckpoint({ meta: 10n, tensors: {} })).toThrow(/JSON-serializable/);
      expect(() => encodeCheckpoint({ meta: () => 1, tensors: {} })).toThrow(/JSON-serializable/);
      expect(() => encodeCheckpoint(null as any)).toThrow(TypeError);
    });
  });

  describe('checkpoint files', () => {
    it('saves and loads synchronously and asynchronously', async () => {
      const cp = sample();
      const a = path.join(dir, 'sync.rnnkit');
      const b = path.join(dir, 'async.rnnkit');
      saveCheckpointSync(a, cp);
      await saveCheckpoint(b, cp);
      expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
      expectSame(loadCheckpointSync(b), cp);
      expectSame(await loadCheckpoint(a), cp);
      expect(tempFiles()).toEqual([]);
    });

    it('replaces an existing file, and a failed save leaves it intact with no temp files behind', async () => {
      const file = path.join(dir, 'model.rnnkit');
      const first = { meta: { epoch: 1 }, tensors: { w: { data: new Float32Array([1, 2]), shape: [2] } } };
      const second = { meta: { epoch: 2 }, tensors: { w: { data: new Float32Array([3, 4, 5]), shape: [3] } } };
      saveCheckpointSync(file, first);
      await saveCheckpoint(file, second);
      expectSame(loadCheckpointSync(file), second);
      const before = fs.readFileSync(file);

      const bad = { meta: {}, tensors: { w: { data: new Float32Array(3), shape: [2, 2] } } };
      expect(() => saveCheckpointSync(file, bad)).toThrow(RangeError);
      await expect(saveCheckpoint(file, bad)).rejects.toThrow(RangeError);
      // The rename itself fails (the target is a directory): the temp file must be cleaned up.
      const taken = path.join(dir, 'taken');
      fs.mkdirSync(path.join(taken, 'inside'), { recursive: true });
      expect(() => saveCheckpointSync(taken, second)).toThrow();
      await expect(saveCheckpoint(taken, second)).rejects.toThrow();
      const missing = path.join(dir, 'no-such-dir', 'model.rnnkit');
      expect(() => saveCheckpointSync(missing, second)).toThrow(/ENOENT/);
      await expect(saveCheckpoint(missing, second)).rejects.toThrow(/ENOENT/);

      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(fs.existsSync(path.dirname(missing))).toBe(false);
      expect(tempFiles()).toEqual([]);
      fs.rmSync(taken, { recursive: true });
    });

    it('reports a missing file as the file system error, not as corruption', () => {
      expect(() => loadCheckpointSync(path.join(dir, 'absent.rnnkit'))).toThrow(/ENOENT/);
    });

    it('names the file in errors from load', async () => {
      const file = path.join(dir, 'short.rnnkit');
      fs.writeFileSync(file, encodeCheckpoint(sample()).subarray(0, 100));
      await expect(loadCheckpoint(file)).rejects.toThrow(`rnnkit checkpoint ${file}: file is truncated`);
    });
  });

  describe('corrupt checkpoints', () => {
    const valid = encodeCheckpoint(sample());
    const two = encodeCheckpoint({
      meta: null,
      tensors: {
        weight_ih_l0: { data: new Float64Array(6), shape: [2, 3] },
        b: { data: new Float64Array(2), shape: [2] },
      },
    });

    it('rejects truncation at every stage', () => {
      expectCorrupt(valid.subarray(0, 0), /file is truncated: expected at least 24 bytes .*found 0/);
      expectCorrupt(valid.subarray(0, 7), /file is truncated: expected at least 24 bytes .*found 7/);
      expectCorrupt(valid.subarray(0, 23), /file is truncated: expected at least 24 bytes .*found 23/);
      expectCorrupt(valid.subarray(0, 40), /file is truncated: header length says \d+ bytes of header, found 16/);
      const { header, data } = split(valid);
      expectCorrupt(
        valid.subarray(0, valid.length - 100),
        new RegExp(`file is truncated: header says ${header.dataLength} bytes of data, found ${data.length - 100}`),
      );
    });

    it('rejects a bad preamble', () => {
      const zip = Buffer.from(valid);
      zip.set([0x50, 0x4b, 0x03, 0x04], 0);
      expectCorrupt(zip, /bad magic: expected RNNKIT02 \(or RNNKIT01\), found 504b0304/);
      expectCorrupt(Buffer.from('PK\x03'), /bad magic: expected RNNKIT02 \(or RNNKIT01\), found 504b03$/);
      const long = Buffer.from(valid);
      long.writeBigUInt64LE(BigInt(valid.length), 8);
      expectCorrupt(long, /file is truncated: header length says \d+ bytes of header/);
      const huge = Buffer.from(valid);
      huge.writeBigUInt64LE(0xffffffffffffffffn, 8);
      expectCorrupt(huge, /header length 18446744073709551615 exceeds the 67108864-byte limit/);
    });

    it('rejects headers that are not a canonical JSON object of the current format', () => {
      const { data } = split(valid);
      expectCorrupt(assemble('{"format":1,', data), /header is not valid JSON/);
      expectCorrupt(assemble(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), data), /header is not valid UTF-8/);
      expectCorrupt(assemble('[1,2]', data), /header must be a JSON object, found an array/);
      expectCorrupt(assemble('null', data), /header must be a JSON object, found null/);
      expectCorrupt(assemble('"text"', data), /header must be a JSON object, found string/);
      expectCorrupt(
        withHeader(valid, (h) => {
          h.format = 1;
        }),
        /unsupported format version 1: a file with magic RNNKIT02 has version 2/,
      );
      expectCorrupt(
        withHeader(valid, (h) => {
          delete h.format;
        }),
        /unsupported format version missing/,
      );
      const text = split(valid).header;
      expectCorrupt(assemble(JSON.stringify(text, null, 1), data), /not canonical JSON/);
      // A duplicate tensor entry: JSON.parse would silently keep only the second one.
      const dup = JSON.stringify(text).replace(
        '"tensors":{',
        '"tensors":{"bias":{"dtype":"uint8","shape":[1],"offset":0,"length":1},',
      );
      expectCorrupt(assemble(dup, data), /duplicate keys/);
      expectCorrupt(
        withHeader(valid, (h) => {
          h.extra = 1;
        }),
        /unexpected field 'extra' in header/,
      );
      expectCorrupt(
        withHeader(valid, (h) => {
          delete h.crc32;
        }),
        /header is missing field 'crc32'/,
      );
      expectCorrupt(
        withHeader(valid, (h) => {
          h.tensors = [1];
        }),
        /'tensors' must be an object, found an array/,
      );
      expectCorrupt(
        assemble(`{"format":2,"meta":${'['.repeat(200000)}${']'.repeat(200000)}}`, data),
        /nested too deeply/,
      );
    });

    it('rejects bad tensor entries', () => {
      expectCorrupt(
        withHeader(valid, (h) => {
          h.tensors.bias.dtype = 'float16';
        }),
        /tensor 'bias' has unknown dtype "float16": expected one of float32, float64, int32, uint8/,
      );
      expectCorrupt(
        withHeader(valid, (h) => {
          h.tensors.bias.dtype = 'constructor';
        }),
        /unknown dtype "constructor"/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.weight_ih_l0.shape = [8, 3];
        }),
        /tensor 'weight_ih_l0' has shape \[8,3\] \(24 elements\) but 48 bytes of float64 \(6 elements\)/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.weight_ih_l0.shape = [2, -3];
        }),
        /tensor 'weight_ih_l0' has shape \[2,-3\]: expected an array of non-negative integers/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.weight_ih_l0.shape = [2 ** 30, 2 ** 30, 2 ** 30];
        }),
        /has shape .* safe product/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b.offset = 64;
        }),
        /tensor 'b' has offset out of range: bytes 64\.\.80 but the data section has 64/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b.offset = 40;
        }),
        /tensors 'weight_ih_l0' \(bytes 0\.\.48\) and 'b' \(bytes 40\.\.56\) overlap/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b.offset = 52;
        }),
        /tensor 'b' has misaligned offset 52: expected a multiple of 8/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b.offset = -8;
        }),
        /tensor 'b' has offset -8 and length 16: expected non-negative integers/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b.length = 12;
        }),
        /tensor 'b' has shape \[2\] \(2 elements\) but 12 bytes of float64 \(1\.5 elements\)/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          delete h.tensors.b.length;
        }),
        /tensor 'b' is missing field 'length'/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors.b = 'x';
        }),
        /tensor 'b' must be an object, found string/,
      );
      expectCorrupt(
        withHeader(two, (h) => {
          h.tensors[''] = h.tensors.b;
          delete h.tensors.b;
        }),
        /tensor names must be non-empty/,
      );
    });

    it('rejects bad header values of every field', () => {
      const hostile = [-1, 0.5, 2 ** 53, 1e300, '8', null, true, [8], { n: 8 }];
      for (const v of hostile) {
        for (const field of ['dtype', 'shape', 'offset', 'length'])
          expectCorrupt(
            withHeader(two, (h) => {
              h.tensors.b[field] = v;
            }),
            /tensor 'b' has/,
          );
        expectCorrupt(
          withHeader(two, (h) => {
            h.dataLength = v;
          }),
          /dataLength must be a non-negative integer/,
        );
        expectCorrupt(
          withHeader(two, (h) => {
            h.crc32 = v;
          }),
          /crc32 must be an unsigned 32-bit integer/,
        );
      }
    });

    it('refuses every single-bit flip and every truncation of a saved model file', () => {
      const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2, cell: 'gru' });
      const file = path.join(dir, 'flips.rnnkit');
      m.saveSync(file);
      const buf = fs.readFileSync(file);
      const dataStart = buf.length - split(buf).header.dataLength;
      expect(dataStart).toBeGreaterThan(500); // the header region is most of the file
      const accepted: string[] = [];
      for (let at = 0; at < buf.length; at++)
        for (let bit = 0; bit < 8; bit++) {
          buf[at] ^= 1 << bit;
          try {
            decodeCheckpoint(buf);
            accepted.push(`byte ${at} bit ${bit}`);
          } catch (e) {
            if (!(e instanceof CheckpointError)) throw e;
          }
          buf[at] ^= 1 << bit;
        }
      expect(accepted).toEqual([]);
      const kept: number[] = [];
      for (let n = 0; n < buf.length; n++) {
        try {
          decodeCheckpoint(buf.subarray(0, n));
          kept.push(n);
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw e;
        }
      }
      expect(kept).toEqual([]);
      expect(() => decodeCheckpoint(buf)).not.toThrow();
      m.dispose();
    });

    it('reads format version 1 (no header checksum) and refuses a version mismatch', () => {
      const { header, data } = split(valid);
      const v1 = assemble(JSON.stringify({ ...header, format: 1 }), data, 1);
      expectSame(decodeCheckpoint(v1), sample());
      expectCorrupt(
        assemble(JSON.stringify(header), data, 1),
        /unsupported format version 2: a file with magic RNNKIT01 has version 1/,
      );
      expectCorrupt(
        v1.subarray(0, 15),
        /file is truncated: expected at least 16 bytes \(magic, header length\), found 15/,
      );
      const flipped = Buffer.from(valid);
      flipped[30] ^= 4;
      expectCorrupt(flipped, /header checksum mismatch: the header is corrupt/);
      const reserved = Buffer.from(valid);
      reserved[21] = 1;
      reserved.writeUInt32LE(
        crc32(
          Buffer.concat([reserved.subarray(0, 16), reserved.subarray(24, 24 + Number(reserved.readBigUInt64LE(8)))]),
        ),
        16,
      );
      expectCorrupt(reserved, /reserved byte 21 must be 0, found 1/);
    });

    it('rejects corrupt data, padding and trailing bytes', () => {
      const flipped = Buffer.from(valid);
      flipped[flipped.length - 3] ^= 0x10;
      expectCorrupt(flipped, /checksum mismatch: data section is corrupt/);
      expectCorrupt(Buffer.concat([valid, Buffer.from([0])]), /1 trailing bytes after the \d+-byte data section/);
      // Pick a meta length that leaves padding between header and data, then dirty its first byte.
      const padded = [0, 1, 2, 3]
        .map((k) =>
          withHeader(two, (h) => {
            h.meta = 'x'.repeat(k);
          }),
        )
        .find((b) => Number(b.readBigUInt64LE(8)) % 8 !== 0)!;
      const at = 24 + Number(padded.readBigUInt64LE(8));
      expect(decodeCheckpoint(padded).meta).toMatch(/^x*$/);
      padded[at] = 1;
      expectCorrupt(padded, new RegExp(`padding byte ${at} after the header must be 0, found 1`));
    });

    it('fuzz: random byte flips and truncations decode or throw CheckpointError, nothing else', () => {
      let seed = 12345;
      const rand = (n: number): number => {
        // mulberry32, so a failure is reproducible
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
      };
      const outcomes = { decoded: 0, rejected: 0 };
      const attempt = (buf: Buffer, what: string): void => {
        try {
          decodeCheckpoint(buf);
          outcomes.decoded++;
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw new Error(`${what}: ${String(e)}`);
          outcomes.rejected++;
        }
      };
      for (let i = 0; i < 300; i++) {
        const b = Buffer.from(valid);
        const at = rand(b.length);
        b[at] ^= 1 + rand(255);
        attempt(b, `flip at ${at}`);
      }
      for (let i = 0; i < 100; i++) attempt(valid.subarray(0, rand(valid.length)), `truncation #${i}`);
      expect(outcomes.rejected).toBeGreaterThan(350);
    });
  });
});
