// A download bundle: one zip holding a run's files (model.safetensors, optimizer.safetensors, model.onnx, the run
// config as JSON, a README), so a user saves or shares a run as a single file. Zip via fflate (PKWARE APPNOTE).
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { CheckpointError } from './safetensors';

export interface BundleFile {
  name: string;
  /** Strings are stored as UTF-8. */
  data: Uint8Array | string;
}

/**
 * Every entry gets the same timestamp, so the same files always give the same bytes (reproducible downloads, and
 * tests that can compare bundles). DOS timestamps start in 1980.
 */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

export function makeBundle(files: BundleFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const f of files) {
    if (f.name === '' || f.name.startsWith('/') || f.name.split('/').includes('..')) {
      throw new CheckpointError(`bundle entry name ${JSON.stringify(f.name)} must be a relative path without ".."`);
    }
    if (f.name in entries) throw new CheckpointError(`bundle entry ${f.name} is listed twice`);
    const data = typeof f.data === 'string' ? strToU8(f.data) : f.data;
    // Float data barely compresses; store it rather than spend time deflating it.
    const level = f.name.endsWith('.safetensors') || f.name.endsWith('.onnx') ? 0 : 6;
    entries[f.name] = [data, { level, mtime: FIXED_MTIME }];
  }
  return zipSync(entries);
}

/** The files of a bundle by name (directories left out). */
export function readBundle(bytes: Uint8Array): Map<string, Uint8Array> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new CheckpointError(`not a readable zip bundle: ${(e as Error).message}`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('/')) out.set(name, data);
  }
  return out;
}

/** A text file of a bundle, decoded as UTF-8; throws CheckpointError naming the file when it is missing. */
export function bundleText(files: Map<string, Uint8Array>, name: string): string {
  const data = files.get(name);
  if (!data)
    throw new CheckpointError(`bundle has no file ${name}; it holds ${[...files.keys()].join(', ') || 'nothing'}`);
  return new TextDecoder().decode(data);
}
