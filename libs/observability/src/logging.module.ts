import { Global, Module } from '@nestjs/common';
import { AppLogger } from './app.logger';

/**
 * Structured JSON logs for every app: `app.useLogger(app.get(AppLogger))`. Every line logged
 * inside a request or job carries its tenant id and request id; credentials are redacted.
 */
@Global()
@Module({ providers: [AppLogger], exports: [AppLogger] })
export class LoggingModule {}
