import { ParseIdPipe } from '@bulkhead/domain-kit';
import { JobBacklogFullProblem, JobsUnavailableProblem } from '@bulkhead/jobs';
import { QUOTA_EXCEEDED_EXAMPLE } from '@bulkhead/metering';
import { ApiProblem } from '@bulkhead/openapi';
import { RateLimitClass } from '@bulkhead/rate-limit';
import { Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ExportNotFoundProblem, ExportNotReadyProblem } from '../sales.errors';
import { OrderExportView } from './order-export.view';
import { OrderExportsService } from './order-exports.service';

@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1/exports')
export class OrderExportsController {
  constructor(private readonly exports: OrderExportsService) {}

  @Post()
  @HttpCode(202)
  // Each export reads the tenant's whole order table: counted against its own, small, limit.
  @RateLimitClass('export')
  @ApiOperation({ summary: "Export this tenant's orders as CSV in the background; poll the export, then fetch its content" })
  @ApiAcceptedResponse({ type: OrderExportView })
  @ApiProblem(JobBacklogFullProblem)
  @ApiProblem(QUOTA_EXCEEDED_EXAMPLE)
  @ApiProblem(JobsUnavailableProblem)
  async request(): Promise<OrderExportView> {
    return OrderExportView.of(await this.exports.request());
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderExportView })
  @ApiProblem(ExportNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<OrderExportView> {
    return OrderExportView.of(await this.exports.get(id));
  }

  @Get(':id/content')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @ApiProduces('text/csv')
  @ApiOkResponse({ schema: { type: 'string', example: 'id,customer_id,status,total_cents,currency,created_at\n' } })
  @ApiProblem(ExportNotFoundProblem)
  @ApiProblem(ExportNotReadyProblem)
  content(@Param('id', new ParseIdPipe()) id: string): Promise<string> {
    return this.exports.content(id);
  }
}
