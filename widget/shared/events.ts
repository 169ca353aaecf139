/**
 * Every event the Smart Segments elements fire, in one place. All are `bubbles` + `composed` so a host page
 * hears them through shadow roots, and all are fired only for user actions.
 */
import type { Model } from '../../src/types.js';

export interface SegmentOpenDetail {
  contactId: string;
  segmentId: string | null;
}
export interface SegmentFilterDetail {
  /** Segment id filtered on, '' for all segments. */
  segment: string;
  query: string;
}
export interface SegmentExportDetail {
  /** How many rows were exported. */
  rows: number;
}
export interface SegmentFitStartDetail {
  features: string[];
  method: string;
  k: number | 'auto';
}
export interface SegmentFitCompleteDetail {
  model: Model;
}
export type SegmentFitCancelDetail = Record<string, never>;
export interface SegmentPublishDetail {
  model: Model;
}
export interface SegmentPublishedDetail {
  jobId: string;
}

/** Event name -> detail type. */
export interface SmartSegmentEventMap {
  'smart-segment-open': SegmentOpenDetail;
  'smart-segment-filter': SegmentFilterDetail;
  'smart-segment-export': SegmentExportDetail;
  'smart-segment-fit-start': SegmentFitStartDetail;
  'smart-segment-fit-complete': SegmentFitCompleteDetail;
  'smart-segment-fit-cancel': SegmentFitCancelDetail;
  'smart-segment-publish': SegmentPublishDetail;
  'smart-segment-published': SegmentPublishedDetail;
}

export type SmartSegmentEventName = keyof SmartSegmentEventMap;

export const EVENTS = {
  open: 'smart-segment-open',
  filter: 'smart-segment-filter',
  export: 'smart-segment-export',
  fitStart: 'smart-segment-fit-start',
  fitComplete: 'smart-segment-fit-complete',
  fitCancel: 'smart-segment-fit-cancel',
  publish: 'smart-segment-publish',
  published: 'smart-segment-published',
} as const satisfies Record<string, SmartSegmentEventName>;

/** Dispatches a typed, bubbling, composed event from `target`. Returns false when a listener cancelled it. */
export function fire<K extends SmartSegmentEventName>(
  target: EventTarget,
  name: K,
  detail: SmartSegmentEventMap[K],
): boolean {
  return target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: true }));
}

declare global {
  interface HTMLElementEventMap {
    'smart-segment-open': CustomEvent<SegmentOpenDetail>;
    'smart-segment-filter': CustomEvent<SegmentFilterDetail>;
    'smart-segment-export': CustomEvent<SegmentExportDetail>;
    'smart-segment-fit-start': CustomEvent<SegmentFitStartDetail>;
    'smart-segment-fit-complete': CustomEvent<SegmentFitCompleteDetail>;
    'smart-segment-fit-cancel': CustomEvent<SegmentFitCancelDetail>;
    'smart-segment-publish': CustomEvent<SegmentPublishDetail>;
    'smart-segment-published': CustomEvent<SegmentPublishedDetail>;
  }
}
