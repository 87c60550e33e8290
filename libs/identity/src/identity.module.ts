import { BulkheadConfig } from '@bulkhead/config';
import { DynamicModule, Module } from '@nestjs/common';
import { AuthenticationGuard } from './authentication.guard';
import { DevIssuer } from './dev-issuer';
import { JwksController } from './jwks.controller';
import { KeySetResolver } from './key-set-resolver';
import { keySetSourceFor } from './key-set-source';
import { TokenVerifier } from './token-verifier';
import { RouteAccess } from './route-access';

/** How long one fetch of the key set may take before it counts as failed (less with a short max age, which it must fit in). */
const JWKS_FETCH_TIMEOUT_MS = 5000;

/**
 * Token verification for the HTTP surface. The guard is exported, not registered: the app's
 * access chain registers it first, so authentication always runs before tenant resolution.
 */
@Module({})
export class IdentityModule {
  static forRoot(): DynamicModule {
    return {
      module: IdentityModule,
      controllers: [JwksController],
      providers: [
        { provide: DevIssuer, inject: [BulkheadConfig], useFactory: (config: BulkheadConfig) => (config.DEV_ISSUER ? new DevIssuer(config) : null) },
        {
          provide: KeySetResolver,
          inject: [BulkheadConfig, DevIssuer],
          // Async on purpose: OpenID discovery runs here, so a provider that cannot tell us its keys stops the start.
          useFactory: async (config: BulkheadConfig, devIssuer: DevIssuer | null) => {
            const source = await keySetSourceFor(config, devIssuer);
            return new KeySetResolver({
              source: source.fetch,
              algorithms: config.AUTH_ALGORITHMS,
              maxAgeMs: config.AUTH_JWKS_MAX_AGE_MS,
              // The cooldown spares a remote provider; the development issuer's set is in memory.
              cooldownMs: source.remote ? config.AUTH_JWKS_COOLDOWN_MS : 0,
              fetchTimeoutMs: Math.min(JWKS_FETCH_TIMEOUT_MS, config.AUTH_JWKS_MAX_AGE_MS / 2),
            });
          },
        },
        TokenVerifier,
        RouteAccess,
        AuthenticationGuard,
      ],
      exports: [AuthenticationGuard, TokenVerifier, RouteAccess],
    };
  }
}
