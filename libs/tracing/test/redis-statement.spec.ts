import { redisStatement } from '../src/redis-statement';

/** What a Redis span says of a command: its name and how many arguments followed, never what they were. */
describe('redisStatement', () => {
  it.each([
    ['get', ['tc:{5d0c6f8e-1b7a-4c1e-9a57-2b8e4c7d9f10}:customer-totals:ann@example.com'], 'get [1 argument]'],
    ['set', ['k', '{"email":"ann@example.com"}', 'PX', 5000], 'set [4 arguments]'],
    ['evalsha', ['e91d70e20511253eeec5df8dad90b63de707775a', 2, 'rl:{t}:read', 'bull:q:id', '{"data":{"email":"ann@example.com"}}'], 'evalsha e91d70e20511253eeec5df8dad90b63de707775a [4 arguments]'],
    ['eval', ['return redis.call("get", KEYS[1])', 1, 'secret-key'], 'eval [3 arguments]'],
    ['evalsha', ['not-a-digest ann@example.com', 0], 'evalsha [2 arguments]'],
    ['ping', [], 'ping'],
    ['multi', undefined, 'multi'],
  ])('%s %j', (command, args, text) => {
    expect(redisStatement(command, args as unknown[] | undefined)).toBe(text);
  });
});
