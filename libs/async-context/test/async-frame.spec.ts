import { currentTraceContext, currentUnit, enterTraceContext, runInTraceContext, runInUnit } from '@bulkhead/async-context';

describe('async frame: one storage carries the unit of work and the trace context', () => {
  it('has neither outside any frame', () => {
    expect(currentUnit()).toBeUndefined();
    expect(currentTraceContext()).toBeUndefined();
  });

  it('keeps the unit when a trace context is entered, and the trace context when a unit is, across awaits', async () => {
    const unit = { name: 'request' };
    const seen = await runInUnit(unit, () =>
      runInTraceContext('trace-a', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        const inner = await runInUnit({ name: 'job' }, async () => {
          await Promise.resolve();
          return { unit: currentUnit<{ name: string }>()?.name, trace: currentTraceContext() };
        });
        return { inner, unit: currentUnit<{ name: string }>()?.name, trace: currentTraceContext() };
      }),
    );
    expect(seen).toEqual({ inner: { unit: 'job', trace: 'trace-a' }, unit: 'request', trace: 'trace-a' });
  });

  it('restores the outer frame when an inner one ends, and keeps concurrent frames apart', async () => {
    const observed = await Promise.all(
      ['a', 'b'].map((name) =>
        runInUnit({ name }, async () => {
          const before = currentUnit<{ name: string }>()?.name;
          await runInTraceContext(`trace-${name}`, async () => {
            await new Promise((resolve) => setTimeout(resolve, name === 'a' ? 20 : 1));
          });
          await new Promise((resolve) => setTimeout(resolve, 5));
          return { before, after: currentUnit<{ name: string }>()?.name, trace: currentTraceContext() };
        }),
      ),
    );
    expect(observed).toEqual([
      { before: 'a', after: 'a', trace: undefined },
      { before: 'b', after: 'b', trace: undefined },
    ]);
  });
});

describe('enterTraceContext', () => {
  it('undone in another unit, puts back only the trace context, never the unit it was entered in', async () => {
    let undo: (() => void) | undefined;
    await runInUnit({ name: 'a' }, async () => {
      undo = enterTraceContext('trace-a');
      expect(currentTraceContext()).toBe('trace-a');
    });
    const seen = await runInUnit({ name: 'b' }, async () => {
      undo?.();
      await Promise.resolve();
      return { unit: currentUnit<{ name: string }>()?.name, trace: currentTraceContext() };
    });
    expect(seen).toEqual({ unit: 'b', trace: undefined });
  });
});
