import { BulkheadConfig } from '@bulkhead/config';
import { TenantData } from '@bulkhead/tenancy';
import { AuditEvent } from '../src/audit-event';
import { AuditTrail } from '../src/audit-trail';
import { RefusalRecorder } from '../src/refusal.recorder';

/** The recorder's batching against a platform trail that is down, then back: no database needed. */
describe('RefusalRecorder', () => {
  const unauthorized = { type: 'about:blank', title: 'Unauthorized', status: 401, code: 'unauthenticated' };

  function recorderWith(max: number) {
    const trail = { down: true, attempts: 0, written: [] as AuditEvent[] };
    const fake = {
      recordPlatform: async (events: AuditEvent[]) => {
        trail.attempts += 1;
        if (trail.down) throw new Error('PostgreSQL is down');
        trail.written.push(...events);
      },
    } as unknown as AuditTrail;
    const recorder = new RefusalRecorder(fake, {} as TenantData, Object.assign(new BulkheadConfig(), { AUDIT_REFUSALS_MAX_PENDING: max }));
    return { trail, recorder };
  }

  it('does not try a write per refused request while its queue is full and a failed write waits for its retry', async () => {
    const { trail, recorder } = recorderWith(250);
    for (let i = 0; i < 250; i++) recorder.observeProblem(unauthorized, { method: 'GET', url: '/v1/customers', id: `r-${i}` });
    await recorder.flush();
    const attempts = trail.attempts;
    // A flood of bad tokens during the outage: counted, never written one attempt each.
    for (let i = 0; i < 100; i++) recorder.observeProblem(unauthorized, { method: 'GET', url: '/v1/customers', id: `flood-${i}` });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(trail.attempts - attempts).toBe(0);
    trail.down = false;
    await recorder.flush();
    expect(trail.written.filter((event) => event.outcome === 'refused')).toHaveLength(250);
    expect(trail.written.filter((event) => event.action === 'audit.refusals_dropped').map((event) => event.details)).toEqual([{ count: 100 }]);
  });

  it('keeps operator actions far past the refusals\' bound, every one, in order', async () => {
    const { trail, recorder } = recorderWith(10);
    trail.down = false;
    for (let i = 0; i < 40_000; i++) recorder.enqueueOperatorAction({ action: 'GET /v1/admin/tenants', outcome: 'succeeded', actor: { kind: 'operator', subject: 'op', scopes: [] }, requestId: `op-${i}` });
    await recorder.flush();
    expect(trail.written).toHaveLength(40_000);
    expect(trail.written.map((event) => event.requestId)).toEqual(Array.from({ length: 40_000 }, (_, i) => `op-${i}`));
  });
});
