import { css } from 'lit';

export const badgeStyles = css`
  :host {
    display: inline-block;
    position: relative;
    vertical-align: middle;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    max-width: 100%;
    padding: 2px 10px 2px 8px;
    border: 1px solid var(--_border);
    border-radius: 12px;
    background: var(--smart-segment-badge-background, var(--_surface));
    color: var(--_text);
    font: inherit;
    font-size: 12px;
    font-weight: 600;
    line-height: 20px;
    cursor: pointer;
    white-space: nowrap;
  }
  .badge:hover {
    border-color: var(--_accent);
  }
  .badge.static {
    cursor: default;
  }
  .badge.error {
    border-color: var(--_danger);
    color: var(--_danger);
  }
  .dot {
    flex: none;
    width: 10px;
    height: 10px;
    border-radius: 50%;
    box-shadow: inset 0 0 0 1px rgba(0, 0, 0, 0.15);
  }
  .label {
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .card {
    position: absolute;
    z-index: 1000;
    top: calc(100% + 6px);
    left: 0;
    width: var(--smart-segment-card-width, 380px);
    max-width: calc(100vw - 16px);
    max-height: var(--smart-segment-card-max-height, min(560px, 80vh));
    overflow: auto;
    background: var(--_surface);
    color: var(--_text);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: var(--_shadow);
    padding: 16px;
    text-align: left;
    white-space: normal;
    font-size: 13px;
  }
  /* A card opened by hovering is a preview: it never catches the pointer on its way to what lies beneath
     (the record's buttons); click or focus the badge to pin it and interact with it. */
  .card.preview {
    pointer-events: none;
  }
  :host([card-align='end']) .card {
    left: auto;
    right: 0;
  }
  .card-header {
    display: flex;
    align-items: flex-start;
    gap: 8px;
    margin-bottom: 8px;
  }
  .card-header .dot {
    margin-top: 5px;
    width: 12px;
    height: 12px;
  }
  h2 {
    flex: 1;
    margin: 0;
    font-size: 16px;
    font-weight: 600;
    line-height: 1.4;
  }
  h3 {
    margin: 14px 0 6px;
    font-size: 12px;
    font-weight: 600;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: var(--_muted);
  }
  p {
    margin: 0 0 6px;
  }
  .close {
    flex: none;
    width: 28px;
    height: 28px;
    margin: -4px -6px 0 0;
    border: 0;
    border-radius: var(--_radius);
    background: transparent;
    color: var(--_muted);
    font-size: 18px;
    line-height: 1;
    cursor: pointer;
  }
  .close:hover {
    background: var(--_surface-alt);
    color: var(--_text);
  }
  .priority {
    display: inline-block;
    padding: 0 8px;
    border-radius: 3px;
    background: #fef3ef;
    color: #b33a14;
    font-size: 12px;
    font-weight: 600;
    margin-right: 6px;
  }
  ul.tech {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  ul.tech li {
    padding: 6px 0;
    border-top: 1px solid #eaf0f6;
  }
  ul.tech li:first-child {
    border-top: 0;
  }
  .tech-name {
    font-weight: 600;
  }
  .tech-expl {
    display: block;
  }
  .kpis {
    display: block;
    color: var(--_muted);
    font-size: 12px;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 12px;
  }
  th,
  td {
    padding: 3px 4px;
    text-align: left;
    vertical-align: middle;
    font-weight: normal;
  }
  thead th {
    white-space: nowrap;
    color: var(--_muted);
    font-weight: 600;
    border-bottom: 1px solid #eaf0f6;
  }
  td.num {
    text-align: right;
    white-space: nowrap;
    font-variant-numeric: tabular-nums;
  }
  td.bars {
    width: 96px;
  }
  .legend {
    display: flex;
    gap: 12px;
    margin-top: 6px;
    font-size: 12px;
    color: var(--_muted);
  }
  .legend-swatch {
    display: inline-block;
    width: 10px;
    height: 6px;
    margin-right: 4px;
    vertical-align: middle;
  }
  .note {
    color: var(--_muted);
    font-size: 12px;
  }
  .retry {
    margin-top: 8px;
  }
`;
