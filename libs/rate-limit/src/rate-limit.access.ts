import type { AccessStage } from '@bulkhead/tenancy';
import { RateLimitModule } from './rate-limit.module';
import { RateLimitGuard } from './rate-limit.guard';

/** Per-tenant rate limits as a stage of the access chain: `TenancyModule.forRoot({ access: [RATE_LIMIT_ACCESS] })`. */
export const RATE_LIMIT_ACCESS: AccessStage = Object.freeze({ module: RateLimitModule, guard: RateLimitGuard });
