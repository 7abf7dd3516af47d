// The deploy artifacts (deploy/) checked with the tools this machine has: nats-server -t on the
// NATS configuration, etcd --help for every etcd flag, the Kubernetes manifests against the
// Kubernetes schemas (kubernetes-models), the coordinators' environments through the configuration
// loader, promtool on the Prometheus configuration, and the Dockerfile's shape.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import YAML from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { checkNatsConfig, supportsSyncAlways } from '../../src/stack/natsCheck.js';
import { etcdBinary } from '../../src/stack/processes.js';
import { strictProblems, type Manifest } from '../support/k8sStrict.js';

const run = promisify(execFile);
const DEPLOY = 'deploy';
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');
const parseAll = (path: string): Array<Record<string, unknown>> =>
  YAML.parseAllDocuments(read(path), { merge: true }).map((d) => {
    assert.deepEqual(d.errors, [], `${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Record<string, unknown>;
  });

type Container = { name: string; image: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string }> }>; ports?: Array<{ name: string; containerPort: number }>; resources?: { requests?: Record<string, string>; limits?: Record<string, string> }; readinessProbe?: Probe; livenessProbe?: Probe; startupProbe?: Probe };
type Probe = { httpGet?: { path: string; port: string | number }; tcpSocket?: { port: string | number } };
type Workload = { kind: string; metadata: { name: string }; spec: { selector?: { matchLabels: Record<string, string> }; replicas?: number; template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes?: Array<Record<string, unknown>> } } } };

const MODELS: Record<string, (doc: Record<string, unknown>) => { validate: () => void }> = {
  'apps/v1/Deployment': (d) => new Deployment(d),
  'apps/v1/StatefulSet': (d) => new StatefulSet(d),
  'v1/Service': (d) => new Service(d),
  'policy/v1/PodDisruptionBudget': (d) => new PodDisruptionBudget(d),
};

const MANIFESTS = ['kubernetes/nats.yaml', 'kubernetes/etcd.yaml', 'kubernetes/coordinator.yaml'];
const manifests = MANIFESTS.flatMap((file) => parseAll(file).map((doc) => ({ file, doc: doc as unknown as Workload & Record<string, unknown> })));
const workload = (kind: string, name: string): Workload => {
  const found = manifests.find(({ doc }) => doc.kind === kind && doc.metadata.name === name)?.doc;
  assert.ok(found !== undefined, `no ${kind} ${name} in ${MANIFESTS.join(', ')}`);
  return found;
};
const containerOf = (w: Workload): Container => {
  const c = w.spec.template?.spec.containers[0];
  assert.ok(c !== undefined, `${w.kind} ${w.metadata.name} has no container`);
  return c;
};
const compose = parseAll('compose.yaml')[0] as { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string>; volumes?: string[]; env_file?: string; build?: { context: string; dockerfile: string } }>; secrets?: Record<string, { file: string }> };
const service = (name: string) => {
  const s = compose.services[name];
  assert.ok(s !== undefined, `compose.yaml has no service ${name}`);
  return s;
};

describe('deploy/nats/nats-server.conf', () => {
  const variables = { SERVER_NAME: 'nats-0', ROUTE_1: 'nats://nats-0.nats:6222', ROUTE_2: 'nats://nats-1.nats:6222', ROUTE_3: 'nats://nats-2.nats:6222' };
  const text = read('nats/nats-server.conf');

  /** The file next to the block it includes (the open one), checked by this machine's nats-server. */
  const check = async (body: string): Promise<E.Either<string, string>> => {
    const dir = mkdtempSync(join(tmpdir(), 'jzse-deploy-nats-'));
    try {
      writeFileSync(join(dir, 'nats-server.conf'), body);
      copyFileSync(join(DEPLOY, 'nats/open-authorization.conf'), join(dir, 'jzse-authorization.conf'));
      return await checkNatsConfig(join(dir, 'nats-server.conf'), { ...process.env, ...variables });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('nats-server -t accepts it; a 2.9 server refuses only sync_interval, which 2.10 added', async () => {
    assert.match(text, /^\s*sync_interval: always$/m);
    const full = await check(text);
    if (await supportsSyncAlways()) {
      assert.ok(E.isRight(full), E.isLeft(full) ? full.left : '');
    } else {
      assert.ok(E.isLeft(full));
      assert.match(full.left, /unknown field "sync_interval"/);
      const without = await check(text.replace(/^\s*sync_interval: always\n/m, ''));
      assert.ok(E.isRight(without), E.isLeft(without) ? without.left : '');
    }
  });

  test('a JetStream cluster of 3 routes, one name, the users block included from its own folder', () => {
    assert.match(text, /cluster \{[^}]*name: jzse[^}]*routes: \[\$ROUTE_1, \$ROUTE_2, \$ROUTE_3\]/s);
    assert.match(text, /^include "jzse-authorization.conf"$/m);
  });

  test('every variable it names is set for every member, in compose and in Kubernetes', () => {
    const names = [...new Set([...text.replace(/#.*$/gm, '').matchAll(/\$([A-Z_0-9]+)/g)].map((m) => m[1]))].sort();
    assert.deepEqual(names, Object.keys(variables).sort());
    for (const n of ['nats-1', 'nats-2', 'nats-3']) assert.deepEqual(Object.keys(service(n).environment ?? {}).sort(), names, `compose ${n}`);
    assert.deepEqual(containerOf(workload('StatefulSet', 'nats')).env?.map((e) => e.name).sort(), names);
    const routes = containerOf(workload('StatefulSet', 'nats')).env?.filter((e) => e.name.startsWith('ROUTE_')).map((e) => e.value);
    assert.deepEqual(routes, [0, 1, 2].map((i) => `nats://nats-${i}.nats:6222`));
  });
});

