// Node entry to WebGPU: Dawn through the `webgpu` npm package. Only the command line, the benchmark and the tests
// import this; the browser uses navigator.gpu. The WGSL, kernels, model and trainer are the same code.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let cached: Promise<GPU> | undefined;

/**
 * Dawn's GPU object, with the WebGPU globals (GPUBufferUsage, …) installed on globalThis. Uses the machine's
 * Vulkan driver (or the one VK_ICD_FILENAMES / VK_DRIVER_FILES names); where none gives an adapter — no GPU, or
 * a Mesa too old for Dawn — it falls back to Chromium's SwiftShader, a software Vulkan driver.
 */
export function nodeGpu(): Promise<GPU> {
  cached ??= (async () => {
    Object.assign(globalThis, globals);
    const gpu = create([]) as unknown as GPU;
    if (await gpu.requestAdapter()) return gpu;
    if (existsSync(SWIFTSHADER_ICD) && process.env.VK_ICD_FILENAMES !== SWIFTSHADER_ICD) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      return create([]) as unknown as GPU;
    }
    return gpu;
  })();
  return cached;
}
