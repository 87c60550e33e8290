import { isCluster, RedisClient } from '@bulkhead/redis';
import { TAKE_COMMAND, TakeCall, TakeReply } from './rate-limit.script';

interface Queued {
  readonly args: Parameters<TakeCall>;
  resolve(reply: TakeReply): void;
  reject(error: unknown): void;
}

type TakePipeline = Record<typeof TAKE_COMMAND, (...args: Parameters<TakeCall>) => unknown> & {
  exec(): Promise<Array<[error: Error | null, reply: unknown]> | null>;
};

/**
 * The takes asked for during one turn of the event loop, sent together: one pipeline, one socket
 * write and one read for all of them instead of one each. A tenant seen seldom (thousands of
 * tenants each at a low rate, the usual fleet) holds no lease, so each of its requests is a take:
 * measured with 2,000 silo tenants round-robin, those takes were 13% of the API's CPU, most of it
 * in the write syscalls. Each take is still its own script call and its own decision, answered
 * or failed on its own (a command timeout or a lost connection fails it as it would alone; its
 * timeout counts from the batch's send, at most one turn after it was asked for). A take alone in
 * its turn skips the pipeline. On a Redis Cluster each take goes out alone: a pipeline must stay on
 * one node, and takes for different tenants live on different nodes. `take` must be `redis`'s own
 * (bindTakeScript), whose command the pipeline calls by name.
 */
export function batchTakes(redis: RedisClient, take: TakeCall): TakeCall {
  if (isCluster(redis)) return take;
  let queued: Queued[] = [];
  const flush = (): void => {
    const batch = queued;
    queued = [];
    if (batch.length === 1) {
      const [only] = batch;
      take(...only.args).then(only.resolve, only.reject);
      return;
    }
    let pipeline: TakePipeline;
    try {
      pipeline = redis.pipeline() as unknown as TakePipeline;
      for (const call of batch) pipeline[TAKE_COMMAND](...call.args);
    } catch (error) {
      // Thrown here it would be uncaught, and every take of the batch would wait forever.
      for (const call of batch) call.reject(error);
      return;
    }
    pipeline.exec().then(
      (results) =>
        batch.forEach((call, at) => {
          const result = results?.[at];
          if (!result) call.reject(new Error('rate-limit: a batch of takes came back without this one'));
          else if (result[0]) call.reject(result[0]);
          else call.resolve(result[1] as TakeReply);
        }),
      (error: unknown) => batch.forEach((call) => call.reject(error)),
    );
  };
  return (...args) =>
    new Promise<TakeReply>((resolve, reject) => {
      if (queued.push({ args, resolve, reject }) === 1) setImmediate(flush);
    });
}
