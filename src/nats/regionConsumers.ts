// The durable pull consumer each region reads its sync requests from (`jzse-sync-<region>` on
// JZSE_SYNC). With NATS authorization the coordinator makes it, before the region's user exists:
// regions may only read and ack it (src/nats/permissions.ts says why they may not create it).
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import * as E from 'fp-ts/lib/Either.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import type { Logger } from '../observability/log.js';
import { regionConsumerName } from './permissions.js';

const CONSUMER_NOT_FOUND = 10014;
const NS_PER_MS = 1_000_000;
/** A message not acked within this is delivered again (docs/events.md, "How a region reads its sync requests"). */
export const REGION_ACK_WAIT_MS = 30_000;

export const regionConsumerConfig = (region: string): Partial<ConsumerConfig> & { durable_name: string; filter_subject: string } => ({
  durable_name: regionConsumerName(region),
  filter_subject: syncRequestsSubject(region),
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: REGION_ACK_WAIT_MS * NS_PER_MS,
});

/** A consumer of that name the region can safely keep: pull, explicit acks, its own subject only. */
const fits = (info: ConsumerInfo, region: string): boolean =>
  info.config.filter_subject === syncRequestsSubject(region) &&
  (info.config.filter_subjects ?? []).length === 0 &&
  (info.config.deliver_subject ?? '') === '' &&
  info.config.ack_policy === AckPolicy.Explicit;

/**
 * Makes sure `jzse-sync-<region>` exists and fits. One made earlier by the region itself (before
 * authorization) is kept with its position if it fits; one that does not (a push consumer, another
 * filter) is replaced: requests are at-least-once, so redelivering the retained ones is harmless.
 */
export const ensureRegionConsumer = async (jsm: JetStreamManager, stream: string, region: string, log?: Logger): Promise<E.Either<string, 'kept' | 'created' | 'replaced'>> => {
  const name = regionConsumerName(region);
  try {
    let outcome: 'created' | 'replaced' = 'created';
    try {
      const info = await jsm.consumers.info(stream, name);
      if (fits(info, region)) return E.right('kept');
      await jsm.consumers.delete(stream, name);
      outcome = 'replaced';
      log?.warn({ stream, consumer: name }, 'region consumer did not fit (push, or another filter); replaced it');
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) throw error;
    }
    await jsm.consumers.add(stream, regionConsumerConfig(region));
    return E.right(outcome);
  } catch (error) {
    return E.left(`cannot set up consumer ${name} on ${stream}: ${error instanceof Error ? error.message : String(error)}`);
  }
};

/** `ensureRegionConsumer` for each region; every failure, one line each. */
export const ensureRegionConsumers = async (jsm: JetStreamManager, stream: string, regions: readonly string[], log?: Logger): Promise<E.Either<string[], void>> => {
  const problems: string[] = [];
  for (const region of regions) {
    const r = await ensureRegionConsumer(jsm, stream, region, log);
    if (E.isLeft(r)) problems.push(r.left);
  }
  return problems.length === 0 ? E.right(undefined) : E.left(problems);
};
