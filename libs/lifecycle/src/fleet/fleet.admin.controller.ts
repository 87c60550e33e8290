import { FleetCensus } from '@bulkhead/control-plane';
import { OperatorOnly } from '@bulkhead/identity';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WarmPool } from '../warm-pool/warm-pool';
import { FleetView } from './fleet.dto';

/** How many placements behind are listed: enough to act on, bounded however large the fleet. */
const BEHIND_LISTED = 50;

/**
 * The fleet at a glance for operators: placements by data version (the control plane's registry)
 * beside the warm pool (this lib's). Here rather than in the control plane because the lifecycle
 * already depends on it, and the reverse would be a cycle.
 */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/fleet')
export class FleetAdminController {
  constructor(
    private readonly census: FleetCensus,
    private readonly warmPool: WarmPool,
  ) {}

  @Get()
  @ApiOperation({ summary: "The fleet's migration state (schema and silo placements at or behind the current data version, per cluster) and the warm pool" })
  @ApiOkResponse({ type: FleetView })
  async get(): Promise<FleetView> {
    const [placements, warmPool] = await Promise.all([this.census.placements(BEHIND_LISTED), this.warmPool.counts()]);
    return { dataVersion: placements.dataVersion, placements: placements.groups, behind: placements.behind, warmPool };
  }
}
