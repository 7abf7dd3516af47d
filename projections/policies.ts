// Which sync and conflict strategy applies to a path: the most specific matching policy that sets
// the field, else the built-in default. Policies are events, so replay makes the same choices.
import type { PolicyRecord, View } from './view.js';

export type SyncStrategy = 'eager' | 'lazy' | 'on_demand';
export type ConflictStrategy = 'last_writer_wins' | 'merge' | 'manual' | 'fork';
export type Policy = { readonly sync: SyncStrategy; readonly conflict: ConflictStrategy };

/** Used when no policy matches; `policy.set` on pattern `**` overrides it (the leader sets it from configuration). */
export const BUILT_IN_POLICY: Policy = { sync: 'lazy', conflict: 'last_writer_wins' };

/** The pattern the configured defaults are stored under. */
export const DEFAULT_PATTERN = '**';

const GLOB = /[*?]/;

const escape = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** `**` any characters, `*` any but `/`, `?` one but `/`; a pattern without them is a path prefix. */
export const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.split(/(\*\*|\*|\?)/).map((part) =>
    part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : escape(part)).join('')}$`);

// Compiled patterns, memoized: the same pattern always compiles to the same expression.
const compiled = new Map<string, RegExp>();

export const patternMatches = (pattern: string, path: string): boolean => {
  if (!GLOB.test(pattern)) {
    const dir = pattern.endsWith('/') ? pattern : `${pattern}/`;
    return path === pattern || path.startsWith(dir);
  }
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = globToRegExp(pattern);
    if (compiled.size < 10_000) compiled.set(pattern, re);
  }
  return re.test(path);
};

/** More literal characters = more specific; ties go to the later policy. */
const specificity = (p: PolicyRecord): number => p.pattern.replace(/[*?]/g, '').length;

/** Per field, the policies that set it, most specific first: the first one matching a path wins. */
type Ranked = { readonly sync: readonly PolicyRecord[]; readonly conflict: readonly PolicyRecord[] };

const rankFor = (policies: readonly PolicyRecord[], field: 'sync' | 'conflict'): PolicyRecord[] =>
  policies
    .filter((p) => p[field] !== null)
    .sort((a, b) => specificity(b) - specificity(a) || (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));

const rank = (policies: Iterable<PolicyRecord>): Ranked => {
  const all = [...policies];
  return { sync: rankFor(all, 'sync'), conflict: rankFor(all, 'conflict') };
};

/** Per field, the policy that decides it for a path (undefined: the built-in default). */
export type PolicySources = { readonly sync: PolicyRecord | undefined; readonly conflict: PolicyRecord | undefined };

const sources = (ranked: Ranked, path: string): PolicySources => ({
  sync: ranked.sync.find((p) => patternMatches(p.pattern, path)),
  conflict: ranked.conflict.find((p) => patternMatches(p.pattern, path)),
});

const pick = (ranked: Ranked, path: string): Policy => {
  const from = sources(ranked, path);
  return {
    sync: (from.sync?.sync as SyncStrategy | undefined) ?? BUILT_IN_POLICY.sync,
    conflict: (from.conflict?.conflict as ConflictStrategy | undefined) ?? BUILT_IN_POLICY.conflict,
  };
};

// The policies map is persistent, so its ranking can be kept with it: the sync dispatcher and the
// conflict reducer ask for every file, and policies change rarely.
const rankedMaps = new WeakMap<View['policies'], Ranked>();

export const policyFor = (view: View, path: string): Policy => {
  let ranked = rankedMaps.get(view.policies);
  if (ranked === undefined) {
    ranked = rank(view.policies.values());
    rankedMaps.set(view.policies, ranked);
  }
  return pick(ranked, path);
};

export const policyAmong = (policies: Iterable<PolicyRecord>, path: string): Policy => pick(rank(policies), path);

export const policySourcesAmong = (policies: Iterable<PolicyRecord>, path: string): PolicySources => sources(rank(policies), path);
