// Notices a training worker that stopped answering. A dead worker fires an error event (LabWorker), but a stuck
// one (a runaway loop, a driver call that never returns) says nothing: while a run is active this pings the lab
// every few seconds and reports a hang when a ping goes unanswered for HANG_AFTER_MS.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LabRemote } from '../run/context';

const TICK_MS = 1000;
/** Pings no more often than this. */
const PING_EVERY_MS = 2000;
/** A ping unanswered this long means the worker is stuck. */
export const HANG_AFTER_MS = 10_000;

export class HangWatchController implements ReactiveController {
  private abort: AbortController | null = null;

  constructor(
    host: ReactiveControllerHost,
    private readonly watch: {
      /** The lab to ping while a run is active; undefined when there is nothing to watch. */
      lab(): LabRemote | undefined;
      onHang(seconds: number): void;
    },
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.abort = new AbortController();
    void this.loop(this.abort.signal);
  }

  hostDisconnected(): void {
    this.abort?.abort();
    this.abort = null;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    /** The ping waiting for its answer: when it was sent, and to which lab. */
    let pending: { lab: LabRemote; sentAt: number } | null = null;
    let lastPing = 0;
    let lastTick = performance.now();
    while (!signal.aborted) {
      await sleep(TICK_MS, signal);
      const now = performance.now();
      // The page itself was busy (a long ONNX check, a background tab): do not blame the worker for the delay.
      if (pending && now - lastTick > 3 * TICK_MS) pending.sentAt = now;
      lastTick = now;
      const lab = this.watch.lab();
      if (!lab || (pending && pending.lab !== lab)) {
        pending = null;
        continue;
      }
      if (pending) {
        if (now - pending.sentAt < HANG_AFTER_MS) continue;
        pending = null;
        this.watch.onHang(HANG_AFTER_MS / 1000);
        continue;
      }
      if (now - lastPing < PING_EVERY_MS) continue;
      lastPing = now;
      const ping: { lab: LabRemote; sentAt: number } = { lab, sentAt: now };
      pending = ping;
      lab.ping().then(
        () => {
          if (pending === ping) pending = null;
        },
        () => {
          /* the worker died: LabWorker reports that */
        },
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
