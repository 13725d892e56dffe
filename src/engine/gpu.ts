// Device setup: fail loudly and early (webgpu-samples' habit). We ask the adapter for its real limits, because a
// device otherwise only gets the defaults (e.g. 8 storage buffers per stage, 128 MiB per binding), and we hook
// device loss and uncaptured errors so that nothing fails silently.

export class WebGpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuUnavailableError';
  }
}

/** What the page shows when WebGPU is missing: what is wrong and which browsers and flags work. */
export const WEBGPU_HELP =
  'This lab trains on your GPU through WebGPU. Use Chrome or Edge 113+ (on Linux start Chrome with ' +
  '--enable-unsafe-webgpu, or enable chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on ' +
  'Windows. The page must be served from https:// or http://localhost.';

export interface GpuContext {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; description: string };
  features: string[];
  /** Resolves with a message when the device is lost (driver reset, destroy(), tab in background…). */
  lost: Promise<string>;
  /** Validation and out-of-memory errors that no error scope caught, newest last. */
  errors: string[];
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * The adapter's limits, without opening a device: what a spec's memory plan is checked against before a run (the
 * device acquireGpu opens asks for exactly these). Null where there is no WebGPU or no adapter.
 */
export async function adapterLimits(
  gpu: GPU | undefined,
  powerPreference: GPUPowerPreference = 'high-performance',
): Promise<{
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
} | null> {
  const adapter = await gpu?.requestAdapter({ powerPreference });
  if (!adapter) return null;
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}

/** Acquire a device with the adapter's full limits. `gpu` is navigator.gpu in a browser or Dawn's GPU in Node. */
export async function acquireGpu(
  gpu: GPU | undefined,
  powerPreference: GPUPowerPreference = 'high-performance',
): Promise<GpuContext> {
  if (!gpu)
    throw new WebGpuUnavailableError(
      `WebGPU is not available in this browser (navigator.gpu is missing). ${WEBGPU_HELP}`,
    );
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) {
    throw new WebGpuUnavailableError(
      `WebGPU is present but no GPU adapter was found (it may be blocklisted or disabled). ${WEBGPU_HELP}`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  // Subgroup reductions for LayerNorm and cross-entropy, where the adapter has them (src/engine/reduction-variants.ts).
  if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups' as GPUFeatureName);
  // f16 storage for the MLP's activations, where it times faster (src/engine/activation-storage.ts).
  if (adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'webgpu-lab' });
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    errors.push(e.message);
    if (errors.length > 50) errors.shift();
    console.error(`WebGPU error: ${e.message}`);
  });
  const lost = device.lost.then((info) => `GPU device lost (${info.reason}): ${info.message || 'no details'}`);
  const info = adapter.info;
  return {
    device,
    adapterInfo: {
      vendor: info?.vendor || 'unknown',
      architecture: info?.architecture || 'unknown',
      description: info?.description || '',
    },
    features: [...adapter.features].map(String),
    lost,
    errors,
  };
}
