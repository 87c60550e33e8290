import { TenantErasedProblem } from '@bulkhead/control-plane';
import { ParseIdPipe } from '@bulkhead/domain-kit';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantRateLimitsView } from './tenant-rate-limits.dto';
import { TenantRateLimitsReader } from './tenant-rate-limits.reader';

/** Operator: the limits a tenant's requests meet now, per route class. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/tenants')
export class TenantRateLimitsController {
  constructor(private readonly reader: TenantRateLimitsReader) {}

  @Get(':id/rate-limits')
  @ApiOperation({
    summary: "A tenant's effective rate limits per route class (its tier's, lowered while flagged noisy), what is left of each allowance now, and this minute's admitted and refused requests",
    description: "The throttle and the in-memory fallback are this API instance's view (every instance receives the same noisy flags); the allowance and the counts are the fleet's, from Redis.",
  })
  @ApiOkResponse({ type: TenantRateLimitsView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  limits(@Param('id', new ParseIdPipe()) id: string): Promise<TenantRateLimitsView> {
    return this.reader.read(id);
  }
}
