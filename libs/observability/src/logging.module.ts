import { BulkheadConfig } from '@bulkhead/config';
import { peekTenantId } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

/**
 * Structured JSON logs. Every line logged inside a request or job carries its tenant id (read
 * from the tenant context at the moment of logging) and request id; credentials are redacted.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [BulkheadConfig],
      useFactory: (config: BulkheadConfig) => ({
        pinoHttp: {
          level: config.LOG_LEVEL,
          mixin: () => {
            const tenantId = peekTenantId();
            return tenantId ? { tenantId } : {};
          },
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[redacted]' },
          autoLogging: { ignore: (request) => (request.url ?? '').startsWith('/health') },
          serializers: {
            req: (request: { id: unknown; method: unknown; url: unknown }) => ({ id: request.id, method: request.method, url: request.url }),
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
