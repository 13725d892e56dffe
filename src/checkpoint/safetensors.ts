// Checkpoints in Hugging Face's safetensors format (https://github.com/huggingface/safetensors, "Format"):
//
//   [u64 little-endian N][N bytes of UTF-8 JSON header, space-padded to a multiple of 8][raw little-endian data]
//
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte offsets into the data
// section) and may hold "__metadata__": {string: string}. Tensors must tile the data section exactly: no gaps, no
// overlaps, no trailing bytes (the reference reader rejects all three, and so do we).
//
// This file is the format only; what the lab keeps in it is in model-file.ts (the weights, loadable by nanoGPT),
// optimizer-file.ts (AdamW state for resuming) and config-json.ts (the model config in the metadata).

/** A checkpoint could not be read or does not fit the model: what is wrong, naming the tensor or field. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface ReadTensor {
  shape: number[];
  /** The dtype as stored; the data is always converted to float32. */
  dtype: string;
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, ReadTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of the dtypes this reader converts to float32. */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** The reference implementation refuses headers above 100 MB; so do we, before allocating anything. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Every browser and Node platform we run on is little-endian; the bulk copies below rely on it (checked). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
export const shapeStr = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Encode tensors (float32, in the given order) and string metadata. The header lists `__metadata__` first, then
 * the tensors in order, each as {"dtype","shape","data_offsets"}; it is written by hand rather than with one
 * JSON.stringify of an object so that integer-like names cannot reorder keys.
 */
export function writeSafetensors(tensors: NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const seen = new Set<string>();
  const entries: string[] = [];
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`metadata "${k}" must be a string, got ${typeof v}`);
    }
    entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new CheckpointError(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (seen.has(t.name)) throw new CheckpointError(`tensor ${t.name} is listed twice`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(`tensor ${t.name}: shape ${shapeStr(t.shape)} must hold whole numbers >= 0`);
    }
    if (numel(t.shape) !== t.data.length) {
      throw new CheckpointError(
        `tensor ${t.name}: shape ${shapeStr(t.shape)} needs ${numel(t.shape)} values, got ${t.data.length}`,
      );
    }
    const end = offset + 4 * t.data.length;
    entries.push(
      `${JSON.stringify(t.name)}:{"dtype":"F32","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // space padding keeps the data section 8-byte aligned
  const dv = new DataView(out.buffer, 8 + headerLen);
  let p = 0;
  for (const t of tensors) {
    if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 8 + headerLen + p);
      p += t.data.byteLength;
    } else {
      for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
    }
  }
  return out;
}

/** IEEE half → float (exact: every f16 value is representable in f32). */
function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeTensor(bytes: Uint8Array, begin: number, dtype: string, n: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, n * DTYPE_BYTES[dtype]);
  const out = new Float32Array(n);
  if (dtype === 'F32' && HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + 4 * n));
  } else if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true));
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse and fully validate a safetensors file; data is copied out as float32. */
export function readSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8) {
    throw new CheckpointError(`truncated file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const headerLenBig = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLenBig > BigInt(bytes.length - 8)) {
    throw new CheckpointError(
      `header length ${headerLenBig} runs past the end of the file (${bytes.length - 8} bytes follow the length); ` +
        'the file is truncated or not safetensors',
    );
  }
  const headerLen = Number(headerLenBig);
  if (headerLen > MAX_HEADER_BYTES)
    throw new CheckpointError(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new CheckpointError(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isRecord(header)) throw new CheckpointError('header must be a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const parsed: { name: string; dtype: string; shape: number[]; begin: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isRecord(entry)) throw new CheckpointError(`${METADATA_KEY} must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string')
          throw new CheckpointError(`${METADATA_KEY}.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(entry)) throw new CheckpointError(`tensor ${name}: header entry must be an object`);
    const { dtype, shape, data_offsets: offs } = entry;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new CheckpointError(
        `tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(`tensor ${name}: shape ${JSON.stringify(shape)} must be a list of whole numbers >= 0`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new CheckpointError(`tensor ${name}: data_offsets ${JSON.stringify(offs)} must be [begin, end]`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) {
      throw new CheckpointError(
        `tensor ${name}: data_offsets [${begin}, ${end}] out of range for a ${dataLen}-byte data section`,
      );
    }
    const want = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== want) {
      throw new CheckpointError(
        `tensor ${name}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${shapeStr(shape as number[])} needs ${want}`,
      );
    }
    spans.push({ name, begin, end });
    parsed.push({ name, dtype, shape: shape as number[], begin });
  }

  // The tensors must tile [0, dataLen) exactly.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const s of spans) {
    if (s.begin < covered) {
      throw new CheckpointError(
        `tensor ${s.name}: data_offsets [${s.begin}, ${s.end}] overlap the previous tensor (ends at ${covered})`,
      );
    }
    if (s.begin > covered) {
      throw new CheckpointError(
        `tensor ${s.name}: gap of ${s.begin - covered} bytes before data_offsets [${s.begin}, ${s.end}]`,
      );
    }
    covered = s.end;
  }
  if (covered !== dataLen) {
    throw new CheckpointError(
      `${dataLen - covered} trailing bytes after the last tensor (data ends at ${covered} of ${dataLen})`,
    );
  }

  const tensors = new Map<string, ReadTensor>();
  for (const p of parsed) {
    tensors.set(p.name, {
      shape: p.shape,
      dtype: p.dtype,
      data: decodeTensor(bytes, dataStart + p.begin, p.dtype, numel(p.shape)),
    });
  }
  return { tensors, metadata };
}
