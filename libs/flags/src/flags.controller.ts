import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EffectiveFlagsView } from './flag.dto';
import { TenantFlags } from './tenant-flags';

/**
 * Marks the effective flags as platform configuration for `@bulkhead/testing`: operators change
 * them for every tenant at once (a new flag shows up in every tenant's list), and no tenant's
 * operation can, so the isolation kit does not count an operator's change made meanwhile as a
 * change of a tenant's data.
 */
const PLATFORM_CONFIG = ApiExtension('x-bulkhead-platform-config', true);

@ApiTags('flags')
@ApiBearerAuth()
@Controller('v1/flags')
export class FlagsController {
  constructor(private readonly flags: TenantFlags) {}

  @Get()
  @PLATFORM_CONFIG
  @ApiOperation({ summary: "The caller's tenant's effective flags (its overrides, tier values and rollouts applied)" })
  @ApiOkResponse({ type: EffectiveFlagsView })
  list(): EffectiveFlagsView {
    return { items: this.flags.effective().map((flag) => ({ key: flag.key, value: flag.value as boolean, variant: flag.variant })) };
  }
}
