// What the page knows about one run: each lane's step and eval history as the worker streams it, and the final
// results. A RunData is an immutable snapshot: every change (a batch of worker events, a new state, the results)
// makes a new one, so a Lit property bound to it sees a new value and redraws. Unchanged lanes keep their arrays.
import type {
  EvalMetrics,
  ExperimentSpec,
  LabEvent,
  LaneResult,
  ObjectiveSpec,
  SavedRun,
  StepMetrics,
} from '../../lab/api';
import { copyPositionOf, resultsBySeed } from '../../lab/seeds';
import { objectiveLabel } from '../app/objective-style';

export type RunState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'done' | 'error';

/**
 * Why a run ended badly, so the page can offer the right way back: the GPU device was lost, a lane's loss became
 * NaN/Inf, the worker crashed or stopped answering, or anything else (a bad spec, a bad checkpoint).
 */
export type RunFailure = 'device-lost' | 'non-finite' | 'worker-crashed' | 'worker-hung' | 'other';

/**
 * One lane of a run as the page shows it: its objective and the history of steps and evaluations so far. (The
 * lab's `Lane`, src/lab/lane.ts, is the thing that trains; this is what the page has heard from it.)
 */
export interface LaneHistory {
  readonly lane: number;
  readonly objective: ObjectiveSpec;
  readonly label: string;
  readonly steps: readonly StepMetrics[];
  readonly evals: readonly EvalMetrics[];
}

/** One row of the results table and of the CSV/JSON exports. */
export interface SummaryRow {
  lane: number;
  objective: ObjectiveSpec['kind'];
  label: string;
  exactMatch: number | null;
  /** 95% Wilson interval of exact match over the examples evaluated. */
  exactMatchLow: number | null;
  exactMatchHigh: number | null;
  validWrongFraction: number | null;
  decisionTokenAccuracy: number | null;
  /** Teacher-forced accuracy at the position after the decision (path-star: the first Clever Hans copy). */
  afterDecisionTeacherForced: number | null;
  /** Held-out cross-entropy per target token (nats), the same quantity for every objective. */
  heldOutLoss: number | null;
  /** The step at which exact match first reached 90% (at an evaluation), or null. */
  stepTo90: number | null;
  flopsTo90: number | null;
  secondsTo90: number | null;
  steps: number;
  flops: number;
  seconds: number;
  finalLoss: number | null;
}

export interface Progress {
  /** Steps done and to do, summed over lanes. */
  done: number;
  total: number;
  /** Steps of the slowest lane, and the steps each lane runs. */
  laneStep: number;
  laneSteps: number;
  lanes: number;
  tokensPerSecond: number;
  secondsLeft: number;
}

/** Steps a lane has completed after a step event (StepMetrics.step counts steps done, from 1). */
export const stepsDone = (m: StepMetrics): number => m.step;

/** What a snapshot holds; a new snapshot is the old one's fields with some replaced. */
type RunFields = Pick<
  RunData,
  | 'identity'
  | 'spec'
  | 'lanes'
  | 'state'
  | 'message'
  | 'log'
  | 'results'
  | 'runId'
  | 'saved'
  | 'failure'
  | 'startStep'
  | 'evaluationOnly'
  | 'modelsHeld'
  | 'seedLanes'
  | 'seedResults'
>;

export class RunData {
  // Set by the constructor (Object.assign): the fields are declared here, once, with what they mean.
  /** The run this is a snapshot of: all snapshots of one run share it (runId is its autosave's, if it has one). */
  readonly identity!: object;
  readonly spec!: ExperimentSpec;
  readonly lanes!: readonly LaneHistory[];
  readonly state!: RunState;
  readonly message!: string;
  /** The lab's latest log line (task and lane sizes at the start, a lane that stopped on NaN, …). */
  readonly log!: string;
  readonly results!: LaneResult[] | null;
  /** The id the run is autosaved under (null when autosave is off and none was given). */
  readonly runId!: string | null;
  /** The latest autosave of this run (every lane at one step), or null before the first. */
  readonly saved!: { readonly runId: string; readonly step: number } | null;
  /** Set when the run ended with state 'error'. */
  readonly failure!: RunFailure | null;
  /** The step this run continued from (a resumed or imported run), else 0. */
  readonly startStep!: number;
  /** The run only evaluates weights (imported ones); it trains no step. */
  readonly evaluationOnly!: boolean;
  /**
   * Whether the worker holds this run's models. A run opened from a results file without its checkpoints has only
   * curves and numbers: its examples and downloads would otherwise come from whatever models the worker held before.
   */
  readonly modelsHeld!: boolean;
  /**
   * A run over seeds trained together (RunOptions.seeds): `lanes` are its first seed's, and these the other seeds'
   * lanes, in seed order; empty for a run of one seed.
   */
  readonly seedLanes!: ReadonlyMap<number, readonly LaneHistory[]>;
  /** Such a run's results, every seed's, once it ended (`results` holds the first seed's); else null. */
  readonly seedResults!: { seed: number; results: LaneResult[] }[] | null;

