/**
 * Shared look for every element: HubSpot-like defaults exposed as `--smart-segment-*` custom properties so a
 * host page can re-theme. Text/background pairs here meet WCAG AA (4.5:1) — segment colours are only ever
 * used for decorative dots and bars, never as the background behind text.
 */
import { css } from 'lit';

/** Host-level defaults. Include first in every element's `static styles`. */
export const themeStyles = css`
  :host {
    --_font: var(--smart-segment-font, 'Lexend Deca', 'Helvetica Neue', Helvetica, Arial, sans-serif);
    --_text: var(--smart-segment-text, #33475b);
    --_muted: var(--smart-segment-muted, #516f90);
    --_border: var(--smart-segment-border, #cbd6e2);
    --_surface: var(--smart-segment-surface, #ffffff);
    --_surface-alt: var(--smart-segment-surface-alt, #f5f8fa);
    --_accent: var(--smart-segment-accent, #0091ae);
    --_accent-text: var(--smart-segment-accent-text, #007a8c);
    --_accent-strong: var(--smart-segment-accent-strong, #ff7a59);
    --_danger: var(--smart-segment-danger, #c93b3b);
    --_focus: var(--smart-segment-focus, #0091ae);
    --_radius: var(--smart-segment-radius, 3px);
    --_shadow: var(--smart-segment-shadow, 0 1px 24px 0 rgba(0, 0, 0, 0.08));
    font-family: var(--_font);
    font-size: var(--smart-segment-font-size, 14px);
    line-height: 1.5;
    color: var(--_text);
  }
  :host([hidden]) {
    display: none !important;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
`;

/** Keyboard focus ring: visible, 2px, offset, only for keyboard focus. */
export const focusRing = css`
  :focus {
    outline: none;
  }
  :focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
  }
`;

/** Utilities shared by the elements. */
export const utilityStyles = css`
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .button {
    font: inherit;
    font-size: 13px;
    font-weight: 600;
    border-radius: var(--_radius);
    padding: 6px 14px;
    border: 1px solid var(--_accent-text);
    background: var(--_surface);
    color: var(--_accent-text);
    cursor: pointer;
    min-height: 32px;
  }
  .button:hover {
    background: #e5f5f8;
  }
  .button.primary {
    background: #d3431f;
    border-color: #d3431f;
    color: #ffffff;
  }
  .button.primary:hover {
    background: #b93a17;
  }
  .button[disabled] {
    opacity: 0.6;
    cursor: not-allowed;
  }
  .error {
    color: var(--_danger);
  }
  .muted {
    color: var(--_muted);
  }
  .spinner {
    display: inline-block;
    width: 12px;
    height: 12px;
    border: 2px solid var(--_border);
    border-top-color: var(--_accent);
    border-radius: 50%;
    animation: smart-segment-spin 0.8s linear infinite;
    vertical-align: -2px;
  }
  @keyframes smart-segment-spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
  }
`;

/** Fallback colours per archetype when a segment carries none (decorative only). */
export const ARCHETYPE_COLORS: Record<string, string> = {
  loyal: '#00a4bd',
  profitable: '#f5c26b',
  risky: '#f2545b',
  no_recent_orders: '#99afc4',
};

/** Grey used for "no segment" states. */
export const NEUTRAL_COLOR = '#99afc4';
