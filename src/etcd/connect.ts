// The etcd client every part shares, with the retry policy the callers expect.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { Config } from '../config/schema.js';

export const connectEtcd = (config: Config): Etcd3 =>
  new Etcd3({
    hosts: config.etcd.endpoints,
    dialTimeout: config.etcd.dial_timeout,
    // etcd3's default circuit breaker keeps refusing calls for seconds after etcd comes back;
    // every caller here retries on its own terms (projector backoff, UNAVAILABLE to API clients).
    faultHandling: { host: () => noop },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + Math.max(5000, config.etcd.dial_timeout) }),
  });
