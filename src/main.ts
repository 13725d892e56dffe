// Entry point of the page: registers the components; <lab-app> in index.html does the rest.
//
// Test hooks: with `?test-hooks=1` in the address, `window.__labTest` reaches the training worker's lab, so the
// end-to-end tests (e2e/faults.spec.ts) can cause the faults the page must survive: a lost GPU device and a
// worker that stops answering. Without the parameter nothing is exposed.
import './ui/app/lab-app';

declare global {
  interface Window {
    __labTest?: {
      /** Destroy the worker's GPU device, as a driver reset would. */
      simulateDeviceLoss(): Promise<void>;
      /** Block the worker's thread for ms milliseconds (the call itself resolves only when the block ends). */
      simulateHang(ms: number): Promise<void>;
    };
  }
}

if (new URLSearchParams(location.search).get('test-hooks') === '1') {
  const lab = () => {
    const remote = document.querySelector('lab-app')?.labForTests;
    if (!remote) throw new Error('no training worker is running');
    return remote;
  };
  window.__labTest = {
    simulateDeviceLoss: () => lab().simulateDeviceLoss(),
    simulateHang: (ms) => lab().simulateHang(ms),
  };
}
