/**
 * A per-portal request limiter: a rolling window for standard requests (HubSpot counts 110 / 10 s per
 * installed account for marketplace apps), a separate rolling window for search (5 / s), and a cap on
 * requests in flight. Waiters start in arrival order within their kind (FIFO), so one long sync cannot
 * starve a later small request of the same kind forever.
 *
 * Time comes from an injected `Clock` so tests step time by hand instead of sleeping.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export type RequestKind = 'standard' | 'search';

/** Requests in flight per portal unless configured (HUBSPOT_CONCURRENCY). */
export const DEFAULT_CONCURRENCY = 10;

export interface LimiterOptions {
  /** Standard requests per window. Default 110. */
  perWindow?: number;
  /** Window length in ms. Default 10,000. */
  windowMs?: number;
  /** Search requests per second. Default 5. */
  searchPerSecond?: number;
  /** Requests in flight at once. Default 10. */
  concurrency?: number;
  /**
   * Extra ms added to the standard window: the server counts a request when it arrives, which is a little
   * after we start it, so an exact window would let arrivals bunch into one of its windows.
   */
  marginMs?: number;
  /** The same for the search window (1 s). Default 50 (100 left search 10% idle in `npm run bench`). */
  searchMarginMs?: number;
  clock?: Clock;
}

export interface LimiterStats {
  started: number;
  /** Started requests whose place in the window was given back (see `Admission.refund`). */
  refunded: number;
  inFlight: number;
  queued: number;
  maxInFlight: number;
  /** Total ms requests spent waiting in the queue. */
  waitedMs: number;
}

interface Waiter {
  kind: RequestKind;
  enqueuedAt: number;
  /** Starts the request; `at` is when its start was recorded in the window. */
  start: (at: number) => void;
}

class RollingWindow {
  private readonly starts: number[] = [];
  private head = 0;
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    while (this.head < this.starts.length && (this.starts[this.head] as number) <= now - this.windowMs) this.head++;
    if (this.head > 1024) {
      this.starts.splice(0, this.head);
      this.head = 0;
    }
  }

  /** 0 when a request may start now, else the ms until one may. */
  waitMs(now: number): number {
    this.prune(now);
    if (this.starts.length - this.head < this.max) return 0;
    return (this.starts[this.head] as number) + this.windowMs - now;
  }

  record(now: number): void {
    this.starts.push(now);
  }

  /** Forgets one request started at `at` (the latest such), if it is still in the window. */
  forget(at: number): void {
    for (let i = this.starts.length - 1; i >= this.head; i--) {
      const start = this.starts[i] as number;
      if (start === at) {
        this.starts.splice(i, 1);
        return;
      }
      if (start < at) return;
    }
  }
}

/** What `schedule` hands the request it starts. */
export interface Admission {
  /**
   * Gives the request's place in the window back: for an answer the server refused before counting it (a
   * 429 says the portal's window was full, so the request was not admitted to it). Idempotent.
   */
  refund(): void;
}

export class PortalLimiter {
  readonly perWindow: number;
  readonly windowMs: number;
  readonly searchPerSecond: number;
  readonly concurrency: number;
  private readonly clock: Clock;
  private readonly windows: Record<RequestKind, RollingWindow>;
  private readonly queues: Record<RequestKind, Waiter[]> = { standard: [], search: [] };
  private readonly pausedUntil: Record<RequestKind, number> = { standard: 0, search: 0 };
  private inFlight = 0;
  private wakeAt: number | undefined;
  private readonly counters = { started: 0, refunded: 0, maxInFlight: 0, waitedMs: 0 };

  constructor(options: LimiterOptions = {}) {
    this.perWindow = options.perWindow ?? 110;
    this.windowMs = options.windowMs ?? 10_000;
    this.searchPerSecond = options.searchPerSecond ?? 5;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.clock = options.clock ?? systemClock;
    const margin = options.marginMs ?? 150;
    for (const [name, v] of [['perWindow', this.perWindow], ['windowMs', this.windowMs], ['searchPerSecond', this.searchPerSecond], ['concurrency', this.concurrency]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`limiter ${name} must be a positive integer, got ${v}`);
    }
    this.windows = {
      standard: new RollingWindow(this.perWindow, this.windowMs + margin),
      search: new RollingWindow(this.searchPerSecond, 1000 + (options.searchMarginMs ?? 50)),
    };
  }

  /** Runs `fn` once the portal's limits allow; resolves or rejects with its result. */
  schedule<T>(kind: RequestKind, fn: (admission: Admission) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        enqueuedAt: this.clock.now(),
        start: (at) => {
          let refunded = false;
          const admission: Admission = {
            refund: () => {
              if (refunded) return;
              refunded = true;
              this.windows[kind].forget(at);
              this.counters.refunded++;
              this.pump();
            },
          };
          let p: Promise<T>;
          try {
            p = fn(admission);
          } catch (e) {
            p = Promise.reject(e);
          }
          p.then(resolve, reject).finally(() => {
            this.inFlight--;
            this.pump();
          });
        },
      };
      this.queues[kind].push(waiter);
      this.pump();
    });
  }

  /**
   * Holds back new requests of a kind until `until` (clock ms), e.g. after a 429 told us the portal's
   * window is full (another process may share the token, so our own count can be behind).
   */
  pauseUntil(kind: RequestKind, until: number): void {
    if (until > this.pausedUntil[kind]) this.pausedUntil[kind] = until;
    this.pump();
  }

  /** ms until a request of this kind could start by the window alone (0 = now). */
  windowWaitMs(kind: RequestKind): number {
    return this.windows[kind].waitMs(this.clock.now());
  }

  stats(): LimiterStats {
    return {
      started: this.counters.started,
      refunded: this.counters.refunded,
      inFlight: this.inFlight,
      queued: this.queues.standard.length + this.queues.search.length,
      maxInFlight: this.counters.maxInFlight,
      waitedMs: this.counters.waitedMs,
    };
  }

  private pump(): void {
    let earliest = Infinity;
    // Alternate kinds by age so neither queue starves the other of concurrency slots.
    for (;;) {
      if (this.inFlight >= this.concurrency) break;
      const now = this.clock.now();
      let pick: Waiter | undefined;
      for (const kind of ['standard', 'search'] as const) {
        const head = this.queues[kind][0];
        if (!head) continue;
        const wait = Math.max(this.pausedUntil[kind] - now, this.windows[kind].waitMs(now));
        if (wait > 0) {
          earliest = Math.min(earliest, now + wait);
          continue;
        }
        if (!pick || head.enqueuedAt < pick.enqueuedAt) pick = head;
      }
      if (!pick) break;
      this.queues[pick.kind].shift();
      this.windows[pick.kind].record(now);
      this.inFlight++;
      this.counters.started++;
      this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.inFlight);
      this.counters.waitedMs += now - pick.enqueuedAt;
      pick.start(now);
    }
    if (earliest !== Infinity && this.inFlight < this.concurrency) this.wakeAtTime(earliest);
  }

  private wakeAtTime(at: number): void {
    if (this.wakeAt !== undefined && this.wakeAt <= at) return;
    this.wakeAt = at;
    void this.clock.sleep(at - this.clock.now()).then(() => {
      if (this.wakeAt === at) this.wakeAt = undefined;
      this.pump();
    });
  }
}
