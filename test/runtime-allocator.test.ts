import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MIMALLOC_ENV, MIMALLOC_PATHS, activeAllocator, describeAllocator, planAllocator, planAsShell } from '../src/runtime/allocator.js';

const execAsync = promisify(execFile);

const only =
  (...present: string[]) =>
  (p: string): boolean =>
    present.includes(p);

describe('planAllocator: what the launcher preloads', () => {
  it('preloads the first mimalloc found by default', () => {
    const second = MIMALLOC_PATHS[1];
    expect(planAllocator({}, only(second))).toEqual({ preload: second, env: { LD_PRELOAD: second, ...MIMALLOC_ENV }, why: 'mimalloc found' });
    expect(planAllocator({ TXRANK_ALLOCATOR: 'mimalloc' }, only(second)).preload).toBe(second);
  });

  it("sets mimalloc's settings unless the caller did, and only for mimalloc", () => {
    expect(MIMALLOC_ENV.MIMALLOC_DECOMMIT_DELAY).toBe('1000');
    const own = planAllocator({ MIMALLOC_DECOMMIT_DELAY: '50' }, only(MIMALLOC_PATHS[0]));
    expect(own.env).toEqual({ LD_PRELOAD: MIMALLOC_PATHS[0] });
    const je = planAllocator({ TXRANK_ALLOCATOR: '/opt/libjemalloc.so.2' }, only('/opt/libjemalloc.so.2'));
    expect(je.env).toEqual({ LD_PRELOAD: '/opt/libjemalloc.so.2' });
    expect(planAllocator({ TXRANK_ALLOCATOR: 'system' }, only(MIMALLOC_PATHS[0])).env).toEqual({});
  });

  it('hands the plan to the launcher as shell assignments that survive quoting', async () => {
    const lib = "/opt/it's here/libmimalloc.so.2";
    const shell = planAsShell(planAllocator({ TXRANK_ALLOCATOR: lib }, only(lib)));
    const { stdout } = await execAsync('sh', ['-c', `eval "$1"; sh -c 'printf "%s|%s" "$LD_PRELOAD" "$MIMALLOC_DECOMMIT_DELAY"'`, 'sh', shell]);
    expect(stdout).toBe(`${lib}|1000`);
    expect(planAsShell(planAllocator({ TXRANK_ALLOCATOR: 'system' }))).toBe('');
  });

  it('preloads nothing, and says why, when mimalloc is absent or the system malloc is chosen', () => {
    const absent = planAllocator({}, only());
    expect(absent.preload).toBeNull();
    expect(absent.why).toMatch(/not installed/);
    expect(planAllocator({ TXRANK_ALLOCATOR: 'system' }, only(MIMALLOC_PATHS[0])).preload).toBeNull();
  });

  it('leaves an LD_PRELOAD set by the caller alone', () => {
    const plan = planAllocator({ LD_PRELOAD: '/opt/x/libfoo.so' }, only(MIMALLOC_PATHS[0]));
    expect(plan.preload).toBeNull();
    expect(plan.why).toContain('/opt/x/libfoo.so');
  });

  it('preloads a library named by absolute path, and refuses a missing one or an unknown name', () => {
    expect(planAllocator({ TXRANK_ALLOCATOR: '/opt/jemalloc/libjemalloc.so.2' }, only('/opt/jemalloc/libjemalloc.so.2')).preload).toBe(
      '/opt/jemalloc/libjemalloc.so.2',
    );
    expect(() => planAllocator({ TXRANK_ALLOCATOR: '/nope/libmalloc.so' }, only())).toThrow(/does not exist/);
    expect(() => planAllocator({ TXRANK_ALLOCATOR: 'tcmalloc' }, only())).toThrow(/mimalloc, system or an absolute path/);
  });
});

