import { TenantTier } from '@bulkhead/config';
import { IsOmittable } from '@bulkhead/openapi';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { FlagRule, FlagValue } from './flag-rule';
import { FlagDefinition } from './flag.store';

const FLAG_KEY = /^[a-z][a-z0-9._-]{0,63}$/;

export class TierValuesDto {
  @ApiPropertyOptional({ description: "Free tenants' value" })
  @IsOmittable() @IsBoolean() free?: boolean;

  @ApiPropertyOptional({ description: "Pro tenants' value" })
  @IsOmittable() @IsBoolean() pro?: boolean;

  @ApiPropertyOptional({ description: "Enterprise tenants' value" })
  @IsOmittable() @IsBoolean() enterprise?: boolean;
}

/** A flag's definition (PUT replaces it whole; its tenant overrides are kept). */
export class FlagDefinitionDto {
  @ApiPropertyOptional({ description: 'What the flag gates, for operators' })
  @IsOmittable() @IsString() @MaxLength(500) description?: string;

  @ApiProperty({ description: 'The value of tenants with no override, no tier value and outside the rollout' })
  @IsBoolean() defaultValue!: boolean;

  @ApiPropertyOptional({ description: 'Per-tier values, over the default and the rollout', type: TierValuesDto })
  @IsOmittable() @IsObject() @ValidateNested() @Type(() => TierValuesDto) tierValues?: TierValuesDto;

  @ApiPropertyOptional({ description: 'Percentage of tenants (hashed on flag key and tenant id) that get the opposite of the default; null: no rollout', nullable: true })
  @IsOptional() @IsInt() @Min(0) @Max(100) rolloutPercent?: number | null;
}

export class CreateFlagDto extends FlagDefinitionDto {
  @ApiProperty({ description: 'The flag key: lower-case letters, digits, dot, dash, underscore', example: 'exports.v2' })
  @Matches(FLAG_KEY, { message: 'key must be 1-64 lower-case letters, digits, ., _ or -, starting with a letter' })
  key!: string;
}

export class FlagOverrideDto {
  @ApiProperty({ description: "The tenant's value, over everything else" })
  @IsBoolean() value!: boolean;
}

export class FlagTierValuesView {
  @ApiPropertyOptional({ type: Boolean }) free?: FlagValue;
  @ApiPropertyOptional({ type: Boolean }) pro?: FlagValue;
  @ApiPropertyOptional({ type: Boolean }) enterprise?: FlagValue;
}

export class FlagOverrideView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() value!: boolean;
}

export class FlagView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() key!: string;
  @ApiProperty() description!: string;
  @ApiProperty() defaultValue!: boolean;
  @ApiProperty({ type: FlagTierValuesView }) tierValues!: FlagTierValuesView;
  @ApiProperty({ type: Number, nullable: true }) rolloutPercent!: number | null;
  @ApiProperty({ type: [FlagOverrideView] }) overrides!: FlagOverrideView[];
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(rule: FlagRule): FlagView {
    return {
      id: rule.id,
      key: rule.key,
      description: rule.description,
      defaultValue: rule.defaultValue as boolean,
      tierValues: { ...rule.tierValues },
      rolloutPercent: rule.rolloutPercent,
      overrides: [...rule.overrides].map(([tenantId, value]) => ({ tenantId, value: value as boolean })),
      updatedAt: rule.updatedAt.toISOString(),
    };
  }
}

export class FlagListView {
  @ApiProperty({ type: [FlagView] }) items!: FlagView[];
}

export class EffectiveFlagView {
  @ApiProperty() key!: string;
  @ApiProperty() value!: boolean;
  @ApiProperty({ description: '`override`, `tier:<tier>`, `rollout` or `default`' }) variant!: string;
}

export class EffectiveFlagsView {
  @ApiProperty({ type: [EffectiveFlagView] }) items!: EffectiveFlagView[];
}

/** The stored definition from a validated body. */
export function definitionOf(body: FlagDefinitionDto): FlagDefinition {
  const tierValues: Partial<Record<TenantTier, FlagValue>> = {};
  for (const tier of ['free', 'pro', 'enterprise'] as const) if (typeof body.tierValues?.[tier] === 'boolean') tierValues[tier] = body.tierValues[tier] as boolean;
  return { description: body.description ?? '', defaultValue: body.defaultValue, tierValues, rolloutPercent: body.rolloutPercent ?? null };
}
