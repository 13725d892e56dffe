// Every kernel of the model, declared once: WGSL source, entry point, binding kinds. The GPU model and the kernel
// tests both bind these, so a test exercises exactly the pipeline that training runs. A kernel's source is composed
// from the shared pieces in shaders/common/ and its own file (composeWgsl): the 1-D kernels' thread index and
// workgroup size, the attention kernels' uniform and bindings, the matmul kernels' bindings and epilogues. By family:
// common.ts (grids, bindings, lanes), tables.ts (row-wise, loss, reductions, AdamW, attention), matmul.ts, split-k.ts.
export * from './common';
export * from './tables';
export * from './matmul';
export * from './split-k';
