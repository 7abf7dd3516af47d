// Long audit work (rebuild, verify, diff, snapshot) as jobs, so an HTTP client never holds a
// connection for minutes: started with 202 and an id, polled for progress, cancelled, and its result
// kept. Jobs live in the instance that accepted them (in memory, the last MAX_KEPT of them): poll
// the same instance; a restart forgets them, and what a finished rebuild wrote stays in etcd.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { apiError, type ApiError } from '../api/errors.js';
import type { Logger } from '../observability/log.js';
import { audited } from './auditErrors.js';

export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export type Job = {
  readonly id: string;
  readonly kind: string;
  readonly instance: string;
  readonly state: JobState;
  readonly progress: { readonly done: number; readonly total: number };
  readonly created_at: string;
  readonly finished_at: string | null;
  readonly result: unknown;
  readonly error: { readonly code: string; readonly detail: string } | null;
  /** Cancelling stops the work at its next progress report; work that finished first stays succeeded. */
  readonly cancel_requested: boolean;
};

/** Thrown from a job's progress callback once cancelled: the fold stops at its next batch. */
class Cancelled extends Error {}

export type JobContext = {
  /** Report progress; throws once the job is cancelled, which ends the work between two batches. */
  readonly progress: (done: number, total: number) => void;
};

const MAX_KEPT = 100;
const MAX_RUNNING = 2;

export class Jobs {
  private readonly jobs = new Map<string, { job: Job; cancel: () => void }>();

  constructor(private readonly instance: string, private readonly log: Logger) {}

  list(): Job[] {
    return [...this.jobs.values()].map((j) => j.job).reverse();
  }

  get(id: string): E.Either<ApiError, Job> {
    const j = this.jobs.get(id);
    return j === undefined ? E.left(apiError('NOT_FOUND', `job_id: ${id} is not a job of this instance (${this.instance}); jobs live where they were started`)) : E.right(j.job);
  }

  start(kind: string, field: string, work: (ctx: JobContext) => Promise<unknown>): E.Either<ApiError, Job> {
    if (this.list().filter((j) => j.state === 'running').length >= MAX_RUNNING) {
      return E.left(apiError('UNAVAILABLE', `(request): ${MAX_RUNNING} jobs are running on this instance; retry when one has finished`));
    }
    const id = randomUUID();
    let cancelled = false;
    const set = (patch: Partial<Job>) => {
      const entry = this.jobs.get(id);
      if (entry !== undefined) entry.job = { ...entry.job, ...patch };
    };
    const job: Job = { id, kind, instance: this.instance, state: 'running', progress: { done: 0, total: 0 }, created_at: new Date().toISOString(), finished_at: null, result: null, error: null, cancel_requested: false };
    this.jobs.set(id, { job, cancel: () => { cancelled = true; set({ cancel_requested: true }); } });
    while (this.jobs.size > MAX_KEPT) {
      const oldest = [...this.jobs.entries()].find(([, j]) => j.job.state !== 'running');
      if (oldest === undefined) break;
      this.jobs.delete(oldest[0]);
    }
    const progress = (done: number, total: number) => {
      if (cancelled) throw new Cancelled('cancelled');
      set({ progress: { done, total } });
    };
    const finish = (patch: Partial<Job>) => set({ ...patch, finished_at: new Date().toISOString() });
    void audited(() => work({ progress }), field).then(
      (r) => {
        if (E.isRight(r)) finish({ state: 'succeeded', result: r.right });
        else finish({ state: 'failed', error: { code: r.left.code, detail: r.left.message } });
      },
      (error: unknown) => {
        if (error instanceof Cancelled || cancelled) return finish({ state: 'cancelled' });
        this.log.error({ err: error, job: id, kind }, 'job failed');
        return finish({ state: 'failed', error: { code: 'INTERNAL', detail: error instanceof Error ? error.message : String(error) } });
      },
    );
    return E.right(job);
  }

  cancel(id: string): E.Either<ApiError, Job> {
    const j = this.jobs.get(id);
    if (j === undefined) return this.get(id);
    if (j.job.state !== 'running') return E.left(apiError('FAILED_PRECONDITION', `job_id: ${id} has already ${j.job.state === 'succeeded' ? 'succeeded' : j.job.state}`));
    j.cancel();
    return this.get(id);
  }
}
