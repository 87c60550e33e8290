import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NoisyDetector } from './noisy-detector';
import { NoisyHistory } from './noisy-history';
import { NoisyCursorUnknownProblem } from './noisy.errors';
import { CurrentNoisyTenantsView, NoisyEventPage, NoisyHistoryQuery } from './noisy.dto';

const iso = (minute: number) => new Date(minute * 60_000).toISOString();

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/noisy-tenants')
export class NoisyAdminController {
  constructor(
    private readonly detector: NoisyDetector,
    private readonly history: NoisyHistory,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Tenants flagged noisy now: above NOISY_RATIO x the median tenant in some measure' })
  @ApiOkResponse({ type: CurrentNoisyTenantsView })
  async current(): Promise<CurrentNoisyTenantsView> {
    const current = await this.detector.current();
    return {
      items: current.map((entry) => ({
        tenantId: entry.tenantId,
        since: iso(entry.since),
        lastMinute: iso(entry.lastMinute),
        findings: entry.findings.map((finding) => ({ ...finding, ratio: finding.ratio ?? null })),
      })),
    };
  }

  @Get('history')
  @ApiOperation({ summary: 'Past flags and clears, newest first' })
  @ApiOkResponse({ type: NoisyEventPage })
  @ApiProblem(NoisyCursorUnknownProblem)
  async list(@Query() query: NoisyHistoryQuery): Promise<NoisyEventPage> {
    const limit = query.limit ?? 50;
    const events = await this.history.list(limit, query.before);
    return {
      items: events.map((event) => ({
        id: event.id,
        tenantId: event.tenantId,
        event: event.event,
        minute: event.minute.toISOString(),
        findings: event.findings.map((finding) => ({ ...finding, ratio: finding.ratio ?? null })),
        createdAt: event.createdAt.toISOString(),
      })),
      next: events.length === limit ? events[events.length - 1].id : null,
    };
  }
}
