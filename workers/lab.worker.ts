// The lab in a Web Worker: the page calls it through Comlink (src/ui/run/lab-worker.ts), so training never blocks the
// page. `new Lab()` acquires navigator.gpu itself on first use.
import * as Comlink from 'comlink';
import { Lab } from '../src/lab/lab';

Comlink.expose(new Lab());
