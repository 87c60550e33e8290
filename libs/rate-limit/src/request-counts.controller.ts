import { OperatorOnly } from '@bulkhead/identity';
import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestCountsQuery, RequestCountsView } from './request-counts.dto';
import { RequestCountsReader } from './request-counts.reader';

/** Operator: how many API requests a tenant made, per minute and route class. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/tenants')
export class RequestCountsController {
  constructor(private readonly reader: RequestCountsReader) {}

  @Get(':id/request-counts')
  @ApiOperation({ summary: "A tenant's API requests per minute and route class (admitted and refused), from the rate limiter's counts" })
  @ApiOkResponse({ type: RequestCountsView })
  counts(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: RequestCountsQuery): Promise<RequestCountsView> {
    return this.reader.read(id.toLowerCase(), query.minutes ?? 60, query.end ? new Date(query.end) : new Date());
  }
}
