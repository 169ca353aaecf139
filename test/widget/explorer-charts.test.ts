import { expect, fixture, html } from '@open-wc/testing';
import type { Assignment, DendrogramMerge } from '../../src/types.js';
import { movementMatrix, subsample } from '../../widget/explorer/analysis.js';
import {
  cutHeight,
  dendrogramChart,
  kSearchChart,
  niceTicks,
  scatterChart,
  stabilityChart,
  tickLabel,
} from '../../widget/explorer/charts.js';
import { describe, it } from './explorer.fixtures.js';

const a = (id: string, segment: string): Assignment => ({ id, segment, distance: 0, imputed: false });

describe('explorer chart helpers', () => {
  it('picks round tick steps close to the requested count', () => {
    expect(niceTicks(0, 100, 5)).to.deep.equal([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1, 4)).to.deep.equal([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(5, 555, 5)).to.deep.equal([100, 200, 300, 400, 500]);
    expect(niceTicks(3, 3)).to.deep.equal([3]);
    expect(niceTicks(Number.NaN, 1)).to.deep.equal([]);
  });

  it('shortens large tick labels', () => {
    expect(tickLabel(12000)).to.equal('12k');
    expect(tickLabel(2500000)).to.equal('2.5M');
    expect(tickLabel(0.25)).to.equal('0.25');
  });

  it('cuts the dendrogram halfway between the merges that leave k clusters', () => {
    const merges: DendrogramMerge[] = [
      { a: 0, b: 1, height: 1, size: 2 },
      { a: 2, b: 3, height: 2, size: 2 },
      { a: 5, b: 4, height: 5, size: 3 },
      { a: 6, b: 7, height: 9, size: 5 },
    ];
    expect(cutHeight(merges, 2)).to.equal(7);
    expect(cutHeight(merges, 3)).to.equal(3.5);
    expect(cutHeight(merges, 1)).to.be.closeTo(9.45, 1e-12);
  });

  it('counts contacts moving between two segmentations, matched by id', () => {
    const before = [a('a', 'x'), a('b', 'x'), a('c', 'y'), a('d', 'y')];
    const after = [a('a', 'x'), a('b', 'y'), a('c', 'y'), a('e', 'x')];
    const m = movementMatrix(before, after, ['y', 'x'], ['x', 'y']);
    expect(m.from).to.deep.equal(['y', 'x']);
    expect(m.to).to.deep.equal(['x', 'y']);
    expect(m.counts).to.deep.equal([
      [0, 1],
      [1, 1],
    ]);
    expect(m.compared).to.equal(3);
    expect(m.moved).to.equal(1);
  });

  it('keeps every row when under the limit and a seeded sorted sample above it', () => {
    expect(Array.from(subsample(4, 10, 1))).to.deep.equal([0, 1, 2, 3]);
    const picked = Array.from(subsample(100, 10, 7));
    expect(picked).to.have.length(10);
    expect(new Set(picked).size).to.equal(10);
    expect(picked).to.deep.equal([...picked].sort((x, y) => x - y));
    expect(Array.from(subsample(100, 10, 7))).to.deep.equal(picked);
  });
});

describe('explorer charts', () => {
  it('draws a scatter plot as one path per series with an accessible name', async () => {
    const el = await fixture(html`<div>
      ${scatterChart({
        series: [
          { label: 'A', color: '#009E73', xs: [1, 2, Number.NaN], ys: [3, 4, 5] },
          { label: 'B', color: '#0072B2', xs: [10], ys: [1] },
        ],
        xLabel: 'x (km)',
        yLabel: 'y',
        label: 'Scatter of x against y',
      })}
    </div>`);
    const svg = el.querySelector('svg') as SVGSVGElement;
    expect(svg.getAttribute('role')).to.equal('img');
    expect(svg.getAttribute('aria-label')).to.equal('Scatter of x against y');
    expect(svg.querySelector('title')?.textContent).to.equal('Scatter of x against y');
    const paths = [...svg.querySelectorAll('.points path')];
    expect(paths.map((p) => (p.getAttribute('d') ?? '').split('M').length - 1)).to.deep.equal([2, 1]);
    await expect(el).to.be.accessible();
  });

  it('marks the chosen k in the k search chart', async () => {
    const el = await fixture(html`<div>
      ${kSearchChart({
        points: [
          { k: 2, silhouette: 0.5, inertia: 100 },
          { k: 3, silhouette: 0.7, inertia: 40 },
          { k: 4, silhouette: 0.4, inertia: 30 },
        ],
        chosen: 3,
        label: 'k search',
        silhouetteLabel: 'Silhouette',
        inertiaLabel: 'Inertia',
        kLabel: 'k',
      })}
    </div>`);
    const circles = [...el.querySelectorAll('circle')];
    expect(circles.map((c) => c.getAttribute('r'))).to.deep.equal(['4', '6', '4']);
    await expect(el).to.be.accessible();
  });

  it('truncates a large dendrogram to its last clusters and labels the cut', async () => {
    // A caterpillar tree over 50 leaves: merge i joins leaf i+1 to the previous cluster.
    const n = 50;
    const merges: DendrogramMerge[] = [];
    for (let i = 0; i < n - 1; i++) merges.push({ a: i === 0 ? 0 : n + i - 1, b: i + 1, height: i + 1, size: i + 2 });
    const el = await fixture(html`<div>
      ${dendrogramChart({ merges, leaves: n, k: 3, label: 'Dendrogram cut at 3', heightLabel: 'Height', maxLeaves: 10 })}
    </div>`);
    const d = el.querySelector('path[stroke-width="1.25"]')?.getAttribute('d') ?? '';
    expect(d.split('M').length - 1).to.equal(9);
    expect(el.querySelector('svg')?.textContent).to.contain('k = 3');
    await expect(el).to.be.accessible();
  });

  it('draws stability bars clamped to 0..1', async () => {
    const el = await fixture(html`<div>
      ${stabilityChart({
        label: 'Stability',
        bars: [
          { label: 'ARI', value: 1.2, text: '1.2' },
          { label: 'Agreement', value: 0.5, text: '50%' },
        ],
      })}
    </div>`);
    const widths = [...el.querySelectorAll('rect')].map((r) => Number(r.getAttribute('width')));
    // Background and value bar per row: the value bars are full and half width.
    expect(widths[1]).to.equal(widths[0]);
    expect(widths[3]).to.equal((widths[2] as number) / 2);
    await expect(el).to.be.accessible();
  });
});