describe('etcd flags', () => {
  const composeFlags = ['etcd-1', 'etcd-2', 'etcd-3'].flatMap((n) => service(n).command ?? []).filter((a) => a.startsWith('--'));
  const k8sFlags = (containerOf(workload('StatefulSet', 'etcd')).args ?? []).map((a) => a.split('=')[0] ?? a);

  test('every flag used exists in this machine\'s etcd (etcd --help)', async () => {
    const { stdout, stderr } = await run(etcdBinary(), ['--help']).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    const known = new Set([...`${stdout}${stderr}`.matchAll(/^\s+(--[a-z0-9-]+)/gm)].map((m) => m[1]));
    assert.ok(known.size > 50, 'etcd --help listed its flags');
    const used = [...new Set([...composeFlags, ...k8sFlags])];
    assert.deepEqual(used.filter((f) => !known.has(f)), []);
    // compose and Kubernetes run the same flags.
    assert.deepEqual([...new Set(composeFlags)].sort(), [...new Set(k8sFlags)].sort());
  });

  test('the request limits leave room for the projector\'s transactions; compaction and the quota are set', () => {
    const value = (flag: string): string | undefined => (containerOf(workload('StatefulSet', 'etcd')).args ?? []).find((a) => a.startsWith(`${flag}=`))?.split('=')[1];
    assert.ok(Number(value('--max-txn-ops')) > DEFAULTS.projector.max_txn_ops);
    assert.ok(Number(value('--max-request-bytes')) > DEFAULTS.projector.max_txn_bytes);
    assert.ok(Number(value('--quota-backend-bytes')) <= 8 * 1024 ** 3, 'at most 8 GiB (docs/capacity.md)');
    assert.equal(value('--auto-compaction-mode'), 'periodic');
  });
});

