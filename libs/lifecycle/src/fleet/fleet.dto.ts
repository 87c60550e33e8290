import { ApiProperty } from '@nestjs/swagger';

export class PlacementVersionView {
  @ApiProperty({ example: 'main' }) cluster!: string;
  @ApiProperty({ enum: ['schema', 'silo'] }) model!: 'schema' | 'silo';
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live placements at the current data version.' }) current!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live placements behind it (`bulkhead migrate` brings them up).' }) behind!: number;
}

export class PlacementBehindView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() slug!: string;
  @ApiProperty() cluster!: string;
  @ApiProperty({ enum: ['schema', 'silo'] }) model!: 'schema' | 'silo';
  @ApiProperty({ enum: ['provisioning', 'active', 'suspended'] }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) dataVersion!: number;
}

export class WarmPoolCountView {
  @ApiProperty() cluster!: string;
  @ApiProperty({ enum: ['schema', 'silo'] }) model!: 'schema' | 'silo';
  @ApiProperty({ enum: ['creating', 'ready', 'claimed', 'discarding'] }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) dataVersion!: number;
  @ApiProperty({ type: 'integer', minimum: 1 }) count!: number;
}

export class FleetView {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The data version of a placement with every tenant migration of this release.' })
  dataVersion!: number;

  @ApiProperty({ type: [PlacementVersionView], description: 'Per cluster and model (schema, silo); pool tenants share the platform tables and have no version of their own.' })
  placements!: PlacementVersionView[];

  @ApiProperty({ type: [PlacementBehindView], description: 'Placements behind the current data version, lowest version first, at most 50.' })
  behind!: PlacementBehindView[];

  @ApiProperty({ type: [WarmPoolCountView], description: 'Warm storage by cluster, model, status and data version.' })
  warmPool!: WarmPoolCountView[];
}
