// The worker proxy, shared with every component that talks to the lab (provided by <lab-app>).
import { createContext } from '@lit/context';
import type { Remote } from 'comlink';
import type { LabApi } from '../../lab/api';

/** The lab running in the Web Worker, reached through Comlink; undefined while no worker is alive. */
export type LabRemote = Remote<LabApi>;

export const labContext = createContext<LabRemote | undefined>(Symbol('lab'));
