// One lane: one objective's model trained on the lab's shared data stream. The run steps lanes side by side, so
// every objective sees the same examples in the same order with the same seed and the same step budget. A lane's
// model is one lane of a GpuModel that may hold other lanes of the same shape, trained in the same dispatches
// (src/lab/run.ts groups them); the lane reads and writes only its own.
import type { StorageType } from '../engine/kernels';
import type { MatmulVariant } from '../engine/matmul-variants';
import type { ReductionVariant } from '../engine/reduction-variants';
import { GpuModel, type StepStats } from '../engine/model';
import { forwardFlops, trainingFlopsPerStep } from '../engine/plan';
import { evaluate, type Evaluation } from '../eval/evaluate';
import type { Batch, ForwardFn } from '../model/batch';
import type { ModelConfig, TrainConfig } from '../model/config';
import { initParams } from '../model/params';
import { Rng } from '../model/rng';
import type { Objective } from '../objectives/types';
import type { Example, Task } from '../tasks/types';
import type { EvalMetrics, LaneState, ObjectiveSpec, StepMetrics } from './api';

/**
 * The kernels a lane's model runs, chosen once per device by the Lab (src/engine/autotune.ts, tuneKernels): the
 * matmul variant, the row reductions and the half activations' storage.
 */
export interface LaneKernels {
  matmul: MatmulVariant;
  reduction: ReductionVariant;
  activations: StorageType;
  /**
   * Whether lanes of one shape train as the lanes of one model, in the same dispatches (src/lab/run.ts): on GPUs,
   * whose tiny steps are bound by dispatches; not on CPU adapters, which are bound by arithmetic, where stacking
   * gained nothing beyond the noise and would compile a second set of pipelines (docs/kernel-notes.md, "Lanes").
   */
  stackLanes: boolean;
}

/** Seeds of the separate random streams, derived from the run's seed (data is shared across lanes). */
export const dataSeed = (seed: number): number => (seed ^ 0x5eed_da7a) >>> 0;
export const objectiveSeed = (seed: number): number => (seed ^ 0x0b1e_c71e) >>> 0;

export class Lane {
  readonly cfg: ModelConfig;
  readonly T: number;
  readonly flopsPerStep: number;
  private readonly dataRng: Rng;
  private readonly objectiveRng: Rng;
  step = 0;
  flops = 0;
  /** Wall seconds of training attributed to this lane (evaluation excluded), across resumes. */
  seconds = 0;
  private secondsBefore = 0;
  /** Steps trained since this lane was built or resumed: the tokens/s of this run, not of the checkpoint it resumed. */
  private stepsSinceResume = 0;
  /**
   * Lanes run side by side on one GPU, so wall time is shared: each lane is charged the run's training time in
   * proportion to its FLOPs per step (set by the Lab), measured by the run's clock.
   */
  share = 1;
  clock: { elapsed(): number } = { elapsed: () => 0 };
  evalFlops = 0;
  lastLoss = NaN;
  readonly steps: StepMetrics[] = [];
  readonly evals: EvalMetrics[] = [];
  lastEval: Evaluation | null = null;
  /** Set when the lane stopped on a non-finite loss or gradient. */
  failure: string | null = null;

  /**
   * Lane `slot` of `model` (planned for this objective's config at the run's batch size, its gradient clip set);
   * starts from the run's seeded initialisation.
   */
  constructor(
    readonly model: GpuModel,
    readonly slot: number,
    readonly index: number,
    readonly task: Task,
    readonly objective: Objective,
    readonly spec: ObjectiveSpec,
    readonly train: TrainConfig,
    /** Tag its metrics with its seed (a run over several seeds). */
    readonly tagSeed = false,
  ) {
    this.cfg = model.cfg;
    this.T = model.T;
    this.setParams(initParams(this.cfg, train.seed));
    this.flopsPerStep = trainingFlopsPerStep(this.cfg, train.batchSize, this.T);
    this.dataRng = new Rng(dataSeed(train.seed));
    this.objectiveRng = new Rng(objectiveSeed(train.seed));
  }

  /** `{ seed }` in a run over several seeds, else nothing. */
  seedTag(): { seed?: number } {
    return this.tagSeed ? { seed: this.train.seed } : {};
  }

