// Matmul kernel variants and the choice between them per adapter. Software adapters (SwiftShader) execute
// workgroup barriers very slowly, so the register-blocked kernel without shared memory wins there; real GPUs reward
// other shapes. The variant is a set of override constants for shaders/matmul.wgsl.

export interface MatmulVariant {
  name: string;
  /** Workgroup size in threads; each thread computes a 4×4 block of the output. */
  wgX: number;
  wgY: number;
}

export const MATMUL_VARIANTS: MatmulVariant[] = [
  { name: 'reg4x4-wg8x8', wgX: 8, wgY: 8 },
  { name: 'reg4x4-wg16x4', wgX: 16, wgY: 4 },
  { name: 'reg4x4-wg16x16', wgX: 16, wgY: 16 },
];

const chosen = new WeakMap<GPUDevice, MatmulVariant>();

/** The variant used on this device (the default until a benchmark picks one with setMatmulVariant). */
export function matmulVariant(device: GPUDevice): MatmulVariant {
  return chosen.get(device) ?? MATMUL_VARIANTS[0]!;
}

export function setMatmulVariant(device: GPUDevice, v: MatmulVariant): void {
  chosen.set(device, v);
}
