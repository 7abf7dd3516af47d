// Errors the audit functions raise on purpose, each with the exit code the CLI turns it into
// (and the status a gRPC AuditService would map it to). Anything else is a failure (exit 5).

export const EXIT = {
  ok: 0,
  /** verify / diff: the views differ. */
  different: 1,
  /** A wrong argument: unknown flag, bad time, sequence beyond the stream, invalid configuration. */
  usage: 2,
  /** What was asked for does not exist: a file no event names, a snapshot, a view source. */
  notFound: 3,
  /** Refused to write: a leader holds the election, or a target overlaps the live view. */
  refused: 4,
  /** NATS or etcd unreachable, or any other failure. */
  failed: 5,
} as const;

export type AuditErrorKind = Exclude<keyof typeof EXIT, 'ok' | 'different'>;

export class AuditError extends Error {
  constructor(readonly kind: AuditErrorKind, message: string) {
    super(message);
    this.name = 'AuditError';
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export const usage = (message: string): AuditError => new AuditError('usage', message);
export const notFound = (message: string): AuditError => new AuditError('notFound', message);
export const refused = (message: string): AuditError => new AuditError('refused', message);
export const failed = (message: string): AuditError => new AuditError('failed', message);
