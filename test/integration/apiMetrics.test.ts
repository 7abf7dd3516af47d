// Every gRPC call is timed and counted by method and status code (jzse_grpc_server_handling_seconds).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Coordinator } from '../../src/coordinator.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { call, connectClients, type Clients } from '../support/grpcClient.js';
import { startInProcess, startStack, type Stack } from '../support/stack.js';

const countOf = (text: string, method: string, code: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`jzse_grpc_server_handling_seconds_count{method="${method}",code="${code}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('gRPC metrics', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let clients: Clients;
  const metrics = createMetrics();

  before(async () => {
    stack = await startStack();
    coordinator = await startInProcess(stack, 'metrics-a', {}, metrics);
    clients = connectClients(coordinator.api.port);
  });
  after(async () => {
    clients.close();
    await coordinator.stop();
    await stack.stop();
  });

  test('calls are counted per method and status code, with their handling time', async () => {
    const missing = await call(clients.MetadataService, 'Get', { file_id: 'no-such-file', read: null });
    assert.equal(missing.ok, false);
    const invalid = await call(clients.MetadataService, 'Get', { file_id: '', read: null });
    assert.equal(invalid.ok, false);
    for (let i = 0; i < 3; i++) assert.ok((await call(clients.RegionService, 'GetActiveRegions', { read: null })).ok);

    const text = await metrics.registry.metrics();
    assert.equal(countOf(text, 'MetadataService/Get', 'NOT_FOUND'), 1);
    assert.equal(countOf(text, 'MetadataService/Get', 'INVALID_ARGUMENT'), 1);
    assert.equal(countOf(text, 'RegionService/GetActiveRegions', 'OK'), 3);
    const sum = text.split('\n').find((l) => l.startsWith('jzse_grpc_server_handling_seconds_sum{method="RegionService/GetActiveRegions",code="OK"}'));
    assert.ok(sum !== undefined && Number(sum.split(' ').pop()) > 0, 'handling time is recorded');
  });
});
