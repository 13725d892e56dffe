// Drives one training run against the worker: start, pause, resume, stop. The run's lifetime is an AbortSignal:
// aborting it (Stop, a new run, the host leaving the page) asks the worker to stop. Events from the worker are
// batched into at most ~8 host updates a second, so a fast GPU cannot flood the page with renders.
import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ExperimentSpec, LabEvent } from '../lab/api';
import type { LabRemote } from './context';
import { RunData, type RunState } from './run-data';

const UPDATE_INTERVAL_MS = 125;

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

  /** Runs the spec to the end (or until stopped); resolves when the run is over either way. */
  async start(spec: ExperimentSpec): Promise<void> {
    const lab = this.lab();
    if (!lab) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const data = new RunData(spec);
    this.data = data;
    abort.signal.addEventListener('abort', () => void lab.stop().catch(() => undefined), { once: true });
    const onEvent = (e: LabEvent) => {
      if (this.data !== data) return;
      data.apply(e);
      this.schedule();
    };
    this.host.requestUpdate();
    try {
      const results = await lab.run(spec, Comlink.proxy(onEvent));
      if (this.data === data) data.finish(results);
    } catch (err) {
      if (this.data === data) data.fail(err instanceof Error ? err.message : String(err));
    } finally {
      if (this.abort === abort) this.abort = null;
      this.host.requestUpdate();
    }
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

  /** The worker is gone: whatever was running cannot finish. */
  workerDied(message: string): void {
    if (this.data?.active) this.data.fail(message);
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
