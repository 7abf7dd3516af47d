// gRPC over TLS, and mTLS: with grpc.tls_client_ca a client without a certificate signed by that CA
// is refused at the handshake, one with it gets through to the token check. Certificates are made
// here with openssl, into the test's temp folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Coordinator } from '../../src/coordinator.js';
import { serviceClient } from '../../src/api/proto.js';
import { call } from '../support/grpcClient.js';
import { startInProcess, startStack, type Stack } from '../support/stack.js';

describe('gRPC with TLS and client certificates', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let dir: string;

  before(async () => {
    stack = await startStack();
    dir = stack.dir;
    makeCertificates(dir);
    stack = { ...stack, config: { ...stack.config, grpc: { ...stack.config.grpc, tls_cert: join(dir, 'server.pem'), tls_key: join(dir, 'server.key'), tls_client_ca: join(dir, 'ca.pem') } } };
    coordinator = await startInProcess(stack, 'tls');
  });
  after(async () => {
    await coordinator?.stop();
    await stack?.stop();
  });

  const client = (credentials: grpc.ChannelCredentials) => new (serviceClient('RegionService'))(`127.0.0.1:${coordinator.api.port}`, credentials);

  test('a client with a certificate signed by the CA is served', async () => {
    const c = client(grpc.credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(join(dir, 'client.key')), readFileSync(join(dir, 'client.pem'))));
    const r = await call(c, 'GetActiveRegions', {});
    c.close();
    assert.ok(r.ok, r.error?.details);
  });

  test('a TLS client without a client certificate is refused, and so is plaintext', async () => {
    const noCert = client(grpc.credentials.createSsl(readFileSync(join(dir, 'ca.pem'))));
    const plain = client(grpc.credentials.createInsecure());
    for (const c of [noCert, plain]) {
      const r = await call(c, 'GetActiveRegions', {}, 5000);
      c.close();
      assert.equal(r.error?.code, grpc.status.UNAVAILABLE, `${r.error?.code} ${r.error?.details}`);
    }
  });
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=jzse-test-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\n'], ['client', 'extendedKeyUsage=clientAuth\n']] as const) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=jzse-test-${name}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
}
