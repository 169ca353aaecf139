import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatDuration, progressLine } from '../../connector/progress.js';

function capture(isTTY: boolean): { write(s: string): void; isTTY: boolean; columns: number; text: () => string } {
  let out = '';
  return { write: (s: string) => void (out += s), isTTY, columns: 120, text: () => out };
}

describe('progress', () => {
  test('a line shows counts, percentage, rate and ETA', () => {
    // 250 of 1000 in 5 s: 50/s, 750 left -> 15 s.
    assert.equal(
      progressLine({ label: 'Sync', done: 250, total: 1000, elapsedMs: 5000, unit: 'records' }),
      'Sync 250/1,000 records (25%) 50/s ETA 15s',
    );
    assert.equal(progressLine({ label: 'Sync', done: 30, total: undefined, elapsedMs: 10_000, unit: 'records' }), 'Sync 30 records 3/s');
  });

  test('durations read as seconds, minutes or hours', () => {
    assert.equal(formatDuration(59.4), '59s');
    assert.equal(formatDuration(61), '1m01s');
    assert.equal(formatDuration(3720), '1h02m');
  });

  test('without a terminal it prints plain lines at most every interval, then the final message', () => {
    let t = 0;
    const stream = capture(false);
    const p = createProgress({ label: 'Full sync', total: 100, stream, now: () => t, intervalMs: 1000 });
    t = 500;
    p.update(10); // first draw
    t = 900;
    p.update(20); // within the interval: skipped
    t = 1600;
    p.tick(30); // 50 done
    p.done('Done: 100 records');
    const lines = stream.text().trimEnd().split('\n');
    assert.deepEqual(lines, [
      'Full sync 10/100 records (10%) 20/s ETA 5s',
      'Full sync 50/100 records (50%) 31/s ETA 2s',
      'Done: 100 records',
    ]);
  });

  test('on a terminal it redraws one line with a bar and clears it at the end', () => {
    let t = 0;
    const stream = capture(true);
    const p = createProgress({ label: 'Sync', stream, now: () => t });
    t = 1000;
    p.update(5, 10);
    assert.match(stream.text(), /^\rSync \[#+-+\] 5\/10 records \(50%\)/);
    assert.ok(!stream.text().includes('\n'));
    p.done('ok');
    assert.ok(stream.text().endsWith('\rok\n'));
  });
});
