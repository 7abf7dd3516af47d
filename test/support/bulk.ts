// Many small events, fast: pipelined publishes with a bounded number in flight (for the replay of
// a long history). One region registers, then registers `count` files.
import type { Stack } from './stack.js';
import { changesSubject, REGIONS_STATUS } from '../../streams/subjects.js';

const encoder = new TextEncoder();

export const bulkEvent = (region: string, i: number): Uint8Array =>
  encoder.encode(JSON.stringify({
    schema: 1, id: `bulk-${region}-${i}`, type: 'file.registered', at: '2026-11-25T00:00:00.000Z', region, clock: { [region]: 1 },
    file: { fileId: `b${i}`, path: `/bulk/${i}`, size: i, checksum: `c${i}`, modifiedAt: '2026-11-25T00:00:00.000Z' },
  }));

/** Publishes a registration of `region`, then `count` file registrations; at most `inFlight` unacknowledged. */
export const publishBulk = async (stack: Stack, count: number, { region = 'bulk', inFlight = 1000 } = {}): Promise<number> => {
  const js = stack.client.js;
  await js.publish(REGIONS_STATUS, encoder.encode(JSON.stringify({
    schema: 1, id: `reg-${region}`, type: 'region.registered', at: '2026-11-25T00:00:00.000Z', region, name: region,
    endpoint: `${region}:1`, location: { latitude: 0, longitude: 0 }, capacity: { totalBytes: 1 },
  })));
  const subject = changesSubject(region);
  let next = 0;
  let acked = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await js.publish(subject, bulkEvent(region, i));
      acked += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return acked + 1;
};
