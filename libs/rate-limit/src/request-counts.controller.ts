import { ParseIdPipe } from '@bulkhead/domain-kit';
import { TenantErasedProblem, TenantRegistry } from '@bulkhead/control-plane';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { ValidationProblem } from '@bulkhead/problem';
import { FIRST_INSTANT, LAST_INSTANT, rfc3339Instant } from '@bulkhead/rfc3339';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestCountsQuery, RequestCountsView } from './request-counts.dto';
import { RequestCountsReader } from './request-counts.reader';

/** Operator: how many API requests a tenant made, per minute and route class. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/tenants')
export class RequestCountsController {
  constructor(
    private readonly reader: RequestCountsReader,
    private readonly registry: TenantRegistry,
  ) {}

  @Get(':id/request-counts')
  @ApiOperation({ summary: "A tenant's API requests per minute and route class (admitted and refused), from the rate limiter's counts" })
  @ApiOkResponse({ type: RequestCountsView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  async counts(@Param('id', new ParseIdPipe()) id: string, @Query() query: RequestCountsQuery): Promise<RequestCountsView> {
    // Zeros for a tenant there is not (or no longer) read like a quiet one: 404 or 410, as every sibling route answers.
    // The counts live in Redis and stay readable while PostgreSQL is down: an unreadable registry refuses nothing.
    await this.registry.assertOperable(id);
    const minutes = query.minutes ?? 60;
    const end = query.end === undefined ? Date.now() : rfc3339Instant(query.end);
    // The range reported runs from the first of `minutes` minutes ending with end's to the minute after it: it must be
    // a range of real years too (the DTO validated end; this refuses, rather than trusts, anything else).
    const firstMinute = end === undefined ? 0 : (Math.floor(end / 60_000) - minutes + 1) * 60_000;
    if (end === undefined || firstMinute < FIRST_INSTANT || end + 60_000 > LAST_INSTANT) {
      throw new ValidationProblem([{ field: 'end', messages: ['end and minutes must keep the range within the years 0001-9999'] }]);
    }
    return this.reader.read(id, minutes, new Date(end));
  }
}
