// Starts runs with autosave on, and offers the way back after each kind of fault: a reload or crash (resume the
// newest unfinished saved run), a lost GPU device (resume on a new device, by hand or automatically), a worker that
// died or stopped answering (a new worker, then resume), a lane that blew up to NaN/Inf (resume from the last
// autosave with an edited learning rate). The offer is derived from the run's state at render time, so an event
// that arrives late cannot leave a stale one behind.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ExperimentSpec, LaneState, RunOptions, SavedRun, SavedRunInfo } from '../../lab/api';
import type { ContinueDetail, EvaluateDetail } from '../checkpoints/checkpoint-import';
import { HangWatchController } from './hang-watch-controller';
import { newRunId, type ContinueFrom, type RunController } from '../run/run-controller';
import type { Offer, RecoveryAction, SavedMark } from './recovery-offer';
import type { RunPrefs } from '../run/run-options';
import type { WorkerController } from '../run/worker-controller';

/** Automatic resumes of one run after device losses, before the page stops trying and asks. */
const MAX_AUTO_RESUMES = 3;

interface PendingResume extends SavedMark {
  states: LaneState[];
  history: SavedRun['history'];
}

export class RecoveryController implements ReactiveController {
  /** The newest unfinished saved run, offered once the worker is up on a fresh page. */
  private unfinished: SavedRunInfo | null = null;
  /** An autosave the next Start continues from, with the spec as edited in the form (a new learning rate). */
  private pending: PendingResume | null = null;
  /** The runs (RunData.identity) whose fault offer was dismissed. */
  private dismissed = new WeakSet<object>();
  private autoResumes = new Map<string, number>();
  private acting = false;
  /** A problem with an offer's action (a saved run deleted meanwhile), shown with the offers. */
  problem = '';

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly deps: {
      worker: WorkerController;
      runs: RunController;
      prefs(): RunPrefs;
      /** Put a spec into the form and the URL. */
      setSpec(spec: ExperimentSpec): void;
      /** Focus the form field at this spec path. */
      focus(path: string): Promise<void>;
    },
  ) {
    host.addController(this);
    // While a run is active the worker must answer pings; one that stops answering is ended and reported.
    new HangWatchController(host, {
      lab: () => (deps.runs.data?.active ? deps.worker.lab : undefined),
      onHang: (seconds) => this.hung(seconds),
    });
  }

  // The recovery banner's and the saved runs' buttons, and the checkpoint importer's two actions, heard while the
  // host is in the page.
  private readonly onAction = (e: CustomEvent<RecoveryAction>) => void this.act(e.detail);
  private readonly onContinue = (e: CustomEvent<ContinueDetail>) => void this.continueCheckpoint(e.detail);
  private readonly onEvaluate = (e: CustomEvent<EvaluateDetail>) => void this.evaluateCheckpoint(e.detail);

  hostConnected(): void {
    this.host.addEventListener('recovery-action', this.onAction);
    this.host.addEventListener('checkpoint-continue', this.onContinue);
    this.host.addEventListener('checkpoint-evaluate', this.onEvaluate);
  }

  hostDisconnected(): void {
    this.host.removeEventListener('recovery-action', this.onAction);
    this.host.removeEventListener('checkpoint-continue', this.onContinue);
    this.host.removeEventListener('checkpoint-evaluate', this.onEvaluate);
  }

  /** Start: a fresh run, or the edited continuation of an autosave when one is pending. */
  async start(spec: ExperimentSpec): Promise<void> {
    const p = this.pending;
    this.pending = null;
    const autosaveEvery = this.deps.prefs().autosaveEvery;
    if (!p) return this.launch(spec, { autosaveEvery, runId: newRunId() });
    await this.launch(spec, { resume: p.states, runId: p.runId, autosaveEvery }, p);
  }

  /** Run, and resume by itself after a device loss when the user asked for that. */
  async launch(spec: ExperimentSpec, options: RunOptions, from?: ContinueFrom): Promise<void> {
    this.unfinished = null;
    this.problem = '';
    const data = await this.deps.runs.start(spec, options, from);
    const saved = data?.saved;
    if (data?.failure !== 'device-lost' || !saved || !this.deps.prefs().autoResume) return;
    const tries = (this.autoResumes.get(saved.runId) ?? 0) + 1;
    if (tries > MAX_AUTO_RESUMES) return;
    this.autoResumes.set(saved.runId, tries);
    await this.resume(saved.runId);
  }

  /** Continue a checkpoint's own run from its optimizer state (its spec goes into the form and the URL). */
  async continueCheckpoint({ spec, state }: ContinueDetail): Promise<void> {
    this.deps.setSpec(spec);
    const options = { resume: [state], autosaveEvery: this.deps.prefs().autosaveEvery, runId: newRunId() };
    await this.launch(spec, options, { step: state.step });
  }

  /** Evaluate imported weights on the current task: no training (stopAtStep 0), nothing autosaved. */
  async evaluateCheckpoint({ spec, params }: EvaluateDetail): Promise<void> {
    await this.launch(spec, { initialParams: [params], stopAtStep: 0, autosaveEvery: 0 });
  }

  /** After the worker is up on a fresh page: is there an unfinished run to offer? */
  async findUnfinished(): Promise<void> {
    const lab = this.deps.worker.ready;
    if (!lab || this.deps.runs.data) return;
    const runs = await lab.savedRuns().catch(() => []);
    if (this.deps.runs.data) return;
    this.unfinished = runs.find((r) => r.step < r.spec.train.steps) ?? null;
    this.host.requestUpdate();
  }

  /** The training worker stopped answering: end it (frees the GPU) and offer a restart from the last autosave. */
  hung(seconds: number): void {
    const message = `no answer for ${seconds} s while training, so it was ended to free the GPU.`;
    this.deps.runs.workerDied(`The training worker stopped answering: ${message}`, 'worker-hung');
    this.deps.worker.abandon(message);
  }

  offer(): Offer | null {
    const run = this.deps.runs.data;
    const saved = run?.saved ?? null;
    if (this.deps.worker.error) {
      const kind = run?.failure === 'worker-hung' ? 'worker-hung' : 'worker-crashed';
      // Only a run the worker took down with it is worth resuming (not one that had finished before).
      const interrupted = run?.failure === 'worker-hung' || run?.failure === 'worker-crashed';
      return { kind, message: this.deps.worker.error, saved: interrupted ? saved : null };
    }
    if (this.pending) return { kind: 'edited-resume', saved: this.pending };
    if (run?.state === 'error' && !this.dismissed.has(run.identity)) {
      if (run.failure === 'device-lost') {
        const auto = this.deps.prefs().autoResume && (this.autoResumes.get(saved?.runId ?? '') ?? 0) < MAX_AUTO_RESUMES;
        return { kind: 'device-lost', message: run.message, saved, auto };
      }
      if (run.failure === 'non-finite' && saved) return { kind: 'non-finite', message: run.message, saved };
    }
    if (this.unfinished && !run?.active) return { kind: 'unfinished', run: this.unfinished };
    return null;
  }

  async act(action: RecoveryAction): Promise<void> {
    // One action at a time: a double click must not start two runs.
    if (this.acting) return;
    this.acting = true;
    try {
      await this.perform(action);
    } finally {
      this.acting = false;
      this.host.requestUpdate();
    }
  }

  private async perform(action: RecoveryAction): Promise<void> {
    this.problem = '';
    if (action.kind === 'dismiss') {
      if (this.deps.runs.data) this.dismissed.add(this.deps.runs.data.identity);
      this.unfinished = null;
      this.pending = null;
    } else if (action.kind === 'resume') await this.resume(action.runId);
    else if (action.kind === 'restart') {
      await this.deps.worker.start();
      if (action.runId) await this.resume(action.runId);
    } else if (action.kind === 'change-lr') {
      const saved = await this.load(action.runId);
      if (!saved) return;
      const { id: runId, step, states, history } = saved;
      this.pending = { runId, step, states, history };
      this.deps.setSpec(saved.spec);
      this.host.requestUpdate();
      await this.deps.focus('train.lr');
    }
  }

  /**
   * Continue a saved run exactly (its own spec, put back into the form), its charts refilled from its history.
   * Resolves once the run has started, not when it ends (a run whose worker is ended never settles).
   */
  private async resume(runId: string): Promise<void> {
    const saved = await this.load(runId);
    if (!saved) return;
    this.deps.setSpec(saved.spec);
    const autosaveEvery = this.deps.prefs().autosaveEvery;
    void this.launch(
      saved.spec,
      { resumeSaved: runId, autosaveEvery },
      { step: saved.step, history: saved.history, runId },
    );
  }

  private async load(runId: string): Promise<SavedRun | null> {
    const lab = this.deps.worker.ready;
    const saved = lab ? await lab.loadSavedRun(runId).catch(() => null) : null;
    if (!saved) {
      this.problem = lab
        ? `The saved run ${runId} could not be loaded; it may have been deleted.`
        : 'The training worker is not ready yet; try again in a moment.';
      this.host.requestUpdate();
    }
    return saved;
  }
}
