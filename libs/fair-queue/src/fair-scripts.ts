import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FairRedis } from './fair-queue';

const SCRIPT_DIR = join(__dirname, 'scripts');

/** ioredis method names; prefixed so they cannot clash with commands defined by other code. */
const SCRIPTS = {
  fairQueueEnqueue: 'enqueue.lua',
  fairQueueAdmit: 'admit.lua',
  fairQueueRelease: 'release.lua',
  fairQueueReconcile: 'reconcile.lua',
  fairQueueClaimStaged: 'claim-staged.lua',
  fairQueuePause: 'pause.lua',
  fairQueueResume: 'resume.lua',
  fairQueueSetPolicy: 'set-policy.lua',
  fairQueueHold: 'hold.lua',
  fairQueueUnhold: 'unhold.lua',
  fairQueueGiveBack: 'give-back.lua',
  fairQueueForgetTenant: 'forget-tenant.lua',
  fairQueueRecount: 'recount.lua',
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCall = (routingKey: string, ...args: (string | number)[]) => Promise<unknown>;

let sources: Record<ScriptName, string> | undefined;

function loadSources(): Record<ScriptName, string> {
  if (sources) return sources;
  const read = (file: string): string => {
    try {
      return readFileSync(join(SCRIPT_DIR, file), 'utf8');
    } catch (error) {
      throw new Error(
        `fair-queue: cannot read Lua script ${file} from ${SCRIPT_DIR}; ` +
          'a build must copy libs/fair-queue/src/scripts/*.lua next to the compiled files.',
        { cause: error },
      );
    }
  };
  const common = read('_common.lua');
  const loaded = {} as Record<ScriptName, string>;
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) loaded[name] = `${common}\n${read(SCRIPTS[name])}`;
  sources = loaded;
  return loaded;
}

/**
 * The scheduler's Lua scripts bound to one ioredis client (EVALSHA with automatic reload).
 * Every script declares one key, a key of the queue's hash tag, so Redis Cluster routes the
 * call to the slot that holds all the keys the script derives from ARGV[1].
 */
export class FairScripts {
  private readonly calls: Record<ScriptName, ScriptCall>;

  constructor(
    redis: FairRedis,
    private readonly routingKey: string,
    private readonly tag: string,
  ) {
    const code = loadSources();
    const target = redis as unknown as Record<string, ScriptCall | undefined>;
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      if (typeof target[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 1, lua: code[name] });
    }
    this.calls = {} as Record<ScriptName, ScriptCall>;
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      const fn = target[name] as ScriptCall;
      this.calls[name] = fn.bind(redis);
    }
  }

  private run(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    return this.calls[name](this.routingKey, this.tag, ...args);
  }

  async enqueue(defaultMaxBacklog: number, jobArgs: string[]): Promise<number[]> {
    return (await this.run('fairQueueEnqueue', [defaultMaxBacklog, ...jobArgs])) as number[];
  }

  /** Returns [ms until a parked tenant is due or -1, 1 if stopped short of the batch, ...entries]. */
  async admit(args: (string | number)[]): Promise<[number, number, ...string[]]> {
    return (await this.run('fairQueueAdmit', args)) as [number, number, ...string[]];
  }

  async release(pairs: string[]): Promise<number> {
    return (await this.run('fairQueueRelease', pairs)) as number;
  }

  async reconcile(bullJobPrefix: string, tenants: string[]): Promise<number> {
    return (await this.run('fairQueueReconcile', [bullJobPrefix, ...tenants])) as number;
  }

  async claimStaged(bullJobPrefix: string, olderThanMs: number, limit: number): Promise<string[]> {
    return (await this.run('fairQueueClaimStaged', [bullJobPrefix, olderThanMs, limit])) as string[];
  }

  async pause(tenant: string): Promise<void> {
    await this.run('fairQueuePause', [tenant]);
  }

  async resume(tenant: string): Promise<void> {
    await this.run('fairQueueResume', [tenant]);
  }

  async hold(tenant: string, holdForMs: number | undefined, jobIds: string[]): Promise<number> {
    return (await this.run('fairQueueHold', [tenant, holdForMs === undefined ? '' : String(Math.max(0, Math.round(holdForMs))), ...jobIds])) as number;
  }

  async giveBack(tenant: string, jobIds: string[]): Promise<number> {
    return (await this.run('fairQueueGiveBack', [tenant, ...jobIds])) as number;
  }

  async unhold(tenant: string, onlyIfDue: boolean): Promise<boolean> {
    return ((await this.run('fairQueueUnhold', [tenant, onlyIfDue ? 'due' : ''])) as number) === 1;
  }

  async forgetTenant(mode: 'count' | 'erase', tenant: string): Promise<number> {
    return (await this.run('fairQueueForgetTenant', [mode, tenant])) as number;
  }

  async recount(): Promise<number> {
    return (await this.run('fairQueueRecount', [])) as number;
  }

  async setPolicy(tenant: string, mode: 'set' | 'default' | 'clear', fields: Record<string, string>): Promise<void> {
    await this.run('fairQueueSetPolicy', [tenant, mode, ...Object.entries(fields).flat()]);
  }
}
