/**
 * Thrown by a handler whose job ran before the write that enqueued it committed (the job is
 * enqueued first, so a crash after the commit cannot lose it): its row is not visible yet. The
 * job waits, spending no attempt, for up to JOBS_UNCOMMITTED_WAIT_MS from its enqueue; a write
 * slower than its retries (a lock wait, a stalled API) would otherwise leave its row for ever
 * `pending`. Past that, the write is taken as rolled back and the error counts as a failure. A
 * handler told its enqueuing transaction (`enqueuingWrite`) asks `enqueuingWriteState` first and
 * throws this only while that transaction is undecided.
 */
export class NotYetVisibleError extends Error {
  override readonly name = 'NotYetVisibleError';
}
