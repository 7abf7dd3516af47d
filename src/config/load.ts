// Configuration = defaults ← YAML file ← environment (JZSE_<SECTION>_<KEY>), decoded once with io-ts.
// A wrong value is an error naming the key, the value, where it came from and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import YAML from 'yaml';
import { ConfigCodec, DEFAULTS, type Config } from './schema.js';

type Raw = Record<string, Record<string, unknown>>;
type Origin = Map<string, string>;

const describe = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Keys that existed once: a file still naming one is told why it is gone and what to do. */
export const RETIRED: Readonly<Record<string, string>> = {
  'nats.cluster_id': 'it named a NATS Streaming cluster and was never read; JetStream has no cluster id: delete the line',
};

const envName = (section: string, key: string): string => `JZSE_${section}_${key}`.toUpperCase();

/** Variables other tools already set, read when the JZSE_ one is absent. */
const ALIASES: Readonly<Record<string, string>> = { JZSE_DATABASE_URL: 'DATABASE_URL' };

/** Keys whose value may hold a password: a problem with one names it without showing it. */
const SECRET = new Set(['database.url']);

const fromEnv = (value: string, isList: boolean): unknown => {
  if (isList) return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    return YAML.parse(value) as unknown;
  } catch {
    return value;
  }
};

const merge = (raw: Raw, source: unknown, sourceName: string, origin: Origin): string[] => {
  const problems: string[] = [];
  if (source === null || source === undefined) return problems;
  if (typeof source !== 'object' || Array.isArray(source)) return [`${sourceName}: expected a mapping of sections, got ${describe(source)}`];
  for (const [section, values] of Object.entries(source as Record<string, unknown>)) {
    const target = raw[section];
    if (target === undefined) {
      problems.push(`${section}: unknown section in ${sourceName}; allowed: ${Object.keys(raw).join(', ')}`);
      continue;
    }
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      problems.push(`${section}: expected a mapping in ${sourceName}, got ${describe(values)}`);
      continue;
    }
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (!(key in target)) {
        const retired = RETIRED[`${section}.${key}`];
        problems.push(retired === undefined
          ? `${section}.${key}: unknown key in ${sourceName}; allowed: ${Object.keys(target).join(', ')}`
          : `${section}.${key}: no longer a key (${sourceName}): ${retired}`);
        continue;
      }
      target[key] = value;
      origin.set(`${section}.${key}`, sourceName);
    }
  }
  return problems;
};

export type LoadedConfig = { config: Config; file: string | undefined };

/** Loads configuration; Left carries every problem found, one per line. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env, defaultFile = 'jzse.yaml'): E.Either<string[], LoadedConfig> => {
  const raw: Raw = JSON.parse(JSON.stringify(DEFAULTS)) as Raw;
  const origin: Origin = new Map();
  const problems: string[] = [];

  const file = env['JZSE_CONFIG'] ?? (existsSync(defaultFile) ? defaultFile : undefined);
  if (file !== undefined) {
    try {
      problems.push(...merge(raw, YAML.parse(readFileSync(file, 'utf8')) as unknown, file, origin));
    } catch (error) {
      problems.push(`JZSE_CONFIG: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  for (const [section, values] of Object.entries(raw)) {
    for (const key of Object.keys(values)) {
      const own = envName(section, key);
      const alias = ALIASES[own];
      const name = env[own] === undefined && alias !== undefined && env[alias] !== undefined ? alias : own;
      const value = env[name];
      if (value !== undefined) {
        values[key] = fromEnv(value, Array.isArray((DEFAULTS as Raw)[section]?.[key]));
        origin.set(`${section}.${key}`, name);
      }
    }
  }
  if (problems.length > 0) return E.left(problems);

  const decoded = ConfigCodec.decode(raw);
  if (E.isRight(decoded)) return E.right({ config: decoded.right, file });
  const lines = new Set<string>();
  for (const error of decoded.left) {
    const path = error.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).slice(0, 2).join('.');
    const where = origin.get(path) ?? 'defaults';
    const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value';
    lines.add(`${path} = ${SECRET.has(path) ? '(not shown: it may hold a password)' : describe(error.value)} (from ${where}): expected ${expected}`);
  }
  return E.left([...lines]);
};
