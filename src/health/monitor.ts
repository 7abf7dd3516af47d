// The leader's timed work on region health: every half heartbeat interval, decide from the
// projected view and the wall clock, and append the verdicts (ids are deterministic, so a repeat
// by this or a later leader is stored once).
import { decideHealth, type HealthPolicy } from '../../projections/health.js';
import type { View } from '../../projections/view.js';
import { coordinatorPrincipal } from '../../streams/principal.js';
import type { Appender } from '../nats/appender.js';
import type { Logger } from '../observability/log.js';
import { onAbort } from '../util/abort.js';

export type HealthMonitor = { readonly tick: (now?: Date) => Promise<void> };

export const startHealthMonitor = (o: {
  readonly view: () => View | undefined;
  readonly appender: Appender;
  readonly policy: HealthPolicy;
  readonly observer: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}): HealthMonitor => {
  const inFlight = new Set<string>();
  const tick = async (now = new Date()): Promise<void> => {
    const view = o.view();
    if (view === undefined || o.signal.aborted) return;
    await Promise.all(decideHealth(view, now.toISOString(), o.policy, o.observer).map(async (event) => {
      if (inFlight.has(event.id)) return;
      inFlight.add(event.id);
      try {
        const ack = await o.appender.append(event, undefined, coordinatorPrincipal(o.observer));
        o.log.info({ eventId: event.id, seq: ack.seq, region: event.region, state: event.state }, `region ${event.region} is ${event.state}`);
      } catch (error) {
        o.log.warn({ eventId: event.id, err: error }, 'could not append a region health verdict; will retry');
      } finally {
        inFlight.delete(event.id);
      }
    }));
  };
  const every = Math.min(5000, Math.max(100, Math.floor(o.policy.heartbeatIntervalMs / 2)));
  const timer = setInterval(() => void tick().catch((error: unknown) => o.log.error({ err: error }, 'health check failed; next tick retries')), every);
  timer.unref();
  // A term that ended before this started (lease lost during the leader's set-up) clears it at once.
  onAbort(o.signal, () => clearInterval(timer));
  return { tick };
};