  /** Set this lane's weights (resetting its optimizer state unless told otherwise). */
  setParams(params: Float32Array, opts: { keepOptimizer?: boolean } = {}): void {
    this.model.setParams(params, { ...opts, lane: this.slot });
  }

  /** The next step's batch, from the lane's data and objective streams (which it advances). */
  nextBatch(): Batch {
    const examples = this.task.sampleTrain(this.dataRng, this.train.batchSize);
    return this.objective.makeBatch(this.task, examples, this.objectiveRng);
  }

  /** Stop updating this lane's weights while the other lanes of its model go on (a lane that failed). */
  freeze(): void {
    this.model.freezeLane(this.slot);
  }

  /**
   * Account one submitted training step at learning rate `lr` whose statistics `stats` will bring: `done` resolves
   * with its metrics once they are back.
   */
  stepSubmitted(lr: number, stats: Promise<StepStats>): { done: Promise<{ stats: StepStats; metrics: StepMetrics }> } {
    const stepIndex = this.step;
    this.step = stepIndex + 1;
    this.flops += this.flopsPerStep;
    const flops = this.flops;
    const done = stats.then((s) => {
      // Read the clock when the step's loss is back, i.e. when the GPU has finished it.
      this.stepsSinceResume++;
      const secondsSinceResume = this.clock.elapsed() * this.share;
      this.seconds = this.secondsBefore + secondsSinceResume;
      this.lastLoss = s.loss;
      const metrics: StepMetrics = {
        lane: this.index,
        ...this.seedTag(),
        objective: this.objective.name,
        step: stepIndex + 1,
        loss: s.loss,
        lr,
        tokensPerSecond: (this.train.batchSize * this.T * this.stepsSinceResume) / Math.max(secondsSinceResume, 1e-9),
        flops,
        tokens: (stepIndex + 1) * this.train.batchSize * this.T,
        seconds: this.seconds,
      };
      this.steps.push(metrics);
      return { stats: s, metrics };
    });
    return { done };
  }

  /**
   * The model as decoders see it; splits requests larger than the planned batch. `pass` runs up to B sequences on
   * this lane (evaluateLanes passes one that shares each pass with the model's other lanes).
   */
  forwardFn(
    pass: (tokens: Int32Array, n: number) => Promise<Float32Array> = (tokens, n) =>
      this.model.forward(tokens, n, this.slot),
  ): ForwardFn {
    const B = this.train.batchSize;
    const H = 1 + this.cfg.extraHeads;
    const V = this.cfg.vocabSize;
    return async (tokens, n, T) => {
      if (T !== this.T) throw new Error(`${this.objective.name}: forward with T=${T}, the model holds T=${this.T}`);
      this.evalFlops += forwardFlops(this.cfg, Math.min(n, B), T) * Math.ceil(n / B);
      if (n <= B) return pass(tokens, n);
      const out = new Float32Array(H * n * T * V);
      for (let s = 0; s < n; s += B) {
        const m = Math.min(B, n - s);
        const part = await pass(tokens.subarray(s * T, (s + m) * T), m);
        for (let h = 0; h < H; h++) out.set(part.subarray(h * m * T * V, (h + 1) * m * T * V), (h * n + s) * T * V);
      }
      return out;
    };
  }

  /** Held-out metrics on `examples`, recorded in the lane's history; `pass` as in forwardFn. */
  async evaluate(
    examples: Example[],
    pass?: (tokens: Int32Array, n: number) => Promise<Float32Array>,
  ): Promise<EvalMetrics> {
    await this.model.flush();
    const ev = await evaluate(this.task, this.objective, examples, this.forwardFn(pass), this.train.batchSize);
    this.lastEval = ev;
    const m: EvalMetrics = {
      lane: this.index,
      ...this.seedTag(),
      objective: this.objective.name,
      step: this.step,
      flops: this.flops,
      tokens: this.step * this.train.batchSize * this.T,
      seconds: this.seconds,
      exactMatch: ev.exactMatch,
      exactMatchInterval: ev.exactMatchInterval,
      examples: ev.examples,
      decisionTokenAccuracy: ev.decisionTokenAccuracy,
      perPosition: ev.perPosition,
      probes: ev.probes,
      validWrongFraction: ev.validWrongFraction,
      heldOutLoss: ev.heldOutLoss,
    };
    this.evals.push(m);
    return m;
  }

