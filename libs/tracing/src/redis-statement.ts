/**
 * What a Redis command span says of its command (`db.query.text`): the command, the script's
 * digest for EVALSHA, and how many arguments followed, never the arguments themselves. The
 * instrumentation's default keeps every argument of EVAL*, GET*, DEL... and the first of SET,
 * XADD, LPUSH...: BullMQ adds a job with EVALSHA and the job's data among its arguments, and
 * Bulkhead's keys name tenants, cache keys and client addresses, none of which belongs at the
 * trace collector (as for SQL, see statementShape).
 */
export function redisStatement(command: string, args: ReadonlyArray<unknown> | undefined): string {
  const all = args ?? [];
  const kept = /^evalsha(_ro)?$/i.test(command) && typeof all[0] === 'string' && /^[0-9a-f]{40}$/i.test(all[0]) ? [all[0]] : [];
  const rest = all.length - kept.length;
  return [command, ...kept, ...(rest > 0 ? [`[${rest} argument${rest === 1 ? '' : 's'}]`] : [])].join(' ');
}
