// Where runs are autosaved: IndexedDB in the browser (the worker writes it directly), memory in Node and tests.
// A saved run holds everything needed to resume exactly (every lane's LaneState) and to redraw its charts.
import { clear, createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { VariantCache } from '../engine/adapter';
import type { ExperimentSpec, LaneResult, LaneState } from './api';

export interface SavedRun {
  id: string;
  /** Milliseconds since the epoch. */
  savedAt: number;
  spec: ExperimentSpec;
  /** The step every lane was saved at. */
  step: number;
  states: LaneState[];
  /** Metrics so far, so the page can redraw the charts after a reload. */
  history: Pick<LaneResult, 'lane' | 'objective' | 'history'>[];
  /** Why the run stopped, if it did not finish (device lost, NaN, closed tab…). */
  note?: string;
}

export type SavedRunInfo = Omit<SavedRun, 'states' | 'history'> & { bytes: number };

export interface RunStore {
  save(run: SavedRun): Promise<void>;
  list(): Promise<SavedRunInfo[]>;
  load(id: string): Promise<SavedRun | null>;
  delete(id: string): Promise<void>;
  clear(): Promise<void>;
}

/** Bytes of the tensors a saved run holds (what dominates its storage). */
export function runBytes(run: SavedRun): number {
  return run.states.reduce((a, s) => a + s.params.byteLength + s.adamM.byteLength + s.adamV.byteLength, 0);
}

function info(run: SavedRun): SavedRunInfo {
  return {
    id: run.id,
    savedAt: run.savedAt,
    spec: run.spec,
    step: run.step,
    bytes: runBytes(run),
    ...(run.note ? { note: run.note } : {}),
  };
}

export class MemoryRunStore implements RunStore {
  private runs = new Map<string, SavedRun>();
  async save(run: SavedRun): Promise<void> {
    this.runs.set(run.id, structuredClone(run));
  }
  async list(): Promise<SavedRunInfo[]> {
    return [...this.runs.values()].map(info).sort((a, b) => b.savedAt - a.savedAt);
  }
  async load(id: string): Promise<SavedRun | null> {
    const r = this.runs.get(id);
    return r ? structuredClone(r) : null;
  }
  async delete(id: string): Promise<void> {
    this.runs.delete(id);
  }
  async clear(): Promise<void> {
    this.runs.clear();
  }
}

/** The kernel choices timed per adapter (src/engine/autotune.ts), kept across page loads in their own database. */
export class IdbVariantCache implements VariantCache {
  private store: UseStore;
  constructor(dbName = 'webgpu-lab-tuning', storeName = 'kernel-choices') {
    this.store = createStore(dbName, storeName);
  }
  async get(key: string): Promise<string | undefined> {
    return get<string>(key, this.store);
  }
  async set(key: string, variant: string): Promise<void> {
    await set(key, variant, this.store);
  }
}

/** IndexedDB through idb-keyval: typed arrays are stored as they are (structured clone), no encoding. */
export class IdbRunStore implements RunStore {
  private store: UseStore;
  constructor(dbName = 'webgpu-lab', storeName = 'runs') {
    this.store = createStore(dbName, storeName);
  }
  async save(run: SavedRun): Promise<void> {
    await set(run.id, run, this.store);
  }
  async list(): Promise<SavedRunInfo[]> {
    const all = await entries<string, SavedRun>(this.store);
    return all.map(([, r]) => info(r)).sort((a, b) => b.savedAt - a.savedAt);
  }
  async load(id: string): Promise<SavedRun | null> {
    return (await get<SavedRun>(id, this.store)) ?? null;
  }
  async delete(id: string): Promise<void> {
    await del(id, this.store);
  }
  async clear(): Promise<void> {
    await clear(this.store);
  }
}
