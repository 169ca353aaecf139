/**
 * Background jobs (write-back, sync): one at a time per server, in submission order, so a sync never races
 * a write-back over the same store. State is in memory; the work itself is resumable through the store's
 * checkpoints, so a restart loses only the job's id, not its progress.
 */
import { randomUUID } from 'node:crypto';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export type JobKind = 'writeback' | 'sync' | 'webhook';

export interface JobView {
  id: string;
  kind: JobKind;
  state: JobState;
  done: number;
  total: number;
  updated: number;
  skipped: number;
  error?: string;
  createdAt: string;
  finishedAt?: string;
  /** The job's final report (write-back report, sync summary). */
  result?: unknown;
}

export interface JobProgress {
  done?: number;
  total?: number;
  updated?: number;
  skipped?: number;
}

export type JobWork = (progress: (p: JobProgress) => void) => Promise<unknown>;

export class JobQueue {
  private readonly jobs = new Map<string, JobView>();
  private chain: Promise<void> = Promise.resolve();
  private readonly keep: number;

  constructor(options: { keep?: number; log?: (line: string) => void } = {}) {
    this.keep = options.keep ?? 100;
    this.log = options.log ?? (() => {});
  }

  private readonly log: (line: string) => void;

  submit(kind: JobKind, work: JobWork): JobView {
    const job: JobView = {
      id: randomUUID(),
      kind,
      state: 'queued',
      done: 0,
      total: 0,
      updated: 0,
      skipped: 0,
      createdAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    this.prune();
    this.chain = this.chain.then(async () => {
      job.state = 'running';
      try {
        job.result = await work((p) => {
          if (p.done !== undefined) job.done = p.done;
          if (p.total !== undefined) job.total = p.total;
          if (p.updated !== undefined) job.updated = p.updated;
          if (p.skipped !== undefined) job.skipped = p.skipped;
        });
        job.state = 'done';
      } catch (error) {
        job.state = 'failed';
        job.error = error instanceof Error ? error.message : String(error);
        this.log(`${kind} job ${job.id} failed: ${job.error}`);
      }
      job.finishedAt = new Date().toISOString();
    });
    return job;
  }

  get(id: string): JobView | undefined {
    return this.jobs.get(id);
  }

  /** Resolves when every job submitted so far has finished (shutdown, tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  private prune(): void {
    if (this.jobs.size <= this.keep) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.keep) break;
      if (job.state === 'done' || job.state === 'failed') this.jobs.delete(id);
    }
  }
}
