import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MeterNotFoundProblem, UsageRangeInvalidProblem } from '../metering.errors';
import { UsageQuery, UsageReportView } from './usage-query.dto';
import { UsageReportService } from './usage-report.service';

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly reports: UsageReportService) {}

  @Get()
  @ApiOperation({ summary: "The tenant's usage of one meter per hour, day or month (UTC), from the rollups" })
  @ApiOkResponse({ type: UsageReportView })
  @ApiProblem(MeterNotFoundProblem)
  @ApiProblem(UsageRangeInvalidProblem)
  async get(@Query() query: UsageQuery): Promise<UsageReportView> {
    const meter = this.reports.meterOf(query.meter);
    const granularity = query.granularity ?? 'day';
    return this.reports.report(meter, granularity, this.reports.rangeOf(query.from, query.to, granularity));
  }
}