  private constructor(fields: RunFields) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  /** A run about to start: every lane empty. */
  static begin(
    spec: ExperimentSpec,
    init: { runId?: string | null; evaluationOnly?: boolean; modelsHeld?: boolean; seeds?: readonly number[] } = {},
  ): RunData {
    const empty = () =>
      spec.objectives.map((o, i) => ({ lane: i, objective: o, label: objectiveLabel(o), steps: [], evals: [] }));
    const [first, ...others] = init.seeds ?? [];
    return new RunData({
      identity: {},
      // A run over seeds shows its first seed where a run shows its one.
      spec: first === undefined ? spec : { ...spec, train: { ...spec.train, seed: first } },
      lanes: empty(),
      seedLanes: new Map(others.map((s) => [s, empty()])),
      seedResults: null,
      state: 'starting',
      message: '',
      log: '',
      results: null,
      runId: init.runId ?? null,
      saved: null,
      failure: null,
      startStep: 0,
      evaluationOnly: init.evaluationOnly ?? false,
      modelsHeld: init.modelsHeld ?? true,
    });
  }

  private with(changes: Partial<RunFields>): RunData {
    // A snapshot's own properties are exactly its fields (the methods live on the prototype).
    return new RunData({ ...this, ...changes });
  }

  /**
   * The run after these worker events, in order. Events come in batches (RunController), so a lane's history is
   * copied once per batch, not once per step; lanes the batch does not touch keep their arrays.
   */
  withEvents(events: readonly LabEvent[]): RunData {
    if (events.length === 0) return this;
    const steps = new Map<number, StepMetrics[]>();
    const evals = new Map<number, EvalMetrics[]>();
    // Another seed's metrics (a run over seeds trained together) go to its own lanes.
    const other = new Map<number, { steps: Map<number, StepMetrics[]>; evals: Map<number, EvalMetrics[]> }>();
    const route = (m: StepMetrics | EvalMetrics) => {
      if (m.seed === undefined || !this.seedLanes.has(m.seed)) return { steps, evals };
      let o = other.get(m.seed);
      if (!o) other.set(m.seed, (o = { steps: new Map(), evals: new Map() }));
      return o;
    };
    const add = <T>(to: Map<number, T[]>, lane: number, m: T) => {
      if (!this.lanes[lane]) return;
      const list = to.get(lane);
      if (list) list.push(m);
      else to.set(lane, [m]);
    };
    let { state, message, log, saved, failure } = this;
    for (const e of events) {
      if (e.type === 'step') add(route(e.metrics).steps, e.metrics.lane, e.metrics);
      else if (e.type === 'eval') add(route(e.metrics).evals, e.metrics.lane, e.metrics);
      else if (e.type === 'state') {
        // A stop the user asked for reads as "stopped" even if the worker reports it as done.
        if (!(state === 'stopping' && e.state === 'done')) state = e.state;
        message = e.message ?? '';
        // The final state can arrive after the results (events and the reply travel on different ports).
        if (e.state === 'error' && this.results !== null) failure ??= 'non-finite';
      } else if (e.type === 'log') log = e.message;
      else if (e.type === 'saved') saved = { runId: e.runId, step: e.step };
    }
    const grow = (
      ls: readonly LaneHistory[],
      steps: Map<number, StepMetrics[]>,
      evals: Map<number, EvalMetrics[]>,
    ): readonly LaneHistory[] =>
      steps.size === 0 && evals.size === 0
        ? ls
        : ls.map((l) => {
            const s = steps.get(l.lane);
            const v = evals.get(l.lane);
            if (!s && !v) return l;
            return { ...l, steps: s ? l.steps.concat(s) : l.steps, evals: v ? l.evals.concat(v) : l.evals };
          });
    const lanes = grow(this.lanes, steps, evals);
    const seedLanes =
      other.size === 0
        ? this.seedLanes
        : new Map(
            [...this.seedLanes].map(([seed, ls]) => {
              const o = other.get(seed);
              return [seed, o ? grow(ls, o.steps, o.evals) : ls] as const;
            }),
          );
    return this.with({ lanes, seedLanes, state, message, log, saved, failure });
  }