describe('activeAllocator: which malloc a process runs on', () => {
  const libc = '7f1c2a000000-7f1c2a028000 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6\n';
  it('reads a preloaded allocator, or glibc, from the memory map', () => {
    expect(activeAllocator(() => `${libc}7f1c2b000000-7f1c2b010000 r-xp 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0\n`)).toBe('mimalloc');
    expect(activeAllocator(() => `7f00-7f10 r-xp 0 0:0 1 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n${libc}`)).toBe('jemalloc');
    expect(activeAllocator(() => libc)).toBe('glibc');
    expect(activeAllocator(() => '')).toBe('unknown');
    expect(
      activeAllocator(() => {
        throw new Error('no /proc');
      }),
    ).toBe('unknown');
  });

  it('warns at start only when the server runs on glibc without having chosen it', () => {
    expect(describeAllocator('mimalloc', {}).warn).toBe(false);
    expect(describeAllocator('glibc', { TXRANK_ALLOCATOR: 'system' }).warn).toBe(false);
    const bad = describeAllocator('glibc', { TXRANK_ALLOCATOR: 'tcmalloc' });
    expect(bad.warn).toBe(true);
    expect(bad.message).toMatch(/TXRANK_ALLOCATOR must be/);
    const plain = describeAllocator('glibc', {});
    expect(plain.warn).toBe(true);
    expect(plain.message).toMatch(planAllocator({}).preload ? /without the launcher/ : /libmimalloc2\.0/);
  });
});

/** Starts the launcher as `npm start` does; resolves with its HTTP base URL once it serves. */
function launch(env: NodeJS.ProcessEnv, dataDir: string) {
  const child = spawn('sh', ['src/cli/serve.sh', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LD_PRELOAD: undefined, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = async (): Promise<string> => {
    const end = Date.now() + 30_000;
    while (!/development admin key/.test(stdout)) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`the launcher did not start the server: ${stdout} ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return (/listening on (ws:\/\/\S+)/.exec(stdout)?.[1] ?? '').replace('ws://', 'http://').replace('/v1/ws', '');
  };
  return { child, exited, ready, output: () => stdout + stderr };
}

describe('the launcher (src/cli/serve.sh, what npm start runs)', () => {
  it('serves on mimalloc when it is installed, on glibc when told to, and hands SIGTERM to the server', async () => {
    const expected = planAllocator({ ...process.env, LD_PRELOAD: undefined }).preload ? 'mimalloc' : 'glibc';
    for (const [env, allocator] of [
      [{}, expected],
      [{ TXRANK_ALLOCATOR: 'system' }, 'glibc'],
    ] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'txrank-launch-'));
      const run = launch(env, dataDir);
      try {
        const http = await run.ready();
        const info = (await (await fetch(`${http}/v1/info`)).json()) as { allocator: string };
        expect(info.allocator).toBe(allocator);
        // The launcher exec'd the server, so its pid is the server's; mimalloc got its settings.
        const environ = readFileSync(`/proc/${run.child.pid}/environ`, 'utf8').split('\0');
        expect(environ.includes('MIMALLOC_DECOMMIT_DELAY=1000')).toBe(allocator === 'mimalloc');
        expect(run.output()).toContain(`allocator: ${allocator === 'glibc' ? 'glibc malloc' : allocator}`);
        // `exec`: the server is the launched process itself, so its drain and exit code are the launcher's.
        run.child.kill('SIGTERM');
        expect(await run.exited).toBe(0);
        expect(run.output()).toMatch(/SIGTERM: draining/);
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
        await run.exited;
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }, 90_000);

  it('refuses an invalid TXRANK_ALLOCATOR before starting anything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'txrank-launch-'));
    try {
      const run = launch({ TXRANK_ALLOCATOR: 'fastmalloc' }, dataDir);
      expect(await run.exited).toBe(2);
      expect(run.output()).toMatch(/TXRANK_ALLOCATOR must be mimalloc, system or an absolute path/);
      expect(run.output()).not.toMatch(/listening/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
