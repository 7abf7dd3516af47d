// The event stream's definition as data; src/nats/stream.ts creates or updates it at start.
import { CONFLICTS, INPUT_SUBJECTS, SYNC_REQUESTS } from './subjects.js';

export type StreamSettings = {
  readonly name: string;
  /** 1 on a single node, 3 in a JetStream cluster. */
  readonly replicas: number;
  /** JetStream drops a re-published Nats-Msg-Id within this window; the reducers dedupe past it. */
  readonly duplicateWindowMs: number;
  /** 0 = unlimited. When full, publishes fail rather than dropping history. */
  readonly maxBytes: number;
};

export const DEFAULT_STREAM: StreamSettings = {
  name: 'JZSE_EVENTS',
  replicas: 1,
  duplicateWindowMs: 2 * 60 * 1000,
  maxBytes: 0,
};

const NANOS_PER_MS = 1_000_000;

/** Outbound: sync requests per region and conflict notices. Regions read it with durable consumers. */
export const OUTBOUND_STREAM = 'JZSE_SYNC';

export const outboundStreamConfig = (s: StreamSettings, retentionMs: number) => ({
  name: OUTBOUND_STREAM,
  subjects: [`${SYNC_REQUESTS}.*`, CONFLICTS],
  storage: 'file' as const,
  retention: 'limits' as const,
  discard: 'old' as const,
  num_replicas: s.replicas,
  duplicate_window: s.duplicateWindowMs * NANOS_PER_MS,
  max_age: retentionMs * NANOS_PER_MS,
  max_msgs: -1,
  max_bytes: -1,
});

/** The JetStream stream config (nats.js field names). History is kept forever and cannot be purged. */
export const eventStreamConfig = (s: StreamSettings) => ({
  name: s.name,
  subjects: [...INPUT_SUBJECTS],
  storage: 'file' as const,
  retention: 'limits' as const,
  discard: 'new' as const,
  num_replicas: s.replicas,
  duplicate_window: s.duplicateWindowMs * NANOS_PER_MS,
  // No limit of the stream's own: the server's max_payload (1 MiB by default) is the only one, so an
  // event over MAX_EVENT_BYTES that a client could publish is stored and rejected by the fold with
  // its size and id (docs/events.md, rule 10), instead of JetStream refusing it with a bare error.
  max_msg_size: -1,
  max_bytes: s.maxBytes === 0 ? -1 : s.maxBytes,
  max_age: 0,
  max_msgs: -1,
  deny_delete: true,
  deny_purge: true,
  allow_rollup_hdrs: false,
});
