import { ISOLATION_MODELS, IsolationModel } from '@bulkhead/config';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { MOVE_PHASES, MovePhase, MoveProgress, MoveRecord } from './move.record';
import { PlacementSpec } from './placement-spec';

export class MoveTenantDto {
  @ApiProperty({ enum: ISOLATION_MODELS, example: 'schema', description: 'The isolation model the tenant moves to.' })
  @IsIn(ISOLATION_MODELS)
  to!: IsolationModel;

  @ApiPropertyOptional({ example: 'main', description: 'The cluster it moves to; defaults to the one it is on.' })
  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,32}$/)
  cluster?: string;
}

export class PlacementView {
  @ApiProperty({ enum: ISOLATION_MODELS }) isolation!: IsolationModel;
  @ApiProperty() cluster!: string;
  @ApiProperty({ type: String, nullable: true }) schemaName!: string | null;
  @ApiProperty({ type: String, nullable: true }) databaseName!: string | null;

  static of(spec: PlacementSpec): PlacementView {
    return Object.assign(new PlacementView(), { isolation: spec.isolation, cluster: spec.cluster, schemaName: spec.schemaName, databaseName: spec.databaseName });
  }
}

export class MoveView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ enum: MOVE_PHASES, description: 'preparing, copying, catching_up, switching, switched (source read-only for the grace period), dropping, done; or aborting, aborted; failed (parity mismatch: resumable or abortable)' })
  phase!: MovePhase;
  @ApiProperty({ type: PlacementView }) source!: PlacementView;
  @ApiProperty({ type: PlacementView }) target!: PlacementView;
  @ApiProperty() abortRequested!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last step stopped, if it did; running the move again resumes it.' }) error!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Rows copied, changes applied, backlog, fence time (ms), per-table parity; `abortReason` on a move that undid itself.' })
  progress!: MoveProgress;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ type: String, nullable: true }) switchedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;

  static of(move: MoveRecord): MoveView {
    return Object.assign(new MoveView(), {
      id: move.id,
      tenantId: move.tenantId,
      phase: move.phase,
      source: PlacementView.of(move.source),
      target: PlacementView.of(move.target),
      abortRequested: move.abortRequested,
      error: move.error,
      progress: move.progress,
      createdAt: move.createdAt.toISOString(),
      updatedAt: move.updatedAt.toISOString(),
      switchedAt: move.switchedAt?.toISOString() ?? null,
      finishedAt: move.finishedAt?.toISOString() ?? null,
    });
  }
}
