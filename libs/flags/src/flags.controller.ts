import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EffectiveFlagsView } from './flag.dto';
import { TenantFlags } from './tenant-flags';

@ApiTags('flags')
@ApiBearerAuth()
@Controller('v1/flags')
export class FlagsController {
  constructor(private readonly flags: TenantFlags) {}

  @Get()
  @ApiOperation({ summary: "The caller's tenant's effective flags (its overrides, tier values and rollouts applied)" })
  @ApiOkResponse({ type: EffectiveFlagsView })
  list(): EffectiveFlagsView {
    return { items: this.flags.effective().map((flag) => ({ key: flag.key, value: flag.value as boolean, variant: flag.variant })) };
  }
}
