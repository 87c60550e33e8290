import { ApiProperty } from '@nestjs/swagger';

export class CheckpointMatchView {
  @ApiProperty({ description: 'The newest signed checkpoint of the chain.', example: '1200' }) seq!: string;
  @ApiProperty({ description: 'Whether the chain still holds it unchanged.' }) matches!: boolean;
}

/** One chain's verdict, as `bulkhead audit verify --json` prints it. */
export class ChainReportView {
  @ApiProperty({ format: 'uuid', description: 'The tenant, or the nil uuid for the platform chain.' }) tenantId!: string;
  @ApiProperty({ description: 'Where the chain lives: pool, schema t_..., silo <database>, platform.' }) placement!: string;
  @ApiProperty({ type: 'integer' }) entries!: number;
  @ApiProperty({ example: '1234' }) lastSeq!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The first sequence number that is wrong (changed, missing, inserted, out of order).' }) firstBadSeq!: string | null;
  @ApiProperty({ type: String, nullable: true }) problem!: string | null;
  @ApiProperty({ type: CheckpointMatchView, nullable: true, description: 'null when no signed checkpoint of this chain was available.' }) checkpoint!: CheckpointMatchView | null;
}

export class AuditVerifyView {
  @ApiProperty({ description: 'Every chain checked is intact, and no checkpoint line had a bad signature.' }) ok!: boolean;
  @ApiProperty({ type: [ChainReportView] }) chains!: ChainReportView[];
  @ApiProperty({
    enum: ['read', 'absent', 'not_configured'],
    description: 'AUDIT_CHECKPOINT_FILE as this API instance sees it: read (chains compared with their newest signed checkpoint), absent (configured but not on this host), not_configured.',
  })
  checkpoints!: 'read' | 'absent' | 'not_configured';
  @ApiProperty({ type: 'integer', description: 'Checkpoint lines ignored for a bad signature (any makes `ok` false).' }) invalidCheckpoints!: number;
  @ApiProperty({ format: 'date-time' }) verifiedAt!: string;
  @ApiProperty({ type: 'integer' }) durationMs!: number;
}
