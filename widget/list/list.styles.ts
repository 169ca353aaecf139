import { css } from 'lit';

export const listStyles = css`
  :host {
    display: block;
    --_row-height: 44px;
  }
  .base {
    display: flex;
    flex-direction: column;
    gap: 12px;
    height: 100%;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 12px;
  }
  .search {
    position: relative;
    flex: 1 1 260px;
    max-width: 360px;
  }
  .search input {
    width: 100%;
    font: inherit;
    color: var(--_text);
    padding: 7px 12px 7px 32px;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface-alt);
  }
  .search input:focus {
    background: var(--_surface);
    border-color: var(--_accent);
    outline: 2px solid var(--_focus);
    outline-offset: 0;
  }
  .search svg {
    position: absolute;
    left: 10px;
    top: 50%;
    transform: translateY(-50%);
    pointer-events: none;
  }
  .spacer {
    flex: 1;
  }
  .chips {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    margin: 0;
    padding: 0;
    border: 0;
  }
  .chip {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    padding: 4px 12px;
    border: 1px solid var(--_border);
    border-radius: 16px;
    background: var(--_surface);
    color: var(--_text);
    font: inherit;
    font-size: 13px;
    cursor: pointer;
  }
  .chip:hover {
    border-color: var(--_accent);
  }
  .chip[aria-pressed='true'] {
    border-color: var(--_accent-text);
    background: #e5f5f8;
    font-weight: 600;
  }
  .chip .count {
    color: var(--_muted);
    font-variant-numeric: tabular-nums;
  }
  .dot {
    flex: none;
    width: 10px;
    height: 10px;
    border-radius: 50%;
    box-shadow: inset 0 0 0 1px rgba(0, 0, 0, 0.15);
  }
  .summary {
    color: var(--_muted);
    font-size: 13px;
  }
  .scroller {
    position: relative;
    flex: 1 1 auto;
    min-height: 200px;
    height: var(--smart-segment-list-height, 560px);
    overflow: auto;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    contain: strict;
  }
  .table {
    min-width: 940px;
  }
  .row {
    display: grid;
    grid-template-columns: var(--_columns);
    align-items: center;
    height: var(--_row-height);
    border-bottom: 1px solid #eaf0f6;
  }
  .body .row:hover {
    background: var(--_surface-alt);
  }
  .head {
    position: sticky;
    top: 0;
    z-index: 1;
    background: var(--_surface-alt);
  }
  .head .row {
    height: auto;
    min-height: var(--_row-height);
    border-bottom: 1px solid var(--_border);
  }
  .head .cell {
    padding: 4px 8px 4px 12px;
    white-space: normal;
  }
  .head .cell.num {
    padding: 4px 12px 4px 4px;
  }
  .body {
    position: relative;
  }
  /* The rendered rows, stacked, moved as one to the first one's place: no row has a position of its own. */
  .window {
    position: absolute;
    left: 0;
    right: 0;
    top: 0;
  }
  .body .row {
    /* Each row's size is fixed: a row's new text never lays out or repaints any other row. */
    contain: strict;
  }
  .cell {
    padding: 0 12px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    min-width: 0;
  }
  .cell.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  .sort {
    display: inline-flex;
    align-items: center;
    gap: 3px;
    max-width: 100%;
    padding: 4px 0;
    border: 0;
    background: none;
    font: inherit;
    font-size: 12px;
    font-weight: 600;
    line-height: 1.3;
    text-align: inherit;
    color: var(--_text);
    cursor: pointer;
  }
  .cell.num .sort {
    flex-direction: row-reverse;
  }
  .sort-label {
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .sort-icon {
    flex: none;
    align-self: flex-start;
    margin-top: 2px;
    color: var(--_muted);
    font-size: 10px;
  }
  a.name {
    color: var(--_accent-text);
    font-weight: 600;
    text-decoration: none;
  }
  a.name:hover {
    text-decoration: underline;
  }
  .seg {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    max-width: 100%;
    font-size: 13px;
  }
  .seg-label {
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .message {
    padding: 48px 16px;
    text-align: center;
    color: var(--_muted);
  }
  .message .button {
    margin-top: 12px;
  }
  .state {
    padding: 32px 16px;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    text-align: center;
  }
`;
