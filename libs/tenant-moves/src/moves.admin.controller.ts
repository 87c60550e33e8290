import { ParseIdPipe } from '@bulkhead/domain-kit';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MoveInProgressProblem, MoveNotAbortableProblem, MoveNotFoundProblem, MoveTargetInvalidProblem } from './move.errors';
import { MoveTenantDto, MoveView } from './move.dto';
import { TenantMover } from './tenant-mover';

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/tenants')
export class MovesAdminController {
  constructor(private readonly mover: TenantMover) {}

  @Post(':id/move')
  @HttpCode(202)
  @ApiOperation({ summary: 'Move a live tenant to another isolation model or cluster (asking again resumes the unfinished move); follow it with GET' })
  @ApiAcceptedResponse({ type: MoveView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new MoveInProgressProblem('The tenant is already moving elsewhere; abort it first.'))
  @ApiProblem(new MoveTargetInvalidProblem('The tenant already lives there.'))
  async move(@Param('id', new ParseIdPipe()) id: string, @Body() body: MoveTenantDto): Promise<MoveView> {
    const move = await this.mover.request(id, body.to, body.cluster);
    this.mover.runInBackground(move.id);
    return MoveView.of(move);
  }

  @Get(':id/move')
  @ApiOperation({ summary: "The tenant's newest move and its progress" })
  @ApiOkResponse({ type: MoveView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(MoveNotFoundProblem)
  async progress(@Param('id', new ParseIdPipe()) id: string): Promise<MoveView> {
    return MoveView.of(await this.mover.current(id));
  }

  @Post(':id/move/abort')
  @HttpCode(200)
  @ApiOperation({ summary: "Abort the tenant's unfinished move before its switch: capture off, target dropped, source untouched" })
  @ApiOkResponse({ type: MoveView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(MoveNotFoundProblem)
  @ApiProblem(new MoveNotAbortableProblem('switched'))
  async abort(@Param('id', new ParseIdPipe()) id: string): Promise<MoveView> {
    return MoveView.of(await this.mover.abort(id));
  }
}