describe('deploy/kubernetes against the Kubernetes schemas', () => {
  test('every manifest parses and validates (kubernetes-models, generated from the Kubernetes OpenAPI)', () => {
    assert.ok(manifests.length >= 9);
    for (const { file, doc } of manifests) {
      const key = `${String(doc['apiVersion'])}/${doc.kind}`;
      const model = MODELS[key];
      assert.ok(model !== undefined, `${file}: no schema for ${key}`);
      assert.doesNotThrow(() => model(doc).validate(), `${file}: ${key} ${doc.metadata.name}`);
    }
  });

  const strict = (docs: ReadonlyArray<{ file: string; doc: Workload & Record<string, unknown> }>): Manifest[] =>
    docs.map(({ file, doc }) => ({ label: `${file} ${doc.kind} ${doc.metadata.name}`, apiVersion: String(doc['apiVersion']), kind: doc.kind, doc }));

  test('no field the Kubernetes types do not declare (the schemas allow unknown ones; the API server would drop them)', () => {
    assert.deepEqual(strictProblems(strict(manifests)), []);
  });

  test('the strict check catches a misspelt field', () => {
    const broken = structuredClone(manifests.find(({ doc }) => doc.kind === 'Deployment'));
    assert.ok(broken !== undefined);
    const c = broken.doc.spec.template?.spec.containers[0] as unknown as Record<string, unknown>;
    c['readinessprobe'] = c['readinessProbe'];
    delete c['readinessProbe'];
    const problems = strictProblems(strict([broken]));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /kubernetes\/coordinator\.yaml Deployment jzse-coordinator: .*'"readinessprobe"' does not exist in type 'IContainer'/);
  });

  test('the schemas catch a wrong manifest (a port that is not a number)', () => {
    const broken = structuredClone(workload('Deployment', 'jzse-coordinator')) as unknown as Record<string, unknown>;
    const c = (broken as unknown as Workload).spec.template?.spec.containers[0];
    assert.ok(c?.ports?.[0] !== undefined);
    (c.ports[0] as { containerPort: unknown }).containerPort = 'grpc';
    assert.throws(() => new Deployment(broken).validate(), /containerPort must be integer/);
  });

  test('kustomization: its resources exist; the generated nats-config is what the nats pods mount', () => {
    const k = parseAll('kustomization.yaml')[0] as { resources: string[]; configMapGenerator: Array<{ name: string; files: string[] }> };
    assert.deepEqual([...k.resources].sort(), [...MANIFESTS].sort());
    const generated = k.configMapGenerator.find((g) => g.name === 'nats-config');
    assert.deepEqual(generated?.files, ['nats/nats-server.conf']);
    assert.match(JSON.stringify(workload('StatefulSet', 'nats').spec.template?.spec.volumes), /"configMap":\{"name":"nats-config"\}/);
  });

  test('the coordinators: probes on the routes the REST API serves, a PDB over their labels, requests sized', () => {
    const routes = readFileSync('src/rest/routes/status.ts', 'utf8');
    assert.match(routes, /url: '\/healthz'/);
    assert.match(routes, /url: '\/readyz'/);
    const d = workload('Deployment', 'jzse-coordinator');
    const c = containerOf(d);
    const http = c.ports?.find((p) => p.name === 'http');
    assert.equal(http?.containerPort, DEFAULTS.rest.port);
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
    assert.equal(c.ports?.find((p) => p.name === 'grpc')?.containerPort, DEFAULTS.grpc.port);
    assert.equal(c.ports?.find((p) => p.name === 'metrics')?.containerPort, DEFAULTS.coordinator.metrics_port);
    // The heap limit sits inside the memory limit (docs/capacity.md section 4).
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1]);
    assert.ok(heapMiB > 0 && heapMiB * 1024 ** 2 < 4 * 1024 ** 3 && c.resources?.limits?.['memory'] === '4Gi');
  });

  test('every workload has requests and a PodDisruptionBudget selecting its pods', () => {
    for (const w of manifests.map((m) => m.doc).filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')) {
      assert.ok(containerOf(w).resources?.requests?.['cpu'] !== undefined && containerOf(w).resources?.requests?.['memory'] !== undefined, `${w.metadata.name}: requests`);
      const pdb = manifests.map((m) => m.doc).find((d) => d.kind === 'PodDisruptionBudget' && JSON.stringify(d.spec.selector) === JSON.stringify(w.spec.selector));
      assert.ok(pdb !== undefined, `${w.metadata.name}: a PodDisruptionBudget`);
      for (const [k, v] of Object.entries(w.spec.selector?.matchLabels ?? {})) assert.equal(w.spec.template?.metadata.labels[k], v, `${w.metadata.name}: selector ${k}`);
    }
  });

  test('no secret inline: no Secret object, no credentials in a value; the coordinator reads them from the Secret', () => {
    assert.deepEqual(manifests.filter(({ doc }) => doc.kind === 'Secret'), []);
    for (const { file, doc } of manifests) assert.doesNotMatch(JSON.stringify(doc), /:\/\/[^/"@]+:[^/"@]+@|password=/i, file);
    const env = containerOf(workload('Deployment', 'jzse-coordinator')).env ?? [];
    assert.deepEqual(env.find((e) => e.name === 'JZSE_DATABASE_URL')?.valueFrom?.['secretKeyRef'], { name: 'jzse-coordinator', key: 'database-url' });
  });
});

