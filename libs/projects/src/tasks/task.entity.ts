import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

@Entity('tasks')
export class Task extends TenantOwnedEntity {
  @Column('uuid', { name: 'project_id' }) projectId!: string;
  @Column('text') title!: string;
  @Column('boolean', { default: false }) done!: boolean;
  @Column('smallint', { default: 3 }) priority!: number;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
