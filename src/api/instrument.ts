// Every unary handler timed and counted in one place: SREs see latency and error rates per method
// (jzse_grpc_server_handling_seconds{method,code}) without each service remembering to.
import * as grpc from '@grpc/grpc-js';
import type { Metrics } from '../observability/metrics.js';

type Unary = grpc.handleUnaryCall<unknown, unknown>;

export const instrumented = (service: string, impl: grpc.UntypedServiceImplementation, metrics: Metrics | undefined): grpc.UntypedServiceImplementation => {
  if (metrics === undefined) return impl;
  return Object.fromEntries(Object.entries(impl).map(([method, handler]) => {
    const name = `${service}/${method}`;
    const timed: Unary = (call, callback) => {
      const started = performance.now();
      (handler as Unary)(call, (error, value, trailer, flags) => {
        const code = error === null || error === undefined ? grpc.status.OK : (error.code ?? grpc.status.UNKNOWN);
        metrics.grpcSeconds.observe({ method: name, code: grpc.status[code] ?? String(code) }, (performance.now() - started) / 1000);
        callback(error, value, trailer, flags);
      });
    };
    return [method, timed];
  }));
};