describe('the coordinators\' environments are valid configurations', () => {
  /** Valid, and pointed at every member of both clusters, with the stream at replicas 3. */
  const loads = (env: Record<string, string>): void => {
    const loaded = loadConfig({ ...env, JZSE_CONFIG: undefined }, join(tmpdir(), 'jzse-no-config-file.yaml'));
    assert.ok(E.isRight(loaded), E.isLeft(loaded) ? loaded.left.join('\n') : '');
    const { config } = loaded.right;
    assert.equal(config.nats.url?.split(',').length, 3);
    assert.equal(config.nats.replicas, 3);
    assert.equal(config.etcd.endpoints.length, 3);
    assert.equal(config.database.url !== null && config.auth.enabled, true);
    assert.deepEqual([config.grpc.host, config.rest.host, config.coordinator.metrics_host], ['0.0.0.0', '0.0.0.0', '0.0.0.0']);
  };
  /** What the Dockerfile sets, under everything else. */
  const image = Object.fromEntries([...read('Dockerfile').matchAll(/(JZSE_[A-Z_]+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));

  test('Kubernetes (secrets as placeholders)', () => {
    const env = containerOf(workload('Deployment', 'jzse-coordinator')).env ?? [];
    const placeholders: Record<string, string> = { JZSE_COORDINATOR_ID: 'jzse-coordinator-5d9c7-abcde', JZSE_DATABASE_URL: 'postgres://u:p@db:5432/jzse' };
    loads({ ...image, ...Object.fromEntries(env.filter((e) => e.name.startsWith('JZSE_')).map((e) => [e.name, e.value ?? placeholders[e.name] ?? ''])) });
  });

  test('compose', () => {
    for (const n of ['coordinator-1', 'coordinator-2']) {
      const s = service(n);
      assert.equal(s.env_file, './secrets/coordinator.env', 'the database URL comes from a file that is not committed');
      assert.deepEqual(s.build, { context: '..', dockerfile: 'deploy/Dockerfile' });
      loads({ ...image, ...s.environment, JZSE_DATABASE_URL: 'postgres://u:p@postgres:5432/jzse' });
    }
    assert.ok(readFileSync('.gitignore', 'utf8').split('\n').includes('deploy/secrets/'));
  });
});

describe('deploy/compose.yaml', () => {
  test('the full topology: 3 NATS, 3 etcd, PostgreSQL, 2 coordinators, Prometheus', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['coordinator-1', 'coordinator-2', 'etcd-1', 'etcd-2', 'etcd-3', 'nats-1', 'nats-2', 'nats-3', 'postgres', 'prometheus']);
    assert.equal(compose.secrets?.['postgres-password']?.file, './secrets/postgres-password');
  });

  test('Prometheus loads the alert rules from deploy/prometheus/alerts.yml; promtool accepts its configuration', async () => {
    const prometheus = service('prometheus');
    assert.ok(prometheus.volumes?.includes('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
    assert.ok(prometheus.volumes?.includes('./compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
    const config = YAML.parse(read('compose/prometheus.yml')) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    assert.deepEqual(config.rule_files, ['/etc/prometheus/alerts.yml']);
    const targets = config.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    assert.ok(targets.includes(`coordinator-1:${DEFAULTS.coordinator.metrics_port}`) && targets.includes(`coordinator-2:${DEFAULTS.coordinator.metrics_port}`));
    // The rules are promtool's `check rules` (deploy/prometheus/); here the rest of the file.
    const dir = mkdtempSync(join(tmpdir(), 'jzse-deploy-prom-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), YAML.stringify({ ...config, rule_files: [] }));
      const { stdout } = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      assert.match(stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/Dockerfile', () => {
  const text = read('Dockerfile');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));

  test('multi-stage: built with npm ci and npm run build, the runtime stage without dev dependencies', () => {
    const from = lines.filter((l) => /^FROM\s/i.test(l));
    assert.ok(from.length >= 2, 'at least a build and a runtime stage');
    const names = from.map((l) => /\sAS\s+(\S+)/i.exec(l)?.[1]);
    for (const m of text.matchAll(/--from=(\S+)/g)) assert.ok(names.includes(m[1]), `COPY --from=${m[1]} names a stage`);
    assert.match(text, /RUN npm ci --no-audit/);
    assert.match(text, /RUN npm ci --omit=dev/);
    assert.match(text, /RUN npm run build/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    assert.ok(pkg.scripts['build']?.includes('deploy/tsconfig.build.json'));
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (m[1] ?? '').split(' ')) assert.ok(existsSync(source), `COPY ${source}: it exists`);
    }
    assert.doesNotMatch(text, /:latest\b/);
  });

  test('the runtime stage runs as a non-root user, in exec form, what the build made', () => {
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, 'a USER in the runtime stage');
    assert.ok(!['root', '0'].includes(users[users.length - 1] ?? 'root'));
    const entry = /^ENTRYPOINT (.+)$/m.exec(runtime)?.[1];
    assert.deepEqual(JSON.parse(entry ?? 'null'), ['node', '--enable-source-maps', 'build/src/main.js']);
    // `npm run build` compiles src/main.ts to build/src/main.js (deploy/tsconfig.build.json: rootDir .., outDir ../build).
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    assert.deepEqual([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['..', '../build']);
    assert.ok(existsSync('src/main.ts'));
  });
});
