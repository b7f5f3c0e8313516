/**
 * At most `free` holders at once; the rest wait in arrival order. Bounds the requests a
 * process has in flight (Slack calls, webhook posts) without a dependency for it.
 */
export class Slots {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
