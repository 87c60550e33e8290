import { BulkheadConfig } from '@bulkhead/config';
import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthenticationGuard } from './authentication.guard';
import { DevIssuer } from './dev-issuer';
import { JwksController } from './jwks.controller';
import { JwtStrategy } from './jwt.strategy';

/**
 * Token verification for the HTTP surface. The guard is exported, not registered: the app's
 * access chain registers it first, so authentication always runs before tenant resolution.
 */
@Module({})
export class IdentityModule {
  static forRoot(): DynamicModule {
    return {
      module: IdentityModule,
      imports: [PassportModule],
      controllers: [JwksController],
      providers: [
        { provide: DevIssuer, inject: [BulkheadConfig], useFactory: (config: BulkheadConfig) => (config.DEV_ISSUER ? new DevIssuer(config) : null) },
        JwtStrategy,
        AuthenticationGuard,
      ],
      exports: [AuthenticationGuard],
    };
  }
}
