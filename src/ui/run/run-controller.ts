// Drives one training run against the worker: start (fresh, resumed from an autosave or a checkpoint, or an
// evaluation of imported weights), pause, resume, stop. The run's lifetime is an AbortSignal: aborting it (Stop, a
// new run, the host leaving the page) asks the worker to stop. The run is kept as immutable snapshots (RunData);
// events from the worker are batched into at most ~8 host updates a second, each with one new snapshot, so a fast
// GPU can flood the page with neither renders nor copies of the histories.
import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ExperimentSpec, LabEvent, LaneResult, RunOptions, SavedRun } from '../../lab/api';
import type { LabRemote } from './context';
import { RunData, type RunFailure, type RunState } from './run-data';

const UPDATE_INTERVAL_MS = 125;

/** Where a run continues from: the step, the metrics so far (to redraw the charts) and its autosave id. */
export interface ContinueFrom {
  step: number;
  history?: SavedRun['history'];
  runId?: string;
}

export { newRunId } from '../../lab/api';

export class RunController implements ReactiveController {
  /** The current run's latest snapshot (with every event heard so far); null before the first run. */
  get data(): RunData | null {
    if (this.snapshot && this.heard.length > 0) {
      this.snapshot = this.snapshot.withEvents(this.heard);
      this.heard = [];
    }
    return this.snapshot;
  }

  private snapshot: RunData | null = null;
  /**
   * The worker's events not yet in the snapshot. They are applied together when the snapshot is next read (at the
   * next render, at most ~8 a second), so a lane's history is copied once per render, not once per step.
   */
  private heard: LabEvent[] = [];
  private abort: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly lab: () => LabRemote | undefined,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.abort?.abort();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Runs the spec to the end (or until stopped); resolves with the run's last snapshot when it is over either way,
   * or null when no worker was there to run it or another run took its place.
   */
  async start(spec: ExperimentSpec, options: RunOptions = {}, from?: ContinueFrom): Promise<RunData | null> {
    const lab = this.lab();
    if (!lab) return null;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    let data = RunData.begin(spec, {
      evaluationOnly: options.stopAtStep === 0,
      runId: options.resumeSaved ?? options.runId ?? null,
      ...(options.seeds ? { seeds: options.seeds } : {}),
    });
    if (from) data = data.continuedFrom(from.step, from.history, from.runId ? { runId: from.runId } : null);
    const { identity } = data;
    this.replace(data);
    /** The snapshot of this run, while it is still the current one. */
    const mine = () => (this.snapshot?.identity === identity ? this.data : null);
    abort.signal.addEventListener('abort', () => void lab.stop().catch(() => undefined), { once: true });
    const onEvent = (e: LabEvent) => {
      if (this.snapshot?.identity !== identity) return;
      this.heard.push(e);
      this.schedule();
    };
    this.host.requestUpdate();
    try {
      const results = await lab.run(spec, Comlink.proxy(onEvent), options);
      const current = mine();
      if (current) this.snapshot = current.finished(results);
    } catch (err) {
      // "GPU device lost (destroyed): Device was destroyed.. The run …": one full stop is enough.
      const message = (err instanceof Error ? err.message : String(err)).replace(/\.\.(?=\s|$)/g, '.');
      const current = mine();
      if (current && current.failure === null) this.snapshot = current.failed(message, failureOf(message));
    } finally {
      if (this.abort === abort) this.abort = null;
      this.host.requestUpdate();
    }
    return mine();
  }

  /**
   * Show a finished run made elsewhere (a results file) without the worker: its histories fill the charts and its
   * results the tables. Any run in progress is stopped first.
   */
  show(spec: ExperimentSpec, results: LaneResult[]): RunData {
    this.abort?.abort();
    const history = results.map((r) => ({ lane: r.lane, objective: r.objective, history: r.history }));
    const data = RunData.begin(spec, { modelsHeld: false }).withHistory(history).finished(results);
    this.replace(data);
    this.host.requestUpdate();
    return data;
  }

  async pause(): Promise<void> {
    await this.command(() => this.lab()?.pause(), 'running', 'paused');
  }

  async resume(): Promise<void> {
    await this.command(() => this.lab()?.resume(), 'paused', 'running');
  }

  /** Ask the worker to stop; the pending start() resolves with the partial results. */
  stop(): void {
    const data = this.data;
    if (!data?.active) return;
    this.snapshot = data.withState('stopping');
    this.host.requestUpdate();
    this.abort?.abort();
  }

  /** The worker is gone (crashed, or ended because it stopped answering): whatever was running cannot finish. */
  workerDied(message: string, failure: RunFailure = 'worker-crashed'): void {
    const data = this.data;
    if (data?.active) this.snapshot = data.failed(message, failure);
    this.abort = null;
    this.host.requestUpdate();
  }

  /** Sends pause/resume; the worker confirms with a state event, but the buttons need not wait for it. */
  private async command(call: () => Promise<void> | undefined, from: RunState, to: RunState): Promise<void> {
    try {
      await call();
      const data = this.data;
      if (data?.state === from) this.snapshot = data.withState(to);
    } catch (err) {
      const data = this.data;
      if (data) this.snapshot = data.failed(err instanceof Error ? err.message : String(err));
    }
    this.host.requestUpdate();
  }

  /** A new run in place of the current one; the old run's unapplied events go with it. */
  private replace(data: RunData): void {
    this.snapshot = data;
    this.heard = [];
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.host.requestUpdate();
    }, UPDATE_INTERVAL_MS);
  }
}

/** The lab's run() rejects with a message that starts with "GPU device lost (reason): …" when the device is lost. */
const failureOf = (message: string): RunFailure => (/GPU device lost/.test(message) ? 'device-lost' : 'other');
