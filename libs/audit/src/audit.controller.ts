import { Controller, Get, Header, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { AuditPage, AuditQuery } from './audit-entry.dto';
import { AuditReader } from './audit-reader';

/**
 * Marks the trail as a journal for `@bulkhead/testing`: it grows with every request, refused ones
 * included, so the isolation kit does not count its growth as a change of the tenant's data.
 */
const JOURNAL = ApiExtension('x-bulkhead-journal', true);

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly reader: AuditReader) {}

  @Get()
  @ApiOperation({ summary: "The tenant's own audit trail, in chain order (cursor pagination, filters)" })
  @ApiOkResponse({ type: AuditPage })
  @JOURNAL
  list(@Query() query: AuditQuery): Promise<AuditPage> {
    return this.reader.page(query);
  }

  @Get('export')
  @ApiOperation({ summary: "The tenant's audit trail as JSON lines (one entry per line, same filters), for a SIEM" })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'One AuditEntry JSON object per line.', content: { 'application/x-ndjson': { schema: { type: 'string' } } } })
  @Header('Content-Type', 'application/x-ndjson')
  @JOURNAL
  export(@Query() query: AuditQuery): StreamableFile {
    return new StreamableFile(Readable.from(this.reader.lines(query)), { type: 'application/x-ndjson' });
  }
}
