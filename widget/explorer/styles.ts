/** Styles of `<smart-segment-explorer>`: HubSpot-like white cards, one column in narrow modals, two in wide. */
import { css } from 'lit';
import { focusRing, themeStyles, utilityStyles } from '../shared/theme.js';

export const explorerStyles = [
  themeStyles,
  focusRing,
  utilityStyles,
  css`
    :host {
      display: block;
      container-type: inline-size;
      background: var(--_surface-alt);
    }
    [part='base'] {
      padding: 20px 24px 32px;
      max-width: 1400px;
      margin: 0 auto;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 4px 16px;
      margin-bottom: 16px;
    }
    h2 {
      font-size: 22px;
      font-weight: 600;
      margin: 0;
    }
    h3 {
      font-size: 16px;
      font-weight: 600;
      margin: 0 0 4px;
    }
    h4 {
      font-size: 14px;
      font-weight: 600;
      margin: 0;
    }
    p {
      margin: 0 0 8px;
    }
    .layout {
      display: grid;
      grid-template-columns: minmax(0, 1fr);
      gap: 16px;
      align-items: start;
    }
    @container (min-width: 1000px) {
      .layout {
        grid-template-columns: 280px minmax(0, 1fr);
      }
      .controls {
        position: sticky;
        top: 16px;
      }
      .controls form {
        grid-template-columns: 1fr;
      }
    }
    .card {
      min-width: 0;
      background: var(--_surface);
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      padding: 16px 20px;
    }
    .results {
      display: grid;
      gap: 16px;
      min-width: 0;
    }
    .note {
      color: var(--_muted);
      font-size: 13px;
      margin: 0 0 12px;
    }
    /* Controls */
    .controls form {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(200px, 1fr));
      gap: 16px;
      margin-top: 8px;
    }
    fieldset {
      border: 0;
      margin: 0;
      padding: 0;
      min-width: 0;
    }
    legend,
    .label {
      font-weight: 600;
      font-size: 13px;
      padding: 0;
      margin-bottom: 6px;
    }
    .option {
      display: flex;
      align-items: center;
      gap: 8px;
      min-height: 28px;
      cursor: pointer;
    }
    input[type='checkbox'],
    input[type='radio'] {
      accent-color: var(--_accent);
      width: 16px;
      height: 16px;
      margin: 0;
    }
    select,
    input[type='number'] {
      font: inherit;
      color: inherit;
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      background: var(--_surface-alt);
      padding: 5px 8px;
      min-height: 34px;
      width: 100%;
    }
    .field {
      display: grid;
      gap: 4px;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      align-items: center;
      grid-column: 1 / -1;
    }
    /* The shared orange (#ff5c35) is 3.1:1 with white text; this shade keeps the look at 4.6:1 (WCAG AA). */
    .button.primary {
      background: #d1431f;
      border-color: #d1431f;
      color: #ffffff;
    }
    .button.primary:hover {
      background: #b93b17;
      border-color: #b93b17;
    }
    [role='alert'] {
      color: #a32b2b;
      background: #fdedee;
      border: 1px solid #f2545b;
      border-radius: var(--_radius);
      padding: 8px 12px;
      margin: 8px 0 0;
    }
    .status {
      padding: 8px 12px;
      border-left: 3px solid var(--_accent);
      background: #e5f5f8;
      border-radius: var(--_radius);
      margin: 8px 0 0;
    }
    .progress {
      grid-column: 1 / -1;
    }
    .bar {
      height: 8px;
      background: #eaf0f6;
      border-radius: 4px;
      overflow: hidden;
      margin: 6px 0 4px;
    }
    .bar > span {
      display: block;
      height: 100%;
      background: var(--_accent);
      transition: width 0.2s;
    }
    @media (prefers-reduced-motion: reduce) {
      .bar > span {
        transition: none;
      }
    }
    /* Summary and publish */
    .summary {
      display: flex;
      flex-wrap: wrap;
      justify-content: space-between;
      gap: 12px 24px;
      align-items: flex-start;
    }
    .summary .facts {
      display: flex;
      flex-wrap: wrap;
      gap: 8px 24px;
      margin: 8px 0 12px;
    }
    .summary-main {
      flex: 1 1 320px;
    }
    .summary .note {
      margin: 0 0 4px;
    }
    .facts div {
      display: grid;
    }
    .facts dt {
      font-size: 12px;
      color: var(--_muted);
    }
    .facts dd {
      margin: 0;
      font-size: 18px;
      font-weight: 600;
    }
    .publish {
      flex: 0 1 300px;
      display: grid;
      gap: 6px;
      justify-items: start;
    }
    /* Segment cards */
    .segments {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
      gap: 12px;
      margin-top: 8px;
    }
    .segment {
      border: 1px solid var(--_border);
      border-top: 4px solid var(--_swatch, var(--_border));
      border-radius: var(--_radius);
      padding: 12px 14px;
      display: grid;
      gap: 6px;
      align-content: start;
    }
    .segment-head {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .swatch {
      display: inline-block;
      width: 12px;
      height: 12px;
      border-radius: 50%;
      background: var(--_swatch, var(--_border));
      flex: none;
    }
    .archetype {
      font-size: 12px;
      color: var(--_muted);
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    .size {
      font-size: 13px;
    }
    .share {
      height: 6px;
      border-radius: 3px;
      background: #eaf0f6;
      overflow: hidden;
    }
    .share > span {
      display: block;
      height: 100%;
      background: var(--_swatch);
    }
    .why {
      font-size: 13px;
    }
    .pill {
      display: inline-block;
      font-size: 12px;
      font-weight: 600;
      padding: 1px 8px;
      border-radius: 10px;
      background: #fff1ee;
      color: #b93b17;
      border: 1px solid #ffbca9;
    }
    .pill.p1 {
      background: #e5f8f6;
      color: #00705f;
      border-color: #7fd1c7;
    }
    .pill.p2 {
      background: #fef8e6;
      color: #7a5a00;
      border-color: #f5c26b;
    }
    .tech {
      list-style: none;
      padding: 0;
      margin: 0;
      display: grid;
      gap: 6px;
      font-size: 13px;
    }
    .tech strong {
      font-weight: 600;
    }
    .tech .kpis {
      color: var(--_muted);
      font-size: 12px;
    }
    details summary {
      cursor: pointer;
      font-size: 13px;
      font-weight: 600;
      color: var(--_accent-text);
    }
    /* Tables */
    .table-wrap {
      overflow-x: auto;
      max-width: 100%;
    }
    table {
      border-collapse: collapse;
      width: 100%;
      font-size: 13px;
      font-variant-numeric: tabular-nums;
    }
    caption {
      text-align: left;
      font-size: 13px;
      color: var(--_muted);
      padding-bottom: 6px;
    }
    th,
    td {
      text-align: right;
      padding: 6px 10px;
      border-bottom: 1px solid #eaf0f6;
      white-space: nowrap;
    }
    th:first-child,
    td:first-child,
    .text {
      text-align: left;
    }
    td.text {
      white-space: normal;
      min-width: 220px;
    }
    .small {
      display: block;
      font-size: 11px;
    }
    thead td,
    thead th {
      background: var(--_surface-alt);
      font-weight: 600;
      border-bottom: 1px solid var(--_border);
    }
    tbody th {
      font-weight: 400;
    }
    .seg-name {
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
    .initial td {
      color: var(--_muted);
      font-size: 12px;
    }
    tbody th[rowspan] {
      vertical-align: top;
    }
    td[rowspan] {
      vertical-align: top;
    }
    td.kind {
      text-align: left;
      color: var(--_muted);
      font-size: 12px;
    }
    .diag {
      font-weight: 700;
      background: #e5f5f8;
    }
    /* Charts */
    .chart {
      width: 100%;
      max-width: 800px;
      height: auto;
      display: block;
      font-family: var(--_font);
    }
    .chart-controls {
      display: flex;
      flex-wrap: wrap;
      gap: 12px;
      margin: 8px 0;
    }
    .chart-controls .field {
      min-width: 200px;
      flex: 1;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 16px;
      list-style: none;
      padding: 0;
      margin: 8px 0 0;
      font-size: 13px;
    }
    .legend li {
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
    .empty,
    .loading,
    .load-error {
      text-align: center;
      padding: 48px 24px;
    }
    .load-error [role='alert'] {
      margin-bottom: 16px;
    }
    .empty p,
    .loading p {
      font-size: 16px;
    }
  `,
];
