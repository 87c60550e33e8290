import { Global, Module } from '@nestjs/common';
import { TenantServiceClient } from './tenant-service-client';

@Global()
@Module({ providers: [TenantServiceClient], exports: [TenantServiceClient] })
export class ServiceClientModule {}
