// Starts the training worker and wraps it with Comlink. All training runs there, so the page stays responsive.
import * as Comlink from 'comlink';
import type { LabApi } from '../../lab/api';
import type { LabRemote } from './context';

export class LabWorker {
  readonly api: LabRemote;
  private readonly worker: Worker;
  private dead = false;
  private terminated = false;

  /** onDeath is called once if the worker fails to load or throws an uncaught error. */
  constructor(onDeath: (message: string) => void) {
    this.worker = new Worker(new URL('../../../workers/lab.worker.ts', import.meta.url), { type: 'module' });
    const die = (message: string) => {
      if (this.dead) return;
      // An uncaught error leaves the lab in an unknown state; end the worker so that it frees the GPU.
      this.terminate();
      onDeath(message);
    };
    this.worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      const where = e.filename ? ` (${e.filename.split('/').pop()}:${e.lineno})` : '';
      die(e.message ? `${e.message}${where}` : 'the worker script failed to load or crashed');
    });
    this.worker.addEventListener('messageerror', () => die('a message from the worker could not be read'));
    this.api = Comlink.wrap<LabApi>(this.worker);
  }

  get alive(): boolean {
    return !this.dead;
  }

  terminate(): void {
    this.dead = true;
    if (this.terminated) return;
    this.terminated = true;
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}