  /** A resumed run starts where its autosave left off: its history so far, up to the saved step. */
  continuedFrom(step: number, history: SavedRun['history'] = [], saved: { runId: string } | null = null): RunData {
    const resumed = this.withHistory(history, step);
    return resumed.with({ startStep: step, ...(saved ? { saved: { runId: saved.runId, step } } : {}) });
  }

  /** Each lane's history of steps and evaluations, up to `upTo` (a run shown whole takes all of it). */
  withHistory(history: SavedRun['history'], upTo = Infinity): RunData {
    const lanes = this.lanes.map((l) => {
      const h = history.find((x) => x.lane === l.lane);
      if (!h) return l;
      return {
        ...l,
        steps: h.history.steps.filter((m) => m.step <= upTo),
        evals: h.history.evals.filter((m) => m.step <= upTo),
      };
    });
    return this.with({ lanes });
  }

  /**
   * The run with its results: done, or stopped if a stop was asked for. A run over seeds trained together keeps
   * every seed's (seedResults) and shows its first seed's.
   */
  finished(all: LaneResult[]): RunData {
    let results = all;
    let seedResults: RunData['seedResults'] = null;
    if (this.seedLanes.size > 0) {
      const seeds = [this.spec.train.seed, ...this.seedLanes.keys()];
      seedResults = resultsBySeed(all, seeds);
      results = seedResults[0]?.results ?? [];
    }
    // The run resolved, yet a lane stopped on a non-finite loss: the lab reports it as state 'error'.
    if (this.state === 'error') return this.with({ results, seedResults, failure: this.failure ?? 'non-finite' });
    const state = this.state === 'stopping' || this.state === 'stopped' ? 'stopped' : 'done';
    return this.with({ results, seedResults, state });
  }

  failed(message: string, failure: RunFailure = 'other'): RunData {
    return this.with({ state: 'error', message, failure });
  }

  /** The page's own state change (a stop asked for, a pause the worker has accepted). */
  withState(state: RunState): RunData {
    return this.with({ state });
  }

  get active(): boolean {
    return (
      this.state === 'starting' || this.state === 'running' || this.state === 'paused' || this.state === 'stopping'
    );
  }

  progress(): Progress {
    const perLane = this.spec.train.steps;
    let done = 0;
    let tokens = 0;
    let seconds = 0;
    let secondsLeft = 0;
    let laneStep = perLane;
    for (const lane of this.lanes) {
      const last = lane.steps.at(-1);
      if (!last) {
        secondsLeft = NaN;
        laneStep = 0;
        continue;
      }
      const n = Math.min(perLane, stepsDone(last));
      laneStep = Math.min(laneStep, n);
      done += n;
      tokens += last.tokensPerSecond * last.seconds;
      seconds += last.seconds;
      secondsLeft += (last.seconds * (perLane - n)) / n;
    }
    return {
      done,
      total: perLane * this.lanes.length,
      laneStep,
      laneSteps: perLane,
      lanes: this.lanes.length,
      tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
      secondsLeft,
    };
  }

  /** Per lane: the final result if the run ended, else the latest step and eval. */
  summary(): SummaryRow[] {
    return this.lanes.map((lane) => {
      const r = this.results?.find((x) => x.lane === lane.lane);
      const step = lane.steps.at(-1);
      // The final result's numbers are its last evaluation's.
      const ev = lane.evals.at(-1);
      const at90 = lane.evals.find((e) => e.exactMatch >= 0.9);
      const copy = copyPositionOf(this.spec.task);
      return {
        lane: lane.lane,
        objective: lane.objective.kind,
        label: lane.label,
        exactMatch: ev?.exactMatch ?? null,
        exactMatchLow: ev?.exactMatchInterval?.[0] ?? null,
        exactMatchHigh: ev?.exactMatchInterval?.[1] ?? null,
        validWrongFraction: ev?.validWrongFraction ?? null,
        decisionTokenAccuracy: ev?.decisionTokenAccuracy ?? null,
        afterDecisionTeacherForced: copy === undefined ? null : (ev?.perPosition.teacherForced[copy] ?? null),
        heldOutLoss: ev?.heldOutLoss ?? null,
        stepTo90: at90?.step ?? null,
        flopsTo90: at90?.flops ?? null,
        secondsTo90: at90?.seconds ?? null,
        steps: r ? r.steps : step ? stepsDone(step) : 0,
        flops: r ? r.flops : (step?.flops ?? 0),
        seconds: r ? r.seconds : (step?.seconds ?? 0),
        finalLoss: r ? r.finalLoss : (step?.loss ?? null),
      };
    });
  }
}
