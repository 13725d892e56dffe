// Where the run history is kept: IndexedDB, in its own database beside the autosaves (src/lab/store.ts), one record
// an entry. Every record is checked when read (history.ts, checkEntry): one that does not read is refused with a
// message and the rest are kept.
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import { checkEntry, type HistoryEntry } from './history';

export interface HistoryRead {
  /** Newest first. */
  entries: HistoryEntry[];
  /** For each record that could not be read: its key and why. */
  refused: { key: string; message: string }[];
}

export class HistoryStore {
  private store: UseStore;
  constructor(dbName = 'webgpu-lab-history', storeName = 'runs') {
    this.store = createStore(dbName, storeName);
  }

  async list(): Promise<HistoryRead> {
    const read: HistoryRead = { entries: [], refused: [] };
    for (const [key, value] of await entries<IDBValidKey, unknown>(this.store)) {
      try {
        const e = checkEntry(value);
        if (e.id !== key) throw new Error(`its id ${e.id} is not its key`);
        read.entries.push(e);
      } catch (err) {
        read.refused.push({ key: String(key), message: (err as Error).message });
      }
    }
    read.entries.sort((a, b) => b.addedAt - a.addedAt);
    return read;
  }

  async put(entry: HistoryEntry): Promise<void> {
    await set(entry.id, entry, this.store);
  }

  async delete(id: string): Promise<void> {
    await del(id, this.store);
  }
}
