// Failpoints for crash tests, in the spirit of etcd's gofail: JZSE_FAILPOINT=<name>=<n> makes the
// process SIGKILL itself the n-th time it passes <name>. Unset (always, outside tests), it does nothing.
const spec = process.env['JZSE_FAILPOINT'];
const [armedName, armedCount] = spec?.split('=') ?? [];
let passes = 0;

export const failpoint = (name: string): void => {
  if (armedName !== name) return;
  passes += 1;
  if (passes === Number(armedCount)) process.kill(process.pid, 'SIGKILL');
};
