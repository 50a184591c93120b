/**
 * Bounds the connection tests running at once: a total for the process, and a share per
 * workspace so one busy team cannot starve the rest. Waiters are served in arrival order,
 * skipping those whose workspace is at its share.
 */
interface Waiter {
  workspaceId: string;
  grant: () => void;
}

export class TestLimiter {
  private running = 0;
  private readonly perWorkspace = new Map<string, number>();
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerWorkspace: number,
  ) {}

  /**
   * Resolves with a release function once a slot is free; rejects when the signal aborts
   * first (the caller's deadline passed while waiting).
   */
  acquire(workspaceId: string, signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new Error("aborted"));
    if (this.hasRoom(workspaceId)) return Promise.resolve(this.take(workspaceId));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        workspaceId,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.take(workspaceId));
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

  private hasRoom(workspaceId: string): boolean {
    return this.running < this.maxTotal && (this.perWorkspace.get(workspaceId) ?? 0) < this.maxPerWorkspace;
  }

  private take(workspaceId: string): () => void {
    this.running += 1;
    this.perWorkspace.set(workspaceId, (this.perWorkspace.get(workspaceId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      const left = (this.perWorkspace.get(workspaceId) ?? 1) - 1;
      if (left === 0) this.perWorkspace.delete(workspaceId);
      else this.perWorkspace.set(workspaceId, left);
      this.next();
    };
  }

  private next(): void {
    const index = this.queue.findIndex((w) => this.hasRoom(w.workspaceId));
    if (index < 0) return;
    const [waiter] = this.queue.splice(index, 1);
    waiter.grant();
  }
}
