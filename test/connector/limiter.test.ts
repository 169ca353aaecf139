import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PortalLimiter } from '../../connector/hubspot/limiter.js';
import type { Clock } from '../../connector/hubspot/limiter.js';

/** A clock that only moves when the test says so. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; resolve: () => void }[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.push({ at: this.t + Math.max(0, ms), resolve }));
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.resolve();
    }
    this.t = end;
    await settle();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PortalLimiter', () => {
  test('starts at most perWindow standard requests in any rolling window', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 3, windowMs: 1000, marginMs: 0, concurrency: 10, clock });
    const starts: number[] = [];
    const all = Array.from({ length: 7 }, () => limiter.schedule('standard', async () => void starts.push(clock.now())));
    await settle();
    assert.deepEqual(starts, [0, 0, 0]);
    await clock.advance(999);
    assert.deepEqual(starts, [0, 0, 0]);
    await clock.advance(1);
    assert.deepEqual(starts, [0, 0, 0, 1000, 1000, 1000]);
    await clock.advance(1000);
    await Promise.all(all);
    assert.deepEqual(starts, [0, 0, 0, 1000, 1000, 1000, 2000]);
  });

  test('a refunded request gives its place in the window back, once, and a waiting request takes it', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 2, windowMs: 1000, marginMs: 0, concurrency: 10, clock });
    const starts: number[] = [];
    const first = limiter.schedule('standard', async () => void starts.push(clock.now()));
    await clock.advance(100);
    const refused = limiter.schedule('standard', async (admission) => {
      starts.push(clock.now());
      admission.refund();
      admission.refund(); // idempotent: gives back one place, not two
    });
    const waiting = [1, 2].map(() => limiter.schedule('standard', async () => void starts.push(clock.now())));
    await Promise.all([first, refused]);
    await settle();
    // The refused request's place (started at 100) went to the next waiter at once; the last one waits
    // for the first request (started at 0) to leave the window.
    assert.deepEqual(starts, [0, 100, 100]);
    assert.equal(limiter.stats().refunded, 1);
    await clock.advance(899);
    assert.deepEqual(starts, [0, 100, 100]);
    await clock.advance(1);
    await Promise.all(waiting);
    assert.deepEqual(starts, [0, 100, 100, 1000]);
  });

  test('the margin widens the window so arrivals cannot bunch at the server', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 1, windowMs: 1000, marginMs: 200, concurrency: 10, clock });
    const starts: number[] = [];
    const all = [1, 2].map(() => limiter.schedule('standard', async () => void starts.push(clock.now())));
    await clock.advance(1199);
    assert.deepEqual(starts, [0]);
    await clock.advance(1);
    await Promise.all(all);
    assert.deepEqual(starts, [0, 1200]);
  });

  test('caps requests in flight and starts waiters in arrival order', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 100, windowMs: 1000, concurrency: 2, clock });
    const gates = Array.from({ length: 5 }, () => deferred());
    const order: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const all = gates.map((gate, i) =>
      limiter.schedule('standard', async () => {
        order.push(i);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate.promise;
        inFlight--;
        return i;
      }),
    );
    await settle();
    assert.deepEqual(order, [0, 1]);
    gates[1]?.resolve();
    await settle();
    assert.deepEqual(order, [0, 1, 2]);
    for (const g of gates) g.resolve();
    assert.deepEqual(await Promise.all(all), [0, 1, 2, 3, 4]);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(maxInFlight, 2);
    assert.equal(limiter.stats().maxInFlight, 2);
    assert.equal(limiter.stats().started, 5);
  });

  test('search has its own per-second window and does not use the standard one', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 3, windowMs: 10_000, searchPerSecond: 2, marginMs: 0, searchMarginMs: 0, concurrency: 10, clock });
    const log: string[] = [];
    const all = [
      ...[1, 2, 3].map((i) => limiter.schedule('search', async () => void log.push(`search${i}@${clock.now()}`))),
      ...[1, 2, 3].map((i) => limiter.schedule('standard', async () => void log.push(`std${i}@${clock.now()}`))),
    ];
    await settle();
    assert.deepEqual(log.sort(), ['search1@0', 'search2@0', 'std1@0', 'std2@0', 'std3@0']);
    await clock.advance(1000);
    await Promise.all(all);
    assert.ok(log.includes('search3@1000'));
  });

  test('pauseUntil holds back one kind only, then resumes', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ perWindow: 100, windowMs: 10_000, concurrency: 10, clock });
    limiter.pauseUntil('standard', 2500);
    const log: string[] = [];
    const a = limiter.schedule('standard', async () => void log.push(`std@${clock.now()}`));
    const b = limiter.schedule('search', async () => void log.push(`search@${clock.now()}`));
    await settle();
    assert.deepEqual(log, ['search@0']);
    await clock.advance(2499);
    assert.deepEqual(log, ['search@0']);
    await clock.advance(1);
    await Promise.all([a, b]);
    assert.deepEqual(log, ['search@0', 'std@2500']);
  });

  test('a task that throws rejects its own promise and frees its slot', async () => {
    const clock = new ManualClock();
    const limiter = new PortalLimiter({ concurrency: 1, clock });
    const failing = limiter.schedule('standard', () => Promise.reject(new Error('boom')));
    const next = limiter.schedule('standard', async () => 'ok');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ok');
    assert.equal(limiter.stats().inFlight, 0);
  });

  test('rejects nonsensical options', () => {
    assert.throws(() => new PortalLimiter({ perWindow: 0 }), /perWindow/);
    assert.throws(() => new PortalLimiter({ concurrency: 1.5 }), /concurrency/);
  });
});
