import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Unit and parity tests run in Node; GPU tests use Dawn through the `webgpu` package on whatever Vulkan
// adapter the machine has (lavapipe without a GPU; SwiftShader in the second pass, .ci/test-second-adapter).
//
// Lavapipe compiles each pipeline with LLVM, and a cold run of the GPU tests is mostly that compilation. With
// 128-bit vectors instead of the CPU's 256 (LP_NATIVE_VECTOR_WIDTH) LLVM compiles the same kernels about 2.3× faster
// (measured on the unrolled 16×16 matmul kernels, 19.5 s against 9.9 s for one pipeline). The tests check the
// kernels' results, which do not depend on the vector width; the subgroup size does (4 lanes instead of 8), and the
// subgroup kernels must work with any. Mesa's shader cache does not tell the two widths apart, so the tests keep
// their shaders in a cache of their own, never mixed with what the lab and the benchmark compile at full width.
// Setting LP_NATIVE_VECTOR_WIDTH yourself leaves both as you set them.
const cacheHome = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
const lavapipe = process.env['LP_NATIVE_VECTOR_WIDTH']
  ? {}
  : {
      LP_NATIVE_VECTOR_WIDTH: '128',
      MESA_SHADER_CACHE_DIR: join(cacheHome, 'webgpu-training-lab', 'mesa-shaders-tests-128'),
    };

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Counts the pipelines each GPU test file creates (printed when the file ends).
    setupFiles: ['test/pipeline-count.ts'],
    env: lavapipe,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files in parallel, at least two at once: a GPU test file mostly waits on one pipeline compile at a time
    // (lavapipe's LLVM and SwiftShader's compile each pipeline on one thread), so a second file uses the other core.
    // On 2 cores, with a cold shader cache, this took the unit + GPU phase from 630 s to 525 s (vitest's default
    // there, cores − 1, is one file at a time). Each file has its own process, GPU device and pipeline cache.
    fileParallelism: true,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
});