  async snapshot(): Promise<LaneState> {
    await this.model.flush();
    const { m, v } = await this.model.getOptimizerState(this.slot);
    return {
      lane: this.index,
      objective: this.objective.name,
      objectiveSpec: this.spec,
      config: this.cfg,
      step: this.step,
      params: await this.model.getParams(this.slot),
      adamM: m,
      adamV: v,
      rng: { data: this.dataRng.state, objective: this.objectiveRng.state },
      seconds: this.seconds,
    };
  }

  /** Continue from a snapshot of a lane with the same config (and its metrics so far, if known). */
  restore(s: LaneState, history?: { steps: StepMetrics[]; evals: EvalMetrics[] }): void {
    const want = JSON.stringify(this.cfg);
    if (JSON.stringify(s.config) !== want) {
      throw new Error(`checkpoint for lane ${s.lane} has model ${JSON.stringify(s.config)}, this run needs ${want}`);
    }
    this.setParams(s.params);
    this.model.setOptimizerState(s.adamM, s.adamV, s.step, this.slot);
    this.dataRng.state = s.rng.data;
    this.objectiveRng.state = s.rng.objective;
    this.step = s.step;
    this.flops = s.step * this.flopsPerStep;
    if (history) {
      this.steps.push(...history.steps.filter((m) => m.step <= s.step));
      this.evals.push(...history.evals.filter((m) => m.step <= s.step));
    }
    this.seconds = this.secondsBefore = s.seconds ?? this.steps[this.steps.length - 1]?.seconds ?? 0;
  }
}

/**
 * Evaluate lanes of one model (src/lab/run.ts, LaneGroup) together, each as Lane.evaluate would alone. A pass of a
 * stacked model runs every lane's rows whatever it is asked, so the lanes' decoders run side by side: each asks for
 * its logits as if alone, and once every lane still evaluating has asked, one pass (GpuModel.forwardLanes) answers
 * them all. N lanes' evaluations then take the passes of the one that needs the most, not the sum of their passes.
 * `examples`: the same for every lane, or each lane's own (a run over seeds: its seed's test set).
 * The metrics, in the order of `lanes`.
 */
export async function evaluateLanes(
  lanes: readonly Lane[],
  examples: Example[] | ((lane: Lane) => Example[]),
): Promise<EvalMetrics[]> {
  const of = typeof examples === 'function' ? examples : () => examples;
  if (lanes.length <= 1) return Promise.all(lanes.map((l) => l.evaluate(of(l))));
  const model = lanes[0]!.model;
  if (lanes.some((l) => l.model !== model)) throw new Error('evaluateLanes: the lanes must be lanes of one model');
  type Ask = { tokens: Int32Array; n: number; resolve: (x: Float32Array) => void; reject: (e: unknown) => void };
  const asking = new Map<number, Ask>();
  const evaluating = new Set(lanes.map((l) => l.slot));
  const passIfAllAsked = () => {
    if (asking.size === 0 || asking.size < evaluating.size) return;
    const asked = [...asking];
    asking.clear();
    model.forwardLanes(asked.map(([lane, { tokens, n }]) => ({ lane, tokens, n }))).then(
      (outs) => asked.forEach(([, a], i) => a.resolve(outs[i]!)),
      (e: unknown) => asked.forEach(([, a]) => a.reject(e)),
    );
  };
  const settled = await Promise.allSettled(
    lanes.map(async (lane) => {
      try {
        return await lane.evaluate(
          of(lane),
          (tokens, n) =>
            new Promise<Float32Array>((resolve, reject) => {
              // A decoder awaits each pass before it asks for the next, so a lane has at most one ask waiting; one
              // that asked twice at once would wait for itself.
              if (asking.has(lane.slot))
                return reject(new Error(`${lane.objective.name}: two forward passes asked at once while evaluating`));
              asking.set(lane.slot, { tokens, n, resolve, reject });
              passIfAllAsked();
            }),
        );
      } finally {
        // A lane done (or failed) no longer holds the others' pass back.
        evaluating.delete(lane.slot);
        passIfAllAsked();
      }
    }),
  );
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<EvalMetrics>).value);
}
