// Counts the compute pipelines a test file creates, and prints the count when the file ends. Lavapipe compiles a
// pipeline with LLVM (when it is first dispatched: several seconds for the unrolled 16×16 matmul kernels, nothing
// where Mesa's shader cache already holds it), so a cold run's time in a GPU test file follows the pipelines it
// creates. With PIPELINE_LOG set, each file also appends a JSON line there; tools/test-times.mjs makes the table.
import { appendFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { globals } from 'webgpu';

let pipelines = 0;
// Every device of the process: Dawn's GPUDevice class, whose prototype all its devices share.
const proto = (globals as unknown as { GPUDevice: { prototype: GPUDevice } }).GPUDevice.prototype;
const create = proto.createComputePipeline;
proto.createComputePipeline = function (this: GPUDevice, desc: GPUComputePipelineDescriptor) {
  pipelines++;
  return create.call(this, desc);
};

// eslint-disable-next-line no-empty-pattern -- vitest passes the file's suite second, after a fixture object
afterAll(({}, suite) => {
  if (pipelines === 0) return;
  const file = 'filepath' in suite ? String(suite.filepath).replace(/^.*\/test\//, 'test/') : suite.name;
  console.log(`pipelines: ${file} created ${pipelines}`);
  const log = process.env['PIPELINE_LOG'];
  if (log) appendFileSync(log, JSON.stringify({ file, pipelines }) + '\n');
});
