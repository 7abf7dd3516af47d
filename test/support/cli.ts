// Running `jzse`: as its own process through bin/jzse (exit codes, memory, the real wrapper), or in
// this process through the same runCli that bin/jzse calls (fast, for the many small cases), with
// output streams that can pretend to be a terminal.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';
import type { Stack } from './stack.js';

export const JZSE_BIN = fileURLToPath(new URL('../../bin/jzse', import.meta.url));

export type CliResult = { readonly code: number; readonly stdout: string; readonly stderr: string };

/** The environment a user would have: the stack's connection settings (no configuration file). */
export const cliEnv = (stack: Stack): NodeJS.ProcessEnv => ({ ...process.env, ...stack.env, JZSE_CONFIG: undefined });

class Collector extends Writable {
  text = '';
  constructor(readonly isTTY: boolean, readonly columns: number | undefined) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export type Terminal = { readonly stdout?: boolean; readonly stderr?: boolean; readonly columns?: number };

/** Runs the CLI in this process with this environment; `terminal` makes stdout and/or stderr look like a TTY. */
export const runJzse = async (args: readonly string[], env: NodeJS.ProcessEnv, terminal: Terminal = {}): Promise<CliResult> => {
  const stdout = new Collector(terminal.stdout === true, terminal.columns);
  const stderr = new Collector(terminal.stderr === true, terminal.columns);
  const code = await runCli(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
};

/** Runs the CLI in this process against a stack, as its user would (cliEnv). */
export const jzse = (stack: Stack, args: readonly string[], terminal: Terminal = {}): Promise<CliResult> => runJzse(args, cliEnv(stack), terminal);

/**
 * Runs bin/jzse as a child process from the stack's folder (not the package's), stdout piped. A
 * command still running after `timeoutMs` is killed, and the call rejects naming it.
 */
export const jzseProcess = (stack: Stack, args: readonly string[], timeoutMs = 120_000): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(JZSE_BIN, [...args], { cwd: stack.dir, env: cliEnv(stack), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms waiting for jzse ${args.join(' ')} to exit; stderr so far: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });

export const jsonLines = (text: string): unknown[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
