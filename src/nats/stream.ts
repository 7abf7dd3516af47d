// Creates the event stream, or brings an existing one to the configured definition, at start.
import { JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { eventStreamConfig, outboundStreamConfig, type StreamSettings } from '../../streams/definition.js';
import type { Logger } from '../observability/log.js';

import type { Config } from '../config/schema.js';

const STREAM_NOT_FOUND = 10059;

export const streamSettings = (config: Config): StreamSettings => ({
  name: config.nats.stream,
  replicas: config.nats.replicas,
  duplicateWindowMs: config.nats.duplicate_window,
  maxBytes: config.nats.max_bytes,
});

/** Creates or updates a stream to the given config. */
const ensureStream = async (jsm: JetStreamManager, wanted: StreamConfig): Promise<'created' | 'updated'> => {
  try {
    await jsm.streams.info(wanted.name);
    const { storage: _storage, retention: _retention, ...mutable } = wanted;
    await jsm.streams.update(wanted.name, mutable);
    return 'updated';
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NOT_FOUND) throw error;
    await jsm.streams.add(wanted);
    return 'created';
  }
};

export const ensureOutboundStream = async (jsm: JetStreamManager, settings: StreamSettings, retentionMs: number): Promise<void> => {
  await ensureStream(jsm, outboundStreamConfig(settings, retentionMs) as unknown as StreamConfig);
};

export const ensureEventStream = async (jsm: JetStreamManager, settings: StreamSettings, log: Logger): Promise<void> => {
  const outcome = await ensureStream(jsm, eventStreamConfig(settings) as unknown as StreamConfig);
  log.info({ stream: settings.name }, outcome === 'created' ? 'event stream created' : 'event stream up to date');
  // The server version alone cannot tell whether it fsyncs before acknowledging (see deploy/README.md).
  log.warn(
    { stream: settings.name },
    'cannot verify that nats-server syncs to disk before acknowledging a publish: run a nats-server with `jetstream { sync_interval: always }` and stream replicas 3 in production',
  );
};
