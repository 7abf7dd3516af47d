// Failover: SIGKILL the projecting leader (a coordinator child process), publish one event at once,
// and time until another instance has become leader, recovered the view and moved the checkpoint
// past that event. Followers are started beforehand, so each kill hands over to the next in line.
import type { Stack } from './env.js';
import { cpuShare, leaderId, spawnCoordinator, waitIdle, waitServing, watchCheckpoint, type Child } from './env.js';
import type { Encoded } from './workload.js';

export type FailoverOptions = {
  readonly stack: Stack;
  readonly etcdPrefix: string;
  readonly leaseTtl: string;
  readonly runs: number;
  /** Children of this stack already campaigning (the first in line leads)... */
  readonly existing: Child[];
  /** ...with this lease TTL. */
  readonly existingTtl: string;
  readonly nextEvent: () => Encoded;
  readonly nodeArgs?: readonly string[];
  readonly tag: string;
  readonly log: (line: string) => void;
  /** How long a run may take before it counts as "no failover". */
  readonly boundMs: number;
};

export type FailoverResult = {
  readonly seconds: number[];
  readonly remaining: Child[];
  /** Share of a core each leader used while idle (no new events) before it was killed. */
  readonly idleLeaderCpu: number[];
  /** Runs in which no leader projected within the bound (the series stops at the first). */
  readonly timeouts: number;
};

const publish = async (stack: Stack, m: Encoded): Promise<number> =>
  (await stack.client.js.publish(m.subject, m.data, { msgID: m.id, expect: { streamName: stack.config.nats.stream }, timeout: 30_000 })).seq;

export const measureFailover = async (o: FailoverOptions): Promise<FailoverResult> => {
  const env = { JZSE_ETCD_PREFIX: o.etcdPrefix, JZSE_ETCD_LEASE_TTL: o.leaseTtl };
  const viewPrefix = `${o.etcdPrefix}/view`;
  const electionPrefix = `${o.etcdPrefix}/election/projector/`;
  const fresh: Child[] = [];
  // A leader already campaigning with this lease TTL leads the series; otherwise one more is needed.
  const continuing = o.existing.length > 0 && o.existingTtl === o.leaseTtl;
  for (let i = 0; i < o.runs + (continuing ? 0 : 1); i++) {
    fresh.push(await spawnCoordinator(o.stack, `${o.tag}-${i}`, env, o.nodeArgs ?? []));
  }
  await Promise.all(fresh.map((c) => waitServing(c, 120_000)));
  const alive = [...o.existing, ...fresh];
  const watch = await watchCheckpoint(o.stack.etcdClient, viewPrefix);
  const seconds: number[] = [];
  const idleLeaderCpu: number[] = [];
  let timeouts = 0;
  try {
    // The first leader of this series must be one with this lease TTL: hand over from older ones.
    for (let guard = 0; guard < 10; guard++) {
      const id = await leaderId(o.stack.etcdClient, electionPrefix);
      const leader = alive.find((c) => c.id === id);
      if (leader === undefined || fresh.includes(leader) || continuing) break;
      o.log(`failover: ${leader.id} (older lease) resigns`);
      await leader.kill('SIGTERM');
      alive.splice(alive.indexOf(leader), 1);
    }
    // The leader projects: an event published now reaches the view.
    await watch.reach(await publish(o.stack, o.nextEvent()), 2 * o.boundMs);
    for (let run = 0; run < o.runs; run++) {
      const id = await leaderId(o.stack.etcdClient, electionPrefix);
      const leader = alive.find((c) => c.id === id);
      if (leader === undefined) throw new Error(`failover: leader ${id ?? '(none)'} is not one of ours`);
      // Followers have loaded their warm views (steady state) before the leader dies.
      if (!(await waitIdle(alive.filter((c) => c !== leader)))) o.log('failover: followers still busy after 60 s; killing the leader anyway');
      idleLeaderCpu.push(await cpuShare(leader, 1000));
      const killedAt = performance.now();
      leader.proc.kill('SIGKILL');
      const seq = await publish(o.stack, o.nextEvent());
      const reached = await watch.reach(seq, o.boundMs).catch(() => undefined);
      await leader.kill('SIGKILL');
      alive.splice(alive.indexOf(leader), 1);
      if (reached === undefined) {
        // No leader projected within the bound: recorded at the bound, and this series stops.
        seconds.push(o.boundMs / 1000);
        timeouts++;
        o.log(`failover run ${run + 1}/${o.runs} (lease ${o.leaseTtl}): no new leader projected within ${o.boundMs / 1000} s`);
        break;
      }
      seconds.push((reached - killedAt) / 1000);
      o.log(`failover run ${run + 1}/${o.runs} (lease ${o.leaseTtl}): ${((reached - killedAt) / 1000).toFixed(2)} s`);
    }
  } finally {
    await watch.stop();
  }
  return { seconds, remaining: alive, idleLeaderCpu, timeouts };
};
