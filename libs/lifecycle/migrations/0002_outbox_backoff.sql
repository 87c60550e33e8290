-- The outbox took its oldest 100 undelivered events each round: 100 events that kept failing (the
-- tenants of an unreachable cluster) were taken again every round, and every newer event waited
-- behind them for as long as they failed. Each event now keeps its own schedule: a round takes the
-- events that are due (claiming them for a while, so two workers do not take the same one), and a
-- failure puts the event off for a wait that doubles with each attempt, up to a cap.
ALTER TABLE lifecycle_outbox
  ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN last_error      text;
-- Events waiting at the upgrade keep their order.
UPDATE lifecycle_outbox SET next_attempt_at = created_at WHERE delivered_at IS NULL;
DROP INDEX lifecycle_outbox_pending_idx;
CREATE INDEX lifecycle_outbox_due_idx ON lifecycle_outbox (next_attempt_at) WHERE delivered_at IS NULL;
