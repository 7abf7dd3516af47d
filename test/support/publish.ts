import type { CoordinatorEvent } from '../../streams/events.js';
import { createAppender, type Appended } from '../../src/nats/appender.js';
import { quietLog, type Stack } from './stack.js';
import { createWorkload, regionRegistration } from './workload.js';

export type Acked = { readonly event: CoordinatorEvent; readonly ack: Appended };

export const appenderFor = (stack: Stack, deadlineMs = 30_000) =>
  createAppender(stack.client.js, { stream: stack.config.nats.stream, deadlineMs }, quietLog);

/** Registers the regions, then each region publishes its share concurrently with the others. */
export const publishWorkload = async (
  stack: Stack,
  regions: readonly string[],
  total: number,
  options: { seed?: number; onAck?: (count: number) => void | Promise<void> } = {},
): Promise<Acked[]> => {
  const appender = appenderFor(stack);
  const acked: Acked[] = [];
  for (const [i, region] of regions.entries()) {
    const event = regionRegistration(region, i + 1);
    acked.push({ event, ack: await appender.append(event) });
  }
  const workload = createWorkload(regions, Math.ceil(total / regions.length), options.seed);
  await Promise.all(
    regions.map(async (region) => {
      for (let event = workload.next(region); event !== undefined; event = workload.next(region)) {
        const ack = await appender.append(event);
        acked.push({ event, ack });
        workload.stored(event);
        await options.onAck?.(acked.length);
      }
    }),
  );
  return acked;
};
