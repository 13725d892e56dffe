import { defineConfig } from 'vitest/config';

// Unit and parity tests run in Node; GPU tests use Dawn through the `webgpu` package on whatever Vulkan
// adapter the machine has (SwiftShader on CI, see .ci/setup).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
