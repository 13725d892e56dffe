// The kernel choices made for an adapter (autotune.ts), kept on disk between runs of the command line and the
// benchmark (the page keeps them in IndexedDB): timing the variants costs tens of seconds on a software adapter, once
// per adapter. One small JSON file, `kernel-choices.json`, in $LAB_CACHE_DIR, else $XDG_CACHE_HOME/webgpu-training-lab, else
// ~/.cache/webgpu-training-lab. A file that cannot be read or written only costs the timing.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { VariantCache } from './adapter';

export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['LAB_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'webgpu-training-lab');
  return join(dir, 'kernel-choices.json');
}

export class FileVariantCache implements VariantCache {
  constructor(readonly file = defaultCacheFile()) {}

  private read(): Record<string, string> {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, string>) : {};
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<string | undefined> {
    const v = this.read()[key];
    return typeof v === 'string' ? v : undefined;
  }

  async set(key: string, variant: string): Promise<void> {
    const all = { ...this.read(), [key]: variant };
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so that a reader never sees half a file.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}
