// Work an adapter has acknowledged and will do next, started in arrival order, one job per
// event-loop turn. Why: a platform counts a request as failed when its ack is late (Slack: 3 s),
// and a handler's work (parse, policy, SQLite, the answer's POST) costs several times what the ack
// does. Started one per turn, a burst's acks all go out in the turns' I/O phase first and the work
// follows, instead of every new request waiting behind the handlers of the ones before it.
// Jobs still run concurrently once started; only their start is paced. The intake also tracks
// every job, so an adapter's stop() and idle() wait for exactly the work it took on.
export class Intake {
  private readonly queue: (() => Promise<unknown>)[] = [];
  private readonly running = new Set<Promise<void>>();
  private scheduled = false;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Queue a job; its failure goes to onError. */
  add(job: () => Promise<unknown>): void {
    this.queue.push(job);
    this.schedule();
  }

  /** Start a job at once, ahead of the queue: for work with a deadline of its own (a trigger_id,
   * a Discord interaction whose first answer is part of the job). */
  startNow(job: () => Promise<unknown>): void {
    this.start(job);
  }

  /** Jobs queued or running. */
  get size(): number {
    return this.queue.length + this.running.size;
  }

  /** Every job added so far (and any they led to) has finished. */
  async idle(): Promise<void> {
    while (this.size > 0) {
      if (this.running.size > 0) await Promise.allSettled([...this.running]);
      else await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startNext();
      this.schedule();
    });
  }

  private startNext(): void {
    const job = this.queue.shift();
    if (job) this.start(job);
  }

  private start(job: () => Promise<unknown>): void {
    const p: Promise<void> = Promise.resolve()
      .then(job)
      .then(() => undefined, this.onError)
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}
