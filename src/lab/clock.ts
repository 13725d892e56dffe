// A run's clock.
/** Wall time of training only: stopped while evaluating, autosaving or paused. */
export class TrainingClock {
  private total = 0;
  private since: number | null = null;
  start(): void {
    this.since ??= performance.now();
  }
  stop(): void {
    if (this.since !== null) this.total += performance.now() - this.since;
    this.since = null;
  }
  /** Seconds. */
  elapsed(): number {
    return (this.total + (this.since !== null ? performance.now() - this.since : 0)) / 1000;
  }
}
