/**
 * Bounds the connection tests running at once: a total for the process, a share per workspace
 * so one busy team cannot starve the rest, and a share per person across all their workspaces
 * (an API token counts as its creator), so one person with many workspaces cannot take every
 * slot either. Waiters are served in arrival order, skipping those whose workspace or person
 * is at its share.
 */
interface Waiter {
  shares: string[];
  grant: () => void;
}

export class TestLimiter {
  private running = 0;
  private readonly perShare = new Map<string, number>();
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerWorkspace: number,
    private readonly maxPerUser: number = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Resolves with a release function once a slot is free; rejects when the signal aborts
   * first (the caller's deadline passed while waiting). `userId` is the person the test runs
   * for; null only where no person is involved.
   */
  acquire(workspaceId: string, signal: AbortSignal, userId: string | null = null): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new Error("aborted"));
    const shares = [`w:${workspaceId}`, ...(userId ? [`u:${userId}`] : [])];
    if (this.hasRoom(shares)) return Promise.resolve(this.take(shares));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        shares,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.take(shares));
        },
      };
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  get active(): number {
    return this.running;
  }

  private cap(share: string): number {
    return share.startsWith("w:") ? this.maxPerWorkspace : this.maxPerUser;
  }

  private hasRoom(shares: string[]): boolean {
    return this.running < this.maxTotal && shares.every((share) => (this.perShare.get(share) ?? 0) < this.cap(share));
  }

  private take(shares: string[]): () => void {
    this.running += 1;
    for (const share of shares) this.perShare.set(share, (this.perShare.get(share) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      for (const share of shares) {
        const left = (this.perShare.get(share) ?? 1) - 1;
        if (left === 0) this.perShare.delete(share);
        else this.perShare.set(share, left);
      }
      this.next();
    };
  }

  private next(): void {
    const index = this.queue.findIndex((w) => this.hasRoom(w.shares));
    if (index < 0) return;
    const [waiter] = this.queue.splice(index, 1);
    waiter.grant();
  }
}
