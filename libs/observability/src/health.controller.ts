import { AcceptsAnyQuery, ApiProblem } from '@bulkhead/openapi';
import { ProblemError } from '@bulkhead/problem';
import { DatabaseProbe } from '@bulkhead/control-plane';
import { Public } from '@bulkhead/identity';
import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisProbe } from './redis.probe';

@ApiTags('health')
@Public()
@AcceptsAnyQuery()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseProbe,
    private readonly redis: RedisProbe,
  ) {}

  /** Liveness: the process answers. Never depends on a backing service, so it never causes a restart storm. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL (as the runtime role) and Redis both answer. */
  @Get('ready')
  @HealthCheck()
  @ApiProblem(new ProblemError(503, 'not_ready', 'Not ready', 'A backing service is unavailable.', { checks: {}, retryAfterSeconds: 5 }))
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.probe('postgres', () => this.database.ping()), () => this.probe('redis', () => this.redis.ping())]);
    } catch (error) {
      const details = (error as { response?: { details?: unknown } }).response?.details;
      throw new ProblemError(503, 'not_ready', 'Not ready', 'A backing service is unavailable.', { checks: details ?? {}, retryAfterSeconds: 5 });
    }
  }

  private async probe(key: string, ping: () => Promise<void>) {
    const session = this.indicators.check(key);
    try {
      await ping();
      return session.up();
    } catch {
      return session.down({ message: `${key} is unreachable` });
    }
  }
}
