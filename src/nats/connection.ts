import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../observability/log.js';
import type { NatsCredentials } from './credentials.js';
import { urlList } from '../config/schema.js';

export type Nats = {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** False between a disconnect and the next reconnect: writes fail fast instead of waiting. */
  connected: () => boolean;
};

/**
 * Connects and keeps reconnecting forever: a coordinator outlives nats-server restarts. With
 * `credentials` (src/nats/credentials.ts) it logs in as that user; a wrong password is refused at once.
 * `url` may name several servers of a cluster, comma-separated (nats.url).
 */
export const connectNats = async (url: string, name: string, log?: Logger, credentials?: NatsCredentials): Promise<Nats> => {
  const nc = await connect({
    servers: urlList(url),
    name,
    ...(credentials === undefined ? {} : { user: credentials.user, pass: credentials.pass }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    timeout: 5000,
  });
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') connected = true;
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log?.warn({ nats: s.type }, `nats ${s.type}`);
    }
  })();
  return {
    nc,
    js: jetstream(nc, { timeout: 10_000 }),
    jsm: await jetstreamManager(nc, { timeout: 10_000 }),
    connected: () => connected && !nc.isClosed(),
  };
};
