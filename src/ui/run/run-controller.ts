// Drives one training run against the worker: start (fresh, resumed from an autosave or a checkpoint, or an
// evaluation of imported weights), pause, resume, stop. The run's lifetime is an AbortSignal: aborting it (Stop, a
// new run, the host leaving the page) asks the worker to stop. Events from the worker are batched into at most ~8
// host updates a second, so a fast GPU cannot flood the page with renders.
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

/** A new autosave id, e.g. run-m3k2x1a-5g2k. */
export const newRunId = (): string =>
  `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;

export class RunController implements ReactiveController {
  data: RunData | null = null;
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
  }

  /**
   * Runs the spec to the end (or until stopped); resolves with the run's data when it is over either way, or null
   * when no worker was there to run it.
   */
  async start(spec: ExperimentSpec, options: RunOptions = {}, from?: ContinueFrom): Promise<RunData | null> {
    const lab = this.lab();
    if (!lab) return null;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const data = new RunData(spec);
    data.evaluationOnly = options.stopAtStep === 0;
    data.runId = options.resumeSaved ?? options.runId ?? null;
    if (from) data.continueFrom(from.step, from.history, from.runId ? { runId: from.runId } : null);
    this.data = data;
    abort.signal.addEventListener('abort', () => void lab.stop().catch(() => undefined), { once: true });
    const onEvent = (e: LabEvent) => {
      if (this.data !== data) return;
      data.apply(e);
      this.schedule();
    };
    this.host.requestUpdate();
    try {
      const results = await lab.run(spec, Comlink.proxy(onEvent), options);
      if (this.data === data) data.finish(results);
    } catch (err) {
      // "GPU device lost (destroyed): Device was destroyed.. The run …": one full stop is enough.
      const message = (err instanceof Error ? err.message : String(err)).replace(/\.\.(?=\s|$)/g, '.');
      if (this.data === data && data.failure === null) data.fail(message, failureOf(message));
    } finally {
      if (this.abort === abort) this.abort = null;
      this.host.requestUpdate();
    }
    return data;
  }

  /**
   * Show a finished run made elsewhere (a results file) without the worker: its histories fill the charts and its
   * results the tables. Any run in progress is stopped first.
   */
  show(spec: ExperimentSpec, results: LaneResult[]): RunData {
    this.abort?.abort();
    const data = new RunData(spec);
    data.modelsHeld = false;
    data.loadHistory(results.map((r) => ({ lane: r.lane, objective: r.objective, history: r.history })));
    data.finish(results);
    this.data = data;
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
    if (!this.data?.active) return;
    this.data.state = 'stopping';
    this.host.requestUpdate();
    this.abort?.abort();
  }

  /** The worker is gone (crashed, or ended because it stopped answering): whatever was running cannot finish. */
  workerDied(message: string, failure: RunFailure = 'worker-crashed'): void {
    if (this.data?.active) this.data.fail(message, failure);
    this.abort = null;
    this.host.requestUpdate();
  }

  /** Sends pause/resume; the worker confirms with a state event, but the buttons need not wait for it. */
  private async command(call: () => Promise<void> | undefined, from: RunState, to: RunState): Promise<void> {
    try {
      await call();
      if (this.data?.state === from) this.data.state = to;
    } catch (err) {
      this.data?.fail(err instanceof Error ? err.message : String(err));
    }
    this.host.requestUpdate();
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
