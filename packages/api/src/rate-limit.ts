/**
 * Requests per token: a token bucket per token id, in this process's memory. Each
 * token may burst up to `burst` requests and sustain `perSecond`. Per process, not
 * shared: with N bot processes behind a balancer a token gets up to N × the rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number = perSecond,
  ) {}

  /** 0 when the request may go ahead (and it is counted), else the seconds to wait. */
  take(key: number, now: number): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size > 10_000) this.buckets.clear();
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }
}
