// Which adapter a device runs on, and where the kernel choices timed on it are kept: every per-adapter choice
// (matmul-variants.ts, reduction-variants.ts, activation-storage.ts) reads the adapter's identity from here and keeps
// its choice in a VariantCache under its own key.
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  description?: string;
}

export const isSwiftShader = (a: AdapterIdentity): boolean =>
  a.architecture === 'swiftshader' || (a.vendor === 'google' && /swiftshader/i.test(a.description ?? ''));

/**
 * Mesa's lavapipe (llvmpipe), the CPU adapter Dawn finds in Node where there is no GPU: "mesa / software (llvmpipe
 * …)". Its kernel choices are known (measured: docs/kernel-notes.md), so its first run compiles only the kernels it
 * trains with; timing every variant there compiles them all, about ten minutes of LLVM on a 2-core machine.
 */
export const isLavapipe = (a: AdapterIdentity): boolean =>
  !isSwiftShader(a) && /llvmpipe|lavapipe/i.test(a.description ?? '');

/**
 * A CPU adapter: SwiftShader, or one that reports the 'software' architecture (Mesa's lavapipe: "mesa /
 * software (llvmpipe …)").
 */
export const isCpuAdapter = (a: AdapterIdentity): boolean =>
  isSwiftShader(a) || a.architecture === 'software' || /llvmpipe|lavapipe/i.test(a.description ?? '');

/** The adapter a device was opened on, where the implementation tells (GPUDevice.adapterInfo). */
export function deviceAdapter(device: GPUDevice): AdapterIdentity | null {
  // GPUDevice.adapterInfo is recent (Chrome 131, Dawn's Node package); older browsers lack it.
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info ? { vendor: info.vendor, architecture: info.architecture, description: info.description } : null;
}

/** Where the timed choice is kept, by adapter: a variant name per key. */
export interface VariantCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, variant: string): Promise<void>;
}

export class MemoryVariantCache implements VariantCache {
  private readonly map = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }
  async set(key: string, variant: string): Promise<void> {
    this.map.set(key, variant);
  }
}
