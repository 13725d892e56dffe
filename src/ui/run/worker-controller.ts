// Owns the training worker for its host: starts it, asks it for the GPU, provides its Comlink proxy to the
// components below through @lit/context, notices when it dies, and can start a fresh one.
import { ContextProvider } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AdapterReport } from '../../lab/api';
import { labContext, type LabRemote } from './context';
import { LabWorker } from './lab-worker';

export type GpuState =
  { state: 'checking' } | { state: 'ready'; adapter: AdapterReport } | { state: 'missing'; reason: string };

export class WorkerController implements ReactiveController {
  gpu: GpuState = { state: 'checking' };
  /** Why the worker stopped, or '' while it lives. */
  error = '';
  private worker: LabWorker | null = null;
  private readonly provider: ContextProvider<typeof labContext>;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly events: { onReady(): void; onDeath(message: string): void },
  ) {
    this.provider = new ContextProvider(host, { context: labContext });
    host.addController(this);
  }

  hostConnected(): void {
    void this.start();
  }

  hostDisconnected(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  /** The lab, if its worker is alive. */
  get lab(): LabRemote | undefined {
    return this.worker?.alive ? this.worker.api : undefined;
  }

  /** The lab, if its worker is alive and has a GPU. */
  get ready(): LabRemote | undefined {
    return this.gpu.state === 'ready' ? this.lab : undefined;
  }

  /** The GPU line under the page's title: the adapter, or that one is being looked for. */
  get gpuLine(): string {
    const gpu = this.gpu;
    if (gpu.state !== 'ready') return gpu.state === 'checking' ? 'Looking for a GPU…' : '';
    const { vendor, architecture, description, matmulVariant, reductionVariant, activationStorage } = gpu.adapter;
    const acts = activationStorage ? `, MLP activations ${activationStorage.name}` : '';
    const rows = (reductionVariant ? `, row reductions ${reductionVariant.name}` : '') + acts;
    const kernels = matmulVariant
      ? ` — matmul kernels ${matmulVariant.name} (${matmulVariant.source === 'timed' ? 'timed now' : matmulVariant.source})${rows}`
      : '';
    return `GPU: ${[vendor, architecture, description].filter(Boolean).join(' · ') || 'adapter found'}${kernels}`;
  }

  /** Start (or restart) the worker and ask it for the GPU. */
  async start(): Promise<void> {
    this.worker?.terminate();
    this.error = '';
    this.set({ state: 'checking' });
    if (!isSecureContext)
      return this.missing('this page is not a secure context (https or localhost), so WebGPU is hidden.');
    if (!('gpu' in navigator))
      return this.missing('navigator.gpu is missing: this browser has no WebGPU, or it is off.');
    const worker = new LabWorker((message) => this.died(worker, message));
    this.worker = worker;
    this.provider.setValue(worker.api);
    try {
      const adapter = await worker.api.adapter();
      if (this.worker !== worker) return;
      this.set({ state: 'ready', adapter });
      this.events.onReady();
    } catch (err) {
      if (this.worker === worker && worker.alive) this.missing(err instanceof Error ? err.message : String(err));
    }
  }

  /** End a worker that stopped answering (frees its GPU device); reported as its death, with this message. */
  abandon(message: string): void {
    const worker = this.worker;
    if (!worker?.alive) return;
    worker.terminate();
    this.died(worker, message);
  }

  private died(worker: LabWorker, message: string): void {
    if (this.worker !== worker) return;
    this.error = message;
    this.provider.setValue(undefined);
    if (this.gpu.state === 'checking')
      this.missing(`the training worker failed before it could look for a GPU (${message}).`);
    this.events.onDeath(message);
    this.host.requestUpdate();
  }

  private missing(reason: string): void {
    this.set({ state: 'missing', reason });
  }

  private set(gpu: GpuState): void {
    this.gpu = gpu;
    this.host.requestUpdate();
  }
}
