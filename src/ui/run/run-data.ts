// What the page knows about one run: each lane's step and eval history as the worker streams it, and the final
// results. Components read it; the RunController writes it and bumps `revision` so views know to redraw.
import type {
  EvalMetrics,
  ExperimentSpec,
  LabEvent,
  LaneResult,
  ObjectiveSpec,
  SavedRun,
  StepMetrics,
} from '../../lab/api';
import { copyPositionOf } from '../../lab/seeds';
import { objectiveLabel } from '../app/objective-style';

export type RunState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'done' | 'error';

/**
 * Why a run ended badly, so the page can offer the right way back: the GPU device was lost, a lane's loss became
 * NaN/Inf, the worker crashed or stopped answering, or anything else (a bad spec, a bad checkpoint).
 */
export type RunFailure = 'device-lost' | 'non-finite' | 'worker-crashed' | 'worker-hung' | 'other';

export interface Lane {
  lane: number;
  objective: ObjectiveSpec;
  label: string;
  steps: StepMetrics[];
  evals: EvalMetrics[];
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

export class RunData {
  readonly lanes: Lane[];
  state: RunState = 'starting';
  message = '';
  /** The lab's latest log line (task and lane sizes at the start, a lane that stopped on NaN, …). */
  log = '';
  results: LaneResult[] | null = null;
  revision = 0;
  /** The id the run is autosaved under (null when autosave is off and none was given). */
  runId: string | null = null;
  /** The latest autosave of this run (every lane at one step), or null before the first. */
  saved: { runId: string; step: number } | null = null;
  /** Set when the run ended with state 'error'. */
  failure: RunFailure | null = null;
  /** The step this run continued from (a resumed or imported run), else 0. */
  startStep = 0;
  /** The run only evaluates weights (imported ones); it trains no step. */
  evaluationOnly = false;
  /**
   * Whether the worker holds this run's models. A run opened from a results file without its checkpoints has only
   * curves and numbers: its examples and downloads would otherwise come from whatever models the worker held before.
   */
  modelsHeld = true;

  constructor(readonly spec: ExperimentSpec) {
    this.lanes = spec.objectives.map((o, i) => ({
      lane: i,
      objective: o,
      label: objectiveLabel(o),
      steps: [],
      evals: [],
    }));
  }

  apply(e: LabEvent): void {
    if (e.type === 'step') this.lanes[e.metrics.lane]?.steps.push(e.metrics);
    else if (e.type === 'eval') this.lanes[e.metrics.lane]?.evals.push(e.metrics);
    else if (e.type === 'state') {
      // A stop the user asked for reads as "stopped" even if the worker reports it as done.
      if (!(this.state === 'stopping' && e.state === 'done')) this.state = e.state;
      this.message = e.message ?? '';
      // The final state can arrive after the results (events and the reply travel on different ports).
      if (e.state === 'error' && this.results !== null) this.failure ??= 'non-finite';
    } else if (e.type === 'log') this.log = e.message;
    else if (e.type === 'saved') this.saved = { runId: e.runId, step: e.step };
    this.revision++;
  }

  /** A resumed run starts where its autosave left off: its history so far, up to the saved step. */
  continueFrom(step: number, history: SavedRun['history'] = [], saved: { runId: string } | null = null): void {
    this.startStep = step;
    if (saved) this.saved = { runId: saved.runId, step };
    this.loadHistory(history, step);
  }

  /** Each lane's history of steps and evaluations, up to `upTo` (a run shown whole takes all of it). */
  loadHistory(history: SavedRun['history'], upTo = Infinity): void {
    for (const h of history) {
      const lane = this.lanes[h.lane];
      if (!lane) continue;
      lane.steps = h.history.steps.filter((m) => m.step <= upTo);
      lane.evals = h.history.evals.filter((m) => m.step <= upTo);
    }
    this.revision++;
  }

  finish(results: LaneResult[]): void {
    this.results = results;
    // The run resolved, yet a lane stopped on a non-finite loss: the lab reports it as state 'error'.
    if (this.state === 'error') this.failure ??= 'non-finite';
    else this.state = this.state === 'stopping' || this.state === 'stopped' ? 'stopped' : 'done';
    this.revision++;
  }

  fail(message: string, failure: RunFailure = 'other'): void {
    this.state = 'error';
    this.message = message;
    this.failure = failure;
    this.revision++;
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
