import { expect } from '@open-wc/testing';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';
import { afterEach, describe, it } from './explorer.fixtures.js';
import type { FitOptions, ProgressEvent } from '../../src/types.js';
import { FitCancelledError, FitController } from '../../widget/explorer/fit-controller.js';
import { packIds, splitKs, unpackIds } from '../../widget/explorer/protocol.js';
import { joinStrings, lazySplit } from '../../widget/shared/joined.js';
import { tableWithEdgeRows } from '../fixtures/edge-rows.js';

describe('the fit worker and its controller', () => {
  let controller: FitController | null = null;
  afterEach(() => {
    controller?.dispose();
    controller = null;
  });

  it('returns the same assignments when rows are rejected or have no recent orders (packed by row)', async () => {
    const table = tableWithEdgeRows();
    const options: FitOptions = { k: 3, method: 'kmeans', seed: 2 };
    controller = new FitController({});
    const fromWorker = await controller.fit(table, options);
    const direct = fit(table, options);
    expect(direct.assignments.some((a) => a.segment === 'no_recent_orders')).to.equal(true);
    expect(direct.assignments.some((a) => a.imputed)).to.equal(true);
    expect(direct.assignments.length).to.equal(299);
    expect(JSON.stringify(fromWorker.assignments)).to.equal(JSON.stringify(direct.assignments));
  });

  it('sends the ids as one joined string, or as the array when an id holds the separator', async () => {
    const table = { columns: [], values: new Float64Array(0) };
    for (const ids of [[], [''], ['1', '', '3'], ['a\u001fb', 'c']]) {
      const packed = packIds(ids);
      expect('idsJoined' in packed).to.equal(!ids.some((id) => id.includes('\u001f')));
      expect(unpackIds({ ...table, ...packed })).to.deep.equal(ids);
    }
    const { table: paper } = paperTable({ n: 120, seed: 8 });
    paper.ids[7] = 'odd\u001fid';
    controller = new FitController({});
    const fromWorker = await controller.fit(paper, { k: 3, method: 'kmeans', seed: 1 });
    expect(JSON.stringify(fromWorker.assignments)).to.equal(JSON.stringify(fit(paper, { k: 3, method: 'kmeans', seed: 1 }).assignments));
    expect(fromWorker.assignments.some((a) => a.id === 'odd\u001fid')).to.equal(true);
  });

  it('reads joined ids lazily: length without splitting, any element, iteration and spreading alike', () => {
    const ids = ['10', '', 'c-3', '44'];
    const lazy = lazySplit(joinStrings(ids)!, ids.length);
    expect(lazy.length).to.equal(4);
    expect(lazy[2]).to.equal('c-3');
    expect(lazy[9]).to.equal(undefined);
    expect([...lazy]).to.deep.equal(ids);
    expect(lazy.map((id) => id.length)).to.deep.equal([2, 0, 3, 2]);
    expect(Object.keys(lazy)).to.deep.equal(['0', '1', '2', '3']);
    expect(Array.isArray(lazy)).to.equal(true);
    expect(() => {
      lazy[0] = 'x';
    }).to.throw(TypeError);
    expect(lazySplit('', 0).length).to.equal(0);
  });

  it('names a rejected row by its id when the ids crossed as one joined string', async () => {
    const { table } = paperTable({ n: 60, seed: 4 });
    table.values[5 * table.columns.length + table.columns.indexOf('satisfaction')] = 9; // outside 1..5
    controller = new FitController({});
    const fromWorker = await controller.fit(table, { k: 3, method: 'kmeans', seed: 2 });
    expect(fromWorker.model.data.rejected.map((r) => r.id)).to.deep.equal([table.ids[5]]);
    expect(fromWorker.model.data.rejected[0]!.reason).to.contain(table.ids[5]!);
  });

  for (const options of [
    { k: 3, method: 'kmeans', seed: 7 },
    { k: 'auto', method: 'kmeans', seed: 5, scaler: 'minmax' },
    { k: 3, method: 'ward', seed: 9 },
    { k: 'auto', method: 'ward', seed: 3 },
  ] satisfies FitOptions[]) {
    it(`produces byte-identical model JSON to fit() in the page (${options.method}, k=${options.k})`, async () => {
      const { table } = paperTable({ n: 800, seed: 21 });
      const events: ProgressEvent[] = [];
      controller = new FitController({ onProgress: (e) => events.push(e) });
      const fromWorker = await controller.fit(table, options);
      const direct = fit(table, options);
      expect(JSON.stringify(fromWorker.model)).to.equal(JSON.stringify(direct.model));
      expect(JSON.stringify(fromWorker.assignments)).to.equal(JSON.stringify(direct.assignments));
      expect(events.length).to.be.greaterThan(0);
      expect(events.every((e) => e.fraction >= 0 && e.fraction <= 1)).to.equal(true);
    });
  }

  it('splits the k search with a helper worker when there are two cores, with the same model', async () => {
    const { table } = paperTable({ n: 3000, seed: 6 });
    const options: FitOptions = { k: 'auto', method: 'kmeans', seed: 6 };
    const tried: number[] = [];
    controller = new FitController({
      onProgress: (e) => {
        const m = /^trying k = (\d+)$/.exec(e.message ?? '');
        if (m) tried.push(Number(m[1]));
      },
    });
    const fromWorker = await controller.fit(table, options);
    expect(JSON.stringify(fromWorker.model)).to.equal(JSON.stringify(fit(table, options).model));
    expect(fromWorker.model.quality.kSearch!.map((s) => s.k)).to.deep.equal([2, 3, 4, 5, 6, 7, 8]);
    // This worker reports only the ks it searched itself; the helper searched the others.
    if ((navigator.hardwareConcurrency ?? 1) >= 2) expect(tried).to.deep.equal(splitKs([2, 3, 4, 5, 6, 7, 8])[1].sort((a, b) => a - b));
    else expect(tried).to.deep.equal([2, 3, 4, 5, 6, 7, 8]);
  });

  it('splits the ks into two shares of about equal cost, every k once', () => {
    const [a, b] = splitKs([2, 3, 4, 5, 6, 7, 8]);
    expect([...a, ...b].sort((x, y) => x - y)).to.deep.equal([2, 3, 4, 5, 6, 7, 8]);
    const cost = (side: number[]): number => side.reduce((s, k) => s + k, 0);
    expect(Math.abs(cost(a) - cost(b))).to.be.at.most(2);
    expect(splitKs([2])).to.deep.equal([[2], []]);
  });

  it('leaves the caller table intact after transferring a copy', async () => {
    const { table } = paperTable({ n: 200, seed: 1 });
    const before = Array.from(table.values);
    controller = new FitController();
    await controller.fit(table, { k: 3, method: 'kmeans', seed: 1 });
    expect(table.values.length).to.equal(before.length);
    expect(Array.from(table.values)).to.deep.equal(before);
  });

  it('cancels a running fit by terminating the worker, then fits again with a fresh worker', async () => {
    const { table } = paperTable({ n: 20000, seed: 2 });
    const created: Worker[] = [];
    controller = new FitController({}, () => {
      const worker = new Worker(new URL('../../widget/explorer/fit-worker.js', import.meta.url), { type: 'module' });
      created.push(worker);
      return worker;
    });
    const running = controller.fit(table, { k: 'auto', method: 'kmeans', seed: 2 });
    expect(controller.running).to.equal(true);
    expect(controller.cancel()).to.equal(true);
    let error: unknown = null;
    try {
      await running;
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FitCancelledError);
    expect((error as Error).name).to.equal('AbortError');
    expect(controller.running).to.equal(false);
    expect(controller.cancel()).to.equal(false);
    const small = paperTable({ n: 150, seed: 4 }).table;
    const result = await controller.fit(small, { k: 3, method: 'kmeans', seed: 4 });
    expect(result.model.k).to.equal(3);
    expect(created.length).to.equal(2);
  });

  it('rejects with the core message when the fit fails', async () => {
    const { table } = paperTable({ n: 5, seed: 3 });
    controller = new FitController();
    let error: Error | null = null;
    try {
      await controller.fit(table, { k: 8, method: 'kmeans', seed: 3 });
    } catch (e) {
      error = e as Error;
    }
    expect(error).to.be.instanceOf(Error);
    expect(error?.name).to.equal('RangeError');
    expect(error?.message).to.match(/8/);
  });
});
