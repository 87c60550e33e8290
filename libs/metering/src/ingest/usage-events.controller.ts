import { RateLimitClass } from '@bulkhead/rate-limit';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsageEventBatchDto, UsageIngestResult } from './usage-event.dto';
import { UsageIngestService } from './usage-ingest.service';

/** A batch of 1,000 CloudEvents with some data fits well within this. */
export const INGEST_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/usage/events')
export class UsageEventsController {
  constructor(private readonly ingest: UsageIngestService) {}

  @Post()
  @HttpCode(200)
  @RateLimitClass('ingest')
  @RouteConfig({ bodyLimit: INGEST_BODY_LIMIT_BYTES })
  @ApiOperation({
    summary: 'Report usage: a batch of 1-1,000 CloudEvents, each judged on its own',
    description:
      'Body `{"events": [...]}` (body limit 4 MiB). Each event is accepted, a duplicate (its id was accepted before, ever, or earlier in the batch: counted once) ' +
      'or refused with a reason (too_old: more than 35 days ago; in_future: more than 5 minutes ahead; unknown_meter; meter_not_ingestable; value_invalid; tenant_in_body). ' +
      'Accepted events and their rollups commit together; a batch that fails as a whole (4xx/5xx) wrote nothing and may be resent as is.',
  })
  @ApiOkResponse({ type: UsageIngestResult })
  async post(@Body() body: UsageEventBatchDto): Promise<UsageIngestResult> {
    return this.ingest.ingest(body.events);
  }
}
