// The configured defaults become the `**` policy, as an event, so replay reproduces every decision
// made under them. Appended by a new leader only when the log's defaults differ from its configuration.
import { BUILT_IN_POLICY, DEFAULT_PATTERN } from '../../projections/policies.js';
import type { View } from '../../projections/view.js';
import type { PolicySet } from '../../streams/events.js';
import { derivedId } from '../../streams/ids.js';
import { coordinatorPrincipal } from '../../streams/principal.js';
import type { Config } from '../config/schema.js';
import type { Appender } from '../nats/appender.js';
import type { Logger } from '../observability/log.js';

const configuredDefaults = (config: Config) => ({
  sync: config.sync.default_strategy,
  conflict: config.conflict.auto_resolve ? config.conflict.default_strategy : 'manual',
});

/** Whether the log's default policy is this instance's configured one (absent = built-in). */
export const defaultsInLog = (view: View, config: Config): boolean => {
  const wanted = configuredDefaults(config);
  const current = view.policies.get(DEFAULT_PATTERN) ?? BUILT_IN_POLICY;
  return current.sync === wanted.sync && current.conflict === wanted.conflict;
};

/** The configured defaults as the `**` policy a leader of term `term` appends. */
export const defaultPolicyEvent = (config: Config, term: string, at: string): PolicySet => {
  const { sync, conflict } = configuredDefaults(config);
  return {
    schema: 1, id: derivedId('config-default', term, sync, conflict), type: 'policy.set', at,
    operator: `config:${config.coordinator.id}`, pattern: DEFAULT_PATTERN, sync, conflict,
  };
};

export const ensureDefaultPolicy = async (view: View, config: Config, appender: Appender, term: string, log: Logger): Promise<void> => {
  if (defaultsInLog(view, config)) return;
  const event = defaultPolicyEvent(config, term, new Date().toISOString());
  const { sync, conflict } = event;
  try {
    const ack = await appender.append(event, undefined, coordinatorPrincipal(config.coordinator.id));
    log.info({ eventId: event.id, seq: ack.seq, sync, conflict }, 'default policy set from configuration');
  } catch (error) {
    log.warn({ err: error }, 'could not append the default policy; the log keeps its current defaults');
  }
};
