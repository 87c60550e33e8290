import { QueryInteger } from '../query/query-integer.decorator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';

export class PageQuery {
  @ApiPropertyOptional({ description: 'Cursor: the `next` value of the previous page.' })
  @IsOptional()
  @IsUUID()
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export function pageOf<T extends { id: string }, V>(rows: T[], limit: number, view: (row: T) => V): Page<V> {
  return { items: rows.map(view), next: rows.length === limit ? rows[rows.length - 1].id : null };
}
