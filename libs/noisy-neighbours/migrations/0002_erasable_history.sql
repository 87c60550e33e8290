-- Offboarding erases a tenant's history with the rest of its data (NoisyHistoryEraser).
GRANT DELETE ON noisy_tenant_events TO :runtime_role;
