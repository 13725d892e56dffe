// Timing of recorded dispatches: GPU timestamps (a timestamp-query pair around one compute pass) where the device
// has the feature, else wall time from submit to onSubmittedWorkDone. Either way one pass repeats the dispatches
// `reps` times, so that per-submission overhead is spread over many dispatches.
import { encodeDispatches, type Dispatch } from '../src/engine/pipelines';
import { spread, type Spread } from './common';

export type TimingMethod = 'timestamp-query' | 'wall';

export class GpuTimer {
  readonly method: TimingMethod;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolve: GPUBuffer | null = null;
  private readonly readback: GPUBuffer | null = null;

  constructor(
    private readonly device: GPUDevice,
    preferWall = false,
  ) {
    this.method = device.features.has('timestamp-query') && !preferWall ? 'timestamp-query' : 'wall';
    if (this.method === 'timestamp-query') {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
      this.resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    }
  }

  /** Milliseconds for one pass over `list`, measured over a pass that repeats it `reps` times. */
  async once(list: Dispatch[], reps: number): Promise<number> {
    const enc = this.device.createCommandEncoder({ label: 'bench' });
    const pass = enc.beginComputePass(
      this.querySet
        ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }
        : {},
    );
    for (let i = 0; i < reps; i++) encodeDispatches(pass, list);
    pass.end();
    if (this.querySet) {
      enc.resolveQuerySet(this.querySet, 0, 2, this.resolve!, 0);
      enc.copyBufferToBuffer(this.resolve!, 0, this.readback!, 0, 16);
    }
    const t0 = performance.now();
    this.device.queue.submit([enc.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    if (!this.readback) return wall / reps;
    await this.readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const ns = Number(end! - begin!);
    // Some implementations report zeros (or quantize coarsely): fall back to wall time then.
    return ns > 0 ? ns / 1e6 / reps : wall / reps;
  }

  /**
   * Warm up once, then `runs` timed passes of `reps` repetitions each; reps grows until a pass takes at least
   * `minMs` so that short kernels are not lost in timer resolution.
   */
  async measure(list: Dispatch[], runs: number, minMs = 20): Promise<{ ms: Spread; reps: number }> {
    let reps = 1;
    let ms = await this.once(list, reps); // warm-up: pipeline creation, first touch of memory
    ms = await this.once(list, reps);
    while (ms * reps < minMs && reps < 256) {
      reps = Math.min(256, Math.max(reps * 2, Math.ceil(minMs / Math.max(ms, 1e-3))));
      ms = await this.once(list, reps);
    }
    const times: number[] = [];
    for (let r = 0; r < runs; r++) times.push(await this.once(list, reps));
    return { ms: spread(times), reps };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}
