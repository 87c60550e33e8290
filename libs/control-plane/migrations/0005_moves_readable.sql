-- Offboarding (the lifecycle, on the runtime role) waits for a move of the tenant to finish before
-- it erases: a switched move keeps the source's copy through its grace period, an aborting one
-- the target's, and an erasure certified with either still there would not be one. The runtime
-- role reads the moves; only the mover (the owner) writes them.
GRANT SELECT ON tenant_moves TO :runtime_role;
