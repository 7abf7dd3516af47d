// Creates the event stream, or brings an existing one to the configured definition, at start.
import { JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { eventStreamConfig, type StreamSettings } from '../../streams/definition.js';
import type { Logger } from '../observability/log.js';

import type { Config } from '../config/schema.js';

const STREAM_NOT_FOUND = 10059;

export const streamSettings = (config: Config): StreamSettings => ({
  name: config.nats.stream,
  replicas: config.nats.replicas,
  duplicateWindowMs: config.nats.duplicate_window,
  maxBytes: config.nats.max_bytes,
});

export const ensureEventStream = async (jsm: JetStreamManager, settings: StreamSettings, log: Logger): Promise<void> => {
  const wanted = eventStreamConfig(settings) as unknown as StreamConfig;
  try {
    const info = await jsm.streams.info(settings.name);
    const { storage: _storage, retention: _retention, ...mutable } = wanted;
    await jsm.streams.update(settings.name, mutable);
    log.info({ stream: settings.name, lastSeq: info.state.last_seq }, 'event stream up to date');
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NOT_FOUND) throw error;
    await jsm.streams.add(wanted);
    log.info({ stream: settings.name }, 'event stream created');
  }
  // The server version alone cannot tell whether it fsyncs before acknowledging (see deploy/README.md).
  log.warn(
    { stream: settings.name },
    'cannot verify that nats-server syncs to disk before acknowledging a publish: run a nats-server with `jetstream { sync_interval: always }` and stream replicas 3 in production',
  );
};
