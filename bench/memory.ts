// Resident memory per file held in the view: each size measured in a fresh process (memoryChild.ts),
// so one measurement's garbage or heap growth never counts in another.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './env.js';

export type MemoryResult = {
  readonly files: number;
  readonly pending: number;
  readonly rssPerFile: number;
  readonly heapPerFile: number;
  readonly rssMiB: number;
  readonly foldSeconds: number;
  readonly fileJsonBytes: number;
  readonly pendingJsonBytes: number;
};

export const measureMemory = (files: number, regions: number, timeoutMs = 600_000): Promise<MemoryResult> =>
  new Promise((resolve, reject) => {
    const heapMiB = Math.max(2048, Math.ceil((files * 8000) / 2 ** 20));
    execFile(
      process.execPath,
      ['--expose-gc', `--max-old-space-size=${heapMiB}`, '--import', 'tsx', join(ROOT, 'bench', 'memoryChild.ts'), String(files), String(regions)],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`memory child (${files} files) failed: ${error.message}\n${stderr}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as MemoryResult);
        } catch {
          reject(new Error(`memory child printed no result: ${stdout} ${stderr}`));
        }
      },
    );
  });
